"""`ledger verify` and `ledger export` over the database: one read-only snapshot, streamed in leaf order."""
import time
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import chain
from pathlib import Path
from typing import Callable, Iterator

from sqlalchemy import and_, create_engine, event, exists, or_, select
from sqlalchemy.engine import Connection, Engine

from ..models import Checkpoint, Evaluation, Event, LedgerEntry, Leaf, PendingEntry, PolicyVersion, TreeNode
from .bundle import BATCH, LeafStream, Outcome, Report, leaf_label, write_bundle

_MISSING = object()


@dataclass(frozen=True)
class RowKind:
    """A table whose rows restate a ledger entry: which columns must equal which keys of the entry."""

    name: str
    model: type
    entry_types: tuple[str, ...]
    fields: tuple[tuple[str, str], ...]  # (column, key in the ledger entry)
    missing: str  # formatted with the entry's event_id / policy_id


KINDS = (
    RowKind("event", Event, ("event_received", "correction"),
            (("id", "event_id"), ("reporter", "reporter"), ("source_event_id", "source_event_id"),
             ("version", "version"), ("supersedes", "supersedes"), ("payload", "payload")),
            "event row {event_id} is missing"),
    RowKind("evaluation", Evaluation, ("evaluation",),
            (("event_id", "event_id"), ("verdict", "verdict"), ("policy_id", "policy_version"),
             ("policy_sha256", "policy_sha256"), ("findings", "findings"), ("computed", "computed")),
            "evaluation row for event {event_id} is missing"),
    RowKind("policy version", PolicyVersion, ("policy_published",),
            (("id", "policy_id"), ("sha256", "policy_sha256"), ("published_by", "published_by"),
             ("document", "document")),
            "policy version row {policy_id} is missing"),
)
KIND_OF = {entry_type: kind for kind in KINDS for entry_type in kind.entry_types}


@contextmanager
def snapshot(engine: Engine) -> Iterator[Connection]:
    """A read-only transaction that sees one consistent state of every table for the whole run."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                # The pool's statement_timeout protects requests; a full scan is meant to take long.
                conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
                yield conn
        return
    reader = _sqlite_reader(engine)
    try:
        with reader.connect() as conn, conn.begin():
            yield conn
    finally:
        if reader is not engine:
            reader.dispose()


def _sqlite_reader(engine: Engine) -> Engine:
    """The app's engine opens every transaction with BEGIN IMMEDIATE, the write lock: a long scan
    must not hold that, so it gets its own engine with deferred transactions (a WAL snapshot)."""
    if engine.url.database in (None, "", ":memory:"):
        return engine  # a private in-memory database has no other writers to block
    reader = create_engine(engine.url, connect_args={"timeout": 30})

    @event.listens_for(reader, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None  # transactions start only at the BEGIN below

    @event.listens_for(reader, "begin")
    def _on_begin(connection):
        connection.exec_driver_sql("BEGIN")

    return reader


def _leaf_batches(conn: Connection) -> Iterator[list]:
    """(index, entry id, type, canonical, leaf hash, level-0 node) in leaf order, BATCH rows at a time.

    Outer joins, so a deleted entry or tree node shows up as None rather than a silently shorter stream.
    """
    query = (select(Leaf.leaf_index, Leaf.entry_id, LedgerEntry.entry_type, LedgerEntry.canonical,
                    LedgerEntry.leaf_hash, TreeNode.hash)
             .select_from(Leaf)
             .outerjoin(LedgerEntry, LedgerEntry.id == Leaf.entry_id)
             .outerjoin(TreeNode, and_(TreeNode.level == 0, TreeNode.index == Leaf.leaf_index))
             .order_by(Leaf.leaf_index))
    yield from _driver_batches(conn, query)


def _driver_batches(conn: Connection, query) -> Iterator[list[tuple]]:
    """Plain driver tuples, BATCH at a time, from a server-side cursor on PostgreSQL.

    Going around SQLAlchemy's Row objects saves a fifth of the run time; it is safe
    because these columns need no result processing (both drivers return bytes).
    """
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    driver = conn.connection.driver_connection
    # A named psycopg cursor is DECLARE ... CURSOR inside the snapshot's transaction.
    postgres = conn.dialect.name == "postgresql"
    cursor = driver.cursor(name="ledger_verify", binary=True) if postgres else driver.cursor()
    try:
        cursor.execute(sql)
        while batch := cursor.fetchmany(BATCH):
            yield batch
    finally:
        cursor.close()


def _checkpoints(conn: Connection, with_root: bool = True) -> Iterator[tuple]:
    columns = (Checkpoint.tree_size, Checkpoint.root_hash, Checkpoint.note) if with_root else (
        Checkpoint.tree_size, Checkpoint.note)
    yield from conn.execute(select(*columns).order_by(Checkpoint.tree_size).execution_options(yield_per=1000))


def verify_database(engine: Engine, verifier: str, echo: Callable[[str], None]) -> Outcome:
    """Every check of SPEC §7 against the stored data; problems are echoed as they are found."""
    report, started, compared = Report(echo), time.perf_counter(), 0
    with snapshot(engine) as conn:
        stream = LeafStream(_checkpoints(conn), verifier, report, tree_nodes=True, wanted=KIND_OF)
        for batch in _leaf_batches(conn):
            selected = stream.feed(batch)
            if selected:
                compared += compare_rows(conn, selected, report)
        entries = stream.finish()
        _unintegrated(conn, report)
        _rows_without_entries(conn, report)
    return Outcome(entries, stream.checkpoints_seen, report.count, time.perf_counter() - started, compared)


def compare_rows(conn: Connection, selected: list[tuple[int, int, dict]], report: Report) -> int:
    """Compare one batch of parsed entries with their rows, loaded with one query per table."""
    rows = {kind.name: _rows_by_entry(conn, kind, [e for _, e, doc in selected if KIND_OF[doc["entry_type"]] is kind])
            for kind in KINDS}
    for index, entry_id, document in selected:
        kind = KIND_OF[document["entry_type"]]
        row = rows[kind.name].get(entry_id)
        label = leaf_label(index, entry_id)
        if row is None:
            report(f"{label}: " + kind.missing.format(event_id=document.get("event_id"),
                                                      policy_id=document.get("policy_id")))
            continue
        for column, key in kind.fields:
            found = first_difference(row._mapping[column], document.get(key, _MISSING), column)
            if found:
                path, ours, theirs = found
                report(f"{label}: {kind.name} row {row.id} {path} {_show(ours)} != ledger {_show(theirs)}")
    return len(selected)


def _rows_by_entry(conn: Connection, kind: RowKind, entry_ids: list[int]) -> dict:
    if not entry_ids:
        return {}
    model = kind.model
    columns = {"id", *(column for column, _ in kind.fields)}
    query = select(model.ledger_entry_id, *(getattr(model, c) for c in sorted(columns)))
    return {row.ledger_entry_id: row for row in conn.execute(query.where(model.ledger_entry_id.in_(entry_ids)))}


def first_difference(ours, theirs, path: str):
    """(path, row value, ledger value) of the first difference, or None.

    Numbers compare by value: JCS writes 5.0 as 5. Plain == runs first because it is C-fast and
    most rows are equal; its price is that a nested true changed to 1 compares equal (a top-level
    one is still caught).
    """
    if ours == theirs and isinstance(ours, bool) == isinstance(theirs, bool):
        return None
    if isinstance(ours, dict) and isinstance(theirs, dict):
        for key in sorted(ours.keys() | theirs.keys()):
            found = first_difference(ours.get(key, _MISSING), theirs.get(key, _MISSING), f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(ours, list) and isinstance(theirs, list):
        if len(ours) != len(theirs):
            return f"{path} length", len(ours), len(theirs)
        for i, (a, b) in enumerate(zip(ours, theirs)):
            found = first_difference(a, b, f"{path}[{i}]")
            if found:
                return found
        return None
    return path, ours, theirs


def _show(value) -> str:
    if value is _MISSING:
        return "(absent)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _unintegrated(conn: Connection, report: Report) -> None:
    """An entry that is neither a leaf nor waiting for the sequencer was dropped from the tree."""
    query = (select(LedgerEntry.id, LedgerEntry.entry_type)
             .where(~exists().where(Leaf.entry_id == LedgerEntry.id),
                    ~exists().where(PendingEntry.entry_id == LedgerEntry.id))
             .order_by(LedgerEntry.id).execution_options(yield_per=BATCH))
    for entry_id, entry_type in conn.execute(query):
        report(f"entry {entry_id} ({entry_type}) is neither a leaf nor pending")


def _rows_without_entries(conn: Connection, report: Report) -> None:
    """Rows must point at an entry of their own type; those that do are compared in the leaf stream."""
    for kind in KINDS:
        model = kind.model
        query = (select(model.id, model.ledger_entry_id, LedgerEntry.entry_type)
                 .outerjoin(LedgerEntry, LedgerEntry.id == model.ledger_entry_id)
                 .where(or_(LedgerEntry.id.is_(None), LedgerEntry.entry_type.not_in(kind.entry_types)))
                 .order_by(model.ledger_entry_id).execution_options(yield_per=BATCH))
        for row_id, entry_id, entry_type in conn.execute(query):
            what = "missing" if entry_type is None else f"of type {entry_type!r}"
            report(f"{kind.name} row {row_id}: its ledger entry {entry_id} is {what}")


def export_database(engine: Engine, verifier: str, out: Path) -> tuple[int, int]:
    """Write the bundle from one snapshot: every leaf with its stored bytes, every checkpoint, the key."""
    with snapshot(engine) as conn:
        query = (select(Leaf.leaf_index, LedgerEntry.entry_type, LedgerEntry.leaf_hash, LedgerEntry.canonical)
                 .join(LedgerEntry, LedgerEntry.id == Leaf.entry_id)
                 .order_by(Leaf.leaf_index))
        entries = chain.from_iterable(_driver_batches(conn, query))
        return write_bundle(out, entries, _checkpoints(conn, with_root=False), verifier)
