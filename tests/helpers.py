"""Builders and database counters shared by the HTTP tests."""
import copy

from sqlalchemy import create_engine, func, select, text

from service.db import normalize_url
from service.db.guards import append_only_sql
from service.events.tables import Event, EventHead, EventRule
from service.ledger.tables import LedgerEntry

BASE_EVENT = {
    "source_event_id": "ops-2024-000123",
    "occurred_at": "2024-06-02T03:14:00Z",
    "weapon": {"munition": "M31A1-GMLRS", "launcher": "M142-HIMARS", "us_provided": True},
    "launch": {"lat": 49.95, "lon": 36.30},
    "target": {"lat": 50.45, "lon": 36.90, "category": "force_concentration",
               "linked_to_invasion": True, "country": "RU", "description": "armour assembly area"},
    "notes": "free text",
    "evidence": [{"kind": "imagery", "uri": "s3://bucket/img-1.tif", "sha256": "ab" * 32}],
}


def make_event(source_event_id: str = "ops-2024-000123", **changes) -> dict:
    """BASE_EVENT with dotted-path changes, e.g. make_event(**{"target.lat": 50.0}); None deletes."""
    event = copy.deepcopy(BASE_EVENT)
    event["source_event_id"] = source_event_id
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        node = event
        for key in parents:
            node = node[key]
        if value is None:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return event


def row_counts(app) -> dict:
    with app.extensions["db_sessions"]() as session:
        return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
                for model in (Event, EventHead, EventRule, LedgerEntry)}


def submit_all(client, keys, events: dict) -> dict:
    """POST {source_id: (reporter key name, make_event changes)}; returns {source_id: event id}."""
    ids = {}
    for source_id, (reporter, changes) in events.items():
        body = client.post("/v1/events", json=make_event(source_id, **changes), headers=keys[reporter])
        assert body.status_code == 201, body.get_json()
        ids[source_id] = body.get_json()["id"]
    return ids


def tamper(app_or_url, table: str, sql: str, params: dict, foreign_keys: bool = False) -> None:
    """Change data the way only a database superuser could: around the append-only triggers (the heads,
    a read model rewritten as versions and reviews arrive, have none). `app_or_url`: an app or its
    database URL."""
    database_url = app_or_url if isinstance(app_or_url, str) else app_or_url.config["DATABASE_URL"]
    engine = create_engine(normalize_url(database_url))  # plain engine: SQLite foreign keys off, no BEGIN IMMEDIATE
    with engine.begin() as conn:
        if table == "event_heads" and not foreign_keys:
            conn.execute(text(sql), params)
        elif engine.dialect.name == "postgresql":
            which = "ALL" if foreign_keys else "USER"  # ALL also skips foreign-key checks (superuser only)
            conn.exec_driver_sql(f"ALTER TABLE {table} DISABLE TRIGGER {which}")
            conn.execute(text(sql), params)
            conn.exec_driver_sql(f"ALTER TABLE {table} ENABLE TRIGGER {which}")
        else:
            for verb in ("update", "delete"):
                conn.exec_driver_sql(f"DROP TRIGGER {table}_no_{verb}")
            conn.execute(text(sql), params)
            for statement in append_only_sql("sqlite", table):
                conn.exec_driver_sql(statement)
    engine.dispose()
