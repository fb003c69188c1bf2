"""Writing new event versions: for each, both ledger entries, its version row and the query index.

The rows are built once (`_rows`); they go in through a session (corrections, which read the latest
version first) or straight through the driver (`write_first_versions`: new reports, alone or in batches).
On PostgreSQL that is one statement whatever the number of reports: data-modifying CTEs insert the entries
and take their ids from the sequence, the versions, heads and rule rows join them back by leaf hash, and a
check that the rules have not changed since the reports were judged gates it all. On SQLite, which has no
such statements, the entry ids are reserved first (the transaction holds the write lock from BEGIN) and
each table gets one executemany.
"""
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

from sqlalchemy import insert, text, update
from sqlalchemy.orm import Session

from service.core.rules.model import Evaluation
from service.core.time import format_utc, parse_rfc3339, utcnow
from service.db.driver import DriverConnection, json_param, json_rows
from service.events.index import head_fields, new_head, rule_rows
from service.events.records import version_record
from service.events.tables import Event, EventHead, EventRule
from service.ledger.entries import entry_row
from service.ledger.tables import LedgerEntry, PendingEntry
from service.policies.store import GENERATION, RulesChanged


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
    entries: list[dict]  # two a version: its report, then its evaluation; ids named by `_name_entries`
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


def _rows(versions: list[NewVersion], now: datetime) -> _Rows:
    received_at = format_utc(now)
    rows = _Rows([], [], [], [], [], [])
    for v in versions:
        report = {"event_id": v.event_id, "reporter": v.reporter, "submitted_by": v.submitted_by,
                  "source_event_id": v.payload["source_event_id"], "version": v.version, "supersedes": v.supersedes,
                  "received_at": received_at, "payload": v.payload}
        evaluation = {"event_id": v.event_id, **v.evaluation.to_dict()}
        report_row = entry_row(None, "correction" if v.supersedes else "event_received", report, now)
        evaluation_row = entry_row(None, "evaluation", evaluation, now)
        event = {"id": v.event_id, "head_id": v.head_id or v.event_id, "reporter": v.reporter,
                 "source_event_id": v.payload["source_event_id"], "version": v.version, "supersedes": v.supersedes,
                 "occurred_at": parse_rfc3339(v.payload["occurred_at"]), "received_at": now,
                 "ledger_entry_id": None, "evaluation_entry_id": None}
        rows.entries.extend((report_row, evaluation_row))
        rows.events.append(event)
        rows.rules.extend(rule_rows(event, v.evaluation))
        if v.supersedes is None:
            rows.heads.append(new_head(event, v.payload, v.evaluation, v.family))
        else:  # the head keeps its id (the first version's) and its review
            rows.head_updates.append((v.supersedes, head_fields(event, v.payload, v.evaluation, v.family)))
        rows.stored.append(StoredVersion(event, report, evaluation, report_row))
    return rows


def _name_entries(rows: _Rows, ids: list[int]) -> None:
    """Give the entries their ids (in order: each report's, then its evaluation's) and the rows naming them."""
    for entry, entry_id in zip(rows.entries, ids, strict=True):
        entry["id"] = entry_id
    heads = iter(rows.heads)
    for i, event in enumerate(rows.events):
        event["ledger_entry_id"], event["evaluation_entry_id"] = ids[2 * i], ids[2 * i + 1]
        if event["supersedes"] is None:
            next(heads).update(ledger_entry_id=ids[2 * i], evaluation_entry_id=ids[2 * i + 1])
    for _superseded, fields in rows.head_updates:
        event = next(e for e in rows.events if e["id"] == fields["event_id"])
        fields.update(ledger_entry_id=event["ledger_entry_id"], evaluation_entry_id=event["evaluation_entry_id"])


def store_versions(session: Session, versions: list[NewVersion]) -> list[StoredVersion]:
    """Store every version in the caller's transaction: its report entry (`event_received`, or
    `correction` when it supersedes another) and its `evaluation` entry, then the rows."""
    rows = _rows(versions, utcnow())
    _name_entries(rows, list(session.scalars(text(reserve_sql(session.get_bind().dialect.name, len(rows.entries))))))
    for table, values in ((LedgerEntry, rows.entries), (PendingEntry, _pending(rows)), (Event, rows.events),
                          (EventHead, rows.heads), (EventRule, rows.rules)):
        if values:
            session.execute(insert(table), values)
    for superseded, fields in rows.head_updates:
        session.execute(update(EventHead).where(EventHead.event_id == superseded).values(**fields))
    return rows.stored


def write_first_versions(db: DriverConnection, versions: list[NewVersion], generation: tuple) -> list[StoredVersion]:
    """Store new events (no corrections) judged by the rules of `generation` (policies.store.GENERATION's
    answer then), or raise RulesChanged and store nothing if the stored rules are no longer those."""
    rows = _rows(versions, utcnow())
    assert not rows.head_updates, "corrections go through store_versions"
    if db.postgres:
        _write_at_once(db, rows, generation)
    else:
        _write_in_steps(db, rows, generation)
    return rows.stored


def _write_in_steps(db: DriverConnection, rows: _Rows, generation: tuple) -> None:
    if tuple(db.query(GENERATION)[0]) != generation:
        raise RulesChanged
    _name_entries(rows, [entry_id for (entry_id,) in db.query(reserve_sql("sqlite", len(rows.entries)))])
    for table, values in ((LedgerEntry, rows.entries), (PendingEntry, _pending(rows)), (Event, rows.events),
                          (EventHead, rows.heads), (EventRule, rows.rules)):
        db.insert(table.__table__, values)
    db.commit()


def _write_at_once(db: DriverConnection, rows: _Rows, generation: tuple) -> None:
    versions = [{**head, **event, "report_leaf": report["leaf_hash"], "evaluation_leaf": evaluation["leaf_hash"]}
                for event, head, report, evaluation in zip(rows.events, rows.heads, rows.entries[::2],
                                                           rows.entries[1::2], strict=True)]
    params = [*generation, json_param(rows.entries), json_param(versions), json_param(rows.rules)]
    named = dict(db.query(_at_once_sql(db.dialect), params, hot=True))
    if not named:  # the gate was shut: nothing was written
        raise RulesChanged
    _name_entries(rows, [named[entry["leaf_hash"]] for entry in rows.entries])


def _own(table, *skipped: str) -> tuple:
    return tuple((column.name, column) for column in table.__table__.columns if column.name not in skipped)


_ENTRY = _own(LedgerEntry, "id")
_VERSION_OWN = _own(Event, "ledger_entry_id", "evaluation_entry_id")
# What a head says that its first version's row does not (the rest is the same values: contract §8's index).
_HEAD_OWN = _own(EventHead, "id", "event_id", "reporter", "source_event_id", "version", "occurred_at", "received_at",
                 "ledger_entry_id", "evaluation_entry_id")
_LEAF = LedgerEntry.__table__.c.leaf_hash
_VERSION = _VERSION_OWN + (("report_leaf", _LEAF), ("evaluation_leaf", _LEAF)) + _HEAD_OWN
_RULE = _own(EventRule)


@cache
def _at_once_sql(dialect) -> str:
    """The one statement that writes first versions (entries, versions with their heads, rule rows: one JSON
    parameter each), answering each entry's (leaf hash, id), or nothing when the rules generation differs
    from the one the reports were judged by."""
    def names(columns, alias=""):
        return ", ".join(alias + name for name, _ in columns)

    return f"""WITH gate AS (SELECT FROM ({GENERATION}) AS g (a, b, c)
                   WHERE (a, b, c) IS NOT DISTINCT FROM (%s::bigint, %s::bigint, %s::bigint)),
entries AS (INSERT INTO ledger_entries ({names(_ENTRY)})
            SELECT {names(_ENTRY, "e.")} FROM {json_rows(_ENTRY, "e", dialect)} CROSS JOIN gate ORDER BY e.ord
            RETURNING leaf_hash, id),
queued AS (INSERT INTO ledger_pending (entry_id) SELECT id FROM entries),
v AS (SELECT * FROM {json_rows(_VERSION, "v", dialect)}),
versions AS (INSERT INTO events ({names(_VERSION_OWN)}, ledger_entry_id, evaluation_entry_id)
             SELECT {names(_VERSION_OWN, "v.")}, r.id, x.id
             FROM v JOIN entries r ON r.leaf_hash = v.report_leaf JOIN entries x ON x.leaf_hash = v.evaluation_leaf
             RETURNING id),
heads AS (INSERT INTO event_heads (id, event_id, reporter, source_event_id, version, occurred_at, received_at,
                                   {names(_HEAD_OWN)}, ledger_entry_id, evaluation_entry_id)
          SELECT v.id, v.id, v.reporter, v.source_event_id, v.version, v.occurred_at, v.received_at,
                 {names(_HEAD_OWN, "v.")}, r.id, x.id
          FROM v JOIN entries r ON r.leaf_hash = v.report_leaf JOIN entries x ON x.leaf_hash = v.evaluation_leaf),
rules AS (INSERT INTO event_rules ({names(_RULE)})
          SELECT {names(_RULE, "f.")} FROM {json_rows(_RULE, "f", dialect)} JOIN versions ON versions.id = f.event_id)
SELECT leaf_hash, id FROM entries"""


def _pending(rows: _Rows) -> list[dict]:
    # Same transaction: an entry is either committed and queued for the sequencer, or neither.
    return [{"entry_id": entry["id"]} for entry in rows.entries]
