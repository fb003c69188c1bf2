"""Report figures by SQL aggregation over the tables, restricted to rows whose ledger entries sit below
the checkpoint's tree size: how reports are made. replay.py recomputes them from the ledger entries
alone (how they are checked); the two share nothing but document.assemble and what it hands on to.
"""
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Column, MetaData, Table, and_, case, func, insert, literal, or_, select, tuple_, union
from sqlalchemy.orm import Session, aliased

from service.audit.tables import Review
from service.core.rules.engine import SEVERITIES, SEVERITY_OF_RULE
from service.events.tables import Evaluation, Event, EventRule
from service.ledger.tables import Checkpoint, Leaf
from service.policies.tables import Munition, PolicyVersion
from service.reports.document import FLAGGED, SEVERITY_KEYS, Group, assemble, policy_view
from service.reports.judgements import Judgements
from service.reports.periods import Period, weeks_between
from service.reports.revisions import EventState, Key, RecordedReview, RevisionBasis, Superseded
from service.reports.tables import Report

RANK = case(*[(EventRule.rule_id.in_([r for r, s in SEVERITY_OF_RULE.items() if s == severity]), rank)
              for rank, severity in enumerate(SEVERITIES)], else_=len(SEVERITIES))


def _below(entry_id, tree_size: int):
    """Only what the checkpoint covers: the entry has a leaf index below its tree size."""
    return (select(Leaf.entry_id).where(Leaf.entry_id == entry_id, Leaf.leaf_index < tree_size)
            .correlate_except(Leaf).exists())


def _period_keys(period: Period):
    """(reporter, source_event_id) of every event with some version in the period."""
    version = aliased(Event)
    return select(version.reporter, version.source_event_id).where(
        version.occurred_at >= period.start, version.occurred_at < period.end)


def _heads(period: Period, tree_size: int, keys: tuple[Key, ...] | None = None):
    """Latest judged version of each event as of the checkpoint, with its evaluation and review status;
    `keys`: of those events only."""
    # Only an event with some version in the period can have its latest one there: finding those
    # first (by the occurred_at index) keeps the grouping to the period's events, not every event.
    in_period = _period_keys(period)
    if keys is not None:
        in_period = in_period.where(tuple_(*in_period.selected_columns).in_(keys))
    judged = (select(Event.reporter, Event.source_event_id, func.max(Event.version).label("version"))
              .join(Evaluation, Evaluation.event_id == Event.id)
              .where(_below(Evaluation.ledger_entry_id, tree_size),
                     tuple_(Event.reporter, Event.source_event_id).in_(in_period))
              .group_by(Event.reporter, Event.source_event_id).subquery())
    # One evaluation per version today; the newest integrated one of the latest version would win.
    judgement = aliased(Evaluation)
    evaluation_of = (select(func.max(judgement.id)).where(judgement.event_id == Event.id,
                                                          _below(judgement.ledger_entry_id, tree_size))
                     .correlate(Event).scalar_subquery())
    reviewed = Event.__table__.alias("reviewed")  # any version: a review of an older one still counts
    latest_review = (select(Review.status).join(reviewed, reviewed.c.id == Review.event_id)
                     .where(reviewed.c.reporter == Event.reporter, reviewed.c.source_event_id == Event.source_event_id,
                            _below(Review.ledger_entry_id, tree_size))
                     .order_by(Review.id.desc()).limit(1).correlate(Event).scalar_subquery())
    rank = select(func.min(RANK)).where(EventRule.event_id == Event.id).correlate(Event).scalar_subquery()
    munition = Event.payload[("weapon", "munition")].as_string()
    return (select(Event.id.label("event_id"), Event.reporter, Event.source_event_id, Event.version,
                   Event.occurred_at, Event.received_at, Evaluation.verdict, Evaluation.id.label("evaluation_id"),
                   Evaluation.policy_id, func.coalesce(Munition.family, "unknown").label("family"),
                   Event.payload[("target", "category")].as_string().label("category"),
                   func.coalesce(rank, len(SEVERITIES)).label("severity_rank"),
                   func.coalesce(latest_review, "open").label("review_status"))
            .join(judged, and_(judged.c.reporter == Event.reporter, judged.c.source_event_id == Event.source_event_id,
                               judged.c.version == Event.version))
            .join(Evaluation, Evaluation.id == evaluation_of)
            .outerjoin(Munition, Munition.code == munition)
            .where(Event.occurred_at >= period.start, Event.occurred_at < period.end)
            .subquery("heads"))


@contextmanager
def _materialized(session: Session, query) -> Iterator[Table]:
    """The query's rows in a temporary table of this connection, for the length of the block: the
    aggregations below read the period's heads instead of each recomputing them (three times the
    grouping and look-ups, 15 s for a month of 110,000 events at a million; see README)."""
    table = Table("report_heads", MetaData(), *(Column(c.name, c.type) for c in query.c), prefixes=["TEMPORARY"])
    connection = session.connection()
    table.create(connection)
    try:
        session.execute(insert(table).from_select(list(query.c.keys()), select(query)))
        yield table
    finally:
        table.drop(connection)


def compute_report(session: Session, period: Period, checkpoint: Checkpoint, kind: str | None = None) -> dict:
    """`kind` (weekly or monthly): the report as the next revision of that scheduled period."""
    revision = revision_basis(session, kind, period, checkpoint.tree_size) if kind else None
    with _materialized(session, _heads(period, checkpoint.tree_size)) as heads:
        return _figures(session, period, checkpoint, heads, revision)


def _figures(session: Session, period: Period, checkpoint: Checkpoint, heads, revision) -> dict:
    n = checkpoint.tree_size
    weeks = weeks_between(period.start, period.end)
    week = case(*[(heads.c.occurred_at < start, i - 1) for i, start in enumerate(weeks) if i], else_=len(weeks) - 1) \
        if len(weeks) > 1 else literal(0)
    dims = (heads.c.verdict, heads.c.severity_rank, heads.c.family, heads.c.reporter, heads.c.category, week,
            heads.c.version > 1)
    groups = [Group(row[0], SEVERITY_KEYS[row[1]], *row[2:6], bool(row[6]), row[7])
              for row in session.execute(select(*dims, func.count()).group_by(*dims))]
    by_rule = dict(session.execute(select(EventRule.rule_id, func.count()).join(
        heads, heads.c.event_id == EventRule.event_id).group_by(EventRule.rule_id)).all())
    # Only the target's coordinates of each payload: reading whole payloads cost a second a month.
    listed = session.execute(select(heads, Event.payload[("target", "lat")].as_float().label("lat"),
                                    Event.payload[("target", "lon")].as_float().label("lon"), Evaluation.findings)
                             .join(Event, Event.id == heads.c.event_id)
                             .join(Evaluation, Evaluation.id == heads.c.evaluation_id)
                             .where(heads.c.verdict.in_(FLAGGED))).mappings()
    flagged = [{**row, "policy_version": row["policy_id"], "severity": SEVERITY_KEYS[row["severity_rank"]]}
               for row in listed]
    policies = [policy_view(p.id, p.sha256, p.effective_from, p.effective_to)
                for p in policies_in_force(session, period, n)]
    return assemble(period, n, checkpoint.root_hash, checkpoint.signed_at, policies, groups, by_rule, flagged,
                    _judgements(session, heads, n), revision)


def policies_in_force(session: Session, period: Period, tree_size: int) -> list[PolicyVersion]:
    """Versions in force during the period, as published below tree_size."""
    return session.scalars(select(PolicyVersion).where(
        _below(PolicyVersion.ledger_entry_id, tree_size), PolicyVersion.effective_from < period.end,
        or_(PolicyVersion.effective_to.is_(None), PolicyVersion.effective_to > period.start))).all()


def _judgements(session: Session, heads, tree_size: int) -> Judgements:
    """Events per review status, and each reviewed event's latest review (reviews, events by key)."""
    by_status = dict(session.execute(select(heads.c.review_status, func.count()).group_by(heads.c.review_status)).all())
    reviewed_version, review = Event.__table__.alias("reviewed_version"), aliased(Review)  # any version: as in _heads
    latest = (select(func.max(review.id)).join(reviewed_version, reviewed_version.c.id == review.event_id)
              .where(reviewed_version.c.reporter == heads.c.reporter,
                     reviewed_version.c.source_event_id == heads.c.source_event_id,
                     _below(review.ledger_entry_id, tree_size))
              .correlate(heads).scalar_subquery())
    rows = session.execute(select(heads.c.event_id, heads.c.source_event_id, heads.c.reporter, heads.c.occurred_at,
                                  heads.c.verdict, heads.c.review_status, Review.reviewer, Review.comment,
                                  Review.created_at)
                           .join(Review, Review.id == latest).where(heads.c.review_status != "open")).mappings()
    reviewed = [{**{k: row[k] for k in ("event_id", "source_event_id", "reporter", "occurred_at", "verdict",
                                        "review_status")},
                 "latest_review": {"status": row["review_status"], "reviewer": row["reviewer"],
                                   "comment": row["comment"], "recorded_at": row["created_at"]}} for row in rows]
    return Judgements(by_status, reviewed)


# What a revision compares (revisions.py): the revision it supersedes, the events touched since then,
# their states then and now, and the reviews recorded since.

def revision_basis(session: Session, kind: str, period: Period, tree_size: int) -> RevisionBasis:
    superseded = superseded_revision(session, kind, period, tree_size)
    if superseded is None:
        return RevisionBasis(kind, None)
    since = superseded.tree_size
    touched = touched_events(session, period, since, tree_size)
    return RevisionBasis(kind, superseded, _states(session, period, since, touched),
                         _states(session, period, tree_size, touched),
                         _reviews_since(session, period, since, tree_size),
                         tuple(p.id for p in policies_in_force(session, period, since)))


def superseded_revision(session: Session, kind: str, period: Period, tree_size: int) -> Superseded | None:
    """The period's newest stored revision whose report_generated entry lies below tree_size (compliance_reports)."""
    report = session.scalars(select(Report).where(
        Report.kind == kind, Report.period_from == period.start, Report.period_to == period.end,
        _below(Report.ledger_entry_id, tree_size)).order_by(Report.revision.desc()).limit(1)).first()
    return None if report is None else Superseded(report.id, report.revision, report.sha256, report.tree_size)


def _between(entry_id, since: int, tree_size: int):
    return (select(Leaf.entry_id).where(Leaf.entry_id == entry_id, Leaf.leaf_index >= since,
                                        Leaf.leaf_index < tree_size).correlate_except(Leaf).exists())


def touched_events(session: Session, period: Period, since: int, tree_size: int) -> list[Key]:
    """Events with some version in the period and a version, evaluation or review entry in
    [since, tree_size) (events, evaluations, reviews, ledger_leaves); every other event of the period
    is as it was at `since`."""
    key = (Event.reporter, Event.source_event_id)
    of_period = tuple_(*key).in_(_period_keys(period))
    versions = select(*key).where(of_period, _between(Event.ledger_entry_id, since, tree_size))
    evaluated = (select(*key).join(Evaluation, Evaluation.event_id == Event.id)
                 .where(of_period, _between(Evaluation.ledger_entry_id, since, tree_size)))
    reviewed = (select(*key).join(Review, Review.event_id == Event.id)
                .where(of_period, _between(Review.ledger_entry_id, since, tree_size)))
    return sorted(tuple(row) for row in session.execute(union(versions, evaluated, reviewed)))


def _states(session: Session, period: Period, tree_size: int, keys: list[Key]) -> dict[Key, EventState]:
    """Those events' latest judged versions as of tree_size, for those in the period then (_heads)."""
    states = {}
    for start in range(0, len(keys), 1000):  # bound parameters stay far below both databases' limits
        heads = _heads(period, tree_size, tuple(keys[start:start + 1000]))
        for row in session.execute(select(heads.c.event_id, heads.c.source_event_id, heads.c.reporter,
                                          heads.c.version, heads.c.verdict, heads.c.review_status)):
            states[row.reporter, row.source_event_id] = EventState(*row)
    return states


def _reviews_since(session: Session, period: Period, since: int, tree_size: int) -> list[RecordedReview]:
    """Reviews of the period's events whose entries lie in [since, tree_size), in leaf order (reviews,
    events, ledger_leaves)."""
    rows = session.execute(select(Event.reporter, Event.source_event_id, Review.event_id, Review.status,
                                  Review.reviewer, Review.comment, Review.created_at)
                           .join(Event, Event.id == Review.event_id).join(Leaf, Leaf.entry_id == Review.ledger_entry_id)
                           .where(Leaf.leaf_index >= since, Leaf.leaf_index < tree_size,
                                  tuple_(Event.reporter, Event.source_event_id).in_(_period_keys(period)))
                           .order_by(Leaf.leaf_index))
    return [RecordedReview((r.reporter, r.source_event_id), *r[2:]) for r in rows]
