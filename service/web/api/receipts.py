"""Receipts (C2SP tlog-proof) of a report's ledger entry, and of any ledger entry, against a cosigned checkpoint."""
from flask import Response, current_app, g
from sqlalchemy import select

from service.core.errors import NotFound, Unavailable
from service.events import intake
from service.events.tables import Event
from service.ledger.receipts import receipts, wait_for_receipts
from service.ledger.tables import Leaf
from service.web.api.common import ANY_ROLE, problem, protected
from service.web.api.ledger import READERS
from service.web.context import sessions
from service.web.http import Blueprint

blp = Blueprint("receipts", __name__, description="Offline-verifiable receipts (C2SP tlog-proof)")
PROOF_TEXT = "text/plain"
NOT_YET = "No checkpoint carrying the witness quorum covers this entry yet."


def receipts_for_events(event_ids: list[str]) -> dict[str, str | None]:
    """?wait=integrated: each stored event's receipt, waited for up to RECEIPT_WAIT_S."""
    with sessions()() as session:
        entries = dict(session.execute(select(Event.id, Event.ledger_entry_id).where(Event.id.in_(event_ids))).all())
    found = wait_for_receipts(sessions(), current_app.extensions["witness_policy"], list(entries.values()),
                              current_app.config["RECEIPT_WAIT_S"])
    return {event_id: found.get(entries.get(event_id)) for event_id in event_ids}


def _receipt(session, entry_id: int) -> Response:
    text = receipts(session, current_app.extensions["witness_policy"], [entry_id])[entry_id]
    if text is None:
        raise Unavailable(NOT_YET, errors={"receipt": ["not yet integrated and cosigned; retry shortly"]},
                          retry_after=1)
    return Response(text, mimetype=PROOF_TEXT)


@blp.route("/v1/events/<event_id>/receipt")
@protected(blp, *ANY_ROLE)
@blp.response(200, content_type=PROOF_TEXT, description="c2sp.org/tlog-proof@v1 with the entry as extra data")
@problem(blp, 404, "No such event visible to this key")
@problem(blp, 503, NOT_YET)
def event_receipt(event_id):
    """A receipt for this event version's report entry: inclusion in a checkpoint its witnesses cosigned."""
    with sessions()() as session:
        return _receipt(session, intake.visible_event(session, g.principal, event_id).ledger_entry_id)


@blp.route("/v1/ledger/entries/<int:index>/receipt")
@protected(blp, *READERS)
@blp.response(200, content_type=PROOF_TEXT, description="c2sp.org/tlog-proof@v1 with the entry as extra data")
@problem(blp, 404, "No integrated entry at that index")
@problem(blp, 503, NOT_YET)
def entry_receipt(index):
    """A receipt for the ledger entry at this leaf index."""
    with sessions()() as session:
        entry_id = session.scalar(select(Leaf.entry_id).where(Leaf.leaf_index == index))
        if entry_id is None:
            raise NotFound(f"no integrated entry at index {index}")
        return _receipt(session, entry_id)
