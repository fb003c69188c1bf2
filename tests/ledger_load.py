"""Synthetic ledgers integrated by the real sequencer; `python -m tests.ledger_load` measures verify throughput."""
# .venv/bin/python -m tests.ledger_load --backend sqlite --entries 200000 [--events 100000]
# TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
#     .venv/bin/python -m tests.ledger_load --backend postgresql --entries 200000
import argparse
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import func, insert, select
from sqlalchemy.orm import sessionmaker

from service.db import make_engine, make_session_factory, utcnow
from service.ledger import sequencer
from service.ledger.canonical import canonical_bytes, leaf_hash
from service.ledger.verify import verify_database
from service.models import Evaluation, Event, LedgerEntry, PendingEntry
from service.schemas.fields import format_utc

from .dbs import PostgresFactory, SqliteFactory, postgres_admin_url
from .helpers import make_event


def _entry(entry_id: int, entry_type: str, body: dict, now) -> dict:
    data = canonical_bytes({"entry_type": entry_type, "recorded_at": format_utc(now), **body})
    return {"id": entry_id, "entry_type": entry_type, "canonical": data, "leaf_hash": leaf_hash(data),
            "created_at": now}


def _access(entry_id: int, now) -> dict:
    """An auditor-read entry of a realistic size (~300 bytes)."""
    return _entry(entry_id, "access", {"who": "auditor-1", "role": "auditor", "result_count": entry_id % 97,
                                       "query": f"GET /v1/events?from=2024-06-01T00:00:00Z&page={entry_id}"
                                                "&category=force_concentration&verdict=violation"}, now)


def _event_pair(first_id: int, n: int, now) -> tuple[list[dict], dict, dict]:
    """event_received + evaluation entries and their rows, shaped as service.intake writes them."""
    payload, event_id = make_event(f"syn-{n}"), str(uuid.uuid4())
    judged = {"verdict": "compliant", "policy_version": None, "policy_sha256": None, "findings": [],
              "computed": {"country": "UA", "depth_km": None, "range_km": 70.5, "zones": []}}
    entries = [
        _entry(first_id, "event_received", {
            "event_id": event_id, "reporter": "ops-a", "submitted_by": "ops-a", "source_event_id": f"syn-{n}",
            "version": 1, "supersedes": None, "received_at": format_utc(now), "payload": payload}, now),
        _entry(first_id + 1, "evaluation", {"event_id": event_id, **judged}, now),
    ]
    event = {"id": event_id, "reporter": "ops-a", "source_event_id": f"syn-{n}", "version": 1, "supersedes": None,
             "payload": payload, "occurred_at": now - timedelta(days=1), "received_at": now,
             "ledger_entry_id": first_id}
    evaluation = {"event_id": event_id, "policy_id": None, "policy_sha256": None, "verdict": "compliant",
                  "findings": [], "computed": judged["computed"], "evaluated_at": now,
                  "ledger_entry_id": first_id + 1}
    return entries, event, evaluation


def load(sessions: sessionmaker, signer: sequencer.Signer, entries: int, events: int = 0,
         chunk: int = 20_000) -> None:
    """Append `entries` access entries and `events` event/evaluation pairs (with rows), then integrate all."""
    now = utcnow()
    with sessions() as session:
        next_id = (session.scalar(select(func.max(LedgerEntry.id))) or 0) + 1
    for start in range(0, entries, chunk):
        rows = [_access(next_id + i, now) for i in range(min(chunk, entries - start))]
        next_id += len(rows)
        _insert(sessions, rows)
    for start in range(0, events, chunk // 2):
        pairs = [_event_pair(next_id + 2 * i, start + i, now) for i in range(min(chunk // 2, events - start))]
        next_id += 2 * len(pairs)
        _insert(sessions, [e for entries_, _, _ in pairs for e in entries_],
                [event for _, event, _ in pairs], [evaluation for _, _, evaluation in pairs])
    sequencer.integrate_all(sessions, signer, batch_size=5000)


def _insert(sessions: sessionmaker, entries: list[dict], events=(), evaluations=()) -> None:
    with sessions() as session, session.begin():
        session.execute(insert(LedgerEntry), entries)
        session.execute(insert(PendingEntry), [{"entry_id": e["id"]} for e in entries])
        if events:
            session.execute(insert(Event), list(events))
            session.execute(insert(Evaluation), list(evaluations))


def _factory(backend: str, folder: Path):
    return SqliteFactory(folder) if backend == "sqlite" else PostgresFactory(postgres_admin_url())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--entries", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        factory = _factory(args.backend, Path(folder))
        url = factory.create()
        engine = make_engine(url, timeout_seconds=600)
        try:
            signer = sequencer.Signer("bench.strike-audit.local/ledger", Ed25519PrivateKey.generate())
            started = time.perf_counter()
            load(make_session_factory(engine), signer, args.entries, args.events)
            print(f"loaded and integrated in {time.perf_counter() - started:.1f} s")
            for _ in range(3):  # the first run also warms the OS and database caches
                print(verify_database(engine, signer.verifier_key, print).summary(f"verify ({args.backend})"))
        finally:
            engine.dispose()
            factory.drop(url)
            factory.close()


if __name__ == "__main__":
    main()
