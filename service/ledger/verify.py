"""`ledger verify` and `ledger export` over the database: one read-only snapshot, streamed in leaf order."""
import gc
import multiprocessing
import os
import queue
import re
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from itertools import chain
from operator import itemgetter
from pathlib import Path
from typing import Callable, Iterator, NamedTuple, Sequence

from sqlalchemy import JSON, Text, and_, cast, create_engine, event, exists, func, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import aliased

from service.audit.tables import Review
from service.core.collector import collector_paused
from service.core.ledger.checks import (LeafChecker, ProblemLog, RootTracker, Verification, gap_line, leaf_label,
                                        parse_json)
from service.core.ledger.merkle import HASH_SIZE
from service.core.rules.engine import SEVERITIES
from service.core.time import format_utc, parse_rfc3339
from service.db import make_engine
from service.events.tables import Event, EventHead
from service.ledger.bundle import BATCH, write_bundle
from service.ledger.tables import Checkpoint, Leaf, LedgerEntry, PendingEntry, TreeNode
from service.policies.tables import Munition, PolicyVersion

_SNAPSHOT_ID = re.compile(r"[0-9A-F]+(-[0-9A-F]+)+")  # what pg_export_snapshot() returns
LEAVES_PER_TASK = 100_000  # a parallel run's unit of work: big enough that its queries dwarf a task's overhead
LEAVES_PER_READ = 10_000  # one query's leaves: far more work than planning it, a few MB in memory

_MISSING = object()


@dataclass(frozen=True)
class Field:
    """A row's column and the value of its ledger entry it must equal."""

    column: str
    path: tuple[str, ...]  # keys into the entry
    instant: bool = False  # an RFC 3339 text in the entry, a timestamp in the row: compared as instants
    derive: Callable[[dict], object] | None = None  # the value is computed from the entry instead (path names it)


@dataclass(frozen=True)
class RowKind:
    """Rows derived from ledger entries of some types: which columns must equal which values of the entry."""

    name: str
    model: object  # a table's class, or an alias of one when a table has rows for two kinds of entry
    entry_column: str  # the row's column naming its entry
    entry_types: tuple[str, ...]
    fields: tuple[Field, ...]
    missing: str | None  # formatted with the entry's event_id / policy_id; None: not every entry has a row
    label: str = "id"  # the column naming a row in what is reported

    def columns(self) -> list:
        """The row's label and fields, JSON as text: parsing it here with orjson is far cheaper than
        letting the driver build Python objects, and both databases return the same form."""
        model = self.model
        return [getattr(model, self.label)] + [
            cast(getattr(model, f.column), Text) if _is_json(getattr(model, f.column)) else getattr(model, f.column)
            for f in self.fields]

    def json_positions(self) -> tuple[int, ...]:
        return tuple(i for i, f in enumerate(self.fields) if _is_json(getattr(self.model, f.column)))

    def entry_id(self):
        return getattr(self.model, self.entry_column)


def _is_json(column) -> bool:
    return isinstance(column.type, JSON)


def _highest_severity(evaluation: dict) -> str | None:
    found = {finding["severity"] for finding in evaluation["findings"]}
    return next((s for s in SEVERITIES if s in found), None)


_VERSION_OF_EVALUATION = aliased(Event, name="evaluated_version")
_HEAD_OF_EVALUATION = aliased(EventHead, name="evaluated_head")
_REPORT_FIELDS = (Field("reporter", ("reporter",)), Field("source_event_id", ("source_event_id",)),
                  Field("version", ("version",)), Field("occurred_at", ("payload", "occurred_at"), instant=True),
                  Field("received_at", ("received_at",), instant=True))
KINDS = (
    RowKind("event", Event, "ledger_entry_id", ("event_received", "correction"),
            (Field("id", ("event_id",)), *_REPORT_FIELDS, Field("supersedes", ("supersedes",))),
            "event row {event_id} is missing"),
    RowKind("event", _VERSION_OF_EVALUATION, "evaluation_entry_id", ("evaluation",),
            (Field("id", ("event_id",)),), "event row for the evaluation of {event_id} is missing"),
    # Only the latest version of an event has a head; that every event has one is checked apart.
    RowKind("event head", EventHead, "ledger_entry_id", ("event_received", "correction"),
            (Field("event_id", ("event_id",)), *_REPORT_FIELDS,
             Field("munition", ("payload", "weapon", "munition")), Field("category", ("payload", "target", "category")),
             Field("target_lat", ("payload", "target", "lat")), Field("target_lon", ("payload", "target", "lon"))),
            None),
    RowKind("event head", _HEAD_OF_EVALUATION, "evaluation_entry_id", ("evaluation",),
            (Field("event_id", ("event_id",)), Field("verdict", ("verdict",)),
             Field("policy_version", ("policy_version",)), Field("target_country", ("computed", "country")),
             Field("severity", ("findings",), derive=_highest_severity)), None),
    RowKind("review", Review, "ledger_entry_id", ("review",),
            (Field("event_id", ("event_id",)), Field("head_id", ("head_id",)), Field("status", ("status",)),
             Field("reviewer", ("reviewer",))), "review row for event {event_id} is missing"),
    RowKind("policy version", PolicyVersion, "ledger_entry_id", ("policy_published",),
            (Field("id", ("policy_id",)), Field("sha256", ("policy_sha256",)), Field("published_by", ("published_by",)),
             Field("document", ("document",))), "policy version row {policy_id} is missing"),
)


class RowLayout:
    """Where each kind's columns sit in the leaf query's rows, after the six leaf columns; the last
    column says whether a row of some kind points at this leaf's entry while the entry is missing or
    of another type (`stray`), named by stray_rows."""

    def __init__(self, kinds: tuple[RowKind, ...]):
        self.columns, self.by_type, self.placed, offset = [], {}, [], 6
        for kind in kinds:
            columns = kind.columns()
            self.columns += columns
            placed = (kind, offset, kind.json_positions())
            self.placed.append(placed)
            for entry_type in kind.entry_types:
                self.by_type.setdefault(entry_type, []).append(placed)
            offset += len(columns)
        self.stray = offset

    def stray_column(self):
        return or_(*(and_(getattr(kind.model, kind.label).is_not(None),
                          or_(LedgerEntry.id.is_(None), LedgerEntry.entry_type.not_in(kind.entry_types)))
                     for kind, _, _ in self.placed)).label("stray")


LAYOUT = RowLayout(KINDS)

def _same_instant(moment, text) -> bool:
    """Whether a row's UTC datetime is the instant an entry's text names, when the text is in the form
    format_utc writes ("2024-06-02T03:14:00Z", fractions only when present): then both sides of
    compare_rows's full comparison are that very text. Any other form of the text, or a row value that
    is not a UTC datetime (SQLite's driver gives text), answers False and takes that comparison.
    A third of the cost of parsing the text (regex and fromisoformat), measured."""
    if type(moment) is not datetime or type(text) is not str or text[-1:] != "Z":
        return False
    written = moment.isoformat()  # "+00:00" at the end whatever names UTC (the driver's zoneinfo, or timezone.utc)
    return written[-6:] == "+00:00" and written[:-6] == text[:-1]


def _offsets(entry_type: str) -> list[int]:
    return [offset for _, offset, _ in LAYOUT.by_type[entry_type]]


def _event_rows_agree(row: tuple, document: dict, _at=_offsets("event_received")) -> bool:
    """The version row and (when the version is the latest) the head say what the report entry says.

    The head's first six fields are the version row's own: compared with those (values from the
    database on both sides, instants as datetimes), then its four payload fields with the entry."""
    event, head = _at
    payload, version = document["payload"], document["version"]
    if row[event] is None or type(version) is bool or row[event + 1:event + 5] != (
            document["event_id"], document["reporter"], document["source_event_id"], version) or not (
            _same_instant(row[event + 5], payload["occurred_at"])
            and _same_instant(row[event + 6], document["received_at"]) and row[event + 7] == document["supersedes"]):
        return False
    if row[head] is None:
        return True
    target = payload["target"]
    lat, lon = target["lat"], target["lon"]
    return (type(lat) is not bool and type(lon) is not bool and row[head + 1:head + 7] == row[event + 1:event + 7]
            and row[head + 7:head + 11] == (payload["weapon"]["munition"], target["category"], lat, lon))


def _evaluation_rows_agree(row: tuple, document: dict, _at=_offsets("evaluation")) -> bool:
    version, head = _at
    if row[version] is None or row[version + 1] != document["event_id"]:
        return False
    findings = document["findings"]
    return row[head] is None or row[head + 1:head + 6] == (
        document["event_id"], document["verdict"], document["policy_version"], document["computed"]["country"],
        _highest_severity(document) if findings or type(findings) is not list else None)


# The common case of compare_rows at a few tuple comparisons a row: True only when every row the
# entry has is there and equal to it. Anything else (a difference, a missing key, a value in another
# form) goes through the column-by-column comparison, which says what differs.
_AGREE = {"event_received": _event_rows_agree, "evaluation": _evaluation_rows_agree}


@contextmanager
def snapshot(engine: Engine, shared: str | None = None) -> Iterator[Connection]:
    """A read-only transaction that sees one consistent state of every table for the whole run;
    on PostgreSQL `shared` adopts the snapshot another transaction exported (a parallel run's workers)."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            conn.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
            with conn.begin():
                if shared is not None:  # must come first in the transaction; takes no bind parameter
                    if not _SNAPSHOT_ID.fullmatch(shared):
                        raise ValueError(f"not a PostgreSQL snapshot id: {shared!r}")
                    conn.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{shared}'")
                # The pool's statement_timeout protects requests; a full scan is meant to take long.
                conn.exec_driver_sql("SET LOCAL statement_timeout = 0")
                # Its plans are known (merge joins over index ranges): compiling a piece's query
                # costs more than running it, and parallel workers for the closing checks tripled
                # their CPU (hash joins built three times) for a run that already uses every core.
                conn.exec_driver_sql("SET LOCAL jit = off")
                conn.exec_driver_sql("SET LOCAL max_parallel_workers_per_gather = 0")
                conn.exec_driver_sql("SET LOCAL work_mem = '64MB'")
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


def _within(column, start: int | None, stop: int | None) -> list:
    """start <= column < stop, either end open when None."""
    return ([] if start is None else [column >= start]) + ([] if stop is None else [column < stop])


class Piece(NamedTuple):
    """Leaves start <= index < stop (either end open when None), whose entry ids lie in
    first_entry..last_entry: what one query reads."""

    start: int | None
    stop: int | None
    first_entry: int
    last_entry: int


def _plan(conn: Connection, size: int) -> list[Piece]:
    """The leaves cut into pieces of `size` leaves in index order, counted rather than spanned, so
    the number of queries follows the number of leaves whatever their indexes (a stray index of
    10**12 is one more leaf, not 10**8 empty ranges). The first and last pieces are open-ended."""
    numbered = select(Leaf.leaf_index, Leaf.entry_id,
                      (func.row_number().over(order_by=Leaf.leaf_index) - 1).label("n")).subquery()
    first = func.min(numbered.c.leaf_index)
    rows = conn.execute(select(first, func.min(numbered.c.entry_id), func.max(numbered.c.entry_id))
                        .group_by(numbered.c.n // size).order_by(first)).all()
    edges = [None, *(row[0] for row in rows[1:]), None]
    return [Piece(start, stop, low, high) for (start, stop), (_, low, high) in zip(zip(edges, edges[1:]), rows)]


def _leaf_query(piece: Piece):
    """The rows of a piece's leaves, in entry-id order: (index, entry id, type, canonical, leaf
    hash, level-0 node, then LAYOUT's row columns).

    Outer joins, so a deleted entry, tree node or row shows up as None rather than a silently
    shorter stream; one query, so every row comes from the same place as its entry. Every table
    is bounded by the piece's entry ids, so PostgreSQL merge-joins short index ranges in entry
    order instead of looking up four indexes per leaf (half its work, measured).
    """
    start, stop = piece.start, piece.stop

    def entry(column):
        return and_(column == Leaf.entry_id, column.between(piece.first_entry, piece.last_entry))

    query = (select(Leaf.leaf_index, Leaf.entry_id, LedgerEntry.entry_type, LedgerEntry.canonical,
                    LedgerEntry.leaf_hash, TreeNode.hash, *LAYOUT.columns, LAYOUT.stray_column())
             .select_from(Leaf)
             .outerjoin(LedgerEntry, entry(LedgerEntry.id))
             # The index bounds repeat the leaves' own, so the planner reads just the piece's nodes.
             .outerjoin(TreeNode, and_(TreeNode.level == 0, TreeNode.index == Leaf.leaf_index,
                                       *_within(TreeNode.index, start, stop))))
    for kind in KINDS:
        query = query.outerjoin(kind.model, entry(kind.entry_id()))
    return query.where(*_within(Leaf.leaf_index, start, stop)).order_by(Leaf.entry_id)


def _leaf_batches(conn: Connection, pieces: list[Piece]) -> Iterator[list[tuple]]:
    """The leaf rows of each piece, one batch a piece, put in leaf order here: a piece is small
    enough to sort in memory, and sorting it costs the database far more than it costs Python.
    Runs in _read_ahead's thread, so it uses only its own driver cursor, never `conn` itself."""
    driver = conn.connection.driver_connection
    postgres = conn.dialect.name == "postgresql"
    for piece in pieces:
        sql = str(_leaf_query(piece).compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
        cursor = driver.cursor(binary=True) if postgres else driver.cursor()
        try:
            rows = cursor.execute(sql).fetchall()
        finally:
            cursor.close()
        rows.sort(key=itemgetter(0))
        yield rows


def _read_ahead(batches: Iterator[list], depth: int = 2) -> Iterator[list]:
    """The batches, read by a helper thread while the caller checks the previous ones: the database
    and the driver (which release the GIL while they wait and copy) overlap Python's hashing and
    parsing, which took a third off the run on PostgreSQL (measured)."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()
    end = object()

    def pump() -> None:
        try:
            for batch in batches:
                if stop.is_set():
                    break
                ready.put(batch)
            ready.put(end)
        except BaseException as exc:  # handed to the caller's thread, which raises it
            ready.put(exc)
        finally:
            batches.close()  # the cursor is closed by the thread that used it

    reader = threading.Thread(target=pump, name="ledger-verify-reader", daemon=True)
    reader.start()
    try:
        while (item := ready.get()) is not end:
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a pending put so the reader sees the stop and ends
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass
        reader.join()


def _driver_batches(conn: Connection, query) -> Iterator[list[tuple]]:
    """Plain driver tuples, BATCH at a time, from a server-side cursor on PostgreSQL (the export).

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


def verify_database(engine: Engine, verifiers: str | Sequence[str], echo: Callable[[str], None], jobs: int = 1,
                    leaves_per_task: int = LEAVES_PER_TASK, leaves_per_read: int = LEAVES_PER_READ) -> Verification:
    """Every check of contract §7 against the stored data; problems are echoed as they are found.
    `verifiers`: the key checkpoints are signed with, or those of a rotation, oldest first.

    Leaves are read leaves_per_read at a time. With jobs > 1 on PostgreSQL and more than
    leaves_per_task leaves, tasks of that many are checked by that many worker processes, all
    reading the same exported snapshot; this process folds their leaf hashes into the root in order.
    """
    report, started = ProblemLog(echo), time.perf_counter()
    with snapshot(engine) as conn, collector_paused():
        roots = RootTracker(_checkpoints(conn), verifiers, report)
        pieces = _plan(conn, leaves_per_read)
        per_task = max(1, leaves_per_task // leaves_per_read)
        tasks = [pieces[i:i + per_task] for i in range(0, len(pieces), per_task)]
        if jobs > 1 and conn.dialect.name == "postgresql" and len(tasks) > 1:
            compared = _check_in_parallel(conn, engine, jobs, tasks, roots, report)
        else:
            compared = _check_leaves(conn, pieces, LeafChecker(report, tree_nodes=True, wanted=LAYOUT.by_type),
                                     report, roots.extend)
        entries = roots.finish()
        with _merge_joins(conn):
            _unintegrated(conn, report)
            _rows_without_entries(conn, report)
        _heads_follow_their_versions(conn, report)
    return Verification(entries, roots.checkpoints_seen, report.count, time.perf_counter() - started, compared)


def default_jobs(cpu_max: Path = Path("/sys/fs/cgroup/cpu.max")) -> int:
    """One worker per CPU this process may use, at most 8: each holds a database connection and
    its own memory, so a large host should not get dozens of them without asking (--jobs). A
    container's CPU quota (cgroup v2 cpu.max, e.g. docker --cpus) counts as well as its affinity."""
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    try:
        quota, period = cpu_max.read_text().split()
        if quota != "max":
            usable = min(usable, -(-int(quota) // int(period)))
    except (OSError, ValueError):
        pass  # no cgroup v2 limit to read: the affinity alone
    return max(1, min(usable, 8))


def _check_leaves(conn: Connection, pieces: list[Piece], checker: LeafChecker,
                  report: ProblemLog, take_digests: Callable[[list[bytes]], None]) -> int:
    """Leaves and their rows, piece by piece; the leaf hashes go to take_digests in leaf order.
    Returns how many rows were compared."""
    compared = 0
    for batch in _read_ahead(_leaf_batches(conn, pieces)):
        digests, selected = checker.check(batch)
        take_digests(digests)
        compare_rows(selected, report)
        stray = LAYOUT.stray
        for row in [row for row in batch if row[stray]]:
            stray_rows(row, report)
        compared += len(selected)
    return compared


class TaskChecked(NamedTuple):
    """What a worker found in one task (consecutive pieces of leaves)."""

    first: tuple[int, int | None] | None  # (index, entry id) of its first leaf, None if it had none
    expected: int | None  # the index after its last leaf
    digests: bytes  # its leaf hashes, concatenated in leaf order
    lines: list[str]  # its problems, in the order found
    compared: int


def _check_in_parallel(conn: Connection, engine: Engine, jobs: int, tasks: list[list[Piece]],
                       roots: RootTracker, report: ProblemLog) -> int:
    """Workers check tasks of consecutive pieces (hashes, nodes, types, rows); results come back in
    task order, so the root, the gaps between tasks and the problem lines are those of one pass."""
    shared = conn.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    url = engine.url.render_as_string(hide_password=False)
    expected, compared = 0, 0
    with ProcessPoolExecutor(min(jobs, len(tasks)), mp_context=multiprocessing.get_context("spawn"),
                             initializer=_start_worker, initargs=(url, shared)) as pool:
        for found in pool.map(_check_task, tasks):
            if found.first is not None and found.first[0] != expected:
                report(gap_line(expected, *found.first))
            for line in found.lines:
                report(line)
            digests = found.digests
            roots.extend([digests[i:i + HASH_SIZE] for i in range(0, len(digests), HASH_SIZE)])
            expected = expected if found.expected is None else found.expected
            compared += found.compared
    return compared


_worker: dict = {}  # a worker process's connection, inside the shared snapshot, for all its tasks


def _start_worker(url: str, shared: str) -> None:
    gc.disable()  # the worker only checks entries: see core.collector
    engine = make_engine(url, pool_size=1)
    context = snapshot(engine, shared)
    _worker.update(engine=engine, context=context, conn=context.__enter__())


def _check_task(task: list[Piece]) -> TaskChecked:
    lines: list[str] = []
    report = ProblemLog(lines.append)
    checker = LeafChecker(report, tree_nodes=True, wanted=LAYOUT.by_type, expected=None)
    digests: list[bytes] = []
    compared = _check_leaves(_worker["conn"], task, checker, report, digests.extend)
    return TaskChecked(checker.first, checker.expected, b"".join(digests), lines, compared)


def compare_rows(selected: list[tuple[tuple, dict]], report: ProblemLog) -> None:
    """Compare parsed entries with the row columns that came with them in the leaf query."""
    by_type, agree = LAYOUT.by_type, _AGREE
    for row, document in selected:
        entry_type = document["entry_type"]
        if entry_type in agree:
            try:
                if agree[entry_type](row, document):
                    continue
            except (KeyError, TypeError):
                pass  # a key absent or not an object: the comparison below names it
        for kind, offset, json_positions in by_type[entry_type]:
            if row[offset] is None:
                if kind.missing is not None:
                    report(f"{leaf_label(row[0], row[1])}: " + kind.missing.format(
                        event_id=document.get("event_id"), policy_id=document.get("policy_id")))
                continue
            ours = list(row[offset + 1:offset + 1 + len(kind.fields)])
            for i in json_positions:
                if ours[i] is not None:
                    ours[i] = parse_json(ours[i])
            theirs = [_entry_value(document, field) for field in kind.fields]
            for i, field in enumerate(kind.fields):
                if field.instant:
                    ours[i], theirs[i] = _instant(ours[i]), _instant(theirs[i])
            # The common case, at C speed. No column is boolean, so a boolean in the entry is a
            # difference even where == says True == 1; first_difference then says what differs.
            if ours == theirs and bool not in map(type, theirs):
                continue
            for field, mine, ledger in zip(kind.fields, ours, theirs):
                found = first_difference(mine, ledger, field.column)
                if found:
                    path, mine, ledger = found
                    report(f"{leaf_label(row[0], row[1])}: {kind.name} row {row[offset]} {path} {_show(mine)} "
                           f"!= ledger {_show(ledger)}")


def _entry_value(document: dict, field: Field):
    if field.derive is not None:
        return field.derive(document)
    value = document
    for key in field.path:
        if not isinstance(value, dict) or key not in value:
            return _MISSING
        value = value[key]
    return value


def _instant(value):
    """An instant as UTC text, from an RFC 3339 text or a stored timestamp (SQLite's driver gives text)."""
    if value is None or value is _MISSING:
        return value
    if isinstance(value, datetime):
        return format_utc(value if value.tzinfo else value.replace(tzinfo=timezone.utc))
    try:
        return format_utc(parse_rfc3339(value))
    except ValueError:  # SQLite's own form, "YYYY-MM-DD HH:MM:SS.ffffff", in UTC
        try:
            return format_utc(datetime.fromisoformat(value).replace(tzinfo=timezone.utc))
        except (TypeError, ValueError):
            return value  # not an instant at all: compared, and reported, as it is


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


@contextmanager
def _merge_joins(conn: Connection) -> Iterator[None]:
    """Anti-joins of a million rows with the two million leaves, both read in entry-id order from
    their unique indexes: PostgreSQL otherwise hashes every leaf again for each of them (1.3 s each,
    against 1.2 s for the whole merge, measured)."""
    if conn.dialect.name != "postgresql":
        yield
        return
    conn.exec_driver_sql("SET LOCAL enable_hashjoin = off")
    try:
        yield
    finally:
        conn.exec_driver_sql("SET LOCAL enable_hashjoin = on")


def _unintegrated(conn: Connection, report: ProblemLog) -> None:
    """An entry that is neither a leaf nor waiting for the sequencer was dropped from the tree."""
    # The ids first, from the index alone (OFFSET 0 keeps the planner from merging the two): reading
    # each entry's type on the way took the anti-join from 1.1 to 4.0 s at two million entries.
    dropped = (select(LedgerEntry.id).where(~exists().where(Leaf.entry_id == LedgerEntry.id),
                                            ~exists().where(PendingEntry.entry_id == LedgerEntry.id))
               .offset(0).subquery())
    typed = aliased(LedgerEntry)
    query = (select(dropped.c.id, typed.entry_type).join(typed, typed.id == dropped.c.id)
             .order_by(dropped.c.id).execution_options(yield_per=BATCH))
    for entry_id, entry_type in conn.execute(query):
        report(f"entry {entry_id} ({entry_type}) is neither a leaf nor pending")


def _stray_line(kind: RowKind, row_id, entry_id, entry_type: str | None) -> str:
    what = "missing" if entry_type is None else f"of type {entry_type!r}"
    return f"{kind.name} row {row_id}: its {kind.entry_column.removesuffix('_id').replace('_', ' ')} {entry_id} is {what}"


def stray_rows(row: tuple, report: ProblemLog) -> None:
    """The rows of a leaf-query row (one its `stray` column marks) that point at its entry while
    the entry is missing or of a type that is not their kind's."""
    entry_type = row[2]  # None: the leaf's entry is missing (its type column is NOT NULL)
    for kind, offset, _ in LAYOUT.placed:
        if row[offset] is not None and (entry_type is None or entry_type not in kind.entry_types):
            report(_stray_line(kind, row[offset], row[1], entry_type))


def _rows_without_entries(conn: Connection, report: ProblemLog) -> None:
    """Rows must point at an entry of their own type. Those pointing at a leaf's entry came with the
    leaf (compared, or named by stray_rows); these are the others, pointing at a pending entry or at
    none. Looking up the type of every row's entry again here read the ledger's million-row heap
    four times over: a third of a run's database time at a million events (measured)."""
    for kind in KINDS:
        model, entry_id = kind.model, kind.entry_id()
        query = (select(getattr(model, kind.label), entry_id, LedgerEntry.entry_type)
                 .outerjoin(LedgerEntry, LedgerEntry.id == entry_id)
                 .where(~exists().where(Leaf.entry_id == entry_id),
                        or_(LedgerEntry.id.is_(None), LedgerEntry.entry_type.not_in(kind.entry_types)))
                 .order_by(entry_id).execution_options(yield_per=BATCH))
        for row_id, entry_id, entry_type in conn.execute(query):
            report(_stray_line(kind, row_id, entry_id, entry_type))


def _heads_follow_their_versions(conn: Connection, report: ProblemLog) -> None:
    """What heads say that no single entry does: which version is the latest, which review the last, the
    munition's family; and that each version belongs to its event (rows the stream checked against entries)."""
    version, later, previous = aliased(Event), aliased(Event), aliased(Event)
    newer_version = select(later.id).where(later.head_id == EventHead.id, later.version > version.version).exists()
    for head_id, event_id in conn.execute(
            select(EventHead.id, EventHead.event_id).outerjoin(version, version.id == EventHead.event_id)
            .where(or_(version.id.is_(None), version.head_id != EventHead.id,
                       version.ledger_entry_id != EventHead.ledger_entry_id,
                       version.evaluation_entry_id != EventHead.evaluation_entry_id, newer_version))
            .order_by(EventHead.id)):
        report(f"event head {head_id}: event {event_id} is not the latest version of the event, or its entries differ")
    headless = select(Event.head_id).where(~select(EventHead.id).where(EventHead.id == Event.head_id).exists())
    for (head_id,) in conn.execute(headless.distinct().order_by(Event.head_id)):
        report(f"event {head_id} has versions but no event head")
    for event_id, number in conn.execute(
            select(Event.id, Event.version).outerjoin(previous, previous.id == Event.supersedes)
            .where(or_(and_(Event.version == 1, or_(Event.head_id != Event.id, Event.supersedes.is_not(None))),
                       and_(Event.version > 1, or_(previous.id.is_(None), previous.head_id != Event.head_id,
                                                   previous.version != Event.version - 1))))
            .order_by(Event.id)):
        report(f"event row {event_id}: version {number} does not follow the version it supersedes")
    review, newer = aliased(Review), aliased(Review)
    any_review = select(newer.id).where(newer.head_id == EventHead.id).exists()
    newer_review = select(newer.id).where(newer.head_id == EventHead.id, newer.id > review.id).exists()
    for head_id, status in conn.execute(
            select(EventHead.id, EventHead.review_status).outerjoin(review, review.id == EventHead.review_id)
            .where(or_(and_(EventHead.review_id.is_(None), or_(EventHead.review_status != "open", any_review)),
                       and_(EventHead.review_id.is_not(None),
                            or_(review.id.is_(None), review.head_id != EventHead.id,
                                review.status != EventHead.review_status, newer_review))))
            .order_by(EventHead.id)):
        report(f"event head {head_id}: review status {status!r} is not its latest review's")
    for head_id, munition, family in conn.execute(
            select(EventHead.id, EventHead.munition, EventHead.family)
            .outerjoin(Munition, Munition.code == EventHead.munition)
            .where(EventHead.family.is_distinct_from(Munition.family)).order_by(EventHead.id)):
        report(f"event head {head_id}: family {family!r} is not the catalog's for {munition!r}")


def export_database(engine: Engine, verifier: str, out: Path) -> tuple[int, int]:
    """Write the bundle from one snapshot: every leaf with its stored bytes, every checkpoint, the key."""
    with snapshot(engine) as conn:
        query = (select(Leaf.leaf_index, LedgerEntry.entry_type, LedgerEntry.leaf_hash, LedgerEntry.canonical)
                 .join(LedgerEntry, LedgerEntry.id == Leaf.entry_id)
                 .order_by(Leaf.leaf_index))
        entries = chain.from_iterable(_driver_batches(conn, query))
        return write_bundle(out, entries, _checkpoints(conn, with_root=False), verifier)
