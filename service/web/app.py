"""The application factory: configuration, database, API, console, blueprints and error handling."""
import yaml
from flask import Flask, Response
from flask_smorest import Api
from flask_smorest.utils import prepare_response

from service.config import Settings
from service.db import make_engine, make_session_factory
from service.ledger.cosigned import load_policy
from service.ledger.proofs import ProofReader
from service.ledger.signer import Signer
from service.web import access_log, console, http, logs, metrics, rate_limits, security_headers
from service.web.api.common import RATE_LIMITED
from service.web.errors import PROBLEM_JSON, register_error_handlers
from service.web.schemas.problem import ProblemSchema


class AuditApi(Api):
    ERROR_SCHEMA = ProblemSchema

    def _register_error_handlers(self):
        """Errors are mapped in one place, service.errors, not by flask-smorest."""

    def _register_responses(self):
        # The shared error responses are documented with the media type they really have.
        self.DEFAULT_RESPONSE_CONTENT_TYPE = PROBLEM_JSON
        try:
            super()._register_responses()
        finally:
            del self.DEFAULT_RESPONSE_CONTENT_TYPE
        rate_limited = {"description": "Over the rate limit of this API key (without a valid key: of this address)",
                        "schema": ProblemSchema, "headers": {"Retry-After": {
                            "description": "Seconds until a request fits in the limit again",
                            "schema": {"type": "integer", "minimum": 1}}}}
        prepare_response(rate_limited, self.spec, PROBLEM_JSON)
        self.spec.components.response(RATE_LIMITED, rate_limited)


def create_web_app(test_config: dict | None = None) -> Flask:
    settings = Settings.from_env()
    app = Flask(__name__, static_folder=None)
    app.config.from_mapping(
        SETTINGS=settings,
        DATABASE_URL=settings.database_url,
        MAX_BODY_BYTES=settings.max_body_bytes,
        MAX_BATCH_BODY_BYTES=settings.max_batch_body_bytes,
        LEDGER_SIGNING_KEY=settings.ledger_signing_key,
        LEDGER_ORIGIN=settings.ledger_origin,
        HSTS_MAX_AGE=settings.hsts_max_age,
        RATE_LIMIT=settings.rate_limit,
        RATE_LIMIT_BATCH=settings.rate_limit_batch,
        RATE_LIMIT_STORAGE_URI=settings.rate_limit_storage_uri,
        READY_MAX_SEQUENCER_LAG_S=settings.ready_max_sequencer_lag_s,
        CONSOLE_SECRET=settings.console_secret,
        CONSOLE_IDLE_SECONDS=settings.console_idle_seconds,
        LEDGER_WITNESS_POLICY=settings.ledger_witness_policy,
        WITNESS_MAX_LAG_S=settings.witness_max_lag_s,
        RECEIPT_WAIT_S=settings.receipt_wait_s,
        API_TITLE="Strike-event compliance audit service",
        API_VERSION="1.0.0",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=None,  # the spec is served as YAML at /openapi.yaml below
        API_SPEC_OPTIONS={
            "info": {"description": "Checks after-the-fact strike reports against the authorized-use "
                                    "policy in force and keeps a verifiable audit ledger. It never "
                                    "selects or recommends targets."},
            "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}}},
        },
    )
    if test_config:
        app.config.update(test_config)
    logs.configure_logging(settings.log_level)

    engine = make_engine(app.config["DATABASE_URL"], settings.db_pool_size, settings.db_timeout_seconds)
    app.extensions["db_engine"] = engine
    app.extensions["db_sessions"] = make_session_factory(engine)
    app.extensions["ledger_signer"] = Signer(app.config["LEDGER_ORIGIN"], key_path=app.config["LEDGER_SIGNING_KEY"])
    app.extensions["witness_policy"] = load_policy(app.config["LEDGER_WITNESS_POLICY"])
    app.extensions["ledger_proofs"] = ProofReader(engine)

    logs.install_request_ids(app)  # first, so even a refused body gets a request id
    # after_request hooks run in reverse order: registered early, this one sees the final response.
    security_headers.install(app)
    metrics.install(app)  # also before access_log, so a refused read is counted with its final status
    rate_limits.install(app)  # before the body checks: a throttled client's body is not even looked at
    http.install(app)
    access_log.install(app)
    register_error_handlers(app)
    api = AuditApi(app)
    api.register_converter(http.IdConverter, lambda _converter: dict(http.ID_SCHEMA))
    _register_blueprints(app, api)
    console.install(app)  # plain Flask pages: not part of the API or its OpenAPI document

    @app.get("/openapi.yaml")
    def openapi_yaml():
        # The same bytes `flask openapi write --format=yaml` produces, so the committed file can be compared.
        return Response(yaml.dump(api.spec.to_dict()), mimetype="application/yaml")

    return app


def _register_blueprints(app: Flask, api: Api) -> None:
    from service.web.api import catalog, events, health, ledger, metrics, policies, receipts, reports, tiles

    tiles.register_converters(app, api)
    for module in (health, metrics, events, policies, catalog, ledger, tiles, receipts, reports):
        api.register_blueprint(module.blp)
