"""Fresh, migrated databases for tests: SQLite files and PostgreSQL databases cloned from a template."""
import os
import shutil
import uuid
from pathlib import Path

import psycopg
from alembic import command
from alembic.config import Config
from sqlalchemy.engine import make_url

from service.db import make_engine, make_session_factory, normalize_url
from service.policies.store import load_bundled

REPO = Path(__file__).resolve().parent.parent


def alembic_config(url: str) -> Config:
    config = Config(str(REPO / "alembic.ini"))
    config.attributes["database_url"] = url
    config.attributes["configure_logger"] = False
    return config


def migrate_and_seed(url: str) -> None:
    command.upgrade(alembic_config(url), "head")
    engine = make_engine(url)
    with make_session_factory(engine)() as session, session.begin():
        load_bundled(session)
    engine.dispose()


def postgres_admin_url() -> str | None:
    return os.environ.get("TEST_DATABASE_URL") or None


def _pg_admin(url: str):
    plain = make_url(normalize_url(url)).set(drivername="postgresql")
    return psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True)


def pg_database_url(admin_url: str, name: str) -> str:
    return make_url(normalize_url(admin_url)).set(database=name).render_as_string(hide_password=False)


class PostgresFactory:
    """One migrated template per test session; each test gets `CREATE DATABASE ... TEMPLATE` (fast)."""

    def __init__(self, admin_url: str):
        self.admin_url = admin_url
        self.template = f"audit_tpl_{uuid.uuid4().hex[:10]}"
        with _pg_admin(admin_url) as conn:
            conn.execute(f'CREATE DATABASE "{self.template}"')
        migrate_and_seed(pg_database_url(admin_url, self.template))

    def create(self, empty: bool = False) -> str:
        name = f"audit_t_{uuid.uuid4().hex[:12]}"
        template = "template0" if empty else self.template
        with _pg_admin(self.admin_url) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return pg_database_url(self.admin_url, name)

    def drop(self, url: str) -> None:
        name = make_url(url).database
        with _pg_admin(self.admin_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    def close(self) -> None:
        with _pg_admin(self.admin_url) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.template}" WITH (FORCE)')


class SqliteFactory:
    def __init__(self, folder: Path):
        self.folder = folder
        self.template = folder / "template.db"
        migrate_and_seed(f"sqlite:///{self.template}")

    def create(self, empty: bool = False) -> str:
        path = self.folder / f"{uuid.uuid4().hex[:12]}.db"
        if not empty:
            shutil.copy(self.template, path)
        return f"sqlite:///{path}"

    def drop(self, url: str) -> None:
        path = Path(make_url(url).database)
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)

    def close(self) -> None:
        self.drop(f"sqlite:///{self.template}")
