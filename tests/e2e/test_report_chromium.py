"""The HTML report rendered by headless Chromium: charts and map present, screenshot kept as an artifact."""
import json
import shutil
import subprocess
from pathlib import Path

import pytest

from service.reports.render_html import render_html

from .conftest import REPO

FIXTURE = REPO / "tests" / "fixtures" / "sample_report.json"
ARTIFACTS = REPO / "tests" / "artifacts"
IDS = ("chart-weekly", "chart-rules", "chart-families", "map-flagged")


def chromium() -> str:
    found = shutil.which("chromium") or (Path("/usr/bin/chromium").exists() and "/usr/bin/chromium")
    if not found:
        pytest.skip("Chromium is not installed (Debian package `chromium`; .ci/run installs it)")
    return found


def run(binary: str, profile: Path, *args: str) -> subprocess.CompletedProcess:
    # No network, no sync, no updates: the page must render from the file alone.
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}"]
    return subprocess.run([binary, *flags, *args], capture_output=True, text=True, timeout=120, check=True)


def test_report_renders_in_chromium(tmp_path):
    binary = chromium()
    page = tmp_path / "report.html"
    page.write_text(render_html(json.loads(FIXTURE.read_text())), encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)

    run(binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri())
    dom = run(binary, tmp_path / "profile", "--dump-dom", page.as_uri()).stdout

    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert shot.stat().st_size > 50_000, "a near-empty screenshot: the page did not render"
    for element_id in IDS:
        assert f'id="{element_id}"' in dom, element_id
    assert dom.count('class="marker') == 20
    print(f"\nscreenshot: {shot}")
