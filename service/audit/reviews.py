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


def add_review(sessions: sessionmaker, principal: Principal, event_id: str, status: str, comment: str) -> dict:
    with sessions() as session, session.begin():
        event = visible_event(session, principal, event_id)
        # Locked, so that of two concurrent reviews the one stored last is also the status shown.
        head = session.scalars(select(EventHead).where(EventHead.id == event.head_id).with_for_update()).one()
        now = utcnow()
        body = {"event_id": event.id, "head_id": head.id, "status": status, "comment": comment,
                "reviewer": principal.name}
        entry = append_entry(session, "review", body, now)
        review = Review(event_id=event.id, head_id=head.id, status=status, reviewer=principal.name, created_at=now,
                        ledger_entry_id=entry.id)
        session.add(review)
        session.flush()
        head.review_status, head.review_id = status, review.id
        return review_view(review, body, entry.leaf_hash)
