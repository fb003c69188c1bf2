"""PostgreSQL crashes under load and comes back: meanwhile every request gets a quick 503 problem with
Retry-After (never a 500 or a hang), no report is half-written, and the service recovers by itself."""
import json
import time

import pytest
import requests

from ..dbs import migrate_and_seed
from ..helpers import make_event
from .conftest import free_port
from .outcomes import assert_ledger_sound, assert_stored_as_acknowledged
from .private_postgres import PrivatePostgres, postgres_bin, unresponsive_host
from .processes import wait_for
from .traffic import PROBLEM_JSON, Traffic

DB_TIMEOUT = 2  # the service's DB_TIMEOUT_SECONDS: connect, pool and statement timeout
# Fewer requests at a time (two clients, an auditor, a probe) than gunicorn's four workers: a probe must
# never wait in the queue behind a request that is itself waiting out the connect timeout.
CLIENTS = ["ops-a", "ops-b"]


# The id says postgresql, so .ci/run counts this test and fails if it was skipped.
@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def private_postgres():
    bin_dir = postgres_bin()
    if bin_dir is None:
        pytest.skip("the database outage test needs PostgreSQL's server binaries (initdb, pg_ctl)")
    server = PrivatePostgres(bin_dir, free_port())
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.remove()


@pytest.fixture
def database_url(private_postgres):
    """The test's own server, not the shared one: this test stops it."""
    url = private_postgres.create_database("audit")
    migrate_and_seed(url)
    return url


def assert_quick_503(response: requests.Response, started: float) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"].isdigit()
    assert time.monotonic() - started < DB_TIMEOUT + 1.5  # bounded by the service's timeouts, not a hang


def assert_down_answers(base: str, keys, attempt: str) -> None:
    """What a load balancer, a reporting system and an auditor see while the database is unavailable."""
    assert requests.get(f"{base}/healthz", timeout=10).status_code == 200  # the process itself is fine
    started = time.monotonic()
    ready = requests.get(f"{base}/readyz", timeout=10)
    assert_quick_503(ready, started)
    assert ready.headers["Content-Type"] == PROBLEM_JSON and "database" in ready.json()["errors"]
    # A valid report: a key seen within the last half second is still trusted and the rules are cached,
    # so only storing the report needs the database (an invalid one is refused without it, rightly).
    for method, path, body, headers in (("POST", "/v1/events", make_event(f"outage-{attempt}"), keys.reporter),
                                        ("GET", "/v1/events", None, keys.auditor)):
        started = time.monotonic()
        answer = requests.request(method, base + path, json=body, headers=headers, timeout=10)
        assert_quick_503(answer, started)
        assert answer.headers["Content-Type"] == PROBLEM_JSON and answer.json()["status"] == 503


def test_a_database_outage_is_a_quick_503_and_the_service_recovers_by_itself(
        private_postgres, deployment, app, keys, database_url, signing_key_path):
    deployment.env["DB_TIMEOUT_SECONDS"] = str(DB_TIMEOUT)
    deployment.start()
    processes = sorted(deployment.worker_pids()), deployment.sequencer_pid()
    traffic = Traffic(deployment.base, {name: keys[name] for name in ("ops-a", "ops-b", "auditor-1")},
                      transient=(503,), batch_sizes=(10, 40))
    with traffic.running(CLIENTS, auditors=["auditor-1"]):
        traffic.wait_for_acknowledgements(20)
        private_postgres.stop()  # immediate: a crash, in the middle of requests and sequencer batches
        down = traffic.answers.copy()
        assert_down_answers(deployment.base, keys, "refused")  # connections refused
        wait_for(lambda: sum(n for (_, status), n in (traffic.answers - down).items() if status == 503) >= 6,
                 30, "clients got 503s")  # a few each: they back off, as reporting systems should
        with unresponsive_host(private_postgres.port):
            assert_down_answers(deployment.base, keys, "unanswered")  # never answered: the connect timeout
        private_postgres.start()
        back = time.monotonic()
        # Without restarting anything: the pools find their connections dead and open new ones.
        wait_for(lambda: requests.get(f"{deployment.base}/readyz", timeout=10).status_code == 200, DB_TIMEOUT + 3,
                 "ready again")
        ready_in = time.monotonic() - back
        traffic.wait_for_acknowledgements(30)
    cut_off = traffic.resend_failed()

    assert (sorted(deployment.worker_pids()), deployment.sequencer_pid()) == processes  # nothing died meanwhile
    slowest = max((seconds for seconds, status in traffic.latencies if status == 503), default=None)
    assert slowest is not None and slowest < DB_TIMEOUT + 1.5
    assert_stored_as_acknowledged(app.extensions["db_sessions"], traffic)
    assert_ledger_sound(app, database_url, signing_key_path)  # the sequencer caught up by itself too
    # It retried quietly: one traceback for the outage, not one every 100 ms.
    assert len(log_records(deployment.log, "service.ledger.sequencer", "ERROR")) == 1
    print(f"{len(traffic.acknowledged)} reports acknowledged, {cut_off} requests answered 503 and sent again, "
          f"slowest 503 in {slowest:.2f} s, ready {ready_in:.1f} s after PostgreSQL restarted")


def log_records(path, logger: str, level: str) -> list[dict]:
    records = [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
    return [r for r in records if r["logger"] == logger and r["level"] == level]
