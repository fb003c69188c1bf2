"""How stored events are shown: the record of one version, and an event with all its versions."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from .ledger.store import ledger_ref
from .ledger.views import checkpoint_view, entry_positions, signed_size
from .models import Evaluation, Event, LedgerEntry
from .schemas.fields import format_utc


def latest_evaluation(session: Session, event_id: str) -> Evaluation:
    return session.scalars(select(Evaluation).where(Evaluation.event_id == event_id)
                           .order_by(Evaluation.id.desc()).limit(1)).one()


def event_record(session: Session, event: Event) -> dict:
    evaluation = latest_evaluation(session, event.id)
    superseded_by = session.scalar(select(Event.id).where(Event.supersedes == event.id))
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
        "ledger": ledger_ref(session.get(LedgerEntry, event.ledger_entry_id)),
    }


def event_detail(session: Session, event: Event) -> dict:
    """The version asked for, every version of the report, and where each ledger entry sits in the tree."""
    versions = session.scalars(select(Event).where(Event.reporter == event.reporter,
                                                   Event.source_event_id == event.source_event_id)
                               .order_by(Event.version)).all()
    entry_ids = [v.ledger_entry_id for v in versions]
    entry_ids += session.scalars(select(Evaluation.ledger_entry_id)
                                 .where(Evaluation.event_id.in_([v.id for v in versions]))).all()
    _, checkpoint = signed_size(session)
    return {**event_record(session, event), "versions": [event_record(session, v) for v in versions],
            "ledger_entries": entry_positions(session, sorted(entry_ids), checkpoint),
            "checkpoint": checkpoint_view(checkpoint) if checkpoint else None}
