"""Every class of bad input gets a 400/413/415 problem+json naming the field, and stores nothing."""
import json
from datetime import datetime, timedelta, timezone

import pytest

from ..helpers import make_event, row_counts

FIELD_ERRORS = [
    ("unknown top-level field", {"extra": 1}, "extra"),
    ("unknown nested field", {"target.altitude": 100}, "target.altitude"),
    ("missing required", {"weapon.us_provided": None}, "weapon.us_provided"),
    ("missing target", {"target": None}, "target"),
    ("string for number", {"target.lat": "50.1"}, "target.lat"),
    ("bool for number", {"target.lon": True}, "target.lon"),
    ("string for bool", {"weapon.us_provided": "true"}, "weapon.us_provided"),
    ("int for bool", {"target.linked_to_invasion": 1}, "target.linked_to_invasion"),
    ("lat out of range", {"target.lat": 90.0001}, "target.lat"),
    ("lon out of range", {"launch.lon": -180.5}, "launch.lon"),
    ("launch without lon", {"launch": {"lat": 49.9}}, "launch.lon"),
    ("bad category", {"target.category": "tank"}, "target.category"),
    ("bad source id", {"source_event_id": "has space"}, "source_event_id"),
    ("too long source id", {"source_event_id": "x" * 129}, "source_event_id"),
    ("no offset", {"occurred_at": "2024-06-02T03:14:00"}, "occurred_at"),
    ("date only", {"occurred_at": "2024-06-02"}, "occurred_at"),
    ("not a date", {"occurred_at": "yesterday"}, "occurred_at"),
    ("bad country", {"target.country": "RUS"}, "target.country"),
    ("long description", {"target.description": "d" * 2001}, "target.description"),
    ("long notes", {"notes": "n" * 4001}, "notes"),
    ("too much evidence", {"evidence": [{"kind": "photo", "uri": "u"}] * 21}, "evidence"),
    ("bad evidence hash", {"evidence": [{"kind": "photo", "uri": "u", "sha256": "xyz"}]}, "evidence.0.sha256"),
    ("weapon not an object", {"weapon": "HIMARS"}, "weapon"),
]


@pytest.mark.parametrize("changes, field", [(c, f) for _, c, f in FIELD_ERRORS], ids=[n for n, _, _ in FIELD_ERRORS])
def test_field_errors_name_the_field(client, keys, app, changes, field):
    before = row_counts(app)
    response = client.post("/v1/events", json=make_event(**changes), headers=keys.reporter)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == 400 and body["title"] and body["detail"]
    assert field in body["errors"], body["errors"]
    assert row_counts(app) == before


@pytest.mark.parametrize("path", ["notes", "launch", "evidence", "target.country", "weapon.launcher",
                                  "target.linked_to_invasion"])
def test_null_for_an_optional_field_is_a_type_error(client, keys, app, path):
    event = make_event()
    *parents, leaf = path.split(".")
    node = event
    for key in parents:
        node = node[key]
    node[leaf] = None
    response = client.post("/v1/events", json=event, headers=keys.reporter)
    assert response.status_code == 400
    assert path in response.get_json()["errors"]


def test_future_timestamps_are_rejected_beyond_five_minutes(client, keys):
    now = datetime.now(timezone.utc)
    late = (now + timedelta(minutes=6)).isoformat()
    response = client.post("/v1/events", json=make_event(occurred_at=late), headers=keys.reporter)
    assert response.status_code == 400 and "occurred_at" in response.get_json()["errors"]
    soon = (now + timedelta(minutes=4)).isoformat()
    assert client.post("/v1/events", json=make_event(occurred_at=soon), headers=keys.reporter).status_code == 201


RAW_BODIES = [
    ("malformed", b'{"source_event_id": '),
    ("duplicate keys", b'{"a": 1, "a": 2}'),
    ("NaN", b'{"x": NaN}'),
    ("Infinity", b'{"x": -Infinity}'),
    ("too deep", b'{"a":' * 33 + b"1" + b"}" * 33),
    ("very deep", b"[" * 100000 + b"]" * 100000),
    ("not UTF-8", b'{"notes": "\xff"}'),
    ("array body", b"[1, 2]"),
    ("NUL in a value", b'{"notes": "a\\u0000b"}'),
    ("NUL in a key", b'{"a\\u0000": 1}'),
]


@pytest.mark.parametrize("body", [b for _, b in RAW_BODIES], ids=[n for n, _ in RAW_BODIES])
def test_unacceptable_json_is_a_400(client, keys, app, body):
    before = row_counts(app)
    response = client.post("/v1/events", data=body, content_type="application/json", headers=keys.reporter)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["errors"]
    assert row_counts(app) == before


def test_nesting_of_exactly_32_levels_is_accepted_by_the_reader(client, keys):
    body = b'{"a":' * 32 + b"1" + b"}" * 32
    response = client.post("/v1/events", data=body, content_type="application/json", headers=keys.reporter)
    assert response.status_code == 400  # read fine, then refused as an unknown field, not as too deep
    assert "a" in response.get_json()["errors"]


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"])
def test_non_json_content_type_is_415(client, keys, app, content_type):
    response = client.post("/v1/events", data=json.dumps(make_event()), content_type=content_type,
                           headers=keys.reporter)
    assert response.status_code == 415
    assert response.mimetype == "application/problem+json"
    assert row_counts(app)["events"] == 0


def test_bodies_over_the_limit_are_413(client, keys, app):
    big = json.dumps(make_event(notes="n" * (1 << 20))).encode()
    response = client.post("/v1/events", data=big, content_type="application/json", headers=keys.reporter)
    assert response.status_code == 413
    assert response.mimetype == "application/problem+json"
    batch = json.dumps({"events": [make_event(f"e{i}", notes="n" * 3999) for i in range(300)]}).encode()
    assert len(batch) > 1 << 20  # too big for one event, fine for a batch
    accepted = client.post("/v1/events/batch", data=batch, content_type="application/json", headers=keys.reporter)
    assert accepted.status_code == 200
    assert {r["status"] for r in accepted.get_json()["results"]} == {"created"}
    huge = b'{"events": ["' + b"x" * (16 << 20) + b'"]}'
    assert client.post("/v1/events/batch", data=huge, content_type="application/json",
                       headers=keys.reporter).status_code == 413
    assert row_counts(app)["events"] == 300


HOSTILE_IDS = [
    "/v1/events/..%2F..%2Fetc%2Fpasswd", "/v1/events/../../etc/passwd", "/v1/events/%2e%2e%2f%2e%2e%2fetc",
    "/v1/events/' OR '1'='1", "/v1/events/1;DROP TABLE events", "/v1/events/" + "a" * 5000,
    "/v1/policies/..%2Fversions%2Fus-2024-05-30-kharkiv.json", "/v1/policies/' OR ''='",
    "/v1/reports/1 OR 1=1", "/v1/reports/../1", "/v1/ledger/entries/-1", "/v1/ledger/entries/0x10",
]


def test_hostile_ids_in_paths_are_404_and_a_nul_is_400(client, keys):
    for path in HOSTILE_IDS:
        response = client.get(path, headers=keys.admin)
        assert response.status_code == 404 and response.mimetype == "application/problem+json", path
    # PostgreSQL cannot compare a string holding U+0000: refused before the database sees it (a 500 before)
    for method, path in [("GET", "/v1/events/abc%00def"), ("GET", "/v1/policies/us-2024%00"),
                         ("POST", "/v1/events/%00/reviews")]:
        response = client.open(path, method=method, headers=keys.admin,
                               json={"status": "acknowledged", "comment": "x"} if method == "POST" else None)
        assert response.status_code == 400, path
        assert response.get_json()["errors"] == {"path": ["must not contain U+0000"]}
