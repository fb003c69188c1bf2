"""Making and storing reports: each stored report's SHA-256 becomes a `report_generated` ledger entry."""
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.core.errors import NotFound
from service.core.ledger.canonical import document_sha256
from service.core.time import format_utc, utcnow
from service.ledger import sequencer
from service.ledger.entries import append_entry, ledger_ref
from service.ledger.tables import LedgerEntry
from service.reports.compute import compute_report
from service.reports.periods import Period
from service.reports.tables import Report


def current_report(sessions: sessionmaker, signer: sequencer.Signer, period: Period) -> dict:
    """The report as of a checkpoint signed now, so that it covers everything stored so far."""
    with sequencer.integrated_snapshot(sessions, signer) as (session, checkpoint):
        return compute_report(session, period, checkpoint)


def find_scheduled(session: Session, kind: str, period: Period) -> Report | None:
    return session.scalars(select(Report).where(Report.kind == kind, Report.period_from == period.start,
                                                Report.period_to == period.end)).first()


def _next_id(session: Session) -> int:
    """The id is needed before the row exists: the ledger entry names it, and the row (append-only)
    names the entry. SQLite transactions hold the write lock from BEGIN, so max + 1 is safe there."""
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(text("SELECT nextval(pg_get_serial_sequence('compliance_reports', 'id'))"))
    return (session.scalar(select(func.max(Report.id))) or 0) + 1


def store_report(session: Session, document: dict, period: Period, kind: str, created_by: str) -> Report:
    """In the caller's transaction: the row and its `report_generated` entry, or neither."""
    now, sha256, report_id = utcnow(), document_sha256(document), _next_id(session)
    checkpoint = document["checkpoint"]
    entry = append_entry(session, "report_generated", {
        "report_id": report_id, "kind": kind, "period": document["period"], "sha256": sha256,
        "tree_size": checkpoint["tree_size"], "root_hash": checkpoint["root_hash"], "created_by": created_by}, now)
    report = Report(id=report_id, period_from=period.start, period_to=period.end, label=period.label, kind=kind,
                    tree_size=checkpoint["tree_size"], sha256=sha256, document=document, created_at=now,
                    created_by=created_by, ledger_entry_id=entry.id)
    session.add(report)
    session.flush()
    return report


def generate_scheduled(sessions: sessionmaker, signer: sequencer.Signer, kind: str,
                       period: Period, created_by: str) -> tuple[Report, bool]:
    """(report, created): a period already reported answers with the stored report, storing nothing."""
    with sessions() as session:
        existing = find_scheduled(session, kind, period)
        if existing is not None:
            return existing, False
    document = current_report(sessions, signer, period)
    try:
        with sessions() as session, session.begin():
            return store_report(session, document, period, kind, created_by), True
    except IntegrityError:  # a concurrent run stored this period first
        with sessions() as session:
            return find_scheduled(session, kind, period), False


def generate_on_demand(sessions: sessionmaker, signer: sequencer.Signer, period: Period, created_by: str) -> dict:
    """Compute a report of `period` now and store it; the answer of POST /v1/reports."""
    document = current_report(sessions, signer, period)
    with sessions() as session, session.begin():
        report = store_report(session, document, period, "on_demand", created_by)
        return created_view(report, stored_entry(session, report))


def stored_reports(session: Session) -> list[Report]:
    """Every stored report, newest first."""
    return list(session.scalars(select(Report).order_by(Report.id.desc())))


def stored_entry(session: Session, report: Report) -> LedgerEntry:
    return session.get(LedgerEntry, report.ledger_entry_id)


def report_or_404(session: Session, report_id: int) -> Report:
    report = session.get(Report, report_id)
    if report is None:
        raise NotFound(f"no report {report_id}")
    return report


def summary(report: Report) -> dict:
    return {"id": report.id, "kind": report.kind, "period": report.document["period"], "sha256": report.sha256,
            "tree_size": report.tree_size, "created_at": format_utc(report.created_at),
            "created_by": report.created_by}


def created_view(report: Report, entry: LedgerEntry) -> dict:
    return {"id": report.id, "sha256": report.sha256, "ledger": ledger_ref(entry), "report": report.document}
