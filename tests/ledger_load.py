"""Synthetic ledgers integrated by the real sequencer; `python -m tests.ledger_load` measures verify throughput."""
# .venv/bin/python -m tests.ledger_load --backend sqlite --entries 200000 [--events 100000]
# TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test \
#     .venv/bin/python -m tests.ledger_load --backend postgresql --entries 200000
import argparse
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy.orm import sessionmaker

from service.core.time import utcnow
from service.db import make_engine, make_session_factory
from service.events.intake import judge
from service.events.writer import NewVersion, store_versions
from service.ledger import sequencer
from service.ledger.entries import append_entries
from service.ledger.verify import verify_database

from .dbs import PostgresFactory, SqliteFactory, postgres_admin_url
from .helpers import make_event


def _access(n: int) -> tuple[str, dict]:
    """An auditor-read entry of a realistic size (~300 bytes)."""
    return "access", {"who": "auditor-1", "role": "auditor", "result_count": n % 97,
                      "query": f"GET /v1/events?from=2024-06-01T00:00:00Z&page={n}"
                               "&category=force_concentration&verdict=violation"}


def load(sessions: sessionmaker, signer: sequencer.Signer, entries: int, events: int = 0,
         chunk: int = 20_000) -> None:
    """Append `entries` access entries and `events` reports (two entries and their rows each, written
    by the service's own writers), then integrate all."""
    now = utcnow()
    for start in range(0, entries, chunk):
        with sessions() as session, session.begin():
            append_entries(session, [_access(n) for n in range(start, min(start + chunk, entries))], now)
    if events:
        with sessions() as session:
            template = make_event("syn")
            judgement = judge(session, template)
    for start in range(0, events, chunk // 2):
        with sessions() as session, session.begin():
            store_versions(session, [
                NewVersion("ops-a", "ops-a", {**template, "source_event_id": f"syn-{n}"}, judgement.evaluation,
                           judgement.family) for n in range(start, min(start + chunk // 2, events))])
    sequencer.integrate_all(sessions, signer, batch_size=5000)


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
