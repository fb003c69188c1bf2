"""Strike reports: submit, submit in batches, correct, read back."""
from flask import Response, g, jsonify, request
from flask.views import MethodView

from service.audit import exports
from service.audit.filters import visible_filter
from service.audit.pages import event_page_json
from service.audit.records import event_detail, event_record
from service.audit.reviews import add_review
from service.core.errors import Conflict
from service.db import single_statement_reads
from service.events import intake
from service.events.tables import Event
from service.web.access_log import note_read
from service.web.api.common import ANY_ROLE, problem, protected
from service.web.api.receipts import receipts_for_events
from service.web.context import sessions
from service.web.errors import flatten_errors
from service.web.exports import OPENAPI_200 as EXPORT_200
from service.web.exports import streamed
from service.web.http import Blueprint
from service.web.metrics import count_ingested
from service.web.schemas.events import (BatchResultSchema, BatchSchema, EventDetailSchema, EventPageSchema,
                                        EventRecordSchema, ReviewInSchema, ReviewSchema, StrikeEventSchema, WaitArgs)
from service.web.schemas.queries import EventListArgs, ExportArgs

blp = Blueprint("events", __name__, url_prefix="/v1/events", description="Strike reports and their verdicts")
WRITERS = ("reporter", "admin")
REVIEWERS = ("auditor", "admin")
# Stateless, so one instance serves every request: building one per request (as webargs does when
# given the class) builds its nested schemas again each time, a millisecond a report.
REPORT_SCHEMA, WAIT_ARGS = StrikeEventSchema(), WaitArgs()


def _count_committed(submissions: list, kind: str) -> None:
    """Metrics count new versions once their transaction has committed, never a rolled-back one."""
    for submission in submissions:
        if isinstance(submission, intake.Submission) and submission.created:
            count_ingested(submission.stored.evaluation["verdict"], kind)


def _answer(submission: intake.Submission, kind: str, wait: str | None = None):
    _count_committed([submission], kind)
    if submission.stored is not None:
        record = submission.stored.record()
    else:  # a replay: the stored original, read back
        with sessions()() as session:
            record = event_record(session, session.get(Event, submission.event_id))
    if wait:  # after the commit: the report is stored whether or not a receipt comes in time
        record["receipt"] = receipts_for_events([submission.event_id])[submission.event_id]
    response = jsonify(record)
    response.status_code = 201 if submission.created else 200
    if submission.created:
        response.headers["Location"] = f"/v1/events/{submission.event_id}"
    return response


def _batch_results(reporter: str, items: list) -> list[dict]:
    """Each item validated on its own, the valid ones stored together; one result per item, in order."""
    results, valid = {}, []
    for index, item in enumerate(items):
        errors = REPORT_SCHEMA.errors(item) if isinstance(item, dict) else {"_schema": ["Not an object."]}
        if errors:
            results[index] = {"index": index, "status": "invalid", "errors": flatten_errors(errors)}
        else:
            valid.append((index, item))
    submissions = intake.submit_batch(sessions(), reporter, [item for _, item in valid]) if valid else []
    _count_committed(submissions, "report")
    for (index, _), submission in zip(valid, submissions):
        if isinstance(submission, Conflict):
            results[index] = {"index": index, "status": "conflict",
                              "errors": {"source_event_id": [submission.detail]}}
        else:
            results[index] = {"index": index, "status": "created" if submission.created else "duplicate",
                              "id": submission.event_id}
    return [results[index] for index in range(len(items))]


@blp.route("")
class Events(MethodView):
    @protected(blp, *ANY_ROLE)
    @blp.arguments(EventListArgs(), location="query")
    @blp.response(200, EventPageSchema)
    def get(self, args):
        """The latest version of each event, newest occurred_at first; reporters see their own."""
        criteria = visible_filter(args, g.principal)
        with single_statement_reads(sessions().kw["bind"]) as db:
            body, count = event_page_json(db, criteria, args["limit"], args.get("cursor"))
        note_read(count)
        # Returned as built, not dumped through EventPageSchema again: the items have the schema's shape
        # (the contract fuzzing checks every answer against openapi.yaml), and a second pass cost a third
        # of a page's time at a million events.
        return Response(body, mimetype="application/json")

    @protected(blp, *WRITERS)
    @blp.arguments(WAIT_ARGS, location="query")
    @blp.arguments(REPORT_SCHEMA)
    @blp.response(201, EventRecordSchema, description="Stored and judged")
    @blp.alt_response(200, schema=EventRecordSchema, description="The same report again: the original record")
    @problem(blp, 409, "The source_event_id was already reported with a different payload")
    def post(self, query, _report):
        """Submit a strike report; answers with its verdict and findings."""
        submission = intake.submit_event(sessions(), g.principal.name, request.get_json())
        return _answer(submission, "report", query.get("wait"))


@blp.route("/batch")
class Batch(MethodView):
    @protected(blp, *WRITERS)
    @blp.arguments(WAIT_ARGS, location="query")
    @blp.arguments(BatchSchema())
    @blp.response(200, BatchResultSchema)
    def post(self, query, batch):
        """Submit up to 1000 reports; each item succeeds or fails on its own."""
        results = _batch_results(g.principal.name, batch["events"])
        if query.get("wait"):
            stored = [item for item in results if "id" in item]
            found = receipts_for_events([item["id"] for item in stored])
            for item in stored:
                item["receipt"] = found[item["id"]]
        return {"results": results}


@blp.route("/export")
class Export(MethodView):
    @protected(blp, *ANY_ROLE)
    @blp.arguments(ExportArgs(), location="query")
    @blp.doc(responses={"200": EXPORT_200})
    def get(self, args):
        """Every event the filters match, as CSV, GeoJSON or NDJSON; reporters get their own."""
        criteria = visible_filter(args, g.principal)
        note_read(exports.matching_count(sessions(), criteria))  # the access entry is written before streaming
        return streamed(sessions(), criteria, args["format"])


@blp.route("/<event_id>")
class EventById(MethodView):
    @protected(blp, *ANY_ROLE)
    @blp.response(200, EventDetailSchema)
    @problem(blp, 404, "No such event visible to this key")
    def get(self, event_id):
        """One event version with all versions of the report."""
        with sessions()() as session:
            return jsonify(event_detail(session, intake.visible_event(session, g.principal, event_id)))


@blp.route("/<event_id>/reviews")
class Reviews(MethodView):
    @protected(blp, *REVIEWERS)
    @blp.arguments(ReviewInSchema())
    @blp.response(201, ReviewSchema)
    @problem(blp, 404, "No such event")
    def post(self, review, event_id):
        """Record a review; reviews are appended, never edited, and the latest is the event's status."""
        return add_review(sessions(), g.principal, event_id, review["status"], review["comment"]), 201


@blp.route("/<event_id>/corrections")
class Corrections(MethodView):
    @protected(blp, *WRITERS)
    @blp.arguments(REPORT_SCHEMA)
    @blp.response(201, EventRecordSchema, description="The new version, judged afresh")
    @blp.alt_response(200, schema=EventRecordSchema, description="The same correction again")
    @problem(blp, 404, "No such event visible to this key")
    @problem(blp, 409, "A concurrent correction was stored first")
    def post(self, _report, event_id):
        """Replace a report with a corrected version; the original and its verdict stay readable."""
        return _answer(intake.correct_event(sessions(), g.principal, event_id, request.get_json()), "correction")
