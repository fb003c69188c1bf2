"""The compliance report as one self-contained, printable HTML page (inline CSS and SVG, no URLs).

Stored documents are never rewritten, so a page is also made for reports stored before a section
existed: a missing section is simply not shown.
"""
from service.audit.reviews import REVIEW_STATUSES
from service.reports import svg
from service.reports.document import SEVERITY_KEYS
from service.reports.html import e, review_text, table
from service.reports.render_revision import banner, changes_section, revision_line

CSS = """
body{font:14px/1.45 system-ui,sans-serif;color:#1d1d1d;max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #ccc}
h3{font-size:15px;margin:12px 0 4px}.sub{color:#555;margin:0 0 16px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:24px}
.grid4{display:grid;grid-template-columns:repeat(auto-fill,minmax(200px,1fr));gap:20px}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0}
dt{color:#555}dd{margin:0;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f1f1f1}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,.hash{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
svg{max-width:100%;height:auto;font-size:12px}#chart-weekly{width:100%}svg .value{font-weight:600}svg .empty{fill:#777}
figure{margin:0;break-inside:avoid}figcaption{color:#555;font-size:12px}p.note{color:#555;font-size:12px}
.banner{border:3px solid #b71c1c;background:#fdecea;color:#7f1010;padding:10px 14px;margin:0 0 16px;font-size:15px}
#violations-table td:nth-child(2),#open-reviews-table td:nth-child(2),#overruled-table td:nth-child(2)
{font-family:ui-monospace,monospace;font-size:11px}
@media screen{#violations-table td:nth-child(-n+5),#open-reviews-table td{white-space:nowrap}}
@page{size:A4;margin:14mm}
@media print{body{padding:0;max-width:none;font-size:11px}h2{break-after:avoid}
 section.big{break-before:page}thead{display:table-header-group}tr{break-inside:avoid}th{background:none}
 .banner{border-width:2px}}
"""
VIOLATION_HEADERS = ["#", "event id", "source id", "occurred", "reporter", "findings", "review status", "latest review"]


def _counts(title: str, key: str, counts: dict, table_id: str, order: tuple = ()) -> str:
    """Largest first, or in `order` (severity and review status have a meaning of their own)."""
    if order:
        rows = [(k, counts[k]) for k in order if k in counts] + [(k, n) for k, n in counts.items() if k not in order]
    else:
        rows = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return f"<div><h3>{e(title)}</h3>{table([key, 'events'], [list(r) for r in rows], {1}, table_id)}</div>"


def _summary(report: dict) -> str:
    totals, cp = report["totals"], report["checkpoint"]
    items = [("Events", "sum-events", totals["events"]), ("Flagged (violation or needs review)", "sum-flagged",
             totals["flagged"]), ("Needs-review share", "sum-needs-review-share",
             f"{totals['needs_review_share'] * 100:.1f} %"), ("Corrected events", "sum-corrected",
             totals["corrected_events"]), ("Violations", "sum-violations", len(report["violations"])),
             ("Open reviews", "sum-open-reviews", len(report["open_reviews"]))]
    if "overruled_verdicts" in totals:
        items.append(("Verdicts the reviewers overruled", "sum-overruled", totals["overruled_verdicts"]))
    dl = "".join(f"<dt>{e(label)}</dt><dd id=\"{i}\">{e(v)}</dd>" for label, i, v in items)
    policies = table(["policy version", "in force", "SHA-256"], [
        [p["id"], f"{p['effective_from']} → {p.get('effective_to') or 'open'}", p["sha256"]]
        for p in report["policy_versions"]], table_id="policy-versions")
    report_id = report.get("id", "ID")
    return (f'<section id="summary"><h2>Summary</h2><div class="grid"><dl class="summary">{dl}</dl><div>'
            f'<h3>Ledger checkpoint</h3><dl class="summary"><dt>Tree size</dt><dd id="checkpoint-tree-size">'
            f'{e(cp["tree_size"])}</dd><dt>Root hash</dt><dd id="checkpoint-root-hash" class="hash">'
            f'{e(cp["root_hash"])}</dd></dl><p class="note">Every figure here was computed from the first '
            f'{e(cp["tree_size"])} ledger entries; anyone can recompute and check them with '
            f'<code>flask --app service reports verify {e(report_id)}</code>.</p></div></div>'
            f"<h3>Policy versions in force</h3>{policies}</section>")


def _violations(report: dict, numbers: dict) -> str:
    rows = [[numbers.get(v["event_id"], ""), v["event_id"], v["source_event_id"], v["occurred_at"], v["reporter"],
             "; ".join(f"{f['rule_id']} ({f['severity']}): {f['message']}" for f in v["findings"]),
             v["review_status"], review_text(v.get("latest_review"))] for v in report["violations"]]
    return ('<section class="big" id="violations"><h2>Violations</h2><p class="note"># is the point\'s number on '
            'the map.</p>' + table(VIOLATION_HEADERS, rows, {0}, "violations-table") + "</section>")


def _overruled(report: dict, numbers: dict) -> str:
    if "overruled_verdicts" not in report:
        return ""
    rows = [[numbers.get(o["event_id"], ""), o["event_id"], o["source_event_id"], o["occurred_at"], o["reporter"],
             o["verdict"].replace("_", " "), o["review_status"], o["review"]["reviewer"], o["review"]["recorded_at"],
             o["review"]["comment"]] for o in report["overruled_verdicts"]]
    return ('<section id="overruled"><h2>Reviewer judgements that differ from the machine verdict</h2>'
            '<p class="note">A violation confirmed where the rules found none, or a violation the rules found '
            'dismissed. The counts above keep the machine verdicts; this is where the reviewers disagree.</p>'
            + table(["#", "event id", "source id", "occurred", "reporter", "machine verdict", "reviewer judgement",
                     "reviewer", "reviewed", "comment"], rows, {0}, "overruled-table") + "</section>")


def _open_reviews(report: dict, numbers: dict) -> str:
    rows = [[numbers.get(r["event_id"], ""), r["event_id"], r["source_event_id"], r["verdict"].replace("_", " "),
             r["occurred_at"], r["received_at"], f"{r['age_days']:.1f}"] for r in report["open_reviews"]]
    return ('<section class="big" id="open-reviews"><h2>Open reviews</h2>' + table(
        ["#", "event id", "source id", "verdict", "occurred", "received", "age (days)"], rows, {0, 6},
        "open-reviews-table") + "</section>")


def _charts(report: dict) -> str:
    counts = report["counts"]
    partial = any(svg.partial_weeks(report["weekly"], report["period"]))
    note = " * A partial week: only its days inside the period are counted (lighter bars)." if partial else ""
    return (f'<section id="charts"><h2>Charts</h2><figure>{svg.weekly_chart(report["weekly"], report["period"])}'
            f"<figcaption>Events per ISO week, stacked by verdict.{note}</figcaption></figure>"
            f'<div class="grid"><figure><h3>Findings by rule</h3>'
            f'{svg.bar_chart(counts["by_rule"], "chart-rules", "Events per rule id (horizontal bars)")}</figure>'
            f'<figure><h3>Events by munition family</h3>'
            f'{svg.bar_chart(counts["by_family"], "chart-families", "Events per munition family (bars)", "#6b4c9a")}'
            f"</figure></div></section>")


def _count_tables(counts: dict) -> str:
    review = (_counts("By review status", "review status", counts["by_review_status"], "by-review-status",
                      REVIEW_STATUSES) if "by_review_status" in counts else "")
    return (f'<section id="counts"><h2>Counts</h2><div class="grid4">'
            f'{_counts("By verdict", "verdict", counts["by_verdict"], "by-verdict")}'
            f'{_counts("By severity", "severity", counts["by_severity"], "by-severity", SEVERITY_KEYS)}'
            f'{review}'
            f'{_counts("By reporter", "reporter", counts["by_reporter"], "by-reporter")}'
            f'{_counts("By target category", "category", counts["by_category"], "by-category")}</div></section>')


def render_html(report: dict) -> str:
    period = report["period"]
    label = period.get("label") or f"{period['from'][:10]} to {period['to'][:10]}"
    revision = report.get("revision")
    title = f"Compliance report {label}" + (f", revision {revision['number']}" if revision else "")
    numbers = svg.point_numbers(report["flagged_points"])
    chart_map = (f'<section id="map"><h2>Flagged targets</h2><figure>{svg.flagged_map(report["flagged_points"])}'
                 f"<figcaption>Target points of flagged events over the Natural Earth outlines the rules use "
                 f"(equirectangular projection); each point's number is the # of the tables below."
                 f"</figcaption></figure></section>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>'
            f"{banner(report)}<header><h1>{e(title)}</h1><p class=\"sub\">Events that occurred from "
            f"{e(period['from'])} (inclusive) to {e(period['to'])} (exclusive), UTC.</p>{revision_line(report)}"
            f"</header>{_summary(report)}{changes_section(report)}{_charts(report)}{_count_tables(report['counts'])}"
            f"{chart_map}{_violations(report, numbers)}{_overruled(report, numbers)}{_open_reviews(report, numbers)}"
            f"</body></html>\n")
