"""A real gunicorn serving the app on a free port, against the test's fresh database."""
import os
import socket
import subprocess
import sys
import time
from contextlib import nullcontext
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def service_env(database_url: str, extra_env: dict | None = None) -> dict:
    """The environment of every service process a test starts (gunicorn, its sequencer, CLI commands)."""
    # Rate limits out of reach: the tests load the service harder than one key normally would.
    return {**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING", "RATE_LIMIT": "100000/minute",
            "RATE_LIMIT_BATCH": "10000/minute", **(extra_env or {})}


def flask_cli(database_url: str, *args: str, extra_env: dict | None = None) -> subprocess.CompletedProcess:
    """`flask --app service ARGS` in its own process, as an operator would run it."""
    return subprocess.run([sys.executable, "-m", "flask", "--app", "service", *args], cwd=REPO,
                          env=service_env(database_url, extra_env), capture_output=True, text=True, timeout=120)


def start_gunicorn(database_url: str, port: int, workers: int = 2, extra_env: dict | None = None,
                   log: Path | None = None):
    """gunicorn (and its embedded sequencer) on `port`, once /readyz answers 200.

    Give `log` when the test provokes failures: their log lines would fill an unread pipe and block
    the processes writing them."""
    env = service_env(database_url, {"PORT": str(port), "WEB_CONCURRENCY": str(workers), **(extra_env or {})})
    with open(log, "ab") if log else nullcontext(subprocess.PIPE) as stderr:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "gunicorn"), "--config", "service/gunicorn_conf.py",
             "service.wsgi:app"], cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=stderr)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            output = log.read_text() if log else process.stderr.read().decode()
            raise RuntimeError(f"gunicorn exited: {output[-2000:]}")
        try:
            if requests.get(f"{base}/readyz", timeout=1).status_code == 200:
                return process, base
        except requests.ConnectionError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("gunicorn did not become ready within 30 s")


def stop(process) -> None:
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    if process.stderr:
        process.stderr.close()


@pytest.fixture
def live_server(database_url, keys, signing_key_path, console_secret_path):
    process, base = start_gunicorn(database_url, free_port(), extra_env={"LEDGER_SIGNING_KEY": signing_key_path,
                                                                        "CONSOLE_SECRET": console_secret_path})
    yield base
    stop(process)


@pytest.fixture
def deployment(database_url, keys, signing_key_path, tmp_path):
    """gunicorn with four workers and the embedded sequencer on the test's database, for the test to start,
    crash and restart; stopped at the end whatever happened, with its log shown when the test fails."""
    from .processes import Deployment  # it imports this module

    deployment = Deployment(database_url, signing_key_path, tmp_path)
    yield deployment
    deployment.stop()
    if deployment.log.exists():
        print(f"--- {deployment.log} (last 5000 characters) ---\n{deployment.log.read_text()[-5000:]}")


CHROMIUM = Path("/usr/bin/chromium")  # Debian's; Playwright drives it, and never downloads a browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip("Chromium is not installed (Debian package `chromium`; .ci/run installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # console.test resolves to this machine: a plain-HTTP origin that is not localhost, so not a
        # secure context (nothing leaves the machine: the name maps to 127.0.0.1).
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--host-resolver-rules=MAP console.test 127.0.0.1"])
        yield launched
        launched.close()
