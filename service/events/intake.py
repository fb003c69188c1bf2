"""Use cases of reporting systems: submit a strike report (alone or in a batch), correct it.

Reports arrive validated (the web package checks them against the contract's schema); here they
are judged and stored, each version with its ledger entries, in one transaction."""
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.core import geo
from service.core.errors import Conflict, InvalidInput, NotFound
from service.core.ledger.checks import parse_json
from service.core.rules.engine import evaluate, policy_in_force
from service.core.rules.model import Evaluation, Geography
from service.core.time import parse_rfc3339
from service.db.driver import DriverConnection
from service.events.tables import Event
from service.events.writer import NewVersion, StoredVersion, store_versions, write_first_versions
from service.keys.store import Principal
from service.ledger.tables import LedgerEntry
from service.policies.store import RulesChanged, RuleSet, cached_rules, current_rules


@dataclass(frozen=True)
class Submission:
    """What became of one report: stored now (created) or found stored before (a replay)."""

    created: bool
    event_id: str
    stored: StoredVersion | None = None  # a new version as just written: its record needs no query


@dataclass(frozen=True)
class Judgement:
    evaluation: Evaluation
    family: str | None  # the munition's catalog family, for the query index


def judge(session: Session, payload: dict) -> Judgement:
    return judge_with(current_rules(session), payload)


def judge_with(rules: RuleSet, payload: dict, geography: Geography | None = None) -> Judgement:
    """The verdict under the policy in force when the strike happened, never the newest one (geography: the
    payload's, when already computed)."""
    geography = geo.geography_of(payload) if geography is None else geography
    policy = policy_in_force(rules.policies, parse_rfc3339(payload["occurred_at"]))
    munition = rules.catalog.get(payload["weapon"]["munition"])
    return Judgement(evaluate(payload, policy, rules.catalog, geography), munition.family if munition else None)


def _latest_version(session: Session, head_id: str) -> tuple[Event, dict]:
    """The latest version of an event and its report entry (the payload is only there)."""
    latest, canonical = session.execute(select(Event, LedgerEntry.canonical)
                                        .join(LedgerEntry, LedgerEntry.id == Event.ledger_entry_id)
                                        .where(Event.head_id == head_id)
                                        .order_by(Event.version.desc()).limit(1)).one()
    return latest, parse_json(canonical)


def submit_event(sessions: sessionmaker, reporter: str, payload: dict) -> Submission:
    """Idempotent on (reporter, source_event_id): the same payload again returns the original."""
    submission = _submit_first_versions(sessions, reporter, [payload], known_first=False)[0]
    if isinstance(submission, Conflict):
        raise submission
    return submission


def submit_batch(sessions: sessionmaker, reporter: str, items: list[dict]) -> list[Submission | Conflict]:
    """Validated reports, each stored on its own terms: one conflicting item never blocks the others.

    Items are judged before anything is written (no lock held during geometry), then all new ones are
    stored in one transaction. The caller answers after its commit, so every item it calls created or
    duplicate is durable.
    """
    return _submit_first_versions(sessions, reporter, items, known_first=True)


def _submit_first_versions(sessions: sessionmaker, reporter: str, payloads: list[dict],
                           known_first: bool) -> list[Submission | Conflict]:
    """Judge and store reports never sent before; one already stored is a replay of the original, or a
    conflict if its payload differs.

    On PostgreSQL a single report is one statement (events.writer), a batch two: which of its ids are already
    stored, then every row. A single report does not look first: it is new nearly always, and when it is not
    the unique (reporter, source_event_id, version) refuses it, the statement writes nothing and the stored
    original answers instead.
    """
    engine = sessions.kw["bind"]
    # Over the whole batch at once (a sixth of one report at a time), and once: no rules change it.
    geographies = geo.geography_of_many(payloads)
    for _attempt in range(3):
        rules = cached_rules(sessions)
        judged = [(payload, judge_with(rules, payload, place)) for payload, place in zip(payloads, geographies)]
        try:
            return _store_new(engine, rules, reporter, judged, known_first)
        except RulesChanged:
            with sessions() as session:
                current_rules(session)  # reads the new rules into the cache
        except IntegrityError:
            known_first = True  # stored by an earlier or a concurrent request: decide again, seeing it
    raise Conflict("the report could not be stored because of concurrent submissions; retry")


def _store_new(engine, rules: RuleSet, reporter: str, judged: list[tuple[dict, Judgement]],
               known_first: bool) -> list[Submission | Conflict]:
    with DriverConnection(engine) as db:
        found = db.query(_first_versions_query(reporter, {p["source_event_id"] for p, _ in judged})) if known_first else ()
        known = {source_id: (event_id, parse_json(canonical)["payload"]) for source_id, event_id, canonical in found}
        submissions, new = [], []
        for payload, judgement in judged:
            source_id = payload["source_event_id"]
            if source_id in known:  # stored before, or earlier in this batch
                original_id, original = known[source_id]
                submissions.append(Submission(False, original_id) if original == payload else Conflict(
                    f"source_event_id {source_id!r} was already reported with a different payload "
                    f"(event {original_id}); send a correction instead"))
                continue
            version = NewVersion(reporter, reporter, payload, judgement.evaluation, judgement.family)
            known[source_id] = (version.event_id, payload)
            new.append(version)
            submissions.append(version)
        stored = iter(write_first_versions(db, new, rules.generation) if new else ())
    return [Submission(True, s.event_id, next(stored)) if isinstance(s, NewVersion) else s for s in submissions]


def _first_versions_query(reporter: str, source_ids):
    """(source_event_id, event id, report entry bytes) of the first version of each id already reported."""
    return (select(Event.source_event_id, Event.id, LedgerEntry.canonical)
            .join(LedgerEntry, LedgerEntry.id == Event.ledger_entry_id)
            .where(Event.reporter == reporter, Event.version == 1, Event.source_event_id.in_(sorted(source_ids))))


def correct_event(sessions: sessionmaker, principal: Principal, event_id: str, payload: dict) -> Submission:
    """A full replacement that supersedes the latest version; judged afresh, the old one stays."""
    with sessions() as session:
        judgement = judge(session, payload)
    with sessions() as session, session.begin():
        corrected = visible_event(session, principal, event_id)
        if payload["source_event_id"] != corrected.source_event_id:
            raise InvalidInput("A correction keeps the event's source_event_id.", errors={
                "source_event_id": [f"must stay {corrected.source_event_id!r}"]})
        latest, report = _latest_version(session, corrected.head_id)
        if report["payload"] == payload:
            return Submission(False, latest.id)  # the same correction again
        version = NewVersion(corrected.reporter, principal.name, payload, judgement.evaluation, judgement.family,
                             version=latest.version + 1, supersedes=latest.id, head_id=latest.head_id)
        try:
            with session.begin_nested():
                [stored] = store_versions(session, [version])
        except IntegrityError:
            raise Conflict("another correction of this event was stored at the same time; "
                           "read the event and retry") from None
    return Submission(True, version.event_id, stored)


def visible_event(session: Session, principal: Principal, event_id: str) -> Event:
    """Reporters see only their own events; anyone else's is 404, not 403 (contract §1)."""
    event = session.get(Event, event_id)
    if event is None or not (principal.sees_everything or event.reporter == principal.name):
        raise NotFound(f"no event {event_id}")
    return event


