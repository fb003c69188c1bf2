"""contract §9 compliance reports: hand-counted figures, period edges, storage, verification, access."""
import csv
import hashlib
import io
import json
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select, text

from service.ledger import sequencer
from service.ledger.tables import LedgerEntry
from service.ledger.tree import latest_checkpoint
from service.reports import periods
from service.reports.compute import compute_report
from service.reports.replay import recompute_from_ledger
from service.reports.periods import Period
from service.reports.tables import Report

from ..helpers import make_event, submit_all, tamper
from .test_auditor_queries import EVENTS

WHOLE = "from=2022-01-01&to=2025-01-01"


@pytest.fixture
def stored(client, keys):
    """EVENTS (every verdict), then e-unknown corrected to a catalogued munition and b-civilian reviewed."""
    ids = submit_all(client, keys, EVENTS)
    fixed = make_event("e-unknown", **{"occurred_at": "2024-06-03T00:00:00+02:00"})  # now like a-compliant
    answer = client.post(f"/v1/events/{ids['e-unknown']}/corrections", json=fixed, headers=keys.reporter)
    assert answer.status_code == 201
    ids["e-unknown"] = answer.get_json()["id"]
    assert client.post(f"/v1/events/{ids['b-civilian']}/reviews", json={
        "status": "confirmed_violation", "comment": "checked"}, headers=keys.auditor).status_code == 201
    return ids


def report(client, keys, query=WHOLE):
    answer = client.get(f"/v1/reports/compliance?{query}", headers=keys.auditor)
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()


def test_figures_match_hand_counts(stored, client, keys):
    doc = report(client, keys)
    # a compliant, e compliant after its correction, b violation, c and f needs_review, d out_of_scope
    assert doc["counts"]["by_verdict"] == {"compliant": 2, "violation": 1, "needs_review": 2, "out_of_scope": 1}
    assert doc["counts"]["by_rule"] == {"CIV-TARGET": 1, "CATEGORY-REVIEW": 1, "RANGE-EXCEEDED": 1,
                                        "LOCATION-UNRESOLVED": 1, "COUNTRY-MISMATCH": 1}
    assert doc["counts"]["by_severity"] == {"critical": 1, "high": 0, "review": 2, "none": 3}
    assert doc["counts"]["by_family"] == {"GMLRS": 6}  # XYZ-1 was corrected away
    assert doc["counts"]["by_reporter"] == {"ops-a": 5, "ops-b": 1}
    assert doc["counts"]["by_category"] == {"force_concentration": 3, "residential": 1, "dual_use": 1,
                                            "military_logistics": 1}
    assert doc["counts"]["by_review_status"] == {"open": 5, "acknowledged": 0, "confirmed_violation": 1,
                                                 "dismissed": 0, "escalated": 0}
    assert doc["totals"] == {"events": 6, "flagged": 3, "corrected_events": 1, "overruled_verdicts": 0,
                             "needs_review_share": round(2 / 6, 6)}
    assert [v["event_id"] for v in doc["violations"]] == [stored["b-civilian"]]
    violation = doc["violations"][0]
    assert violation["review_status"] == "confirmed_violation" and violation["target"] == {"lat": 49.99, "lon": 36.23}
    assert {k: v for k, v in violation["latest_review"].items() if k != "recorded_at"} == {
        "status": "confirmed_violation", "reviewer": "auditor-1", "comment": "checked"}
    assert doc["overruled_verdicts"] == []  # the reviewer agreed with the rules
    assert violation["findings"][0]["rule_id"] == "CIV-TARGET" and violation["findings"][0]["severity"] == "critical"
    # newest occurred_at first; the reviewed violation is no longer open
    assert [r["source_event_id"] for r in doc["open_reviews"]] == ["f-sea", "c-dual-use"]
    assert all(r["age_days"] >= 0 for r in doc["open_reviews"])
    assert [p["event_id"] for p in doc["flagged_points"]] == [stored[s] for s in ("f-sea", "b-civilian", "c-dual-use")]
    assert {p["id"] for p in doc["policy_versions"]} >= {"us-2022-06-01-no-cross-border", "us-2024-06-19-border-wide"}


def test_weekly_buckets_cover_iso_weeks_across_a_year_boundary(stored, client, keys):
    doc = report(client, keys, "from=2024-12-25&to=2025-01-08")
    assert [w["week"] for w in doc["weekly"]] == ["2024-W52", "2025-W01", "2025-W02"]
    assert all(set(w["by_verdict"]) == {"compliant", "violation", "needs_review", "out_of_scope"}
               for w in doc["weekly"])
    june = report(client, keys, "from=2024-06-01&to=2024-07-02")
    assert june["weekly"][0]["week"] == "2024-W22"
    by_week = {w["week"]: w["by_verdict"] for w in june["weekly"]}
    assert by_week["2024-W22"]["compliant"] == 2  # a and e, both on Sunday 2 June (UTC)
    assert by_week["2024-W23"]["compliant"] == 0
    assert by_week["2024-W25"]["violation"] == 1  # b: 20 June
    assert by_week["2024-W27"]["needs_review"] == 1  # f: 1 July


@pytest.mark.parametrize("query, events", [
    ("from=2024-06-02T03:14:00Z&to=2024-06-02T22:00:00Z", 1),  # a at the inclusive start; e at `to`: excluded
    ("from=2024-06-02T05:14:00%2B02:00&to=2024-06-03T00:00:00%2B02:00", 1),  # the same instants with an offset
    ("from=2024-06-02T03:14:00.000001Z&to=2024-06-02T22:00:00.000001Z", 1),  # a just out, e just in
    ("from=2024-07-01&to=2024-07-02", 1),  # f at 00:00 UTC of the date
    ("from=2024-06-01&to=2024-07-01", 3),  # a, e, b; f at the exclusive end
])
def test_period_edges(stored, client, keys, query, events):
    assert report(client, keys, query)["totals"]["events"] == events


def test_scheduled_periods():
    at = datetime(2025, 1, 1, 12, tzinfo=timezone.utc)  # a Wednesday in ISO week 2025-W01
    week = periods.last_complete_week(at)
    assert (week.start, week.end, week.label) == (datetime(2024, 12, 23, tzinfo=timezone.utc),
                                                  datetime(2024, 12, 30, tzinfo=timezone.utc), "2024-W52")
    month = periods.last_complete_month(at)
    assert (month.start, month.end, month.label) == (datetime(2024, 12, 1, tzinfo=timezone.utc),
                                                     datetime(2025, 1, 1, tzinfo=timezone.utc), "2024-12")
    monday = periods.last_complete_week(datetime(2024, 12, 30, tzinfo=timezone.utc))
    assert monday.label == "2024-W52"  # the week that starts at `at` is not complete yet
    assert periods.week_label(datetime(2021, 1, 3, tzinfo=timezone.utc)) == "2020-W53"


def test_what_is_pending_is_integrated_before_it_is_counted(stored, app, client, keys):
    """A report counts exactly what its checkpoint covers: what the sequencer has not integrated yet is
    integrated first, in the report's own transaction, so the figures and a replay of the ledger agree."""
    assert report(client, keys)["totals"]["events"] == 6
    client.post("/v1/events", json=make_event("g-late", occurred_at="2024-06-05T00:00:00Z"), headers=keys.reporter)
    with app.app_context(), app.extensions["db_sessions"]() as session:
        before = latest_checkpoint(session).tree_size
    period = Period(periods.parse_bound("2022-01-01"), periods.parse_bound("2025-01-01"))
    with sequencer.integrated_snapshot(app.extensions["db_sessions"], app.extensions["ledger_signer"]) as (
            session, checkpoint):
        document = compute_report(session, period, checkpoint)
        # Every entry it sees is covered: the late report, its evaluation, the first report's access entry.
        assert checkpoint.tree_size == session.scalar(select(func.count()).select_from(LedgerEntry)) == before + 3
        assert document["totals"]["events"] == 7
        assert recompute_from_ledger(session, period, checkpoint.tree_size) == document
        assert recompute_from_ledger(session, period, before)["totals"]["events"] == 6


@pytest.mark.parametrize("query, field", [
    ("from=2024-02-01&to=2024-01-01", "to"), ("from=2024-01-01&to=2024-01-01", "to"), ("to=2024-01-01", "from"),
    ("from=2024-13-01&to=2025-01-01", "from"), ("from=2024-01-01T00:00:00&to=2025-01-01", "from"),
    ("from=2024-01-01&to=2025-01-01&format=pdf", "format"), ("from=2024-01-01&to=2025-01-01&x=1", "x"),
    ("from=0001-01-01&to=9999-01-01", "to"), ("from=2014-01-01&to=2024-01-03", "to"),
])
def test_bad_parameters_are_400_naming_them(stored, client, keys, query, field):
    answer = client.get(f"/v1/reports/compliance?{query}", headers=keys.auditor)
    assert answer.status_code == 400 and field in answer.get_json()["errors"], answer.get_json()


def test_reporters_may_not_read_or_store_reports(client, keys):
    assert client.get(f"/v1/reports/compliance?{WHOLE}", headers=keys.reporter).status_code == 403
    assert client.get("/v1/reports", headers=keys.reporter).status_code == 403
    assert client.post("/v1/reports", json={"from": "2024-01-01", "to": "2025-01-01"},
                       headers=keys.reporter).status_code == 403
    assert client.get(f"/v1/reports/compliance?{WHOLE}").status_code == 401


def _access_entries(app) -> list[dict]:
    with app.extensions["db_sessions"]() as session:
        rows = session.scalars(select(LedgerEntry.canonical).where(LedgerEntry.entry_type == "access"))
        return [json.loads(row) for row in rows]


def test_store_list_read_and_access_entries(stored, app, client, keys):
    created = client.post("/v1/reports", json={"from": "2022-01-01", "to": "2025-01-01"}, headers=keys.admin)
    assert created.status_code == 201, created.get_json()
    body = created.get_json()
    assert body["report"] == report(client, keys) | {"checkpoint": body["report"]["checkpoint"],
                                                      "open_reviews": body["report"]["open_reviews"]}
    listed = client.get("/v1/reports", headers=keys.auditor).get_json()["items"]
    assert [(r["id"], r["kind"], r["sha256"]) for r in listed] == [(body["id"], "on_demand", body["sha256"])]
    again = client.get(f"/v1/reports/{body['id']}", headers=keys.auditor)
    assert again.get_json() == body["report"]
    assert client.get("/v1/reports/999", headers=keys.auditor).status_code == 404
    with app.extensions["db_sessions"]() as session:
        entry = json.loads(session.get(LedgerEntry, body["ledger"]["entry_id"]).canonical)
    assert entry["entry_type"] == "report_generated" and entry["sha256"] == body["sha256"]
    assert entry["report_id"] == body["id"] and entry["tree_size"] == body["report"]["checkpoint"]["tree_size"]
    reads = [(a["path"], a["result_count"]) for a in _access_entries(app)]
    assert ("/v1/reports/compliance", 6) in reads and ("/v1/reports", 1) in reads
    assert (f"/v1/reports/{body['id']}", 1) in reads


def test_csv_and_html_forms_render_the_same_figures(stored, client, keys):
    figures = client.get(f"/v1/reports/compliance?{WHOLE}&format=json", headers=keys.auditor).get_json()
    table = client.get(f"/v1/reports/compliance?{WHOLE}&format=csv", headers=keys.auditor)
    assert table.status_code == 200 and table.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(table.get_data(as_text=True))))
    by_verdict = {key: int(value) for name, key, value in (r for r in rows if len(r) == 3)
                  if name == "by_verdict"}
    assert by_verdict == {k: v for k, v in figures["counts"]["by_verdict"].items()}
    page = client.get(f"/v1/reports/compliance?{WHOLE}&format=html", headers=keys.auditor)
    assert page.status_code == 200 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    for element in ("chart-weekly", "chart-rules", "chart-families", "map-flagged"):
        assert f'id="{element}"' in html
    assert html.count('class="marker ') == len(figures["flagged_points"])


def generate(runner, kind, at):
    result = runner.invoke(args=["reports", "generate", "--period", kind, "--at", at])
    assert result.exit_code == 0, result.output
    return result.output


def test_generation_is_idempotent_per_period(stored, app, runner):
    first = generate(runner, "weekly", "2024-06-26")
    assert first.startswith("Stored weekly report") and "2024-W25" in first
    # Saturday 23:00 at -05:00 is Sunday 04:00 UTC: still week 26, so week 25 again
    assert generate(runner, "weekly", "2024-06-29T23:00:00-05:00").startswith("Up to date")
    monthly = generate(runner, "monthly", "2024-07-15")
    assert "2024-06" in monthly and monthly.startswith("Stored")
    assert generate(runner, "monthly", "2024-07-31").startswith("Up to date")
    with app.extensions["db_sessions"]() as session:
        kinds = session.execute(select(Report.kind, func.count()).group_by(Report.kind)).all()
        stored_month = session.scalars(select(Report).where(Report.kind == "monthly")).one().document
    assert dict(kinds) == {"weekly": 1, "monthly": 1}
    assert stored_month["totals"]["events"] == 3 and stored_month["period"]["label"] == "2024-06"


def verify(runner, what):
    return runner.invoke(args=["reports", "verify", str(what)])


def test_generate_writes_the_three_forms_and_the_json_verifies(stored, app, runner, tmp_path):
    out = tmp_path / "reports"
    result = runner.invoke(args=["reports", "generate", "--period", "monthly", "--at", "2024-07-15", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == ["2024-06.csv", "2024-06.html", "2024-06.json"]
    with app.extensions["db_sessions"]() as session:
        stored_report = session.scalars(select(Report).where(Report.kind == "monthly")).one()
    written = (out / "2024-06.json").read_bytes()
    assert hashlib.sha256(written).hexdigest() == stored_report.sha256  # the exact bytes the ledger names
    assert f"reports verify {stored_report.id}" in (out / "2024-06.html").read_text()
    checked = verify(runner, out / "2024-06.json")
    assert checked.exit_code == 0 and "reports verify: OK" in checked.output, checked.output


def test_verify_succeeds_then_fails_after_a_change(stored, app, client, keys, runner, tmp_path):
    body = client.post("/v1/reports", json={"from": "2022-01-01", "to": "2025-01-01"}, headers=keys.auditor).get_json()
    client.get("/v1/ledger/checkpoint", headers=keys.auditor)
    ok = verify(runner, body["id"])
    assert ok.exit_code == 0 and "reports verify: OK" in ok.output, ok.output
    saved = tmp_path / "report.json"
    saved.write_text(json.dumps(body["report"]))
    assert verify(runner, saved).exit_code == 0
    changed = json.loads(saved.read_text())
    changed["counts"]["by_verdict"]["violation"] = 0
    saved.write_text(json.dumps(changed))
    failed = verify(runner, saved)
    assert failed.exit_code == 1 and "report.counts.by_verdict.violation" in failed.output, failed.output

    document = dict(body["report"], totals=dict(body["report"]["totals"], events=99))
    cast = "CAST(:doc AS jsonb)" if app.extensions["db_engine"].dialect.name == "postgresql" else ":doc"
    tamper(app, "compliance_reports", f"UPDATE compliance_reports SET document = {cast} WHERE id = :id",
           {"doc": json.dumps(document), "id": body["id"]})
    failed = verify(runner, body["id"])
    assert failed.exit_code == 1, failed.output
    assert "report.totals.events" in failed.output and "hashes to" in failed.output


def test_appending_only(stored, app, client, keys):
    body = client.post("/v1/reports", json={"from": "2022-01-01", "to": "2025-01-01"}, headers=keys.auditor).get_json()
    engine = app.extensions["db_engine"]
    with pytest.raises(Exception, match="append-only"):
        with engine.begin() as conn:
            conn.execute(text("UPDATE compliance_reports SET sha256 = 'x' WHERE id = :id"), {"id": body["id"]})


def test_report_covers_a_checkpoint_signed_by_the_service(stored, app, client, keys):
    doc = report(client, keys)
    with app.extensions["db_sessions"]() as session:
        assert doc["checkpoint"]["tree_size"] == latest_checkpoint(session).tree_size
    assert sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"]) >= 1


# One event per rule of contract §6, each built to trigger exactly that rule, plus a compliant and an
# out-of-scope one. The base event (tests/helpers.py) is a GMLRS strike on a force concentration in
# Russia 12.4 km deep inside the Kharkiv box, launched 70 km away (max 84), linked, country RU, on
# 2024-06-02 (the Kharkiv version): compliant. Expected figures below are counted by hand.
ONE_RULE_EACH = {
    "compliant": ({}, None),
    "civ": ({"target.category": "residential"}, "CIV-TARGET"),
    "atacms": ({"weapon.munition": "M57-ATACMS"}, "XB-MUNITION"),  # ATACMS denied in kharkiv-sector
    "outside": ({"target.lat": 50.45, "target.lon": 38.5, "launch": {"lat": 50.2, "lon": 38.5}},
                "XB-OUTSIDE-ZONE"),  # east of the box (lon > 38.3), 28 km from launch
    "before-kharkiv": ({"occurred_at": "2024-05-29T12:00:00Z"}, "XB-NOT-AUTHORIZED"),  # 2022 version: no zones
    "no-policy": ({"occurred_at": "2022-05-01T00:00:00Z"}, "POLICY-NONE"),  # XB/MIL/LINK rules suppressed
    "belarus": ({"target.lat": 52.0, "target.lon": 29.0, "target.country": "BY",
                 "launch": {"lat": 51.9, "lon": 29.0}}, "TARGET-THIRD-COUNTRY"),
    "purpose": ({"target.category": "air_defense_site"}, "XB-PURPOSE"),  # military, not a permitted purpose
    "not-linked": ({"target.linked_to_invasion": False}, "MIL-NOT-LINKED"),
    "unstated": ({"target.linked_to_invasion": None}, "LINK-UNSTATED"),
    "far": ({"launch": {"lat": 48.5, "lon": 35.0}}, "RANGE-EXCEEDED"),  # ~250 km for an 84 km rocket
    "no-launch": ({"launch": None}, "LAUNCH-MISSING"),
    "mismatch": ({"target.country": "UA"}, "COUNTRY-MISMATCH"),
    "sea": ({"target.lat": 43.5, "target.lon": 33.0, "target.country": None, "target.category": "military_logistics",
             "launch": {"lat": 44.0, "lon": 33.2}}, "LOCATION-UNRESOLVED"),
    "dual-use": ({"target.category": "dual_use"}, "CATEGORY-REVIEW"),
    "unknown-munition": ({"weapon.munition": "XYZ-1"}, "MUNITION-UNKNOWN"),
    "not-us": ({"weapon.us_provided": False}, None),
}


def test_every_verdict_and_rule_counted_by_hand(client, keys):
    for source_id, (changes, rule) in ONE_RULE_EACH.items():
        created = client.post("/v1/events", json=make_event(source_id, **changes), headers=keys.reporter)
        assert created.status_code == 201
        assert [f["rule_id"] for f in created.get_json()["findings"]] == ([rule] if rule else []), source_id
    figures = client.get("/v1/reports/compliance?from=2022-01-01&to=2024-07-01", headers=keys.auditor).get_json()
    counts = figures["counts"]
    assert counts["by_rule"] == {rule: 1 for _, rule in ONE_RULE_EACH.values() if rule}
    assert counts["by_verdict"] == {"compliant": 1, "out_of_scope": 1,
                                    # CIV, XB-MUNITION, XB-OUTSIDE-ZONE, XB-NOT-AUTHORIZED, THIRD-COUNTRY, PURPOSE, NOT-LINKED
                                    "violation": 7,
                                    # POLICY-NONE, UNSTATED, RANGE, LAUNCH, MISMATCH, UNRESOLVED, CATEGORY, MUNITION
                                    "needs_review": 8}
    assert counts["by_severity"] == {"critical": 5, "high": 2, "review": 8, "none": 2}
    assert counts["by_family"] == {"GMLRS": 15, "ATACMS": 1, "unknown": 1}
    assert counts["by_reporter"] == {"ops-a": 17}
    assert figures["totals"] == {"events": 17, "flagged": 15, "corrected_events": 0, "overruled_verdicts": 0,
                                 "needs_review_share": round(8 / 17, 6)}
    assert len(figures["violations"]) == 7 and len(figures["open_reviews"]) == 15
