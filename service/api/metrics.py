"""Prometheus metrics, open like the probes (the README says why, and who should reach it)."""
from flask import Response

from ..http import Blueprint
from ..metrics import CONTENT_TYPE, exposition
from .common import sessions

blp = Blueprint("metrics", __name__, description="Prometheus metrics")


@blp.route("/metrics")
@blp.response(200, content_type="text/plain", description="Prometheus text exposition format 0.0.4")
def metrics():
    """Requests by route and status, events ingested by verdict, sequencer lag, pending entries, tree size."""
    return Response(exposition(sessions()), content_type=CONTENT_TYPE)
