"""Report figures, two ways that share nothing but the layout (document.assemble):

- `compute_report`: SQL aggregation over the tables, restricted to rows whose ledger entries sit
  below the checkpoint's tree size; this is how reports are made.
- `recompute_from_ledger`: a replay of the ledger entries' canonical bytes; this is how they are checked.
"""
import json
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Column, MetaData, Table, and_, case, func, insert, literal, or_, select, tuple_
from sqlalchemy.orm import Session, aliased

from service.audit.tables import Review
from service.core.ledger import merkle
from service.core.ledger.canonical import leaf_hash
from service.core.rules.engine import SEVERITIES, SEVERITY_OF_RULE
from service.core.rules.model import Policy
from service.core.time import parse_rfc3339
from service.events.tables import Evaluation, Event, EventRule
from service.ledger.tables import Checkpoint, Leaf, LedgerEntry
from service.policies.tables import Munition, PolicyVersion
from service.reports.document import FLAGGED, SEVERITY_KEYS, Group, assemble, policy_view
from service.reports.periods import Period, weeks_between

RANK = case(*[(EventRule.rule_id.in_([r for r, s in SEVERITY_OF_RULE.items() if s == severity]), rank)
              for rank, severity in enumerate(SEVERITIES)], else_=len(SEVERITIES))


def _below(entry_id, tree_size: int):
    """Only what the checkpoint covers: the entry has a leaf index below its tree size."""
    return (select(Leaf.entry_id).where(Leaf.entry_id == entry_id, Leaf.leaf_index < tree_size)
            .correlate_except(Leaf).exists())


def _heads(period: Period, tree_size: int):
    """Latest judged version of each event as of the checkpoint, with its evaluation and review status."""
    # Only an event with some version in the period can have its latest one there: finding those
    # first (by the occurred_at index) keeps the grouping to the period's events, not every event.
    version = aliased(Event)
    in_period = select(version.reporter, version.source_event_id).where(
        version.occurred_at >= period.start, version.occurred_at < period.end)
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


def compute_report(session: Session, period: Period, checkpoint: Checkpoint) -> dict:
    with _materialized(session, _heads(period, checkpoint.tree_size)) as heads:
        return _figures(session, period, checkpoint, heads)


def _figures(session: Session, period: Period, checkpoint: Checkpoint, heads) -> dict:
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
    policies = session.scalars(select(PolicyVersion).where(
        _below(PolicyVersion.ledger_entry_id, n), PolicyVersion.effective_from < period.end,
        or_(PolicyVersion.effective_to.is_(None), PolicyVersion.effective_to > period.start)))
    return assemble(period, n, checkpoint.root_hash, checkpoint.signed_at,
                    [policy_view(p.id, p.sha256, p.effective_from, p.effective_to) for p in policies],
                    groups, by_rule, flagged)


def _replay(session: Session, tree_size: int):
    """Every entry below tree_size, in leaf order, parsed from its canonical bytes; also the root they hash to."""
    rows = session.execute(select(LedgerEntry.canonical).join(Leaf, Leaf.entry_id == LedgerEntry.id)
                           .where(Leaf.leaf_index < tree_size).order_by(Leaf.leaf_index)).scalars().all()
    return [json.loads(data) for data in rows], merkle.root_from_leaves([leaf_hash(data) for data in rows])


def recompute_from_ledger(session: Session, period: Period, tree_size: int) -> dict:
    """The same report from the ledger entries alone (plus the munition catalog and the signing time)."""
    entries, root = _replay(session, tree_size)
    versions, latest, evaluations, statuses, policies = {}, {}, {}, {}, []
    for entry in entries:
        kind = entry["entry_type"]
        if kind in ("event_received", "correction"):
            versions[entry["event_id"]] = entry
        elif kind == "evaluation":
            evaluations[entry["event_id"]] = entry  # the newest evaluation of a version wins
            version = versions[entry["event_id"]]
            key = (version["reporter"], version["source_event_id"])
            if key not in latest or versions[latest[key]]["version"] <= version["version"]:
                latest[key] = entry["event_id"]
        elif kind == "review":
            version = versions[entry["event_id"]]
            statuses[(version["reporter"], version["source_event_id"])] = entry["status"]
        elif kind == "policy_published":
            policies.append(entry)
    families = dict(session.execute(select(Munition.code, Munition.family)).all())
    weeks = weeks_between(period.start, period.end)
    tally, by_rule, flagged = Counter(), Counter(), []
    for key, event_id in latest.items():
        version, evaluation = versions[event_id], evaluations[event_id]
        payload = version["payload"]
        occurred_at = parse_rfc3339(payload["occurred_at"])
        if not period.start <= occurred_at < period.end:
            continue
        found = {f["severity"] for f in evaluation["findings"]}
        severity = next((s for s in SEVERITIES if s in found), "none")
        week = max(i for i, start in enumerate(weeks) if start <= occurred_at)
        tally[(evaluation["verdict"], severity, families.get(payload["weapon"]["munition"], "unknown"),
               version["reporter"], payload["target"]["category"], week, version["version"] > 1)] += 1
        by_rule.update({f["rule_id"] for f in evaluation["findings"]})
        if evaluation["verdict"] in FLAGGED:
            flagged.append({"event_id": event_id, "source_event_id": version["source_event_id"],
                            "reporter": version["reporter"], "occurred_at": occurred_at,
                            "received_at": parse_rfc3339(version["received_at"]), "verdict": evaluation["verdict"],
                            "policy_version": evaluation["policy_version"], "severity": severity,
                            "review_status": statuses.get(key, "open"), "findings": evaluation["findings"],
                            "lat": payload["target"]["lat"], "lon": payload["target"]["lon"]})
    in_force = [Policy.from_document(p["document"]) for p in policies]
    signed_at = session.scalars(select(Checkpoint.signed_at).where(Checkpoint.tree_size == tree_size)).one()
    return assemble(period, tree_size, root, signed_at,
                    [policy_view(p.id, p.sha256, p.effective_from, p.effective_to) for p in in_force
                     if p.effective_from < period.end and (p.effective_to is None or p.effective_to > period.start)],
                    [Group(*key, count) for key, count in tally.items()], by_rule, flagged)
