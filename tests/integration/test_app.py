"""Probes, the served OpenAPI document, request ids and JSON logs."""
import json
import logging
from pathlib import Path

import yaml

from service import create_app

REPO = Path(__file__).resolve().parents[2]


def test_healthz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}


def test_committed_openapi_matches_the_code(client):
    served = client.get("/openapi.yaml")
    assert served.status_code == 200
    committed = (REPO / "openapi.yaml").read_text()
    assert served.get_data(as_text=True) == committed, "run `make openapi` and commit openapi.yaml"
    spec = yaml.safe_load(committed)
    assert spec["openapi"].startswith("3.")
    for path in ["/v1/events", "/v1/events/batch", "/v1/events/{event_id}", "/v1/events/{event_id}/corrections",
                 "/v1/policies", "/v1/policies/{policy_id}", "/v1/catalog/munitions", "/v1/catalog/categories",
                 "/healthz", "/readyz"]:
        assert path in spec["paths"], path
    assert spec["paths"]["/v1/events"]["post"]["security"] == [{"bearerAuth": []}]


def test_request_id_is_echoed_and_logged_without_secrets(client, keys, caplog):
    caplog.set_level(logging.INFO, logger="service.access")
    response = client.get("/v1/policies", headers={**keys.reporter, "X-Request-ID": "trace-123"})
    assert response.headers["X-Request-ID"] == "trace-123"
    generated = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert generated != "bad id with spaces" and len(generated) == 32
    record = next(r for r in caplog.records if r.fields.get("request_id") == "trace-123")
    assert record.fields["key"] == "ops-a" and record.fields["status"] == 200
    token = keys.reporter["Authorization"].split()[1]
    assert token not in caplog.text


def test_log_lines_are_json():
    from service.web.logs import JSONFormatter

    record = logging.LogRecord("service.access", logging.INFO, __file__, 1, "request", None, None)
    record.fields = {"request_id": "abc", "status": 201}
    line = json.loads(JSONFormatter().format(record))
    assert line["message"] == "request" and line["request_id"] == "abc" and line["status"] == 201


def test_problem_for_unknown_route_and_method(client):
    missing = client.get("/v1/nothing-here")
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"
    wrong = client.delete("/v1/policies")
    assert wrong.status_code == 405 and wrong.mimetype == "application/problem+json"


def test_an_unreachable_database_is_a_503_with_retry_after(tmp_path, keys):
    app = create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/audit.db"})
    response = app.test_client().get("/v1/policies", headers=keys.auditor)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json" and response.headers["Retry-After"] == "5"
