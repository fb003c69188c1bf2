"""SIGKILL under load: a worker, the master with its workers (the sequencer then exits by itself), the
sequencer alone.

Whatever dies, every report the service acknowledged is stored exactly once once clients have sent
their cut-off requests again, entries left pending are integrated, and the ledger verifies.
"""
import os
import signal

import pytest

from .outcomes import assert_ledger_sound, assert_stored_as_acknowledged
from .processes import wait_for
from .traffic import Traffic

CLIENTS = ["ops-a", "ops-b"] * 2  # as many clients as workers: every worker is busy when one dies
ACKNOWLEDGED = 30  # reports acknowledged before the kill, and again after it, so it happens under load


def kill_a_worker(deployment) -> None:
    victim = deployment.worker_pids()[0]
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: victim not in deployment.worker_pids() and len(deployment.worker_pids()) == deployment.workers,
             10, "gunicorn replaced the killed worker")


def kill_master_and_workers(deployment) -> None:
    deployment.kill_master_and_workers()
    deployment.start()  # what an operator or a supervisor does next: nothing to repair by hand first


def kill_the_sequencer(deployment) -> None:
    victim = deployment.sequencer_pid()
    os.kill(victim, signal.SIGKILL)
    wait_for(lambda: deployment.sequencer_pid() not in (None, victim), 10, "gunicorn started a new sequencer")


# Each kill on PostgreSQL; on SQLite the harshest one only, to keep the suite short.
@pytest.mark.parametrize("db_factory, kill", [
    pytest.param("postgresql", kill_a_worker, marks=pytest.mark.postgres, id="postgresql-worker"),
    pytest.param("postgresql", kill_master_and_workers, marks=pytest.mark.postgres, id="postgresql-master"),
    pytest.param("postgresql", kill_the_sequencer, marks=pytest.mark.postgres, id="postgresql-sequencer"),
    pytest.param("sqlite", kill_master_and_workers, id="sqlite-master"),
], indirect=["db_factory"])
def test_acknowledged_reports_survive_a_sigkill_once_each(kill, deployment, app, keys, database_url,
                                                          signing_key_path):
    deployment.start()
    traffic = Traffic(deployment.base, {name: keys[name] for name in ("ops-a", "ops-b")}, transient=("connection",),
                      batch_sizes=(10, 40))
    with traffic.running(CLIENTS):
        traffic.wait_for_acknowledgements(ACKNOWLEDGED)
        kill(deployment)
        traffic.wait_for_acknowledgements(ACKNOWLEDGED)
    cut_off = traffic.resend_failed()

    assert_stored_as_acknowledged(app.extensions["db_sessions"], traffic)
    assert_ledger_sound(app, database_url, signing_key_path)
    print(f"{kill.__name__}: {len(traffic.acknowledged)} reports acknowledged, {cut_off} requests cut off and sent again")
