"""Report figures by SQL aggregation over the event heads, in a transaction that sees exactly what the
checkpoint covers: how reports are made. replay.py recomputes them from the ledger entries alone (how
they are checked); the two share nothing but document.assemble and what it hands on to.
"""
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Callable, Iterator

from sqlalchemy import Connection, Engine, and_, case, func, literal, or_, select, union
from sqlalchemy.orm import Session

from service.audit.tables import Review
from service.core.ledger.checks import parse_json
from service.core.time import parse_rfc3339
from service.events.tables import Event, EventHead, EventRule
from service.ledger.tables import Checkpoint, Leaf, LedgerEntry
from service.policies.tables import PolicyVersion
from service.reports.document import FLAGGED, Group, assemble, policy_view
from service.reports.judgements import Judgements
from service.reports.periods import Period, weeks_between
from service.reports.revisions import EventState, Key, RecordedReview, RevisionBasis, Superseded
from service.reports.tables import Report

CHUNK = 1000  # ids bound per statement: far below both databases' parameter limits


def compute_report(session: Session, period: Period, checkpoint: Checkpoint,
                   revision: RevisionBasis | None = None) -> dict:
    """The figures from the event heads, in a transaction that sees exactly what `checkpoint` covers
    (ledger.sequencer.integrated_snapshot): every head is then the latest version as of that checkpoint.
    `revision` (revision_basis): the report as the next revision of a scheduled period."""
    connection = session.connection()
    _plan_for_aggregates(connection)
    with _counting_beside(connection, period) as counted:
        flagged = _flagged(connection, period)
        groups, by_status, by_rule = counted()
    n = checkpoint.tree_size
    policies = [policy_view(p.id, p.sha256, p.effective_from, p.effective_to)
                for p in policies_in_force(session, period, n)]
    return assemble(period, n, checkpoint.root_hash, checkpoint.signed_at, policies, groups, by_rule, flagged,
                    Judgements(dict(by_status), _reviewed(session, period)), revision)


def _in_period(period: Period) -> tuple:
    return EventHead.occurred_at >= period.start, EventHead.occurred_at < period.end


def _counts(connection: Connection, period: Period) -> tuple[list[Group], Counter, dict]:
    """The groups, events per review status and events per rule of the period (event_heads, event_rules).
    One pass over the heads counts both the groups and the review statuses: a group is handed on once per
    status it holds, which every tally downstream simply adds up."""
    weeks = weeks_between(period.start, period.end)
    week = case(*[(EventHead.occurred_at < start, i - 1) for i, start in enumerate(weeks) if i],
                else_=len(weeks) - 1) if len(weeks) > 1 else literal(0)
    dims = (EventHead.verdict, func.coalesce(EventHead.severity, "none"), func.coalesce(EventHead.family, "unknown"),
            EventHead.reporter, EventHead.category, week, EventHead.version > 1, EventHead.review_status)
    groups, by_status = [], Counter()
    for *values, corrected, status, count in connection.execute(
            select(*dims, func.count()).where(*_in_period(period)).group_by(*dims)):
        groups.append(Group(*values, bool(corrected), count))
        by_status[status] += count
    by_rule = dict(connection.execute(select(EventRule.rule_id, func.count())
                                      .join(EventHead, EventHead.event_id == EventRule.event_id)
                                      .where(*_in_period(period)).group_by(EventRule.rule_id)).all())
    return groups, by_status, by_rule


def _flagged(connection: Connection, period: Period) -> list[dict]:
    """Every violation and needs_review head of the period; a violation with its findings. Only a violation
    lists them, so only a violation's evaluation entry is read (a left join: a needs_review head costs no
    look-up into the ledger's entries). Plain Core rows: the ORM's row loading was a fifth of this."""
    rows = connection.execute(select(EventHead.event_id, EventHead.source_event_id, EventHead.reporter,
                                     EventHead.occurred_at, EventHead.received_at, EventHead.verdict,
                                     EventHead.policy_version, func.coalesce(EventHead.severity, "none"),
                                     EventHead.review_status, EventHead.target_lat, EventHead.target_lon,
                                     LedgerEntry.canonical)
                              .outerjoin(LedgerEntry, and_(LedgerEntry.id == EventHead.evaluation_entry_id,
                                                           EventHead.verdict == "violation"))
                              .where(*_in_period(period), EventHead.verdict.in_(FLAGGED)))
    return [{"event_id": event_id, "source_event_id": source_id, "reporter": reporter, "occurred_at": occurred,
             "received_at": received, "verdict": verdict, "policy_version": policy, "severity": severity,
             "review_status": status, "lat": lat, "lon": lon,
             "findings": parse_json(evaluation)["findings"] if evaluation is not None else []}
            for event_id, source_id, reporter, occurred, received, verdict, policy, severity, status, lat, lon,
            evaluation in rows]


@contextmanager
def _counting_beside(connection: Connection, period: Period) -> Iterator[Callable[[], tuple]]:
    """Yields a function answering _counts. In a REPEATABLE READ transaction on PostgreSQL the counts run on a
    second connection that adopts this transaction's snapshot (so they see exactly the same rows), in a
    thread, while this connection lists the flagged events and Python builds their rows: at 1M events the
    two counts are 0.3-0.7 s of the database's time and the listing 0.8-1.2 s of the database's and
    Python's, which two cores can overlap. Leaving the block waits for the thread, so the snapshot's
    transaction outlives its use. Elsewhere (SQLite, or a transaction without a fixed snapshot) they run
    here, first."""
    if connection.dialect.name != "postgresql" or connection.get_isolation_level() != "REPEATABLE READ":
        counts = _counts(connection, period)
        yield lambda: counts
        return
    shared = connection.exec_driver_sql("SELECT pg_export_snapshot()").scalar()
    with ThreadPoolExecutor(max_workers=1) as pool:
        yield pool.submit(_counts_in_snapshot, connection.engine, shared, period).result


def _counts_in_snapshot(engine: Engine, shared: str, period: Period) -> tuple:
    with engine.connect() as side:
        side.execution_options(isolation_level="REPEATABLE READ", postgresql_readonly=True)
        with side.begin():
            # Must come first in the transaction; takes no bind parameter (the id is pg_export_snapshot's).
            side.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{shared}'")
            _plan_for_aggregates(side)
            return _counts(side, period)


def _plan_for_aggregates(connection: Connection) -> None:
    """PostgreSQL, for this transaction only: memory enough to hash a period's groups (4 MB, the default,
    sorted a month's 108,000 heads on disk instead: 1.2 s of a 1.45 s statement, 0.25 s hashed), and no
    JIT (compiling these statements cost 30-90 ms each and won nothing back at this size)."""
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql("SET LOCAL work_mem = '64MB'")
        connection.exec_driver_sql("SET LOCAL jit = off")


def _below(entry_id, tree_size: int):
    """Only what a checkpoint of that size covers: the entry has a leaf index below it."""
    return (select(Leaf.entry_id).where(Leaf.entry_id == entry_id, Leaf.leaf_index < tree_size)
            .correlate_except(Leaf).exists())


def policies_in_force(session: Session, period: Period, tree_size: int) -> list[PolicyVersion]:
    """Versions in force during the period, as published below tree_size (policy_versions, ledger_leaves)."""
    return session.scalars(select(PolicyVersion).where(
        _below(PolicyVersion.ledger_entry_id, tree_size), PolicyVersion.effective_from < period.end,
        or_(PolicyVersion.effective_to.is_(None), PolicyVersion.effective_to > period.start))).all()


def _reviewed(session: Session, period: Period) -> list[dict]:
    """Each reviewed event of the period with its latest review: the head names it; its comment is in
    its ledger entry only (event_heads, reviews, ledger_entries)."""
    rows = session.execute(select(EventHead.event_id, EventHead.source_event_id, EventHead.reporter,
                                  EventHead.occurred_at, EventHead.verdict, EventHead.review_status, Review.reviewer,
                                  LedgerEntry.canonical)
                           .join(Review, Review.id == EventHead.review_id)
                           .join(LedgerEntry, LedgerEntry.id == Review.ledger_entry_id).where(*_in_period(period)))
    reviewed = []
    for event_id, source_id, reporter, occurred_at, verdict, status, reviewer, canonical in rows:
        entry = parse_json(canonical)
        reviewed.append({"event_id": event_id, "source_event_id": source_id, "reporter": reporter,
                         "occurred_at": occurred_at, "verdict": verdict, "review_status": status,
                         "latest_review": {"status": status, "reviewer": reviewer, "comment": entry["comment"],
                                           "recorded_at": parse_rfc3339(entry["recorded_at"])}})
    return reviewed


# What a revision compares (revisions.py): the revision it supersedes, the events touched since then,
# their states then and now, and the reviews recorded since.

def revision_basis(session: Session, kind: str, period: Period, tree_size: int) -> RevisionBasis:
    superseded = superseded_revision(session, kind, period, tree_size)
    if superseded is None:
        return RevisionBasis(kind, None)
    since = superseded.tree_size
    touched = touched_events(session, period, since, tree_size)
    return RevisionBasis(kind, superseded, _states_then(session, period, since, touched),
                         _states_now(session, period, touched), _reviews_since(session, set(touched), since, tree_size),
                         tuple(p.id for p in policies_in_force(session, period, since)))


def superseded_revision(session: Session, kind: str, period: Period, tree_size: int) -> Superseded | None:
    """The period's newest stored revision whose report_generated entry lies below tree_size
    (compliance_reports, ledger_leaves)."""
    report = session.scalars(select(Report).where(
        Report.kind == kind, Report.period_from == period.start, Report.period_to == period.end,
        _below(Report.ledger_entry_id, tree_size)).order_by(Report.revision.desc()).limit(1)).first()
    return None if report is None else Superseded(report.id, report.revision, report.sha256, report.tree_size)


def touched_events(session: Session, period: Period, since: int, tree_size: int) -> dict[str, Key]:
    """head id -> key of every event with some version in the period and a version, evaluation or review
    entry in [since, tree_size): every other event of the period is as it was at `since`. Found from the
    entries of that range, by the entry-id indexes (ledger_leaves, events, reviews)."""
    new = select(Leaf.entry_id).where(Leaf.leaf_index >= since, Leaf.leaf_index < tree_size)
    heads = union(select(Event.head_id).where(Event.ledger_entry_id.in_(new)),
                  select(Event.head_id).where(Event.evaluation_entry_id.in_(new)),
                  select(Review.head_id).where(Review.ledger_entry_id.in_(new))).subquery()
    rows = session.execute(select(Event.head_id, Event.reporter, Event.source_event_id).distinct()
                           .where(Event.head_id.in_(select(heads.c.head_id)), Event.occurred_at >= period.start,
                                  Event.occurred_at < period.end))
    return {head_id: (reporter, source_id) for head_id, reporter, source_id in rows}


def _chunks(ids) -> list[list]:
    ids = sorted(ids)
    return [ids[i:i + CHUNK] for i in range(0, len(ids), CHUNK)]


def _states_now(session: Session, period: Period, touched: dict[str, Key]) -> dict[Key, EventState]:
    """Those events as their heads say now, for those in the period (event_heads)."""
    states = {}
    for chunk in _chunks(touched):
        for row in session.execute(select(EventHead.event_id, EventHead.source_event_id, EventHead.reporter,
                                          EventHead.version, EventHead.verdict, EventHead.review_status)
                                   .where(EventHead.id.in_(chunk), EventHead.occurred_at >= period.start,
                                          EventHead.occurred_at < period.end)):
            states[row.reporter, row.source_event_id] = EventState(*row)
    return states


def _states_then(session: Session, period: Period, since: int, touched: dict[str, Key]) -> dict[Key, EventState]:
    """Those events as of tree size `since`: the latest version judged below it (its verdict read from
    its evaluation entry) and the latest review below it, for those in the period then (events, reviews,
    ledger_leaves, ledger_entries)."""
    latest, statuses = {}, {}
    for chunk in _chunks(touched):
        for row in session.execute(select(Event.head_id, Event.id, Event.version, Event.occurred_at,
                                          LedgerEntry.canonical)
                                   .join(LedgerEntry, LedgerEntry.id == Event.evaluation_entry_id)
                                   .where(Event.head_id.in_(chunk), _below(Event.evaluation_entry_id, since))):
            if row.head_id not in latest or latest[row.head_id].version < row.version:
                latest[row.head_id] = row
        statuses.update(session.execute(
            select(Review.head_id, Review.status).where(Review.id.in_(
                select(func.max(Review.id)).where(Review.head_id.in_(chunk), _below(Review.ledger_entry_id, since))
                .group_by(Review.head_id)))).all())
    states = {}
    for head_id, row in latest.items():
        if period.start <= row.occurred_at < period.end:
            reporter, source_id = touched[head_id]
            states[reporter, source_id] = EventState(row.id, source_id, reporter, row.version,
                                                     parse_json(row.canonical)["verdict"],
                                                     statuses.get(head_id, "open"))
    return states


def _reviews_since(session: Session, touched: set[str], since: int, tree_size: int) -> list[RecordedReview]:
    """Reviews of those events whose entries lie in [since, tree_size), in leaf order; the comment is read
    from the entry (reviews by head id, ledger_leaves, ledger_entries, event_heads)."""
    found = []
    for chunk in _chunks(touched):
        found += session.execute(select(Leaf.leaf_index, EventHead.reporter, EventHead.source_event_id,
                                        Review.event_id, Review.status, Review.reviewer, LedgerEntry.canonical)
                                 .join(Leaf, Leaf.entry_id == Review.ledger_entry_id)
                                 .join(LedgerEntry, LedgerEntry.id == Review.ledger_entry_id)
                                 .join(EventHead, EventHead.id == Review.head_id)
                                 .where(Review.head_id.in_(chunk), Leaf.leaf_index >= since,
                                        Leaf.leaf_index < tree_size)).all()
    recorded = []
    for _, reporter, source_id, event_id, status, reviewer, canonical in sorted(found, key=lambda row: row[0]):
        entry = parse_json(canonical)
        recorded.append(RecordedReview((reporter, source_id), event_id, status, reviewer, entry["comment"],
                                       parse_rfc3339(entry["recorded_at"])))
    return recorded
