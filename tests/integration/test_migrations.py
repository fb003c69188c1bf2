"""Alembic builds the schema from empty with no drift; the database refuses to rewrite history."""
import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.ledger import sequencer

from ..dbs import alembic_config
from ..helpers import make_event

# table -> a column to try to overwrite
APPEND_ONLY = {"ledger_entries": "entry_type", "events": "reporter",
               "policy_versions": "published_by", "ledger_leaves": "entry_id", "tree_nodes": "hash",
               "checkpoints": "note", "reviews": "status", "event_rules": "rule_id", "munitions": "family"}


@pytest.fixture
def empty_database(db_factory):
    url = db_factory.create(empty=True)
    yield url
    db_factory.drop(url)


def test_upgrade_from_empty_then_no_drift_then_downgrade(empty_database):
    config = alembic_config(empty_database)
    command.upgrade(config, "head")
    command.check(config)  # raises if the models and the migrations disagree
    command.downgrade(config, "base")
    command.upgrade(config, "head")


@pytest.mark.parametrize("table", APPEND_ONLY)
def test_append_only_triggers_refuse_update_and_delete(client, keys, app, table):
    event = client.post("/v1/events", json=make_event(**{"target.category": "dual_use"}), headers=keys.reporter)
    client.post(f"/v1/events/{event.get_json()['id']}/reviews", json={"status": "acknowledged", "comment": "ok"},
                headers=keys.auditor)
    sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"])
    engine = app.extensions["db_engine"]
    for statement in (f"UPDATE {table} SET {APPEND_ONLY[table]} = NULL", f"DELETE FROM {table}"):
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(statement))
    if engine.dialect.name == "postgresql":
        with pytest.raises(DBAPIError, match="append-only"):
            with engine.begin() as conn:
                conn.execute(text(f"TRUNCATE {table} CASCADE"))
    with engine.connect() as conn:
        assert conn.execute(text(f"SELECT count(*) FROM {table}")).scalar() > 0
