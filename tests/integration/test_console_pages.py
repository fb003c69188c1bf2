"""The console's pages: the API's filters and answers, the same ledger entries as the API's reads and
reviews, the service's security headers, reporters' text shown as text, and the rate limit."""
import re
from urllib.parse import urlencode

import pytest

from service import create_app
from service.ledger import sequencer
from service.web.security_headers import CONSOLE_POLICY, HTML_POLICY

from ..console_client import Console, ledger_bodies, raw_key
from ..helpers import make_event, submit_all

SCRIPT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
EVENTS = {  # source id -> (reporter, changes): violations, one needing review, one compliant
    "p-civ": ("ops-a", {"target.category": "residential", "occurred_at": "2024-06-03T10:00:00Z"}),
    "p-deep": ("ops-a", {"target.lat": 51.6, "target.lon": 38.6, "occurred_at": "2024-06-04T10:00:00Z"}),
    "p-dual": ("ops-b", {"target.category": "dual_use", "occurred_at": "2024-06-05T10:00:00+03:00"}),
    "p-ok": ("ops-b", {"occurred_at": "2024-06-06T10:00:00Z"}),
    "p-xss": ("ops-a", {"target.category": "medical", "notes": SCRIPT, "target.description": SCRIPT,
                        "evidence": [{"kind": "link", "uri": "javascript:alert(1)"}],
                        "occurred_at": "2024-06-07T10:00:00Z"}),
}


@pytest.fixture
def ids(client, keys):
    return submit_all(client, keys, EVENTS)


@pytest.fixture
def auditor(client, keys):
    console = Console(client)
    assert console.sign_in(raw_key(keys.auditor)).status_code == 303
    return console


def shown_ids(html: str) -> list[str]:
    return re.findall(r'<tr data-event-id="([^"]+)"', html)


def api_ids(client, keys, query: dict) -> list[str]:
    return [item["id"] for item in client.get(f"/v1/events?{urlencode(query)}", headers=keys.auditor).get_json()["items"]]


@pytest.mark.parametrize("query", [
    {"verdict": "violation", "review_status": "open"}, {"verdict": "needs_review"}, {"rule_id": "CIV-TARGET"},
    {"reporter": "ops-b"}, {"occurred_from": "2024-06-04T00:00:00Z", "occurred_to": "2024-06-06T00:00:00Z"},
    {"category": "medical", "severity": "critical"}, {"bbox": "38,51,39,52"}, {"verdict": ""},
])
def test_the_list_takes_the_apis_filters_and_shows_its_events(auditor, client, keys, ids, query):
    page = auditor.page(f"/console/events?{urlencode(query)}")
    expected = api_ids(client, keys, {k: v for k, v in query.items() if v})
    assert shown_ids(page.text) == expected and expected
    assert f'data-count="{len(expected)}"' in page.text
    for fmt in ("csv", "geojson", "ndjson"):
        assert f'id="export-{fmt}"' in page.text


def test_the_list_opens_on_open_violations(auditor, client, keys, ids):
    opened = auditor.page("/console/events", status=303)
    assert opened.headers["Location"] == "/console/events?verdict=violation&review_status=open"
    client.post(f"/v1/events/{ids['p-civ']}/reviews", json={"status": "confirmed_violation", "comment": "yes"},
                headers=keys.auditor)
    shown = shown_ids(auditor.page(opened.headers["Location"]).text)
    assert set(shown) == {ids["p-deep"], ids["p-xss"]}  # p-civ is reviewed now


def test_cursor_pages_walk_the_whole_list(auditor, client, keys, ids):
    seen, path = [], "/console/events?verdict=&limit=2"
    while path:
        page = auditor.page(path.replace("&amp;", "&"))
        seen += shown_ids(page.text)
        found = re.search(r'id="next-page" href="([^"]+)"', page.text)
        path = found.group(1) if found else None
    assert seen == api_ids(client, keys, {"limit": 500}) and len(seen) == len(EVENTS)


def test_a_bad_filter_is_named_like_the_api_names_it(auditor, client, keys, ids):
    page = auditor.page("/console/events?verdict=guilty&occurred_from=yesterday", status=400)
    api = client.get("/v1/events?verdict=guilty&occurred_from=yesterday", headers=keys.auditor).get_json()
    assert set(api["errors"]) == {"verdict", "occurred_from"}
    for name, messages in api["errors"].items():
        assert f'id="error-{name}"' in page.text and messages[0].split("'")[0][:20] in page.text
    assert "<code>colour</code>: Unknown field." in auditor.page("/console/events?colour=red", status=400).text


def test_exports_are_the_apis(auditor, client, keys, ids):
    for fmt in ("csv", "geojson", "ndjson"):
        console = auditor.page(f"/console/events/export?format={fmt}&verdict=violation")
        api = client.get(f"/v1/events/export?format={fmt}&verdict=violation", headers=keys.auditor)
        assert console.mimetype == api.mimetype and "attachment" in console.headers["Content-Disposition"]
        if fmt != "geojson":  # the same rows; GeoJSON differs in nothing but... nothing, checked below
            assert console.data == api.data
        else:
            assert console.get_json() == api.get_json()


def test_the_event_page_shows_evidence_versions_reviews_and_entries(auditor, client, keys, ids):
    corrected = make_event("p-deep", **{"target.lat": 51.0, "target.lon": 38.0, "occurred_at": "2024-06-04T10:00:00Z",
                                        "notes": "position corrected"})
    newer = client.post(f"/v1/events/{ids['p-deep']}/corrections", json=corrected, headers=keys.reporter).get_json()
    page = auditor.page(f"/console/events/{newer['id']}").text
    for finding in newer["findings"]:
        assert f'data-rule-id="{finding["rule_id"]}"' in page
    assert f"{newer['computed']['depth_km']:,.1f} km" in page
    assert "What changed from version 1" in page
    for path in ("target.lat", "target.lon", "notes"):
        assert f"<code>{path}</code>" in page
    assert '<p id="proof-status"' in page and 'data-verified="checking"' in page
    detail = client.get(f"/v1/events/{newer['id']}", headers=keys.auditor).get_json()
    for entry in detail["ledger_entries"]:
        assert f'<tr data-entry-id="{entry["entry_id"]}">' in page
    assert 'name="status"' in page and 'name="comment"' in page


def test_reporter_text_is_shown_as_text(auditor, ids):
    page = auditor.page(f"/console/events/{ids['p-xss']}").text
    assert "<script>window.__pwned" not in page and 'onerror="window' not in page
    assert "&lt;script&gt;window.__pwned = 1&lt;/script&gt;" in page
    assert 'href="javascript:' not in page and "javascript:alert(1)" in page  # shown, never a link
    assert re.search(r"<script(?![^>]*(type=\"application/json\"|src=\"/console/static/proof.js\"))", page) is None


def test_console_reads_write_the_access_entries_the_api_reads_write(app, auditor, client, keys, ids):
    def last_access() -> dict:
        return ledger_bodies(app, "access")[-1]

    def same(console_path: str, api_path: str, method: str = "get", **compare):
        auditor.page(console_path)
        console = last_access()
        assert getattr(client, method)(api_path, headers=keys.auditor).status_code == 200
        api = last_access()
        for name in ("who", "role", "result_count"):
            assert console[name] == api[name], (console_path, name)
        assert console["path"] == console_path.split("?")[0] and console["method"] == "GET"
        return console, api

    console, api = same("/console/events?verdict=violation", "/v1/events?verdict=violation")
    assert console["query"] == api["query"] == {"verdict": ["violation"]} and console["result_count"] == 3
    same(f"/console/events/{ids['p-civ']}", f"/v1/events/{ids['p-civ']}")
    console, _ = same("/console/events/export?format=ndjson&rule_id=CIV-TARGET",
                      "/v1/events/export?format=ndjson&rule_id=CIV-TARGET")
    assert console["result_count"] == 2
    same("/console/policies", "/v1/policies")
    same("/console/map?verdict=violation", "/v1/events?verdict=violation&limit=500")
    period = "occurred_from=2024-06-01T00:00:00Z&occurred_to=2024-07-01T00:00:00Z"
    console, api = same(f"/console/policies/simulate?policy_version=us-2024-06-19-border-wide&{period}",
                        f"/v1/policies/us-2024-06-19-border-wide/simulate?{period}", method="post")
    assert console["result_count"] == api["result_count"] == len(EVENTS)
    same("/console/reports", "/v1/reports")
    before = len(ledger_bodies(app, "access"))
    auditor.page("/console/ledger")  # the checkpoint and key are public: the API's own reads record nothing
    assert len(ledger_bodies(app, "access")) == before


def test_a_console_review_is_the_apis_review_entry(app, auditor, client, keys, ids):
    posted = auditor.post(f"/console/events/{ids['p-civ']}/reviews",
                          {"status": "confirmed_violation", "comment": "imagery confirms a hospital"})
    assert posted.status_code == 303 and posted.headers["Location"] == f"/console/events/{ids['p-civ']}#reviews"
    client.post(f"/v1/events/{ids['p-deep']}/reviews", json={"status": "confirmed_violation",
                                                              "comment": "imagery confirms a hospital"},
                headers=keys.auditor)
    console, api = ledger_bodies(app, "review")
    assert console.keys() == api.keys()
    assert {k: v for k, v in console.items() if k not in ("event_id", "head_id", "recorded_at")} == \
        {k: v for k, v in api.items() if k not in ("event_id", "head_id", "recorded_at")}
    assert console["event_id"] == ids["p-civ"] and console["reviewer"] == "auditor-1"
    shown = client.get(f"/v1/events/{ids['p-civ']}", headers=keys.auditor).get_json()
    assert shown["review_status"] == "confirmed_violation"
    assert "imagery confirms a hospital" in auditor.page(f"/console/events/{ids['p-civ']}").text
    bad = auditor.post(f"/console/events/{ids['p-civ']}/reviews", {"status": "guilty", "comment": ""})
    assert bad.status_code == 400 and "status" in bad.text and "comment" in bad.text
    assert len(ledger_bodies(app, "review")) == 2


def test_reporters_see_their_own_events_and_may_not_review(client, keys, ids):
    reporter = Console(client)
    reporter.sign_in(raw_key(keys.reporter))
    shown = shown_ids(reporter.page("/console/events?verdict=").text)
    assert set(shown) == {ids[s] for s, (who, _) in EVENTS.items() if who == "ops-a"}
    assert shown_ids(reporter.page("/console/events?reporter=ops-b").text) == []
    reporter.page(f"/console/events/{ids['p-ok']}", status=404)  # another reporter's: not found, as in the API
    page = reporter.page(f"/console/events/{ids['p-civ']}").text
    assert 'name="comment"' not in page
    assert reporter.post(f"/console/events/{ids['p-civ']}/reviews", {"status": "dismissed", "comment": "mine"},
                         token_from="/console/policies").status_code == 403
    reporter.page("/console/reports", status=403)
    reporter.page("/console/policies/simulate?policy_version=x&occurred_from=2024-01-01T00:00:00Z"
                  "&occurred_to=2024-02-01T00:00:00Z", status=403)


def test_pages_send_the_security_headers(auditor, ids):
    for path in ("/console/events?verdict=", f"/console/events/{ids['p-civ']}", "/console/map?verdict=",
                 "/console/policies", "/console/reports", "/console/ledger", "/console/login",
                 "/console/no-such-page"):
        response = auditor.client.get(path)
        assert response.status_code in (200, 303, 404), path
        assert response.headers["Content-Security-Policy"] == CONSOLE_POLICY, path
        assert response.headers["X-Frame-Options"] == "DENY" and response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "no-referrer" and response.headers["Cache-Control"] == "no-store"
    assert "unsafe-inline" not in CONSOLE_POLICY and "script-src 'self'" in CONSOLE_POLICY
    assert auditor.client.get("/console/no-such-page").mimetype == "text/html"


def test_reports_are_generated_listed_and_served(app, auditor):
    posted = auditor.post("/console/reports", {"from": "2024-06-01", "to": "2024-07-01"}, token_from="/console/reports")
    assert posted.status_code == 303
    [entry] = ledger_bodies(app, "report_generated")
    assert entry["created_by"] == "auditor-1" and entry["period"]["from"] == "2024-06-01T00:00:00Z"
    listing = auditor.page("/console/reports").text
    assert f'id="report-{entry["report_id"]}"' in listing and entry["root_hash"] in listing
    html = auditor.page(f"/console/reports/{entry['report_id']}")
    assert html.mimetype == "text/html" and html.headers["Content-Security-Policy"] == HTML_POLICY
    assert auditor.page(f"/console/reports/{entry['report_id']}?format=json").get_json()["checkpoint"]["tree_size"] \
        == entry["tree_size"]
    assert auditor.page(f"/console/reports/{entry['report_id']}?format=csv").mimetype == "text/csv"
    auditor.page(f"/console/reports/{entry['report_id']}?format=pdf", status=400)
    auditor.page("/console/reports/999999", status=404)
    bad = auditor.post("/console/reports", {"from": "2024-07-01", "to": "2024-06-01"}, token_from="/console/reports")
    assert bad.status_code == 400 and "to" in bad.text


def test_the_map_draws_the_events_and_the_zones_in_force(app, auditor, ids):
    page = auditor.page("/console/map?verdict=&at=2024-06-10").text
    assert page.count('class="marker ') == len(EVENTS)
    for source in ids.values():
        assert f'href="/console/events/{source}"' in page
    assert 'id="zone-kharkiv-sector"' in page and "us-2024-05-30-kharkiv" in page
    assert 'id="country-UA"' in page and 'id="country-RU"' in page and 'id="country-BY"' in page
    later = auditor.page("/console/map?verdict=violation&at=2024-12-01T00:00:00Z").text
    assert 'id="zone-border-strip"' in later and 'id="zone-kursk-atacms"' in later
    assert later.count('class="marker ') == 3
    assert "No zone" not in auditor.page("/console/map?verdict=&at=2023-01-01").text
    auditor.page("/console/map?at=someday", status=400)


def test_the_policies_page_shows_the_timeline_differences_and_simulates(auditor, ids):
    page = auditor.page("/console/policies").text
    for policy in ("us-2022-06-01-no-cross-border", "us-2024-05-30-kharkiv", "us-2024-06-19-border-wide",
                   "us-2024-11-17-kursk-atacms"):
        assert f'id="policy-{policy}"' in page
    assert 'id="changes-us-2024-06-19-border-wide"' in page and "zones[kharkiv-sector]" in page
    simulated = auditor.page("/console/policies/simulate?policy_version=us-2022-06-01-no-cross-border"
                             "&occurred_from=2024-06-01T00:00:00Z&occurred_to=2024-07-01T00:00:00Z").text
    assert f'<span id="simulated-count">{len(EVENTS)} events</span>' in simulated
    auditor.page("/console/policies/simulate?policy_version=nope&occurred_from=2024-06-01T00:00:00Z"
                 "&occurred_to=2024-07-01T00:00:00Z", status=404)


def test_pages_and_forms_are_rate_limited_per_key(database_url, signing_key_path, console_secret_path, keys):
    app = create_app({"DATABASE_URL": database_url, "LEDGER_SIGNING_KEY": signing_key_path,
                      "CONSOLE_SECRET": console_secret_path, "RATE_LIMIT": "6/minute", "RATE_LIMIT_BATCH": ""})
    console = Console(app.test_client())
    assert console.sign_in(raw_key(keys.auditor)).status_code == 303  # 2 requests by address
    for _ in range(6):
        console.page("/console/ledger")  # 6 by the key: its own allowance, not the address's
    throttled = console.client.get("/console/ledger")
    assert throttled.status_code == 429 and throttled.mimetype == "text/html"
    assert int(throttled.headers["Retry-After"]) >= 1 and "Too Many Requests" in throttled.text
    stylesheet = console.client.get("/console/static/console.css")
    stylesheet.close()
    assert stylesheet.status_code == 200  # the stylesheet is not counted
    other = Console(app.test_client())
    attempts = [other.client.post("/console/login", data={"api_key": "sak_guess"}).status_code for _ in range(5)]
    assert attempts[-1] == 429  # guesses count against the address, which signed in twice already
    sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"])
    app.extensions["db_engine"].dispose()
