"""Smoke test over real HTTP through gunicorn with several workers."""
from concurrent.futures import ThreadPoolExecutor

import requests

from ..helpers import make_event


def test_submit_replay_read_back_over_http(live_server, keys):
    created = requests.post(f"{live_server}/v1/events", json=make_event("http-1"), headers=keys.reporter, timeout=10)
    assert created.status_code == 201, created.text
    assert created.headers["Content-Type"] == "application/json"
    record = created.json()
    replay = requests.post(f"{live_server}/v1/events", json=make_event("http-1"), headers=keys.reporter, timeout=10)
    assert replay.status_code == 200 and replay.json() == record
    read = requests.get(f"{live_server}/v1/events/{record['id']}", headers=keys.reporter, timeout=10)
    assert read.status_code == 200 and read.json()["verdict"] == record["verdict"]
    bad = requests.post(f"{live_server}/v1/events", data=b'{"x": NaN}', headers={
        **keys.reporter, "Content-Type": "application/json"}, timeout=10)
    assert bad.status_code == 400 and bad.headers["Content-Type"] == "application/problem+json"


def test_concurrent_identical_submissions_store_one_event(live_server, keys):
    def submit(_):
        return requests.post(f"{live_server}/v1/events", json=make_event("race-1"), headers=keys.reporter, timeout=30)

    with ThreadPoolExecutor(8) as pool:
        responses = list(pool.map(submit, range(16)))
    assert sorted(r.status_code for r in responses) == [200] * 15 + [201]
    assert len({r.json()["id"] for r in responses}) == 1


def test_oversized_header_is_refused_by_gunicorn(live_server):
    response = requests.get(f"{live_server}/healthz", headers={"X-Big": "x" * 9000}, timeout=10)
    assert response.status_code == 431  # Request Header Fields Too Large: limit_request_field_size
