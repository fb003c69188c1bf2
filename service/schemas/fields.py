"""Strict marshmallow fields: JSON types are not coerced (no "1" for 1, no 0 for false)."""
import re
from datetime import datetime, timezone

from marshmallow import ValidationError, fields

# RFC 3339 date-time: an explicit offset (Z or ±hh:mm) is required.
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$")


class StrictFloat(fields.Float):
    def _deserialize(self, value, attr, data, **kwargs):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValidationError("Not a valid number.")
        return super()._deserialize(value, attr, data, **kwargs)


class StrictBoolean(fields.Boolean):
    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise ValidationError("Not a valid boolean: use true or false.")
        return value


def parse_rfc3339(value) -> datetime:
    if not isinstance(value, str) or not RFC3339.match(value):
        raise ValidationError("Not an RFC 3339 date-time with offset, e.g. 2024-06-02T03:14:00Z.")
    text = value.upper()
    if "." in text:  # Python reads at most 6 fractional digits
        head, _, tail = text.partition(".")
        digits = re.match(r"\d+", tail).group()
        text = f"{head}.{digits[:6].ljust(6, '0')}{tail[len(digits):]}"
    try:
        return datetime.fromisoformat(text)
    except ValueError as error:
        raise ValidationError(f"Not a valid date-time: {error}.") from error


class OffsetDateTime(fields.String):
    """An RFC 3339 timestamp that must carry its UTC offset; loads as an aware datetime."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("format", "date-time")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        return parse_rfc3339(value)

    def _serialize(self, value, attr, obj, **kwargs):
        return value if value is None or isinstance(value, str) else format_utc(value)


def format_utc(moment: datetime) -> str:
    """2024-06-02T03:14:00Z; fractions only when present."""
    return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
