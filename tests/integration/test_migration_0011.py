"""Migration 0011 gives every rule row its version's occurred_at and head id, the keys of the rule index.

Events are stored by today's service (a correction among them), the two columns are taken away by the
downgrade and filled again by the upgrade: the rows come back as the service wrote them, and a rule's
pages list the same events, newest first, through their cursors.
"""
import sqlalchemy as sa
from alembic import command

from service.db import UTCDateTime

from ..dbs import alembic_config
from ..helpers import make_event

RULE = "CIV-TARGET"


def _rule_rows(app) -> set[tuple]:
    with app.app_context(), app.extensions["db_engine"].connect() as conn:
        return set(conn.execute(sa.text("SELECT event_id, rule_id, head_id, occurred_at FROM event_rules")
                                .columns(occurred_at=UTCDateTime())).all())


def _listed(client, keys) -> list[str]:
    shown, cursor = [], None
    while True:
        page = client.get(f"/v1/events?rule_id={RULE}&limit=2" + (f"&cursor={cursor}" if cursor else ""),
                          headers=keys.auditor).get_json()
        shown += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            return shown


def test_the_rule_rows_are_filled_from_their_versions(app, client, keys, database_url):
    ids = [client.post("/v1/events", json=make_event(f"m11-{n}", occurred_at=f"2024-06-{10 + n}T08:00:00Z",
                                                     **{"target.category": "residential"}),
                       headers=keys.reporter).get_json()["id"] for n in range(5)]
    corrected = client.post(f"/v1/events/{ids[1]}/corrections", headers=keys.reporter, json=make_event(
        "m11-1", occurred_at="2024-06-30T08:00:00Z", **{"target.category": "residential"}))
    assert corrected.status_code == 201
    written, listed = _rule_rows(app), _listed(client, keys)
    # Newest first: the correction (its own id) moved the event to the top, its first version's rows unlisted.
    assert listed == [corrected.json["id"], ids[4], ids[3], ids[2], ids[0]]
    assert {(row.head_id, row.occurred_at.isoformat()) for row in written if row.event_id == corrected.json["id"]} \
        == {(ids[1], "2024-06-30T08:00:00+00:00")}

    app.extensions["db_engine"].dispose()
    command.downgrade(alembic_config(database_url), "0010")
    with app.app_context(), app.extensions["db_engine"].connect() as conn:
        assert "head_id" not in {c["name"] for c in sa.inspect(conn).get_columns("event_rules")}
    command.upgrade(alembic_config(database_url), "head")
    app.extensions["db_engine"].dispose()

    assert _rule_rows(app) == written
    assert _listed(client, keys) == listed
