"""What one report and one proof cost PostgreSQL, counted on the wire: the design of the hot paths, guarded.

Not a timing: a count of the statements and round trips a single POST /v1/events (or proof) sends once the
worker is warm (rules and the key known), through a proxy that reads the protocol (tests/pg_wire.py).
"""
import pytest
from sqlalchemy.engine import make_url

from service import create_app
from service.keys.store import create_key
from service.ledger import sequencer

from ..conftest import GENEROUS_RATE_LIMITS
from ..helpers import make_event
from ..pg_wire import WireCounter

# One statement, its own transaction: the rules' generation gating data-modifying CTEs that insert the two
# entries, their queue, the version, the head and the rule rows (events.writer), committed when answered.
MAX_STATEMENTS = 1
MAX_ROUND_TRIPS = 1


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_factory(request):
    return request.getfixturevalue("postgres_factory")


@pytest.fixture
def counted(database_url, signing_key_path):
    url = make_url(database_url)
    counter = WireCounter((url.host or "127.0.0.1", url.port or 5432))
    proxied = url.set(host="127.0.0.1", port=counter.port, query={**url.query, "sslmode": "disable"})
    app = create_app({"TESTING": True, "DATABASE_URL": proxied.render_as_string(hide_password=False),
                      "LEDGER_SIGNING_KEY": signing_key_path, **GENEROUS_RATE_LIMITS})
    with app.app_context(), app.extensions["db_sessions"]() as session, session.begin():
        key = create_key(session, "ops-counted", "reporter")
    yield app, {"Authorization": f"Bearer {key}"}, counter
    app.extensions["db_engine"].dispose()
    counter.close()


def test_one_report_is_one_statement(counted):
    app, headers, counter = counted
    client = app.test_client()
    # A warm worker: the rule set read, the key known, connections open, the statement prepared (psycopg
    # prepares a statement on its fifth execution).
    for n in range(6):
        assert client.post("/v1/events", json=make_event(f"warm-{n}"), headers=headers).status_code == 201
    with counter.measuring() as sent:
        answer = client.post("/v1/events", json=make_event("counted"), headers=headers)
    assert answer.status_code == 201, answer.get_json()
    assert sent["round_trips"] <= MAX_ROUND_TRIPS, sorted(sent.items())
    assert sent["statements"] <= MAX_STATEMENTS, dict(sent)


def test_a_replayed_report_is_answered_from_what_is_stored(counted):
    """The rare path costs more, and still answers the original (the unique key refused the insert)."""
    app, headers, counter = counted
    client = app.test_client()
    first = client.post("/v1/events", json=make_event("twice"), headers=headers)
    with counter.measuring() as sent:
        again = client.post("/v1/events", json=make_event("twice"), headers=headers)
    assert (first.status_code, again.status_code) == (201, 200) and again.get_json() == first.get_json()
    assert sent["round_trips"] > MAX_ROUND_TRIPS


# An auditor's page: one SELECT reads the filtered heads with their entries (audit.pages), outside any
# transaction, and one statement appends the read's access entry with its queue row (audit.access). A
# session around the SELECT would add BEGIN and ROLLBACK, and the ROLLBACK would make psycopg forget
# (DEALLOCATE) the statements it had prepared: both would be parsed and planned again on every page.
MAX_PAGE_STATEMENTS = 2
MAX_PAGE_ROUND_TRIPS = 2


def test_a_list_page_is_one_select_and_its_access_entry(counted, database_url):
    app, headers, counter = counted
    client = app.test_client()
    for n in range(3):
        assert client.post("/v1/events", json=make_event(f"listed-{n}"), headers=headers).status_code == 201
    with app.app_context(), app.extensions["db_sessions"]() as session, session.begin():
        auditor = {"Authorization": f"Bearer {create_key(session, 'auditor-counted', 'auditor')}"}
    for _ in range(6):  # psycopg prepares a statement on its fifth execution on a connection
        assert client.get("/v1/events?limit=2", headers=auditor).status_code == 200
    with counter.measuring() as sent:
        page = client.get("/v1/events?limit=2", headers=auditor)
    assert page.status_code == 200 and len(page.get_json()["items"]) == 2, page.get_json()
    assert sent["statements"] <= MAX_PAGE_STATEMENTS, sorted(sent.items())
    assert sent["round_trips"] <= MAX_PAGE_ROUND_TRIPS and not sent.get("P"), sorted(sent.items())  # both prepared


def test_a_proof_is_one_statement(counted):
    """A proof for a given size reads its nodes, leaf hash included, in one statement: the signed size is
    remembered (checkpoints are never removed); the latest size costs one more, which reads it afresh."""
    app, headers, counter = counted
    client = app.test_client()
    for n in range(3):
        assert client.post("/v1/events", json=make_event(f"proved-{n}"), headers=headers).status_code == 201
    sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"])
    size = int(client.get("/v1/ledger/checkpoint").get_data(as_text=True).split("\n")[1])
    given = (f"/v1/ledger/proofs/inclusion?index=1&tree_size={size}",
             f"/v1/ledger/proofs/consistency?first=3&second={size}")
    latest = ("/v1/ledger/proofs/inclusion?index=1", "/v1/ledger/proofs/consistency?first=3")
    for path in given + latest:
        assert client.get(path).status_code == 200
    for paths, statements in ((given, 1), (latest, 2)):
        for path in paths:
            with counter.measuring() as sent:
                assert client.get(path).status_code == 200
            assert sent["statements"] <= statements and sent["round_trips"] <= statements, (path, dict(sent))
