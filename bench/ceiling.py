"""The ceiling: the least a Flask app can do with a strike report, under the service's gunicorn settings.

It parses the same JSON body and answers 201, nothing else: no validation, database or ledger.
Served with bench/gunicorn_ceiling.py, so single_rps / ceiling_rps is the share of this server's
capacity that the real POST /v1/events keeps.
"""
from flask import Flask, jsonify, request


def create_app() -> Flask:
    app = Flask(__name__)

    @app.post("/v1/events")
    def submit():
        report = request.get_json()
        return jsonify({"source_event_id": report["source_event_id"]}), 201

    return app


app = create_app()
