"""GET /metrics: requests by route template and status, events ingested by verdict, the ledger's backlog."""
from datetime import timedelta

from prometheus_client.parser import text_string_to_metric_families

from service import create_app
from service.core.time import utcnow
from service.ledger import sequencer
from service.ledger.entries import append_entry

from ..helpers import make_event


def scrape(client) -> dict:
    """{(sample name, sorted label items): value} of one scrape."""
    response = client.get("/metrics")
    assert response.status_code == 200 and response.mimetype == "text/plain"
    assert "version=0.0.4" in response.headers["Content-Type"]
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.get_data(as_text=True))
            for sample in family.samples}


def value(samples: dict, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def requests_of(samples, method, route, status):
    return value(samples, "audit_http_requests_total", method=method, route=route, status=str(status))


def ingested(samples, verdict, kind):
    return value(samples, "audit_events_ingested_total", verdict=verdict, kind=kind)


def test_requests_by_route_template_and_status_and_events_ingested_by_verdict(client, keys):
    event_id = client.post("/v1/events", json=make_event("m-1"), headers=keys.reporter).get_json()["id"]
    before = scrape(client)
    assert client.get(f"/v1/events/{event_id}", headers=keys.reporter).status_code == 200
    assert client.get("/v1/events/no-such-event", headers=keys.reporter).status_code == 404
    assert client.get(f"/v1/events/{event_id}").status_code == 401
    client.get("/v1/etc/passwd")
    client.open("/v1/policies", method="BREW")
    after = scrape(client)
    route = "/v1/events/<event_id>"
    for status in (200, 404, 401):
        assert requests_of(after, "GET", route, status) == requests_of(before, "GET", route, status) + 1, status
    assert requests_of(after, "GET", "<unmatched>", 404) == requests_of(before, "GET", "<unmatched>", 404) + 1
    assert requests_of(after, "other", "<unmatched>", 405) == requests_of(before, "other", "<unmatched>", 405) + 1
    count = "audit_http_request_duration_seconds_count"
    assert value(after, count, method="GET", route=route, status="200") == \
        value(before, count, method="GET", route=route, status="200") + 1
    assert not any(event_id in str(labels) for _, labels in after), "a raw path became a label value"

    before = scrape(client)
    created = client.post("/v1/events", json=make_event("m-2"), headers=keys.reporter).get_json()
    assert client.post("/v1/events", json=make_event("m-2"), headers=keys.reporter).status_code == 200  # a replay
    civilian = make_event("m-2", **{"target.category": "residential"})
    assert client.post(f"/v1/events/{created['id']}/corrections", json=civilian,
                       headers=keys.reporter).status_code == 201
    after = scrape(client)
    assert ingested(after, created["verdict"], "report") == ingested(before, created["verdict"], "report") + 1
    assert ingested(after, "violation", "correction") == ingested(before, "violation", "correction") + 1


def test_sequencer_lag_pending_entries_and_tree_size(client, keys, app):
    sessions, signer = app.extensions["db_sessions"], app.extensions["ledger_signer"]
    sequencer.integrate_all(sessions, signer)
    settled = scrape(client)
    assert value(settled, "audit_database_up") == 1
    assert value(settled, "audit_sequencer_lag_seconds") == 0 and value(settled, "audit_ledger_pending_entries") == 0
    size = value(settled, "audit_ledger_tree_size")
    assert size > 0  # the bundled policies' entries

    with sessions() as session, session.begin():  # an entry the sequencer has not seen for a minute
        append_entry(session, "access", {"who": "metrics-test"}, utcnow() - timedelta(seconds=60))
    client.post("/v1/events", json=make_event("m-3"), headers=keys.reporter)
    behind = scrape(client)
    assert value(behind, "audit_ledger_pending_entries") == 3
    assert 60 <= value(behind, "audit_sequencer_lag_seconds") < 120
    assert value(behind, "audit_ledger_tree_size") == size

    sequencer.integrate_all(sessions, signer)
    caught_up = scrape(client)
    assert value(caught_up, "audit_ledger_tree_size") == size + 3
    assert value(caught_up, "audit_sequencer_lag_seconds") == 0


def test_metrics_need_no_key_and_survive_a_database_outage(tmp_path):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/audit.db"})
    samples = scrape(app.test_client())
    assert value(samples, "audit_database_up") == 0
    assert ("audit_ledger_tree_size", ()) not in samples
