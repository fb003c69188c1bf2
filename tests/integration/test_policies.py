"""POST /v1/policies (publishing) and POST /v1/policies/{id}/simulate, on both databases."""
import copy
import hashlib
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

import pytest
import rfc8785
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from service.core.rules.engine import policy_in_force
from service.core.time import parse_rfc3339
from service.events.tables import Event, EventHead, EventRule
from service.ledger.tables import LedgerEntry
from service.policies import simulation
from service.policies.bundled import bundled_policies
from service.policies.store import stored_policies
from service.policies.tables import PolicyVersion

from ..helpers import make_event

PERMITTED = ["incoming_missile", "strike_aircraft", "force_concentration", "launch_site", "command_post",
             "military_logistics"]
# A diamond north-east of Belgorod: lon 36.5-37.5, lat 50.3-51.3 at its corners.
DIAMOND = [[37.0, 50.3], [37.5, 50.8], [37.0, 51.3], [36.5, 50.8], [37.0, 50.3]]


def polygon_policy(**changes) -> dict:
    """A version for the period before the bundled ones, ending where the first of them begins."""
    return {
        "id": "test-2021-01-01-belgorod-polygon",
        "title": "Test: a polygon zone before June 2022",
        "effective_from": "2021-01-01T00:00:00Z",
        "effective_to": "2022-06-01T00:00:00Z",
        "source": {"citation": "Test fixture, not a real policy."},
        "permitted_purposes": list(PERMITTED),
        "zones": [{"id": "belgorod-diamond", "polygon": {"type": "Polygon", "coordinates": [DIAMOND]},
                   "max_depth_km": 150, "denied_families": ["ATACMS"]}],
    } | changes


def publish(client, keys, document, key="admin"):
    return client.post("/v1/policies", json=document, headers=getattr(keys, key))


def counts(app) -> dict:
    """Rows of every table a request could write to; access entries are another feature's business."""
    with app.extensions["db_sessions"]() as session:
        result = {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                  for model in (Event, EventHead, EventRule, PolicyVersion)}
        result["ledger_entries"] = session.scalar(select(func.count()).select_from(LedgerEntry)
                                                  .where(LedgerEntry.entry_type != "access"))
    return result


def ledger_entries(app, entry_type) -> list[dict]:
    with app.extensions["db_sessions"]() as session:
        rows = session.scalars(select(LedgerEntry.canonical).where(LedgerEntry.entry_type == entry_type)
                               .order_by(LedgerEntry.id)).all()
    return [json.loads(row) for row in rows]


# ---- publishing ------------------------------------------------------------------------

def test_admin_publishes_a_version_exactly_as_sent(client, keys, app):
    document = polygon_policy()
    before = counts(app)
    response = publish(client, keys, document)
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/v1/policies/{document['id']}"
    assert body == client.get(f"/v1/policies/{document['id']}", headers=keys.reporter).get_json()
    assert body["document"] == document
    assert body["sha256"] == hashlib.sha256(rfc8785.dumps(document)).hexdigest()
    assert (body["effective_from"], body["effective_to"]) == ("2021-01-01T00:00:00Z", "2022-06-01T00:00:00Z")
    assert body["published_by"] == "admin-1"
    assert counts(app) == before | {"policy_versions": before["policy_versions"] + 1,
                                    "ledger_entries": before["ledger_entries"] + 1}
    listed = client.get("/v1/policies", headers=keys.auditor).get_json()["policies"]
    assert listed[0]["id"] == document["id"]  # oldest effective_from first


def test_publishing_is_one_policy_published_ledger_entry(client, keys, app):
    bundled = len(ledger_entries(app, "policy_published"))
    document = polygon_policy()
    body = publish(client, keys, document).get_json()
    entries = ledger_entries(app, "policy_published")
    assert len(entries) == bundled + 1
    entry = entries[-1]
    assert entry["document"] == document and entry["policy_id"] == document["id"]
    assert entry["policy_sha256"] == body["sha256"] and entry["published_by"] == "admin-1"


def test_the_same_document_again_answers_with_the_stored_version(client, keys, app):
    first = publish(client, keys, polygon_policy())
    before = counts(app)
    reordered = json.loads(json.dumps(polygon_policy(), sort_keys=True))  # same JSON, other key order
    again = client.post("/v1/policies", data=json.dumps(reordered), content_type="application/json",
                        headers=keys.admin)
    assert again.status_code == 200
    assert again.get_json() == first.get_json()
    assert counts(app) == before
    bundled = bundled_policies()[1]
    assert publish(client, keys, bundled).status_code == 200  # a bundled version, as loaded


def test_the_same_id_with_other_content_is_a_conflict(client, keys, app):
    publish(client, keys, polygon_policy())
    before = counts(app)
    response = publish(client, keys, polygon_policy(title="Another title"))
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert "different content" in response.get_json()["detail"]
    changed_bundled = bundled_policies()[1] | {"title": "Edited"}
    assert publish(client, keys, changed_bundled).status_code == 409
    assert counts(app) == before


@pytest.mark.parametrize("start, end, overlapped", [
    ("2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", ["us-2022-06-01-no-cross-border"]),
    # Touching at both ends of the Kharkiv version, but a microsecond too early at the start.
    ("2024-05-29T23:59:59.999999Z", "2024-06-19T00:00:00Z",
     ["us-2022-06-01-no-cross-border", "us-2024-05-30-kharkiv"]),
    # Starting at (not after) the open-ended version's own start does not supersede it.
    ("2024-11-17T00:00:00Z", None, ["us-2024-11-17-kursk-atacms"]),
    ("2024-11-01T00:00:00Z", "2024-12-01T00:00:00Z", ["us-2024-06-19-border-wide", "us-2024-11-17-kursk-atacms"]),
    ("2022-05-31T00:00:00Z", "2022-06-01T00:00:00.001Z", ["us-2022-06-01-no-cross-border"]),
    ("2021-01-01T00:00:00Z", None, ["us-2022-06-01-no-cross-border", "us-2024-05-30-kharkiv",
                                    "us-2024-06-19-border-wide", "us-2024-11-17-kursk-atacms"]),
    # Offsets are honoured: 03:00+03:00 is 00:00Z, one hour into the no-cross-border version.
    ("2022-05-01T00:00:00Z", "2022-06-01T04:00:00+03:00", ["us-2022-06-01-no-cross-border"]),
])
def test_an_overlapping_effective_range_is_a_conflict_naming_the_versions(client, keys, app, start, end,
                                                                           overlapped):
    before = counts(app)
    response = publish(client, keys, polygon_policy(effective_from=start, effective_to=end))
    assert response.status_code == 409
    detail = response.get_json()["detail"]
    for version in overlapped:
        assert version in detail
    others = {d["id"] for d in bundled_policies()} - set(overlapped)
    assert not any(version in detail for version in others)
    assert counts(app) == before


def test_a_later_version_supersedes_the_open_ended_one(client, keys, app):
    """Policy keeps changing: a version may start after the open-ended latest one, for good or for a while."""
    later = polygon_policy(id="test-2030-01-01-later", effective_from="2030-01-01T00:00:00Z", effective_to=None)
    assert publish(client, keys, later).status_code == 201
    interim = polygon_policy(id="test-2027-01-01-interim", effective_from="2027-01-01T00:00:00Z",
                             effective_to="2027-02-01T00:00:00Z")
    assert publish(client, keys, interim).status_code == 201
    with app.extensions["db_sessions"]() as session:
        policies = stored_policies(session)
    in_force = {at: policy_in_force(policies, parse_rfc3339(at)).id for at in (
        "2026-06-01T00:00:00Z", "2027-01-15T00:00:00Z", "2027-03-01T00:00:00Z", "2030-06-01T00:00:00Z")}
    assert in_force == {"2026-06-01T00:00:00Z": "us-2024-11-17-kursk-atacms",
                        "2027-01-15T00:00:00Z": "test-2027-01-01-interim",
                        "2027-03-01T00:00:00Z": "us-2024-11-17-kursk-atacms",
                        "2030-06-01T00:00:00Z": "test-2030-01-01-later"}
    # A closed version may not reach into the period the new open-ended one governs.
    overlapping = polygon_policy(id="test-2029-12-01-overlap", effective_from="2029-12-01T00:00:00Z",
                                 effective_to="2030-02-01T00:00:00Z")
    response = publish(client, keys, overlapping)
    assert response.status_code == 409 and "test-2030-01-01-later" in response.get_json()["detail"]


def test_ranges_that_only_touch_do_not_overlap(client, keys):
    # [2021-01-01, 2022-06-01) ends where the first bundled version begins ...
    assert publish(client, keys, polygon_policy()).status_code == 201
    # ... and [2020-01-01, 2021-01-01) ends where that one begins (given with an offset).
    earlier = polygon_policy(id="test-2020-01-01-earlier", effective_from="2020-01-01T00:00:00Z",
                             effective_to="2021-01-01T02:00:00+02:00")
    assert publish(client, keys, earlier).status_code == 201
    inside = polygon_policy(id="test-2021-06-01-inside", effective_from="2021-06-01T00:00:00Z",
                            effective_to="2021-07-01T00:00:00Z")
    response = publish(client, keys, inside)
    assert response.status_code == 409 and "test-2021-01-01-belgorod-polygon" in response.get_json()["detail"]


def test_concurrent_publishers_cannot_both_win(app, keys):
    """Overlap and id checks hold under concurrency: on PostgreSQL a table lock, on SQLite BEGIN IMMEDIATE."""
    barrier = threading.Barrier(6)

    def send(document):
        client = app.test_client()
        barrier.wait()
        return client.post("/v1/policies", json=document, headers=keys.admin).status_code

    overlapping = [polygon_policy(id=f"test-2021-racer-{n}") for n in range(3)]
    identical = [polygon_policy(id="test-2020-identical", effective_from="2020-01-01T00:00:00Z",
                                effective_to="2021-01-01T00:00:00Z") for _ in range(3)]
    with ThreadPoolExecutor(6) as pool:
        statuses = list(pool.map(send, overlapping + identical))
    assert sorted(statuses[:3]) == [201, 409, 409]
    assert sorted(statuses[3:]) == [200, 200, 201]


@pytest.mark.parametrize("changes, path", [
    ({"id": "Bad id"}, "id"),
    ({"effective_from": "2021-01-01T00:00:00"}, "effective_from"),
    ({"effective_to": "2020-01-01T00:00:00Z"}, "effective_to"),
    ({"source": {"citation": ""}}, "source.citation"),
    ({"permitted_purposes": ["residential"]}, "permitted_purposes.0"),
    ({"zones": [{"id": "z", "box": {"min_lon": 36, "min_lat": 50, "max_lon": 35, "max_lat": 51},
                 "max_depth_km": 80, "denied_families": []}]}, "zones.0.box.min_lon"),
    ({"zones": [{"id": "z", "box": None, "max_depth_km": 2001, "denied_families": []}]}, "zones.0.max_depth_km"),
    ({"zones": [{"id": "z", "box": None, "max_depth_km": 80, "denied_families": []},
                {"id": "z", "box": None, "max_depth_km": 50, "denied_families": []}]}, "zones.1.id"),
    ({"zones": [{"id": "z", "polygon": {"type": "Polygon", "coordinates": [DIAMOND[:-1]]},
                 "max_depth_km": 80, "denied_families": []}]}, "zones.0.polygon.coordinates.0"),
    # Families are checked against the catalog stored in the database.
    ({"zones": [{"id": "z", "box": None, "max_depth_km": 80, "denied_families": ["GMLRS", "STORM-SHADOW"]}]},
     "zones.0.denied_families"),
    ({"unexpected": True}, "unexpected"),
])
def test_an_invalid_document_is_a_400_naming_the_path_and_stores_nothing(client, keys, app, changes, path):
    before = counts(app)
    response = publish(client, keys, polygon_policy(**changes))
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert path in response.get_json()["errors"], response.get_json()
    assert counts(app) == before


def test_unknown_family_message_names_it(client, keys):
    zones = [{"id": "z", "box": None, "max_depth_km": 80, "denied_families": ["STORM-SHADOW"]}]
    errors = publish(client, keys, polygon_policy(zones=zones)).get_json()["errors"]
    assert "STORM-SHADOW" in errors["zones.0.denied_families"][0]


@pytest.mark.parametrize("key, status", [("reporter", 403), ("auditor", 403)])
def test_only_admins_publish(client, keys, app, key, status):
    before = counts(app)
    assert publish(client, keys, polygon_policy(), key=key).status_code == status
    assert client.post("/v1/policies", json=polygon_policy()).status_code == 401
    assert counts(app) == before


def test_a_published_version_can_never_change(client, keys, app):
    publish(client, keys, polygon_policy())
    with app.extensions["db_sessions"]() as session:
        for statement in ("UPDATE policy_versions SET effective_to = NULL WHERE id = :id",
                          "DELETE FROM policy_versions WHERE id = :id"):
            with pytest.raises(DBAPIError):
                with session.begin():
                    session.execute(text(statement), {"id": "test-2021-01-01-belgorod-polygon"})
    document = client.get("/v1/policies/test-2021-01-01-belgorod-polygon", headers=keys.admin).get_json()
    assert document["effective_to"] == "2022-06-01T00:00:00Z"


def test_a_published_version_judges_new_events_in_its_period_with_its_polygon(client, keys, app):
    def report(source_id, lat, lon):
        return make_event(source_id, occurred_at="2021-06-01T12:00:00Z",
                          **{"weapon.munition": "ER-GMLRS", "launch.lat": 50.2, "launch.lon": 36.9,
                             "target.lat": lat, "target.lon": lon})

    before = client.post("/v1/events", json=report("before", 50.45, 36.9), headers=keys.reporter).get_json()
    assert before["policy_version"] is None and [f["rule_id"] for f in before["findings"]] == ["POLICY-NONE"]
    policy = publish(client, keys, polygon_policy()).get_json()

    inside = client.post("/v1/events", json=report("inside", 50.45, 36.9), headers=keys.reporter).get_json()
    assert (inside["policy_version"], inside["policy_sha256"]) == (policy["id"], policy["sha256"])
    assert inside["verdict"] == "compliant" and inside["computed"]["zones"] == ["belgorod-diamond"]
    # A vertex of the diamond, about 100 km deep: the boundary belongs to the zone.
    vertex = client.post("/v1/events", json=report("vertex", 51.3, 37.0), headers=keys.reporter).get_json()
    assert vertex["verdict"] == "compliant" and vertex["computed"]["zones"] == ["belgorod-diamond"]
    # Inside the diamond's bounding box but outside the diamond: a box would have contained it.
    corner = client.post("/v1/events", json=report("corner", 51.25, 37.45), headers=keys.reporter).get_json()
    assert corner["computed"]["country"] == "RU" and corner["computed"]["zones"] == []
    assert corner["verdict"] == "violation"
    assert [f["rule_id"] for f in corner["findings"]] == ["XB-OUTSIDE-ZONE"]
    # The event judged before publishing keeps its verdict: publishing re-judges nothing.
    kept = client.get(f"/v1/events/{before['id']}", headers=keys.reporter).get_json()
    assert kept["policy_version"] is None


# ---- simulation ------------------------------------------------------------------------

def kharkiv_period_events(client, keys) -> dict[str, dict]:
    """Four events of the Kharkiv period and two just outside it; verdicts under us-2024-05-30-kharkiv."""
    reports = {
        # 12 km inside Russia, GMLRS, in the Kharkiv sector: compliant.
        "a-gmlrs-sector": make_event("a", occurred_at="2024-05-30T00:00:00Z"),
        # Kursk, ~95 km deep, ATACMS: north of the Kharkiv box (lat ≤ 51.4): XB-OUTSIDE-ZONE.
        "b-atacms-kursk": make_event("b", occurred_at="2024-06-05T08:00:00+03:00", **{
            "weapon.munition": "M39A1-ATACMS", "launch.lat": 50.9, "launch.lon": 34.8,
            "target.lat": 51.7, "target.lon": 36.2}),
        # ~70 km deep, ATACMS, inside the Kharkiv box (and the Kursk box): XB-MUNITION.
        "c-atacms-sector": make_event("c", occurred_at="2024-06-10T00:00:00Z", **{
            "weapon.munition": "M39A1-ATACMS", "launch.lat": 50.4, "launch.lon": 36.0,
            "target.lat": 51.0, "target.lon": 36.5}),
        # Not US-provided: out of scope under any version.
        "d-not-us": make_event("d", occurred_at="2024-06-18T23:59:59Z", **{"weapon.us_provided": False}),
        # Outside [2024-05-30, 2024-06-19): never simulated.
        "e-before": make_event("e", occurred_at="2024-05-29T23:59:59Z"),
        "f-at-end": make_event("f", occurred_at="2024-06-19T00:00:00Z"),
    }
    stored = {}
    for name, report in reports.items():
        response = client.post("/v1/events", json=report, headers=keys.reporter)
        assert response.status_code == 201
        stored[name] = response.get_json()
    verdicts = {name: (body["verdict"], [f["rule_id"] for f in body["findings"]]) for name, body in stored.items()}
    assert verdicts["a-gmlrs-sector"] == ("compliant", [])
    assert verdicts["b-atacms-kursk"] == ("violation", ["XB-OUTSIDE-ZONE"])
    assert verdicts["c-atacms-sector"] == ("violation", ["XB-MUNITION"])
    assert verdicts["d-not-us"] == ("out_of_scope", [])
    return stored


KHARKIV_PERIOD = {"occurred_from": "2024-05-30T00:00:00Z", "occurred_to": "2024-06-19T00:00:00Z"}


def simulate(client, keys, policy_id, params=KHARKIV_PERIOD, key="auditor"):
    return client.post(f"/v1/policies/{policy_id}/simulate?{urlencode(params)}", headers=getattr(keys, key))


def outcomes(body) -> dict[str, tuple]:
    return {r["source_event_id"]: (r["simulated"]["verdict"], r["simulated"]["rule_ids"], r["changed"])
            for r in body["results"]}


def test_simulating_the_kharkiv_period_under_the_2022_version(client, keys, app):
    stored = kharkiv_period_events(client, keys)
    response = simulate(client, keys, "us-2022-06-01-no-cross-border")
    assert response.status_code == 200
    body = response.get_json()
    policy = client.get("/v1/policies/us-2022-06-01-no-cross-border", headers=keys.auditor).get_json()
    assert (body["policy_version"], body["policy_sha256"]) == (policy["id"], policy["sha256"])
    assert (body["occurred_from"], body["occurred_to"]) == ("2024-05-30T00:00:00Z", "2024-06-19T00:00:00Z")
    # No zones at all: every US-provided strike inside Russia is XB-NOT-AUTHORIZED, and XB-PURPOSE
    # (which needs ≥ 1 zone) does not fire.
    assert outcomes(body) == {
        "d": ("out_of_scope", [], False),
        "c": ("violation", ["XB-NOT-AUTHORIZED"], True),
        "b": ("violation", ["XB-NOT-AUTHORIZED"], True),  # same verdict, another rule
        "a": ("violation", ["XB-NOT-AUTHORIZED"], True),
    }
    assert [r["source_event_id"] for r in body["results"]] == ["d", "c", "b", "a"]  # newest first
    first = body["results"][-1]
    assert first == {
        "event_id": stored["a-gmlrs-sector"]["id"], "source_event_id": "a", "reporter": "ops-a",
        "occurred_at": "2024-05-30T00:00:00Z",
        "actual": {"verdict": "compliant", "policy_version": "us-2024-05-30-kharkiv", "rule_ids": []},
        "simulated": {"verdict": "violation", "rule_ids": ["XB-NOT-AUTHORIZED"]}, "changed": True}
    assert body["results"][2]["occurred_at"] == "2024-06-05T05:00:00Z"
    assert body["results"][2]["actual"]["rule_ids"] == ["XB-OUTSIDE-ZONE"]
    assert body["summary"] == {
        "events": 4, "changed": 3,
        "by_verdict": {"actual": {"compliant": 1, "needs_review": 0, "violation": 2, "out_of_scope": 1},
                       "simulated": {"compliant": 0, "needs_review": 0, "violation": 3, "out_of_scope": 1}}}


def test_simulating_the_kharkiv_period_under_the_kursk_version(client, keys):
    kharkiv_period_events(client, keys)
    body = simulate(client, keys, "us-2024-11-17-kursk-atacms", key="admin").get_json()
    # a: border-strip contains it (12 km ≤ 80) and does not deny GMLRS.
    # b: 95 km deep, so outside border-strip, but inside kursk-atacms (≤ 300 km), which denies nothing.
    # c: in border-strip (denies ATACMS) and kursk-atacms (does not): not denied in *every* zone.
    assert outcomes(body) == {
        "a": ("compliant", [], False),
        "b": ("compliant", [], True),
        "c": ("compliant", [], True),
        "d": ("out_of_scope", [], False),
    }
    assert body["summary"]["changed"] == 2
    assert body["summary"]["by_verdict"]["simulated"] == {"compliant": 3, "needs_review": 0, "violation": 0,
                                                          "out_of_scope": 1}


def test_simulation_honours_offsets_and_half_open_periods(client, keys):
    kharkiv_period_events(client, keys)
    # [2024-06-05T05:00Z, 2024-06-10T00:00Z) given with offsets: b is at its start, c at its excluded end.
    body = simulate(client, keys, "us-2024-05-30-kharkiv", {
        "occurred_from": "2024-06-05T08:00:00+03:00", "occurred_to": "2024-06-09T20:00:00-04:00"}).get_json()
    assert [r["source_event_id"] for r in body["results"]] == ["b"]
    assert body["occurred_from"] == "2024-06-05T05:00:00Z" and body["occurred_to"] == "2024-06-10T00:00:00Z"
    # Under its own version nothing changes.
    assert body["results"][0]["changed"] is False and body["summary"]["changed"] == 0


def test_simulation_uses_the_latest_version_of_a_corrected_event(client, keys):
    original = client.post("/v1/events", json=make_event("x"), headers=keys.reporter).get_json()
    corrected = client.post(f"/v1/events/{original['id']}/corrections", headers=keys.reporter,
                            json=make_event("x", **{"target.category": "military_airfield"})).get_json()
    moved = client.post(f"/v1/events/{original['id']}/corrections", headers=keys.reporter,
                        json=make_event("x", occurred_at="2023-01-01T00:00:00Z")).get_json()
    body = simulate(client, keys, "us-2024-11-17-kursk-atacms").get_json()
    assert body["results"] == []  # its latest version now lies outside the period
    body = simulate(client, keys, "us-2024-11-17-kursk-atacms", {
        "occurred_from": "2023-01-01T00:00:00Z", "occurred_to": "2023-01-02T00:00:00Z"}).get_json()
    [result] = body["results"]
    assert result["event_id"] == moved["id"] != corrected["id"]
    assert result["actual"] == {"verdict": "violation", "policy_version": "us-2022-06-01-no-cross-border",
                                "rule_ids": ["XB-NOT-AUTHORIZED"]}
    assert result["simulated"] == {"verdict": "compliant", "rule_ids": []}


def test_simulation_of_a_published_polygon_version(client, keys):
    publish(client, keys, polygon_policy())
    kharkiv_period_events(client, keys)
    body = simulate(client, keys, "test-2021-01-01-belgorod-polygon").get_json()
    # a (50.45, 36.9) is inside the diamond; b (51.7, 36.2) and c (51.0, 36.5) lie west of it.
    assert outcomes(body) == {
        "a": ("compliant", [], False),
        "b": ("violation", ["XB-OUTSIDE-ZONE"], False),
        "c": ("violation", ["XB-OUTSIDE-ZONE"], True),
        "d": ("out_of_scope", [], False),
    }


def test_simulation_writes_nothing_but_its_access_entry(client, keys, app):
    kharkiv_period_events(client, keys)
    before, accesses = counts(app), len(ledger_entries(app, "access"))
    assert simulate(client, keys, "us-2022-06-01-no-cross-border").status_code == 200
    assert counts(app) == before
    [entry] = ledger_entries(app, "access")[accesses:]
    assert (entry["who"], entry["method"], entry["result_count"]) == ("auditor-1", "POST", 4)
    assert entry["query"] == {name: [value] for name, value in KHARKIV_PERIOD.items()}


@pytest.mark.parametrize("params, parameter", [
    ({"occurred_to": "2024-06-19T00:00:00Z"}, "occurred_from"),
    ({"occurred_from": "2024-05-30T00:00:00Z"}, "occurred_to"),
    ({"occurred_from": "2024-05-30T00:00:00", "occurred_to": "2024-06-19T00:00:00Z"}, "occurred_from"),
    ({"occurred_from": "2024-05-30", "occurred_to": "2024-06-19T00:00:00Z"}, "occurred_from"),
    ({"occurred_from": "2024-05-30T00:00:00Z", "occurred_to": "yesterday"}, "occurred_to"),
    ({"occurred_from": "2024-06-19T00:00:00Z", "occurred_to": "2024-06-19T00:00:00Z"}, "occurred_to"),
    ({"occurred_from": "2024-06-19T00:00:00Z", "occurred_to": "2024-06-19T02:00:00+03:00"}, "occurred_to"),
    ({**KHARKIV_PERIOD, "verdict": "violation"}, "verdict"),
])
def test_bad_period_parameters_are_a_400_naming_the_parameter(client, keys, params, parameter):
    response = simulate(client, keys, "us-2024-05-30-kharkiv", params)
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert parameter in response.get_json()["errors"], response.get_json()


def test_unencoded_plus_in_an_offset_is_a_400(client, keys):
    # "+03:00" unencoded in a query string reads as " 03:00"; the client must send %2B.
    response = client.post("/v1/policies/us-2024-05-30-kharkiv/simulate?occurred_from=2024-06-01T03:00:00+03:00"
                           "&occurred_to=2024-06-02T00:00:00Z", headers=keys.auditor)
    assert response.status_code == 400 and "occurred_from" in response.get_json()["errors"]


def test_simulating_an_unknown_version_is_a_404(client, keys):
    response = simulate(client, keys, "us-1999-01-01-nothing")
    assert response.status_code == 404 and response.mimetype == "application/problem+json"


def test_reporters_cannot_simulate(client, keys):
    assert simulate(client, keys, "us-2024-05-30-kharkiv", key="reporter").status_code == 403
    assert client.post(f"/v1/policies/us-2024-05-30-kharkiv/simulate?{urlencode(KHARKIV_PERIOD)}").status_code == 401


def test_a_period_with_too_many_events_asks_for_a_shorter_one(client, keys, monkeypatch):
    kharkiv_period_events(client, keys)
    monkeypatch.setattr(simulation, "MAX_EVENTS", 3)
    response = simulate(client, keys, "us-2024-05-30-kharkiv")
    assert response.status_code == 400
    assert "shorter period" in response.get_json()["detail"]
    narrower = {"occurred_from": "2024-06-01T00:00:00Z", "occurred_to": "2024-06-19T00:00:00Z"}
    assert simulate(client, keys, "us-2024-05-30-kharkiv", narrower).get_json()["summary"]["events"] == 3


def test_bundled_documents_round_trip_unchanged(client, keys):
    # The stored form of every bundled version is its file, so re-posting each is a no-op.
    for document in bundled_policies():
        response = publish(client, keys, copy.deepcopy(document))
        assert response.status_code == 200 and response.get_json()["document"] == document


def test_a_report_is_judged_by_a_version_published_after_this_worker_read_the_rules(client, keys):
    """Workers keep the rules they read until the stored ones change; the write of each report checks, in
    the same statement or transaction, that they have not, and a report judged by outdated rules is
    judged again, never stored with the old verdict."""
    at = {"occurred_at": "2021-06-01T08:00:00Z"}  # before every bundled version
    before = client.post("/v1/events", json=make_event("before-publishing", **at), headers=keys.reporter)
    assert before.status_code == 201 and before.get_json()["policy_version"] is None
    interim = polygon_policy()
    assert publish(client, keys, interim).status_code == 201
    single = client.post("/v1/events", json=make_event("after-publishing", **at), headers=keys.reporter)
    assert single.status_code == 201 and single.get_json()["policy_version"] == interim["id"]
    batch = client.post("/v1/events/batch", json={"events": [make_event(f"after-publishing-{n}", **at) for n in range(3)]},
                        headers=keys.reporter)
    ids = [item["id"] for item in batch.get_json()["results"]]
    assert [client.get(f"/v1/events/{i}", headers=keys.auditor).get_json()["policy_version"] for i in ids] == [
        interim["id"]] * 3
