"""The auditor's event filters (contract §8) as SQL over event_heads, with keyset pagination."""
import base64
import json
import uuid
from dataclasses import dataclass, fields, replace
from datetime import datetime

from sqlalchemy import BindParameter, Select, and_, literal, select, tuple_

from service.core.errors import InvalidInput
from service.core.time import format_utc, parse_rfc3339
from service.events.tables import EventHead, EventRule
from service.keys.store import Principal

EQUALITY = ("verdict", "severity", "munition", "family", "reporter", "category", "target_country",
            "policy_version", "review_status", "source_event_id")


@dataclass(frozen=True)
class EventFilter:
    verdict: str | None = None
    rule_id: str | None = None
    severity: str | None = None
    munition: str | None = None
    family: str | None = None
    reporter: str | None = None
    category: str | None = None
    target_country: str | None = None
    policy_version: str | None = None
    source_event_id: str | None = None  # the reporter's own id: unique per reporter, not across reporters
    review_status: str | None = None
    occurred_from: datetime | None = None
    occurred_to: datetime | None = None
    received_from: datetime | None = None
    received_to: datetime | None = None
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat

    @classmethod
    def from_args(cls, args: dict) -> "EventFilter":
        return cls(**{f.name: args[f.name] for f in fields(cls) if f.name in args})


def visible_filter(args: dict, principal: Principal) -> EventFilter | None:
    """The filters a key may apply: reporters only ever match their own events. None matches nothing:
    a reporter asking for another reporter's events learns nothing, not even how many there are."""
    criteria = EventFilter.from_args(args)
    if principal.sees_everything:
        return criteria
    if criteria.reporter not in (None, principal.name):
        return None
    return replace(criteria, reporter=principal.name)


def order_keys(criteria: EventFilter) -> tuple:
    """The columns a listing is ordered and paged by: newest occurred_at first, then id.

    A rule's events are read in the order of `ix_event_rules_order`, whose rows repeat the head's two
    keys (the head's latest version's rows are the ones joined): ordered by the heads' own columns,
    PostgreSQL would walk every head in order and probe each for the rule.
    """
    return (EventRule.occurred_at, EventRule.head_id) if criteria.rule_id is not None \
        else (EventHead.occurred_at, EventHead.id)


def filtered_heads(criteria: EventFilter) -> Select:
    """Latest versions matching every given filter (`*_from` inclusive, `*_to` exclusive)."""
    query = select(EventHead)
    for name in EQUALITY:
        value = getattr(criteria, name)
        if value is not None:
            query = query.where(getattr(EventHead, name) == value)
    if criteria.rule_id is not None:  # at most one row per version and rule: a join keeps heads unique
        query = query.join(EventRule, and_(EventRule.event_id == EventHead.event_id,
                                           EventRule.rule_id == criteria.rule_id))
    occurred_at = order_keys(criteria)[0]  # the same instant, on the rule's rows or the head's
    for column, low, high in ((occurred_at, criteria.occurred_from, criteria.occurred_to),
                              (EventHead.received_at, criteria.received_from, criteria.received_to)):
        if low is not None:
            query = query.where(column >= low)
        if high is not None:
            query = query.where(column < high)
    if criteria.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = criteria.bbox
        query = query.where(EventHead.target_lon.between(min_lon, max_lon),
                            EventHead.target_lat.between(min_lat, max_lat))
    return query


def newest_first(query: Select, criteria: EventFilter) -> Select:
    return query.order_by(*(column.desc() for column in order_keys(criteria)))


def older_than(query: Select, criteria: EventFilter, occurred_at: datetime, head_id: str) -> Select:
    """Rows after (occurred_at, id) in newest-first order. A row-value comparison, not an OR: both
    databases turn it into an index range, so the thousandth page costs what the first does."""
    keys = order_keys(criteria)
    # Each value typed as its column (a bound parameter is taken as it is: a statement built once, reused).
    bounds = [value if isinstance(value, BindParameter) else literal(value, key.type)
              for value, key in zip((occurred_at, head_id), keys)]
    return query.where(tuple_(*keys) < tuple_(*bounds))


def encode_cursor(head: EventHead) -> str:
    raw = json.dumps([format_utc(head.occurred_at), head.id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        occurred_at, head_id = json.loads(raw)
        if str(uuid.UUID(head_id)) != head_id:  # the form every event id has: nothing else is ever issued
            raise ValueError("bad id")
        return parse_rfc3339(occurred_at), head_id
    except Exception as error:  # whatever is wrong with it, the client gets the same 400
        raise InvalidInput("The cursor is not one this service issued.",
                                errors={"cursor": ["not a valid cursor; use next_cursor from the last page"]}) \
            from error
