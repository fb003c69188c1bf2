"""HTTP plumbing shared by every view: strict JSON bodies, body limits, clean URLs, the argument parser."""
from flask import Flask, current_app, request
from flask.json.provider import DefaultJSONProvider
from flask.wrappers import Request
from flask_smorest import Blueprint as SmorestBlueprint
from marshmallow import RAISE
from webargs.flaskparser import FlaskParser
from werkzeug.routing import IntegerConverter

from service.core.errors import InvalidInput
from service.web.errors import Problem
from service.web.schemas.fields import MAX_ID
from service.web.strict_json import loads_strict

JSON_BODY_METHODS = {"POST", "PUT", "PATCH"}


class StrictJSONProvider(DefaultJSONProvider):
    def loads(self, s, **kwargs):
        return loads_strict(s)


class StrictRequest(Request):
    def on_json_loading_failed(self, e):
        if e is None:
            raise Problem("Send the body as application/json.", status=415, title="Unsupported Media Type")
        raise InvalidInput(f"The body is not acceptable JSON: {e}", errors={"body": [str(e)]})


class StrictParser(FlaskParser):
    """webargs parses bodies itself; route it through the strict reader instead."""

    DEFAULT_VALIDATION_STATUS = 400
    # A misspelt filter must not silently widen a query: unknown parameters are errors everywhere.
    DEFAULT_UNKNOWN_BY_LOCATION = {location: RAISE for location in
                                   ("json", "query", "querystring", "form")}

    def _raw_load_json(self, req):
        return req.get_json()


class Blueprint(SmorestBlueprint):
    ARGUMENTS_PARSER = StrictParser()


class IdConverter(IntegerConverter):
    """`<int:name>` in every route: a non-negative 64-bit id. A larger number matches no route, so it is
    a 404 like any id that does not exist, never an overflow in the database (a 500)."""

    def __init__(self, url_map, *args, **kwargs):
        super().__init__(url_map, *args, **{"min": 0, "max": MAX_ID, **kwargs})


ID_SCHEMA = {"type": "integer", "minimum": 0, "maximum": MAX_ID}


def _has_body() -> bool:
    return bool(request.content_length) or request.headers.get("Transfer-Encoding", "").lower() == "chunked"


def guard_request_body() -> None:
    """Content type and size are checked before any view reads the body."""
    if request.method not in JSON_BODY_METHODS or not _has_body():
        return
    limit = current_app.config["MAX_BODY_BYTES"]
    if request.path.endswith("/batch"):
        limit = current_app.config["MAX_BATCH_BODY_BYTES"]
    # Also enforced while streaming a chunked body of unknown length.
    request.max_content_length = limit
    if request.content_length and request.content_length > limit:
        raise Problem(f"The body exceeds {limit} bytes.", status=413, title="Content Too Large")
    if not request.is_json:
        raise Problem("Send the body as application/json.", status=415, title="Unsupported Media Type")


def refuse_nul_in_url() -> None:
    """PostgreSQL cannot store or even compare a string holding U+0000: an id or a filter value with one
    would fail in the database (a 500) instead of being refused here, as a body with one is."""
    errors = {"path": ["must not contain U+0000"]} if "\x00" in request.path else {}
    for name, value in request.args.items(multi=True):
        if "\x00" in name or "\x00" in value:
            errors[name.replace("\x00", "\\u0000")] = ["must not contain U+0000"]
    if errors:
        raise InvalidInput("The URL contains U+0000.", errors=errors)


def install(app: Flask) -> None:
    app.url_map.converters["int"] = IdConverter
    app.request_class = StrictRequest
    app.json = StrictJSONProvider(app)
    app.before_request(refuse_nul_in_url)
    app.before_request(guard_request_body)
