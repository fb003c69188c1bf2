"""The sequencer: gives pending entries dense leaf indexes, extends the tree, signs a checkpoint."""
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, insert, select, text
from sqlalchemy.orm import Session, sessionmaker

from service.core.ledger import merkle
from service.core.time import utcnow
from service.ledger.signer import Signer
from service.ledger.tables import Checkpoint, Leaf, LedgerEntry, PendingEntry, TreeNode
from service.ledger.tree import StoredTree, latest_checkpoint

log = logging.getLogger(__name__)
# Any constant works; it only has to be the same in every sequencer process.
ADVISORY_LOCK_KEY = 0x5E9_1ED6E2


def _lock(session: Session) -> None:
    """Exactly one integrator at a time. On SQLite the transaction's BEGIN IMMEDIATE already is that lock."""
    if session.get_bind().dialect.name == "postgresql":
        # Waiting for another sequencer's batch is not a stuck statement: no timeout while waiting.
        session.execute(text("SET LOCAL statement_timeout = 0"))
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        session.execute(text("SET LOCAL statement_timeout = DEFAULT"))


def integrate(session: Session, signer: Signer, batch_size: int = 5000) -> int:
    """One batch in the caller's transaction; returns how many entries became leaves."""
    _lock(session)
    previous = latest_checkpoint(session)
    size = previous.tree_size if previous else 0
    pending = session.execute(select(PendingEntry.entry_id, LedgerEntry.leaf_hash)
                              .join(LedgerEntry, LedgerEntry.id == PendingEntry.entry_id)
                              .order_by(PendingEntry.entry_id).limit(batch_size)).all()
    if not pending and previous is not None:
        return 0
    tree = StoredTree(session)
    hashes = [leaf_hash for _, leaf_hash in pending]
    # The stored nodes the batch combines with (at most one a level) in one query, not one query each.
    tree.prefetch(lambda source: merkle.append_batch(size, hashes, source.subtree_hash))
    nodes = merkle.append_batch(size, hashes, tree.subtree_hash)
    now = utcnow()
    if pending:
        session.execute(insert(Leaf), [{"leaf_index": size + i, "entry_id": entry_id, "integrated_at": now}
                                       for i, (entry_id, _) in enumerate(pending)])
        session.execute(insert(TreeNode), [{"level": n.level, "index": n.index, "hash": n.hash} for n in nodes])
        session.execute(delete(PendingEntry).where(PendingEntry.entry_id.in_([e for e, _ in pending])))
    sign_extension(session, signer, tree, previous, nodes, size + len(pending), now)
    return len(pending)


def sign_extension(session: Session, signer: Signer, tree: StoredTree, previous: Checkpoint | None,
                   nodes: list, new_size: int, now: datetime) -> None:
    """Store a signed checkpoint for the tree grown by `nodes` (already written) to `new_size`."""
    tree.cache.update({(n.level, n.index): n.hash for n in nodes})
    root = tree.root(new_size)
    if previous is not None and previous.tree_size > 0:
        # Never sign a tree that does not extend the last signed one.
        proof = tree.consistency_proof(previous.tree_size, new_size)
        merkle.verify_consistency(previous.tree_size, new_size, previous.root_hash, root, proof)
    session.add(Checkpoint(tree_size=new_size, root_hash=root, note=signer.sign(new_size, root), signed_at=now))


def _integrate_everything(session: Session, signer: Signer, batch_size: int = 5000) -> None:
    while integrate(session, signer, batch_size) == batch_size:
        pass


@contextmanager
def integrated_snapshot(sessions: sessionmaker, signer: Signer) -> Iterator[tuple[Session, Checkpoint]]:
    """A transaction in which everything visible is covered by the checkpoint it yields: what is
    pending is integrated first, inside it. Reports are computed from the tables in such a transaction,
    so that they agree with a replay of the ledger up to that checkpoint.

    On PostgreSQL the sequencers' lock is taken before the transaction's snapshot (REPEATABLE READ), so
    no batch another sequencer committed can be missing from it, and held until the end, so none can
    integrate what this one does not see. On SQLite the transaction holds the write lock from BEGIN.
    """
    engine = sessions.kw["bind"]
    if engine.dialect.name != "postgresql":
        with sessions() as session, session.begin():
            _integrate_everything(session, signer)
            yield session, latest_checkpoint(session)
        return
    with engine.connect() as connection:
        connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": ADVISORY_LOCK_KEY})
        connection.commit()  # a session-level lock: it outlives this first transaction
        try:
            connection.execution_options(isolation_level="REPEATABLE READ")
            with Session(bind=connection) as session, session.begin():
                _integrate_everything(session, signer)
                yield session, latest_checkpoint(session)
        finally:
            connection.rollback()  # whatever the block left, before the unlock
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": ADVISORY_LOCK_KEY})
            connection.commit()


def integrate_all(sessions: sessionmaker, signer: Signer, batch_size: int = 5000) -> int:
    total = 0
    while True:
        with sessions() as session, session.begin():
            count = integrate(session, signer, batch_size)
        total += count
        if count < batch_size:
            return total


@dataclass(frozen=True)
class Backlog:
    """What the sequencer has still to integrate: readiness and /metrics both watch it."""

    pending: int
    lag_seconds: float  # age of the oldest entry no signed checkpoint covers yet; 0 when there is none
    signed: bool  # a checkpoint exists: a sequencer has run at least once on this ledger


def backlog(session: Session, now: datetime) -> Backlog:
    # The oldest by time, not by id: concurrent transactions need not take ids in timestamp order.
    count, oldest, signed = session.execute(select(
        func.count(), func.min(LedgerEntry.created_at),
        select(Checkpoint.tree_size).limit(1).exists().label("signed"))
        .select_from(PendingEntry).join(LedgerEntry, LedgerEntry.id == PendingEntry.entry_id)).one()
    return Backlog(count, max(0.0, (now - oldest).total_seconds()) if oldest else 0.0, bool(signed))


def run(sessions: sessionmaker, signer: Signer, stop: threading.Event, interval: float = 0.1,
        still_wanted=lambda: True, max_backoff: float = 2.0) -> None:
    """Integrate until `stop` is set; a failed batch is rolled back whole and retried."""
    log.info("sequencer started", extra={"fields": {"origin": signer.origin}})
    failures = 0
    while not stop.is_set() and still_wanted():
        try:
            integrated = integrate_all(sessions, signer)
            failures = 0
        except Exception as error:  # the database may be unreachable for a while: log, wait, retry
            # One traceback per outage and retries spaced out to max_backoff, not ten tracebacks a
            # second for as long as the database is down.
            failures += 1
            if failures == 1:
                log.exception("sequencer batch failed; retrying")
            else:
                log.warning("sequencer batch failed again (%d in a row): %s", failures, type(error).__name__)
            integrated = 0
        if not integrated:
            stop.wait(min(interval * 2 ** failures, max_backoff))
    log.info("sequencer stopped")
