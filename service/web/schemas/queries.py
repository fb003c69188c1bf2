"""Query parameters of the auditor's event list and export (contract §8); a bad value is a 400 naming it."""
from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema
from marshmallow.validate import Length, OneOf, Range

from service.audit.reviews import REVIEW_STATUSES
from service.core.rules.categories import ALL_CATEGORIES
from service.core.rules.engine import SEVERITIES, SEVERITY_OF_RULE, VERDICTS
from service.web.schemas.events import SOURCE_EVENT_ID
from service.web.schemas.fields import OffsetDateTime, Whole

Text = Length(1, 128)


class BoundingBox(fields.String):
    """bbox=minLon,minLat,maxLon,maxLat (WGS84 degrees, inclusive)."""

    def _deserialize(self, value, attr, data, **kwargs):
        parts = super()._deserialize(value, attr, data, **kwargs).split(",")
        try:
            min_lon, min_lat, max_lon, max_lat = (float(p) for p in parts)
        except ValueError as error:
            raise ValidationError("Use four numbers: minLon,minLat,maxLon,maxLat.") from error
        if not (-180 <= min_lon <= max_lon <= 180 and -90 <= min_lat <= max_lat <= 90):
            raise ValidationError("Need -180 ≤ minLon ≤ maxLon ≤ 180 and -90 ≤ minLat ≤ maxLat ≤ 90.")
        return min_lon, min_lat, max_lon, max_lat


class EventFilterArgs(Schema):
    class Meta:
        unknown = RAISE

    verdict = fields.String(validate=OneOf(VERDICTS))
    rule_id = fields.String(validate=OneOf(sorted(SEVERITY_OF_RULE)))
    severity = fields.String(validate=OneOf(SEVERITIES), metadata={"description": "the highest finding severity"})
    munition = fields.String(validate=Text)
    family = fields.String(validate=Text)
    reporter = fields.String(validate=Text)
    category = fields.String(validate=OneOf(sorted(ALL_CATEGORIES)))
    target_country = fields.String(validate=Whole(r"^[A-Z]{2}$", error="Use an ISO 3166-1 alpha-2 code."),
                                   metadata={"description": "the computed country"})
    policy_version = fields.String(validate=Text)
    source_event_id = fields.String(validate=SOURCE_EVENT_ID, metadata={
        "description": "the reporting system's own id; with `reporter`, one reporter's event of that id"})
    review_status = fields.String(validate=OneOf(REVIEW_STATUSES))
    occurred_from = OffsetDateTime(metadata={"description": "inclusive"})
    occurred_to = OffsetDateTime(metadata={"description": "exclusive"})
    received_from = OffsetDateTime(metadata={"description": "inclusive"})
    received_to = OffsetDateTime(metadata={"description": "exclusive"})
    bbox = BoundingBox(metadata={"description": "minLon,minLat,maxLon,maxLat"})

    @validates_schema
    def _ordered_ranges(self, data, **_kwargs):
        for low, high in (("occurred_from", "occurred_to"), ("received_from", "received_to")):
            if low in data and high in data and data[low] >= data[high]:
                raise ValidationError(f"must be later than {low}", high)


class EventListArgs(EventFilterArgs):
    limit = fields.Integer(load_default=100, validate=Range(1, 500))
    cursor = fields.String(validate=Length(1, 200), metadata={"description": "next_cursor of the previous page"})


class ExportArgs(EventFilterArgs):
    format = fields.String(required=True, validate=OneOf(["csv", "geojson", "ndjson"]))
