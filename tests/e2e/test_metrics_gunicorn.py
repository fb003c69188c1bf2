"""/metrics through real gunicorn with two workers: every scrape adds up every worker's samples."""
import time

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from ..helpers import make_event
from .conftest import free_port, start_gunicorn, stop

N = 30


def scrape(base: str) -> dict:
    text = requests.get(f"{base}/metrics", timeout=10).text
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def munition_reads(samples: dict) -> float:
    labels = (("method", "GET"), ("route", "/v1/catalog/munitions"), ("status", "200"))
    return samples.get(("audit_http_requests_total", labels), 0.0)


# What is under test is gunicorn's workers, not the database (the ledger gauges run on both databases in
# tests/integration/test_metrics.py): SQLite alone keeps this start of gunicorn the only one.
@pytest.mark.parametrize("db_factory", ["sqlite"], indirect=True)
def test_every_scrape_adds_up_both_workers(database_url, keys, signing_key_path, tmp_path):
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    (metrics_dir / "counter_999999.db").write_bytes(b"an earlier run's file")  # must be wiped at start
    process, base = start_gunicorn(database_url, free_port(), workers=2, extra_env={
        "LEDGER_SIGNING_KEY": signing_key_path, "PROMETHEUS_MULTIPROC_DIR": str(metrics_dir)})
    try:
        for _ in range(N):  # a new connection each: both workers take some of them
            assert requests.get(f"{base}/v1/catalog/munitions", headers=keys.reporter, timeout=10).status_code == 200
        # Without multiprocess mode a scrape shows only the answering worker's share, and scrapes differ.
        assert [munition_reads(scrape(base)) for _ in range(6)] == [N] * 6
        writers = {path.stem.rsplit("_", 1)[1] for path in metrics_dir.glob("counter_*.db")}
        assert "999999" not in writers and writers, writers
        print(f"\nworker pids with samples: {sorted(writers)}")

        created = requests.post(f"{base}/v1/events", json=make_event("metrics-1"), headers=keys.reporter, timeout=10)
        assert created.status_code == 201
        verdict = (("kind", "report"), ("verdict", created.json()["verdict"]))
        deadline = time.monotonic() + 5
        while True:  # the embedded sequencer integrates the two new entries within about 0.1 s
            samples = scrape(base)
            if samples[("audit_ledger_pending_entries", ())] == 0 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert samples[("audit_events_ingested_total", verdict)] == 1
        assert samples[("audit_ledger_pending_entries", ())] == 0
        assert samples[("audit_sequencer_lag_seconds", ())] == 0
        checkpoint = requests.get(f"{base}/v1/ledger/checkpoint", timeout=10).text
        assert samples[("audit_ledger_tree_size", ())] == int(checkpoint.split("\n")[1])
    finally:
        stop(process)
