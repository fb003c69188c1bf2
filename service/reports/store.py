"""Making and storing reports: each stored report's SHA-256 becomes a `report_generated` ledger entry,
and a scheduled period's report is stored again, as its next revision, when its period has new data."""
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from service.core.collector import collector_paused
from service.core.errors import NotFound
from service.core.ledger.canonical import document_sha256
from service.core.time import format_utc, utcnow
from service.ledger import sequencer
from service.ledger.entries import append_entry, ledger_ref
from service.ledger.tables import LedgerEntry
from service.reports import revisions
from service.reports.compute import compute_report, policies_in_force, revision_basis
from service.reports.periods import Period
from service.reports.tables import Report


def current_report(sessions: sessionmaker, signer: sequencer.Signer, period: Period) -> dict:
    """The report as of a checkpoint signed now, so that it covers everything stored so far."""
    with collector_paused(), sequencer.integrated_snapshot(sessions, signer) as (session, checkpoint):
        return compute_report(session, period, checkpoint)


def _of_period(kind: str, period: Period):
    return select(Report).where(Report.kind == kind, Report.period_from == period.start,
                                Report.period_to == period.end)


def latest_revision(session: Session, kind: str, period: Period) -> Report | None:
    return session.scalars(_of_period(kind, period).order_by(Report.revision.desc()).limit(1)).first()


def _next_id(session: Session) -> int:
    """The id is needed before the row exists: the ledger entry names it, and the row (append-only)
    names the entry. SQLite transactions hold the write lock from BEGIN, so max + 1 is safe there."""
    if session.get_bind().dialect.name == "postgresql":
        return session.scalar(text("SELECT nextval(pg_get_serial_sequence('compliance_reports', 'id'))"))
    return (session.scalar(select(func.max(Report.id))) or 0) + 1


def store_report(session: Session, document: dict, period: Period, kind: str, created_by: str) -> Report:
    """In the caller's transaction: the row and its `report_generated` entry, or neither. A scheduled
    report's entry also names its revision and the revision it supersedes (id and SHA-256)."""
    now, sha256, report_id = utcnow(), document_sha256(document), _next_id(session)
    checkpoint, revision = document["checkpoint"], document.get("revision")
    supersedes = revision and revision["supersedes"]
    body = {"report_id": report_id, "kind": kind, "period": document["period"], "sha256": sha256,
            "tree_size": checkpoint["tree_size"], "root_hash": checkpoint["root_hash"], "created_by": created_by}
    if revision is not None:
        body |= {"revision": revision["number"], "supersedes": supersedes and {
            "report_id": supersedes["report_id"], "sha256": supersedes["sha256"]}}
    entry = append_entry(session, "report_generated", body, now)
    _compress_quickly(session)
    report = Report(id=report_id, period_from=period.start, period_to=period.end, label=period.label, kind=kind,
                    tree_size=checkpoint["tree_size"], sha256=sha256, document=document, created_at=now,
                    created_by=created_by, ledger_entry_id=entry.id,
                    revision=revision["number"] if revision else 1,
                    supersedes=supersedes["report_id"] if supersedes else None)
    session.add(report)
    session.flush()
    return report


def _compress_quickly(session: Session) -> None:
    """PostgreSQL, for this transaction: the document is compressed with lz4 where the server has it, not
    the default pglz. Storing a month's 29 MB document took 1.8-1.9 s with pglz and 0.8-1.0 s with lz4
    (0.8 s of either is reading it as JSONB), for 8.8 and 8.1 MB on disk; reading it back is faster too.
    A value keeps the method it was written with, so older rows stay readable as they are."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT set_config('default_toast_compression', 'lz4', true) FROM pg_settings "
                             "WHERE name = 'default_toast_compression' AND 'lz4' = ANY(enumvals)"))


def generate_scheduled(sessions: sessionmaker, signer: sequencer.Signer, kind: str,
                       period: Period, created_by: str) -> tuple[Report, bool]:
    """(report, created): the period's first report, or its next revision when something of the period
    arrived, was corrected or was reviewed since the latest one; else the latest one, storing nothing."""
    with collector_paused(), sequencer.integrated_snapshot(sessions, signer) as (session, checkpoint):
        latest = latest_revision(session, kind, period)
        if latest is not None:
            session.expunge(latest)  # answered as loaded here: the snapshot's end must not expire it
        # What the revision compares comes first, and costs a fraction of the report: when it finds
        # nothing new (the scheduler's usual hourly case), no report is computed.
        basis = revision_basis(session, kind, period, checkpoint.tree_size)
        in_force = [p.id for p in policies_in_force(session, period, checkpoint.tree_size)]
        if latest is not None and not revisions.has_changes(basis, in_force):
            return latest, False
        document = compute_report(session, period, checkpoint, basis)
    try:
        with collector_paused(), sessions() as session, session.begin():
            return store_report(session, document, period, kind, created_by), True
    except IntegrityError:  # a concurrent run stored this revision first
        with sessions() as session:
            return latest_revision(session, kind, period), False


def stored_periods(session: Session, kind: str) -> list[Period]:
    """Every period of that kind with a stored report, oldest first."""
    rows = session.execute(select(Report.period_from, Report.period_to, Report.label).where(Report.kind == kind)
                           .distinct().order_by(Report.period_from)).all()
    return [Period(*row) for row in rows]


def generate_on_demand(sessions: sessionmaker, signer: sequencer.Signer, period: Period, created_by: str) -> dict:
    """Compute a report of `period` now and store it; the answer of POST /v1/reports."""
    with collector_paused():
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


def revisions_of(session: Session, report: Report) -> list[Report]:
    """Every revision of the report's period, first to latest (an on-demand report: itself alone)."""
    if report.kind == "on_demand":
        return [report]
    return session.scalars(_of_period(report.kind, Period(report.period_from, report.period_to))
                           .order_by(Report.revision)).all()


def revision_status(report: Report, revisions_of_period: list[Report]) -> dict:
    """Where a stored report stands among its period's revisions: not in its (immutable) document,
    so computed when it is shown."""
    successor = next((r for r in revisions_of_period if r.supersedes == report.id), None)
    latest = max(revisions_of_period, key=lambda r: r.revision)
    return {"superseded_by": None if successor is None else successor.id,
            "latest": {"id": latest.id, "revision": latest.revision}}


def summary(report: Report, status: dict) -> dict:
    return {"id": report.id, "kind": report.kind, "period": report.document["period"], "sha256": report.sha256,
            "tree_size": report.tree_size, "created_at": format_utc(report.created_at),
            "created_by": report.created_by, "revision": report.revision, "supersedes": report.supersedes, **status}


def listed(session: Session, label: str | None = None) -> list[dict]:
    """Stored reports newest first, each with where it stands among its period's revisions; `label`:
    one period's (2024-06, 2024-W23)."""
    query = select(Report).order_by(Report.id.desc())
    if label is not None:
        query = query.where(Report.label == label)
    reports = session.scalars(query).all()
    periods = {}
    for report in reports:
        periods.setdefault(_period_key(report), []).append(report)
    return [summary(r, revision_status(r, periods[_period_key(r)])) for r in reports]


def _period_key(report: Report) -> tuple:
    return (report.id,) if report.kind == "on_demand" else (report.kind, report.period_from, report.period_to)


def created_view(report: Report, entry: LedgerEntry) -> dict:
    return {"id": report.id, "sha256": report.sha256, "ledger": ledger_ref(entry), "report": report.document}
