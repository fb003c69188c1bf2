"""Appending entries to the ledger table (the Merkle tree over them is built by the sequencer)."""
import base64
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.core.ledger.canonical import ENTRY_TYPES, canonical_bytes, leaf_hash
from service.core.time import format_utc
from service.ledger.tables import LedgerEntry, PendingEntry


def append_entry(session: Session, entry_type: str, body: dict, now: datetime) -> LedgerEntry:
    """Store one state change as its canonical bytes; flushes so the caller gets the entry id."""
    entry = LedgerEntry(**entry_row(None, entry_type, body, now))
    session.add(entry)
    session.flush()
    # Same transaction: an entry is either committed and queued for the sequencer, or neither.
    session.add(PendingEntry(entry_id=entry.id))
    return entry


def append_entries(session: Session, typed_bodies: list[tuple[str, dict]], now: datetime) -> list:
    """append_entry for many at once, one INSERT per table; returns each entry's (id, leaf_hash) in order."""
    stored = session.execute(
        insert(LedgerEntry).returning(LedgerEntry.id, LedgerEntry.leaf_hash, sort_by_parameter_order=True),
        [entry_row(None, entry_type, body, now) for entry_type, body in typed_bodies]).all()
    session.execute(insert(PendingEntry), [{"entry_id": entry.id} for entry in stored])
    return stored


def entry_row(entry_id: int | None, entry_type: str, body: dict, now: datetime) -> dict:
    """The ledger_entries row of a state change: its canonical bytes and their leaf hash. With no id
    the database gives one; writers that reserved ids (events.writer) pass theirs."""
    if entry_type not in ENTRY_TYPES:
        raise ValueError(f"unknown ledger entry type {entry_type!r}")
    data = canonical_bytes({"entry_type": entry_type, "recorded_at": format_utc(now), **body})
    row = {"entry_type": entry_type, "canonical": data, "leaf_hash": leaf_hash(data), "created_at": now}
    return row if entry_id is None else {"id": entry_id, **row}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def ledger_ref(entry) -> dict:
    """`entry`: a LedgerEntry or any row with its id and leaf_hash."""
    return {"entry_id": entry.id, "leaf_hash": b64(entry.leaf_hash)}
