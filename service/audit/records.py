"""How stored events are shown: version records (loaded in bulk), and an event with its whole history."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.tables import Review
from service.core.time import format_utc
from service.events.tables import Evaluation, Event, EventHead
from service.ledger.entries import ledger_ref
from service.ledger.reads import checkpoint_view, entry_positions, signed_size
from service.ledger.tables import LedgerEntry


def records(session: Session, events: list[Event]) -> list[dict]:
    """The record of each version, in order, with four queries whatever the number of events."""
    ids = [event.id for event in events]
    evaluations = {e.event_id: e for e in session.scalars(  # ascending id: the latest one wins
        select(Evaluation).where(Evaluation.event_id.in_(ids)).order_by(Evaluation.id))}
    entries = {e.id: e for e in session.execute(  # id and hash only: the bytes are not shown here
        select(LedgerEntry.id, LedgerEntry.leaf_hash).where(LedgerEntry.id.in_([e.ledger_entry_id for e in events])))}
    superseded_by = dict(session.execute(select(Event.supersedes, Event.id).where(Event.supersedes.in_(ids))).all())
    return [version_record(event, evaluations[event.id], entries[event.ledger_entry_id], superseded_by.get(event.id))
            for event in events]


def version_record(event: Event, evaluation: Evaluation, entry: LedgerEntry, superseded_by: str | None) -> dict:
    return {
        **event.payload,
        "occurred_at": format_utc(event.occurred_at),
        "id": event.id,
        "reporter": event.reporter,
        "received_at": format_utc(event.received_at),
        "version": event.version,
        "supersedes": event.supersedes,
        "superseded_by": superseded_by,
        "verdict": evaluation.verdict,
        "policy_version": evaluation.policy_id,
        "policy_sha256": evaluation.policy_sha256,
        "findings": evaluation.findings,
        "computed": evaluation.computed,
        "ledger": ledger_ref(entry),
    }


def event_record(session: Session, event: Event) -> dict:
    return records(session, [event])[0]


def list_items(session: Session, heads: list[EventHead]) -> list[dict]:
    """List rows: the latest version of each event, its review status and how many versions it has."""
    events = {e.id: e for e in session.scalars(select(Event).where(Event.id.in_([h.event_id for h in heads])))}
    shown = records(session, [events[h.event_id] for h in heads])
    return [{**record, "review_status": head.review_status} for record, head in zip(shown, heads)]


def review_view(review: Review, entry: LedgerEntry) -> dict:
    return {"id": review.id, "event_id": review.event_id, "status": review.status, "comment": review.comment,
            "reviewer": review.reviewer, "created_at": format_utc(review.created_at), "ledger": ledger_ref(entry)}


def event_detail(session: Session, event: Event) -> dict:
    """The version asked for, every version, every evaluation and review, and where each ledger entry
    sits in the tree (with inclusion proofs against the checkpoint shown)."""
    versions = session.scalars(select(Event).where(Event.reporter == event.reporter,
                                                   Event.source_event_id == event.source_event_id)
                               .order_by(Event.version)).all()
    version_ids = [v.id for v in versions]
    evaluations = session.scalars(select(Evaluation).where(Evaluation.event_id.in_(version_ids))
                                  .order_by(Evaluation.id)).all()
    reviews = session.execute(select(Review, LedgerEntry).join(LedgerEntry, LedgerEntry.id == Review.ledger_entry_id)
                              .where(Review.head_id == versions[0].id).order_by(Review.id)).all()
    entry_ids = [v.ledger_entry_id for v in versions] + [e.ledger_entry_id for e in evaluations]
    entry_ids += [review.ledger_entry_id for review, _ in reviews]
    _, checkpoint = signed_size(session)
    shown = records(session, versions)
    return {
        **shown[version_ids.index(event.id)],
        "review_status": reviews[-1][0].status if reviews else "open",
        "versions": shown,
        "evaluations": [{"event_id": e.event_id, "verdict": e.verdict, "policy_version": e.policy_id,
                         "policy_sha256": e.policy_sha256, "findings": e.findings, "computed": e.computed,
                         "evaluated_at": format_utc(e.evaluated_at)} for e in evaluations],
        "reviews": [review_view(review, entry) for review, entry in reviews],
        "ledger_entries": entry_positions(session, sorted(entry_ids), checkpoint),
        "checkpoint": checkpoint_view(checkpoint) if checkpoint else None,
    }
