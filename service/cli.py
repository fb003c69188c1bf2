"""flask --app service ...: API keys and loading the bundled policies."""
import json
import os
import signal
import threading
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from marshmallow import ValidationError
from sqlalchemy import select

from . import auth
from .errors import Problem
from .ledger import sequencer
from .ledger.bundle import trusted_keys, verify_bundle
from .ledger.verify import LEAVES_PER_TASK, default_jobs, export_database, verify_database
from .models import ApiKey
from .policy_store import load_bundled
from .schemas.fields import format_utc


def _sessions():
    return current_app.extensions["db_sessions"]


keys = AppGroup("keys", help="Create, list, rotate and revoke API keys.")


@keys.command("create")
@click.option("--name", required=True, help="The identity recorded on everything this key does.")
@click.option("--role", required=True, type=click.Choice(auth.ROLES))
def create_key(name: str, role: str) -> None:
    """Create a key; it is printed once, alone on the last line, and stored only as a hash."""
    try:
        with _sessions()() as session, session.begin():
            key = auth.create_key(session, name, role)
    except (ValueError, Problem) as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {role} key {name!r}. Store it now: it cannot be shown again.")
    click.echo(key)


@keys.command("list")
def list_keys() -> None:
    """Name, role, creation time and revocation time of every key (never the key)."""
    with _sessions()() as session:
        for key in session.scalars(select(ApiKey).order_by(ApiKey.name)):
            revoked = f"revoked {format_utc(key.revoked_at)}" if key.revoked_at else "active"
            click.echo(f"{key.name}\t{key.role}\t{format_utc(key.created_at)}\t{revoked}")


@keys.command("rotate")
@click.argument("name")
def rotate_key(name: str) -> None:
    """A new secret for the key NAME (same name and role); the old secret gets 401 from now on."""
    try:
        with _sessions()() as session, session.begin():
            key = auth.rotate_key(session, name)
    except Problem as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"Rotated {name!r}: the old key no longer works. Store the new one now: it cannot be shown again.")
    click.echo(key)


@keys.command("revoke")
@click.argument("name")
def revoke_key(name: str) -> None:
    """Revoke a key at once; requests with it get 401 from then on."""
    try:
        with _sessions()() as session, session.begin():
            auth.revoke_key(session, name)
    except Problem as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"Revoked {name!r}.")


policies = AppGroup("policies", help="Policy versions.")


@policies.command("load")
def load_policies() -> None:
    """Load the bundled policy versions and munition catalog (idempotent)."""
    try:
        with _sessions()() as session, session.begin():
            published, munitions = load_bundled(session)
    except Problem as error:
        raise click.ClickException(error.detail) from error
    click.echo(f"Loaded {published} new policy version(s) and {munitions} new munition(s).")


ledger = AppGroup("ledger", help="The verifiable ledger: sequencer, verification, export.")


@ledger.command("sequence")
@click.option("--once", is_flag=True, help="Integrate what is pending, sign, and exit.")
@click.option("--exit-with-parent", is_flag=True, help="Stop when the parent process (gunicorn) goes away.")
def sequence(once: bool, exit_with_parent: bool) -> None:
    """Integrate pending entries into the Merkle tree and sign checkpoints (runs until stopped)."""
    signer = current_app.extensions["ledger_signer"]
    if once:
        click.echo(f"Integrated {sequencer.integrate_all(_sessions(), signer)} entries.")
        return
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    # gunicorn names itself: by the time this runs (seconds after the fork, once the app is loaded)
    # the parent may already be gone, and os.getppid() then names init, which never goes away.
    parent = int(os.environ.get("SEQUENCER_PARENT_PID") or os.getppid())
    sequencer.run(_sessions(), signer, stop, still_wanted=lambda: not exit_with_parent or os.getppid() == parent)


@ledger.command("verify")
@click.option("--bundle", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Verify an export bundle instead of the database (no database is opened).")
@click.option("--public-key", "public_keys", multiple=True,
              help="Trust this verifier key, not the service's (or the bundle's) own. Repeat it, oldest "
                   "first, for the keys of a rotation: every checkpoint must be signed by one of them, "
                   "and none by an older key than an earlier checkpoint's.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help=f"Worker processes checking ranges of {LEAVES_PER_TASK:,} leaves in parallel (PostgreSQL; "
                   "SQLite uses one). Default: one per CPU, at most 8; none for a ledger of a single range.")
def verify_ledger(bundle: Path | None, public_keys: tuple[str, ...], jobs: int) -> None:
    """Recompute every leaf hash and checkpoint root, check signatures and rows; non-zero exit on any mismatch."""
    if bundle is not None:
        try:
            keys = trusted_keys(bundle, public_keys, click.echo)
        except OSError as error:
            raise click.ClickException(f"cannot read the bundle's public key: {error}") from error
        outcome = verify_bundle(bundle, keys, click.echo)
    else:
        keys = public_keys or (current_app.extensions["ledger_signer"].verifier_key,)
        source = "given with --public-key" if public_keys else "of this service's signing key"
        click.echo(f"Trusting the verifier key(s) {source}: {', '.join(keys)}")
        engine = current_app.extensions["db_engine"]
        if jobs is not None and jobs > 1 and engine.dialect.name != "postgresql":
            click.echo("SQLite: checking in one process (--jobs needs PostgreSQL's shared snapshots).")
        outcome = verify_database(engine, keys, click.echo, jobs=jobs or default_jobs())
    click.echo(outcome.summary("ledger verify"))
    if not outcome.ok:
        raise click.exceptions.Exit(1)


@ledger.command("export")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for entries.ndjson, checkpoints.ndjson and public-key.txt (created if absent).")
def export_ledger(out: Path) -> None:
    """Write every integrated entry, every signed checkpoint and the verifier key for offline verification."""
    key = current_app.extensions["ledger_signer"].verifier_key
    entries, checkpoints = export_database(current_app.extensions["db_engine"], key, out)
    click.echo(f"Exported {entries} entries and {checkpoints} checkpoints to {out}.")


reports = AppGroup("reports", help="Compliance reports: scheduled generation and verification.")


@reports.command("generate")
@click.option("--period", "kind", required=True, type=click.Choice(["weekly", "monthly"]))
@click.option("--at", help="Report the last complete ISO week or month before this date or instant (default now).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help="Also write the report as <label>.json, .csv and .html into this directory.")
def generate_report(kind: str, at: str | None, out: Path | None) -> None:
    """Store the report of the last complete period (UTC); a period already stored is only printed."""
    from .db import utcnow
    from .reports import periods, store

    try:
        moment = periods.parse_bound(at) if at else utcnow()
    except ValidationError as error:
        raise click.BadParameter(" ".join(error.messages), param_hint="--at") from error
    period = periods.scheduled(kind, moment)
    report, created = store.generate_scheduled(_sessions(), current_app.extensions["ledger_signer"], kind,
                                               period, f"cli:{kind}")
    verb = "Stored" if created else "Already stored:"
    click.echo(f"{verb} {kind} report {report.id} for {period.label} "
               f"({report.document['period']['from']} to {report.document['period']['to']}), "
               f"tree size {report.tree_size}, SHA-256 {report.sha256}")
    if out is not None:
        for path in write_report_files(out, report.id, report.document, period.label):
            click.echo(f"Wrote {path}")


def write_report_files(out: Path, report_id: int, document: dict, label: str) -> list[Path]:
    """The stored JSON exactly (its SHA-256 is in the ledger), and the CSV and HTML forms of it."""
    from .ledger.canonical import canonical_bytes
    from .reports.render_csv import render_csv
    from .reports.render_html import render_html

    out.mkdir(parents=True, exist_ok=True)
    shown = {**document, "id": report_id}
    files = {f"{label}.json": canonical_bytes(document), f"{label}.csv": render_csv(shown).encode(),
             f"{label}.html": render_html(shown).encode()}
    for name, data in files.items():
        (out / name).write_bytes(data)
    return [out / name for name in files]


@reports.command("verify")
@click.argument("id_or_file")
def verify_report(id_or_file: str) -> None:
    """Recompute a stored report (ID) or a saved JSON report (FILE) from the ledger; non-zero exit on any mismatch."""
    from .models import Report
    from .reports.verify import verify_document

    with _sessions()() as session:
        if id_or_file.isdigit():
            report = session.get(Report, int(id_or_file))
            if report is None:
                raise click.ClickException(f"no report {id_or_file}")
            document = report.document
        else:
            report, document = None, _report_file(Path(id_or_file))
        problems = verify_document(session, document, report, click.echo)
    for line in problems:
        click.echo(f"MISMATCH {line}")
    click.echo(f"reports verify: {'OK' if not problems else f'FAILED ({len(problems)} problem(s))'}")
    if problems:
        raise click.exceptions.Exit(1)


def _report_file(path: Path) -> dict:
    """A report document, or the POST /v1/reports answer that holds one under "report"."""
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise click.ClickException(f"cannot read a JSON report from {path}: {error}") from error
    document = document.get("report", document) if isinstance(document, dict) else document
    if not isinstance(document, dict) or document.get("report_type") != "compliance":
        raise click.ClickException(f"{path} does not hold a compliance report")
    return document


def register_commands(app: Flask) -> None:
    for group in (keys, policies, ledger, reports):
        app.cli.add_command(group)
