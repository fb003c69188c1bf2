"""What every test that stresses writers or the sequencer asserts about the stored ledger afterwards."""
import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.core.ledger import merkle, note
from service.ledger.tables import Checkpoint, Leaf, LedgerEntry, PendingEntry
from service.ledger.tree import StoredTree


def wait_until_integrated(sessions, timeout: float = 30.0) -> None:
    """Polls until nothing is pending and the latest checkpoint covers every entry (a running sequencer)."""
    deadline = time.monotonic() + timeout
    while True:
        with sessions() as session:
            entries = session.scalar(select(func.count()).select_from(LedgerEntry))
            pending = session.scalar(select(func.count()).select_from(PendingEntry))
            signed = session.scalar(select(func.max(Checkpoint.tree_size))) or 0
        if not pending and signed == entries:
            return
        assert time.monotonic() < deadline, f"not integrated after {timeout} s: {pending} pending, " \
                                            f"checkpoint {signed} of {entries} entries"
        time.sleep(0.1)


def assert_one_signed_history(session: Session, verifier_key: str) -> list[Checkpoint]:
    """Every entry is a leaf exactly once at dense indexes 0..n-1, nothing is pending, the last checkpoint
    covers every entry, and each checkpoint is signed, holds the root of the leaves below its size and is
    consistent with the one before it. Returns the checkpoints, oldest first."""
    entry_ids = session.scalars(select(LedgerEntry.id)).all()
    leaves = session.execute(select(Leaf.leaf_index, Leaf.entry_id, LedgerEntry.leaf_hash)
                             .join(LedgerEntry, LedgerEntry.id == Leaf.entry_id).order_by(Leaf.leaf_index)).all()
    checkpoints = session.scalars(select(Checkpoint).order_by(Checkpoint.tree_size)).all()
    assert [index for index, _, _ in leaves] == list(range(len(entry_ids)))
    assert sorted(entry_id for _, entry_id, _ in leaves) == sorted(entry_ids)  # each entry a leaf exactly once
    assert session.scalar(select(func.count()).select_from(PendingEntry)) == 0
    assert checkpoints and checkpoints[-1].tree_size == len(entry_ids)

    hashes = [leaf_hash for _, _, leaf_hash in leaves]
    tree = StoredTree(session)
    for older, newer in zip(checkpoints, checkpoints[1:]):
        proof = tree.consistency_proof(older.tree_size, newer.tree_size)
        merkle.verify_consistency(older.tree_size, newer.tree_size, older.root_hash, newer.root_hash, proof)
    for checkpoint in checkpoints:
        assert checkpoint.root_hash == merkle.root_from_leaves(hashes[:checkpoint.tree_size])
        _, size, root = note.parse_checkpoint(note.verify_note(checkpoint.note, verifier_key))
        assert (size, root) == (checkpoint.tree_size, checkpoint.root_hash)
    return checkpoints
