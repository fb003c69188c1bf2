"""How stored events are shown: list rows read together with their heads, and one event with its whole
history. Everything a record says comes from its ledger entries' bytes, the only copy of the reports."""
import json

import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.tables import Review
from service.core.ledger.checks import parse_json
from service.core.time import format_utc, parse_rfc3339
from service.events.records import record_from_bytes, version_record
from service.events.tables import Event, EventHead
from service.ledger.entries import b64
from service.ledger.reads import checkpoint_view, entry_positions, signed_size
from service.ledger.tables import LedgerEntry


def list_item(head: EventHead, report: bytes, leaf_hash: bytes, evaluation: bytes) -> dict:
    """A list row: the latest version's record and the event's review status."""
    return item_of(head.review_status, head.ledger_entry_id, report, leaf_hash, evaluation)


def item_of(review_status: str, entry_id: int, report: bytes, leaf_hash: bytes, evaluation: bytes) -> dict:
    return {**record_from_bytes(report, evaluation, entry_id, leaf_hash), "review_status": review_status}


def item_json(item: dict) -> str:
    """A list item as the export's NDJSON line writes it."""
    return json.dumps(item, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _spliceable(document: bytes) -> bool:
    """Whether every number in an RFC 8785 document reads and prints back as the same text: `json` prints
    what orjson reads from 0.00001 as 1e-05 and from 1e-7 as 1e-07, and an integer beyond 64 bits comes
    back as a double. Strings need no check: RFC 8785 escapes them exactly as `json` does with
    ensure_ascii off. The test is on the bytes, strings included, so a false alarm ("10.00001" or a
    digit before "e-" in a note) only takes the slower way; the exact test (a regex over every byte)
    would cost what the splice saves."""
    digits = document.translate(_DIGITS_AS_ZERO)
    # 0.00001; an exponent (RFC 8785's follow a digit: 1e-7, 1.5e+21); 19 digits may already pass -2**63
    return not (b"0.0000" in document or b"0e-" in digits or b"0e+" in digits or b"0" * 19 in digits)


_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_PAYLOAD, _AFTER_PAYLOAD = b',"payload":{', b'},"received_at":"'
_OCCURRED = b'"occurred_at":"'
_COMPUTED, _ENTRY_TYPE = b'{"computed":', b',"entry_type":"'
_FINDINGS, _AFTER_FINDINGS = b',"findings":', b'],"policy_sha256":'


def item_line(review_status: str, entry_id: int, report: bytes, leaf_hash: bytes, evaluation: bytes) -> bytes:
    """item_json(item_of(...)) + newline, as UTF-8: the same bytes, spliced from the entries' canonical
    bytes where that gives them, which is five times faster than reading both documents and writing the
    item again.

    An entry's keys are sorted (RFC 8785): the report is entry_type, event_id, payload, received_at, …,
    version, and the item starts with the payload's members in the same order, so the payload's bytes are
    the item's first members as they stand; the evaluation's `computed` (its first member) and `findings`
    are copied as they stand too. Those slices end at markers that cannot occur inside a string (a quote
    there is escaped): the payload at the last `},"received_at":"` (only plain values follow it), the
    findings at the last `],"policy_sha256":`. The few plain values around them are read and written
    again with orjson, which escapes strings as `json` does.
    """
    start, end = report.find(_PAYLOAD), report.rfind(_AFTER_PAYLOAD) + 1
    computed_end = evaluation.find(_ENTRY_TYPE)
    findings = evaluation.find(_FINDINGS, computed_end) + len(_FINDINGS)
    findings_end = evaluation.rfind(_AFTER_FINDINGS) + 1
    payload = report[start + len(_PAYLOAD) - 1:end]
    computed, found = evaluation[len(_COMPUTED):computed_end], evaluation[findings:findings_end]
    if not (start > 0 and end > 0 and computed_end > 0 and findings > len(_FINDINGS) and findings_end > 0
            and evaluation.startswith(_COMPUTED) and _spliceable(payload) and _spliceable(computed)
            and _spliceable(found)):
        return (item_json(item_of(review_status, entry_id, report, leaf_hash, evaluation)) + "\n").encode()
    first, rest = orjson.loads(report[:start] + b"}"), orjson.loads(b"{" + report[end + 1:])
    judged = orjson.loads(b"{" + evaluation[findings_end + 1:])
    at = payload.index(_OCCURRED) + len(_OCCURRED)  # the payload holds no other key of that name
    stop = payload.index(b'"', at)
    if not (stop - at == 20 and payload[at + 10] == 84 and payload[stop - 1] == 90):  # as shown_as_utc
        shown = format_utc(parse_rfc3339(payload[at:stop].decode())).encode()  # as version_record shows it
        payload = payload[:at] + shown + payload[stop:]
    tail = orjson.dumps({
        "id": first["event_id"], "reporter": rest["reporter"], "received_at": rest["received_at"],
        "version": rest["version"], "supersedes": rest["supersedes"], "superseded_by": None,
        "verdict": judged["verdict"], "policy_version": judged["policy_version"],
        "policy_sha256": judged["policy_sha256"], "findings": orjson.Fragment(found),
        "computed": orjson.Fragment(computed), "ledger": {"entry_id": entry_id, "leaf_hash": b64(leaf_hash)},
        "review_status": review_status})
    return payload[:-1] + b"," + tail[1:] + b"\n"


def _versions(session: Session, head_id: str) -> list[tuple[Event, dict, dict, bytes]]:
    """Every version of an event, oldest first, with its report and evaluation entries and leaf hash."""
    versions = session.scalars(select(Event).where(Event.head_id == head_id).order_by(Event.version)).all()
    entry_ids = [v.ledger_entry_id for v in versions] + [v.evaluation_entry_id for v in versions]
    entries = {entry_id: (canonical, leaf_hash) for entry_id, canonical, leaf_hash in session.execute(
        select(LedgerEntry.id, LedgerEntry.canonical, LedgerEntry.leaf_hash).where(LedgerEntry.id.in_(entry_ids)))}
    return [(v, parse_json(entries[v.ledger_entry_id][0]), parse_json(entries[v.evaluation_entry_id][0]),
             entries[v.ledger_entry_id][1]) for v in versions]


def _records(versions: list[tuple[Event, dict, dict, bytes]]) -> list[dict]:
    later = [v.id for v, *_ in versions[1:]] + [None]  # versions are consecutive: each is superseded by the next
    return [version_record(report, evaluation, v.ledger_entry_id, leaf_hash, superseded_by)
            for (v, report, evaluation, leaf_hash), superseded_by in zip(versions, later)]


def event_record(session: Session, event: Event) -> dict:
    versions = _versions(session, event.head_id)
    return _records(versions)[event.version - 1]


def review_view(review: Review, entry: dict, leaf_hash: bytes) -> dict:
    """`entry`: the review's ledger entry, which alone keeps the comment."""
    return {"id": review.id, "event_id": review.event_id, "status": review.status, "comment": entry["comment"],
            "reviewer": review.reviewer, "created_at": format_utc(review.created_at),
            "ledger": {"entry_id": review.ledger_entry_id, "leaf_hash": b64(leaf_hash)}}


def event_detail(session: Session, event: Event) -> dict:
    """The version asked for, every version, every evaluation and review, and where each ledger entry
    sits in the tree (with inclusion proofs against the checkpoint shown)."""
    versions = _versions(session, event.head_id)
    reviews = session.execute(select(Review, LedgerEntry.canonical, LedgerEntry.leaf_hash)
                              .join(LedgerEntry, LedgerEntry.id == Review.ledger_entry_id)
                              .where(Review.head_id == event.head_id).order_by(Review.id)).all()
    entry_ids = [v.ledger_entry_id for v, *_ in versions] + [v.evaluation_entry_id for v, *_ in versions]
    entry_ids += [review.ledger_entry_id for review, _, _ in reviews]
    _, checkpoint = signed_size(session)
    shown = _records(versions)
    return {
        **shown[event.version - 1],
        "review_status": reviews[-1][0].status if reviews else "open",
        "versions": shown,
        "evaluations": [{"event_id": v.id, "verdict": evaluation["verdict"],
                         "policy_version": evaluation["policy_version"], "policy_sha256": evaluation["policy_sha256"],
                         "findings": evaluation["findings"], "computed": evaluation["computed"],
                         "evaluated_at": evaluation["recorded_at"]} for v, _, evaluation, _ in versions],
        "reviews": [review_view(review, parse_json(canonical), leaf_hash) for review, canonical, leaf_hash in reviews],
        "ledger_entries": entry_positions(session, sorted(entry_ids), checkpoint),
        "checkpoint": checkpoint_view(checkpoint) if checkpoint else None,
    }
