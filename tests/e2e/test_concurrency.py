"""Many reporting systems and an auditor at once, against gunicorn with several workers, on PostgreSQL."""
import pytest

from ..conftest import BACKENDS
from .outcomes import assert_ledger_sound, assert_stored_as_acknowledged
from .traffic import Traffic

# SQLite takes one writer at a time by design; PostgreSQL is where concurrent writers really race.
pytestmark = pytest.mark.parametrize("db_factory", [BACKENDS[1]], indirect=True)
CLIENTS = ["ops-a", "ops-b"] * 4  # eight clients, four per reporter, racing for the same source_event_ids
ROUNDS = 6


def test_concurrent_clients_get_the_spec_answers_and_one_consistent_ledger(
        deployment, app, keys, database_url, signing_key_path):
    deployment.start()
    traffic = Traffic(deployment.base, {name: keys[name] for name in ("ops-a", "ops-b", "auditor-1")},
                      batch_sizes=(10, 30, 100))
    with traffic.running(CLIENTS, auditors=["auditor-1"], rounds=ROUNDS):
        pass  # the clients run their rounds; the auditor reads until they are done

    assert not traffic.unexpected, traffic.unexpected[:10]
    answered = {(kind, status) for (kind, status), _ in traffic.answers.items()}
    assert {("new", 201), ("replay", 200), ("conflict", 409), ("shared", 200), ("contested", 409),
            ("batch", 200)} <= answered
    entries = assert_stored_as_acknowledged(app.extensions["db_sessions"], traffic)
    # Nothing failed, so every stored report was answered "created" exactly once.
    assert set(traffic.created.values()) == {1} and len(traffic.created) == len(traffic.acknowledged)
    assert traffic.reads > 0 and entries["access"] == traffic.reads  # every auditor read left one access entry
    assert len(assert_ledger_sound(app, database_url, signing_key_path)) > 1
    print(f"{len(traffic.acknowledged)} reports acknowledged, {sum(traffic.answers.values())} requests, "
          f"{traffic.reads} auditor reads, {sum(entries.values())} ledger entries")
