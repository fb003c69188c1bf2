"""Writing new event versions: for each, both ledger entries, its version row and the query index, with
one statement per table whether there is one version or a batch of a thousand.

The rows are built once (`_rows`); they go in through a session (corrections, which read the latest
version first) or straight through the driver (`write_first_versions`: new reports, alone or in batches,
two round trips a transaction). Entry ids are reserved before the rows are built, since each version
row names its two entries: from the sequence on PostgreSQL, after the greatest id on SQLite, whose
transactions hold the write lock from BEGIN.
"""
import uuid
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session

from service.core.rules.model import Evaluation
from service.core.time import format_utc, parse_rfc3339, utcnow
from service.db.driver import DriverTransaction
from service.events.index import head_fields, new_head, rule_rows
from service.events.records import version_record
from service.events.tables import Event, EventHead, EventRule
from service.ledger.entries import entry_row
from service.ledger.tables import LedgerEntry, PendingEntry


@dataclass(frozen=True)
class NewVersion:
    reporter: str
    submitted_by: str
    payload: dict
    evaluation: Evaluation
    family: str | None  # the munition's catalog family (None if uncatalogued), for the query index
    version: int = 1
    supersedes: str | None = None
    head_id: str | None = None  # the first version's id; None for a first version (its own id)
    event_id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass(frozen=True)
class StoredVersion:
    event: dict  # the events row as written
    report: dict  # the report entry's body (event_received or correction), as written
    evaluation: dict  # the evaluation entry's body
    entry: dict  # the report entry's row (id, leaf_hash, …)

    def record(self) -> dict:
        """Its record as GET shows it; nothing supersedes a version just stored, so no query."""
        return version_record(self.report, self.evaluation, self.entry["id"], self.entry["leaf_hash"],
                              superseded_by=None)


@dataclass(frozen=True)
class _Rows:
    entries: list[dict]
    events: list[dict]
    heads: list[dict]  # of first versions
    head_updates: list[tuple[str, dict]]  # (version superseded, the head's new fields) of corrections
    rules: list[dict]
    stored: list[StoredVersion]


def reserve_sql(dialect: str, n: int) -> str:
    """The next n ids of ledger_entries, in order: from the sequence on PostgreSQL; on SQLite after the
    greatest one, which is safe because the transaction holds the write lock."""
    if dialect == "sqlite":
        return (f"WITH RECURSIVE k(value) AS (SELECT 1 UNION ALL SELECT value + 1 FROM k WHERE value < {int(n)}) "
                "SELECT (SELECT coalesce(max(id), 0) FROM ledger_entries) + value FROM k")
    return f"SELECT nextval('ledger_entries_id_seq') FROM generate_series(1, {int(n)})"


def _rows(versions: list[NewVersion], entry_ids: list[int], now: datetime) -> _Rows:
    received_at = format_utc(now)
    rows = _Rows([], [], [], [], [], [])
    for i, v in enumerate(versions):
        report = {"event_id": v.event_id, "reporter": v.reporter, "submitted_by": v.submitted_by,
                  "source_event_id": v.payload["source_event_id"], "version": v.version, "supersedes": v.supersedes,
                  "received_at": received_at, "payload": v.payload}
        evaluation = {"event_id": v.event_id, **v.evaluation.to_dict()}
        report_row = entry_row(entry_ids[2 * i], "correction" if v.supersedes else "event_received", report, now)
        evaluation_row = entry_row(entry_ids[2 * i + 1], "evaluation", evaluation, now)
        event = {"id": v.event_id, "head_id": v.head_id or v.event_id, "reporter": v.reporter,
                 "source_event_id": v.payload["source_event_id"], "version": v.version, "supersedes": v.supersedes,
                 "occurred_at": parse_rfc3339(v.payload["occurred_at"]), "received_at": now,
                 "ledger_entry_id": report_row["id"], "evaluation_entry_id": evaluation_row["id"]}
        rows.entries.extend((report_row, evaluation_row))
        rows.events.append(event)
        rows.rules.extend(rule_rows(event, v.evaluation))
        if v.supersedes is None:
            rows.heads.append(new_head(event, v.payload, v.evaluation, v.family))
        else:  # the head keeps its id (the first version's) and its review
            rows.head_updates.append((v.supersedes, head_fields(event, v.payload, v.evaluation, v.family)))
        rows.stored.append(StoredVersion(event, report, evaluation, report_row))
    return rows


def store_versions(session: Session, versions: list[NewVersion]) -> list[StoredVersion]:
    """Store every version in the caller's transaction: its report entry (`event_received`, or
    `correction` when it supersedes another) and its `evaluation` entry, then the rows."""
    ids = list(session.scalars(text(reserve_sql(session.get_bind().dialect.name, 2 * len(versions)))))
    rows = _rows(versions, ids, utcnow())
    for table, values in ((LedgerEntry, rows.entries), (PendingEntry, _pending(rows)), (Event, rows.events),
                          (EventHead, rows.heads), (EventRule, rows.rules)):
        if values:
            session.execute(insert(table), values)
    for superseded, fields in rows.head_updates:
        session.execute(update(EventHead).where(EventHead.event_id == superseded).values(**fields))
    return rows.stored


def write_first_versions(tx: DriverTransaction, versions: list[NewVersion], entry_ids: list[int]) -> list[StoredVersion]:
    """Queue the rows of new events (no corrections) in `tx`, whose entry ids were reserved."""
    rows = _rows(versions, entry_ids, utcnow())
    assert not rows.head_updates, "corrections go through store_versions"
    for table, values in ((LedgerEntry, rows.entries), (PendingEntry, _pending(rows)), (Event, rows.events),
                          (EventHead, rows.heads), (EventRule, rows.rules)):
        tx.insert(table.__table__, values)
    return rows.stored


def _pending(rows: _Rows) -> list[dict]:
    # Same transaction: an entry is either committed and queued for the sequencer, or neither.
    return [{"entry_id": entry["id"]} for entry in rows.entries]
