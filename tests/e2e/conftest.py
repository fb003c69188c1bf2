"""A real gunicorn serving the app on a free port, against the test's fresh database."""
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_gunicorn(database_url: str, port: int, workers: int = 2, extra_env: dict | None = None):
    env = {**os.environ, "DATABASE_URL": database_url, "PORT": str(port), "WEB_CONCURRENCY": str(workers),
           "LOG_LEVEL": "WARNING", "RATE_LIMIT": "100000/minute", "RATE_LIMIT_BATCH": "10000/minute",
           **(extra_env or {})}
    process = subprocess.Popen(
        [str(Path(sys.executable).parent / "gunicorn"), "--config", "service/gunicorn_conf.py", "service.wsgi:app"],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-2000:]}")
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
def live_server(database_url, keys, signing_key_path):
    process, base = start_gunicorn(database_url, free_port(), extra_env={"LEDGER_SIGNING_KEY": signing_key_path})
    yield base
    stop(process)
