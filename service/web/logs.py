"""JSON log lines with the request id; bodies and keys are never logged."""
import json
import logging
import re
import sys
import time
import uuid

import orjson
from flask import Flask, g, request

REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
access_log = logging.getLogger("service.access")


class JSONFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line = {"ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"), "level": record.levelname,
                "logger": record.name, "message": record.getMessage()}
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exc"] = self.formatException(record.exc_info)
        try:  # a line a request: orjson's C encoder; json for what it refuses (a lone surrogate in a path)
            return orjson.dumps(line, default=str).decode()
        except orjson.JSONEncodeError:
            return json.dumps(line, default=str)


def configure_logging(level: str) -> None:
    root = logging.getLogger()
    if any(isinstance(h.formatter, JSONFormatter) for h in root.handlers):
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JSONFormatter())
    root.addHandler(handler)
    root.setLevel(level)


def request_seconds() -> float:
    """Time since this request's first hook ran (the log line and the latency histogram share it)."""
    return time.perf_counter() - g.get("started", time.perf_counter())


def install_request_ids(app: Flask) -> None:
    @app.before_request
    def _start():
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        g.started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        # The key's name even when its role was refused (403) or it was throttled (429); never the key.
        principal = g.get("principal") or g.get("presented_principal")
        access_log.info("request", extra={"fields": {
            "request_id": g.get("request_id"), "method": request.method, "path": request.path,
            "status": response.status_code, "key": principal.name if principal else None,
            "duration_ms": round(request_seconds() * 1000, 2),
        }})
        return response
