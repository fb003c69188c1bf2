"""Strike reports: submit, submit in batches, correct, read back."""
from flask import g, jsonify, request
from flask.views import MethodView

from .. import intake
from ..http import Blueprint
from ..read_model import event_detail, event_record
from ..schemas.events import (BatchResultSchema, BatchSchema, EventDetailSchema, EventRecordSchema,
                              StrikeEventSchema)
from .common import ANY_ROLE, problem, protected, sessions

blp = Blueprint("events", __name__, url_prefix="/v1/events", description="Strike reports and their verdicts")
WRITERS = ("reporter", "admin")


def _answer(outcome: intake.Outcome):
    with sessions()() as session:
        record = event_record(session, session.get(intake.Event, outcome.event_id))
    response = jsonify(record)
    response.status_code = 201 if outcome.created else 200
    if outcome.created:
        response.headers["Location"] = f"/v1/events/{outcome.event_id}"
    return response


@blp.route("")
class Events(MethodView):
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


@blp.route("/<event_id>")
class EventById(MethodView):
    @protected(blp, *ANY_ROLE)
    @blp.response(200, EventDetailSchema)
    @problem(blp, 404, "No such event visible to this key")
    def get(self, event_id):
        """One event version with all versions of the report."""
        with sessions()() as session:
            return jsonify(event_detail(session, intake.visible_event(session, g.principal, event_id)))


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
