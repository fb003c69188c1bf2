"""The HTML report rendered by headless Chromium: charts and map present, a superseded revision's banner on
screen at the top, screenshots kept as artifacts."""
import json
import shutil
import struct
import subprocess
import zlib
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
    assert dom.count('class="marker ') == 20 and dom.count('class="marker-number"') == 20
    print(f"\nscreenshot: {shot}")


def png_pixels(data: bytes) -> list[list[tuple[int, ...]]]:
    """Rows of RGB(A) pixels of an 8-bit, non-interlaced PNG such as Chromium's screenshots."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = {}, 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        chunks.setdefault(kind, []).append(data[at + 8:at + 8 + length])
        at += 12 + length
    width, height, depth, color = struct.unpack(">IIBB", chunks[b"IHDR"][0][:10])
    assert depth == 8 and color in (2, 6)
    size = 3 if color == 2 else 4
    raw, stride, rows, previous = zlib.decompress(b"".join(chunks[b"IDAT"])), width * size, [], bytes(width * size)
    for y in range(height):
        kind, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left, up = line[i - size] if i >= size else 0, previous[i]
            corner = previous[i - size] if i >= size else 0
            if kind == 1:
                line[i] = (line[i] + left) & 255
            elif kind == 2:
                line[i] = (line[i] + up) & 255
            elif kind == 3:
                line[i] = (line[i] + (left + up) // 2) & 255
            elif kind == 4:
                p = left + up - corner
                near = min((abs(p - left), 0, left), (abs(p - up), 1, up), (abs(p - corner), 2, corner))[2]
                line[i] = (line[i] + near) & 255
        rows.append([tuple(line[x:x + 3]) for x in range(0, stride, size)])
        previous = bytes(line)
    return rows


BANNER_BACKGROUND = (0xFD, 0xEC, 0xEA)  # render_html's .banner


def test_a_superseded_revision_says_so_at_the_top(tmp_path):
    binary = chromium()
    sample = json.loads(FIXTURE.read_text())
    pages = {"superseded": {**sample, "id": 57, "superseded_by": 63, "latest": {"id": 70, "revision": 4}},
             "latest": {**sample, "id": 70, "superseded_by": None, "latest": {"id": 70, "revision": 4}}}
    ARTIFACTS.mkdir(exist_ok=True)
    tops = {}
    for name, report in pages.items():
        page = tmp_path / f"{name}.html"
        page.write_text(render_html(report), encoding="utf-8")
        shot = ARTIFACTS / f"report-revision-{name}.png"
        shot.unlink(missing_ok=True)
        run(binary, tmp_path / "profile", f"--screenshot={shot}", "--window-size=1200,2400", page.as_uri())
        dom = run(binary, tmp_path / "profile", "--dump-dom", page.as_uri()).stdout
        body = dom[dom.index("<body>") + len("<body>"):]
        tops[name] = (body, png_pixels(shot.read_bytes()))
        assert 'id="changes"' in dom and 'id="overruled"' in dom and dom.count('class="marker-number"') == 20
    body, pixels = tops["superseded"]
    assert body.startswith('<div id="superseded" class="banner"') and "Report 63 supersedes it" in body[:600]
    # On screen, not only in the markup: the banner's red-tinted box fills the top of the page.
    banner_rows = [y for y, row in enumerate(pixels[:200]) if row.count(BANNER_BACKGROUND) > 600]
    assert banner_rows and banner_rows[0] < 60, banner_rows[:5]
    body, pixels = tops["latest"]
    assert 'id="superseded"' not in body
    assert not any(row.count(BANNER_BACKGROUND) > 600 for row in pixels[:200])
