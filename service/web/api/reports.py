"""Compliance reports (contract §9): on demand, stored, listed, in JSON, CSV or HTML."""
from flask import Response, current_app, g, jsonify
from flask.views import MethodView

from service.reports import store
from service.reports.periods import Period
from service.reports.render_csv import render_csv
from service.reports.render_html import render_html
from service.web.access_log import note_read
from service.web.api.common import problem, protected
from service.web.context import sessions
from service.web.http import Blueprint
from service.web.schemas.reports import (ComplianceArgs, FormatArgs, PeriodSchema, ReportDocumentSchema, ReportListArgs,
                                         ReportListSchema, StoredReportSchema)

blp = Blueprint("reports", __name__, url_prefix="/v1/reports", description="Compliance reports")
READERS = ("auditor", "admin")
CONTENT = {"application/json": {"schema": ReportDocumentSchema}, "text/csv": {"schema": {"type": "string"}},
           "text/html": {"schema": {"type": "string"}}}
FORMATS_200 = {"200": {"description": "The report", "content": CONTENT}}
LINK = {"description": "RFC 8288 links between a scheduled period's revisions (RFC 5829 relations): "
                       "`predecessor-version`, `successor-version` (present only when a newer revision exists), "
                       "`latest-version`, `version-history` (GET /v1/reports?period=…)", "schema": {"type": "string"}}
STORED_200 = {"200": {"description": "The report exactly as stored; the HTML form of a superseded revision says so "
                                     "at the top", "content": CONTENT, "headers": {"Link": LINK}}}
MEDIA = {"csv": "text/csv", "html": "text/html"}
RENDERERS = {"csv": render_csv, "html": render_html}


def _formatted(document: dict, fmt: str, shown: dict | None = None):
    if fmt == "json":
        return jsonify(document)
    # A stored report's id and revision standing go into the page (not into its document): its
    # "reports verify <id>" line names it, and a superseded revision says so at the top.
    return Response(RENDERERS[fmt]({**document, **(shown or {})}), mimetype=MEDIA[fmt])


def _links(supersedes: int | None, label: str | None, status: dict) -> str:
    links = [(supersedes, "predecessor-version"), (status["superseded_by"], "successor-version"),
             (status["latest"]["id"], "latest-version")]
    found = [f'</v1/reports/{target}>; rel="{rel}"' for target, rel in links if target is not None]
    if label is not None:
        found.append(f'</v1/reports?period={label}>; rel="version-history"')
    return ", ".join(found)


@blp.route("/compliance")
class Compliance(MethodView):
    @protected(blp, *READERS)
    @blp.arguments(ComplianceArgs(), location="query")
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
    @blp.arguments(ReportListArgs(), location="query")
    @blp.response(200, ReportListSchema)
    def get(self, args):
        """Stored reports, newest first (without the documents); `period`: one period's revisions."""
        with sessions()() as session:
            items = store.listed(session, args.get("period"))
        note_read(len(items))
        return {"items": items}

    @protected(blp, *READERS)
    @blp.arguments(PeriodSchema())
    @blp.response(201, StoredReportSchema)
    def post(self, args):
        """Compute and store a report; its SHA-256 becomes a `report_generated` ledger entry."""
        created = store.generate_on_demand(sessions(), current_app.extensions["ledger_signer"],
                                           Period(args["from_"], args["to"]), g.principal.name)
        # Answered as built, the schema documenting it: dumping a month's 29 MB document through the schema
        # copied each of its 120,000 listed rows (0.1-0.4 s) into what holds exactly the same keys.
        return jsonify(created), 201


@blp.route("/<int:report_id>")
class ReportById(MethodView):
    @protected(blp, *READERS)
    @blp.arguments(FormatArgs(), location="query")
    @blp.doc(responses=STORED_200)
    @problem(blp, 404, "No such report")
    def get(self, args, report_id):
        """A stored report exactly as stored, in JSON, CSV or HTML; links name its period's other revisions."""
        with sessions()() as session:
            report = store.report_or_404(session, report_id)
            status = store.revision_status(report, store.revisions_of(session, report))
            document, label, supersedes = report.document, report.label, report.supersedes
        note_read(1)
        response = _formatted(document, args["format"], {"id": report_id, **status})
        response.headers["Link"] = _links(supersedes, label, status)
        return response
