"""Bulk loader: synthetic reports stored exactly as `POST /v1/events` stores them, a million in minutes.

For each report it writes what service.events.intake writes for a new event, with the same values: the
`event_received` and `evaluation` ledger entries (RFC 8785 bytes and leaf hashes), the version row, and
the index rows of service.events.index (event_heads, event_rules). Verdicts
come from the real rules engine under the policy version stored in the database; geography is
computed once per template (bench.events). The rows go in with PostgreSQL COPY from several
processes, chunk by chunk, each chunk's ids fixed in advance. Then the sequencer's steps
(bench.integrate: the same Merkle and signing code, with COPY for the leaves and tree nodes)
integrate every entry into the Merkle tree, in entry order, and sign checkpoints with the given key.
With --real-sequencer the entries are queued in ledger_pending and service.ledger.sequencer itself
integrates them (several times slower). The times are those of a service that received each report
shortly after the strike: `received_at`, `recorded_at` and `created_at` are the receipt time.

    python -m bench.load --url postgresql://postgres@127.0.0.1:5432/DB --events 300 --key var/bench/test.key

The database must be migrated with the bundled policies loaded (`make migrate`'s commands);
bench.databases builds one and keeps it for later runs.
"""
import argparse
import multiprocessing
import random
import time
import uuid
from dataclasses import dataclass

import psycopg
from sqlalchemy import select, text

from service.core.ledger.canonical import canonical_bytes, leaf_hash
from service.core.rules.engine import evaluate, policy_in_force
from service.core.time import format_utc
from service.db import make_engine, make_session_factory, normalize_url
from service.events.index import highest_severity
from service.ledger import sequencer
from service.policies.store import munition_catalog, stored_policies
from service.policies.tables import Munition

from . import events, integrate

CHUNK = 5000  # reports per COPY transaction
SEQUENCER_BATCH = 50_000  # entries per checkpoint; the sequencer's IN (...) list must stay below 65535
# Column order of each COPY; the values are those service.events.writer and service.events.index write.
COLUMNS = {
    "ledger_entries": ("id", "entry_type", "canonical", "leaf_hash", "created_at"),
    "ledger_pending": ("entry_id",),
    "events": ("id", "head_id", "reporter", "source_event_id", "version", "supersedes", "occurred_at",
               "received_at", "ledger_entry_id", "evaluation_entry_id"),
    "event_rules": ("event_id", "rule_id", "head_id", "occurred_at"),
    "event_heads": ("id", "event_id", "reporter", "source_event_id", "version", "occurred_at", "received_at",
                    "verdict", "severity", "munition", "family", "category", "target_country", "policy_version",
                    "review_status", "review_id", "target_lat", "target_lon", "ledger_entry_id", "evaluation_entry_id"),
}


@dataclass(frozen=True)
class Plan:
    """Everything a loading process needs; inherited by fork, never pickled."""
    schedule: events.Schedule
    templates: list
    policies: list
    munitions: dict
    families: dict
    first_entry_id: int  # ledger entry id of report 0's event_received entry
    seed: int
    queue: bool  # also queue the entries in ledger_pending, for the real sequencer


def ledger_entry(entry_id: int, entry_type: str, body: dict, now) -> tuple:
    """service.ledger.entries.append_entry's row: the document, its canonical bytes and leaf hash."""
    data = canonical_bytes({"entry_type": entry_type, "recorded_at": format_utc(now), **body})
    return (entry_id, entry_type, data, leaf_hash(data), now)


def report_rows(plan: Plan, n: int, rng: random.Random) -> dict[str, list[tuple]]:
    """The rows of report n, table by table, as service.events.writer.store_versions writes them."""
    s = plan.schedule
    template = plan.templates[s.template[n]]
    reporter = events.REPORTERS[s.reporter[n]]
    occurred, now = events.utc(s.occurred[n]), events.utc_us(s.received[n])
    source_event_id = f"bulk-{n:07d}"
    payload = events.report(template, source_event_id, occurred, rng)
    evaluation = evaluate(payload, policy_in_force(plan.policies, occurred), plan.munitions, template.geography)
    event_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    received_id, judged_id = plan.first_entry_id + 2 * n, plan.first_entry_id + 2 * n + 1
    munition, target = payload["weapon"]["munition"], payload["target"]
    return {
        "ledger_entries": [
            ledger_entry(received_id, "event_received", {
                "event_id": event_id, "reporter": reporter, "submitted_by": reporter,
                "source_event_id": source_event_id, "version": 1, "supersedes": None,
                "received_at": format_utc(now), "payload": payload}, now),
            ledger_entry(judged_id, "evaluation", {"event_id": event_id, **evaluation.to_dict()}, now),
        ],
        "ledger_pending": [(received_id,), (judged_id,)] if plan.queue else [],
        "events": [(event_id, event_id, reporter, source_event_id, 1, None, occurred, now, received_id, judged_id)],
        "event_rules": [(event_id, rule, event_id, occurred) for rule in sorted({f.rule_id for f in evaluation.findings})],
        "event_heads": [(event_id, event_id, reporter, source_event_id, 1, occurred, now, evaluation.verdict,
                         highest_severity(evaluation), munition, plan.families.get(munition), target["category"],
                         evaluation.computed["country"], evaluation.policy_id, "open", None, target["lat"],
                         target["lon"], received_id, judged_id)],
    }


def _column_types(conn: psycopg.Connection) -> dict[str, list[int]]:
    """Type OIDs of each COPY's columns, for binary COPY (bytea and jsonb travel without text escaping)."""
    types = {}
    for table, columns in COLUMNS.items():
        oids = dict(conn.execute("SELECT attname, atttypid::int FROM pg_attribute WHERE attrelid = %s::regclass "
                                 "AND attnum > 0 AND NOT attisdropped", (table,)).fetchall())
        types[table] = [oids[column] for column in columns]
    return types


def _copy_chunk(conn: psycopg.Connection, types: dict, plan: Plan, start: int) -> None:
    rng = random.Random(f"{plan.seed}-{start}")  # chunks are fixed: the same data whatever the processes
    tables = {name: [] for name in COLUMNS}
    for n in range(start, min(start + CHUNK, len(plan.schedule))):
        for name, rows in report_rows(plan, n, rng).items():
            tables[name].extend(rows)
    with conn.transaction(), conn.cursor() as cursor:
        for name, rows in tables.items():  # in foreign-key order
            if not rows:
                continue
            with cursor.copy(f"COPY {name} ({', '.join(COLUMNS[name])}) FROM STDIN (FORMAT BINARY)") as copy:
                copy.set_types(types[name])  # jsonb values are dicts and lists, dumped with json.dumps
                for row in rows:
                    copy.write_row(row)


def _load_chunks(url: str, plan: Plan, starts: range) -> None:
    with psycopg.connect(url) as conn:
        # A lost bulk load is simply redone: no need to wait for each chunk's WAL flush. The rows
        # reference each other correctly by construction (the integration test and `ledger verify`
        # check them), so the per-row foreign-key triggers are skipped, as pg_restore does.
        conn.execute("SET synchronous_commit = off")
        conn.execute("SET session_replication_role = replica")
        types = _column_types(conn)
        conn.commit()
        for start in starts:
            _copy_chunk(conn, types, plan, start)


def plain_url(url: str) -> str:
    return normalize_url(url).replace("postgresql+psycopg://", "postgresql://", 1)


def _plan(sessions, count: int, seed: int, templates: list, queue: bool) -> Plan:
    with sessions() as session:
        first_entry = session.scalar(text("SELECT coalesce(max(id), 0) + 1 FROM ledger_entries"))
        families = dict(session.execute(select(Munition.code, Munition.family)).all())
        return Plan(events.schedule(count, templates, seed), templates, stored_policies(session),
                    munition_catalog(session), families, first_entry, seed, queue)


def _copy_all(url: str, plan: Plan, processes: int) -> None:
    """Chunks dealt round-robin to the processes, so they commit roughly in ledger order."""
    starts = range(0, len(plan.schedule), CHUNK)
    if processes == 1:
        _load_chunks(url, plan, starts)
        return
    context = multiprocessing.get_context("fork")
    workers = [context.Process(target=_load_chunks, args=(url, plan, starts[p::processes]))
               for p in range(processes)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    failed = [w.exitcode for w in workers if w.exitcode]
    if failed:
        raise RuntimeError(f"a loading process failed (exit codes {failed})")


def _advance_sequences(sessions) -> None:
    """The rows carry explicit ids: move the sequences past them, as inserts by the API would have."""
    with sessions() as session, session.begin():
        for table in ("ledger_entries",):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                 f"(SELECT max(id) FROM {table}))"))


def load(url: str, count: int, signer: sequencer.Signer, processes: int = 2, seed: int = events.SEED,
         templates: list | None = None, real_sequencer: bool = False, echo=print) -> None:
    """Append `count` reports to a migrated PostgreSQL database and integrate them (after whatever was pending)."""
    engine = make_engine(url, timeout_seconds=3600)
    try:
        sessions = make_session_factory(engine)
        started = time.perf_counter()
        sequencer.integrate_all(sessions, signer)  # what was there before (the policy versions' entries)
        templates = templates if templates is not None else events.plan_templates(seed=seed)
        plan = _plan(sessions, count, seed, templates, queue=real_sequencer)
        echo(f"planned {len(templates)} templates and {count} reports in {time.perf_counter() - started:.1f} s")
        _copy_all(plain_url(url), plan, processes)
        _advance_sequences(sessions)
        echo(f"copied {count} reports in {time.perf_counter() - started:.1f} s")
        if real_sequencer:
            integrated = sequencer.integrate_all(sessions, signer, batch_size=SEQUENCER_BATCH)
        else:
            integrated = integrate.integrate_range(sessions, signer, plan.first_entry_id,
                                                   plan.first_entry_id + 2 * count)
        echo(f"integrated {integrated} entries in {time.perf_counter() - started:.1f} s")
    finally:
        engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a migrated PostgreSQL database with the bundled policies")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--key", required=True, help="Ed25519 key file for checkpoints (created if absent)")
    parser.add_argument("--origin", default="bench.strike-audit.local/ledger", help="checkpoint origin (LEDGER_ORIGIN)")
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--seed", type=int, default=events.SEED)
    parser.add_argument("--real-sequencer", action="store_true",
                        help="queue the entries and let service.ledger.sequencer integrate them (slower)")
    args = parser.parse_args()
    load(args.url, args.events, sequencer.Signer(args.origin, key_path=args.key), args.processes, args.seed,
         real_sequencer=args.real_sequencer)


if __name__ == "__main__":
    main()
