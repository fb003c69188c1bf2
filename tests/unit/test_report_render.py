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
    assert page.text["violations-table"].count("confirmed_violation") == 2
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
    figures, violations, open_reviews = sections(render_csv(report))
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


def test_csv_defuses_formulas_but_keeps_numbers():
    report = hostile_report()
    report["violations"][0]["target"]["lon"] = -3.5
    figures, violations, _ = sections(render_csv(report))
    row = dict(zip(violations[0], violations[1]))
    assert row["source_event_id"] == "'" + FORMULA and row["reporter"] == "'@evil"
    assert row["messages"] == HOSTILE  # harmless in a spreadsheet: the CSV keeps it verbatim
    assert row["lon"] == "-3.5"
    assert ["by_reporter", "'-2+3", "1"] in figures
