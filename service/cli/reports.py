"""flask --app service reports …: store the scheduled reports and their revisions, verify a stored or saved one."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from service.core.time import utcnow
from service.reports import periods, store
from service.reports.files import read_report_file, write_period_files
from service.reports.periods import Period
from service.reports.tables import Report
from service.reports.verify import verify_document
from service.web.context import sessions

group = AppGroup("reports", help="Compliance reports: scheduled generation, revisions and verification.")
KINDS = click.Choice(["weekly", "monthly"])
OUT = click.option("--out", type=click.Path(file_okay=False, path_type=Path),
                   help="Also write each revision of the period as <label>[-r<n>].json, .csv and .html here.")


@group.command("generate")
@click.option("--period", "kind", required=True, type=KINDS)
@click.option("--at", help="Report the last complete ISO week or month before this date or instant (default now).")
@OUT
def generate_report(kind: str, at: str | None, out: Path | None) -> None:
    """Store the report of the last complete period (UTC), or its next revision when events of the period
    arrived, were corrected or were reviewed since the latest one; otherwise store nothing."""
    try:
        moment = periods.parse_bound(at) if at else utcnow()
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--at") from error
    _generate(kind, periods.scheduled(kind, moment), out)


@group.command("revise")
@click.option("--period", "kind", required=True, type=KINDS)
@OUT
def revise_reports(kind: str, out: Path | None) -> None:
    """Store the next revision of every stored weekly or monthly period that has new data (the scheduler
    runs this hourly, so a late report or a review reaches its period's report within the hour)."""
    with sessions()() as session:
        stored = store.stored_periods(session, kind)
    created = sum(_generate(kind, period, out, quiet=True) for period in stored)
    click.echo(f"Checked {len(stored)} stored {kind} period(s): {created} new revision(s)")


def _generate(kind: str, period: Period, out: Path | None, quiet: bool = False) -> bool:
    report, created = store.generate_scheduled(sessions(), current_app.extensions["ledger_signer"], kind,
                                               period, f"cli:{kind}")
    revision = report.document.get("revision")
    if created or not quiet:
        click.echo(_outcome(kind, period, report, created, revision))
    if out is not None and (created or not quiet):
        with sessions()() as session:
            every = store.revisions_of(session, report)
            for path in write_period_files(out, every, period.label):
                click.echo(f"Wrote {path}")
    return created


def _outcome(kind: str, period: Period, report: Report, created: bool, revision: dict | None) -> str:
    where = (f"{kind} report {report.id} for {period.label} ({report.document['period']['from']} to "
             f"{report.document['period']['to']}), revision {report.revision}")
    figures = f"tree size {report.tree_size}, SHA-256 {report.sha256}"
    if not created:
        return f"Up to date: {where}; nothing of its period arrived, was corrected or was reviewed since; {figures}"
    if revision is None or revision["supersedes"] is None:
        return f"Stored {where}, {figures}"
    changes = revision["changes"]
    counted = ", ".join(f"{name.replace('_', ' ')}: {len(changes[name])}" for name in (
        "events_added", "events_removed", "versions_corrected", "verdicts_changed", "reviews_recorded",
        "policy_versions_added") if changes[name])
    return f"Stored {where}, superseding report {report.supersedes}: {counted}; {figures}"


@group.command("verify")
@click.argument("id_or_file")
def verify_report(id_or_file: str) -> None:
    """Recompute a stored report (ID) or a saved JSON report (FILE) from the ledger; non-zero exit on any mismatch."""
    with sessions()() as session:
        if id_or_file.isdigit():
            report = session.get(Report, int(id_or_file))
            if report is None:
                raise click.ClickException(f"no report {id_or_file}")
            document = report.document
        else:
            report, document = None, _read(Path(id_or_file))
        problems = verify_document(session, document, report, click.echo)
    for line in problems:
        click.echo(f"MISMATCH {line}")
    click.echo(f"reports verify: {'OK' if not problems else f'FAILED ({len(problems)} problem(s))'}")
    if problems:
        raise click.exceptions.Exit(1)


def _read(path: Path) -> dict:
    try:
        return read_report_file(path)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
