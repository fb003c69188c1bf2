"""Revisions of a scheduled period's report, and the reviewers' judgements in every report."""
import json

import pytest
from sqlalchemy import func, select

from service.ledger.tables import LedgerEntry
from service.reports.tables import Report

from ..helpers import make_event, submit_all

JUNE = "from=2024-06-01&to=2024-07-01"
# What the first monthly report of June 2024 sees (the base event is a compliant strike, 2 June).
FIRST = {
    "a-moved": ("ops-a", {}),  # compliant; to be corrected into July
    "b-civilian": ("ops-a", {"target.category": "residential", "occurred_at": "2024-06-20T12:00:00Z"}),  # violation
    "e-unknown": ("ops-a", {"weapon.munition": "XYZ-1", "occurred_at": "2024-06-05T00:00:00Z"}),  # needs_review
}
# Reported late, after that report was stored.
LATE = {
    "g-late": ("ops-b", {"occurred_at": "2024-06-10T00:00:00Z"}),  # compliant
    "h-late": ("ops-a", {"target.category": "dual_use", "occurred_at": "2024-06-12T00:00:00Z"}),  # needs_review
    "j-july": ("ops-a", {"occurred_at": "2024-07-03T00:00:00Z"}),  # another month: no change to June
}


def generate(runner, *args):
    result = runner.invoke(args=["reports", *args])
    assert result.exit_code == 0, result.output
    return result.output


def june(runner):
    return generate(runner, "generate", "--period", "monthly", "--at", "2024-07-15")


def review(client, keys, event_id, status, comment):
    answer = client.post(f"/v1/events/{event_id}/reviews", json={"status": status, "comment": comment},
                         headers=keys.auditor)
    assert answer.status_code == 201, answer.get_json()


def correct(client, keys, event_id, source_id, **changes):
    answer = client.post(f"/v1/events/{event_id}/corrections", json=make_event(source_id, **changes),
                         headers=keys.reporter)
    assert answer.status_code == 201, answer.get_json()
    return answer.get_json()["id"]


def stored_reports(app) -> list[Report]:
    with app.extensions["db_sessions"]() as session:
        return session.scalars(select(Report).order_by(Report.id)).all()


def report_entries(app) -> int:
    with app.extensions["db_sessions"]() as session:
        return session.scalar(select(func.count()).where(LedgerEntry.entry_type == "report_generated"))


def figures(document: dict) -> dict:
    """What an on-demand report and a stored revision share: all but the checkpoint they were computed
    at, the period's label (on demand: none), the revision section, and the open reviews' ages
    (counted to the checkpoint's signing time)."""
    shown = {k: v for k, v in document.items() if k not in ("checkpoint", "revision")}
    shown["period"] = {k: v for k, v in document["period"].items() if k != "label"}
    shown["open_reviews"] = [{k: v for k, v in r.items() if k != "age_days"} for r in document["open_reviews"]]
    return shown


def on_demand(client, keys) -> dict:
    answer = client.get(f"/v1/reports/compliance?{JUNE}", headers=keys.auditor)
    assert answer.status_code == 200
    return answer.get_json()


def keys_of(items) -> list[tuple[str, str]]:
    return [(item["reporter"], item["source_event_id"]) for item in items]


@pytest.fixture
def revised(app, client, keys, runner):
    """June stored once; then late events, two corrections and three reviews; then generated again."""
    ids = submit_all(client, keys, FIRST)
    first = june(runner)
    assert first.startswith("Stored monthly report") and "revision 1" in first
    ids |= submit_all(client, keys, LATE)
    ids["e-unknown"] = correct(client, keys, ids["e-unknown"], "e-unknown", occurred_at="2024-06-05T00:00:00Z")
    ids["a-moved"] = correct(client, keys, ids["a-moved"], "a-moved", occurred_at="2024-07-02T00:00:00Z")
    review(client, keys, ids["g-late"], "confirmed_violation", "imagery shows a clinic")  # the rules said compliant
    review(client, keys, ids["h-late"], "acknowledged", "seen")
    review(client, keys, ids["b-civilian"], "dismissed", "the building was a command post")  # the rules: violation
    second = june(runner)
    return ids, first, second


def test_late_events_corrections_and_reviews_make_revision_2(revised, app, client, keys, runner):
    ids, _, output = revised
    first, second = stored_reports(app)
    assert output.startswith(f"Stored monthly report {second.id} for 2024-06") and "revision 2" in output
    assert f"superseding report {first.id}" in output
    assert (second.revision, second.supersedes, first.revision, first.supersedes) == (2, first.id, 1, None)
    revision = second.document["revision"]
    assert revision["kind"] == "monthly" and revision["number"] == 2
    assert revision["supersedes"] == {"report_id": first.id, "revision": 1, "sha256": first.sha256,
                                      "tree_size": first.tree_size}
    changes = revision["changes"]
    assert keys_of(changes["events_added"]) == [("ops-a", "h-late"), ("ops-b", "g-late")]  # not j-july
    assert [(c["source_event_id"], c["verdict"], c["version"]) for c in changes["events_added"]] == [
        ("h-late", "needs_review", 1), ("g-late", "compliant", 1)]
    assert keys_of(changes["events_removed"]) == [("ops-a", "a-moved")]  # corrected into July
    assert [(c["source_event_id"], c["from_version"], c["to_version"], c["to_event_id"])
            for c in changes["versions_corrected"]] == [("e-unknown", 1, 2, ids["e-unknown"])]
    assert [(c["source_event_id"], c["from"], c["to"]) for c in changes["verdicts_changed"]] == [
        ("e-unknown", "needs_review", "compliant")]
    assert [(r["source_event_id"], r["status"], r["reviewer"], r["comment"]) for r in changes["reviews_recorded"]] == [
        ("g-late", "confirmed_violation", "auditor-1", "imagery shows a clinic"), ("h-late", "acknowledged",
         "auditor-1", "seen"), ("b-civilian", "dismissed", "auditor-1", "the building was a command post")]
    assert changes["policy_versions_added"] == []

    # before: revision 1's counts; after: revision 2's, which a fresh on-demand report repeats
    before, after = changes["counts"]["before"], changes["counts"]["after"]
    for counts, document in ((before, first.document), (after, second.document)):
        assert counts["events"] == document["totals"]["events"]
        assert counts["corrected_events"] == document["totals"]["corrected_events"]
        assert counts["by_verdict"] == document["counts"]["by_verdict"]
    assert before["by_verdict"] == {"compliant": 1, "needs_review": 1, "violation": 1, "out_of_scope": 0}
    assert after["by_verdict"] == {"compliant": 2, "needs_review": 1, "violation": 1, "out_of_scope": 0}
    assert before["by_review_status"] == {"open": 3, "acknowledged": 0, "confirmed_violation": 0, "dismissed": 0,
                                          "escalated": 0} == first.document["counts"]["by_review_status"]
    assert after["by_review_status"] == {"open": 1, "acknowledged": 1, "confirmed_violation": 1, "dismissed": 1,
                                         "escalated": 0} == second.document["counts"]["by_review_status"]
    assert figures(on_demand(client, keys)) == figures(second.document)

    for report in (first, second):
        checked = runner.invoke(args=["reports", "verify", str(report.id)])
        assert checked.exit_code == 0 and "reports verify: OK" in checked.output, checked.output
    assert f"superseded by report {second.id}" in runner.invoke(args=["reports", "verify", str(first.id)]).output
    with app.extensions["db_sessions"]() as session:
        entry = json.loads(session.get(LedgerEntry, second.ledger_entry_id).canonical)
    assert (entry["revision"], entry["supersedes"]) == (2, {"report_id": first.id, "sha256": first.sha256})


def test_nothing_new_stores_nothing(revised, app, client, keys, runner):
    entries = report_entries(app)
    client.post("/v1/events", json=make_event("k-may", occurred_at="2024-05-20T00:00:00Z"), headers=keys.reporter)
    on_demand(client, keys)  # an auditor's read appends an access entry: not data of the period
    third = june(runner)
    latest = stored_reports(app)[-1]
    assert third.startswith(f"Up to date: monthly report {latest.id} for 2024-06") and "revision 2" in third
    assert len(stored_reports(app)) == 2 and report_entries(app) == entries
    assert figures(on_demand(client, keys)) == figures(latest.document)


def test_a_changed_revision_fails_verification(revised, app, runner, tmp_path):
    second = stored_reports(app)[-1]
    saved = tmp_path / "revision-2.json"
    assert runner.invoke(args=["reports", "verify", str(second.id)]).exit_code == 0
    document = json.loads(json.dumps(second.document))
    document["revision"]["changes"]["reviews_recorded"].pop()
    saved.write_text(json.dumps(document))
    failed = runner.invoke(args=["reports", "verify", str(saved)])
    assert failed.exit_code == 1 and "report.revision.changes.reviews_recorded" in failed.output, failed.output


def test_revisions_are_listed_linked_and_the_superseded_page_says_so(revised, client, keys):
    listed = client.get("/v1/reports?period=2024-06", headers=keys.auditor)
    assert listed.status_code == 200
    items = listed.get_json()["items"]
    second, first = items  # newest first
    assert (first["revision"], first["superseded_by"], second["revision"], second["superseded_by"]) == (
        1, second["id"], 2, None)
    assert second["supersedes"] == first["id"]
    assert first["latest"] == second["latest"] == {"id": second["id"], "revision": 2}
    assert client.get("/v1/reports?period=2024-W23", headers=keys.auditor).get_json()["items"] == []
    bad = client.get("/v1/reports?period=June", headers=keys.auditor)
    assert bad.status_code == 400 and "period" in bad.get_json()["errors"]

    old = client.get(f"/v1/reports/{first['id']}", headers=keys.auditor)
    assert f'</v1/reports/{second["id"]}>; rel="successor-version"' in old.headers["Link"]
    assert 'rel="version-history"' in old.headers["Link"]
    assert "revision" in old.get_json()  # the document as stored
    new = client.get(f"/v1/reports/{second['id']}", headers=keys.auditor)
    assert "successor-version" not in new.headers["Link"]
    assert f'</v1/reports/{first["id"]}>; rel="predecessor-version"' in new.headers["Link"]

    page = client.get(f"/v1/reports/{first['id']}?format=html", headers=keys.auditor).get_data(as_text=True)
    banner = page.index('id="superseded"')
    assert banner < page.index('id="summary"') and f"report {second['id']}" in page[banner:banner + 400]
    latest_page = client.get(f"/v1/reports/{second['id']}?format=html", headers=keys.auditor).get_data(as_text=True)
    assert 'id="superseded"' not in latest_page and 'id="changes"' in latest_page
    assert "imagery shows a clinic" in latest_page[latest_page.index('id="overruled"'):]


def test_revise_finds_every_stored_period_with_new_data(revised, app, client, keys, runner, tmp_path):
    generate(runner, "generate", "--period", "monthly", "--at", "2024-08-15")  # July, with a-moved and j-july
    assert generate(runner, "revise", "--period", "monthly").startswith("Checked 2 stored monthly period(s): 0 new")
    client.post("/v1/events", json=make_event("m-june", occurred_at="2024-06-30T23:59:00Z"), headers=keys.reporter)
    out = tmp_path / "reports"
    output = generate(runner, "revise", "--period", "monthly", "--out", str(out))
    assert "Checked 2 stored monthly period(s): 1 new revision(s)" in output and "for 2024-06" in output
    latest = stored_reports(app)[-1]
    assert (latest.label, latest.revision) == ("2024-06", 3)
    assert keys_of(latest.document["revision"]["changes"]["events_added"]) == [("ops-a", "m-june")]
    assert {p.name for p in out.iterdir()} == {f"2024-06{r}.{ext}" for r in ("", "-r2", "-r3")
                                               for ext in ("csv", "html", "json")}
    assert 'id="superseded"' in (out / "2024-06-r2.html").read_text()
    assert 'id="superseded"' not in (out / "2024-06-r3.html").read_text()


def test_a_reviewers_judgement_against_the_verdict_is_in_every_report(client, keys):
    ids = submit_all(client, keys, {"g-late": LATE["g-late"], "b-civilian": FIRST["b-civilian"]})
    review(client, keys, ids["g-late"], "confirmed_violation", "imagery shows a clinic")
    doc = on_demand(client, keys)
    assert doc["counts"]["by_verdict"]["compliant"] == 1  # the machine's verdict stands in its counts
    assert doc["counts"]["by_review_status"]["confirmed_violation"] == 1
    assert doc["totals"]["overruled_verdicts"] == 1
    [overruled] = doc["overruled_verdicts"]
    assert overruled["event_id"] == ids["g-late"] and overruled["verdict"] == "compliant"
    assert overruled["review_status"] == "confirmed_violation"
    assert {k: overruled["review"][k] for k in ("status", "reviewer", "comment")} == {
        "status": "confirmed_violation", "reviewer": "auditor-1", "comment": "imagery shows a clinic"}
    # open_reviews keeps its meaning: flagged events nobody has reviewed (b-civilian), not reviewed ones
    assert [r["event_id"] for r in doc["open_reviews"]] == [ids["b-civilian"]]
    review(client, keys, ids["b-civilian"], "escalated", "legal")
    doc = on_demand(client, keys)
    assert doc["open_reviews"] == [] and doc["violations"][0]["latest_review"]["status"] == "escalated"
    assert doc["totals"]["overruled_verdicts"] == 1  # escalating takes no side
