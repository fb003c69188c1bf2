"""How a stored version is shown, built from its two ledger entries (the only copy of the report and of
its evaluation): the record of contract §2, as POST answers it and GET shows it; and heads read with them."""
from sqlalchemy import Select
from sqlalchemy.orm import aliased

from service.core.ledger.checks import parse_json
from service.core.time import format_utc, parse_rfc3339
from service.events.tables import EventHead
from service.ledger.entries import b64
from service.ledger.tables import LedgerEntry

_REPORT, _EVALUATION = aliased(LedgerEntry, name="report_entry"), aliased(LedgerEntry, name="evaluation_entry")


def with_entries(heads: Select) -> Select:
    """A query of heads that also reads each head's two entries: one query makes a whole page."""
    return (heads.add_columns(_REPORT.canonical, _REPORT.leaf_hash, _EVALUATION.canonical)
            .join(_REPORT, _REPORT.id == EventHead.ledger_entry_id)
            .join(_EVALUATION, _EVALUATION.id == EventHead.evaluation_entry_id))


def shown_as_utc(instant: str) -> bool:
    """Whether a stored (so valid RFC 3339) instant is already as format_utc shows it, 2024-06-02T03:14:00Z,
    as nearly all are: parsing and formatting it again took 2 of a list row's 20 µs."""
    return len(instant) == 20 and instant[10] == "T" and instant[19] == "Z"


def version_record(report: dict, evaluation: dict, entry_id: int, leaf_hash: bytes, superseded_by: str | None) -> dict:
    """`report`: the version's event_received or correction entry; `evaluation`: its evaluation entry."""
    payload = report["payload"]
    occurred_at = payload["occurred_at"]
    return {
        **payload,
        "occurred_at": occurred_at if shown_as_utc(occurred_at) else format_utc(parse_rfc3339(occurred_at)),
        "id": report["event_id"],
        "reporter": report["reporter"],
        "received_at": report["received_at"],
        "version": report["version"],
        "supersedes": report["supersedes"],
        "superseded_by": superseded_by,
        "verdict": evaluation["verdict"],
        "policy_version": evaluation["policy_version"],
        "policy_sha256": evaluation["policy_sha256"],
        "findings": evaluation["findings"],
        "computed": evaluation["computed"],
        "ledger": {"entry_id": entry_id, "leaf_hash": b64(leaf_hash)},
    }


def record_from_bytes(report: bytes, evaluation: bytes, entry_id: int, leaf_hash: bytes,
                      superseded_by: str | None = None) -> dict:
    return version_record(parse_json(report), parse_json(evaluation), entry_id, leaf_hash, superseded_by)
