"""Report figures, two ways that share nothing but the layout (document.assemble):

- `compute_report`: SQL aggregation over the event heads, in a transaction that sees exactly what the
  checkpoint covers; this is how reports are made.
- `recompute_from_ledger`: a replay of the ledger entries' canonical bytes; this is how they are checked.
"""
import json
from collections import Counter

from sqlalchemy import case, func, literal, or_, select
from sqlalchemy.orm import Session

from service.core.ledger import merkle
from service.core.ledger.canonical import leaf_hash
from service.core.ledger.checks import parse_json
from service.core.rules.engine import SEVERITIES
from service.core.rules.model import Policy
from service.core.time import parse_rfc3339
from service.events.tables import EventHead, EventRule
from service.ledger.tables import Checkpoint, Leaf, LedgerEntry
from service.policies.tables import Munition, PolicyVersion
from service.reports.document import FLAGGED, Group, assemble, policy_view
from service.reports.periods import Period, weeks_between


def compute_report(session: Session, period: Period, checkpoint: Checkpoint) -> dict:
    """The figures from the event heads, in a transaction that sees exactly what `checkpoint` covers
    (ledger.sequencer.integrated_snapshot): every head is then the latest version as of that checkpoint."""
    in_period = (EventHead.occurred_at >= period.start, EventHead.occurred_at < period.end)
    weeks = weeks_between(period.start, period.end)
    week = case(*[(EventHead.occurred_at < start, i - 1) for i, start in enumerate(weeks) if i],
                else_=len(weeks) - 1) if len(weeks) > 1 else literal(0)
    dims = (EventHead.verdict, func.coalesce(EventHead.severity, "none"), func.coalesce(EventHead.family, "unknown"),
            EventHead.reporter, EventHead.category, week, EventHead.version > 1)
    groups = [Group(*row[:6], bool(row[6]), row[7])
              for row in session.execute(select(*dims, func.count()).where(*in_period).group_by(*dims))]
    by_rule = dict(session.execute(select(EventRule.rule_id, func.count())
                                   .join(EventHead, EventHead.event_id == EventRule.event_id)
                                   .where(*in_period).group_by(EventRule.rule_id)).all())
    rows = session.execute(select(EventHead.event_id, EventHead.source_event_id, EventHead.reporter,
                                  EventHead.occurred_at, EventHead.received_at, EventHead.verdict,
                                  EventHead.policy_version, func.coalesce(EventHead.severity, "none"),
                                  EventHead.review_status, EventHead.target_lat, EventHead.target_lon,
                                  # Only a violation lists its findings: only its evaluation is read.
                                  case((EventHead.verdict == "violation", LedgerEntry.canonical)))
                           .join(LedgerEntry, LedgerEntry.id == EventHead.evaluation_entry_id)
                           .where(*in_period, EventHead.verdict.in_(FLAGGED)))
    flagged = [{"event_id": event_id, "source_event_id": source_id, "reporter": reporter, "occurred_at": occurred,
                "received_at": received, "verdict": verdict, "policy_version": policy, "severity": severity,
                "review_status": status, "lat": lat, "lon": lon,
                "findings": parse_json(evaluation)["findings"] if evaluation is not None else []}
               for event_id, source_id, reporter, occurred, received, verdict, policy, severity, status, lat, lon,
               evaluation in rows]
    policies = session.scalars(select(PolicyVersion).where(
        PolicyVersion.effective_from < period.end,
        or_(PolicyVersion.effective_to.is_(None), PolicyVersion.effective_to > period.start)))
    return assemble(period, checkpoint.tree_size, checkpoint.root_hash, checkpoint.signed_at,
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
