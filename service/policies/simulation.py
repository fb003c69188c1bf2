"""What verdicts stored events would get under another policy version (contract §8). Writes nothing."""
from collections import Counter
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.errors import InvalidInput
from service.core.rules.engine import VERDICTS, evaluate
from service.core.rules.model import Geography, Policy
from service.core.time import format_utc
from service.core.ledger.checks import parse_json
from service.events.records import with_entries
from service.events.tables import EventHead
from service.policies.store import munition_catalog, published_version

# One request judges every event of the period in memory; beyond this, ask for a shorter period.
MAX_EVENTS = 10_000


def _latest_versions(session: Session, occurred_from: datetime, occurred_to: datetime):
    """(head, report entry, evaluation entry) of each event whose latest version lies in the period."""
    rows = session.execute(with_entries(
        select(EventHead).where(EventHead.occurred_at >= occurred_from, EventHead.occurred_at < occurred_to)
        .order_by(EventHead.occurred_at.desc(), EventHead.id.desc())  # as GET /v1/events: newest first
        .limit(MAX_EVENTS + 1))).all()
    return [(head, parse_json(report)["payload"], parse_json(evaluation)) for head, report, _, evaluation in rows]


def simulate(session: Session, policy_id: str, occurred_from: datetime, occurred_to: datetime) -> dict:
    """Each event of [occurred_from, occurred_to) judged under `policy_id`, whatever its effective range."""
    row = published_version(session, policy_id)
    rows = _latest_versions(session, occurred_from, occurred_to)
    if len(rows) > MAX_EVENTS:
        raise InvalidInput(f"The period holds more than {MAX_EVENTS} events; simulate a shorter period.")
    policy, munitions = Policy.from_document(row.document), munition_catalog(session)
    results = []
    for head, payload, actual in rows:
        # The geography stored with the evaluation: the same numbers, not recomputed.
        computed = actual["computed"]
        geography = Geography(computed["country"], computed["depth_km"], computed["range_km"])
        simulated = evaluate(payload, policy, munitions, geography)
        actual_rules = [finding["rule_id"] for finding in actual["findings"]]
        simulated_rules = [finding.rule_id for finding in simulated.findings]
        results.append({
            "event_id": head.event_id, "source_event_id": head.source_event_id, "reporter": head.reporter,
            "occurred_at": format_utc(head.occurred_at),
            "actual": {"verdict": actual["verdict"], "policy_version": actual["policy_version"],
                       "rule_ids": actual_rules},
            "simulated": {"verdict": simulated.verdict, "rule_ids": simulated_rules},
            # Both lists are in the engine's order (severity, then rule id), so equal sets are equal lists.
            "changed": (actual["verdict"], actual_rules) != (simulated.verdict, simulated_rules),
        })
    return {
        "policy_version": row.id, "policy_sha256": row.sha256,
        "occurred_from": format_utc(occurred_from), "occurred_to": format_utc(occurred_to),
        "summary": {"events": len(results), "changed": sum(r["changed"] for r in results),
                    "by_verdict": {side: _by_verdict(r[side]["verdict"] for r in results)
                                   for side in ("actual", "simulated")}},
        "results": results,
    }


def _by_verdict(verdicts) -> dict[str, int]:
    counts = Counter(verdicts)
    return {verdict: counts[verdict] for verdict in VERDICTS}  # every verdict, zero included
