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
