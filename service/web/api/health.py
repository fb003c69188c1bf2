"""Liveness and readiness probes (unauthenticated)."""
from flask import current_app, jsonify
from sqlalchemy.exc import SQLAlchemyError

from service.core.errors import Unavailable
from service.core.time import utcnow
from service.ledger.cosigned import witnessing_status
from service.ledger.sequencer import backlog
from service.web.api.common import problem
from service.web.context import sessions
from service.web.http import Blueprint

blp = Blueprint("health", __name__, description="Probes for orchestrators")


@blp.route("/healthz")
@blp.response(200)
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@blp.route("/readyz")
@blp.response(200)
@problem(blp, 503, "The database is unreachable, or the sequencer has not signed a first checkpoint or "
                   "lags beyond READY_MAX_SEQUENCER_LAG_S")
def readyz():
    """The database answers and the sequencer runs and keeps up; 503 otherwise."""
    policy = current_app.extensions["witness_policy"]
    try:
        with sessions()() as session:
            now = utcnow()
            state = backlog(session, now)
            # Shown, never failing the probe: a missing quorum must not stop reports coming in.
            witnessing = witnessing_status(session, policy, now) if policy.needs_witnesses else None
    except SQLAlchemyError as error:  # unreachable, refusing, or not migrated: not ready either way
        cause = getattr(error, "orig", None) or error
        raise Unavailable("The database is unreachable.", errors={"database": [type(cause).__name__]}) from error
    limit, lag = current_app.config["READY_MAX_SEQUENCER_LAG_S"], state.lag_seconds
    if limit and not state.signed:
        # Its first run signs a checkpoint, empty ledger or not: until then nothing accepted would be
        # covered within a second (contract §7), so the service is not ready to take reports in.
        raise Unavailable("No checkpoint has been signed yet: the sequencer has not run.", retry_after=1,
                          errors={"sequencer": ["no signed checkpoint yet"]})
    if limit and lag > limit:
        # Reports are still stored, but no signed checkpoint covers them: contract §7 promises one within 1 s.
        raise Unavailable(f"The sequencer is {lag:.1f} s behind (the limit is {limit:g} s).",
                          errors={"sequencer": [f"the oldest entry not in a signed checkpoint is {lag:.1f} s old"]})
    extra = {"witnessing": witnessing.view(current_app.config["WITNESS_MAX_LAG_S"])} if witnessing else {}
    return jsonify(status="ready", database="ok", sequencer_lag_seconds=round(lag, 3), **extra)
