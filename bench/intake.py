"""Write-side figures: single-event POSTs against the ceiling, the sequencer's lag under that load, batches."""
import http.client
import json
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import urlsplit

from . import events, wrk
from .databases import query
from .servers import Server

BATCH_SIZE = 1000


@dataclass(frozen=True)
class LoadShape:
    seconds: float
    connections: int
    threads: int


def write_bodies(path: Path, templates: list, count: int = 500) -> Path:
    """Reports for wrk, one JSON document a line, with the id placeholder post_event.lua fills in."""
    reports = events.fresh_reports(count, templates, "body")
    path.write_text("".join(json.dumps({**r, "source_event_id": events.SOURCE_ID}) + "\n" for r in reports))
    return path


def post_events(server: Server, key: str, bodies: Path, run_id: str, shape: LoadShape) -> wrk.Load:
    env = {"BENCH_BODIES": str(bodies), "BENCH_KEY": key, "BENCH_RUN_ID": run_id}
    return wrk.run(server.base_url, "post_event.lua", shape.seconds, shape.connections, shape.threads, env)


def settle(url: str, timeout: float = 300) -> None:
    """Wait until the sequencer has integrated everything and no statement runs in the database.

    wrk stops sending when its time is up, but the requests it left in flight go on, and so does the
    sequencer: without this, the next measurement would share the CPU with the last one's tail.
    """
    deadline = time.monotonic() + timeout
    busy = ("SELECT (SELECT count(*) FROM ledger_pending) + (SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND state = 'active' AND pid <> pg_backend_pid())")
    while query(url, busy)[0][0]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the service was still busy {timeout:.0f} s after the load stopped")
        time.sleep(0.2)


def sequencer_lag_p99(url: str, start: datetime, end: datetime) -> float:
    """p99 of integrated_at - created_at over the entries created in [start, end]: both are the service's
    clock, taken as the entry is written and as the sequencer's batch integrates it."""
    [(lag,)] = query(url, "SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM "
                          "l.integrated_at - e.created_at)) FROM ledger_entries e "
                          "JOIN ledger_leaves l ON l.entry_id = e.id WHERE e.created_at BETWEEN %s AND %s",
                     (start, end))
    return float(lag)


def single_event_run(ceiling: Server, service: Server, url: str, key: str, bodies: Path, run_id: str,
                     shape: LoadShape) -> tuple[wrk.Load, wrk.Load, float]:
    """The ceiling and the service under the same load, back to back, and the sequencer lag meanwhile."""
    ceiling_load = post_events(ceiling, key, bodies, f"{run_id}-ceiling", shape)
    started = datetime.now(timezone.utc)
    single = post_events(service, key, bodies, f"{run_id}-single", shape)
    ended = datetime.now(timezone.utc)
    settle(url)
    return ceiling_load, single, sequencer_lag_p99(url, started, ended)


def _post(base_url: str, key: str, body: bytes) -> dict:
    parts = urlsplit(base_url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=600)
    try:
        connection.request("POST", "/v1/events/batch", body, {"Content-Type": "application/json",
                                                              "Authorization": f"Bearer {key}"})
        response = connection.getresponse()
        answer = response.read()
        if response.status != 200:  # e.g. 500 when gunicorn's timeout killed the worker mid-batch
            raise RuntimeError(f"batch answered HTTP {response.status} (see var/bench/work/gunicorn.log)")
        return json.loads(answer)
    finally:
        connection.close()


def batch_run(server: Server, url: str, key: str, templates: list, run_id: str, clients: int) -> tuple[float, str]:
    """`clients` clients each POST one batch of 1000 new reports at once: (events stored per second, what
    failed). Stored events are counted in the database, so a batch cut short (by gunicorn's timeout, say)
    still counts what it stored."""
    bodies = [json.dumps({"events": events.fresh_reports(BATCH_SIZE, templates, f"{run_id}-{i}")}).encode()
              for i in range(clients)]
    failures = []

    def client(body: bytes) -> None:
        try:
            _post(server.base_url, key, body)
        except Exception as error:  # counted below, once every client has finished
            failures.append(error)

    threads = [threading.Thread(target=client, args=(body,)) for body in bodies]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    [(stored,)] = query(url, "SELECT count(*) FROM events WHERE source_event_id LIKE %s", (f"{run_id}-%",))
    problem = f"{len(failures)} of {clients} batch requests failed: {failures[0]}" if failures else ""
    return stored / elapsed, problem
