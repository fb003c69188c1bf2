"""contract §8 for auditors: filters, cursor pagination, reviews and the access log."""
import base64
import json

import pytest
from sqlalchemy import select

from service.ledger.tables import LedgerEntry

from ..helpers import make_event, submit_all

# source id -> (reporter, changes); expected facts are stated next to each one, from contract §3–§6.
EVENTS = {
    # compliant: RU force concentration ~48 km deep in the Kharkiv sector, GMLRS, 2024-06-02
    "a-compliant": ("ops-a", {}),
    # violation (CIV-TARGET): residential target in Kharkiv city (UA), border-wide period
    "b-civilian": ("ops-a", {"target.lat": 49.99, "target.lon": 36.23, "target.category": "residential",
                             "target.country": "UA", "occurred_at": "2024-06-20T12:00:00Z", "launch": None}),
    # needs_review (CATEGORY-REVIEW): dual-use target in Donetsk oblast (UA), 2022 policy
    "c-dual-use": ("ops-a", {"target.lat": 48.5, "target.lon": 37.5, "target.category": "dual_use",
                             "target.country": "UA", "occurred_at": "2023-01-01T00:00:00Z"}),
    # out_of_scope: not US-provided
    "d-not-us": ("ops-a", {"weapon.us_provided": False, "occurred_at": "2024-12-01T00:00:00Z"}),
    # needs_review (MUNITION-UNKNOWN): uncatalogued munition, otherwise like a-compliant
    "e-unknown": ("ops-a", {"weapon.munition": "XYZ-1", "occurred_at": "2024-06-03T00:00:00+02:00"}),
    # needs_review (LOCATION-UNRESOLVED, COUNTRY-MISMATCH): Black Sea, another reporter
    "f-sea": ("ops-b", {"target.lat": 43.5, "target.lon": 33.0, "target.category": "military_logistics",
                        "target.country": "UA", "occurred_at": "2024-07-01T00:00:00Z", "launch": None}),
}


@pytest.fixture
def stored(client, keys):
    return submit_all(client, keys, EVENTS)


def listed(client, keys, query="", who="auditor-1"):
    response = client.get(f"/v1/events?{query}", headers=keys[who])
    assert response.status_code == 200, response.get_json()
    return [item["source_event_id"] for item in response.get_json()["items"]]


FILTERS = [
    ("verdict=violation", {"b-civilian"}),
    ("verdict=compliant", {"a-compliant"}),
    ("verdict=out_of_scope", {"d-not-us"}),
    ("rule_id=CIV-TARGET", {"b-civilian"}),
    ("rule_id=LOCATION-UNRESOLVED", {"f-sea"}),
    ("severity=critical", {"b-civilian"}),
    ("severity=review", {"c-dual-use", "e-unknown", "f-sea"}),
    ("munition=XYZ-1", {"e-unknown"}),
    ("family=GMLRS", {"a-compliant", "b-civilian", "c-dual-use", "d-not-us", "f-sea"}),
    ("reporter=ops-b", {"f-sea"}),
    ("category=dual_use", {"c-dual-use"}),
    ("target_country=RU", {"a-compliant", "d-not-us", "e-unknown"}),
    ("target_country=UA", {"b-civilian", "c-dual-use"}),
    ("policy_version=us-2022-06-01-no-cross-border", {"c-dual-use"}),
    ("review_status=open", set(EVENTS)),
    ("occurred_from=2024-06-02T05:14:00%2B02:00", {"a-compliant", "b-civilian", "d-not-us", "f-sea", "e-unknown"}),
    ("occurred_to=2024-06-02T05:14:00%2B02:00", {"c-dual-use"}),  # 03:14Z exactly: exclusive
    ("occurred_from=2024-06-02T03:14:00Z&occurred_to=2024-06-03T00:00:00Z", {"a-compliant", "e-unknown"}),
    ("bbox=36,50,37,51", {"a-compliant", "d-not-us", "e-unknown"}),
    ("bbox=36.9,50.45,36.9,50.45", {"a-compliant", "d-not-us", "e-unknown"}),  # inclusive edges
    ("bbox=30,40,35,45", {"f-sea"}),
    ("verdict=needs_review&target_country=RU", {"e-unknown"}),
    ("verdict=needs_review&reporter=ops-a&occurred_from=2023-06-01T00:00:00Z", {"e-unknown"}),
]


@pytest.mark.parametrize("query, expected", FILTERS, ids=[q for q, _ in FILTERS])
def test_each_filter_alone_and_combined(stored, client, keys, query, expected):
    assert set(listed(client, keys, query)) == expected


def test_received_range_and_newest_first(stored, client, keys):
    everything = listed(client, keys)
    # e-unknown's 2024-06-03T00:00:00+02:00 is 2024-06-02T22:00Z: after a-compliant's 03:14Z
    assert everything == ["d-not-us", "f-sea", "b-civilian", "e-unknown", "a-compliant", "c-dual-use"]
    assert listed(client, keys, "received_from=2000-01-01T00:00:00Z") == everything
    assert listed(client, keys, "received_to=2000-01-01T00:00:00Z") == []


def test_items_carry_verdict_findings_review_status_and_policy(stored, client, keys):
    item = client.get("/v1/events?verdict=violation", headers=keys.auditor).get_json()["items"][0]
    assert item["id"] == stored["b-civilian"] and item["review_status"] == "open"
    assert [f["rule_id"] for f in item["findings"]] == ["CIV-TARGET"]
    assert item["policy_version"] == "us-2024-06-19-border-wide"


def test_reporters_list_only_their_own(stored, client, keys):
    assert set(listed(client, keys, who="ops-b")) == {"f-sea"}
    assert listed(client, keys, "reporter=ops-a", who="ops-b") == []


def test_a_reporting_system_finds_its_report_by_its_own_id(stored, client, keys):
    # ops-b sends its own "a-compliant": source ids are unique per reporter, not across reporters
    theirs = client.post("/v1/events", json=make_event("a-compliant"), headers=keys.other_reporter).get_json()
    assert listed(client, keys, "source_event_id=a-compliant", who="ops-a") == ["a-compliant"]
    page = client.get("/v1/events?source_event_id=a-compliant", headers=keys.other_reporter).get_json()
    assert [item["id"] for item in page["items"]] == [theirs["id"]]
    assert listed(client, keys, "source_event_id=b-civilian", who="ops-b") == []  # ops-a's: not theirs to see
    assert listed(client, keys, "source_event_id=a-compliant&reporter=ops-a", who="ops-b") == []
    everyone = client.get("/v1/events?source_event_id=a-compliant", headers=keys.auditor).get_json()["items"]
    assert sorted(item["reporter"] for item in everyone) == ["ops-a", "ops-b"]
    one = client.get("/v1/events?source_event_id=a-compliant&reporter=ops-a", headers=keys.auditor).get_json()
    assert [item["id"] for item in one["items"]] == [stored["a-compliant"]]
    assert listed(client, keys, "source_event_id=nobody-sent-this") == []
    assert_400_naming(client.get("/v1/events?source_event_id=a%20b", headers=keys.reporter), "source_event_id")


def forged_cursor(*values) -> str:
    """A cursor as the service encodes one (base64url JSON), holding whatever a client put in it."""
    return base64.urlsafe_b64encode(json.dumps(list(values)).encode()).decode().rstrip("=")


@pytest.mark.parametrize("query, field", [
    ("verdict=bad", "verdict"), ("rule_id=NOPE", "rule_id"), ("severity=low", "severity"),
    ("category=tank", "category"), ("target_country=ru", "target_country"), ("review_status=x", "review_status"),
    ("occurred_from=2024-01-01", "occurred_from"), ("received_to=yesterday", "received_to"),
    ("occurred_from=2024-02-01T00:00:00Z&occurred_to=2024-01-01T00:00:00Z", "occurred_to"),
    ("bbox=1,2,3", "bbox"), ("bbox=10,0,5,1", "bbox"), ("bbox=a,b,c,d", "bbox"), ("limit=0", "limit"),
    ("limit=501", "limit"), ("cursor=not-a-cursor", "cursor"), ("cursor=W10", "cursor"), ("colour=red", "colour"),
    ("verdict=violation'%20OR%201=1--", "verdict"), ("reporter=" + "x" * 200, "reporter"),
])
def test_bad_filters_are_400_naming_the_parameter(stored, client, keys, query, field):
    assert_400_naming(client.get(f"/v1/events?{query}", headers=keys.auditor), field)


def assert_400_naming(response, field):
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert field in response.get_json()["errors"], response.get_json()


HOSTILE = [
    # U+0000 would reach PostgreSQL, which cannot compare it (a 500 before)
    ("reporter=ops-a%00", "reporter"), ("munition=M31A1%00", "munition"), ("policy_version=%00", "policy_version"),
    # cursors are not signed, but only their own shape is accepted: [RFC 3339 time with offset, event UUID]
    ("cursor=" + forged_cursor("2024-06-02T03:14:00Z", "' OR '1'='1"), "cursor"),
    ("cursor=" + forged_cursor("2024-06-02T03:14:00Z", "00000000-0000-0000-0000-00000000000\u0000"), "cursor"),
    ("cursor=" + forged_cursor("2024-06-02T03:14:00Z", "00000000-0000-0000-0000-000000000000", "extra"), "cursor"),
    ("cursor=" + forged_cursor("2024-06-02 03:14:00", "00000000-0000-0000-0000-000000000000"), "cursor"),
    ("cursor=" + forged_cursor(1717298040, "00000000-0000-0000-0000-000000000000"), "cursor"),
    ("cursor=" + forged_cursor("2024-06-02T03:14:00Z", ["00000000-0000-0000-0000-000000000000"]), "cursor"),
    ("cursor=" + "A" * 201, "cursor"), ("cursor=%2F..%2F..%2Fetc%2Fpasswd", "cursor"),
]


def test_hostile_filters_and_tampered_cursors_are_400s(client, keys):
    """No stored events needed: each is refused before any query runs (one app for all, to stay fast)."""
    for query, field in HOSTILE:
        assert_400_naming(client.get(f"/v1/events?{query}", headers=keys.auditor), field)
        assert_400_naming(client.get(f"/v1/events/export?format=csv&{query}", headers=keys.auditor), field)


def test_injection_looking_values_are_harmless(stored, client, keys):
    assert listed(client, keys, "reporter=ops-a'%20OR%20'1'='1") == []
    assert listed(client, keys, "munition=%25") == []


def test_a_well_formed_forged_cursor_only_moves_the_page(stored, client, keys):
    """Anyone can write a cursor; all it can do is say where a page starts, never widen what a key sees."""
    start_of_time = forged_cursor("9999-12-31T23:59:59Z", "ffffffff-ffff-ffff-ffff-ffffffffffff")
    assert set(listed(client, keys, f"cursor={start_of_time}")) == set(EVENTS)
    assert listed(client, keys, f"cursor={start_of_time}", who="ops-b") == ["f-sea"]
    assert listed(client, keys, f"reporter=ops-a&cursor={start_of_time}", who="ops-b") == []
    end_of_time = forged_cursor("0001-01-01T00:00:00Z", "00000000-0000-0000-0000-000000000000")
    assert listed(client, keys, f"cursor={end_of_time}") == []


def test_pagination_has_no_duplicates_or_gaps_while_events_arrive(stored, client, keys):
    seen, cursor, page_number = [], None, 0
    while True:
        query = "limit=2" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(f"/v1/events?{query}", headers=keys.auditor).get_json()
        seen += [item["source_event_id"] for item in body["items"]]
        page_number += 1
        # events arriving meanwhile: one newer than everything, one in the middle of the order
        client.post("/v1/events", json=make_event(f"new-{page_number}", occurred_at="2025-01-01T00:00:00Z"),
                    headers=keys.reporter)
        client.post("/v1/events", json=make_event(f"mid-{page_number}", occurred_at="2024-06-10T00:00:00Z"),
                    headers=keys.reporter)
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen))
    assert set(EVENTS) <= set(seen)
    assert not any(s.startswith("new-") for s in seen)  # newer than the first page: after no cursor


def test_reviews_are_appended_and_the_latest_is_the_status(stored, client, keys, app):
    event_id = stored["b-civilian"]
    first = client.post(f"/v1/events/{event_id}/reviews", json={"status": "escalated", "comment": "check imagery"},
                        headers=keys.auditor)
    assert first.status_code == 201
    assert first.get_json()["reviewer"] == "auditor-1" and first.get_json()["ledger"]["entry_id"]
    second = client.post(f"/v1/events/{event_id}/reviews",
                         json={"status": "confirmed_violation", "comment": "confirmed"}, headers=keys.admin)
    assert second.status_code == 201
    detail = client.get(f"/v1/events/{event_id}", headers=keys.auditor).get_json()
    assert detail["review_status"] == "confirmed_violation"
    assert [(r["status"], r["reviewer"]) for r in detail["reviews"]] == [
        ("escalated", "auditor-1"), ("confirmed_violation", "admin-1")]
    assert listed(client, keys, "review_status=confirmed_violation") == ["b-civilian"]
    assert "b-civilian" not in listed(client, keys, "review_status=open")
    with app.extensions["db_sessions"]() as session:
        reviews = [json.loads(e.canonical) for e in session.scalars(
            select(LedgerEntry).where(LedgerEntry.entry_type == "review").order_by(LedgerEntry.id))]
    assert [r["status"] for r in reviews] == ["escalated", "confirmed_violation"]


def test_review_rules(stored, client, keys, app):
    path = f"/v1/events/{stored['a-compliant']}/reviews"
    assert client.post(path, json={"status": "acknowledged", "comment": "ok"}, headers=keys.reporter).status_code == 403
    bad = client.post(path, json={"status": "approved", "comment": "ok"}, headers=keys.auditor)
    assert bad.status_code == 400 and "status" in bad.get_json()["errors"]
    assert client.post(path, json={"status": "dismissed"}, headers=keys.auditor).status_code == 400
    assert client.post("/v1/events/nope/reviews", json={"status": "dismissed", "comment": "x"},
                       headers=keys.auditor).status_code == 404


def test_a_review_survives_a_correction_and_the_list_shows_the_new_version(stored, client, keys):
    original = stored["a-compliant"]
    client.post(f"/v1/events/{original}/reviews", json={"status": "acknowledged", "comment": "seen"},
                headers=keys.auditor)
    corrected = client.post(f"/v1/events/{original}/corrections",
                            json=make_event("a-compliant", **{"target.category": "residential"}),
                            headers=keys.reporter).get_json()
    item = next(i for i in client.get("/v1/events", headers=keys.auditor).get_json()["items"]
                if i["source_event_id"] == "a-compliant")
    assert item["id"] == corrected["id"] and item["supersedes"] == original and item["version"] == 2
    assert item["verdict"] == "violation" and item["review_status"] == "acknowledged"
    detail = client.get(f"/v1/events/{original}", headers=keys.auditor).get_json()
    assert [e["verdict"] for e in detail["evaluations"]] == ["compliant", "violation"]


def access_entries(app) -> list[dict]:
    with app.extensions["db_sessions"]() as session:
        return [json.loads(e.canonical) for e in session.scalars(
            select(LedgerEntry).where(LedgerEntry.entry_type == "access").order_by(LedgerEntry.id))]


def test_every_auditor_read_is_an_access_entry_and_reporter_reads_are_not(stored, client, keys, app):
    assert access_entries(app) == []
    client.get("/v1/events?verdict=needs_review", headers=keys.auditor)
    client.get(f"/v1/events/{stored['a-compliant']}", headers=keys.admin)
    client.get("/v1/policies", headers=keys.auditor)
    client.get("/v1/events?verdict=bogus", headers=keys.auditor)  # refused: nothing was read
    client.get("/v1/events", headers=keys.reporter)
    client.get(f"/v1/events/{stored['a-compliant']}", headers=keys.reporter)
    entries = access_entries(app)
    assert [(e["who"], e["endpoint"]) for e in entries] == [
        ("auditor-1", "/v1/events"), ("admin-1", "/v1/events/<event_id>"), ("auditor-1", "/v1/policies")]
    assert entries[0]["query"] == {"verdict": ["needs_review"]} and entries[0]["result_count"] == 3
    assert entries[0]["role"] == "auditor" and entries[0]["recorded_at"]
