"""The export's HTTP side: its streamed response, its file name and its OpenAPI description."""
from flask import Response, current_app
from sqlalchemy.orm import sessionmaker

from service.audit.exports import FORMATS, encoded
from service.audit.filters import EventFilter
from service.core.time import utcnow

_GEOJSON_SCHEMA = {"type": "object", "required": ["type", "features"], "properties": {
    "type": {"type": "string", "enum": ["FeatureCollection"]},
    "features": {"type": "array", "items": {"type": "object", "required": ["type", "id", "geometry", "properties"]}}}}
OPENAPI_200 = {"description": "The whole result, newest occurred_at first, streamed",
               "content": {"text/csv": {"schema": {"type": "string"}},
                           "application/geo+json": {"schema": _GEOJSON_SCHEMA},
                           "application/x-ndjson": {"schema": {"type": "string",
                                                               "description": "one list item per line"}}}}


def streamed(sessions: sessionmaker, criteria: EventFilter | None, format_name: str) -> Response:
    """The export response; criteria None is an empty export (a reporter asking for someone else's)."""
    mimetype, _ = FORMATS[format_name]
    # gunicorn's sync worker is killed when silent for its timeout; a long export says it is alive
    # through this hook when the server provides one (otherwise GUNICORN_TIMEOUT bounds an export).
    heartbeat = current_app.extensions.get("worker_heartbeat") or (lambda: None)
    filename = f"events-{utcnow().strftime('%Y%m%dT%H%M%SZ')}.{format_name}"
    # The generator touches no request globals, so the request context need not outlive the view.
    return Response(encoded(sessions, criteria, format_name, heartbeat), mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})
