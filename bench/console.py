"""The console's list page at the bench's scale: /console/events pages (a page of 100 with the count of
matches and the access entry), requested one at a time over loopback so that what is timed is the
server's work, not queueing behind other requests."""
import http.cookiejar
import math
import re
import statistics
import time
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html import unescape

from .reads import PAGES_DEEP, QUERIES

TOKEN = re.compile(r'name="csrf_token" value="([^"]*)"')
NEXT_PAGE = re.compile(r'id="next-page" href="([^"]+)"')
LIST_MARKER = 'id="match-count"'  # on a list page, never on the sign-in page a lost session lands on


@dataclass(frozen=True)
class Outcome:
    pages: int
    median_ms: float
    p95_ms: float


def signed_in(base_url: str, key: str) -> urllib.request.OpenerDirector:
    """A browser-like client with a console session for `key` (cookies kept, redirects followed)."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    with opener.open(f"{base_url}/console/login", timeout=60) as response:
        token = unescape(TOKEN.search(response.read().decode()).group(1))
    form = urllib.parse.urlencode({"csrf_token": token, "api_key": key, "next": "/console/events?verdict="})
    with opener.open(f"{base_url}/console/login", data=form.encode(), timeout=60) as response:
        if LIST_MARKER not in response.read().decode():
            raise RuntimeError("signing in to the console failed")
    return opener


def _page(opener, url: str) -> str:
    with opener.open(url, timeout=120) as response:
        html = response.read().decode()
    if LIST_MARKER not in html:
        raise RuntimeError(f"{url} did not answer a list page (the session ended?)")
    return html


def list_paths(opener, base_url: str) -> list[str]:
    """Each of the read bench's filters (an empty one: every event), and its next pages."""
    paths = []
    for filters in QUERIES:
        path = "/console/events?" + urllib.parse.urlencode(filters or {"verdict": ""})
        for _ in range(PAGES_DEEP):
            paths.append(path)
            found = NEXT_PAGE.search(_page(opener, base_url + path))
            if not found:
                break
            path = unescape(found.group(1))
    return paths


def console_run(base_url: str, key: str, rounds: int = 3) -> Outcome:
    """Every path `rounds` times, one request at a time; the median and 95th percentile in ms."""
    opener = signed_in(base_url, key)
    paths = list_paths(opener, base_url)  # also warms the worker: these first answers are not counted
    times = []
    for _ in range(rounds):
        for path in paths:
            started = time.perf_counter()
            _page(opener, base_url + path)
            times.append((time.perf_counter() - started) * 1000)
    ordered = sorted(times)
    return Outcome(len(paths), statistics.median(ordered), ordered[math.ceil(0.95 * len(ordered)) - 1])
