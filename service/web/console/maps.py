"""Flagged events on a map, over the zones of the policy version in force at a chosen date."""
from flask import g, redirect, request, url_for

from service.audit import exports
from service.audit.filters import visible_filter
from service.audit.pages import event_page
from service.core.errors import InvalidInput
from service.core.rules.engine import policy_in_force
from service.core.time import parse_rfc3339, utcnow
from service.policies.store import current_rules
from service.web.access_log import note_read
from service.web.console import signin
from service.web.console.blueprint import bp, page
from service.web.console.drawing import drawing
from service.web.console.events import CHOICES, DEFAULT_FILTERS, highest_severity
from service.web.console.forms import checked, submitted
from service.web.context import sessions
from service.web.schemas.queries import EventFilterArgs
from service.web.schemas.reports import PeriodBound

# The newest this many matching events are drawn (one list page at its largest): more points than
# this are a blur at this scale anyway, and the page says how many matched.
MAX_POINTS = 500


class MapArgs(EventFilterArgs):
    at = PeriodBound(metadata={"description": "the instant (or date, 00:00 UTC) whose policy zones are drawn"})


MAP_ARGS = MapArgs()


@bp.get("/map", endpoint="map")
@signin.signed_in()
def map_page():
    if not request.args:
        return redirect(url_for("console.map", **DEFAULT_FILTERS), 303)
    given = submitted(request.args)
    try:
        args = checked(MAP_ARGS, given)
    except InvalidInput as error:
        return page("map.html", status=400, given=given, errors=error.errors, choices=CHOICES, map=None)
    criteria = visible_filter(args, g.principal)  # `at` is no filter: EventFilter ignores it
    with sessions()() as session:
        shown = event_page(session, criteria, MAX_POINTS)
        policies = current_rules(session).policies
    total = exports.matching_count(sessions(), criteria)
    note_read(len(shown.items))
    at = args.get("at")
    if at is None:  # the zones in force when the newest shown event happened (or now, with none)
        at = parse_rfc3339(shown.items[0]["occurred_at"]) if shown.items else utcnow()
    policy = policy_in_force(policies, at)
    points = [{"lon": item["target"]["lon"], "lat": item["target"]["lat"], "verdict": item["verdict"],
               "event_id": item["id"], "source_event_id": item["source_event_id"], "occurred_at": item["occurred_at"],
               "severity": highest_severity(item["findings"]),
               "rule_ids": [finding["rule_id"] for finding in item["findings"]]} for item in shown.items]
    return page("map.html", given=given, errors={}, choices=CHOICES, total=total, at=at, policy=policy,
                map=drawing(points, policy.zones if policy else ()), drawn=len(points),
                filters={k: v for k, v in given.items() if k != "at"})

