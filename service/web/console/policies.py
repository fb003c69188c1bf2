"""Policy versions on a timeline, what changed from one to the next, and the simulate form."""
from datetime import timedelta

from flask import g, request
from marshmallow import fields
from marshmallow.validate import Length

from service.core.changes import changes
from service.core.rules.model import Policy
from service.core.time import utcnow
from service.policies.simulation import simulate
from service.policies.store import published_versions
from service.web.access_log import note_read
from service.web.console import signin
from service.web.console.blueprint import bp, page
from service.web.console.forms import checked, submitted
from service.web.context import sessions
from service.web.schemas.policies import SimulationQuerySchema

TIMELINE_WIDTH, TIMELINE_LEFT, ROW = 960, 8, 34


class SimulateArgs(SimulationQuerySchema):
    policy_version = fields.String(required=True, validate=Length(1, 128))


SIMULATE_ARGS = SimulateArgs()


def timeline(versions: list[Policy]) -> dict:
    """Each version as a bar from effective_from to effective_to (an open end runs to today + 90 days)."""
    if not versions:
        return {"width": TIMELINE_WIDTH, "height": ROW, "bars": [], "years": []}
    start = versions[0].effective_from
    end = max([utcnow(), *[v.effective_to or v.effective_from for v in versions]]) + timedelta(days=90)
    span = (end - start).total_seconds()

    def x(moment) -> float:
        return round(TIMELINE_LEFT + (TIMELINE_WIDTH - 2 * TIMELINE_LEFT) * (moment - start).total_seconds() / span, 1)

    bars = []
    for i, version in enumerate(versions):
        left = x(version.effective_from)
        width = max(2.0, x(version.effective_to or end) - left)
        # A label that does not fit in its bar goes after it (about 7.5 px a character at 12 px).
        inside = width > 7.5 * (len(version.id) + 2) + 12
        bars.append({"policy": version, "x": left, "width": width, "y": 20 + i * ROW,
                     "open": version.effective_to is None, "label_inside": inside,
                     "label_x": round(left + 6 if inside else left + width + 6, 1)})
    years = [{"year": year, "x": x(start.replace(year=year, month=1, day=1, hour=0, minute=0, second=0))}
             for year in range(start.year + 1, end.year + 1)]
    return {"width": TIMELINE_WIDTH, "height": 28 + len(versions) * ROW, "bars": bars, "years": years}


@bp.get("/policies")
@signin.signed_in()
def policies():
    with sessions()() as session:
        rows = published_versions(session)
    note_read(len(rows))  # as GET /v1/policies
    parsed = [Policy.from_document(row.document) for row in rows]
    differences = [{"older": older.id, "newer": newer.id, "changes": changes(older.document, newer.document)}
                   for older, newer in zip(rows, rows[1:])]
    return page("policies.html", rows=rows, parsed=parsed, differences=differences, timeline=timeline(parsed),
                may_simulate=g.principal.role in signin.REVIEWERS, given={}, errors={}, result=None)


@bp.get("/policies/simulate")
@signin.signed_in(*signin.REVIEWERS)
def simulation():
    given = submitted(request.args)
    args = checked(SIMULATE_ARGS, given)
    with sessions()() as session:
        result = simulate(session, args["policy_version"], args["occurred_from"], args["occurred_to"])
        versions = [row.id for row in published_versions(session)]
    note_read(len(result["results"]))  # as POST /v1/policies/{id}/simulate
    return page("simulation.html", result=result, given=given, versions=versions)
