"""One page of the auditor's event list: the filtered latest versions after a cursor, as list items."""
from dataclasses import dataclass

from sqlalchemy.orm import Session

from service.audit.filters import EventFilter, after_cursor, encode_cursor, filtered_heads, newest_first
from service.audit.records import list_item
from service.events.records import with_entries


@dataclass(frozen=True)
class EventPage:
    items: list[dict]
    next_cursor: str | None


def event_page(session: Session, criteria: EventFilter | None, limit: int, cursor: str | None = None) -> EventPage:
    """Newest occurred_at first; criteria None matches nothing (a reporter asking for another's events)."""
    if criteria is None:
        return EventPage([], None)
    query = after_cursor(newest_first(filtered_heads(criteria)), cursor)
    rows = session.execute(with_entries(query.limit(limit + 1))).all()  # one more than shown: a next page?
    page = rows[:limit]
    return EventPage([list_item(*row) for row in page], encode_cursor(page[-1][0]) if len(rows) > len(page) else None)
