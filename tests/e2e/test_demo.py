"""End to end: `python -m service.demo` against a real gunicorn server, on SQLite and PostgreSQL.

The demo speaks HTTP, so this runs against the shared `live_server` (gunicorn on a free port
over a fresh, migrated and seeded database) with a reporter key, and runs the demo twice:
the first run must create every report and show every verdict and rule id of contract §6, the
second must find every report already stored ("duplicate") and read back the same verdicts.
"""
import re
import subprocess
import sys

from .conftest import REPO

COUNT = 520

# contract §6, written out here rather than imported from the code under test.
SPEC_VERDICTS = ("compliant", "needs_review", "violation", "out_of_scope")
SPEC_RULE_IDS = (
    "POLICY-NONE", "CIV-TARGET", "XB-NOT-AUTHORIZED", "XB-OUTSIDE-ZONE", "XB-MUNITION", "TARGET-THIRD-COUNTRY",
    "XB-PURPOSE", "MIL-NOT-LINKED", "LINK-UNSTATED", "RANGE-EXCEEDED", "LAUNCH-MISSING", "COUNTRY-MISMATCH",
    "LOCATION-UNRESOLVED", "CATEGORY-REVIEW", "MUNITION-UNKNOWN",
)


# ---- the demo --------------------------------------------------------------------------

def run_demo(base_url: str, key: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "demo", "--url", base_url, "--key", key, *extra],
                          cwd=REPO, capture_output=True, text=True, timeout=150)


def parse_summary(text: str) -> dict[str, dict[str, int]]:
    """{"status": {"created": 520, ...}, "verdict": {...}, "rule_id": {...}} from the printed summary."""
    sections, current = {}, None
    for line in text.splitlines():
        if line and not line[0].isspace():
            current = sections.setdefault(line.split()[0], {})
        elif current is not None and (row := re.fullmatch(r"  (\S+)\s+(\d+)", line)):
            current[row[1]] = int(row[2])
    return sections


def _explain(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


def test_demo_loads_a_set_covering_every_verdict_and_rule_and_is_idempotent(live_server, keys):
    demo_server, key = live_server, keys.reporter["Authorization"].split()[1]

    first = run_demo(demo_server, key, "--count", str(COUNT))
    assert first.returncode == 0, _explain(first)
    summary = parse_summary(first.stdout)
    assert summary["status"] == {"created": COUNT, "duplicate": 0, "conflict": 0, "invalid": 0}, _explain(first)
    assert {v for v, n in summary["verdict"].items() if n > 0} == set(SPEC_VERDICTS), _explain(first)
    assert {r for r, n in summary["rule_id"].items() if n > 0} == set(SPEC_RULE_IDS), _explain(first)
    assert sum(summary["verdict"].values()) == COUNT

    again = run_demo(demo_server, key, "--count", str(COUNT))
    assert again.returncode == 0, _explain(again)
    repeat = parse_summary(again.stdout)
    assert repeat["status"] == {"created": 0, "duplicate": COUNT, "conflict": 0, "invalid": 0}, _explain(again)
    assert repeat["verdict"] == summary["verdict"]
    assert repeat["rule_id"] == summary["rule_id"]

    refused = run_demo(demo_server, "sak_not-a-key", "--count", str(COUNT))
    assert refused.returncode == 2, _explain(refused)
    assert "401" in refused.stderr
