"""The console's blueprint, how its pages are rendered, and how numbers and instants are shown."""
import json
import logging
from datetime import datetime

from flask import Blueprint, g, make_response, render_template
from markupsafe import Markup

from service.core.time import format_utc, parse_rfc3339
from service.web.console.signin import csrf_token
from service.web.security_headers import CONSOLE_POLICY, use_policy

log = logging.getLogger(__name__)
bp = Blueprint("console", __name__, url_prefix="/console", template_folder="templates", static_folder="static")
NAVIGATION = (("console.events", "Events"), ("console.map", "Map"), ("console.reports", "Reports"),
              ("console.policies", "Policies"), ("console.ledger", "Ledger"))


@bp.after_request
def _private(response):
    # Pages show records: no browser or proxy keeps them once the auditor has moved on.
    response.headers["Cache-Control"] = "no-store"
    if response.mimetype == "text/html" and "content_security_policy" not in g:
        use_policy(CONSOLE_POLICY)
    return response


def page(template: str, status: int = 200, **context):
    """A console page: the template with the signed-in principal, the navigation and the CSRF token."""
    use_policy(CONSOLE_POLICY)
    return render_template(f"console/{template}", principal=g.get("principal"), navigation=NAVIGATION,
                           csrf_token=csrf_token(), **context), status


def error_page(status: int, title: str, detail: str, errors: dict | None, headers: dict):
    """Every error under /console as a page, with the same status, title and field messages the API's
    problem+json would carry (service.web.errors decides them)."""
    headers = {**headers, "Cache-Control": "no-store"}
    try:
        body, _ = page("error.html", status=status, status_code=status, title=title, detail=detail, errors=errors or {},
                       sign_in=status == 401, request_id=g.get("request_id"))
    except Exception:  # an error page must never fail in turn: say it plainly instead
        log.exception("the console's error page could not be rendered")
        return make_response(f"{status} {title}: {detail}\n", status, {**headers, "Content-Type": "text/plain"})
    return make_response(body, status, headers)


def _instant(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    return parse_rfc3339(value)


@bp.app_template_filter("utc")
def utc(value) -> str:
    """2024-06-02 03:14:00 +00:00 (milliseconds when there are any): UTC, with the offset shown."""
    moment = _instant(value)
    if moment is None:
        return "—"
    text = format_utc(moment)[:-1]
    day, _, clock = text.partition("T")
    whole, _, fraction = clock.partition(".")
    return f"{day} {whole}{'.' + fraction[:3] if fraction else ''} +00:00"


@bp.app_template_global("when")
def when(value) -> Markup:
    """A <time> element holding the machine-readable instant and the shown one."""
    moment = _instant(value)
    if moment is None:
        return Markup("—")
    return Markup('<time datetime="{}">{}</time>').format(format_utc(moment), utc(moment))


@bp.app_template_filter("km")
def km(value) -> str:
    return "—" if value is None else f"{value:,.1f} km"


@bp.app_template_filter("count")
def count(value: int, unit: str, plural: str | None = None) -> str:
    return f"{value:,} {unit if value == 1 else plural or unit + 's'}"


@bp.app_template_filter("words")
def words(value) -> str:
    """needs_review -> needs review: enum values as the auditor says them."""
    return "—" if value is None else str(value).replace("_", " ")


@bp.app_template_filter("evidence_value")
def evidence_value(value, name: str = "") -> str:
    """A finding's evidence number with its unit (fields named *_km are kilometres)."""
    if isinstance(value, (int, float)) and not isinstance(value, bool) and name.endswith("_km"):
        return km(value)
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "none"
    return "—" if value is None else str(value)


@bp.app_template_filter("as_json")
def as_json(value) -> str:
    """A value as JSON text, for showing (escaped by the template like any other text)."""
    return json.dumps(value, ensure_ascii=False)


@bp.app_template_global("position")
def position(point: dict | None) -> str:
    """50.45000° N, 36.90000° E"""
    if not point:
        return "not given"
    lat, lon = point["lat"], point["lon"]
    return f"{abs(lat):.5f}° {'N' if lat >= 0 else 'S'}, {abs(lon):.5f}° {'E' if lon >= 0 else 'W'}"
