"""Strict marshmallow fields: JSON types are not coerced (no "1" for 1, no 0 for false)."""
from marshmallow import ValidationError, fields
from marshmallow.validate import Range

from service.core.time import format_utc, parse_rfc3339

# Ids, indexes and sizes are 64-bit signed in the database: a larger number is refused as a bad value
# (400 naming the parameter, or 404 for a path), never passed on to fail there (a 500).
MAX_ID = 2**63 - 1


def Count(**kwargs) -> fields.Integer:  # noqa: N802 - reads like a field class in the schemas using it
    """A non-negative index or size of the ledger, at most MAX_ID."""
    return fields.Integer(validate=Range(min=0, max=MAX_ID), **kwargs)


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
