"""Strike reports: submit, submit in batches, correct, read back."""
from flask import g, jsonify, request
from flask.views import MethodView

from .. import exports, intake
from ..access_log import note_read
from ..http import Blueprint
from ..queries import after_cursor, encode_cursor, filtered_heads, newest_first, visible_filter
from ..read_model import event_detail, event_record, list_items
from ..reviews import add_review
from ..schemas.events import (BatchResultSchema, BatchSchema, EventDetailSchema, EventPageSchema,
                              EventRecordSchema, ReviewInSchema, ReviewSchema, StrikeEventSchema)
from ..schemas.queries import EventListArgs, ExportArgs
from .common import ANY_ROLE, problem, protected, sessions

blp = Blueprint("events", __name__, url_prefix="/v1/events", description="Strike reports and their verdicts")
WRITERS = ("reporter", "admin")
REVIEWERS = ("auditor", "admin")


def _answer(outcome: intake.Outcome):
    if outcome.stored is not None:
        record = outcome.stored.record()
    else:  # a replay: the stored original, read back
        with sessions()() as session:
            record = event_record(session, session.get(intake.Event, outcome.event_id))
    response = jsonify(record)
    response.status_code = 201 if outcome.created else 200
    if outcome.created:
        response.headers["Location"] = f"/v1/events/{outcome.event_id}"
    return response


@blp.route("")
class Events(MethodView):
    @protected(blp, *ANY_ROLE)
    @blp.arguments(EventListArgs, location="query")
    @blp.response(200, EventPageSchema)
    def get(self, args):
        """The latest version of each event, newest occurred_at first; reporters see their own."""
        criteria = visible_filter(args, g.principal)
        if criteria is None:
            return jsonify({"items": [], "next_cursor": None})
        query = after_cursor(newest_first(filtered_heads(criteria)), args.get("cursor"))
        with sessions()() as session:
            heads = session.scalars(query.limit(args["limit"] + 1)).all()
            page = heads[:args["limit"]]
            items = list_items(session, page)
        note_read(len(items))
        # Returned as built, not dumped through EventPageSchema again: list_items already makes the
        # schema's shape (the contract fuzzing checks every answer against openapi.yaml), and the
        # second pass cost a third of a page's time at a million events.
        return jsonify({"items": items, "next_cursor": encode_cursor(page[-1]) if len(heads) > len(page) else None})

    @protected(blp, *WRITERS)
    @blp.arguments(StrikeEventSchema)
    @blp.response(201, EventRecordSchema, description="Stored and judged")
    @blp.alt_response(200, schema=EventRecordSchema, description="The same report again: the original record")
    @problem(blp, 409, "The source_event_id was already reported with a different payload")
    def post(self, _report):
        """Submit a strike report; answers with its verdict and findings."""
        return _answer(intake.submit_event(sessions(), g.principal.name, request.get_json()))


@blp.route("/batch")
class Batch(MethodView):
    @protected(blp, *WRITERS)
    @blp.arguments(BatchSchema)
    @blp.response(200, BatchResultSchema)
    def post(self, batch):
        """Submit up to 1000 reports; each item succeeds or fails on its own."""
        return {"results": intake.submit_batch(sessions(), g.principal.name, batch["events"])}


@blp.route("/export")
class Export(MethodView):
    @protected(blp, *ANY_ROLE)
    @blp.arguments(ExportArgs, location="query")
    @blp.doc(responses={"200": exports.OPENAPI_200})
    def get(self, args):
        """Every event the filters match, as CSV, GeoJSON or NDJSON; reporters get their own."""
        criteria = visible_filter(args, g.principal)
        note_read(exports.matching_count(sessions(), criteria))  # the access entry is written before streaming
        return exports.streamed(sessions(), criteria, args["format"])


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
    @blp.arguments(ReviewInSchema)
    @blp.response(201, ReviewSchema)
    @problem(blp, 404, "No such event")
    def post(self, review, event_id):
        """Record a review; reviews are appended, never edited, and the latest is the event's status."""
        return add_review(sessions(), g.principal, event_id, review["status"], review["comment"]), 201


@blp.route("/<event_id>/corrections")
class Corrections(MethodView):
    @protected(blp, *WRITERS)
    @blp.arguments(StrikeEventSchema)
    @blp.response(201, EventRecordSchema, description="The new version, judged afresh")
    @blp.alt_response(200, schema=EventRecordSchema, description="The same correction again")
    @problem(blp, 404, "No such event visible to this key")
    @problem(blp, 409, "A concurrent correction was stored first")
    def post(self, _report, event_id):
        """Replace a report with a corrected version; the original and its verdict stay readable."""
        return _answer(intake.correct_event(sessions(), g.principal, event_id, request.get_json()))
