"""The HTML and CSV renderings of a compliance report, on a hand-written sample and on an empty period."""
import copy
import csv
import io
import json
import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from service.reports.render_csv import render_csv
from service.reports.render_html import render_html

SAMPLE = json.loads((Path(__file__).parents[1] / "fixtures" / "sample_report.json").read_text())
HOSTILE = "<script>alert(1)</script>"
FORMULA = '=HYPERLINK("x","click")'


def empty_report() -> dict:
    """An empty week, in the shape reports were stored in before revisions and judgements: stored
    documents never change, so every later section is optional to the renderers."""
    zero = {"compliant": 0, "needs_review": 0, "violation": 0, "out_of_scope": 0}
    return {"report_type": "compliance",
            "period": {"from": "2024-06-03T00:00:00Z", "to": "2024-06-10T00:00:00Z", "label": "2024-W23"},
            "checkpoint": {"tree_size": 0, "root_hash": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="},
            "policy_versions": [], "counts": {"by_verdict": dict(zero), "by_rule": {}, "by_severity": {},
                                              "by_family": {}, "by_reporter": {}, "by_category": {}},
            "totals": {"events": 0, "flagged": 0, "corrected_events": 0, "needs_review_share": 0.0},
            "weekly": [{"week": "2024-W23", "from": "2024-06-03T00:00:00Z", "by_verdict": dict(zero)}],
            "violations": [], "open_reviews": [], "flagged_points": []}


def hostile_report() -> dict:
    """Reporter-chosen text everywhere it can reach the page."""
    report = copy.deepcopy(SAMPLE)
    violation = report["violations"][0]
    violation["findings"][0]["message"] = HOSTILE
    violation["source_event_id"] = FORMULA
    violation["reporter"] = "@evil"
    report["counts"]["by_reporter"]["-2+3"] = 1
    report["open_reviews"][0]["source_event_id"] = HOSTILE
    report["flagged_points"][0]["event_id"] = '"><script>x</script>'
    return report


class Page(HTMLParser):
    """Element ids, the text of each id'd element, map markers and every tag seen."""

    def __init__(self):
        super().__init__()
        self.ids, self.text, self.markers, self.tags, self._open = {}, {}, [], [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append(tag)
        if "id" in attrs:
            self.ids[attrs["id"]] = tag
            self._open.append(attrs["id"])
            self.text[attrs["id"]] = ""
        if tag == "circle" and "marker" in attrs.get("class", "").split():
            self.markers.append(attrs)

    def handle_data(self, data):
        for element_id in self._open:
            self.text[element_id] += data

    def handle_endtag(self, tag):
        if self._open and self.ids.get(self._open[-1]) == tag:
            self._open.pop()


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


@pytest.mark.parametrize("report", [SAMPLE, empty_report()], ids=["sample", "empty"])
def test_page_is_self_contained_with_charts_and_map(report):
    html = render_html(report)
    page = parse(html)
    for svg_id in ("chart-weekly", "chart-rules", "chart-families", "map-flagged"):
        assert page.ids.get(svg_id) == "svg", svg_id
    assert html.count('role="img"') == 4 and "<title>Compliance report" in html
    # Nothing may load from outside: no scheme, no protocol-relative reference, no src/href, no CSS url().
    assert not re.search(r"(?i)\b(?:https?|ftp|file|data):", html)
    assert not re.search(r"""["'(=\s]//""", html)
    assert not re.search(r"(?i)\b(?:src|href|xlink:href)\s*=|url\(|@import|<(?:script|link|img|iframe)\b", html)
    assert len(page.markers) == len(report["flagged_points"])


def test_summary_matches_the_figures():
    page = parse(render_html(SAMPLE))
    totals, text = SAMPLE["totals"], page.text
    assert text["sum-events"] == "140" == str(totals["events"])
    assert text["sum-flagged"] == "20" == str(totals["flagged"])
    assert text["sum-corrected"] == str(totals["corrected_events"])
    assert text["sum-needs-review-share"] == "10.0 %"
    assert text["sum-violations"] == str(len(SAMPLE["violations"]))
    assert text["sum-open-reviews"] == str(len(SAMPLE["open_reviews"]))
    assert text["checkpoint-tree-size"] == "1893"
    assert text["checkpoint-root-hash"] == SAMPLE["checkpoint"]["root_hash"]
    for policy in SAMPLE["policy_versions"]:
        assert policy["id"] in text["policy-versions"] and policy["sha256"] in text["policy-versions"]
    assert "flask --app service reports verify" in text["summary"]
    assert page.text["violations-table"].count("confirmed_violation by") == 2  # the status, then the latest review
    assert "24.6" in page.text["open-reviews-table"]  # ages in days, one decimal


def test_markers_are_colored_by_verdict():
    markers = parse(render_html(SAMPLE)).markers
    by_event = {m["data-event-id"]: m for m in markers}
    for point in SAMPLE["flagged_points"]:
        assert point["verdict"] in by_event[point["event_id"]]["class"].split()
    assert {m["fill"] for m in markers if "violation" in m["class"]} == {"#c62828"}


def test_reporter_text_is_escaped():
    html = render_html(hostile_report())
    assert HOSTILE not in html and "<script" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    page = parse(html)
    assert "script" not in page.tags
    assert len(page.markers) == len(SAMPLE["flagged_points"])  # the hostile id did not break out of its attribute


def sections(text: str) -> list[list[list[str]]]:
    out = [[]]
    for row in csv.reader(io.StringIO(text, newline="")):
        if row:
            out[-1].append(row)
        else:
            out.append([])
    return out


@pytest.mark.parametrize("report", [SAMPLE, empty_report()], ids=["sample", "empty"])
def test_csv_round_trips_counts_and_rows(report):
    figures, violations, open_reviews, overruled, changes = sections(render_csv(report))
    assert figures[0] == ["table", "key", "value"]
    parsed = {}
    for table, key, value in figures[1:]:
        parsed.setdefault(table, {})[key] = value
    for table, counts in report["counts"].items():
        assert parsed.get(table, {}) == {k: str(n) for k, n in counts.items()}, table
    assert parsed["totals"] == {k: str(v) for k, v in report["totals"].items()}
    assert parsed["checkpoint"]["tree_size"] == str(report["checkpoint"]["tree_size"])
    assert sum(int(v) for k, v in parsed.get("weekly", {}).items()) == report["totals"]["events"]
    assert violations[0][:2] == ["event_id", "source_event_id"]
    rows = [dict(zip(violations[0], row)) for row in violations[1:]]
    assert [r["event_id"] for r in rows] == [v["event_id"] for v in report["violations"]]
    for row, violation in zip(rows, report["violations"]):
        assert row["rule_ids"].split(";") == [f["rule_id"] for f in violation["findings"]]
        assert row["messages"].split(" | ") == [f["message"] for f in violation["findings"]]
        assert (row["reporter"], row["review_status"]) == (violation["reporter"], violation["review_status"])
    assert [r[0] for r in open_reviews[1:]] == [r["event_id"] for r in report["open_reviews"]]
    assert [r[0] for r in overruled[1:]] == [o["event_id"] for o in report.get("overruled_verdicts", [])]
    changed = (report.get("revision") or {}).get("changes") or {}
    assert len(changes) - 1 == sum(len(v) for k, v in changed.items() if k != "counts")


def test_csv_defuses_formulas_but_keeps_numbers():
    report = hostile_report()
    report["violations"][0]["target"]["lon"] = -3.5
    figures, violations, *_ = sections(render_csv(report))
    row = dict(zip(violations[0], violations[1]))
    assert row["source_event_id"] == "'" + FORMULA and row["reporter"] == "'@evil"
    assert row["messages"] == HOSTILE  # harmless in a spreadsheet: the CSV keeps it verbatim
    assert row["lon"] == "-3.5"
    assert ["by_reporter", "'-2+3", "1"] in figures


def test_csv_carries_the_latest_reviews_the_judgements_and_the_changes():
    figures, violations, _, overruled, changes = sections(render_csv(SAMPLE))
    rows = [dict(zip(violations[0], row)) for row in violations[1:]]
    assert (rows[1]["latest_review_status"], rows[1]["latest_reviewer"]) == ("confirmed_violation", "auditor-lind")
    assert rows[0]["latest_review_status"] == ""  # not reviewed yet
    assert ["revision", "supersedes_report_id", "41"] in figures and ["changes_before", "events", "139"] in figures
    assert ["by_review_status", "confirmed_violation", "4"] in figures
    assert [r[1] for r in overruled[1:]] == ["BRG92-240608-11", "TDK-09"]
    kinds = [r[0] for r in changes[1:]]
    assert kinds == ["event_added"] * 2 + ["event_removed", "version_corrected", "verdict_changed"] + [
        "review_recorded"] * 4


def test_points_are_numbered_and_the_tables_show_the_numbers():
    page = parse(render_html(SAMPLE))
    numbers = {m["data-event-id"]: int(m["data-number"]) for m in page.markers}
    assert numbers == {p["event_id"]: i for i, p in enumerate(SAMPLE["flagged_points"], 1)}
    html = render_html(SAMPLE)
    assert html.count('class="marker-number"') == len(SAMPLE["flagged_points"])
    table = html[html.index('id="violations-table"'):]
    table = table[:table.index("</table>")]
    first_cells = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)</td>", table)
    assert [(int(n), event_id) for n, event_id in first_cells] == [
        (numbers[v["event_id"]], v["event_id"]) for v in SAMPLE["violations"]]


def test_land_sea_and_the_two_countries_have_four_fills():
    html = render_html(SAMPLE)
    fills = dict(re.findall(r'<path class="country[^"]*" id="country-([^"]+)" d="[^"]*" fill="([^"]+)"', html))
    assert {"UA", "RU", "BY"} <= set(fills)  # Belarus is in the map's window
    sea = re.search(r'<rect class="sea"[^>]* fill="([^"]+)"', html).group(1)
    assert len({fills["UA"], fills["RU"], fills["BY"], sea}) == 4
    assert all(fill == fills["BY"] for code, fill in fills.items() if code not in ("UA", "RU"))


def test_weekly_chart_has_ticks_and_marks_partial_weeks():
    page = parse(render_html(SAMPLE))
    html = render_html(SAMPLE)
    ticks = [int(t) for t in re.findall(r'class="tick y-tick"[^>]*>(\d+)<', html)]
    assert ticks == [0, 10, 20, 30, 40]  # the busiest week has 38 events
    weeks = re.findall(r'class="(tick week[^"]*)"[^>]*>([^<]+)<', html)
    # 2024-W22 starts on 27 May, before the period: only 1 and 2 June are counted
    assert weeks[0] == ("tick week partial", "2024-W22 *") and all(c == "tick week" for c, _ in weeks[1:])
    assert "partial week" in page.text["charts"]


@pytest.mark.parametrize("peak, ticks", [(0, [0, 1]), (1, [0, 1]), (3, [0, 1, 2, 3]), (7, [0, 2, 4, 6, 8]),
                                         (38, [0, 10, 20, 30, 40]), (110137, [0, 50000, 100000, 150000])])
def test_axis_ticks_are_round(peak, ticks):
    from service.reports.svg import axis_ticks

    assert axis_ticks(peak) == ticks


def test_severity_table_is_in_severity_order():
    report = copy.deepcopy(SAMPLE)
    report["counts"]["by_severity"] = {"critical": 1, "high": 5, "review": 30, "none": 100}
    html = render_html(report)
    table = html[html.index('id="by-severity"'):]
    assert re.findall(r"<tr><td>([a-z]+)</td>", table[:table.index("</table>")]) == ["critical", "high", "review",
                                                                                    "none"]


def test_revision_parts_and_the_superseded_banner():
    latest = parse(render_html({**SAMPLE, "id": 57, "superseded_by": None, "latest": {"id": 57, "revision": 2}}))
    assert "superseded" not in latest.ids
    assert "superseding report 41" in latest.text["revision-line"]
    assert "Changes since revision 1" in latest.text["changes"]
    assert "imagery shows a clinic" in latest.text["overruled-table"]
    assert "confirmed_violation by auditor-lind" in latest.text["violations-table"]
    html = render_html({**SAMPLE, "id": 57, "superseded_by": 63, "latest": {"id": 70, "revision": 4}})
    page = parse(html)
    assert html.index('id="superseded"') < html.index("<header>")
    assert "Report 63 supersedes it" in page.text["superseded"] and "report 70" in page.text["superseded"]
    old = parse(render_html(empty_report()))
    assert not {"superseded", "changes", "overruled", "revision-line"} & set(old.ids)
