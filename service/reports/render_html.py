"""The compliance report as one self-contained, printable HTML page (inline CSS and SVG, no URLs)."""
from html import escape

from service.reports import svg

CSS = """
body{font:14px/1.45 system-ui,sans-serif;color:#1d1d1d;max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:24px;margin:0 0 4px}h2{font-size:18px;margin:28px 0 8px;border-bottom:2px solid #ccc}
h3{font-size:15px;margin:12px 0 4px}.sub{color:#555;margin:0 0 16px}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:24px}.grid4{display:grid;grid-template-columns:repeat(4,1fr);gap:20px}
dl.summary{display:grid;grid-template-columns:max-content auto;gap:2px 16px;margin:0}dt{color:#555}dd{margin:0;font-weight:600}
table{border-collapse:collapse;width:100%;font-size:13px}th,td{border-bottom:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}
th{background:#f1f1f1}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
code,.hash{font-family:ui-monospace,monospace;font-size:12px;word-break:break-all}
svg{max-width:100%;height:auto;font-size:12px}#chart-weekly{width:100%}svg .value{font-weight:600}svg .empty{fill:#777}
figure{margin:0;break-inside:avoid}figcaption{color:#555;font-size:12px}p.note{color:#555;font-size:12px}
#violations-table td:first-child,#open-reviews-table td:first-child{font-family:ui-monospace,monospace;font-size:11px}
@media screen{#violations-table td:nth-child(-n+4),#open-reviews-table td{white-space:nowrap}}
@page{size:A4;margin:14mm}
@media print{body{padding:0;max-width:none;font-size:11px}h2{break-after:avoid}
 section.big{break-before:page}thead{display:table-header-group}tr{break-inside:avoid}th{background:none}}
"""


def _e(value) -> str:
    return escape(str(value), quote=True)


def _table(headers: list[str], rows: list[list], numeric: set[int] = frozenset(), table_id: str = "") -> str:
    """Cells are escaped here, once, whatever their origin."""
    cls = [' class="num"' if i in numeric else "" for i in range(len(headers))]
    head = "".join(f"<th{cls[i]}>{_e(h)}</th>" for i, h in enumerate(headers))
    body = "".join("<tr>" + "".join(f"<td{cls[i]}>{_e(c)}</td>" for i, c in enumerate(row)) + "</tr>"
                   for row in rows) or f'<tr><td colspan="{len(headers)}">None</td></tr>'
    attr = f' id="{table_id}"' if table_id else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _counts(title: str, key: str, counts: dict, table_id: str) -> str:
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    return f"<div><h3>{_e(title)}</h3>{_table([key, 'events'], [list(r) for r in rows], {1}, table_id)}</div>"


def _summary(report: dict) -> str:
    totals, cp = report["totals"], report["checkpoint"]
    items = [("Events", "sum-events", totals["events"]), ("Flagged (violation or needs review)", "sum-flagged",
             totals["flagged"]), ("Needs-review share", "sum-needs-review-share",
             f"{totals['needs_review_share'] * 100:.1f} %"), ("Corrected events", "sum-corrected",
             totals["corrected_events"]), ("Violations", "sum-violations", len(report["violations"])),
             ("Open reviews", "sum-open-reviews", len(report["open_reviews"]))]
    dl = "".join(f"<dt>{_e(label)}</dt><dd id=\"{i}\">{_e(v)}</dd>" for label, i, v in items)
    policies = _table(["policy version", "in force", "SHA-256"], [
        [p["id"], f"{p['effective_from']} → {p.get('effective_to') or 'open'}", p["sha256"]]
        for p in report["policy_versions"]], table_id="policy-versions")
    report_id = report.get("id", "ID")
    return (f'<section id="summary"><h2>Summary</h2><div class="grid"><dl class="summary">{dl}</dl><div>'
            f'<h3>Ledger checkpoint</h3><dl class="summary"><dt>Tree size</dt><dd id="checkpoint-tree-size">'
            f'{_e(cp["tree_size"])}</dd><dt>Root hash</dt><dd id="checkpoint-root-hash" class="hash">'
            f'{_e(cp["root_hash"])}</dd></dl><p class="note">Every figure here was computed from the first '
            f'{_e(cp["tree_size"])} ledger entries; anyone can recompute and check them with '
            f'<code>flask --app service reports verify {_e(report_id)}</code>.</p></div></div>'
            f"<h3>Policy versions in force</h3>{policies}</section>")


def _violations(report: dict) -> str:
    rows = [[v["event_id"], v["source_event_id"], v["occurred_at"], v["reporter"],
             "; ".join(f"{f['rule_id']} ({f['severity']}): {f['message']}" for f in v["findings"]),
             v["review_status"]] for v in report["violations"]]
    return ('<section class="big" id="violations"><h2>Violations</h2>' + _table(
        ["event id", "source id", "occurred", "reporter", "findings", "review status"], rows,
        table_id="violations-table") + "</section>")


def _open_reviews(report: dict) -> str:
    rows = [[r["event_id"], r["source_event_id"], r["verdict"].replace("_", " "), r["occurred_at"],
             r["received_at"], f"{r['age_days']:.1f}"] for r in report["open_reviews"]]
    return ('<section class="big" id="open-reviews"><h2>Open reviews</h2>' + _table(
        ["event id", "source id", "verdict", "occurred", "received", "age (days)"], rows, {5},
        "open-reviews-table") + "</section>")


def render_html(report: dict) -> str:
    period, counts = report["period"], report["counts"]
    label = period.get("label") or f"{period['from'][:10]} to {period['to'][:10]}"
    title = f"Compliance report {label}"
    charts = (f'<section id="charts"><h2>Charts</h2><figure>{svg.weekly_chart(report["weekly"])}'
              f"<figcaption>Events per ISO week, stacked by verdict.</figcaption></figure>"
              f'<div class="grid"><figure><h3>Findings by rule</h3>'
              f'{svg.bar_chart(counts["by_rule"], "chart-rules", "Events per rule id (horizontal bars)")}</figure>'
              f'<figure><h3>Events by munition family</h3>'
              f'{svg.bar_chart(counts["by_family"], "chart-families", "Events per munition family (bars)", "#6b4c9a")}'
              f"</figure></div></section>")
    tables = (f'<section id="counts"><h2>Counts</h2><div class="grid4">'
              f'{_counts("By verdict", "verdict", counts["by_verdict"], "by-verdict")}'
              f'{_counts("By severity", "severity", counts["by_severity"], "by-severity")}'
              f'{_counts("By reporter", "reporter", counts["by_reporter"], "by-reporter")}'
              f'{_counts("By target category", "category", counts["by_category"], "by-category")}</div></section>')
    chart_map = (f'<section id="map"><h2>Flagged targets</h2><figure>{svg.flagged_map(report["flagged_points"])}'
                 f"<figcaption>Target points of flagged events over the Natural Earth outlines the rules use "
                 f"(equirectangular projection).</figcaption></figure></section>")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head><body>'
            f"<header><h1>{_e(title)}</h1><p class=\"sub\">Events that occurred from {_e(period['from'])} "
            f"(inclusive) to {_e(period['to'])} (exclusive), UTC.</p></header>"
            f"{_summary(report)}{charts}{tables}{chart_map}{_violations(report)}{_open_reviews(report)}"
            f"</body></html>\n")
