"""The strike report of contract §2 as msgspec types: a valid report is accepted in a few microseconds.

marshmallow's StrikeEventSchema stays the definition of what is valid, and the only source of error
messages (OpenAPI is built from it; a 400 names each field as it says). This is a fast door for the
common case only: what it accepts, the schema accepts (tests/unit/test_report_shape.py holds the two
to that over generated reports, valid and not); what it refuses, or is unsure of, goes to the schema,
which decides and explains.
"""
from datetime import datetime, timedelta, timezone
from typing import Annotated, Literal

import msgspec

from service.core.rules.categories import ALL_CATEGORIES
from service.core.time import RFC3339, parse_rfc3339

SOURCE_EVENT_ID = r"^[A-Za-z0-9._:-]{1,128}\Z"
COUNTRY = r"^[A-Z]{2}\Z"
SHA256 = r"^[0-9a-fA-F]{64}\Z"
FUTURE_TOLERANCE = timedelta(minutes=5)

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Latitude = Annotated[float, msgspec.Meta(ge=-90, le=90)]
Longitude = Annotated[float, msgspec.Meta(ge=-180, le=180)]
Category = Literal[tuple(sorted(ALL_CATEGORIES))]  # noqa: F821 - a Literal of every category


class _Strict(msgspec.Struct, forbid_unknown_fields=True):
    pass


class Weapon(_Strict):
    munition: Text
    us_provided: bool
    launcher: Text | msgspec.UnsetType = msgspec.UNSET


class Point(_Strict):
    lat: Latitude
    lon: Longitude


class Target(_Strict):
    lat: Latitude
    lon: Longitude
    category: Category
    linked_to_invasion: bool | msgspec.UnsetType = msgspec.UNSET
    country: Annotated[str, msgspec.Meta(pattern=COUNTRY)] | msgspec.UnsetType = msgspec.UNSET
    description: Annotated[str, msgspec.Meta(max_length=2000)] | msgspec.UnsetType = msgspec.UNSET


class Evidence(_Strict):
    kind: Text
    uri: Annotated[str, msgspec.Meta(min_length=1, max_length=2048)]
    sha256: Annotated[str, msgspec.Meta(pattern=SHA256)] | msgspec.UnsetType = msgspec.UNSET


class StrikeReport(_Strict):
    source_event_id: Annotated[str, msgspec.Meta(pattern=SOURCE_EVENT_ID)]
    occurred_at: Annotated[str, msgspec.Meta(pattern=RFC3339.pattern)]
    weapon: Weapon
    target: Target
    launch: Point | msgspec.UnsetType = msgspec.UNSET
    notes: Annotated[str, msgspec.Meta(max_length=4000)] | msgspec.UnsetType = msgspec.UNSET
    evidence: Annotated[list[Evidence], msgspec.Meta(max_length=20)] | msgspec.UnsetType = msgspec.UNSET


def plainly_valid(report) -> bool:
    """True when `report` (parsed JSON) is a valid strike report; False when the schema must decide."""
    if type(report) is not dict:
        return False
    try:
        msgspec.convert(report, StrikeReport)
        occurred = parse_rfc3339(report["occurred_at"])
    except Exception:  # msgspec's ValidationError, a date that does not exist, or any surprise: the schema decides
        return False
    return occurred <= datetime.now(timezone.utc) + FUTURE_TOLERANCE
