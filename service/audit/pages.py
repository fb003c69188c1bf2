"""One page of the auditor's event list: the filtered latest versions after a cursor, as list items."""
from dataclasses import dataclass, fields
from functools import lru_cache

import orjson
from sqlalchemy import Select, bindparam
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from service.audit.filters import EventFilter, decode_cursor, encode_cursor, filtered_heads, newest_first, older_than
from service.audit.records import item_line, list_item
from service.db.base import UTCDateTime
from service.events.records import with_entries
from service.events.tables import EventHead

# What a list item and the cursor need of a head; the rest of the item comes from its entries.
_LISTED = (EventHead.id, EventHead.occurred_at, EventHead.ledger_entry_id, EventHead.review_status)
_FILTERS = tuple(f.name for f in fields(EventFilter))
_BBOX = ("min_lon", "min_lat", "max_lon", "max_lat")


@dataclass(frozen=True)
class EventPage:
    items: list[dict]
    next_cursor: str | None


def event_page(db: Session | Connection, criteria: EventFilter | None, limit: int,
               cursor: str | None = None) -> EventPage:
    """Newest occurred_at first; criteria None matches nothing (a reporter asking for another's events)."""
    rows, next_cursor = _page_rows(db, criteria, limit, cursor)
    # A row has the head's listed columns by name, then its entries: list_item reads it as a head.
    return EventPage([list_item(row, *row[len(_LISTED):]) for row in rows], next_cursor)


def event_page_json(db: Session | Connection, criteria: EventFilter | None, limit: int,
                    cursor: str | None = None) -> tuple[bytes, int]:
    """The same page as the API's JSON body, and how many items it holds. Each item is spliced from its
    entries' bytes as the export's lines are (`item_line`): reading both documents and writing the item
    again was a third of a page's time."""
    rows, next_cursor = _page_rows(db, criteria, limit, cursor)
    items = b",".join(item_line(row.review_status, row.ledger_entry_id, *row[len(_LISTED):])[:-1] for row in rows)
    return b'{"items":[' + items + b'],"next_cursor":' + orjson.dumps(next_cursor) + b"}\n", len(rows)


def _page_rows(db: Session | Connection, criteria: EventFilter | None, limit: int,
               cursor: str | None) -> tuple[list, str | None]:
    if criteria is None:
        return [], None
    given = {name: value for name in _FILTERS if (value := getattr(criteria, name)) is not None}
    params = {**{name: value for name, value in given.items() if name != "bbox"},
              **dict(zip(_BBOX, given.get("bbox", ()))), "limit": limit + 1}  # one more: is there a next page?
    if cursor is not None:
        params["cursor_at"], params["cursor_id"] = decode_cursor(cursor)
    # Plain rows, not ORM objects, which took as long to load as the query took to run.
    rows = db.execute(_page_query(tuple(given), cursor is not None), params).all()
    page = rows[:limit]
    return page, encode_cursor(page[-1]) if len(rows) > len(page) else None


@lru_cache(maxsize=512)
def _page_query(given: tuple[str, ...], after_cursor: bool) -> Select:
    """The page's statement for this combination of filters, its values bound by name: built once, so a
    page neither builds SQL expressions again (a sixth of a worker's time under the bench's load) nor
    computes the statement's cache key again."""
    marked = EventFilter(**{name: bindparam(name) for name in given if name != "bbox"},
                         bbox=tuple(bindparam(name) for name in _BBOX) if "bbox" in given else None)
    query = newest_first(filtered_heads(marked), marked)
    if after_cursor:
        query = older_than(query, marked, bindparam("cursor_at", type_=UTCDateTime()), bindparam("cursor_id"))
    return with_entries(query.with_only_columns(*_LISTED).limit(bindparam("limit")))
