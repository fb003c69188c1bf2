"""The one place that turns any error, domain or HTTP, into RFC 9457 problem+json."""
import logging

from flask import Flask, current_app, g, has_request_context, jsonify, request
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException

from service.core.errors import Conflict, DomainError, InvalidInput, NotFound, Unavailable

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error that only exists in HTTP (a body too large, a missing key). `errors` maps field paths
    to messages. Use cases raise service.core.errors instead; DOMAIN_STATUS maps those."""

    status = 400
    title = "Bad Request"

    def __init__(self, detail: str, errors: dict | None = None, status: int | None = None,
                 title: str | None = None, headers: dict | None = None):
        super().__init__(detail)
        self.detail = detail
        self.errors = errors
        self.status = status or self.status
        self.title = title or self.title
        self.headers = headers or {}


class Unauthorized(Problem):
    status, title = 401, "Unauthorized"


class Forbidden(Problem):
    status, title = 403, "Forbidden"


# What each domain error is in HTTP: its status and its RFC 9457 title.
DOMAIN_STATUS = {
    InvalidInput: (400, "Invalid request"),
    NotFound: (404, "Not Found"),
    Conflict: (409, "Conflict"),
    Unavailable: (503, "Service Unavailable"),
}


def flatten_errors(messages, prefix: str = "") -> dict[str, list[str]]:
    """marshmallow's nested {"target": {"lat": [...]}} -> {"target.lat": [...]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            if key == "_schema":
                path = prefix or "body"
            for sub_path, sub_messages in flatten_errors(value, path).items():
                flat.setdefault(sub_path, []).extend(sub_messages)
    elif isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        flat[prefix or "body"] = list(messages)
    else:
        flat[prefix or "body"] = [str(messages)]
    return flat


def render_errors_as_pages(app: Flask, path_prefix: str, render) -> None:
    """Errors answering URLs under `path_prefix` (routed or not) are shown by `render(status, title,
    detail, errors, headers)` instead of as problem+json: the console's visitors are people with a
    browser, not API clients. Which status and title an error has is still decided here, once."""
    app.extensions.setdefault("error_pages", {})[path_prefix.rstrip("/") + "/"] = render


def _page_renderer():
    if not has_request_context():
        return None
    path = request.path if request.path.endswith("/") else request.path + "/"
    return next((render for prefix, render in current_app.extensions.get("error_pages", {}).items()
                 if path.startswith(prefix)), None)


def problem_response(status: int, title: str, detail: str, errors: dict | None = None, headers=None):
    render = _page_renderer()
    if render is not None:
        return render(status, title, detail, errors, headers or {})
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    request_id = g.get("request_id")
    if request_id:
        body["request_id"] = request_id
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(Problem)
    def _problem(error: Problem):
        return problem_response(error.status, error.title, error.detail, error.errors, error.headers)

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        status, title = next(mapped for kind, mapped in DOMAIN_STATUS.items() if isinstance(error, kind))
        headers = {"Retry-After": str(error.retry_after)} if isinstance(error, Unavailable) else None
        return problem_response(status, title, error.detail, error.errors, headers)

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):
        # flask-smorest/webargs put marshmallow messages in error.data["messages"], keyed by location.
        messages = (getattr(error, "data", None) or {}).get("messages")
        if messages is not None:
            errors = {}
            for location_messages in messages.values():
                errors.update(flatten_errors(location_messages))
            return problem_response(400, "Invalid request", "The request has invalid fields.", errors)
        headers = dict(error.get_headers())
        headers.pop("Content-Type", None)
        return problem_response(error.code or 500, error.name, error.description or error.name, None, headers)

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError):
        # Unreachable, restarting, or a statement cut off by its timeout: nothing was committed,
        # and the same request can simply be sent again.
        log.warning("database unavailable: %s", type(error.orig).__name__ if error.orig else error)
        return problem_response(503, "Service Unavailable", "The database is unavailable or busy; retry shortly.",
                                headers={"Retry-After": "5"})

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        log.exception("unhandled error")
        return problem_response(500, "Internal Server Error", "An unexpected error occurred; it has been logged.")
