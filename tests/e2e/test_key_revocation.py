"""Workers remember who a key is for a moment (no lookup per request); a revoked or rotated key still stops
working on every worker within a second of the command that changed it."""
import time

import pytest
import requests

from .conftest import flask_cli, free_port, start_gunicorn, stop

WORKERS = 4
ROUNDS = 40  # requests on fresh connections: each worker answers several of them


def statuses(base: str, key: str) -> set[int]:
    found = set()
    for _ in range(ROUNDS):
        with requests.Session() as http:  # a new connection each time, so every worker is asked
            found.add(http.get(f"{base}/v1/catalog/categories", headers={"Authorization": f"Bearer {key}"},
                               timeout=10).status_code)
    return found


@pytest.fixture
def server(database_url, signing_key_path):
    process, base = start_gunicorn(database_url, free_port(), workers=WORKERS,
                                   extra_env={"LEDGER_SIGNING_KEY": signing_key_path})
    yield base
    stop(process)


def _created(database_url: str, name: str) -> str:
    done = flask_cli(database_url, "keys", "create", "--name", name, "--role", "reporter")
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("change", ["revoke", "rotate"])
def test_a_changed_key_stops_working_within_a_second_on_every_worker(server, database_url, change):
    key = _created(database_url, f"ops-{change}")
    assert statuses(server, key) == {200}  # every worker now remembers the key as valid
    done = flask_cli(database_url, "keys", change, f"ops-{change}")
    assert done.returncode == 0, done.stderr
    changed_at = time.monotonic()
    time.sleep(max(0.0, changed_at + 1.0 - time.monotonic()))  # the promise: one second, no more
    assert statuses(server, key) == {401}
    if change == "rotate":
        assert statuses(server, done.stdout.strip().splitlines()[-1]) == {200}
