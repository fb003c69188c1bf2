"""Keeps event_heads and event_rules in step with each stored version, in the same transaction."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from .models import Event, EventHead, EventRule
from .rules.engine import SEVERITIES
from .rules.model import Evaluation


def highest_severity(evaluation: Evaluation) -> str | None:
    found = {f.severity for f in evaluation.findings}
    return next((s for s in SEVERITIES if s in found), None)


def index_version(session: Session, event: Event, evaluation: Evaluation, family: str | None) -> None:
    """A new version becomes its event's head; its findings become rule rows. `family` is the
    munition's catalog family (None when uncatalogued), known to the caller from judging."""
    session.add_all(EventRule(event_id=event.id, rule_id=rule)
                    for rule in sorted({f.rule_id for f in evaluation.findings}))
    payload = event.payload
    munition = payload["weapon"]["munition"]
    fields = dict(
        event_id=event.id, reporter=event.reporter, source_event_id=event.source_event_id,
        version=event.version, occurred_at=event.occurred_at, received_at=event.received_at,
        verdict=evaluation.verdict, severity=highest_severity(evaluation), munition=munition,
        family=family,
        category=payload["target"]["category"], target_country=evaluation.computed["country"],
        policy_version=evaluation.policy_id, target_lat=payload["target"]["lat"],
        target_lon=payload["target"]["lon"])
    if event.supersedes is None:
        session.add(EventHead(id=event.id, review_status="open", **fields))
        return
    head = session.scalars(select(EventHead).where(EventHead.event_id == event.supersedes)).one()
    for name, value in fields.items():
        setattr(head, name, value)
