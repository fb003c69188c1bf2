"""The hook that writes an `access` entry after every successful read by an auditor or admin."""
import logging

from flask import Flask, g, request
from sqlalchemy.exc import SQLAlchemyError

from service.audit.access import record_read
from service.web.context import sessions
from service.web.errors import problem_response

log = logging.getLogger(__name__)


def note_read(result_count: int | None = None) -> None:
    """Views call this to give the result count, and to mark a POST that only reads (simulate)."""
    g.access_read = True
    g.result_count = result_count


def note_no_records_read() -> None:
    """A GET that shows no record (a console page of public ledger facts): no access entry, as the
    open API endpoints it mirrors write none."""
    g.access_read = False


def _is_read() -> bool:
    return g.get("access_read", request.method in ("GET", "HEAD"))


def install(app: Flask) -> None:
    @app.after_request
    def _record(response):
        principal = g.get("principal")
        if principal is None or not principal.sees_everything or response.status_code >= 400 or not _is_read():
            return response
        try:
            record_read(sessions().kw["bind"], principal, {
                "method": request.method, "endpoint": request.url_rule.rule if request.url_rule else request.path,
                "path": request.path, "query": request.args.to_dict(flat=False),
                "result_count": g.get("result_count"), "request_id": g.get("request_id")})
        except SQLAlchemyError:
            # A read that cannot be recorded is not served: the access log must be complete.
            log.exception("could not record an auditor's read")
            response.close()
            return problem_response(503, "Service Unavailable", "The read could not be recorded; retry.",
                                    headers={"Retry-After": "5"})
        return response
