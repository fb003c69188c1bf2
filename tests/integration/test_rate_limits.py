"""Rate limits: per API key, per address without a valid key, a lower one for batches, 429 problems."""
import os
import uuid

import pytest

from service import create_app

from ..helpers import make_event

SMALL = {"RATE_LIMIT": "3/minute", "RATE_LIMIT_BATCH": "1/minute"}


@pytest.fixture
def app(database_url, signing_key_path):
    """Overrides conftest's app (so `client` and `keys` use this one): 3 requests a minute, 1 batch."""
    app = create_app({"TESTING": True, "DATABASE_URL": database_url, "LEDGER_SIGNING_KEY": signing_key_path,
                      **SMALL})
    yield app
    app.extensions["db_engine"].dispose()


def no_database_app(tmp_path, **config):
    """For what needs no database: keyless requests to the public key, probes, start-up."""
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/audit.db", **SMALL, **config})


def assert_throttled(response):
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert 1 <= int(response.headers["Retry-After"]) <= 61
    body = response.get_json()
    assert body["status"] == 429 and body["title"] == "Too Many Requests" and body["request_id"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_each_key_has_its_own_allowance(client, keys):
    for _ in range(3):
        assert client.get("/v1/policies", headers=keys.reporter).status_code == 200
    assert_throttled(client.get("/v1/policies", headers=keys.reporter))
    assert_throttled(client.get("/v1/catalog/munitions", headers=keys.reporter))  # one allowance for all routes
    assert client.get("/v1/policies", headers=keys.other_reporter).status_code == 200
    assert client.get("/v1/policies", headers=keys.auditor).status_code == 200


def test_without_a_valid_key_requests_count_against_the_address(client, keys):
    address = {"REMOTE_ADDR": "192.0.2.10"}
    for _ in range(3):  # made-up tokens are refused and still counted
        bogus = {"Authorization": f"Bearer sak_{uuid.uuid4().hex}"}
        assert client.get("/v1/policies", headers=bogus, environ_base=address).status_code == 401
    fresh = {"Authorization": f"Bearer sak_{uuid.uuid4().hex}"}
    assert_throttled(client.get("/v1/policies", headers=fresh, environ_base=address))
    assert_throttled(client.get("/v1/ledger/public-key", environ_base=address))
    assert client.get("/v1/ledger/public-key", environ_base={"REMOTE_ADDR": "192.0.2.11"}).status_code == 200
    # a valid key from the same address has its own allowance
    assert client.get("/v1/policies", headers=keys.reporter, environ_base=address).status_code == 200


def test_batches_have_their_own_lower_limit(client, keys):
    batch = {"events": [make_event("rl-1")]}
    assert client.post("/v1/events/batch", json=batch, headers=keys.reporter).status_code == 200
    assert_throttled(client.post("/v1/events/batch", json=batch, headers=keys.reporter))
    assert client.post("/v1/events", json=make_event("rl-2"), headers=keys.reporter).status_code == 201


def test_probes_and_metrics_are_never_limited(tmp_path):
    client = no_database_app(tmp_path).test_client()
    for _ in range(3):
        client.get("/v1/ledger/public-key")
    assert_throttled(client.get("/v1/ledger/public-key"))
    for _ in range(3):
        assert client.get("/healthz").status_code == 200
        assert client.get("/metrics").status_code == 200
        assert client.get("/readyz").status_code == 503  # the database is missing here: never a 429


def test_a_bad_limit_fails_at_start_up(tmp_path):
    with pytest.raises(ValueError):
        no_database_app(tmp_path, RATE_LIMIT="lots")


def test_an_empty_limit_switches_limiting_off(tmp_path):
    client = no_database_app(tmp_path, RATE_LIMIT="", RATE_LIMIT_BATCH="").test_client()
    assert all(client.get("/v1/ledger/public-key").status_code == 200 for _ in range(5))


@pytest.mark.skipif(not os.environ.get("TEST_REDIS_URL"), reason="needs TEST_REDIS_URL (a Redis server)")
def test_workers_sharing_redis_share_one_limit(tmp_path):
    """Two apps stand for two gunicorn workers: with memory:// each would allow 3; with Redis, 3 in all."""
    workers = [no_database_app(tmp_path, RATE_LIMIT_STORAGE_URI=os.environ["TEST_REDIS_URL"]) for _ in range(2)]
    address = {"REMOTE_ADDR": f"198.51.100.{uuid.uuid4().int % 250 + 1}"}  # other runs' counts stay apart
    try:
        statuses = [workers[i % 2].test_client().get("/v1/ledger/public-key", environ_base=address).status_code
                    for i in range(4)]
    finally:
        for worker in workers:
            worker.extensions["rate_limiter"].storage.storage.close()
    assert statuses == [200, 200, 200, 429]


def test_with_redis_down_each_worker_still_limits_in_memory(tmp_path):
    app = no_database_app(tmp_path, RATE_LIMIT_STORAGE_URI="redis://127.0.0.1:1/0")
    try:
        statuses = [app.test_client().get("/v1/ledger/public-key").status_code for _ in range(4)]
    finally:
        app.extensions["rate_limiter"].storage.storage.close()
    assert statuses == [200, 200, 200, 429]
