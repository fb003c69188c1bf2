"""The fast door for reports (report_shape) accepts only what StrikeEventSchema accepts, and accepts the
valid reports reporting systems send; everything else is left to the schema and its messages."""
import copy
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from service.core.rules.categories import ALL_CATEGORIES
from service.web.schemas.events import StrikeEventSchema
from service.web.schemas.report_shape import plainly_valid

from ..helpers import make_event

SCHEMA = StrikeEventSchema()
PATHS = ["source_event_id", "occurred_at", "weapon", "weapon.munition", "weapon.launcher", "weapon.us_provided",
         "launch", "launch.lat", "launch.lon", "target", "target.lat", "target.lon", "target.category",
         "target.linked_to_invasion", "target.country", "target.description", "notes", "evidence",
         "evidence.0", "evidence.0.kind", "evidence.0.uri", "evidence.0.sha256", "extra", "target.extra"]
soon = (datetime.now(timezone.utc) + timedelta(minutes=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
later = (datetime.now(timezone.utc) + timedelta(minutes=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
# Values near every rule: types JSON can carry, both sides of each range and length, almost-right patterns.
EDGES = [None, True, False, 0, 1, -1, 2**53 + 1, 10**30, 0.5, "50", [], {}, [1], {"a": 1},
         90, 90.0, 90.0000001, -90.0, -90.0000001, 180, 180.0000001, -180.0, -180.0000001,
         "", "x", "x" * 64, "x" * 65, "x" * 128, "x" * 129, "x" * 2000, "x" * 2001, "x" * 2048, "x" * 2049,
         "x" * 4000, "x" * 4001, "RU", "RU\n", "ru", "R", "RUS", "ops-1\n", "a b", "tank", *sorted(ALL_CATEGORIES)[:2],
         "2024-06-02T03:14:00", "2024-06-02T03:14:00Z\n", "2024-02-30T00:00:00Z", "2024-06-02t03:14:00z",
         "2024-06-02T03:14:00.123456789+02:00", "2024-06-02", soon, later, "ab" * 32, "ab" * 32 + "\n", "g" * 64,
         [{"kind": "k", "uri": "u"}] * 20, [{"kind": "k", "uri": "u"}] * 21, [{"kind": "k"}], ["x"],
         {"lat": 1, "lon": 2}, {"lat": 1}, {"lat": 1, "lon": 2, "x": 3}]
ODD_VALUES = st.one_of(st.sampled_from(EDGES), st.integers(-2**70, 2**70),
                       st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=5))


def _set(report: dict, path: str, value, delete: bool) -> None:
    node = report
    for key in path.split(".")[:-1]:
        if isinstance(node, list):
            key = int(key)
            if key >= len(node):
                return
        elif not isinstance(node, dict) or key not in node:
            return
        node = node[key]
    leaf = path.split(".")[-1]
    if isinstance(node, dict):
        if delete:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    elif isinstance(node, list) and leaf.isdigit() and int(leaf) < len(node) and not delete:
        node[int(leaf)] = value


@st.composite
def reports(draw):
    report = make_event(draw(st.sampled_from(["ops-1", "a:b.c_d-9", "x" * 128])))
    if draw(st.booleans()):
        report.pop("launch")
    for _ in range(draw(st.integers(0, 3))):
        _set(report, draw(st.sampled_from(PATHS)), draw(ODD_VALUES), draw(st.booleans()))
    return report


def test_every_single_change_near_a_rule_is_judged_as_the_schema_judges_it():
    """Each field set to each edge value, or removed: the fast door accepts exactly what the schema accepts
    (refusing more would only be slower; here it refuses nothing the schema takes either)."""
    for path in PATHS:
        for value in [*EDGES, "(removed)"]:
            report = make_event()
            _set(report, path, copy.deepcopy(value), delete=value == "(removed)")
            assert plainly_valid(copy.deepcopy(report)) == (SCHEMA.validate(report) == {}), (path, value)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_what_the_fast_door_accepts_the_schema_accepts(report):
    if plainly_valid(copy.deepcopy(report)):
        assert SCHEMA.validate(report) == {}


@settings(max_examples=300, deadline=None)
@given(st.builds(lambda lat, lon, category, notes, evidence, launch: make_event(
    **{"target.lat": lat, "target.lon": lon, "target.category": category, "notes": notes,
       "evidence": evidence, "launch": launch}),
    st.floats(-90, 90), st.floats(-180, 180), st.sampled_from(sorted(ALL_CATEGORIES)), st.text(max_size=50),
    st.lists(st.fixed_dictionaries({"kind": st.text(min_size=1, max_size=64), "uri": st.text(min_size=1, max_size=99)}),
             max_size=20),
    st.fixed_dictionaries({"lat": st.integers(-90, 90), "lon": st.floats(-180, 180)})))
def test_valid_reports_pass_the_fast_door(report):
    assert SCHEMA.validate(report) == {}
    assert plainly_valid(report)


@pytest.mark.parametrize("field, value", [("source_event_id", "ops-1\n"), ("target.country", "RU\n"),
                                          ("evidence", [{"kind": "k", "uri": "u", "sha256": "ab" * 32 + "\n"}])])
def test_a_final_newline_is_not_part_of_a_valid_value(field, value):
    """Python's `$` matches before a final newline; neither door lets one through."""
    report = make_event(**{field: value})
    assert not plainly_valid(report)
    assert SCHEMA.validate(report) != {}
