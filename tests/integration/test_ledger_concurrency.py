"""Concurrent writers and two sequencer processes on PostgreSQL: a dense, consistent, signed history."""
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from service.events.tables import Event
from service.ledger import sequencer
from service.ledger.tables import LedgerEntry

from ..helpers import make_event
from ..ledger_checks import assert_one_signed_history

REPO = Path(__file__).resolve().parents[2]
WRITERS, PER_WRITER = 6, 40
pytestmark = pytest.mark.postgres


@pytest.fixture
def database_url(postgres_factory):
    """PostgreSQL only: SQLite has one writer at a time by construction, so there is nothing to race."""
    url = postgres_factory.create()
    yield url
    postgres_factory.drop(url)


def start_sequencer(app, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": app.config["DATABASE_URL"], "LOG_LEVEL": "INFO",
           "LEDGER_SIGNING_KEY": app.config["LEDGER_SIGNING_KEY"], "LEDGER_ORIGIN": app.config["LEDGER_ORIGIN"]}
    with log.open("wb") as sink:
        return subprocess.Popen([sys.executable, "-m", "flask", "--app", "service", "ledger", "sequence"],
                                cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=sink)


def wait_for_start(logs: list[Path], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not all("sequencer started" in log.read_text() for log in logs):
        assert time.monotonic() < deadline, "sequencers did not start"
        time.sleep(0.05)


def write(app, headers: dict, writer: int) -> list[tuple[str, int]]:
    """New reports, retries of them, conflicting re-uses, and ids every writer races for."""
    client = app.test_client()
    sent = []
    for i in range(PER_WRITER):
        source, changes = {
            0: (f"shared-{i}", {}),  # identical from every writer: one 201, then 200s
            1: (f"contested-{i}", {"notes": f"writer {writer}"}),  # different from every writer: one 201, then 409s
            2: (f"w{writer}-{i}", {}),  # this writer's own report
            3: (f"w{writer}-{i - 1}", {} if i % 8 == 3 else {"notes": "changed"}),  # its retry, or a clash
        }[i % 4]
        response = client.post("/v1/events", json=make_event(source, **changes), headers=headers)
        sent.append((source, response.status_code))
    return sent


def test_writers_and_two_sequencers_make_one_dense_consistent_history(app, keys, runner, tmp_path):
    logs = [tmp_path / f"sequencer-{n}.log" for n in range(2)]
    processes = [start_sequencer(app, log) for log in logs]
    try:
        wait_for_start(logs)
        with ThreadPoolExecutor(WRITERS) as pool:
            sent = [r for rs in pool.map(lambda w: write(app, keys.reporter, w), range(WRITERS)) for r in rs]
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
        codes = [process.wait(timeout=15) for process in processes]
    assert codes == [0, 0]
    for log in logs:
        assert "batch failed" not in log.read_text(), log.read_text()
    assert {status for _, status in sent} == {200, 201, 409}
    accepted = {source for source, status in sent if status == 201}
    assert len(accepted) == sum(status == 201 for _, status in sent)  # each id was created once
    assert runner.invoke(args=["ledger", "sequence", "--once"]).exit_code == 0

    with app.extensions["db_sessions"]() as session:
        checkpoints = assert_one_signed_history(session, app.extensions["ledger_signer"].verifier_key)
        assert session.scalar(select(func.count()).select_from(Event)) == len(accepted)
        # the bundled policies, then report + evaluation each
        assert session.scalar(select(func.count()).select_from(LedgerEntry)) == 4 + 2 * len(accepted)
        assert len(checkpoints) > 2


def test_a_sequencer_waits_for_the_advisory_lock(app):
    """Whoever holds the lock (another sequencer's transaction) keeps integrate from starting."""
    engine, sessions = app.extensions["db_engine"], app.extensions["db_sessions"]
    integrated, failure = [], []

    def integrate():
        try:
            with sessions() as session, session.begin():
                integrated.append(sequencer.integrate(session, app.extensions["ledger_signer"]))
        except Exception as exc:  # surfaced by the assertions below
            failure.append(exc)

    with engine.connect() as holder, engine.connect() as observer:
        holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": sequencer.ADVISORY_LOCK_KEY})
        worker = threading.Thread(target=integrate)
        worker.start()
        waiting = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
                   " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")
        deadline = time.monotonic() + 3
        while observer.execute(text(waiting)).scalar() != 1:
            assert time.monotonic() < deadline and worker.is_alive(), failure
            time.sleep(0.02)
        time.sleep(0.3)
        assert worker.is_alive() and not integrated  # still blocked while the lock is held
        holder.commit()  # ends the transaction, which releases the xact lock
        worker.join(timeout=5)
    assert not failure and integrated == [4]  # the bundled policies' entries
