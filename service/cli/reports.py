"""flask --app service reports …: store the scheduled reports, verify a stored or saved one."""
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from service.core.time import utcnow
from service.reports import periods, store
from service.reports.files import read_report_file, write_report_files
from service.reports.tables import Report
from service.reports.verify import verify_document
from service.web.context import sessions

group = AppGroup("reports", help="Compliance reports: scheduled generation and verification.")


@group.command("generate")
@click.option("--period", "kind", required=True, type=click.Choice(["weekly", "monthly"]))
@click.option("--at", help="Report the last complete ISO week or month before this date or instant (default now).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Also write the report as <label>.json, .csv and .html into this directory.")
def generate_report(kind: str, at: str | None, out: Path | None) -> None:
    """Store the report of the last complete period (UTC); a period already stored is only printed."""
    try:
        moment = periods.parse_bound(at) if at else utcnow()
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--at") from error
    period = periods.scheduled(kind, moment)
    report, created = store.generate_scheduled(sessions(), current_app.extensions["ledger_signer"], kind,
                                               period, f"cli:{kind}")
    verb = "Stored" if created else "Already stored:"
    click.echo(f"{verb} {kind} report {report.id} for {period.label} "
               f"({report.document['period']['from']} to {report.document['period']['to']}), "
               f"tree size {report.tree_size}, SHA-256 {report.sha256}")
    if out is not None:
        for path in write_report_files(out, report.id, report.document, period.label):
            click.echo(f"Wrote {path}")


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
