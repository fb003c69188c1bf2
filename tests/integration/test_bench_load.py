"""The bench's bulk loader (bench/load.py) writes what POST /v1/events writes: a ledger that verifies,
rows of the same shape and values as the API's for the same report, consistent indexes, and events the
auditor's filters find."""
import json
from datetime import datetime, timezone

import pytest
import rfc8785
from sqlalchemy import select, text

from bench import events, load
from service.core.rules.model import Evaluation as Judged
from service.core.rules.model import Finding
from service.db import make_engine
from service.events.index import highest_severity
from service.events.tables import Event, EventHead, EventRule
from service.keys.store import create_key
from service.ledger.tables import Leaf, LedgerEntry, PendingEntry

COUNT = 300
# What legitimately differs between two submissions of the same report.
PER_SUBMISSION = {"id", "event_id", "head_id", "source_event_id", "received_at", "recorded_at", "occurred_at",
                  "ledger_entry_id", "evaluation_entry_id", "evaluated_at", "created_at", "canonical", "leaf_hash"}


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_factory(request):
    """The loader uses PostgreSQL COPY: PostgreSQL only."""
    return request.getfixturevalue("postgres_factory")


@pytest.fixture(scope="module")
def templates():
    return events.plan_templates(count=40)  # the demo's 20 coverage scenarios and 20 random reports


@pytest.fixture
def loaded(app, templates):
    load.load(app.config["DATABASE_URL"], COUNT, app.extensions["ledger_signer"], processes=2,
              templates=templates, echo=lambda _text: None)
    return app


def _rows(session, model, **where):
    return session.scalars(select(model).filter_by(**where)).all()


def _columns(row) -> dict:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns}


def _comparable(row) -> dict:
    """The row without what differs per submission; which columns are filled still counts."""
    return {k: (v is not None) if k in PER_SUBMISSION else v for k, v in _columns(row).items()}


def _document(session, entry_id: int) -> dict:
    entry = session.get(LedgerEntry, entry_id)
    document = json.loads(entry.canonical)
    assert entry.canonical == rfc8785.dumps(document)  # RFC 8785 bytes, whichever serializer wrote them
    return document


def _entry(session, entry_id: int) -> dict:
    return {k: v for k, v in _document(session, entry_id).items() if k not in PER_SUBMISSION}


def _api_key(app, name: str, role: str) -> dict:
    with app.extensions["db_sessions"]() as session, session.begin():
        return {"Authorization": f"Bearer {create_key(session, name, role)}"}


def test_the_loaded_ledger_verifies_and_is_all_integrated(loaded, runner):
    outcome = runner.invoke(args=["ledger", "verify"])
    assert outcome.exit_code == 0, outcome.output
    assert f"OK: {2 * COUNT + 4} entries" in outcome.output  # + the four bundled policy versions
    with loaded.extensions["db_sessions"]() as session:
        assert not _rows(session, PendingEntry)
        assert len(_rows(session, Leaf)) == 2 * COUNT + 4


def test_the_same_report_through_the_api_gives_the_same_rows(loaded, client):
    with loaded.extensions["db_sessions"]() as session:
        bulk = session.scalars(select(Event).order_by(Event.ledger_entry_id).offset(COUNT // 2).limit(1)).one()
        bulk_payload = _document(session, bulk.ledger_entry_id)["payload"]
    headers = _api_key(loaded, bulk.reporter, "reporter")
    response = client.post("/v1/events", json={**bulk_payload, "source_event_id": "api-twin"}, headers=headers)
    assert response.status_code == 201, response.get_json()
    with loaded.extensions["db_sessions"]() as session:
        api = session.get(Event, response.get_json()["id"])
        bulk = session.get(Event, bulk.id)
        assert _comparable(api) == _comparable(bulk)
        api_payload = _document(session, api.ledger_entry_id)["payload"]
        assert api_payload == {**bulk_payload, "source_event_id": "api-twin"}
        assert _entry(session, api.ledger_entry_id) == _entry(session, bulk.ledger_entry_id) | {
            "payload": api_payload}
        assert _entry(session, api.evaluation_entry_id) == _entry(session, bulk.evaluation_entry_id)
        assert _comparable(session.get(EventHead, api.id)) == _comparable(session.get(EventHead, bulk.id))
        assert ({r.rule_id for r in _rows(session, EventRule, event_id=api.id)}
                == {r.rule_id for r in _rows(session, EventRule, event_id=bulk.id)})


def test_heads_and_rules_follow_the_evaluations(loaded):
    with loaded.extensions["db_sessions"]() as session:
        loaded_events = _rows(session, Event)
        heads = {h.event_id: h for h in _rows(session, EventHead)}
        evaluations = {e.id: _document(session, e.evaluation_entry_id) for e in loaded_events}
        rules = {}
        for rule in _rows(session, EventRule):
            rules.setdefault(rule.event_id, set()).add(rule.rule_id)
    assert len(loaded_events) == len(heads) == len(evaluations) == COUNT
    seen_rules = set()
    for event in loaded_events:
        head, evaluation = heads[event.id], evaluations[event.id]
        judged = Judged(evaluation["verdict"], tuple(Finding(f["rule_id"], f["severity"], f["message"])
                                                     for f in evaluation["findings"]), None, None)
        assert (head.id, head.reporter, head.verdict, head.severity, head.occurred_at, head.target_country) == (
            event.id, event.reporter, evaluation["verdict"], highest_severity(judged), event.occurred_at,
            evaluation["computed"]["country"])
        assert rules.get(event.id, set()) == {f["rule_id"] for f in evaluation["findings"]}
        seen_rules |= rules.get(event.id, set())
    assert len(seen_rules) >= 10  # a realistic mix, not one template repeated


@pytest.mark.parametrize("query", ["verdict=violation", "rule_id=XB-OUTSIDE-ZONE", "reporter=ops-kharkiv",
                                   "bbox=35.5,49.8,38.3,51.4", "occurred_from=2024-06-01T00:00:00Z"])
def test_the_auditor_filters_find_the_loaded_events(loaded, client, query):
    headers = _api_key(loaded, "bench-auditor", "auditor")
    found = client.get(f"/v1/events?{query}&limit=500", headers=headers).get_json()["items"]
    name, value = query.split("=")
    with loaded.extensions["db_sessions"]() as session:
        heads = _rows(session, EventHead)
        rules = {(r.event_id, r.rule_id) for r in _rows(session, EventRule)}
    if name == "rule_id":
        expected = {h.id for h in heads if (h.event_id, value) in rules}
    elif name == "bbox":
        lon0, lat0, lon1, lat1 = map(float, value.split(","))
        expected = {h.id for h in heads if lon0 <= h.target_lon <= lon1 and lat0 <= h.target_lat <= lat1}
    elif name == "occurred_from":
        expected = {h.id for h in heads if h.occurred_at >= datetime(2024, 6, 1, tzinfo=timezone.utc)}
    else:
        expected = {h.id for h in heads if getattr(h, name) == value}
    assert expected and {item["id"] for item in found} == expected


def test_the_bulk_integration_builds_the_tree_the_real_sequencer_builds(loaded, postgres_factory, templates):
    """The same reports loaded again, queued and integrated by service.ledger.sequencer itself."""
    url = postgres_factory.create()
    try:
        load.load(url, COUNT, loaded.extensions["ledger_signer"], processes=1, templates=templates,
                  real_sequencer=True, echo=lambda _text: None)
        trees = [_tree(url), _tree(loaded.config["DATABASE_URL"])]
    finally:
        postgres_factory.drop(url)
    assert trees[0] == trees[1]
    assert len(trees[0]["leaves"]) == 2 * COUNT + 4


def _tree(url: str) -> dict:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return {"leaves": conn.execute(text("SELECT leaf_index, entry_id FROM ledger_leaves ORDER BY 1")).all(),
                    "nodes": set(conn.execute(text('SELECT level, "index", hash FROM tree_nodes')).all()),
                    "root": conn.execute(text("SELECT tree_size, root_hash FROM checkpoints "
                                              "ORDER BY tree_size DESC LIMIT 1")).one()}
    finally:
        engine.dispose()
