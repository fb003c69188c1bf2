"""Receipts: a tlog-proof of an entry against the published (cosigned) checkpoint, now or once one covers it."""
import time

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from service.core.ledger.policy import Policy
from service.core.ledger.proof_text import Receipt, format_receipt
from service.ledger.cosigned import published_checkpoint
from service.ledger.tables import Leaf, LedgerEntry
from service.ledger.tree import StoredTree


def receipts(session: Session, policy: Policy, entry_ids: list[int]) -> dict[int, str | None]:
    """entry id -> its receipt, or None while no published checkpoint covers it yet. The entry's
    canonical bytes ride in the proof's extra line, so the receipt alone recomputes the leaf hash."""
    found = dict(session.execute(select(Leaf.entry_id, Leaf.leaf_index).where(Leaf.entry_id.in_(entry_ids))).all())
    out: dict[int, str | None] = {entry_id: None for entry_id in entry_ids}
    if not found:
        return out
    published = published_checkpoint(session, policy, min_size=min(found.values()) + 1)
    if published is None:
        return out
    size, tree = published.checkpoint.tree_size, StoredTree(session)
    canonical = dict(session.execute(select(LedgerEntry.id, LedgerEntry.canonical)
                                     .where(LedgerEntry.id.in_(list(found)))).all())
    for entry_id, index in found.items():
        if index < size:
            proof = tree.inclusion_proof(index, size)
            out[entry_id] = format_receipt(Receipt(index, proof, published.note, canonical[entry_id]))
    return out


def wait_for_receipts(sessions: sessionmaker, policy: Policy, entry_ids: list[int], timeout: float,
                      poll: float = 0.05) -> dict[int, str | None]:
    """receipts(), polled until every entry has one or `timeout` seconds pass (then None for the rest)."""
    deadline, done = time.monotonic() + timeout, {}
    while True:
        with sessions() as session:
            done.update(receipts(session, policy, [e for e in entry_ids if done.get(e) is None]))
        if all(done.get(e) for e in entry_ids) or time.monotonic() >= deadline:
            return {e: done.get(e) for e in entry_ids}
        time.sleep(poll)
