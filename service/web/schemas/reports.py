"""Compliance reports (contract §9): the period asked for, and the report as served."""
from datetime import timedelta

from marshmallow import RAISE, Schema, ValidationError, fields, validates_schema
from marshmallow.validate import OneOf, Regexp

from service.reports.periods import parse_bound
from service.web.schemas.events import LedgerRefSchema

FORMATS = ("json", "csv", "html")
# A report breaks its period down by ISO week; a period of millennia would tie a worker up building
# a query with a branch per week. Ten years is beyond any audit period and cheap to compute.
MAX_PERIOD = timedelta(days=3653)


class PeriodBound(fields.String):
    """An RFC 3339 date-time with offset, or a date (YYYY-MM-DD) meaning 00:00 UTC."""

    def _deserialize(self, value, attr, data, **kwargs):
        try:
            return parse_bound(value)
        except ValueError as error:
            raise ValidationError(str(error)) from error


class PeriodSchema(Schema):
    class Meta:
        unknown = RAISE

    from_ = PeriodBound(required=True, data_key="from", metadata={"description": "inclusive, on occurred_at"})
    to = PeriodBound(required=True, metadata={"description": "exclusive, on occurred_at; at most 3653 days "
                                                             "(ten years) after from"})

    @validates_schema
    def _ordered(self, data, **_kwargs):
        if "from_" in data and "to" in data and data["from_"] >= data["to"]:
            raise ValidationError("must be later than from", "to")
        if "from_" in data and "to" in data and data["to"] - data["from_"] > MAX_PERIOD:
            raise ValidationError(f"must be at most {MAX_PERIOD.days} days after from", "to")


class FormatArgs(Schema):
    class Meta:
        unknown = RAISE

    format = fields.String(load_default="json", validate=OneOf(FORMATS))


class ComplianceArgs(PeriodSchema, FormatArgs):
    pass


class ReportListArgs(Schema):
    class Meta:
        unknown = RAISE

    period = fields.String(validate=Regexp(r"^\d{4}-(W\d{2}|\d{2})$", error="Use a period label: 2024-06 or 2024-W23."),
                           metadata={"description": "a scheduled period's label (2024-06, 2024-W23): its revisions"})


class ReportDocumentSchema(Schema):
    """The canonical JSON form; the renderers and `reports verify` read exactly this."""

    report_type = fields.String(required=True)
    period = fields.Dict(required=True, metadata={"description": "from, to (RFC 3339 Z), label or null"})
    checkpoint = fields.Dict(required=True, metadata={"description": "tree_size and base64 root_hash"})
    policy_versions = fields.List(fields.Dict(), required=True)
    counts = fields.Dict(required=True, metadata={"description": "by_verdict, by_rule, by_severity, by_family, "
                                                                 "by_reporter, by_category: value -> events"})
    totals = fields.Dict(required=True)
    weekly = fields.List(fields.Dict(), required=True)
    violations = fields.List(fields.Dict(), required=True)
    open_reviews = fields.List(fields.Dict(), required=True)
    overruled_verdicts = fields.List(fields.Dict(), metadata={
        "description": "events whose reviewer judgement differs from the machine verdict (confirmed_violation "
                       "where the verdict is not violation, dismissed where it is), with the latest review"})
    flagged_points = fields.List(fields.Dict(), required=True)
    revision = fields.Dict(metadata={"description": "scheduled reports only: kind, number, supersedes (report_id, "
                                                    "revision, sha256, tree_size) or null, and changes since the "
                                                    "superseded revision (null for revision 1)"})


class StoredReportSchema(Schema):
    id = fields.Integer(required=True)
    sha256 = fields.String(required=True, metadata={"description": "of the report's RFC 8785 bytes"})
    ledger = fields.Nested(LedgerRefSchema, required=True, metadata={"description": "the report_generated entry"})
    report = fields.Nested(ReportDocumentSchema, required=True)


class RevisionRefSchema(Schema):
    id = fields.Integer(required=True)
    revision = fields.Integer(required=True)


class ReportSummarySchema(Schema):
    id = fields.Integer(required=True)
    kind = fields.String(required=True, validate=OneOf(("on_demand", "weekly", "monthly")))
    period = fields.Dict(required=True)
    sha256 = fields.String(required=True)
    tree_size = fields.Integer(required=True)
    created_at = fields.String(required=True)
    created_by = fields.String(required=True)
    revision = fields.Integer(required=True, metadata={"description": "1, 2, … within its period (on demand: 1)"})
    supersedes = fields.Integer(required=True, allow_none=True, metadata={"description": "the revision before"})
    superseded_by = fields.Integer(required=True, allow_none=True, metadata={
        "description": "the next revision; null when this one is the latest"})
    latest = fields.Nested(RevisionRefSchema, required=True, metadata={"description": "its period's latest revision"})


class ReportListSchema(Schema):
    items = fields.List(fields.Nested(ReportSummarySchema), required=True)
