"""The flagged list, its exports, and one event with its evidence, versions, reviews and proof."""
import base64
import json

from flask import g, redirect, request, url_for

from service.audit import exports
from service.audit.filters import visible_filter
from service.audit.pages import event_page
from service.audit.records import event_detail
from service.audit.reviews import add_review
from service.core.changes import changes
from service.core.errors import InvalidInput
from service.core.rules.categories import ALL_CATEGORIES
from service.core.rules.engine import SEVERITIES, SEVERITY_OF_RULE, VERDICTS
from service.events import intake
from service.ledger.reads import canonical_bytes_of
from service.web.access_log import note_read
from service.web.console import signin
from service.web.console.blueprint import bp, page
from service.web.console.forms import checked, submitted
from service.web.context import sessions
from service.web.exports import streamed
from service.web.schemas.events import REVIEW_DECISIONS, ReviewInSchema, StrikeEventSchema
from service.web.schemas.queries import REVIEW_STATUSES, EventFilterArgs, EventListArgs, ExportArgs

LIST_ARGS, EXPORT_ARGS, REVIEW_FORM = EventListArgs(), ExportArgs(), ReviewInSchema()
FILTERS = tuple(EventFilterArgs().fields)
# What the list opens on: what an oversight office works through first.
DEFAULT_FILTERS = {"verdict": "violation", "review_status": "open"}
SUBMITTED = tuple(StrikeEventSchema().fields)  # the fields a reporter sends; the rest is the service's
CHOICES = {"verdict": VERDICTS, "severity": SEVERITIES, "review_status": REVIEW_STATUSES,
           "rule_id": sorted(SEVERITY_OF_RULE), "category": sorted(ALL_CATEGORIES)}


def highest_severity(findings: list[dict]) -> str | None:
    found = {finding["severity"] for finding in findings}
    return next((severity for severity in SEVERITIES if severity in found), None)


@bp.get("/events")
@signin.signed_in()
def events():
    if not request.args:  # a bookmarkable URL that says what it shows, rather than a hidden default
        return redirect(url_for("console.events", **DEFAULT_FILTERS), 303)
    given = submitted(request.args)
    try:
        args = checked(LIST_ARGS, given)
    except InvalidInput as error:
        return page("events.html", status=400, given=given, errors=error.errors, choices=CHOICES, shown=None)
    criteria = visible_filter(args, g.principal)
    with sessions()() as session:
        shown = event_page(session, criteria, args["limit"], args.get("cursor"))
    total = exports.matching_count(sessions(), criteria)
    note_read(len(shown.items))  # the same access entry GET /v1/events writes
    filters = {name: value for name, value in given.items() if name in FILTERS}
    rows = [{**item, "severity": highest_severity(item["findings"])} for item in shown.items]
    return page("events.html", given=given, errors={}, choices=CHOICES, shown=rows, total=total,
                next_cursor=shown.next_cursor, filters=filters, limit=args["limit"], paged="cursor" in args)


@bp.get("/events/export")
@signin.signed_in()
def export():
    args = checked(EXPORT_ARGS, submitted(request.args))
    criteria = visible_filter(args, g.principal)
    note_read(exports.matching_count(sessions(), criteria))  # as GET /v1/events/export, before streaming
    return streamed(sessions(), criteria, args["format"])


def _submitted(record: dict) -> dict:
    return {name: record[name] for name in SUBMITTED if name in record}


def _judged(record: dict) -> dict:
    return {"verdict": record["verdict"], "policy_version": record["policy_version"],
            "rule_ids": [finding["rule_id"] for finding in record["findings"]], "computed": record["computed"]}


def version_changes(versions: list[dict]) -> list[list]:
    """For each version, what changed from the one before: in the report, then in its judgement."""
    found = [[]]
    for before, after in zip(versions, versions[1:]):
        found.append(changes(_submitted(before), _submitted(after)) +
                     changes(_judged(before), _judged(after), "judgement"))
    return found


def _proof_data(detail: dict, canonical: dict[int, bytes]) -> dict:
    """What the page's script checks: each entry's bytes and leaf index, and what the page shows of
    it, so that the browser can tell both a changed entry and a page that differs from its entry."""
    return {
        "entries": [{"entry_id": e["entry_id"], "entry_type": e["entry_type"], "leaf_index": e["leaf_index"],
                     "canonical": base64.b64encode(canonical[e["entry_id"]]).decode()}
                    for e in detail["ledger_entries"]],
        "shown": {
            "versions": {str(v["ledger"]["entry_id"]): {"event_id": v["id"], "reporter": v["reporter"],
                                                        "version": v["version"], "supersedes": v["supersedes"],
                                                        "payload": _submitted(v)} for v in detail["versions"]},
            "evaluations": {e["event_id"]: {key: e[key] for key in ("verdict", "policy_version", "policy_sha256",
                                                                    "findings", "computed")}
                            for e in detail["evaluations"]},
            "reviews": {str(r["ledger"]["entry_id"]): {key: r[key] for key in ("event_id", "status", "comment",
                                                                               "reviewer")}
                        for r in detail["reviews"]},
        },
        "urls": {"checkpoint": url_for("ledger.checkpoint"), "public_key": url_for("ledger.public_key"),
                 "inclusion": url_for("ledger.inclusion")},
    }


def as_submitted(entry_bytes: bytes) -> str:
    """The report exactly as its ledger entry holds it, indented for reading; the bytes themselves
    if they are not JSON at all (the proof check says why)."""
    try:
        return json.dumps(json.loads(entry_bytes)["payload"], indent=2, ensure_ascii=False)
    except (ValueError, KeyError, TypeError):
        return entry_bytes.decode("utf-8", errors="replace")


@bp.get("/events/<event_id>")
@signin.signed_in()
def event(event_id: str):
    with sessions()() as session:
        detail = event_detail(session, intake.visible_event(session, g.principal, event_id))
        canonical = canonical_bytes_of(session, [entry["entry_id"] for entry in detail["ledger_entries"]])
    # No note_read: GET /v1/events/{id} gives no result count either, and its access entry is the same.
    report_entry = as_submitted(canonical[detail["ledger"]["entry_id"]])
    return page("event.html", event=detail, findings=detail["findings"], versions=detail["versions"],
                changes=version_changes(detail["versions"]), submitted_entry=report_entry,
                proof=_proof_data(detail, canonical), decisions=REVIEW_DECISIONS,
                may_review=g.principal.role in signin.REVIEWERS)


@bp.post("/events/<event_id>/reviews")
@signin.signed_in(*signin.REVIEWERS)
def review(event_id: str):
    signin.require_csrf(signin.csrf_token())
    form = checked(REVIEW_FORM, submitted(request.form, ignore=("csrf_token",)))
    add_review(sessions(), g.principal, event_id, form["status"], form["comment"])  # the API's `review` entry
    return redirect(url_for("console.event", event_id=event_id, _anchor="reviews"), 303)
