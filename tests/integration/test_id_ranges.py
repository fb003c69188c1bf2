"""A number beyond 64 bits in any path or integer query parameter is a clear 400 or 404, never a 500.

The parameters are taken from the app's own OpenAPI document, so a new integer parameter is checked
as soon as it is declared.
"""
import yaml

from service.ledger import sequencer

HUGE = 219474145228120905482240  # beyond 2**64, as an outside caller tried it
# Valid values for the other required parameters of an operation, so that only one parameter is wrong.
COMPANIONS = {"index": 0, "first": 1, "format": "json", "from": "2024-06-01", "to": "2024-07-01"}


def integer_parameters(spec: dict):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post"):
                continue
            parameters = operations.get("parameters", []) + operation.get("parameters", [])
            for parameter in parameters:
                if parameter["schema"].get("type") == "integer":
                    yield method, path, parameter, parameters


def test_numbers_beyond_64_bits_are_refused_cleanly(app, client, keys):
    sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"])
    spec = yaml.safe_load(client.get("/openapi.yaml").data)
    checked = []
    for method, path, parameter, parameters in integer_parameters(spec):
        url = path
        query = {}
        for other in parameters:
            if other is parameter or not other.get("required"):
                continue
            assert other["name"] in COMPANIONS, f"{method} {path}: no valid value for {other['name']}"
            if other["in"] == "path":
                url = url.replace("{" + other["name"] + "}", str(COMPANIONS[other["name"]]))
            else:
                query[other["name"]] = COMPANIONS[other["name"]]
        if parameter["in"] == "path":
            url = url.replace("{" + parameter["name"] + "}", str(HUGE))
        else:
            query[parameter["name"]] = HUGE
        response = client.open(url, method=method.upper(), query_string=query, headers=keys.admin,
                               json={} if method == "post" else None)
        assert response.status_code in (400, 404), (method, url, query, response.status_code, response.data[:300])
        assert response.mimetype == "application/problem+json", (method, url)
        if parameter["in"] == "query":
            assert response.status_code == 400 and parameter["name"] in response.get_json()["errors"], \
                (method, url, response.get_json())
        checked.append((method, path, parameter["name"]))
    # The parameters an outside caller found: the report id, the ledger indexes and sizes, the page size.
    assert {("get", "/v1/reports/{report_id}", "report_id"), ("get", "/v1/ledger/entries/{index}", "index"),
            ("get", "/v1/ledger/proofs/inclusion", "tree_size"), ("get", "/v1/events", "limit")} <= set(checked)
