"""The hot path's driver transactions fail as SQLAlchemy's sessions do, so the one error mapping answers."""
import socket

import pytest
from sqlalchemy import create_engine
from sqlalchemy.exc import OperationalError

from service.db.driver import DriverConnection


def test_a_database_that_refuses_connections_is_sqlalchemys_operational_error():
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    engine = create_engine(f"postgresql+psycopg://postgres@127.0.0.1:{port}/absent")
    # The connect itself fails: the driver's own error until wrapped, which the app answered with a 500, not a 503.
    with pytest.raises(OperationalError, match="refused"):
        with DriverConnection(engine):
            pass


def test_a_block_with_settings_ends_them_and_keeps_the_connections_prepared_statements(app):
    engine = app.extensions["db_engine"]
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite has no prepared statements or settings to keep apart")
    with DriverConnection(engine) as db:  # the pool gives the same connection out each time (LIFO)
        db.query("SELECT 1 + %s::integer", [1], hot=True)
        before = db.query("SELECT count(*) FROM pg_prepared_statements")[0][0]
    with DriverConnection(engine, write=False, settings={"max_parallel_workers_per_gather": "0"}) as db:
        assert db.query("SHOW max_parallel_workers_per_gather") == [("0",)]
        db.query("SELECT 2 + %s::integer", [2], hot=True)
    with DriverConnection(engine) as db:
        assert db.query("SHOW max_parallel_workers_per_gather") != [("0",)]
        # psycopg's rollback would have deallocated them all: the intake's hot statement among them
        assert db.query("SELECT count(*) FROM pg_prepared_statements")[0][0] == before + 1
