"""`make bench`'s console figure works on a small database: signed in, every filter's pages, timed."""
import pytest
import requests

from bench.console import console_run

from ..helpers import make_event


@pytest.fixture(params=[pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_factory(request):
    """make bench runs on PostgreSQL only."""
    return request.getfixturevalue("postgres_factory")


def test_the_console_list_figure_runs_on_a_small_database(live_server, keys):
    for n in range(5):
        category = ("residential", "dual_use", "force_concentration")[n % 3]
        response = requests.post(f"{live_server}/v1/events", headers=keys.reporter, timeout=30,
                                 json=make_event(f"bench-{n}", **{"target.category": category}))
        assert response.status_code == 201
    outcome = console_run(live_server, keys.auditor["Authorization"].removeprefix("Bearer "), rounds=1)
    assert outcome.pages >= 12  # one first page for each filter of bench.reads.QUERIES
    assert 0 < outcome.median_ms <= outcome.p95_ms
