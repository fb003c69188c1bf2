"""flask --app service ledger …: run the sequencer, verify the ledger, export it as a bundle."""
import os
import threading
from functools import partial
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from service.cli.signals import run_until_signalled
from service.ledger import sequencer
from service.ledger.bundle import trusted_keys, verify_bundle
from service.ledger.verify import LEAVES_PER_TASK, default_jobs, export_database, verify_database
from service.ledger.witness_checks import COSIGNATURES, write_cosignatures
from service.web.context import sessions

group = AppGroup("ledger", help="The verifiable ledger: sequencer, verification, export.")


@group.command("sequence")
@click.option("--once", is_flag=True, help="Integrate what is pending, sign, and exit.")
@click.option("--exit-with-parent", is_flag=True, help="Stop when the parent process (gunicorn) goes away.")
def sequence(once: bool, exit_with_parent: bool) -> None:
    """Integrate pending entries into the Merkle tree and sign checkpoints (runs until stopped)."""
    signer = current_app.extensions["ledger_signer"]
    if once:
        click.echo(f"Integrated {sequencer.integrate_all(sessions(), signer)} entries.")
        return
    # gunicorn names itself: by the time this runs (seconds after the fork, once the app is loaded)
    # the parent may already be gone, and os.getppid() then names init, which never goes away.
    parent = current_app.config["SETTINGS"].sequencer_parent_pid or os.getppid()
    stop = threading.Event()
    start_witnessing(stop)  # threads of their own: a slow witness never delays a batch
    run_until_signalled(stop, partial(sequencer.run, sessions(), signer, stop,
                                      still_wanted=lambda: not exit_with_parent or os.getppid() == parent), "sequencer")


@group.command("verify")
@click.option("--bundle", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Verify an export bundle instead of the database (no database is opened).")
@click.option("--public-key", "public_keys", multiple=True,
              help="Trust this verifier key, not the service's (or the bundle's) own. Repeat it, oldest "
                   "first, for the keys of a rotation: every checkpoint must be signed by one of them, "
                   "and none by an older key than an earlier checkpoint's.")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help=f"Worker processes checking tasks of {LEAVES_PER_TASK:,} leaves in parallel (PostgreSQL; "
                   "SQLite uses one). Default: one per CPU, at most 8; none for a ledger of a single task.")
@click.option("--policy", "policy_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A tlog-policy file: the latest checkpoint must carry its witness quorum; its log lines are "
                   "trusted when no --public-key is given.")
def verify_ledger(bundle: Path | None, public_keys: tuple[str, ...], jobs: int, policy_file: Path | None) -> None:
    """Recompute every leaf hash and checkpoint root, check signatures and rows; non-zero exit on any mismatch."""
    policy = read_policy(policy_file) if policy_file else None
    if policy is not None and not public_keys:
        public_keys = tuple(policy.logs)
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
    witnessed = witnessed_problems(policy, bundle) if policy is not None else 0
    if not outcome.ok or witnessed:
        raise click.exceptions.Exit(1)


@group.command("export")
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Directory for entries.ndjson, checkpoints.ndjson and public-key.txt (created if absent).")
def export_ledger(out: Path) -> None:
    """Write every integrated entry, every signed checkpoint and the verifier key for offline verification."""
    key = current_app.extensions["ledger_signer"].verifier_key
    entries, checkpoints = export_database(current_app.extensions["db_engine"], key, out)
    cosignatures = write_cosignatures(current_app.extensions["db_engine"], out)
    click.echo(f"Exported {entries} entries and {checkpoints} checkpoints to {out}.")
    click.echo(f"Exported {cosignatures} witness cosignatures to {out / COSIGNATURES}.")


from service.cli.witnessing import read_policy, start_witnessing, witnessed_problems  # noqa: E402 - adds commands
