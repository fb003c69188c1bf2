"""The walk-through of the README and docs/, run in order as a new reader would, against `make run`.

A checkout of its own (the repository's files linked into a temporary folder, `var/` fresh) runs
`make run` on a free port, and one bash process runs every `<!-- walkthrough -->` block in reading
order (tests/walkthrough.py), from that checkout's root, as a second terminal would. Any failing
command, HTTP error or unset variable fails the test, naming the block.
"""
import os
import signal
import subprocess
import time
from dataclasses import fields

import pytest
import requests

from service.config import Settings

from ..walkthrough import REPO, script, walkthrough_blocks
from .conftest import free_port

# Not linked: the reader's own state. A fresh var/ is the point; .git is not needed to run anything.
NOT_LINKED = {"var", ".git"}
# What a test run may have set that a reader's shell would not: every variable Settings reads, but the
# two the test chooses.
SERVICE_VARIABLES = {setting.name.upper() for setting in fields(Settings)} - {"PORT", "WEB_CONCURRENCY"}


@pytest.fixture
def database():
    """None: what `make run` uses by default, SQLite in the checkout's var/. The walk-through takes
    about as long again on PostgreSQL, so the suite runs it once; to follow it on PostgreSQL, set
    WALKTHROUGH_DATABASE_URL to an empty database (`make run`'s migrate step builds it)."""
    return os.environ.get("WALKTHROUGH_DATABASE_URL")


@pytest.fixture
def checkout(tmp_path):
    root = tmp_path / "checkout"
    root.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in NOT_LINKED and not entry.name.startswith(".pytest"):
            (root / entry.name).symlink_to(entry)
    # Through the links, make would reinstall into .venv from here if it thought the install stale.
    if subprocess.run(["make", "-q", "install"], cwd=root, capture_output=True).returncode != 0:
        pytest.fail("the .venv install is older than pyproject.toml: run `make install` first")
    return root


def wait_ready(base: str, server: subprocess.Popen, log, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            pytest.fail(f"make run exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if requests.get(f"{base}/readyz", timeout=2).status_code == 200:
                return
        except requests.ConnectionError:
            pass
        time.sleep(0.2)
    pytest.fail(f"make run was not ready within {timeout} s:\n{log.read_text()[-3000:]}")


def stop_group(server: subprocess.Popen) -> None:
    """Ctrl-C's effect on `make run`: the signal goes to make, gunicorn and its sequencer alike."""
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def test_the_walkthrough_runs_top_to_bottom_on_a_fresh_make_run(checkout, database, tmp_path):
    walkthrough = walkthrough_blocks()
    assert len(walkthrough) > 10 and walkthrough[0].document == "README.md"
    port = free_port()
    # The reader's environment: nothing of the service's set but the port, as after `export PORT=…`,
    # so the shell's commands find var/ by the defaults (under the working directory) and `make run`
    # by the Makefile's; the two must agree.
    env = {key: value for key, value in os.environ.items() if key not in SERVICE_VARIABLES}
    env.update(PORT=str(port), WEB_CONCURRENCY="2")
    if database:
        env["DATABASE_URL"] = database
    log = tmp_path / "make-run.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(["make", "run"], cwd=checkout, env=env, stdout=output, stderr=subprocess.STDOUT,
                                  start_new_session=True)
    try:
        wait_ready(f"http://127.0.0.1:{port}", server, log)
        bash = tmp_path / "walkthrough.sh"
        bash.write_text(script(walkthrough, tmp_path / "statuses", tmp_path / "statuses-taken"), encoding="utf-8")
        started = time.monotonic()
        result = subprocess.run(["bash", str(bash)], cwd=checkout, env=env, capture_output=True, text=True,
                                timeout=300)
        took = time.monotonic() - started
    finally:
        stop_group(server)
    shown = f"--- walk-through output (last 6000 characters)\n{(result.stdout + result.stderr)[-6000:]}"
    assert result.returncode == 0, f"{shown}\n--- make run (last 3000)\n{log.read_text()[-3000:]}"
    announced = [line.split()[1] for line in result.stderr.splitlines() if line.startswith("=== ")]
    assert announced == [block.where for block in walkthrough] + ["walk-through"], shown  # each block, in order
    print(f"{len(walkthrough)} blocks in {took:.1f} s:", *[line for line in result.stderr.splitlines()
                                                          if line.startswith("=== ")], sep="\n")
