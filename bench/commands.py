"""Figures of the operator's commands: `flask ledger verify`, and a stored monthly compliance report."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

from .databases import query
from .servers import REPO, Server

FLASK = str(Path(sys.executable).parent / "flask")
SUMMARY = re.compile(r"ledger verify: OK: (\d+) entries.* \(([\d,]+) entries/s\)")


def verify_run(env: dict, limit_s: float, jobs: int) -> tuple[int, float, float]:
    """(entries, entries/s, machine CPU seconds) of one `flask --app service ledger verify --jobs N`:
    the rate from its summary line; the CPU of every process (verifier, its workers and PostgreSQL's
    backends), which is what a host needs in cores to reach a given rate."""
    busy = _machine_cpu_s()
    try:
        done = subprocess.run([FLASK, "--app", "service", "ledger", "verify", "--jobs", str(jobs)], cwd=REPO,
                              env={**os.environ, **env}, capture_output=True, text=True, timeout=limit_s)
    except subprocess.TimeoutExpired:
        raise RuntimeError(f"ledger verify did not finish within {limit_s:.0f} s") from None
    busy = _machine_cpu_s() - busy
    match = SUMMARY.search(done.stdout)
    if done.returncode != 0 or match is None:
        raise RuntimeError(f"ledger verify failed ({done.returncode}):\n{done.stdout[-3000:]}{done.stderr[-3000:]}")
    return int(match.group(1)), float(match.group(2).replace(",", "")), busy


def _machine_cpu_s() -> float:
    """CPU seconds spent by the whole machine so far: everything in /proc/stat's cpu line but idle and iowait."""
    ticks = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def busiest_month(url: str) -> tuple[datetime, datetime, int]:
    """[from, to) of the calendar month with the most events, and their count."""
    [(month, count)] = query(url, "SELECT date_trunc('month', occurred_at AT TIME ZONE 'UTC') AS m, count(*) "
                                  "FROM event_heads GROUP BY m ORDER BY count(*) DESC LIMIT 1")
    start = month.replace(tzinfo=timezone.utc)
    end = start.replace(year=start.year + start.month // 12, month=start.month % 12 + 1)
    return start, end, count


def report_run(server: Server, key: str, start: datetime, end: datetime) -> float:
    """Wall seconds of POST /v1/reports for [start, end): computed as of a fresh checkpoint, then stored,
    as `flask reports generate --period monthly` does (which would store a given month only once)."""
    body = json.dumps({"from": start.strftime("%Y-%m-%d"), "to": end.strftime("%Y-%m-%d")}).encode()
    request = urllib.request.Request(server.base_url + "/v1/reports", data=body, method="POST", headers={
        "Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            response.read()
    except urllib.error.HTTPError as error:
        detail = json.loads(error.read() or b"{}").get("detail", "")
        raise RuntimeError(f"POST /v1/reports answered {error.code} after {time.perf_counter() - started:.1f} s: "
                           f"{detail}") from None
    return time.perf_counter() - started
