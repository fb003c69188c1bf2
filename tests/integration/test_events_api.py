"""POST/GET /v1/events: verdicts, idempotency, conflicts, corrections and what gets stored."""
import base64
import hashlib
import json

from sqlalchemy import select

from service.ledger.tables import LedgerEntry
from service.web.schemas.events import EventPageSchema

from ..helpers import make_event, row_counts


def test_submit_returns_the_stored_event_with_its_verdict(client, keys, app):
    response = client.post("/v1/events", json=make_event(), headers=keys.reporter)
    assert response.status_code == 201
    body = response.get_json()
    assert response.headers["Location"] == f"/v1/events/{body['id']}"
    assert body["reporter"] == "ops-a"
    assert body["verdict"] == "compliant"
    assert body["policy_version"] == "us-2024-05-30-kharkiv"
    assert body["computed"]["country"] == "RU"
    assert body["computed"]["zones"] == ["kharkiv-sector"]
    assert 0 < body["computed"]["depth_km"] < 80
    assert body["target"]["description"] == "armour assembly area"
    assert body["evidence"][0]["uri"] == "s3://bucket/img-1.tif"
    policy = client.get(f"/v1/policies/{body['policy_version']}", headers=keys.reporter).get_json()
    assert body["policy_sha256"] == policy["sha256"]
    assert row_counts(app) == {"events": 1, "event_heads": 1, "event_rules": 0, "ledger_entries": 4 + 2}


def test_the_201_answer_is_the_record_read_back_later(client, keys):
    """The answer is built from what was just written, without reading it back: it must not differ."""
    created = client.post("/v1/events", json=make_event(**{"target.category": "dual_use"}), headers=keys.reporter)
    replayed = client.post("/v1/events", json=make_event(**{"target.category": "dual_use"}), headers=keys.reporter)
    assert (created.status_code, replayed.status_code) == (201, 200)
    assert created.get_json()["findings"] and created.get_json() == replayed.get_json()
    page = client.get("/v1/events", headers=keys.reporter).get_json()
    listed = page["items"][0]
    assert {**created.get_json(), "review_status": "open"} == listed
    # Pages are sent as built, not dumped through their schema: it must already be the schema's shape.
    assert EventPageSchema().dump(page) == page


def test_ledger_entries_hold_canonical_bytes_and_rfc9162_leaf_hashes(client, keys, app):
    body = client.post("/v1/events", json=make_event(), headers=keys.reporter).get_json()
    with app.extensions["db_sessions"]() as session:
        entries = session.scalars(select(LedgerEntry).where(LedgerEntry.id >= body["ledger"]["entry_id"])
                                  .order_by(LedgerEntry.id)).all()
    assert [e.entry_type for e in entries] == ["event_received", "evaluation"]
    received, evaluation = (json.loads(e.canonical) for e in entries)
    assert received["payload"] == make_event() and received["event_id"] == body["id"]
    assert evaluation["verdict"] == body["verdict"] and evaluation["findings"] == body["findings"]
    for entry in entries:
        assert entry.leaf_hash == hashlib.sha256(b"\x00" + entry.canonical).digest()
        # RFC 8785: sorted keys, no insignificant white space
        assert entry.canonical == json.dumps(json.loads(entry.canonical), sort_keys=True,
                                             separators=(",", ":"), ensure_ascii=False).encode()
    assert body["ledger"]["leaf_hash"] == base64.b64encode(entries[0].leaf_hash).decode()


def test_identical_replay_returns_the_original_and_writes_nothing(client, keys, app):
    first = client.post("/v1/events", json=make_event(), headers=keys.reporter).get_json()
    before = row_counts(app)
    reordered = json.loads(json.dumps(make_event(), sort_keys=True))  # same JSON, other key order
    again = client.post("/v1/events", data=json.dumps(reordered), content_type="application/json",
                        headers=keys.reporter)
    assert again.status_code == 200
    assert again.get_json() == first
    assert row_counts(app) == before


def test_same_source_id_with_a_different_payload_is_a_conflict(client, keys, app):
    client.post("/v1/events", json=make_event(), headers=keys.reporter)
    before = row_counts(app)
    response = client.post("/v1/events", json=make_event(notes="changed"), headers=keys.reporter)
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    assert row_counts(app) == before


def test_source_ids_are_scoped_to_the_reporter(client, keys):
    a = client.post("/v1/events", json=make_event(), headers=keys.reporter)
    b = client.post("/v1/events", json=make_event(notes="other system"), headers=keys.other_reporter)
    assert (a.status_code, b.status_code) == (201, 201)
    assert b.get_json()["reporter"] == "ops-b"


def test_reporter_field_cannot_be_supplied_by_the_client(client, keys, app):
    response = client.post("/v1/events", json={**make_event(), "reporter": "someone-else"}, headers=keys.reporter)
    assert response.status_code == 400
    assert response.get_json()["errors"] == {"reporter": ["Unknown field."]}


def test_violation_is_explained(client, keys):
    event = make_event(**{"target.category": "residential", "weapon.munition": "M57-ATACMS"})
    body = client.post("/v1/events", json=event, headers=keys.reporter).get_json()
    assert body["verdict"] == "violation"
    rules = [f["rule_id"] for f in body["findings"]]
    assert rules == ["CIV-TARGET", "XB-MUNITION"]
    munition = next(f for f in body["findings"] if f["rule_id"] == "XB-MUNITION")
    assert munition["evidence"]["zones"] == ["kharkiv-sector"]
    assert munition["message"]


def test_reporters_read_only_their_own_events(client, keys):
    created = client.post("/v1/events", json=make_event(), headers=keys.reporter).get_json()
    assert client.get(f"/v1/events/{created['id']}", headers=keys.reporter).status_code == 200
    assert client.get(f"/v1/events/{created['id']}", headers=keys.other_reporter).status_code == 404
    assert client.get(f"/v1/events/{created['id']}", headers=keys.auditor).status_code == 200
    assert client.get("/v1/events/no-such-id", headers=keys.auditor).status_code == 404


def test_correction_supersedes_and_keeps_the_original(client, keys, app):
    original = client.post("/v1/events", json=make_event(), headers=keys.reporter).get_json()
    corrected_payload = make_event(**{"target.category": "residential", "occurred_at": "2024-06-20T10:00:00+02:00"})
    response = client.post(f"/v1/events/{original['id']}/corrections", json=corrected_payload,
                           headers=keys.reporter)
    assert response.status_code == 201
    corrected = response.get_json()
    assert corrected["supersedes"] == original["id"] and corrected["version"] == 2
    assert corrected["verdict"] == "violation"
    assert corrected["policy_version"] == "us-2024-06-19-border-wide"  # judged at its own occurred_at
    assert corrected["occurred_at"] == "2024-06-20T08:00:00Z"
    detail = client.get(f"/v1/events/{original['id']}", headers=keys.auditor).get_json()
    assert detail["verdict"] == "compliant" and detail["superseded_by"] == corrected["id"]
    assert [v["verdict"] for v in detail["versions"]] == ["compliant", "violation"]
    with app.extensions["db_sessions"]() as session:
        types = session.scalars(select(LedgerEntry.entry_type).where(LedgerEntry.entry_type != "access")
                                 .order_by(LedgerEntry.id)).all()
    assert types[-2:] == ["correction", "evaluation"]
    again = client.post(f"/v1/events/{original['id']}/corrections", json=corrected_payload, headers=keys.reporter)
    assert again.status_code == 200 and again.get_json()["id"] == corrected["id"]
    # the original submission replayed still answers with the original record
    assert client.post("/v1/events", json=make_event(), headers=keys.reporter).get_json()["id"] == original["id"]


def test_correction_rules(client, keys, app):
    original = client.post("/v1/events", json=make_event(), headers=keys.reporter).get_json()
    path = f"/v1/events/{original['id']}/corrections"
    before = row_counts(app)
    renamed = client.post(path, json=make_event("other-id"), headers=keys.reporter)
    assert renamed.status_code == 400 and "source_event_id" in renamed.get_json()["errors"]
    assert client.post(path, json=make_event(notes="x"), headers=keys.other_reporter).status_code == 404
    assert client.post(path, json=make_event(notes="x"), headers=keys.auditor).status_code == 403
    assert client.post("/v1/events/nope/corrections", json=make_event(), headers=keys.reporter).status_code == 404
    assert row_counts(app) == before


def test_batch_items_are_independent(client, keys, app):
    client.post("/v1/events", json=make_event("existing"), headers=keys.reporter)
    batch = [make_event("new-1"), make_event("existing"), make_event("existing", notes="changed"),
             make_event("bad", **{"target.lat": 91}), "not an object", make_event("new-1")]
    response = client.post("/v1/events/batch", json={"events": batch}, headers=keys.reporter)
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["status"] for r in results] == ["created", "duplicate", "conflict", "invalid", "invalid", "duplicate"]
    assert [r["index"] for r in results] == list(range(6))
    assert results[3]["errors"] == {"target.lat": ["Must be greater than or equal to -90 and less than or equal to 90."]}
    assert results[5]["id"] == results[0]["id"]
    assert row_counts(app)["events"] == 2


def test_batch_limits(client, keys):
    too_many = client.post("/v1/events/batch", json={"events": [make_event(f"e{i}") for i in range(1001)]},
                           headers=keys.reporter)
    assert too_many.status_code == 400 and "events" in too_many.get_json()["errors"]
    empty = client.post("/v1/events/batch", json={"events": []}, headers=keys.reporter)
    assert empty.status_code == 400
