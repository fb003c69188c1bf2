"""/readyz: ready only when the database answers and the sequencer keeps up (on both databases)."""
from datetime import timedelta

import pytest
from sqlalchemy.engine import make_url

from service import create_app
from service.core.time import utcnow
from service.ledger import sequencer
from service.ledger.entries import append_entry


def integrate(app) -> None:
    sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"])


def assert_not_ready(response, check: str):
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json" and response.headers["Retry-After"] == "5"
    assert check in response.get_json()["errors"], response.get_json()


def test_ready_only_while_the_sequencer_keeps_up(client, app):
    integrate(app)
    assert client.get("/readyz").get_json() == {"status": "ready", "database": "ok", "sequencer_lag_seconds": 0}
    sessions = app.extensions["db_sessions"]
    with sessions() as session, session.begin():  # fresh: within the default 10 s
        append_entry(session, "access", {"who": "readiness-test"}, utcnow() - timedelta(seconds=2))
    assert client.get("/readyz").status_code == 200
    with sessions() as session, session.begin():  # as if the sequencer had stopped 30 s ago
        append_entry(session, "access", {"who": "readiness-test"}, utcnow() - timedelta(seconds=30))
    response = client.get("/readyz")
    assert_not_ready(response, "sequencer")
    assert "30." in response.get_json()["detail"] and "10 s" in response.get_json()["detail"]
    integrate(app)  # the sequencer catches up: ready again
    assert client.get("/readyz").status_code == 200


def test_not_ready_before_the_sequencer_signed_its_first_checkpoint(client, app):
    response = client.get("/readyz")  # a migrated, seeded ledger that no sequencer has touched yet
    assert response.status_code == 503 and response.headers["Retry-After"] == "1"
    assert response.get_json()["errors"] == {"sequencer": ["no signed checkpoint yet"]}
    integrate(app)  # the sequencer's first run signs one, even over an empty ledger
    assert client.get("/readyz").status_code == 200


def test_the_lag_limit_is_configurable_and_0_switches_it_off(app, database_url, signing_key_path):
    integrate(app)  # the template's own entries are as old as the test session
    with app.extensions["db_sessions"]() as session, session.begin():
        append_entry(session, "access", {"who": "readiness-test"}, utcnow() - timedelta(seconds=30))
    for limit, status in ((60, 200), (20, 503), (0, 200)):
        other = create_app({"DATABASE_URL": database_url, "LEDGER_SIGNING_KEY": signing_key_path,
                            "READY_MAX_SEQUENCER_LAG_S": limit})
        assert other.test_client().get("/readyz").status_code == status, limit
        other.extensions["db_engine"].dispose()


@pytest.fixture
def unreachable_url(database_url):
    """The same server, a database that is not there (PostgreSQL) or cannot be opened (SQLite)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        return f"sqlite:///{url.database}.missing/dir/audit.db"
    return url.set(database=f"{url.database}_missing").render_as_string(hide_password=False)


def test_not_ready_when_the_database_is_unreachable(unreachable_url, signing_key_path):
    app = create_app({"DATABASE_URL": unreachable_url, "LEDGER_SIGNING_KEY": signing_key_path,
                      "READY_MAX_SEQUENCER_LAG_S": 0})
    assert_not_ready(app.test_client().get("/readyz"), "database")
    assert app.test_client().get("/healthz").status_code == 200  # alive, just not ready
    app.extensions["db_engine"].dispose()
