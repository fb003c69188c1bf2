"""Keeps event_heads and event_rules in step with each stored version, in the same transaction."""
from sqlalchemy import insert, update
from sqlalchemy.orm import Session

from service.core.rules.engine import SEVERITIES
from service.core.rules.model import Evaluation
from service.events.tables import EventHead, EventRule


def highest_severity(evaluation: Evaluation) -> str | None:
    found = {f.severity for f in evaluation.findings}
    return next((s for s in SEVERITIES if s in found), None)


def index_versions(session: Session, versions: list[tuple[dict, dict, Evaluation, str | None]]) -> None:
    """Each new version (its row, payload, evaluation and munition family) becomes its event's head, and
    its findings become rule rows: one statement per table for new events, one update per correction."""
    rules = [{"event_id": event["id"], "rule_id": rule} for event, _, evaluation, _ in versions
             for rule in sorted({f.rule_id for f in evaluation.findings})]
    if rules:
        session.execute(insert(EventRule), rules)
    heads = [{"id": event["id"], "review_status": "open", "review_id": None, **head_fields(*version)}
             for version in versions if (event := version[0])["supersedes"] is None]
    if heads:
        session.execute(insert(EventHead), heads)
    for version in versions:
        if version[0]["supersedes"] is not None:  # the head keeps its id (the first version's) and its review
            session.execute(update(EventHead).where(EventHead.event_id == version[0]["supersedes"])
                            .values(**head_fields(*version)))


def head_fields(event: dict, payload: dict, evaluation: Evaluation, family: str | None) -> dict:
    """What a head says of its latest version: every value from the version's row, report or evaluation."""
    return dict(
        event_id=event["id"], reporter=event["reporter"], source_event_id=event["source_event_id"],
        version=event["version"], occurred_at=event["occurred_at"], received_at=event["received_at"],
        verdict=evaluation.verdict, severity=highest_severity(evaluation), munition=payload["weapon"]["munition"],
        family=family, category=payload["target"]["category"], target_country=evaluation.computed["country"],
        policy_version=evaluation.policy_id, target_lat=payload["target"]["lat"],
        target_lon=payload["target"]["lon"], ledger_entry_id=event["ledger_entry_id"],
        evaluation_entry_id=event["evaluation_entry_id"])
