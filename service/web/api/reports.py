"""Compliance reports (contract §9): on demand, stored, listed, in JSON, CSV or HTML."""
from flask import Response, current_app, g
from flask.views import MethodView

from service.reports import store
from service.reports.periods import Period
from service.reports.render_csv import render_csv
from service.reports.render_html import render_html
from service.web.access_log import note_read
from service.web.api.common import problem, protected
from service.web.context import sessions
from service.web.http import Blueprint
from service.web.schemas.reports import (ComplianceArgs, FormatArgs, PeriodSchema, ReportDocumentSchema,
                                         ReportListSchema, StoredReportSchema)

blp = Blueprint("reports", __name__, url_prefix="/v1/reports", description="Compliance reports")
READERS = ("auditor", "admin")
FORMATS_200 = {"200": {"description": "The report", "content": {
    "application/json": {"schema": ReportDocumentSchema}, "text/csv": {"schema": {"type": "string"}},
    "text/html": {"schema": {"type": "string"}}}}}
MEDIA = {"csv": "text/csv", "html": "text/html"}
RENDERERS = {"csv": render_csv, "html": render_html}


def _formatted(document: dict, fmt: str, report_id: int | None = None):
    if fmt == "json":
        return document
    # A stored report's id goes into the page, so its "reports verify <id>" line names it.
    shown = document if report_id is None else {**document, "id": report_id}
    return Response(RENDERERS[fmt](shown), mimetype=MEDIA[fmt])


@blp.route("/compliance")
class Compliance(MethodView):
    @protected(blp, *READERS)
    @blp.arguments(ComplianceArgs, location="query")
    @blp.doc(responses=FORMATS_200)
    def get(self, args):
        """A compliance report for [from, to) on occurred_at, as of a checkpoint signed now; not stored."""
        period = Period(args["from_"], args["to"])
        document = store.current_report(sessions(), current_app.extensions["ledger_signer"], period)
        note_read(document["totals"]["events"])
        return _formatted(document, args["format"])


@blp.route("")
class Reports(MethodView):
    @protected(blp, *READERS)
    @blp.response(200, ReportListSchema)
    def get(self):
        """Every stored report, newest first (without the documents)."""
        with sessions()() as session:
            items = [store.summary(r) for r in store.stored_reports(session)]
        note_read(len(items))
        return {"items": items}

    @protected(blp, *READERS)
    @blp.arguments(PeriodSchema)
    @blp.response(201, StoredReportSchema)
    def post(self, args):
        """Compute and store a report; its SHA-256 becomes a `report_generated` ledger entry."""
        return store.generate_on_demand(sessions(), current_app.extensions["ledger_signer"],
                                        Period(args["from_"], args["to"]), g.principal.name)


@blp.route("/<int:report_id>")
class ReportById(MethodView):
    @protected(blp, *READERS)
    @blp.arguments(FormatArgs, location="query")
    @blp.doc(responses=FORMATS_200)
    @problem(blp, 404, "No such report")
    def get(self, args, report_id):
        """A stored report exactly as stored, in JSON, CSV or HTML."""
        with sessions()() as session:
            document = store.report_or_404(session, report_id).document
        note_read(1)
        return _formatted(document, args["format"], report_id)
