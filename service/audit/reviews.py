"""Auditors' reviews: appended to the ledger, never edited; the latest one is the event's status."""
from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from service.audit.records import review_view
from service.audit.tables import Review
from service.core.time import utcnow
from service.events.intake import visible_event
from service.events.tables import EventHead
from service.keys.store import Principal
from service.ledger.entries import append_entry

# contract §8: what a review may decide; an event is "open" until its first review.
REVIEW_DECISIONS = ("acknowledged", "confirmed_violation", "dismissed", "escalated")
REVIEW_STATUSES = ("open", *REVIEW_DECISIONS)


def add_review(sessions: sessionmaker, principal: Principal, event_id: str, status: str, comment: str) -> dict:
    with sessions() as session, session.begin():
        event = visible_event(session, principal, event_id)
        # Locked, so that of two concurrent reviews the one stored last is also the status shown.
        head = session.scalars(select(EventHead).where(EventHead.reporter == event.reporter,
                                                       EventHead.source_event_id == event.source_event_id)
                               .with_for_update()).one()
        now = utcnow()
        entry = append_entry(session, "review", {
            "event_id": event.id, "head_id": head.id, "status": status, "comment": comment,
            "reviewer": principal.name}, now)
        review = Review(event_id=event.id, head_id=head.id, status=status, comment=comment,
                        reviewer=principal.name, created_at=now, ledger_entry_id=entry.id)
        session.add(review)
        head.review_status = status
        session.flush()
        return review_view(review, entry)
