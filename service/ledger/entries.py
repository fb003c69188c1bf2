"""Appending entries to the ledger table (the Merkle tree over them is built by the sequencer)."""
import base64
from datetime import datetime

from sqlalchemy import insert
from sqlalchemy.orm import Session

from service.core.ledger.canonical import ENTRY_TYPES, canonical_bytes, leaf_hash
from service.core.time import format_utc
from service.db.driver import DriverConnection, bound
from service.ledger.tables import LedgerEntry, PendingEntry


def append_entry(session: Session, entry_type: str, body: dict, now: datetime) -> LedgerEntry:
    """Store one state change as its canonical bytes; flushes so the caller gets the entry id."""
    entry = LedgerEntry(**entry_row(None, entry_type, body, now))
    session.add(entry)
    session.flush()
    # Same transaction: an entry is either committed and queued for the sequencer, or neither.
    session.add(PendingEntry(entry_id=entry.id))
    return entry


def append_entry_now(db: DriverConnection, entry_type: str, body: dict, now: datetime) -> int:
    """append_entry on its own, committed before this returns: on PostgreSQL one statement writes the
    entry and its queue row (both or neither); on SQLite the connection's transaction. Its id."""
    row = entry_row(None, entry_type, body, now)
    values = bound(_ENTRY_COLUMNS, [tuple(row[column.name] for column in _ENTRY_COLUMNS)], db.dialect)[0]
    if db.postgres:
        return db.query(f"WITH e AS ({_INSERT_ENTRY % _marks('%s')}) "
                        "INSERT INTO ledger_pending (entry_id) SELECT id FROM e RETURNING entry_id", values, hot=True)[0][0]
    [(entry_id,)] = db.query(_INSERT_ENTRY % _marks("?"), values)
    db.query("INSERT INTO ledger_pending (entry_id) VALUES (?)", (entry_id,))
    db.commit()
    return entry_id


_ENTRY_COLUMNS = tuple(column for column in LedgerEntry.__table__.columns if column.name != "id")
_INSERT_ENTRY = f"INSERT INTO ledger_entries ({', '.join(c.name for c in _ENTRY_COLUMNS)}) VALUES (%s) RETURNING id"


def _marks(mark: str) -> str:
    return ", ".join(mark for _ in _ENTRY_COLUMNS)


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
