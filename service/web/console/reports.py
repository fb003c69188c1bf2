"""Stored compliance reports: listed with their checkpoints, generated for a period, viewed and downloaded."""
import json

from flask import Response, current_app, g, redirect, request, url_for

from service.reports import store
from service.reports.periods import Period
from service.reports.render_csv import render_csv
from service.reports.render_html import render_html
from service.web.access_log import note_read
from service.web.console import signin
from service.web.console.blueprint import bp, page
from service.web.console.forms import checked, submitted
from service.web.context import sessions
from service.web.schemas.reports import FormatArgs, PeriodSchema
from service.web.security_headers import HTML_POLICY, use_policy

PERIOD_FORM, FORMAT_ARGS = PeriodSchema(), FormatArgs()


@bp.get("/reports")
@signin.signed_in(*signin.REVIEWERS)
def reports():
    with sessions()() as session:
        roots = {report.id: report.document["checkpoint"]["root_hash"] for report in store.stored_reports(session)}
        listed = [{**item, "root_hash": roots[item["id"]]} for item in store.listed(session)]
    note_read(len(listed))  # as GET /v1/reports
    return page("reports.html", reports=listed, created=request.args.get("created", type=int))


@bp.post("/reports")
@signin.signed_in(*signin.REVIEWERS)
def generate_report():
    signin.require_csrf(signin.csrf_token())
    form = checked(PERIOD_FORM, submitted(request.form, ignore=("csrf_token",)))
    stored = store.generate_on_demand(sessions(), current_app.extensions["ledger_signer"],
                                      Period(form["from_"], form["to"]), g.principal.name)
    return redirect(url_for("console.reports", created=stored["id"], _anchor=f"report-{stored['id']}"), 303)


@bp.get("/reports/<int:report_id>")
@signin.signed_in(*signin.REVIEWERS)
def report(report_id: int):
    fmt = checked(FORMAT_ARGS, {"format": "html", **submitted(request.args)})["format"]
    with sessions()() as session:
        document = store.report_or_404(session, report_id).document
    note_read(1)  # as GET /v1/reports/{id}
    if fmt == "html":
        # The report's own page: self-contained, with its inline style, and printable as it is.
        use_policy(HTML_POLICY)
        return Response(render_html({**document, "id": report_id}), mimetype="text/html")
    body, mimetype = ((json.dumps(document, ensure_ascii=False, indent=2), "application/json") if fmt == "json"
                      else (render_csv(document), "text/csv"))
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="report-{report_id}.{fmt}"'})
