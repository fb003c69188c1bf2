"""Prometheus metrics, open like the probes (docs/operations.md says why, and who should reach it)."""
from flask import Response, current_app

from service.web.context import sessions
from service.web.http import Blueprint
from service.web.metrics import CONTENT_TYPE, exposition

blp = Blueprint("metrics", __name__, description="Prometheus metrics")


@blp.route("/metrics")
@blp.response(200, content_type="text/plain", description="Prometheus text exposition format 0.0.4")
def metrics():
    """Requests by route and status, events ingested by verdict, sequencer lag, pending entries, tree size."""
    multiprocess_dir = current_app.config["SETTINGS"].prometheus_multiproc_dir
    return Response(exposition(sessions(), multiprocess_dir, current_app.extensions["witness_policy"]),
                    content_type=CONTENT_TYPE)
