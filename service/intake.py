"""Use cases of reporting systems: submit a strike report, correct it, read it back."""
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from . import geo
from .auth import Principal
from .db import utcnow
from .event_index import index_version
from .errors import Conflict, NotFound, ValidationProblem, flatten_errors
from .ledger.store import append_entry
from .metrics import count_ingested
from .models import Evaluation as EvaluationRow
from .models import Event
from .policy_store import munition_catalog, stored_policies
from .rules.engine import evaluate, policy_in_force
from .rules.model import Evaluation
from .schemas.events import StrikeEventSchema
from .schemas.fields import format_utc, parse_rfc3339


@dataclass(frozen=True)
class Outcome:
    created: bool
    event_id: str


def judge(session: Session, payload: dict) -> Evaluation:
    """The verdict under the policy in force when the strike happened, never the newest one."""
    occurred_at = parse_rfc3339(payload["occurred_at"])
    policy = policy_in_force(stored_policies(session), occurred_at)
    return evaluate(payload, policy, munition_catalog(session), geo.geography_of(payload))


def _versions(session: Session, reporter: str, source_event_id: str) -> list[Event]:
    return list(session.scalars(
        select(Event).where(Event.reporter == reporter, Event.source_event_id == source_event_id)
        .order_by(Event.version)))


def _store_version(session: Session, reporter: str, payload: dict, evaluation: Evaluation,
                   version: int, supersedes: str | None, submitted_by: str) -> Event:
    """One version: its report entry, its evaluation entry and both rows, in the caller's transaction."""
    now = utcnow()
    event_id = str(uuid.uuid4())
    entry_type = "event_received" if supersedes is None else "correction"
    received = append_entry(session, entry_type, {
        "event_id": event_id, "reporter": reporter, "submitted_by": submitted_by,
        "source_event_id": payload["source_event_id"], "version": version, "supersedes": supersedes,
        "received_at": format_utc(now), "payload": payload,
    }, now)
    event = Event(id=event_id, reporter=reporter, source_event_id=payload["source_event_id"], version=version,
                  supersedes=supersedes, payload=payload, occurred_at=parse_rfc3339(payload["occurred_at"]),
                  received_at=now, ledger_entry_id=received.id)
    session.add(event)
    judged = append_entry(session, "evaluation", {"event_id": event_id, **evaluation.to_dict()}, now)
    session.add(EvaluationRow(event_id=event_id, policy_id=evaluation.policy_id,
                              policy_sha256=evaluation.policy_sha256, verdict=evaluation.verdict,
                              findings=[f.to_dict() for f in evaluation.findings], computed=evaluation.computed,
                              evaluated_at=now, ledger_entry_id=judged.id))
    session.flush()
    index_version(session, event, evaluation)
    return event


def submit_event(sessions: sessionmaker, reporter: str, payload: dict) -> Outcome:
    """Idempotent on (reporter, source_event_id): the same payload again returns the original."""
    # Judged before the write transaction, so no lock is held while geometry is computed.
    with sessions() as session:
        evaluation = judge(session, payload)
    for _attempt in range(2):
        with sessions() as session, session.begin():
            versions = _versions(session, reporter, payload["source_event_id"])
            if versions:
                return _replay(versions[0], payload)
            try:
                with session.begin_nested():
                    event = _store_version(session, reporter, payload, evaluation, 1, None, reporter)
                    session.flush()
            except IntegrityError:
                continue  # a concurrent request stored it first: answer as a replay
        count_ingested(evaluation.verdict, "report")  # once committed
        return Outcome(True, event.id)
    raise Conflict("the report could not be stored because of concurrent submissions; retry")


def correct_event(sessions: sessionmaker, principal: Principal, event_id: str, payload: dict) -> Outcome:
    """A full replacement that supersedes the latest version; judged afresh, the old one stays."""
    with sessions() as session:
        evaluation = judge(session, payload)
    with sessions() as session, session.begin():
        corrected = visible_event(session, principal, event_id)
        if payload["source_event_id"] != corrected.source_event_id:
            raise ValidationProblem("A correction keeps the event's source_event_id.", errors={
                "source_event_id": [f"must stay {corrected.source_event_id!r}"]})
        latest = _versions(session, corrected.reporter, corrected.source_event_id)[-1]
        if latest.payload == payload:
            return Outcome(False, latest.id)  # the same correction again
        try:
            with session.begin_nested():
                event = _store_version(session, corrected.reporter, payload, evaluation, latest.version + 1,
                                       latest.id, principal.name)
                session.flush()
        except IntegrityError:
            raise Conflict("another correction of this event was stored at the same time; "
                           "read the event and retry") from None
    count_ingested(evaluation.verdict, "correction")
    return Outcome(True, event.id)


def visible_event(session: Session, principal: Principal, event_id: str) -> Event:
    """Reporters see only their own events; anyone else's is 404, not 403 (SPEC §1)."""
    event = session.get(Event, event_id)
    if event is None or not (principal.sees_everything or event.reporter == principal.name):
        raise NotFound(f"no event {event_id}")
    return event


def _replay(original: Event, payload: dict) -> Outcome:
    if original.payload != payload:
        raise Conflict(f"source_event_id {payload['source_event_id']!r} was already reported with a "
                       f"different payload (event {original.id}); send a correction instead")
    return Outcome(False, original.id)


def submit_batch(sessions: sessionmaker, reporter: str, items: list) -> list[dict]:
    """Each item is validated and stored on its own: one bad item never blocks the others."""
    results = []
    for index, item in enumerate(items):
        errors = StrikeEventSchema().validate(item) if isinstance(item, dict) else {"_schema": ["Not an object."]}
        if errors:
            results.append({"index": index, "status": "invalid", "errors": flatten_errors(errors)})
            continue
        try:
            outcome = submit_event(sessions, reporter, item)
        except Conflict as conflict:
            results.append({"index": index, "status": "conflict", "errors": {"source_event_id": [conflict.detail]}})
            continue
        results.append({"index": index, "status": "created" if outcome.created else "duplicate",
                        "id": outcome.event_id})
    return results
