"""Strike event reports (contract §2): what reporters POST and what the service answers."""
from datetime import datetime, timedelta, timezone

from marshmallow import RAISE, Schema, ValidationError, fields, validates
from marshmallow.validate import Length, OneOf, Range

from service.audit.reviews import REVIEW_DECISIONS
from service.core.rules.categories import ALL_CATEGORIES
from service.core.rules.engine import VERDICTS
from service.web.schemas.fields import OffsetDateTime, StrictBoolean, StrictFloat, Whole
from service.web.schemas.ledger import CheckpointRefSchema, InclusionProofSchema
from service.web.schemas.report_shape import plainly_valid

FUTURE_TOLERANCE = timedelta(minutes=5)
SOURCE_EVENT_ID = Whole(r"^[A-Za-z0-9._:-]{1,128}$", error="Use 1-128 characters of A-Z a-z 0-9 . _ : -")


class StrictSchema(Schema):
    class Meta:
        unknown = RAISE


class WeaponSchema(StrictSchema):
    munition = fields.String(required=True, validate=Length(1, 64))
    launcher = fields.String(validate=Length(1, 64))
    us_provided = StrictBoolean(required=True)


class PointSchema(StrictSchema):
    lat = StrictFloat(required=True, validate=Range(-90, 90))
    lon = StrictFloat(required=True, validate=Range(-180, 180))


class TargetSchema(PointSchema):
    category = fields.String(required=True, validate=OneOf(sorted(ALL_CATEGORIES)))
    linked_to_invasion = StrictBoolean()
    country = fields.String(validate=Whole(r"^[A-Z]{2}$", error="Use an ISO 3166-1 alpha-2 code, e.g. RU."))
    description = fields.String(validate=Length(max=2000))


class EvidenceSchema(StrictSchema):
    kind = fields.String(required=True, validate=Length(1, 64))
    uri = fields.String(required=True, validate=Length(1, 2048))
    sha256 = fields.String(validate=Whole(r"^[0-9a-fA-F]{64}$", error="Use 64 hexadecimal digits."))


class StrikeEventSchema(StrictSchema):
    """A strike report as a reporting system submits it."""

    source_event_id = fields.String(required=True, validate=SOURCE_EVENT_ID)
    occurred_at = OffsetDateTime(required=True)
    weapon = fields.Nested(WeaponSchema, required=True)
    launch = fields.Nested(PointSchema)
    target = fields.Nested(TargetSchema, required=True)
    notes = fields.String(validate=Length(max=4000))
    evidence = fields.List(fields.Nested(EvidenceSchema), validate=Length(max=20))

    @validates("occurred_at")
    def _not_in_future(self, value: datetime, **_kwargs) -> None:
        if value > datetime.now(timezone.utc) + FUTURE_TOLERANCE:
            raise ValidationError("occurred_at is more than 5 minutes in the future.")

    def load(self, data, *, many=None, partial=None, unknown=None):
        """A plainly valid report is returned as sent (report_shape, twenty times faster); anything else
        is loaded by the schema, which raises its errors. The views take the body as sent either way."""
        if many is None and partial is None and unknown in (None, RAISE) and plainly_valid(data):
            return data
        return super().load(data, many=many, partial=partial, unknown=unknown)

    def errors(self, data) -> dict:
        """What is wrong with one report (a batch item): {} when it is valid."""
        return {} if plainly_valid(data) else self.validate(data)


class BatchSchema(StrictSchema):
    events = fields.List(fields.Raw(), required=True, validate=Length(1, 1000),
                         metadata={"description": "strike events as for POST /v1/events; each is validated "
                                                  "on its own and reported back as `invalid` if it fails"})


# ---- responses -------------------------------------------------------------------------

class FindingSchema(Schema):
    rule_id = fields.String(required=True)
    severity = fields.String(required=True, validate=OneOf(["critical", "high", "review"]))
    message = fields.String(required=True)
    evidence = fields.Dict(required=True)


class ComputedSchema(Schema):
    country = fields.String(allow_none=True, required=True)
    depth_km = fields.Float(allow_none=True, required=True)
    range_km = fields.Float(allow_none=True, required=True)
    zones = fields.List(fields.String(), required=True)


class LedgerRefSchema(Schema):
    entry_id = fields.Integer(required=True)
    leaf_hash = fields.String(required=True, metadata={"description": "standard base64 of SHA-256(0x00 || entry)"})


class EventRecordSchema(StrikeEventSchema):
    """A stored event version with its verdict."""

    class Meta:
        unknown = RAISE

    id = fields.String(required=True)
    reporter = fields.String(required=True)
    received_at = OffsetDateTime(required=True)
    version = fields.Integer(required=True)
    supersedes = fields.String(allow_none=True, required=True)
    superseded_by = fields.String(allow_none=True, required=True)
    verdict = fields.String(required=True, validate=OneOf(VERDICTS))
    policy_version = fields.String(allow_none=True, required=True)
    policy_sha256 = fields.String(allow_none=True, required=True)
    findings = fields.List(fields.Nested(FindingSchema), required=True)
    computed = fields.Nested(ComputedSchema, required=True)
    ledger = fields.Nested(LedgerRefSchema, required=True)
    receipt = fields.String(allow_none=True, metadata={
        "description": "with ?wait=integrated: a c2sp.org/tlog-proof@v1 receipt of the report entry against a "
                       "cosigned checkpoint; null if none covered it within RECEIPT_WAIT_S"})


class EntryPositionSchema(Schema):
    entry_id = fields.Integer(required=True)
    entry_type = fields.String(required=True)
    leaf_hash = fields.String(required=True)
    leaf_index = fields.Integer(required=True, allow_none=True, metadata={"description": "null until integrated"})
    inclusion_proof = fields.Nested(InclusionProofSchema, required=True, allow_none=True)


class EventDetailSchema(EventRecordSchema):
    review_status = fields.String(required=True, metadata={"description": "the latest review's status, or open"})
    versions = fields.List(fields.Nested(EventRecordSchema), required=True)
    evaluations = fields.List(fields.Nested(lambda: EvaluationSchema()), required=True)
    reviews = fields.List(fields.Nested(lambda: ReviewSchema()), required=True)
    ledger_entries = fields.List(fields.Nested(EntryPositionSchema), required=True,
                                 metadata={"description": "every entry of every version, with its inclusion "
                                                          "proof against `checkpoint`"})
    checkpoint = fields.Nested(CheckpointRefSchema, required=True, allow_none=True)


class BatchItemSchema(Schema):
    index = fields.Integer(required=True)
    status = fields.String(required=True, validate=OneOf(["created", "duplicate", "conflict", "invalid"]))
    id = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))
    receipt = fields.String(allow_none=True, metadata={
        "description": "with ?wait=integrated: a c2sp.org/tlog-proof@v1 receipt of the report entry against a "
                       "cosigned checkpoint; null if none covered it within RECEIPT_WAIT_S"})


class BatchResultSchema(Schema):
    results = fields.List(fields.Nested(BatchItemSchema), required=True)


class ReviewInSchema(StrictSchema):
    status = fields.String(required=True, validate=OneOf(REVIEW_DECISIONS))
    comment = fields.String(required=True, validate=Length(1, 4000))


class ReviewSchema(Schema):
    id = fields.Integer(required=True)
    event_id = fields.String(required=True, metadata={"description": "the version that was reviewed"})
    status = fields.String(required=True)
    comment = fields.String(required=True)
    reviewer = fields.String(required=True)
    created_at = OffsetDateTime(required=True)
    ledger = fields.Nested(LedgerRefSchema, required=True)


class EvaluationSchema(Schema):
    event_id = fields.String(required=True)
    verdict = fields.String(required=True)
    policy_version = fields.String(required=True, allow_none=True)
    policy_sha256 = fields.String(required=True, allow_none=True)
    findings = fields.List(fields.Nested(FindingSchema), required=True)
    computed = fields.Nested(ComputedSchema, required=True)
    evaluated_at = OffsetDateTime(required=True)


class EventListItemSchema(EventRecordSchema):
    review_status = fields.String(required=True)


class EventPageSchema(Schema):
    items = fields.List(fields.Nested(EventListItemSchema), required=True)
    next_cursor = fields.String(required=True, allow_none=True)


class WaitArgs(Schema):
    wait = fields.String(validate=OneOf(["integrated"]), metadata={
        "description": "integrated: answer once a checkpoint carrying the witness quorum covers the stored "
                       "reports, with each one's receipt (bounded by RECEIPT_WAIT_S)"})
