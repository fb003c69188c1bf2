"""flask --app service ledger witness | monitor | verify-receipt, and the witnessing `ledger sequence` starts."""
import threading
from datetime import datetime, timezone
from pathlib import Path

import click
from flask import current_app

from service.cli.ledger import group
from service.cli.signals import run_until_signalled
from service.core.ledger.policy import Policy, PolicyError, parse_policy
from service.core.ledger.proof_text import ReceiptError, verify_receipt
from service.core.time import format_utc, utcnow
from service.ledger import monitor as ledger_monitor
from service.ledger import witnesses
from service.ledger.witness_checks import check_bundle, check_database
from service.web.context import sessions


def read_policy(path: Path) -> Policy:
    try:
        return parse_policy(path.read_text(encoding="utf-8"))
    except (OSError, PolicyError) as error:
        raise click.ClickException(f"{path}: {error}") from error


def witnessed_problems(policy: Policy, bundle: Path | None) -> int:
    """Problems found by the --policy checks of `ledger verify`, each printed."""
    if not policy.needs_witnesses:
        click.echo("The policy's quorum is none: no cosignature is required.")
        return 0
    if bundle is not None:
        problems = check_bundle(bundle, policy, click.echo)
    else:
        problems = check_database(current_app.extensions["db_engine"], policy, click.echo)
    click.echo(f"witness quorum {policy.quorum!r}: " + ("carried by the latest checkpoint" if not problems
                                                      else f"{problems} problem(s)"))
    return problems


def start_witnessing(stop: threading.Event) -> list[threading.Thread]:
    policy, settings = current_app.extensions["witness_policy"], current_app.config["SETTINGS"]
    return witnesses.start(sessions(), policy, stop, settings.witness_timeout_s, settings.witness_interval_s)


@group.command("witness")
def witness() -> None:
    """Offer each new checkpoint to the policy's witnesses (what `ledger sequence` also does), until stopped."""
    stop = threading.Event()
    if not start_witnessing(stop):
        raise click.ClickException("LEDGER_WITNESS_POLICY names no witness with a URL: nothing to do.")
    run_until_signalled(stop, stop.wait, "witnessing")


@group.command("monitor")
@click.option("--url", required=True, help="The service's base URL, e.g. http://127.0.0.1:8000.")
@click.option("--state", "state_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="JSON file keeping the last verified checkpoint (created on the first round).")
@click.option("--interval", type=click.FloatRange(min=0.1), default=None,
              help="Seconds between rounds; without it, one round and the exit status says how it went.")
@click.option("--alert-webhook", envvar="LEDGER_MONITOR_WEBHOOK", default=None,
              help="In loop mode, POST each alert here as JSON (env LEDGER_MONITOR_WEBHOOK).")
@click.option("--policy", "policy_file", envvar="LEDGER_MONITOR_POLICY",
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="tlog-policy file: the log's key and the witnesses' quorum. Without it the log key is "
                   "pinned on first use and no quorum is required.")
@click.option("--api-key", envvar="LEDGER_MONITOR_API_KEY", default=None,
              help="An auditor's key, to re-hash entries from the entry bundles (env LEDGER_MONITOR_API_KEY); "
                   "without it only the hash tiles are checked.")
@click.option("--metrics-port", type=int, default=0, help="Serve the monitor's Prometheus metrics here (0: off).")
@click.option("--metrics-address", default="127.0.0.1", help="Address the metrics listen on.")
@click.option("--timeout", type=click.FloatRange(min=0.1), default=10.0, help="Seconds per HTTP request.")
def monitor(url, state_file, interval, alert_webhook, policy_file, api_key, metrics_port, metrics_address,
            timeout) -> None:
    """Verify the service over HTTP: signatures, quorum, consistency, every new entry re-hashed from the tiles."""
    policy = read_policy(policy_file) if policy_file else Policy()
    watcher = ledger_monitor.Monitor(url, state_file, policy, api_key, timeout)
    if interval is None:
        outcome = watcher.round()
        if not outcome.ok:
            for problem in outcome.problems:
                click.echo(f"ALERT: {problem}", err=True)
            raise click.exceptions.Exit(1)
        click.echo(f"Verified tree size {outcome.tree_size} ({outcome.new_entries} new entries) at "
                   f"{format_utc(utcnow())}.")
        return
    metrics = ledger_monitor.MonitorMetrics()
    if metrics_port:
        metrics.serve(metrics_port, metrics_address)
    stop = threading.Event()
    run_until_signalled(stop, lambda: ledger_monitor.run(watcher, interval, alert_webhook, metrics, stop), "monitor")


@group.command("verify-receipt")
@click.argument("receipt", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--policy", "policy_file", required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="tlog-policy file with the log's key, the witnesses' keys and the quorum.")
def verify_receipt_command(receipt: Path, policy_file: Path) -> None:
    """Verify a receipt offline: log signature, witness quorum, inclusion of the entry it carries."""
    try:
        verified = verify_receipt(receipt.read_text(encoding="utf-8"), read_policy(policy_file))
    except ReceiptError as error:
        raise click.ClickException(f"the receipt does not verify: {error}") from error
    cosigned = ", ".join(f"{name} at {format_utc_seconds(ts)}" for name, ts in sorted(verified.cosigned.items()))
    click.echo(f"OK: entry {verified.index} is in {verified.origin} at tree size {verified.tree_size}; "
               f"cosigned by {cosigned or 'no witness (quorum none)'}.")
    if verified.entry is not None:
        click.echo(verified.entry.decode("utf-8", "replace"))


def format_utc_seconds(timestamp: int) -> str:
    return format_utc(datetime.fromtimestamp(timestamp, timezone.utc))
