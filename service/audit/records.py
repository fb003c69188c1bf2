"""How stored events are shown: list rows read together with their heads, and one event with its whole
history. Everything a record says comes from its ledger entries' bytes, the only copy of the reports."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from service.audit.tables import Review
from service.core.ledger.checks import parse_json
from service.core.time import format_utc
from service.events.records import record_from_bytes, version_record
from service.events.tables import Event, EventHead
from service.ledger.entries import b64
from service.ledger.reads import checkpoint_view, entry_positions, signed_size
from service.ledger.tables import LedgerEntry


def list_item(head: EventHead, report: bytes, leaf_hash: bytes, evaluation: bytes) -> dict:
    """A list row: the latest version's record and the event's review status."""
    return {**record_from_bytes(report, evaluation, head.ledger_entry_id, leaf_hash),
            "review_status": head.review_status}


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
