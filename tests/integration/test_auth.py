"""SPEC §1: bearer keys, roles, 401/403/404, the keys CLI."""
import pytest
from sqlalchemy import select

from service.ledger import sequencer
from service.models import ApiKey

from ..helpers import make_event

OPEN = ["/healthz", "/readyz", "/openapi.yaml", "/v1/ledger/public-key"]
# (method, path, roles allowed); {id} is an event created by reporter ops-a
MATRIX = [
    ("POST", "/v1/events", {"reporter", "admin"}),
    ("POST", "/v1/events/batch", {"reporter", "admin"}),
    ("GET", "/v1/events", {"reporter", "auditor", "admin"}),
    ("GET", "/v1/events/export?format=ndjson", {"reporter", "auditor", "admin"}),
    ("GET", "/v1/events/{id}", {"reporter", "auditor", "admin"}),
    ("POST", "/v1/events/{id}/reviews", {"auditor", "admin"}),
    ("GET", "/v1/ledger/entries?start=0&end=1", {"auditor", "admin"}),
    ("GET", "/v1/ledger/entries/0", {"auditor", "admin"}),
    ("POST", "/v1/events/{id}/corrections", {"reporter", "admin"}),
    ("GET", "/v1/policies", {"reporter", "auditor", "admin"}),
    ("GET", "/v1/policies/us-2024-05-30-kharkiv", {"reporter", "auditor", "admin"}),
    ("POST", "/v1/policies/us-2024-05-30-kharkiv/simulate?occurred_from=2024-01-01T00:00:00Z"
             "&occurred_to=2025-01-01T00:00:00Z", {"auditor", "admin"}),
    ("GET", "/v1/catalog/munitions", {"reporter", "auditor", "admin"}),
    ("GET", "/v1/catalog/categories", {"reporter", "auditor", "admin"}),
]
ROLE_KEYS = {"reporter": "ops-a", "auditor": "auditor-1", "admin": "admin-1"}


def _call(client, method, path, headers):
    body = {"events": [make_event("m")]} if path.endswith("batch") else make_event()
    if path.endswith("reviews"):
        body = {"status": "acknowledged", "comment": "seen"}
    if "simulate" in path:
        return client.open(path, method=method, headers=headers)
    return client.open(path, method=method, json=body if method == "POST" else None, headers=headers)


@pytest.fixture
def event_id(client, keys, app):
    created = client.post("/v1/events", json=make_event(), headers=keys.reporter).get_json()["id"]
    sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"])
    return created


@pytest.mark.parametrize("method, path, allowed", MATRIX, ids=[f"{m} {p}" for m, p, _ in MATRIX])
def test_authorization_matrix(client, keys, event_id, method, path, allowed):
    path = path.format(id=event_id)
    assert _call(client, method, path, {}).status_code == 401
    assert _call(client, method, path, {"Authorization": "Bearer sak_not-a-key"}).status_code == 401
    assert _call(client, method, path, {"Authorization": "Basic dXNlcjpwYXNz"}).status_code == 401
    for role, name in ROLE_KEYS.items():
        status = _call(client, method, path, keys[name]).status_code
        if role in allowed:
            assert status in (200, 201), (role, status)
        else:
            assert status == 403, (role, status)


def test_unauthorized_answers_are_problems_with_a_challenge(client):
    response = client.get("/v1/policies")
    assert response.mimetype == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("path", OPEN)
def test_open_endpoints_need_no_key(client, event_id, path):  # event_id: the sequencer has caught up
    assert client.get(path).status_code == 200


def test_keys_cli_create_list_revoke(runner, client, app):
    created = runner.invoke(args=["keys", "create", "--name", "ops-new", "--role", "reporter"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("sak_") and len(key) >= 4 + 43  # 32 random bytes, url-safe base64
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/policies", headers=headers).status_code == 200
    with app.extensions["db_sessions"]() as session:
        stored = session.scalar(select(ApiKey).where(ApiKey.name == "ops-new"))
    assert key not in (stored.key_hash, stored.name) and len(stored.key_hash) == 64
    listing = runner.invoke(args=["keys", "list"])
    assert "ops-new\treporter" in listing.output and key not in listing.output
    assert runner.invoke(args=["keys", "revoke", "ops-new"]).exit_code == 0
    assert client.get("/v1/policies", headers=headers).status_code == 401
    assert "revoked" in runner.invoke(args=["keys", "list"]).output


def test_keys_cli_refuses_bad_input(runner):
    assert runner.invoke(args=["keys", "create", "--name", "x", "--role", "superuser"]).exit_code != 0
    assert runner.invoke(args=["keys", "create", "--name", "bad name", "--role", "reporter"]).exit_code != 0
    assert runner.invoke(args=["keys", "create", "--name", "dup", "--role", "auditor"]).exit_code == 0
    again = runner.invoke(args=["keys", "create", "--name", "dup", "--role", "auditor"])
    assert again.exit_code != 0 and "already exists" in again.output
    assert runner.invoke(args=["keys", "revoke", "nobody"]).exit_code != 0


def test_reporter_identity_comes_from_the_key(client, keys):
    body = client.post("/v1/events", json=make_event(), headers=keys.admin).get_json()
    assert body["reporter"] == "admin-1"


@pytest.mark.parametrize("path", ["/v1/ledger/checkpoint", "/v1/ledger/proofs/inclusion?index=0",
                                  "/v1/ledger/proofs/consistency?first=1"])
def test_public_ledger_endpoints_need_no_key(client, event_id, path):
    assert client.get(path).status_code == 200
