"""The compliance report's tables as one CSV document of five sections separated by a blank line.

Layout (RFC 4180, CRLF line ends; `csv.reader` yields an empty row `[]` between sections):

1. Figures, header `table,key,value`, one row per figure:
   `period,from|to|label,...`; `checkpoint,tree_size|root_hash,...`; `totals,<name>,<n>`;
   `policy_version,<id>,<sha256>`;
   `by_verdict|by_rule|by_severity|by_family|by_reporter|by_category|by_review_status,<key>,<n>`;
   `weekly,<ISO week>/<verdict>,<n>`; for a scheduled report `revision,kind|number|supersedes_report_id|
   supersedes_revision|supersedes_sha256|supersedes_tree_size,...` and, from revision 2 on,
   `changes_before|changes_after,events|corrected_events|by_verdict/<verdict>|by_review_status/<status>,<n>`.
2. Violations, header `event_id,source_event_id,occurred_at,reporter,policy_version,review_status,lat,lon,
   rule_ids,severities,messages,latest_review_status,latest_reviewer,latest_review_recorded_at,
   latest_review_comment`: one row per violation; rule ids and severities joined with `;`, messages
   with ` | `; the latest review's cells are empty before any review.
3. Open reviews, header `event_id,source_event_id,verdict,occurred_at,received_at,age_days`.
4. Overruled verdicts (reviewer judgement differs from the machine verdict), header
   `event_id,source_event_id,reporter,occurred_at,verdict,review_status,reviewer,recorded_at,comment`.
5. Changes since the superseded revision, header `change,event_id,source_event_id,reporter,from,to,
   reviewer,recorded_at,comment`; `change` is event_added, event_removed, version_corrected (from/to:
   versions), verdict_changed, review_recorded (to: the status) or policy_version_added (to: its id).

Sections 4 and 5 are empty, header alone, for reports stored before they existed and for revision 1.
Every text cell that a spreadsheet would run as a formula gets a leading `'` (service.spreadsheet):
reporters choose source ids and reporter names, and messages echo what they sent.
"""
import csv
import io

from service.core.spreadsheet import cell

COUNT_TABLES = ("by_verdict", "by_rule", "by_severity", "by_family", "by_reporter", "by_category",
                "by_review_status")
VIOLATION_HEADER = ["event_id", "source_event_id", "occurred_at", "reporter", "policy_version", "review_status",
                    "lat", "lon", "rule_ids", "severities", "messages", "latest_review_status", "latest_reviewer",
                    "latest_review_recorded_at", "latest_review_comment"]
OPEN_REVIEW_HEADER = ["event_id", "source_event_id", "verdict", "occurred_at", "received_at", "age_days"]
OVERRULED_HEADER = ["event_id", "source_event_id", "reporter", "occurred_at", "verdict", "review_status", "reviewer",
                    "recorded_at", "comment"]
CHANGE_HEADER = ["change", "event_id", "source_event_id", "reporter", "from", "to", "reviewer", "recorded_at",
                 "comment"]
REVIEW_CELLS = ("status", "reviewer", "recorded_at", "comment")


def _figures(report: dict) -> list[list]:
    period, checkpoint = report["period"], report["checkpoint"]
    rows = [["period", key, period.get(key)] for key in ("from", "to", "label")]
    rows += [["checkpoint", key, checkpoint[key]] for key in ("tree_size", "root_hash")]
    rows += [["totals", key, value] for key, value in report["totals"].items()]
    rows += [["policy_version", p["id"], p["sha256"]] for p in report["policy_versions"]]
    rows += [[table, key, n] for table in COUNT_TABLES for key, n in report["counts"].get(table, {}).items()]
    rows += [["weekly", f"{w['week']}/{verdict}", n] for w in report["weekly"] for verdict, n in w["by_verdict"].items()]
    return [["table", "key", "value"], *rows, *_revision_figures(report.get("revision"))]


def _revision_figures(revision: dict | None) -> list[list]:
    if revision is None:
        return []
    supersedes = revision["supersedes"] or {}
    rows = [["revision", "kind", revision["kind"]], ["revision", "number", revision["number"]]]
    rows += [["revision", f"supersedes_{key}", supersedes.get(key)]
             for key in ("report_id", "revision", "sha256", "tree_size")]
    for when, counts in (revision["changes"] or {}).get("counts", {}).items():
        rows += [[f"changes_{when}", name, counts[name]] for name in ("events", "corrected_events")]
        rows += [[f"changes_{when}", f"{table}/{key}", n] for table in ("by_verdict", "by_review_status")
                 for key, n in counts[table].items()]
    return rows


def _violations(report: dict) -> list[list]:
    rows = [[v["event_id"], v["source_event_id"], v["occurred_at"], v["reporter"], v["policy_version"],
             v["review_status"], v["target"]["lat"], v["target"]["lon"],
             ";".join(f["rule_id"] for f in v["findings"]), ";".join(f["severity"] for f in v["findings"]),
             " | ".join(f["message"] for f in v["findings"]),
             *((v.get("latest_review") or {}).get(key) for key in REVIEW_CELLS)] for v in report["violations"]]
    return [VIOLATION_HEADER, *rows]


def _open_reviews(report: dict) -> list[list]:
    return [OPEN_REVIEW_HEADER, *([r[key] for key in OPEN_REVIEW_HEADER] for r in report["open_reviews"])]


def _overruled(report: dict) -> list[list]:
    rows = [[o["event_id"], o["source_event_id"], o["reporter"], o["occurred_at"], o["verdict"], o["review_status"],
             o["review"]["reviewer"], o["review"]["recorded_at"], o["review"]["comment"]]
            for o in report.get("overruled_verdicts", [])]
    return [OVERRULED_HEADER, *rows]


def _changes(report: dict) -> list[list]:
    changes = (report.get("revision") or {}).get("changes") or {}
    rows = [[kind, i["event_id"], i["source_event_id"], i["reporter"], "", i["verdict"], "", "", ""]
            for kind, name in (("event_added", "events_added"), ("event_removed", "events_removed"))
            for i in changes.get(name, [])]
    rows += [["version_corrected", i["to_event_id"], i["source_event_id"], i["reporter"], i["from_version"],
              i["to_version"], "", "", ""] for i in changes.get("versions_corrected", [])]
    rows += [["verdict_changed", i["event_id"], i["source_event_id"], i["reporter"], i["from"], i["to"], "", "", ""]
             for i in changes.get("verdicts_changed", [])]
    rows += [["review_recorded", i["event_id"], i["source_event_id"], i["reporter"], "", i["status"], i["reviewer"],
              i["recorded_at"], i["comment"]] for i in changes.get("reviews_recorded", [])]
    rows += [["policy_version_added", "", "", "", "", p, "", "", ""] for p in changes.get("policy_versions_added", [])]
    return [CHANGE_HEADER, *rows]


def render_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    sections = (_figures(report), _violations(report), _open_reviews(report), _overruled(report), _changes(report))
    for i, section in enumerate(sections):
        if i:
            writer.writerow([])
        writer.writerows([cell(c) for c in row] for row in section)
    return out.getvalue()
