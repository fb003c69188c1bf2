"""Appending entries to the ledger table (the Merkle tree over them is built by the sequencer)."""
import base64
from datetime import datetime

from sqlalchemy.orm import Session

from ..models import LedgerEntry, PendingEntry
from ..schemas.fields import format_utc
from .canonical import canonical_bytes, leaf_hash

ENTRY_TYPES = ("event_received", "evaluation", "correction", "review", "policy_published",
               "report_generated", "access")


def append_entry(session: Session, entry_type: str, body: dict, now: datetime) -> LedgerEntry:
    """Store one state change as its canonical bytes; flushes so the caller gets the entry id."""
    if entry_type not in ENTRY_TYPES:
        raise ValueError(f"unknown ledger entry type {entry_type!r}")
    document = {"entry_type": entry_type, "recorded_at": format_utc(now), **body}
    data = canonical_bytes(document)
    entry = LedgerEntry(entry_type=entry_type, canonical=data, leaf_hash=leaf_hash(data), created_at=now)
    session.add(entry)
    session.flush()
    # Same transaction: an entry is either committed and queued for the sequencer, or neither.
    session.add(PendingEntry(entry_id=entry.id))
    return entry



def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def ledger_ref(entry) -> dict:
    """`entry`: a LedgerEntry or any row with its id and leaf_hash."""
    return {"entry_id": entry.id, "leaf_hash": b64(entry.leaf_hash)}
