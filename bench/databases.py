"""The bench's own PostgreSQL databases: a loaded template kept between runs, and a clone per run.

Every database the bench creates or drops is named `bench_*`; no other database is touched.
The template is named after a hash of what decides its contents (the loader, the migrations, the
policy data, the event count), so a change to any of them builds a new one and the old is dropped.
It is built under a temporary name and renamed only once complete, so an interrupted build is
never mistaken for a template.
"""
import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg
from sqlalchemy.engine import make_url

from service.db import normalize_url
from service.ledger import sequencer

from . import load

REPO = Path(__file__).resolve().parent.parent
PREFIX = "bench_"
ORIGIN = "bench.strike-audit.local/ledger"
KEYS = REPO / "var" / "bench"
# What the template's rows depend on.
FINGERPRINTED = ["bench/load.py", "bench/events.py", "bench/integrate.py", "demo",
                 "service/core/ledger/canonical.py", "service/core/rules", "service/policies"]


def database_url(server_url: str, name: str) -> str:
    return make_url(normalize_url(server_url)).set(database=name).render_as_string(hide_password=False)


def _admin(server_url: str) -> psycopg.Connection:
    plain = make_url(normalize_url(server_url)).set(drivername="postgresql", database="postgres")
    return psycopg.connect(plain.render_as_string(hide_password=False), autocommit=True)


def _bench_databases(server_url: str) -> list[str]:
    with _admin(server_url) as conn:
        return [name for (name,) in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'bench\\_%'")]


def drop(server_url: str, name: str) -> None:
    if not name.startswith(PREFIX):
        raise ValueError(f"the bench only drops its own databases, not {name!r}")
    with _admin(server_url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def template_name(events: int) -> str:
    digest = hashlib.sha256(f"events={events}\n".encode())
    paths = FINGERPRINTED + ["migrations/versions"]
    for path in sorted(p for entry in paths for p in ([REPO / entry] if (REPO / entry).is_file()
                                                      else sorted((REPO / entry).rglob("*.*")))):
        if path.suffix in (".py", ".json"):
            digest.update(path.relative_to(REPO).as_posix().encode() + b"\0" + path.read_bytes())
    return f"{PREFIX}tpl_{digest.hexdigest()[:12]}"


def key_path(template: str) -> Path:
    """The checkpoints in a template are signed with this key; runs on its clones sign with it too."""
    return KEYS / f"{template}.key"


def _migrate(url: str) -> None:
    """`make migrate`'s two commands: the schema, then the bundled policies and munition catalog."""
    env = {**os.environ, "DATABASE_URL": url}
    bin_dir = Path(sys.executable).parent
    for command in ([str(bin_dir / "alembic"), "upgrade", "head"],
                    [str(bin_dir / "flask"), "--app", "service", "policies", "load"]):
        done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


def ensure_template(server_url: str, events: int, echo=print) -> tuple[str, float]:
    """The loaded template's name, building it if needed; and how long building took (0 if reused)."""
    name = template_name(events)
    present = _bench_databases(server_url)
    for stale in [d for d in present if d.startswith(f"{PREFIX}tpl_") and d != name] + \
            [d for d in present if d.startswith(f"{PREFIX}building_")]:
        echo(f"dropping stale database {stale}")
        drop(server_url, stale)
    if name in present and key_path(name).exists():
        echo(f"reusing template {name} ({events} events)")
        return name, 0.0
    drop(server_url, name)
    started = time.perf_counter()
    building = f"{PREFIX}building_{name.removeprefix(PREFIX + 'tpl_')}"
    echo(f"building template {name} with {events} events (once; later runs reuse it)")
    with _admin(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{building}"')
    try:
        url = database_url(server_url, building)
        _migrate(url)
        key_path(name).parent.mkdir(parents=True, exist_ok=True)
        key_path(name).unlink(missing_ok=True)
        load.load(url, events, sequencer.Signer(ORIGIN, key_path=str(key_path(name))), echo=echo)
        with psycopg.connect(load.plain_url(url), autocommit=True) as conn:
            # A settled database, as a long-running service's would be after autovacuum.
            conn.execute("VACUUM (ANALYZE)")
        with _admin(server_url) as conn:
            conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    except BaseException:
        drop(server_url, building)
        raise
    elapsed = time.perf_counter() - started
    echo(f"template {name} built in {elapsed:.0f} s")
    return name, elapsed


def clone(server_url: str, template: str, name: str) -> str:
    """A run's own copy. FILE_COPY copies the files instead of WAL-logging every page: seconds, not minutes."""
    drop(server_url, name)
    with _admin(server_url) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY')
    return database_url(server_url, name)


def query(url: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(load.plain_url(url), autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()
