"""Engines and sessions for SQLite (the embedded default) and PostgreSQL (production)."""
import orjson
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine, make_url
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
    return create_engine(
        url,
        json_deserializer=orjson.loads,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        pool_timeout=timeout_seconds,
        connect_args={
            "connect_timeout": max(1, int(timeout_seconds)),
            "options": f"-c statement_timeout={int(timeout_seconds * 1000)}",
        },
    )


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


def make_session_factory(engine: Engine) -> sessionmaker:
    return sessionmaker(engine, expire_on_commit=False)
