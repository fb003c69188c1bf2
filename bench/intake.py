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


def wait_until_integrated(url: str, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while query(url, "SELECT count(*) FROM ledger_pending")[0][0]:
        if time.monotonic() > deadline:
            raise RuntimeError(f"the sequencer left entries pending for {timeout:.0f} s")
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
    # Also keeps the next run's ceiling from sharing the CPU with a sequencer still catching up.
    wait_until_integrated(url)
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


def batch_run(server: Server, key: str, templates: list, run_id: str, clients: int) -> float:
    """`clients` clients each POST one batch of 1000 new reports at once; created events per second."""
    bodies = [json.dumps({"events": events.fresh_reports(BATCH_SIZE, templates, f"{run_id}-{i}")}).encode()
              for i in range(clients)]
    created, failures = [], []

    def client(body: bytes) -> None:
        try:
            results = _post(server.base_url, key, body)["results"]
            created.append(sum(r["status"] == "created" for r in results))
        except Exception as error:  # reported below, after every client has finished
            failures.append(error)

    threads = [threading.Thread(target=client, args=(body,)) for body in bodies]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    if failures:
        raise RuntimeError(f"{len(failures)} batch request(s) failed: {failures[0]}")
    if sum(created) != clients * BATCH_SIZE:
        raise RuntimeError(f"only {sum(created)} of {clients * BATCH_SIZE} batch items were created")
    return sum(created) / elapsed
