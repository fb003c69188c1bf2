"""Fixtures: every database-backed test runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL."""
import os

import pytest

from service import create_app
from service.keys.store import create_key

from .dbs import PostgresFactory, SqliteFactory, postgres_admin_url

BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
# Limiting stays on, so every test goes through it, but no test but the rate limit tests comes near it.
GENEROUS_RATE_LIMITS = {"RATE_LIMIT": "100000/minute", "RATE_LIMIT_BATCH": "10000/minute"}


def pytest_configure(config):
    # .ci/run sets REQUIRE_POSTGRES so that a missing database fails the run instead of skipping.
    if os.environ.get("REQUIRE_POSTGRES") and not postgres_admin_url():
        raise pytest.UsageError("REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")


@pytest.fixture(scope="session")
def sqlite_factory(tmp_path_factory):
    factory = SqliteFactory(tmp_path_factory.mktemp("sqlite"))
    yield factory
    factory.close()


@pytest.fixture(scope="session")
def postgres_factory():
    admin_url = postgres_admin_url()
    if not admin_url:
        pytest.skip("PostgreSQL tests need TEST_DATABASE_URL")
    factory = PostgresFactory(admin_url)
    yield factory
    factory.close()


@pytest.fixture(params=BACKENDS)
def db_factory(request):
    name = "sqlite_factory" if request.param == "sqlite" else "postgres_factory"
    return request.getfixturevalue(name)


@pytest.fixture
def database_url(db_factory):
    url = db_factory.create()
    yield url
    db_factory.drop(url)


@pytest.fixture(scope="session")
def signing_key_path(tmp_path_factory):
    return str(tmp_path_factory.mktemp("keys") / "ledger-signing.key")


@pytest.fixture(scope="session")
def console_secret_path(tmp_path_factory):
    return str(tmp_path_factory.mktemp("console") / "console-secret.key")


@pytest.fixture
def app(database_url, signing_key_path, console_secret_path):
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "LEDGER_SIGNING_KEY": signing_key_path,
                      "LEDGER_ORIGIN": "test.strike-audit.local/ledger", "CONSOLE_SECRET": console_secret_path,
                      **GENEROUS_RATE_LIMITS})
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Keys:
    """Bearer headers for one key of each role, plus a second reporter."""

    def __init__(self, app):
        self._headers = {}
        with app.app_context():
            sessions = app.extensions["db_sessions"]
            with sessions() as session, session.begin():
                for name, role in [("ops-a", "reporter"), ("ops-b", "reporter"),
                                   ("auditor-1", "auditor"), ("admin-1", "admin")]:
                    self._headers[name] = {"Authorization": f"Bearer {create_key(session, name, role)}"}

    def __getitem__(self, name):
        return self._headers[name]

    reporter = property(lambda self: self._headers["ops-a"])
    other_reporter = property(lambda self: self._headers["ops-b"])
    auditor = property(lambda self: self._headers["auditor-1"])
    admin = property(lambda self: self._headers["admin-1"])


@pytest.fixture
def keys(app):
    return Keys(app)
