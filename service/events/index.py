"""The query index of each new version: its event's head and its rule rows, derived from what it says."""
from service.core.rules.engine import SEVERITIES
from service.core.rules.model import Evaluation


def highest_severity(evaluation: Evaluation) -> str | None:
    found = {f.severity for f in evaluation.findings}
    return next((s for s in SEVERITIES if s in found), None)


def rule_rows(event: dict, evaluation: Evaluation) -> list[dict]:
    """One row per rule that found something, so `rule_id` filters use an index, not JSON."""
    return [{"event_id": event["id"], "rule_id": rule, "head_id": event["head_id"], "occurred_at": event["occurred_at"]}
            for rule in sorted({f.rule_id for f in evaluation.findings})]


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


def new_head(event: dict, payload: dict, evaluation: Evaluation, family: str | None) -> dict:
    """The head of a first version: open, no review yet, its id the event's stable id."""
    return {"id": event["id"], "review_status": "open", "review_id": None,
            **head_fields(event, payload, evaluation, family)}
