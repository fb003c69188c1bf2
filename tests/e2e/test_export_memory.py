"""A CSV export of 20,000 events through one real gunicorn worker, with the worker's RSS sampled.

The events are bulk-inserted as service.intake would store them (report and evaluation ledger
entries, event, evaluation, head and rule rows), from a few templates judged by the real engine,
because submitting 20,000 reports over HTTP would take minutes.
"""
import csv
import io
import time
import uuid
from datetime import timedelta

import pytest
import requests
from sqlalchemy import insert

from bench.export import PeakRss
from bench.servers import rss_kib
from service.db import make_engine, make_session_factory, utcnow
from service.event_index import highest_severity
from service.intake import judge
from service.ledger.canonical import canonical_bytes, leaf_hash
from service.models import Evaluation, Event, EventHead, EventRule, LedgerEntry, PendingEntry
from service.schemas.fields import format_utc, parse_rfc3339

from ..helpers import make_event
from ..integration.test_auditor_queries import EVENTS
from .conftest import free_port, start_gunicorn, stop
from .processes import children_of

COUNT = 20_000
BATCH = 2_000
MAX_GROWTH_MIB = 50
NOTES = "Observed by two drones; battle damage assessment pending, imagery attached. " * 4  # ~300 bytes


def _entry(entry_type: str, body: dict, now) -> dict:
    data = canonical_bytes({"entry_type": entry_type, "recorded_at": format_utc(now), **body})
    return {"entry_type": entry_type, "canonical": data, "leaf_hash": leaf_hash(data), "created_at": now}


def _templates(sessions) -> list[tuple[dict, object]]:
    """One judged report per kind of case in the auditor tests, plus its munition family."""
    with sessions() as session:
        judged = [(payload, judge(session, payload))
                  for payload in (make_event(name, notes=NOTES, **changes) for name, (_, changes) in EVENTS.items())]
    return [(payload, judgement.evaluation, judgement.family) for payload, judgement in judged]


def _insert_batch(sessions, templates, start: int, size: int) -> None:
    now = utcnow()
    reports = []
    for n in range(start, start + size):
        payload, evaluation, family = templates[n % len(templates)]
        occurred = parse_rfc3339(payload["occurred_at"]) + timedelta(seconds=n)
        payload = {**payload, "source_event_id": f"load-{n:06d}", "occurred_at": format_utc(occurred)}
        reports.append((str(uuid.uuid4()), payload, occurred, evaluation, family))
    entries = []
    for event_id, payload, _, evaluation, _ in reports:
        entries.append(_entry("event_received", {
            "event_id": event_id, "reporter": "ops-a", "submitted_by": "ops-a",
            "source_event_id": payload["source_event_id"], "version": 1, "supersedes": None,
            "received_at": format_utc(now), "payload": payload}, now))
        entries.append(_entry("evaluation", {"event_id": event_id, **evaluation.to_dict()}, now))
    with sessions() as session, session.begin():
        # RETURNING rather than chosen ids, so PostgreSQL's sequence stays ahead for the access entry.
        ids = session.scalars(insert(LedgerEntry).returning(LedgerEntry.id, sort_by_parameter_order=True),
                              entries).all()
        session.execute(insert(PendingEntry), [{"entry_id": entry_id} for entry_id in ids])
        session.execute(insert(Event), [
            {"id": event_id, "reporter": "ops-a", "source_event_id": payload["source_event_id"], "version": 1,
             "supersedes": None, "payload": payload, "occurred_at": occurred, "received_at": now,
             "ledger_entry_id": ids[2 * i]}
            for i, (event_id, payload, occurred, _, _) in enumerate(reports)])
        session.execute(insert(Evaluation), [
            {"event_id": event_id, "policy_id": evaluation.policy_id, "policy_sha256": evaluation.policy_sha256,
             "verdict": evaluation.verdict, "findings": [f.to_dict() for f in evaluation.findings],
             "computed": evaluation.computed, "evaluated_at": now, "ledger_entry_id": ids[2 * i + 1]}
            for i, (event_id, _, _, evaluation, _) in enumerate(reports)])
        rules = [{"event_id": event_id, "rule_id": rule} for event_id, _, _, evaluation, _ in reports
                 for rule in sorted({f.rule_id for f in evaluation.findings})]
        if rules:
            session.execute(insert(EventRule), rules)
        session.execute(insert(EventHead), [
            {"id": event_id, "event_id": event_id, "reporter": "ops-a", "source_event_id": payload["source_event_id"],
             "version": 1, "occurred_at": occurred, "received_at": now, "verdict": evaluation.verdict,
             "severity": highest_severity(evaluation), "munition": payload["weapon"]["munition"], "family": family,
             "category": payload["target"]["category"], "target_country": evaluation.computed["country"],
             "policy_version": evaluation.policy_id, "review_status": "open",
             "target_lat": payload["target"]["lat"], "target_lon": payload["target"]["lon"]}
            for event_id, payload, occurred, evaluation, family in reports])


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
    warm = requests.get(url + "&category=dual_use", headers=keys.auditor, timeout=30)  # a sixth: 7 chunks
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
