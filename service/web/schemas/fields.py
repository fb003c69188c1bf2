"""Strict marshmallow fields: JSON types are not coerced (no "1" for 1, no 0 for false)."""
from marshmallow import ValidationError, fields

from service.core.time import format_utc, parse_rfc3339


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


class OffsetDateTime(fields.String):
    """An RFC 3339 timestamp that must carry its UTC offset; loads as an aware datetime."""

    def __init__(self, **kwargs):
        kwargs.setdefault("metadata", {}).setdefault("format", "date-time")
        super().__init__(**kwargs)

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_rfc3339(value)
        except ValueError as error:
            raise ValidationError(str(error)) from error

    def _serialize(self, value, attr, obj, **kwargs):
        return value if value is None or isinstance(value, str) else format_utc(value)
