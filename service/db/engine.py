"""Engines and sessions for SQLite (the embedded default) and PostgreSQL (production)."""
import time

import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import sessionmaker


def normalize_url(url: str) -> str:
    """Plain postgresql:// URLs use psycopg 3, the driver we pin."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def make_engine(url: str, pool_size: int = 5, timeout_seconds: float = 5.0) -> Engine:
    """JSON columns are read with orjson: several times faster than json, and equal for everything
    stored here (payloads are validated and canonicalized, so no integer beyond 2**53 is ever written)."""
    url = normalize_url(url)
    if make_url(url).get_backend_name() == "sqlite":
        return _sqlite_engine(url, timeout_seconds)
    engine = create_engine(
        url,
        json_deserializer=orjson.loads,
        json_serializer=_json_bytes,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_timeout=timeout_seconds,
        # The connection used last is given out first: it is warm (its statements prepared, never idle
        # long enough to need a ping), and the pool's spare connections stay spare.
        pool_use_lifo=True,
        connect_args={
            "connect_timeout": max(1, int(timeout_seconds)),
            "options": f"-c statement_timeout={int(timeout_seconds * 1000)}",
        },
    )
    _ping_when_idle(engine)
    return engine


def _json_bytes(value) -> bytes:
    """JSON parameters written by orjson, not json: a month's 29 MB report took 0.3 s of CPU to dump with json
    and 0.03 s with orjson; PostgreSQL reads either text as the same JSONB. Non-string keys become strings,
    as json writes them."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS)


# A connection back in the pool for longer than this is checked before it is given out again. One used
# a moment ago is not: pinging every checkout (pool_pre_ping) cost a round trip of a report's three.
PING_AFTER_IDLE_S = 1.0


def _ping_when_idle(engine: Engine) -> None:
    """Pessimistic disconnect handling for connections that sat idle (a database restart, a dropped
    connection): a failed ping makes the pool discard the connection and hand out a fresh one. A
    connection that breaks while busy fails its statement, which is answered 503 and retried."""

    @event.listens_for(engine, "checkin")
    def _returned(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _taken(dbapi_connection, record, _proxy):
        if time.monotonic() - record.info.get("idle_since", 0.0) <= PING_AFTER_IDLE_S:
            return
        try:
            dbapi_connection.execute("SELECT 1")
            dbapi_connection.rollback()
        except Exception as error:  # whatever the driver says, this connection is not to be used
            raise DisconnectionError(f"a pooled connection failed its ping: {error}") from error


def _sqlite_engine(url: str, timeout_seconds: float) -> Engine:
    engine = create_engine(url, json_deserializer=orjson.loads,
                           connect_args={"timeout": timeout_seconds, "check_same_thread": False})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        # Let SQLAlchemy, not pysqlite, decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets several gunicorn workers read while one writes; FULL sync keeps an
        # acknowledged event on disk even across a power cut.
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={int(timeout_seconds * 1000)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection):
        # IMMEDIATE takes the write lock up front, so concurrent writers wait on
        # busy_timeout instead of failing with "database is locked" mid-transaction.
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    return engine


def single_statement_reads(engine: Engine) -> Connection:
    """A connection for a request's one read statement, outside any transaction: no BEGIN and no ROLLBACK.

    Beyond the two round trips, the ROLLBACK that ends a read session makes psycopg forget every statement
    it had prepared on that connection (and DEALLOCATE them), so the hot ones (a list page, the access entry
    after it) were parsed and planned again on every request instead of once per connection.
    """
    return engine.connect().execution_options(isolation_level="AUTOCOMMIT")


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
