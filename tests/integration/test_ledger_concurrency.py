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

from service.ledger import merkle, note, sequencer
from service.ledger.tree import StoredTree
from service.models import Checkpoint, Event, LedgerEntry, Leaf, PendingEntry

from ..helpers import make_event

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
        entry_ids = session.scalars(select(LedgerEntry.id)).all()
        leaves = session.execute(select(Leaf.leaf_index, Leaf.entry_id, LedgerEntry.leaf_hash)
                                 .join(LedgerEntry, LedgerEntry.id == Leaf.entry_id).order_by(Leaf.leaf_index)).all()
        checkpoints = session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)).all()
        assert [index for index, _, _ in leaves] == list(range(len(entry_ids)))
        assert sorted(entry_id for _, entry_id, _ in leaves) == sorted(entry_ids)  # each entry a leaf exactly once
        assert session.scalar(select(func.count()).select_from(PendingEntry)) == 0
        assert session.scalar(select(func.count()).select_from(Event)) == len(accepted)
        assert len(entry_ids) == 4 + 2 * len(accepted)  # the bundled policies, then report + evaluation each
        assert len(checkpoints) > 2 and checkpoints[-1].tree_size == len(entry_ids)

        hashes = [leaf_hash for _, _, leaf_hash in leaves]
        verifier = app.extensions["ledger_signer"].verifier_key
        tree = StoredTree(session)
        for older, newer in zip(checkpoints, checkpoints[1:]):
            proof = tree.consistency_proof(older.tree_size, newer.tree_size)
            merkle.verify_consistency(older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, proof)
        for checkpoint in checkpoints:
            assert checkpoint.root_hash == merkle.root_from_leaves(hashes[:checkpoint.tree_size])
            _, size, root = note.parse_checkpoint(note.verify_note(checkpoint.note, verifier))
            assert (size, root) == (checkpoint.tree_size, checkpoint.root_hash)


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
