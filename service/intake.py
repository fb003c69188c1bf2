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
from .models import Evaluation as EvaluationRow
from .models import Event
from .read_model import version_record
from .policy_store import RuleSet, current_rules
from .rules.engine import evaluate, policy_in_force
from .rules.model import Evaluation
from .schemas.events import StrikeEventSchema
from .schemas.fields import format_utc, parse_rfc3339


@dataclass(frozen=True)
class Outcome:
    created: bool
    event_id: str
    record: dict | None = None  # a new version's record, built from what was just written


@dataclass(frozen=True)
class Judgement:
    evaluation: Evaluation
    family: str | None  # the munition's catalog family, for the query index


def judge(session: Session, payload: dict) -> Judgement:
    return judge_with(current_rules(session), payload)


def judge_with(rules: RuleSet, payload: dict) -> Judgement:
    """The verdict under the policy in force when the strike happened, never the newest one."""
    policy = policy_in_force(rules.policies, parse_rfc3339(payload["occurred_at"]))
    munition = rules.catalog.get(payload["weapon"]["munition"])
    return Judgement(evaluate(payload, policy, rules.catalog, geo.geography_of(payload)),
                     munition.family if munition else None)


def _versions(session: Session, reporter: str, source_event_id: str) -> list[Event]:
    return list(session.scalars(
        select(Event).where(Event.reporter == reporter, Event.source_event_id == source_event_id)
        .order_by(Event.version)))


def _store_version(session: Session, reporter: str, payload: dict, judgement: Judgement,
                   version: int, supersedes: str | None, submitted_by: str) -> Outcome:
    """One version: its report entry, its evaluation entry and both rows, in the caller's transaction."""
    evaluation = judgement.evaluation
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
    row = EvaluationRow(event_id=event_id, policy_id=evaluation.policy_id, policy_sha256=evaluation.policy_sha256,
                        verdict=evaluation.verdict, findings=[f.to_dict() for f in evaluation.findings],
                        computed=evaluation.computed, evaluated_at=now, ledger_entry_id=judged.id)
    session.add(row)
    session.flush()
    index_version(session, event, evaluation, judgement.family)
    # Nothing supersedes a version just stored, so its record needs no query.
    return Outcome(True, event_id, version_record(event, row, received, superseded_by=None))


def submit_event(sessions: sessionmaker, reporter: str, payload: dict) -> Outcome:
    """Idempotent on (reporter, source_event_id): the same payload again returns the original."""
    # Judged before the write transaction, so no lock is held while geometry is computed.
    with sessions() as session:
        judgement = judge(session, payload)
    with sessions() as session, session.begin():
        return _submit(session, reporter, payload, judgement)


def _submit(session: Session, reporter: str, payload: dict, judgement: Judgement) -> Outcome:
    """Store a first version unless this source_event_id is already stored, in the caller's transaction."""
    for _attempt in range(2):
        versions = _versions(session, reporter, payload["source_event_id"])
        if versions:
            return _replay(versions[0], payload)
        try:
            with session.begin_nested():
                return _store_version(session, reporter, payload, judgement, 1, None, reporter)
        except IntegrityError:
            continue  # a concurrent request stored it first (now visible): answer as a replay
    raise Conflict("the report could not be stored because of concurrent submissions; retry")


def correct_event(sessions: sessionmaker, principal: Principal, event_id: str, payload: dict) -> Outcome:
    """A full replacement that supersedes the latest version; judged afresh, the old one stays."""
    with sessions() as session:
        judgement = judge(session, payload)
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
                return _store_version(session, corrected.reporter, payload, judgement, latest.version + 1,
                                      latest.id, principal.name)
        except IntegrityError:
            raise Conflict("another correction of this event was stored at the same time; "
                           "read the event and retry") from None


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
    """Each item is validated and stored on its own: one bad item never blocks the others.

    Items are judged before the write transaction (no lock held during geometry), then stored in
    one transaction with a savepoint each: one commit, one disk flush, for the whole batch. The
    answer is sent after that commit, so every item it calls created or duplicate is durable.
    """
    results, valid = {}, []
    for index, item in enumerate(items):
        errors = StrikeEventSchema().validate(item) if isinstance(item, dict) else {"_schema": ["Not an object."]}
        if errors:
            results[index] = {"index": index, "status": "invalid", "errors": flatten_errors(errors)}
        else:
            valid.append((index, item))
    if valid:
        with sessions() as session:
            rules = current_rules(session)
        judged = [(index, item, judge_with(rules, item)) for index, item in valid]
        with sessions() as session, session.begin():
            for index, item, judgement in judged:
                try:
                    outcome = _submit(session, reporter, item, judgement)
                except Conflict as conflict:
                    results[index] = {"index": index, "status": "conflict",
                                      "errors": {"source_event_id": [conflict.detail]}}
                    continue
                results[index] = {"index": index, "status": "created" if outcome.created else "duplicate",
                                  "id": outcome.event_id}
    return [results[index] for index in range(len(items))]
