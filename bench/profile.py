"""Where a report's time goes, in one process: CPU per single report and per batch item, statements per
report, geography alone, and a cProfile of the hot path. Not a figure of `make bench` (a profiler inflates
everything); the shape it shows is what docs/performance.md discusses.

    BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/ .venv/bin/python -m bench.profile [--cprofile]

It creates (and drops) a database named bench_profile_*, migrated and seeded as `make migrate` does.
"""
import argparse
import cProfile
import os
import pstats
import statistics
import time
import uuid

from sqlalchemy import event

from service import create_app
from service.core import geo
from service.keys.store import create_key

from . import databases, events


def _app(url: str, key_file: str):
    app = create_app({"DATABASE_URL": url, "LEDGER_SIGNING_KEY": key_file, "RATE_LIMIT": "1000000/minute",
                      "RATE_LIMIT_BATCH": "100000/minute"})
    with app.app_context(), app.extensions["db_sessions"]() as session, session.begin():
        key = create_key(session, "ops-profile", "reporter")
    return app, {"Authorization": f"Bearer {key}"}


class StatementCounter:
    """Statements SQLAlchemy sends, and transactions it commits (each a round trip at least)."""

    def __init__(self, engine):
        self.statements = self.commits = 0
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, *_args):
        self.statements += 1

    def _commit(self, *_args):
        self.commits += 1


def geography_cost(reports: list[dict], repeats: int = 5) -> tuple[float, float]:
    """CPU µs a report of geography alone (no database): one at a time, and the same reports as one batch
    (best of repeats: the machine is shared)."""
    def best(judge) -> float:
        runs = []
        for _ in range(repeats):
            cpu = time.process_time()
            judge()
            runs.append((time.process_time() - cpu) / len(reports) * 1e6)
        return min(runs)
    return (best(lambda: [geo.geography_of(r) for r in reports]), best(lambda: geo.geography_of_many(reports)))


def run(server_url: str, singles: int, batches: int, profile: bool) -> None:
    name = f"{databases.PREFIX}profile_{uuid.uuid4().hex[:8]}"
    with databases._admin(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = databases.database_url(server_url, name)
    try:
        databases._migrate(url)
        app, headers = _app(url, f"/tmp/{name}.key")
        client, templates = app.test_client(), events.plan_templates(400)
        counter = StatementCounter(app.extensions["db_engine"])
        warm = events.fresh_reports(200, templates, "warm")
        for body in warm:
            assert client.post("/v1/events", json=body, headers=headers).status_code == 201
        reports = events.fresh_reports(singles, templates, "single")
        counter.statements = counter.commits = 0
        profiler = cProfile.Profile() if profile else None
        cpu, wall = time.process_time(), time.perf_counter()
        if profiler:
            profiler.enable()
        for body in reports:
            assert client.post("/v1/events", json=body, headers=headers).status_code == 201
        if profiler:
            profiler.disable()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        print(f"single POST /v1/events: {cpu / singles * 1e3:.2f} ms CPU, {wall / singles * 1e3:.2f} ms wall a report "
              f"(this process; the database's CPU not included); {counter.statements / singles:.1f} statements "
              f"and {counter.commits / singles:.1f} commits a report through SQLAlchemy")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats(40)
        rates = []
        for n in range(batches):
            body = {"events": events.fresh_reports(1000, templates, f"batch-{n}")}
            cpu = time.process_time()
            response = client.post("/v1/events/batch", json=body, headers=headers)
            assert response.status_code == 200, response.data[:300]
            rates.append((time.process_time() - cpu) / 1000 * 1e6)
        if rates:
            print(f"batch of 1000: {statistics.median(rates):.0f} µs CPU an item (median of {batches})")
        alone, together = geography_cost(events.fresh_reports(1000, templates, "geography"))
        print(f"geography of 1000 reports: {alone:.1f} µs CPU a report one at a time, {together:.1f} µs in one batch")
        app.extensions["db_engine"].dispose()
    finally:
        databases.drop(server_url, name)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--singles", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=3)
    parser.add_argument("--cprofile", action="store_true", help="print a cProfile of the single reports")
    args = parser.parse_args()
    run(os.environ.get("BENCH_DATABASE_URL") or "postgresql://postgres@127.0.0.1:5432/", args.singles,
        args.batches, args.cprofile)


if __name__ == "__main__":
    main()
