"""`reports verify`: recompute a report from the ledger entries and check its SHA-256 and ledger entry."""
import json
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.core.ledger.canonical import document_sha256, leaf_hash
from service.ledger.entries import b64
from service.ledger.tables import Checkpoint, Leaf, LedgerEntry
from service.reports.periods import Period, parse_bound
from service.reports.replay import recompute_from_ledger
from service.reports.store import revision_status, revisions_of
from service.reports.tables import Report


def differences(stored, recomputed, path: str = "report") -> list[str]:
    """Where two documents differ, named down to the field (lists: the first differing item)."""
    if isinstance(stored, dict) and isinstance(recomputed, dict):
        return [d for key in sorted(set(stored) | set(recomputed))
                for d in differences(stored.get(key), recomputed.get(key), f"{path}.{key}")]
    if isinstance(stored, list) and isinstance(recomputed, list) and len(stored) == len(recomputed):
        return next((differences(a, b, f"{path}[{i}]") for i, (a, b) in enumerate(zip(stored, recomputed))
                     if a != b), [])
    if stored != recomputed or type(stored) is bool and type(recomputed) is not bool:
        return [f"{path}: stored {json.dumps(stored)[:120]}, recomputed {json.dumps(recomputed)[:120]}"]
    return []


def _entry_problems(session: Session, report: Report, echo: Callable[[str], None]) -> list[str]:
    entry = session.get(LedgerEntry, report.ledger_entry_id)
    body = json.loads(entry.canonical)
    problems = []
    if leaf_hash(entry.canonical) != entry.leaf_hash:
        problems.append(f"ledger entry {entry.id}: its bytes do not hash to its leaf hash")
    if body.get("entry_type") != "report_generated" or body.get("report_id") != report.id:
        problems.append(f"ledger entry {entry.id} is not the report_generated entry of report {report.id}")
    if body.get("sha256") != report.sha256:
        problems.append(f"ledger entry {entry.id} records SHA-256 {body.get('sha256')}, the report row {report.sha256}")
    revision = report.document.get("revision")
    if revision is not None:
        supersedes = revision["supersedes"]
        recorded = (body.get("revision"), (body.get("supersedes") or {}).get("report_id"))
        claimed = (revision["number"], supersedes and supersedes["report_id"])
        if recorded != claimed or (report.revision, report.supersedes) != claimed:
            problems.append(f"report {report.id}: the document is revision {claimed[0]} superseding report "
                            f"{claimed[1]}, its ledger entry says {recorded[0]} superseding {recorded[1]}, "
                            f"its row {report.revision} superseding {report.supersedes}")
    index = session.scalar(select(Leaf.leaf_index).where(Leaf.entry_id == entry.id))
    echo(f"report_generated entry {entry.id}: " + (f"leaf {index}" if index is not None else "not integrated yet"))
    return problems


def verify_document(session: Session, document: dict, report: Report | None,
                    echo: Callable[[str], None]) -> list[str]:
    """Every problem found (empty: the report is what the ledger says)."""
    period = Period(parse_bound(document["period"]["from"]), parse_bound(document["period"]["to"]),
                    document["period"]["label"])
    tree_size = document["checkpoint"]["tree_size"]
    checkpoint = session.get(Checkpoint, tree_size)
    if checkpoint is None:
        return [f"no signed checkpoint of tree size {tree_size}"]
    # A revision is recomputed as the revision the ledger calls for: which one it supersedes, and what
    # changed since, come from the report_generated entries below its tree size, not from the document.
    revision = document.get("revision")
    recomputed = recompute_from_ledger(session, period, tree_size, revision["kind"] if revision else None)
    problems = differences(document, recomputed)
    if recomputed["checkpoint"]["root_hash"] != b64(checkpoint.root_hash):
        problems.append(f"the ledger's first {tree_size} entries do not hash to the signed checkpoint's root")
    sha256 = document_sha256(document)
    echo(f"recomputed {recomputed['totals']['events']} events from {tree_size} ledger entries; SHA-256 {sha256}")
    if report is None:
        report = session.scalars(select(Report).where(Report.sha256 == sha256).order_by(Report.id)).first()
        echo(f"stored as report {report.id}" if report else "not a stored report: figures checked only")
    elif sha256 != report.sha256:
        problems.append(f"report {report.id}: the stored document hashes to {sha256}, the row says {report.sha256}")
    if report is not None:
        problems += _entry_problems(session, report, echo)
        if revision is not None:
            echo(_standing(report, revision_status(report, revisions_of(session, report))))
    return problems


def _standing(report: Report, status: dict) -> str:
    line = f"revision {report.revision} of the {report.kind} report for {report.label}"
    if status["superseded_by"] is None:
        return line + ": the latest"
    return (line + f": superseded by report {status['superseded_by']}; the latest is report "
            f"{status['latest']['id']} (revision {status['latest']['revision']})")
