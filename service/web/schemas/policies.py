"""Policy version documents (contract §3) as admins publish them, and the simulation's answer.

The document is validated here and stored exactly as sent: its SHA-256 is over the sent JSON, so
the schema only checks, it never rewrites.
"""
import re
from collections import Counter
from numbers import Real

import shapely
from marshmallow import Schema, ValidationError, fields, validates_schema
from marshmallow.validate import Length, OneOf, Range, Regexp

from service.core.rules.categories import CATEGORIES
from service.core.rules.engine import VERDICTS
from service.core.rules.model import polygon_area, polygon_shape
from service.web.schemas.events import StrictSchema
from service.web.schemas.fields import OffsetDateTime, StrictFloat, Whole

POLICY_ID = Whole(r"^[a-z0-9][a-z0-9.-]{2,127}$",
                   error="Use 3-128 characters of a-z 0-9 . - starting with a letter or digit.")
ZONE_ID = Whole(r"^[a-z0-9][a-z0-9._-]{0,63}$",
                 error="Use 1-64 characters of a-z 0-9 . _ - starting with a letter or digit.")
MAX_DEPTH_KM = 2000
MAX_ZONES = 100


class DocumentInstant(OffsetDateTime):
    """RFC 3339 with offset, and an upper-case T and Z: the form Policy.from_document reads."""

    def _deserialize(self, value, attr, data, **kwargs):
        moment = super()._deserialize(value, attr, data, **kwargs)
        if value != value.upper():
            raise ValidationError("Write T and Z in upper case, e.g. 2024-05-30T00:00:00Z.")
        return moment


def _no_duplicates(values: list) -> None:
    repeated = sorted(v for v, n in Counter(values).items() if n > 1)
    if repeated:
        raise ValidationError(f"Duplicate values: {', '.join(repeated)}.")


class SourceSchema(StrictSchema):
    citation = fields.String(required=True, validate=[Length(1, 4000), Regexp(r"\S", error="Must not be blank.")])
    reported = fields.Date(metadata={"description": "when the decision was reported, YYYY-MM-DD"})
    url = fields.Url(schemes={"http", "https"}, validate=Length(max=2048))


class BoxSchema(StrictSchema):
    min_lon = StrictFloat(required=True, validate=Range(-180, 180))
    min_lat = StrictFloat(required=True, validate=Range(-90, 90))
    max_lon = StrictFloat(required=True, validate=Range(-180, 180))
    max_lat = StrictFloat(required=True, validate=Range(-90, 90))

    @validates_schema
    def _ordered(self, data, **_kwargs):
        errors = {f"min_{axis}": [f"Must be less than max_{axis}."]
                  for axis in ("lon", "lat") if not data[f"min_{axis}"] < data[f"max_{axis}"]}
        if errors:
            raise ValidationError(errors)


def _position_errors(position, path: str) -> dict[str, list[str]]:
    # Two numbers only: an altitude would be silently ignored by the containment test.
    if (not isinstance(position, list) or len(position) != 2
            or not all(isinstance(c, Real) and not isinstance(c, bool) for c in position)):
        return {path: ["A position is [longitude, latitude]: two numbers."]}
    lon, lat = position
    messages = ([f"Longitude {lon} is outside -180..180."] if not -180 <= lon <= 180 else []) + \
               ([f"Latitude {lat} is outside -90..90."] if not -90 <= lat <= 90 else [])
    return {path: messages} if messages else {}


def _ring_errors(ring, path: str) -> dict[str, list[str]]:
    if not isinstance(ring, list) or len(ring) < 4:
        return {path: ["A linear ring is a list of at least 4 positions."]}
    errors = {}
    for index, position in enumerate(ring):
        errors.update(_position_errors(position, f"{path}.{index}"))
    if not errors and ring[0] != ring[-1]:
        errors[path] = ["The ring is not closed: its last position must equal its first."]
    return errors


def _polygon_errors(polygon, path: str) -> dict[str, list[str]]:
    if not isinstance(polygon, list) or not polygon:
        return {path: ["A polygon is a non-empty list of linear rings (the shell, then any holes)."]}
    errors = {}
    for index, ring in enumerate(polygon):
        errors.update(_ring_errors(ring, f"{path}.{index}"))
    return errors


class GeoJSONPolygonSchema(StrictSchema):
    """A GeoJSON (RFC 7946) Polygon or MultiPolygon geometry object, in WGS84 longitude/latitude."""

    type = fields.String(required=True, validate=OneOf(["Polygon", "MultiPolygon"]))
    coordinates = fields.Raw(required=True, metadata={"type": "array", "items": {"type": "array"}})

    @validates_schema
    def _valid_geometry(self, data, **_kwargs):
        coordinates = data["coordinates"]
        if data["type"] == "Polygon":
            errors = _polygon_errors(coordinates, "coordinates")
        elif not isinstance(coordinates, list) or not coordinates:
            errors = {"coordinates": ["A MultiPolygon's coordinates are a non-empty list of polygons."]}
        else:
            errors = {}
            for index, polygon in enumerate(coordinates):
                errors.update(_polygon_errors(polygon, f"coordinates.{index}"))
        if errors:
            raise ValidationError(errors)
        # Rings that cross themselves or each other would make containment meaningless.
        reason = shapely.is_valid_reason(polygon_shape(polygon_area(data)))
        if reason != "Valid Geometry":
            # GEOS says "Self-intersection[37.5 50.8]"; name the point as a (lon, lat) pair.
            where = re.fullmatch(r"(.*)\[(\S+) (\S+)\]", reason)
            text = f"{where[1]} at or near ({where[2]}, {where[3]})" if where else reason
            raise ValidationError({"coordinates": [f"Not a valid polygon: {text}."]})


class ZoneSchema(StrictSchema):
    id = fields.String(required=True, validate=ZONE_ID)
    box = fields.Nested(BoxSchema, allow_none=True,
                        metadata={"description": "bounds inclusive; null = anywhere; not with `polygon`"})
    polygon = fields.Nested(GeoJSONPolygonSchema,
                            metadata={"description": "GeoJSON Polygon or MultiPolygon, boundary inclusive; "
                                                     "not with `box`"})
    max_depth_km = StrictFloat(required=True, validate=Range(0, MAX_DEPTH_KM, min_inclusive=False),
                               metadata={"exclusiveMinimum": True, "description": "> 0 and ≤ 2000"})
    denied_families = fields.List(fields.String(validate=Length(1, 64)), required=True, validate=_no_duplicates,
                                  metadata={"description": "munition families of the catalog"})

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _one_area(self, _data, original, **_kwargs):
        # Judged on the keys sent, so an invalid box still counts as "a box was given".
        if not isinstance(original, dict):
            return
        if "box" in original and "polygon" in original:
            raise ValidationError({"polygon": ["Give either box or polygon, not both."]})
        if "box" not in original and "polygon" not in original:
            raise ValidationError({"box": ["Give box (null for anywhere) or polygon."]})


class PolicyDocumentSchema(StrictSchema):
    """A policy version document, as in service/policies/versions/*.json."""

    id = fields.String(required=True, validate=POLICY_ID)
    title = fields.String(required=True, validate=Length(1, 500))
    effective_from = DocumentInstant(required=True, metadata={"description": "inclusive"})
    effective_to = DocumentInstant(required=True, allow_none=True,
                                  metadata={"description": "exclusive; null = open-ended"})
    source = fields.Nested(SourceSchema, required=True)
    permitted_purposes = fields.List(fields.String(validate=OneOf(CATEGORIES["military"])), required=True,
                                     validate=_no_duplicates,
                                     metadata={"description": "military categories allowed inside Russia"})
    zones = fields.List(fields.Nested(ZoneSchema), required=True, validate=Length(max=MAX_ZONES),
                        metadata={"description": "empty: no strike inside Russia is authorized"})

    @validates_schema(skip_on_field_errors=False)
    def _effective_range(self, data, **_kwargs):
        start, end = data.get("effective_from"), data.get("effective_to")
        if start is not None and end is not None and not start < end:
            raise ValidationError({"effective_to": ["Must be later than effective_from."]})

    @validates_schema(pass_original=True, skip_on_field_errors=False)
    def _unique_zone_ids(self, _data, original, **_kwargs):
        # From the document as sent: the loaded list drops invalid zones, which would shift indexes.
        zones = original.get("zones") if isinstance(original, dict) else None
        if not isinstance(zones, list):
            return
        seen, errors = set(), {}
        for index, zone in enumerate(zones):
            zone_id = zone.get("id") if isinstance(zone, dict) else None
            if isinstance(zone_id, str):
                if zone_id in seen:
                    errors[f"zones.{index}.id"] = [f"Zone id {zone_id} is used twice."]
                seen.add(zone_id)
        if errors:
            raise ValidationError(errors)


# ---- responses -------------------------------------------------------------------------

class PolicySchema(Schema):
    id = fields.String(required=True)
    effective_from = OffsetDateTime(required=True)
    effective_to = OffsetDateTime(required=True, allow_none=True)
    sha256 = fields.String(required=True, metadata={"description": "SHA-256 of the RFC 8785 bytes of `document`"})
    published_at = OffsetDateTime(required=True)
    published_by = fields.String(required=True)
    document = fields.Dict(required=True, metadata={"description": "the document exactly as published"})


class PolicyListSchema(Schema):
    policies = fields.List(fields.Nested(PolicySchema), required=True)


class SimulationQuerySchema(StrictSchema):
    occurred_from = OffsetDateTime(required=True, metadata={
        "description": "inclusive; RFC 3339 with offset (send a `+` as %2B)"})
    occurred_to = OffsetDateTime(required=True, metadata={
        "description": "exclusive, later than occurred_from; RFC 3339 with offset"})

    @validates_schema
    def _ordered(self, data, **_kwargs):
        if not data["occurred_from"] < data["occurred_to"]:
            raise ValidationError({"occurred_to": ["Must be later than occurred_from."]})


class ActualOutcomeSchema(Schema):
    verdict = fields.String(required=True, validate=OneOf(VERDICTS))
    policy_version = fields.String(required=True, allow_none=True)
    rule_ids = fields.List(fields.String(), required=True)


class SimulatedOutcomeSchema(Schema):
    verdict = fields.String(required=True, validate=OneOf(VERDICTS))
    rule_ids = fields.List(fields.String(), required=True)


class SimulatedEventSchema(Schema):
    event_id = fields.String(required=True, metadata={"description": "id of the event's latest version"})
    source_event_id = fields.String(required=True)
    reporter = fields.String(required=True)
    occurred_at = OffsetDateTime(required=True)
    actual = fields.Nested(ActualOutcomeSchema, required=True)
    simulated = fields.Nested(SimulatedOutcomeSchema, required=True)
    changed = fields.Boolean(required=True, metadata={"description": "the verdict or the rule ids differ"})


class VerdictCountsSchema(Schema):
    actual = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    simulated = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)


class SimulationSummarySchema(Schema):
    events = fields.Integer(required=True)
    changed = fields.Integer(required=True)
    by_verdict = fields.Nested(VerdictCountsSchema, required=True)


class SimulationSchema(Schema):
    policy_version = fields.String(required=True)
    policy_sha256 = fields.String(required=True)
    occurred_from = OffsetDateTime(required=True)
    occurred_to = OffsetDateTime(required=True)
    summary = fields.Nested(SimulationSummarySchema, required=True)
    results = fields.List(fields.Nested(SimulatedEventSchema), required=True)
