"""Witnesses and the monitor against real gunicorn: a split view (the database restored to an older
state and grown differently) is refused by the witnesses and caught by the monitor; witnesses that
are down, slow or answer garbage never stop reports coming in."""
import json
import sqlite3
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from service.core.ledger import note
from service.db import normalize_url
from tests import tlog_reference as ref
from tests.dbs import _pg_admin, postgres_admin_url
from tests.witnesses import WitnessProcess, policy_text

from ..helpers import make_event
from .conftest import REPO, flask_cli, free_port, service_env, start_gunicorn, stop

ORIGIN = "e2e.strike-audit.local/ledger"
FAST_WITNESSING = {"LEDGER_ORIGIN": ORIGIN, "WITNESS_INTERVAL_S": "0.1", "WITNESS_TIMEOUT_S": "1",
                   "WITNESS_MAX_LAG_S": "1", "RECEIPT_WAIT_S": "15"}


def _wait(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while not (result := predicate()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s"
        time.sleep(0.1)
    return result


def _bearer(headers: dict) -> str:
    return headers["Authorization"].removeprefix("Bearer ")


class Server:
    """gunicorn with its embedded sequencer (which runs the witnessing threads) on the test's database."""

    def __init__(self, database_url: str, env: dict, log: Path):
        self.database_url, self.env, self.log, self.process = database_url, env, log, None
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def start(self, **changes) -> "Server":
        self.process, _ = start_gunicorn(self.database_url, self.port, 2, {**self.env, **changes}, log=self.log)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            stop(self.process)

    def post(self, path: str, body: dict, headers: dict) -> requests.Response:
        return requests.post(self.base + path, json=body, headers=headers, timeout=30)

    def checkpoint(self) -> tuple[int, bytes]:
        body, _ = ref.split_note(requests.get(f"{self.base}/v1/ledger/checkpoint", timeout=5).text)
        _, size, root = ref.checkpoint_fields(body)
        return size, root

    def ready(self) -> dict:
        return requests.get(f"{self.base}/readyz", timeout=5).json()


def _snapshot(database_url: str, name: str) -> str:
    """A copy of the database as it is now (the server is stopped), to restore later."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        copy = f"{url.database}.{name}"
        with sqlite3.connect(url.database) as source, sqlite3.connect(copy) as target:
            source.backup(target)
        return copy
    copy = f"{url.database}_{name}"
    with _pg_admin(postgres_admin_url()) as conn:
        conn.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{url.database}"')
    return copy


def _restore(database_url: str, copy: str) -> None:
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        # SQLite's backup API overwrites the live file page by page, WAL and all, as a restore would.
        with sqlite3.connect(copy) as source, sqlite3.connect(url.database) as target:
            source.backup(target)
        Path(copy).unlink()
        return
    with _pg_admin(postgres_admin_url()) as conn:
        conn.execute(f'DROP DATABASE "{url.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{url.database}" TEMPLATE "{copy}"')
        conn.execute(f'DROP DATABASE "{copy}"')


def _monitor(database_url: str, base: str, state: Path, policy: Path, api_key: str | None):
    key = ["--api-key", api_key] if api_key else []
    return flask_cli(database_url, "ledger", "monitor", "--url", base, "--state", str(state), "--policy",
                     str(policy), *key)


class Webhook:
    """A tiny HTTP server collecting the alerts a monitor posts."""

    def __init__(self):
        self.alerts: list[dict] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                owner.alerts.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def log_public_key(signing_key_path):
    return note.load_or_create_signing_key(signing_key_path).public_key()


def test_a_split_view_is_refused_by_the_witnesses_and_caught_by_the_monitor(
        app, database_url, keys, signing_key_path, log_public_key, tmp_path):
    honest = [WitnessProcess(f"w{i}.e2e", tmp_path).start(ORIGIN, log_public_key) for i in (1, 2)]
    log_vkey = note.verifier_key(ORIGIN, log_public_key)
    policy, key_only = tmp_path / "policy.txt", tmp_path / "log-key-only.txt"
    policy.write_text(policy_text(log_vkey, honest, "2"))
    key_only.write_text(policy_text(log_vkey, [], "none"))
    env = {"LEDGER_SIGNING_KEY": signing_key_path, "LEDGER_WITNESS_POLICY": str(policy), **FAST_WITNESSING}
    server, auditor = Server(database_url, env, tmp_path / "gunicorn.log"), _bearer(keys.auditor)
    webhook, looping = Webhook(), None
    try:
        server.start()
        for i in range(3):
            assert server.post("/v1/events?wait=integrated", make_event(f"a-{i}"), keys.reporter).json()["receipt"]
        server.stop()
        app.extensions["db_engine"].dispose()  # the fixture's pooled connection would block copying the database
        snapshot = _snapshot(database_url, "older")
        server.start()
        for i in range(3):
            assert server.post("/v1/events?wait=integrated", make_event(f"b-{i}"), keys.reporter).json()["receipt"]
        # One monitor re-hashes the entries (an auditor's reads are ledger entries too: the log grows by
        # them), the other reads the public hash tiles only.
        for state, trusted, key in (("quorum.json", policy, auditor), ("log-key.json", key_only, None)):
            out = _monitor(database_url, server.base, tmp_path / state, trusted, key)
            assert out.returncode == 0, out.stderr
            verified = json.loads((tmp_path / state).read_text())["tree_size"]
            assert out.stdout.startswith(f"Verified tree size {verified} ({verified} new entries)"), out.stdout
        _wait(lambda: (w := server.ready()["witnessing"])["witnessed_tree_size"] == w["tree_size"], 20, "all witnessed")
        seen_size, seen_root = server.checkpoint()
        key_only_size = json.loads((tmp_path / "log-key.json").read_text())["tree_size"]
        # The operator restores the older database and grows it differently.
        server.stop()
        _restore(database_url, snapshot)
        server.start()
        for i in range(6):
            assert server.post("/v1/events", make_event(f"fork-{i}"), keys.reporter).status_code == 201
        _wait(lambda: server.ready()["sequencer_lag_seconds"] == 0, 20, "the fork signed")
        fork = _wait(lambda: (w := server.ready()["witnessing"])["tree_size"] > seen_size and w, 20, "a larger fork")
        # Refused: the witnesses keep the tree they cosigned, the fork gets no cosignature, and it shows.
        ready = _wait(lambda: (r := server.ready())["witnessing"]["quorum"] == "missing" and r, 20, "quorum missing")
        assert ready["status"] == "ready" and ready["witnessing"]["witnessed_tree_size"] < seen_size
        proof = requests.get(f"{server.base}/v1/ledger/proofs/consistency",
                             params={"first": seen_size, "second": fork["tree_size"]}, timeout=5).json()["proof"]
        fork_note = _latest_note(database_url)
        for witness in honest:
            answer = requests.post(f"{witness.url}/add-checkpoint", timeout=5,
                                   data=(f"old {seen_size}\n" + "".join(p + "\n" for p in proof) + "\n" + fork_note))
            assert answer.status_code == 422, answer.text
            theirs = requests.get(f"{witness.url}/{ref.sha256(ORIGIN.encode()).hex()}/checkpoint", timeout=5).text
            assert ref.checkpoint_fields(ref.split_note(theirs)[0])[1:] == (seen_size, seen_root)
        metrics = requests.get(f"{server.base}/metrics", timeout=5).text
        assert _gauge(metrics, "audit_ledger_unwitnessed_seconds") > 1
        # The monitor: what is published now went back behind what it verified.
        out = _monitor(database_url, server.base, tmp_path / "quorum.json", policy, auditor)
        assert out.returncode == 1 and "the log went back" in out.stderr, out.stderr

        # Even with the witnesses switched off, the fork is caught: no quorum, and not consistent.
        server.stop()
        server.start(LEDGER_WITNESS_POLICY="")
        out = _monitor(database_url, server.base, tmp_path / "quorum.json", policy, auditor)
        assert out.returncode == 1 and "lacks the quorum" in out.stderr, out.stderr
        metrics_port = free_port()
        with open(tmp_path / "monitor.log", "wb") as monitor_log:  # the child keeps its own copy open
            looping = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "service", "ledger", "monitor", "--url", server.base,
                 "--state", str(tmp_path / "log-key.json"), "--policy", str(key_only),
                 "--interval", "0.5", "--alert-webhook", webhook.url, "--metrics-port", str(metrics_port)],
                cwd=REPO, env=service_env(database_url), stdout=subprocess.DEVNULL, stderr=monitor_log)
        alert = _wait(lambda: webhook.alerts and webhook.alerts[0], 30, "an alert posted")
        assert alert["alert"] == "ledger monitor" and alert["verified_tree_size"] == key_only_size
        assert "split view" in alert["problems"][0] and "not consistent" in alert["problems"][0]
        scraped = _wait(lambda: _scrape(metrics_port), 10, "the monitor's metrics")
        assert _gauge(scraped, "ledger_monitor_failing") == 1
        assert _gauge(scraped, "ledger_monitor_verified_tree_size") == key_only_size
    finally:
        if looping is not None:
            looping.terminate()
            looping.wait(timeout=10)
        webhook.close()
        server.stop()
        for witness in honest:
            witness.stop()


def _latest_note(database_url: str) -> str:
    """The newest signed checkpoint as the log signed it (the published one is the older, witnessed one)."""
    engine = create_engine(normalize_url(database_url))
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT note FROM checkpoints ORDER BY tree_size DESC LIMIT 1")).scalar()
    finally:
        engine.dispose()


def _scrape(port: int) -> str | None:
    try:
        return requests.get(f"http://127.0.0.1:{port}/metrics", timeout=2).text
    except requests.ConnectionError:
        return None


def _gauge(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.split()[1])
    raise AssertionError(f"{name} not in the metrics")


def test_witnesses_down_slow_or_answering_garbage_never_stop_reports(
        database_url, keys, signing_key_path, log_public_key, tmp_path):
    good = WitnessProcess("good.e2e", tmp_path)
    others = [WitnessProcess("down.e2e", tmp_path, "down"), WitnessProcess("slow.e2e", tmp_path, "slow", 30),
              WitnessProcess("garbage.e2e", tmp_path, "garbage")]
    everyone = [good, *others]
    for witness in everyone:
        witness.start(ORIGIN, log_public_key)
    policy = tmp_path / "policy.txt"
    policy.write_text(policy_text(note.verifier_key(ORIGIN, log_public_key), everyone, "2"))
    env = {"LEDGER_SIGNING_KEY": signing_key_path, "LEDGER_WITNESS_POLICY": str(policy), **FAST_WITNESSING,
           "RECEIPT_WAIT_S": "1"}
    server = Server(database_url, env, tmp_path / "gunicorn.log")
    try:
        server.start()
        slowest = 0.0
        for i in range(20):
            started = time.monotonic()
            assert server.post("/v1/events", make_event(f"r-{i}"), keys.reporter).status_code == 201
            slowest = max(slowest, time.monotonic() - started)
        batch = server.post("/v1/events/batch", {"events": [make_event(f"q-{i}") for i in range(50)]}, keys.reporter)
        assert [r["status"] for r in batch.json()["results"]] == ["created"] * 50
        assert slowest < 5, f"a report took {slowest:.1f} s"
        # Signing keeps up: every entry is in a signed checkpoint, whatever the witnesses do.
        _wait(lambda: server.ready()["sequencer_lag_seconds"] == 0, 20, "every entry signed")
        ready = _wait(lambda: (r := server.ready())["witnessing"]["quorum"] == "missing" and
                      r["witnessing"]["witnesses"].get(good.name) == r["witnessing"]["tree_size"] and r, 30,
                      "the good witness caught up, the quorum still missing")
        assert set(ready["witnessing"]["witnesses"]) == {good.name}  # nothing stored from the others
        assert ready["witnessing"]["witnessed_tree_size"] is None
        # Waiting for a receipt is bounded: stored, answered, without one.
        answer = server.post("/v1/events?wait=integrated", make_event("late"), keys.reporter)
        assert answer.status_code == 201 and answer.json()["receipt"] is None
        assert requests.get(f"{server.base}/v1/ledger/checkpoint", timeout=5).status_code == 503
        metrics = requests.get(f"{server.base}/metrics", timeout=5).text
        assert _gauge(metrics, "audit_ledger_witnessed_tree_size") == -1
        assert f'audit_witness_cosigned_tree_size{{witness="{others[2].name}"}} -1.0' in metrics
        assert "answered 200 without a valid cosignature" in server.log.read_text()
    finally:
        server.stop()
        for witness in everyone:
            witness.stop()
