"""How ledger entries, proofs and checkpoints are shown (every hash is standard base64)."""
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import InvalidInput
from service.ledger.entries import b64
from service.ledger.tables import Checkpoint, Leaf, LedgerEntry
from service.ledger.tree import StoredTree, latest_checkpoint


def signed_size(session: Session) -> tuple[int, Checkpoint | None]:
    checkpoint = latest_checkpoint(session)
    return (checkpoint.tree_size if checkpoint else 0), checkpoint


def require_within(name: str, value: int, limit: int, what: str = "the latest checkpoint's tree size") -> None:
    if value > limit:
        raise InvalidInput(f"{name} {value} is beyond {what} ({limit}).",
                                errors={name: [f"must be at most {limit}"]})


def entry_view(index: int, entry: LedgerEntry) -> dict:
    return {"index": index, "entry_type": entry.entry_type, "leaf_hash": b64(entry.leaf_hash),
            "entry": json.loads(entry.canonical), "canonical": b64(entry.canonical)}


def entries_between(session: Session, start: int, end: int) -> list[dict]:
    rows = session.execute(select(Leaf.leaf_index, LedgerEntry).join(LedgerEntry, LedgerEntry.id == Leaf.entry_id)
                           .where(Leaf.leaf_index >= start, Leaf.leaf_index < end).order_by(Leaf.leaf_index))
    return [entry_view(index, entry) for index, entry in rows]


def inclusion_view(session: Session, index: int, tree_size: int) -> dict:
    leaf_hash = session.scalar(select(LedgerEntry.leaf_hash).join(Leaf, Leaf.entry_id == LedgerEntry.id)
                               .where(Leaf.leaf_index == index))
    proof = StoredTree(session).inclusion_proof(index, tree_size)
    return {"index": index, "tree_size": tree_size, "leaf_hash": b64(leaf_hash), "proof": [b64(p) for p in proof]}


def checkpoint_view(checkpoint: Checkpoint) -> dict:
    return {"tree_size": checkpoint.tree_size, "root_hash": b64(checkpoint.root_hash), "note": checkpoint.note}


def entry_positions(session: Session, entry_ids: list[int], checkpoint: Checkpoint | None) -> list[dict]:
    """Leaf index and inclusion proof against `checkpoint` of each entry, once integrated.

    The caller passes the checkpoint it shows, so proofs and checkpoint always agree even when the
    sequencer signs a newer one in between.
    """
    tree_size = checkpoint.tree_size if checkpoint else 0
    leaves = dict(session.execute(select(Leaf.entry_id, Leaf.leaf_index).where(Leaf.entry_id.in_(entry_ids))).all())
    entries = {e.id: e for e in session.scalars(select(LedgerEntry).where(LedgerEntry.id.in_(entry_ids)))}
    positions = []
    for entry_id in entry_ids:
        index = leaves.get(entry_id)
        integrated = index is not None and index < tree_size
        positions.append({
            "entry_id": entry_id, "entry_type": entries[entry_id].entry_type,
            "leaf_hash": b64(entries[entry_id].leaf_hash), "leaf_index": index,
            "inclusion_proof": inclusion_view(session, index, tree_size) if integrated else None,
        })
    return positions


def canonical_bytes_of(session: Session, entry_ids: list[int]) -> dict[int, bytes]:
    """The RFC 8785 bytes of each entry, by entry id: what a reader hashes to check a proof itself."""
    return dict(session.execute(select(LedgerEntry.id, LedgerEntry.canonical).where(LedgerEntry.id.in_(entry_ids))).all())
