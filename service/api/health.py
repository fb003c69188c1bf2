"""Liveness and readiness probes (unauthenticated)."""
from flask import jsonify
from sqlalchemy import text

from ..http import Blueprint
from .common import sessions

blp = Blueprint("health", __name__, description="Probes for orchestrators")


@blp.route("/healthz")
@blp.response(200)
def healthz():
    """The process is up."""
    return jsonify(status="ok")


@blp.route("/readyz")
@blp.response(200)
def readyz():
    """The database answers; 503 otherwise."""
    try:
        with sessions()() as session:
            session.execute(text("SELECT 1"))
    except Exception as error:  # any failure to reach the database means not ready
        response = jsonify(status="unavailable", database=type(error).__name__)
        response.status_code = 503
        response.headers["Retry-After"] = "5"
        return response
    return jsonify(status="ready", database="ok")
