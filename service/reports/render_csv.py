"""The compliance report's tables as one CSV document of three sections separated by a blank line.

Layout (RFC 4180, CRLF line ends; `csv.reader` yields an empty row `[]` between sections):

1. Figures, header `table,key,value`, one row per figure:
   `period,from|to|label,...`; `checkpoint,tree_size|root_hash,...`; `totals,<name>,<n>`;
   `policy_version,<id>,<sha256>`; `by_verdict|by_rule|by_severity|by_family|by_reporter|by_category,<key>,<n>`;
   `weekly,<ISO week>/<verdict>,<n>`.
2. Violations, header `event_id,source_event_id,occurred_at,reporter,policy_version,review_status,lat,lon,
   rule_ids,severities,messages`: one row per violation; rule ids and severities joined with `;`,
   messages with ` | `.
3. Open reviews, header `event_id,source_event_id,verdict,occurred_at,received_at,age_days`.

Every text cell that a spreadsheet would run as a formula gets a leading `'` (service.spreadsheet):
reporters choose source ids and reporter names, and messages echo what they sent.
"""
import csv
import io

from service.core.spreadsheet import cell

COUNT_TABLES = ("by_verdict", "by_rule", "by_severity", "by_family", "by_reporter", "by_category")
VIOLATION_HEADER = ["event_id", "source_event_id", "occurred_at", "reporter", "policy_version", "review_status",
                    "lat", "lon", "rule_ids", "severities", "messages"]
OPEN_REVIEW_HEADER = ["event_id", "source_event_id", "verdict", "occurred_at", "received_at", "age_days"]




def _figures(report: dict) -> list[list]:
    period, checkpoint = report["period"], report["checkpoint"]
    rows = [["period", key, period.get(key)] for key in ("from", "to", "label")]
    rows += [["checkpoint", key, checkpoint[key]] for key in ("tree_size", "root_hash")]
    rows += [["totals", key, value] for key, value in report["totals"].items()]
    rows += [["policy_version", p["id"], p["sha256"]] for p in report["policy_versions"]]
    rows += [[table, key, n] for table in COUNT_TABLES for key, n in report["counts"][table].items()]
    rows += [["weekly", f"{w['week']}/{verdict}", n] for w in report["weekly"] for verdict, n in w["by_verdict"].items()]
    return [["table", "key", "value"], *rows]


def _violations(report: dict) -> list[list]:
    rows = [[v["event_id"], v["source_event_id"], v["occurred_at"], v["reporter"], v["policy_version"],
             v["review_status"], v["target"]["lat"], v["target"]["lon"],
             ";".join(f["rule_id"] for f in v["findings"]), ";".join(f["severity"] for f in v["findings"]),
             " | ".join(f["message"] for f in v["findings"])] for v in report["violations"]]
    return [VIOLATION_HEADER, *rows]


def _open_reviews(report: dict) -> list[list]:
    return [OPEN_REVIEW_HEADER, *([r[key] for key in OPEN_REVIEW_HEADER] for r in report["open_reviews"])]


def render_csv(report: dict) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for i, section in enumerate((_figures(report), _violations(report), _open_reviews(report))):
        if i:
            writer.writerow([])
        writer.writerows([cell(c) for c in row] for row in section)
    return out.getvalue()
