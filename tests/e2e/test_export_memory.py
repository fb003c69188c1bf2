"""A CSV export of 20,000 events through one real gunicorn worker, with the worker's RSS sampled.

The events are written in batches by service.versions.store_versions, what the API itself uses
(report and evaluation ledger entries, event, evaluation, head and rule rows), from a few templates
judged by the real engine, because submitting 20,000 reports over HTTP would take minutes.
"""
import csv
import io
import time
from datetime import timedelta

import pytest
import requests

from bench.export import PeakRss
from bench.servers import children_of, rss_kib
from service.core.time import format_utc, parse_rfc3339
from service.db import make_engine, make_session_factory
from service.events.intake import judge
from service.events.writer import NewVersion, store_versions

from ..helpers import make_event
from ..integration.test_auditor_queries import EVENTS
from .conftest import free_port, start_gunicorn, stop

COUNT = 20_000
BATCH = 2_000
MAX_GROWTH_MIB = 50
NOTES = "Observed by two drones; battle damage assessment pending, imagery attached. " * 4  # ~300 bytes


def _templates(sessions) -> list[tuple[dict, object]]:
    """One judged report per kind of case in the auditor tests."""
    with sessions() as session:
        return [(payload, judge(session, payload))
                for payload in (make_event(name, notes=NOTES, **changes) for name, (_, changes) in EVENTS.items())]


def _insert_batch(sessions, templates, start: int, size: int) -> None:
    """`size` new reports written by the service's own writer, with the templates' judgements."""
    versions = []
    for n in range(start, start + size):
        payload, judgement = templates[n % len(templates)]
        occurred = parse_rfc3339(payload["occurred_at"]) + timedelta(seconds=n)
        payload = {**payload, "source_event_id": f"load-{n:06d}", "occurred_at": format_utc(occurred)}
        versions.append(NewVersion("ops-a", "ops-a", payload, judgement.evaluation, judgement.family))
    with sessions() as session, session.begin():
        store_versions(session, versions)


def load_events(database_url: str, count: int) -> None:
    engine = make_engine(database_url, timeout_seconds=60)
    try:
        sessions = make_session_factory(engine)
        templates = _templates(sessions)
        for start in range(0, count, BATCH):
            _insert_batch(sessions, templates, start, min(BATCH, count - start))
    finally:
        engine.dispose()


@pytest.fixture
def one_worker(database_url, keys, signing_key_path):
    load_started = time.perf_counter()
    load_events(database_url, COUNT)
    print(f"\nloaded {COUNT} events in {time.perf_counter() - load_started:.1f} s")
    # A worker timeout shorter than the export: only the export's heartbeat keeps the worker alive.
    process, base = start_gunicorn(database_url, free_port(), workers=1, extra_env={
        "LEDGER_SIGNING_KEY": signing_key_path, "EMBEDDED_SEQUENCER": "0", "GUNICORN_TIMEOUT": "2",
        "READY_MAX_SEQUENCER_LAG_S": "0"})  # no sequencer here, so the loaded entries stay pending
    yield process, base
    stop(process)


def test_a_large_csv_export_streams_in_bounded_memory(one_worker, keys):
    process, base = one_worker
    [worker] = children_of(process.pid)  # its only child: the embedded sequencer is switched off
    url = f"{base}/v1/events/export?format=csv"
    # Warm the worker first (imports, compiled statements, connection pool), so what is measured
    # next is what the export itself holds.
    warm = requests.get(url + "&category=dual_use", headers=keys.auditor, timeout=30)  # a sixth: 2 chunks
    assert warm.status_code == 200 and warm.text.count("\n") == COUNT // len(EVENTS) + 1
    baseline = rss_kib(worker)
    started = time.perf_counter()
    with PeakRss(worker) as rss, requests.get(url, headers=keys.auditor, stream=True, timeout=60) as response:
        assert response.status_code == 200
        first_byte = time.perf_counter() - started
        reader = csv.reader(io.TextIOWrapper(response.raw, encoding="utf-8", newline=""))
        header = next(reader)
        ids = [row[0] for row in reader]
    elapsed = time.perf_counter() - started
    growth_mib = (rss.peak - baseline) / 1024
    print(f"export of {len(ids)} rows: first byte {first_byte:.2f} s, all {elapsed:.1f} s; worker RSS "
          f"baseline {baseline / 1024:.1f} MiB, peak {rss.peak / 1024:.1f} MiB, growth {growth_mib:.1f} MiB")
    assert header[0] == "id" and len(ids) == COUNT and len(set(ids)) == COUNT
    assert children_of(process.pid) == [worker]  # not killed and replaced mid-export
    assert growth_mib < MAX_GROWTH_MIB
