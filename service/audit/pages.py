"""One page of the auditor's event list: the filtered latest versions after a cursor, as list items."""
from dataclasses import dataclass

from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from service.audit.filters import EventFilter, after_cursor, encode_cursor, filtered_heads, newest_first
from service.audit.records import list_item
from service.events.records import with_entries
from service.events.tables import EventHead

# What a list item and the cursor need of a head; the rest of the item comes from its entries.
_LISTED = (EventHead.id, EventHead.occurred_at, EventHead.ledger_entry_id, EventHead.review_status)


@dataclass(frozen=True)
class EventPage:
    items: list[dict]
    next_cursor: str | None


def event_page(db: Session | Connection, criteria: EventFilter | None, limit: int,
               cursor: str | None = None) -> EventPage:
    """Newest occurred_at first; criteria None matches nothing (a reporter asking for another's events)."""
    if criteria is None:
        return EventPage([], None)
    query = after_cursor(newest_first(filtered_heads(criteria), criteria), criteria, cursor).with_only_columns(*_LISTED)
    # Plain rows, not ORM objects, which took as long to load as the query took to run.
    rows = db.execute(with_entries(query.limit(limit + 1))).all()  # one more: a next page?
    page = rows[:limit]
    # A row has the head's listed columns by name, then its entries: list_item and the cursor read it as a head.
    return EventPage([list_item(row, *row[len(_LISTED):]) for row in page],
                     encode_cursor(page[-1]) if len(rows) > len(page) else None)
