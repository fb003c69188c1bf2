"""The HTML report's revision parts: the superseded banner, the revision line and the changes section."""
from service.audit.reviews import REVIEW_STATUSES
from service.core.rules.engine import VERDICTS
from service.reports.html import e, table


def banner(report: dict) -> str:
    """At the very top of a superseded revision: which report supersedes it and which is the latest.
    `superseded_by` and `latest` come from the stored rows when the page is made, not the document."""
    successor, latest, revision = report.get("superseded_by"), report.get("latest"), report.get("revision")
    if successor is None or revision is None:
        return ""
    label = report["period"].get("label")
    newest = (f"Revision {latest['revision']} (report {latest['id']}) is the latest"
              if latest["id"] != successor else "That revision is the latest")
    return (f'<div id="superseded" class="banner" role="note"><strong>Superseded.</strong> This is revision '
            f'{e(revision["number"])} of the {e(revision["kind"])} report for {e(label)}, kept exactly as it was '
            f'stored. Report {e(successor)} supersedes it with events that arrived, were corrected or were '
            f'reviewed later. {e(newest)}.</div>')


def revision_line(report: dict) -> str:
    revision = report.get("revision")
    if revision is None:
        return ""
    supersedes = revision["supersedes"]
    if supersedes is None:
        return f'<p class="sub" id="revision-line">Revision 1 of the {e(revision["kind"])} report.</p>'
    return (f'<p class="sub" id="revision-line">Revision {e(revision["number"])} of the {e(revision["kind"])} '
            f'report, superseding report {e(supersedes["report_id"])} (revision {e(supersedes["revision"])}, '
            f'computed at tree size {e(supersedes["tree_size"])}, SHA-256 <code>{e(supersedes["sha256"])}</code>).'
            f'</p>')


def _counts_table(before: dict, after: dict) -> str:
    rows = [("events", "events"), ("corrected events", "corrected_events")]
    lines = [[name, before[key], after[key], after[key] - before[key]] for name, key in rows]
    lines += [[f"verdict {v.replace('_', ' ')}", before["by_verdict"][v], after["by_verdict"][v],
               after["by_verdict"][v] - before["by_verdict"][v]] for v in VERDICTS]
    lines += [[f"review status {s.replace('_', ' ')}", before["by_review_status"][s], after["by_review_status"][s],
               after["by_review_status"][s] - before["by_review_status"][s]] for s in REVIEW_STATUSES]
    return table(["", "before", "after", "change"], [[*row[:3], f"{row[3]:+d}" if row[3] else "0"] for row in lines],
                 {1, 2, 3}, "changes-counts")


def changes_section(report: dict) -> str:
    """What changed since the superseded revision, with the counts before and after."""
    revision = report.get("revision")
    if revision is None or revision["changes"] is None:
        return ""
    c, number = revision["changes"], revision["supersedes"]["revision"]
    event = ["event id", "source id", "reporter", "version", "verdict", "review status"]

    def events(items):
        return [[i["event_id"], i["source_event_id"], i["reporter"], i["version"], i["verdict"].replace("_", " "),
                 i["review_status"]] for i in items]

    parts = [
        ("Events added", "changes-added", event, events(c["events_added"])),
        ("Events no longer in the period (corrected to another time)", "changes-removed", event,
         events(c["events_removed"])),
        ("Versions corrected", "changes-corrected", ["source id", "reporter", "from", "to", "now event id"],
         [[i["source_event_id"], i["reporter"], f"version {i['from_version']}", f"version {i['to_version']}",
           i["to_event_id"]] for i in c["versions_corrected"]]),
        ("Verdicts changed", "changes-verdicts", ["event id", "source id", "reporter", "from", "to"],
         [[i["event_id"], i["source_event_id"], i["reporter"], i["from"].replace("_", " "),
           i["to"].replace("_", " ")] for i in c["verdicts_changed"]]),
        ("Reviews recorded", "changes-reviews", ["event id", "source id", "status", "reviewer", "recorded", "comment"],
         [[i["event_id"], i["source_event_id"], i["status"], i["reviewer"], i["recorded_at"], i["comment"]]
          for i in c["reviews_recorded"]]),
        ("Policy versions now in force for the period", "changes-policies", ["policy version"],
         [[p] for p in c["policy_versions_added"]]),
    ]
    lists = "".join(f"<h3>{e(title)} ({len(rows)})</h3>{table(headers, rows, table_id=table_id)}"
                    for title, table_id, headers, rows in parts)
    return (f'<section id="changes"><h2>Changes since revision {e(number)}</h2>'
            f'{_counts_table(c["counts"]["before"], c["counts"]["after"])}{lists}</section>')
