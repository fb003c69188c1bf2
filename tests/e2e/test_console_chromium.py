"""The console in Debian's Chromium (Playwright, no browser download) against a real gunicorn: an auditor
signs in, filters, opens a flagged event, sees its proof verified in the browser, reviews it, finds the
review in the ledger and signs out; a tampered entry shows as not verified; a script in a report stays
text. Screenshots of every page go to tests/artifacts/ for a person to look at."""
import base64
import time

import pytest
import requests

from ..helpers import make_event, tamper
from .conftest import REPO

ARTIFACTS = REPO / "tests" / "artifacts"
SCRIPT = '<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">'
PROOF_TIMEOUT_MS = 20_000  # fetches, hashes and a signature: well under a second; generous under load


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    opened = context.new_page()
    opened.on("dialog", lambda dialog: pytest.fail(f"a dialog opened: {dialog.message}"))
    yield opened
    context.close()


def submit(base: str, headers: dict, source_id: str, **changes) -> dict:
    response = requests.post(f"{base}/v1/events", json=make_event(source_id, **changes), headers=headers, timeout=30)
    assert response.status_code == 201, response.text
    return response.json()


def integrated(base: str, headers: dict, event_id: str, timeout: float = 15) -> dict:
    """The event once every one of its ledger entries is in a signed checkpoint (the sequencer's job)."""
    deadline = time.monotonic() + timeout
    while True:
        detail = requests.get(f"{base}/v1/events/{event_id}", headers=headers, timeout=30).json()
        if all(entry["inclusion_proof"] for entry in detail["ledger_entries"]):
            return detail
        assert time.monotonic() < deadline, "the sequencer did not integrate the event's entries in time"
        time.sleep(0.1)


def shot(page, name: str, backend: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"console-{name}-{backend}.png"), full_page=True)


def sign_in(page, base: str, key: str, path: str = "/console/events") -> None:
    page.goto(base + path)
    assert "/console/login" in page.url
    page.fill("#api_key", key)
    page.click("form button[type=submit]")
    page.wait_for_url(f"{base}/console/**")
    assert "/console/login" not in page.url


def proof_status(page, expected: str) -> str:
    """The proof check's conclusion once it is `expected`; the test fails naming what it said instead."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(f'#proof-status[data-verified="{expected}"]', timeout=PROOF_TIMEOUT_MS)
    except PlaywrightTimeout:
        status = page.locator("#proof-status")
        pytest.fail(f"the proof check said {status.get_attribute('data-verified')!r}: {status.text_content()}")
    return page.text_content("#proof-status")


def backend_of(request) -> str:
    return request.node.callspec.params["db_factory"]


def test_an_auditors_day_in_the_console(live_server, keys, page, request):
    base, backend = live_server, backend_of(request)
    flagged = submit(base, keys.reporter, "e2e-civ", **{"target.category": "residential"})
    hostile = submit(base, keys.reporter, "e2e-xss", notes=SCRIPT, **{"target.description": SCRIPT,
                                                                       "target.category": "medical"})
    submit(base, keys.reporter, "e2e-ok")
    for event in (flagged, hostile):
        integrated(base, keys.auditor, event["id"])

    page.goto(base + "/console/events")
    shot(page, "login", backend)
    sign_in(page, base, keys.auditor["Authorization"].removeprefix("Bearer "))
    assert page.url.endswith("/console/events?verdict=violation&review_status=open")
    assert int(page.get_attribute("#match-count", "data-count")) == 2
    shot(page, "events", backend)
    page.keyboard.press("Tab")  # the keyboard's first stop skips the navigation
    assert page.evaluate("document.activeElement.textContent") == "Skip to the content"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"

    page.select_option("#f-rule_id", "CIV-TARGET")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**rule_id=CIV-TARGET**")
    rows = page.locator("#events-table tbody tr")
    assert rows.count() == 2 and {rows.nth(i).get_attribute("data-event-id") for i in range(2)} == \
        {flagged["id"], hostile["id"]}
    page.select_option("#f-category", "residential")
    page.click("form.filters button[type=submit]")
    page.wait_for_url("**category=residential**")
    assert page.locator("#events-table tbody tr").count() == 1

    page.click(f'tr[data-event-id="{flagged["id"]}"] a')
    page.wait_for_url(f"**/console/events/{flagged['id']}")
    assert "Verified in this browser" in proof_status(page, "true")
    assert page.locator('.entry-check:has-text("included")').count() == 2
    shot(page, "event", backend)

    page.select_option("#status", "confirmed_violation")
    page.fill("#comment", "Imagery confirms a residential block; referred to legal.")
    page.click("#submit-review")
    page.wait_for_url(f"**/console/events/{flagged['id']}#reviews")
    assert "Imagery confirms a residential block" in page.text_content("#review-list")
    detail = integrated(base, keys.auditor, flagged["id"])
    [review] = detail["reviews"]
    [position] = [e for e in detail["ledger_entries"] if e["entry_id"] == review["ledger"]["entry_id"]]
    entry = requests.get(f"{base}/v1/ledger/entries/{position['leaf_index']}", headers=keys.auditor, timeout=30).json()
    assert entry["entry_type"] == "review" and entry["entry"]["reviewer"] == "auditor-1"
    assert entry["entry"]["status"] == "confirmed_violation" and entry["entry"]["event_id"] == flagged["id"]
    page.reload()
    assert "all 3 entries" in proof_status(page, "true")

    # A form sent without its CSRF token, with the session's own cookie: refused, nothing stored.
    forged = page.request.post(f"{base}/console/events/{flagged['id']}/reviews",
                               form={"status": "dismissed", "comment": "forged"}, max_redirects=0)
    assert forged.status == 400
    after = requests.get(f"{base}/v1/events/{flagged['id']}", headers=keys.auditor, timeout=30).json()
    assert len(after["reviews"]) == 1 and after["review_status"] == "confirmed_violation"

    page.goto(f"{base}/console/events/{hostile['id']}")
    assert page.text_content("#notes") == SCRIPT and page.text_content("#target-description") == SCRIPT
    assert page.evaluate("window.__pwned") is None
    proof_status(page, "true")

    for name in ("map", "policies", "reports", "ledger"):
        page.goto(f"{base}/console/{name}")
        assert page.locator("h1").count() == 1
        shot(page, name, backend)
    assert "Verified in this browser" in proof_status(page, "true")  # the ledger page checks the checkpoint
    page.goto(f"{base}/console/policies/simulate?policy_version=us-2022-06-01-no-cross-border"
              "&occurred_from=2024-06-01T00:00:00Z&occurred_to=2024-07-01T00:00:00Z")
    shot(page, "simulation", backend)

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/console/events/{flagged['id']}")
    proof_status(page, "true")
    shot(page, "event-narrow", backend)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.click("#sign-out")
    page.wait_for_url("**/console/login?signed_out=1")
    page.goto(f"{base}/console/events/{flagged['id']}")
    assert "/console/login" in page.url and page.locator("#api_key").count() == 1
    refused = page.request.post(f"{base}/console/events/{flagged['id']}/reviews",
                                form={"status": "dismissed", "comment": "after sign-out"}, max_redirects=0)
    assert refused.status == 401


def test_a_tampered_entry_shows_as_not_verified(live_server, keys, page, database_url, request):
    base = live_server
    event = submit(base, keys.reporter, "e2e-tamper")
    detail = integrated(base, keys.auditor, event["id"])
    sign_in(page, base, keys.auditor["Authorization"].removeprefix("Bearer "), f"/console/events/{event['id']}")
    proof_status(page, "true")

    entry_id = detail["ledger"]["entry_id"]  # the report's own entry: event_received
    index = next(e["leaf_index"] for e in detail["ledger_entries"] if e["entry_id"] == entry_id)
    original = requests.get(f"{base}/v1/ledger/entries/{index}", headers=keys.auditor, timeout=30).json()
    changed = base64.b64decode(original["canonical"]).replace(b'"free text"', b'"free texT"')
    assert changed != base64.b64decode(original["canonical"])
    tamper(database_url, "ledger_entries", "UPDATE ledger_entries SET canonical = :canonical WHERE id = :id",
           {"canonical": changed, "id": entry_id})

    page.goto(f"{base}/console/events/{event['id']}")
    text = proof_status(page, "false")
    reason = page.get_attribute("#proof-status", "data-reason")
    assert f"entry {entry_id} (event received)" in reason and "was changed" in reason, reason
    assert text.startswith("Not verified") and page.text_content("#proof-summary") == "Proof: NOT verified"
    assert page.text_content(f'.entry-check[data-entry-id="{entry_id}"]') == "✗ not verified"
    assert "free texT" in page.text_content("#submitted-json")  # the page shows what the ledger holds now
    shot(page, "event-tampered", backend_of(request))


@pytest.mark.parametrize("db_factory", ["sqlite"], indirect=True)  # the browser's side: one backend is enough
def test_outside_a_secure_context_the_page_says_it_cannot_verify(live_server, keys, page):
    event = submit(live_server, keys.reporter, "e2e-insecure")
    integrated(live_server, keys.auditor, event["id"])
    insecure = live_server.replace("127.0.0.1", "console.test")  # plain HTTP, and not this machine's name
    sign_in(page, insecure, keys.auditor["Authorization"].removeprefix("Bearer "), f"/console/events/{event['id']}")
    assert page.evaluate("isSecureContext") is False
    text = proof_status(page, "false")
    assert page.get_attribute("#proof-status", "data-reason") == "insecure-context"
    assert "not in a secure context" in text and "HTTPS" in text
