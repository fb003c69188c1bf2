"""Unit tests of the rules engine (contract §6), with geography given directly."""
import copy
from datetime import datetime

import pytest

from service.core.rules.categories import CATEGORIES
from service.core.rules.engine import SEVERITIES, evaluate, policy_in_force
from service.core.rules.model import Geography, Munition, Policy
from service.policies.bundled import bundled_munitions, bundled_policies

POLICIES = {doc["id"]: Policy.from_document(doc) for doc in bundled_policies()}
NO_CROSS_BORDER = POLICIES["us-2022-06-01-no-cross-border"]
KHARKIV = POLICIES["us-2024-05-30-kharkiv"]
BORDER_WIDE = POLICIES["us-2024-06-19-border-wide"]
KURSK = POLICIES["us-2024-11-17-kursk-atacms"]
MUNITIONS = {m["code"]: Munition(**m) for m in bundled_munitions()}
XB_AND_LINK_RULES = {"XB-NOT-AUTHORIZED", "XB-OUTSIDE-ZONE", "XB-MUNITION", "XB-PURPOSE",
                     "MIL-NOT-LINKED", "LINK-UNSTATED"}
DELETE = object()  # make_report(...=DELETE) removes an optional field


def make_report(**changes) -> dict:
    """A report that is compliant under the Kharkiv policy; `changes` edit it by dotted path."""
    report = {
        "source_event_id": "ops-1", "occurred_at": "2024-06-02T03:14:00Z",
        "weapon": {"munition": "M31A1-GMLRS", "launcher": "M142-HIMARS", "us_provided": True},
        "launch": {"lat": 49.95, "lon": 36.30},
        "target": {"lat": 50.45, "lon": 36.90, "category": "force_concentration",
                   "linked_to_invasion": True, "country": "RU"},
    }
    for path, value in changes.items():
        *parents, key = path.split("__")
        node = report
        for parent in parents:
            node = node[parent]
        if value is DELETE:
            del node[key]
        else:
            node[key] = value
    return report


IN_RUSSIA = Geography(country="RU", depth_km=30.0, range_km=60.0)


def rule_ids(report=None, policy=KHARKIV, geography=IN_RUSSIA) -> list[str]:
    evaluation = evaluate(report or make_report(), policy, MUNITIONS, geography)
    return [f.rule_id for f in evaluation.findings]


def only(rule_id, **kwargs):
    """The single finding of rule_id (asserting there is exactly one)."""
    evaluation = evaluate(kwargs.pop("report", None) or make_report(), kwargs.pop("policy", KHARKIV),
                          MUNITIONS, kwargs.pop("geography", IN_RUSSIA))
    matches = [f for f in evaluation.findings if f.rule_id == rule_id]
    assert len(matches) == 1, evaluation.findings
    return matches[0]


def test_baseline_report_is_compliant_inside_the_kharkiv_sector():
    evaluation = evaluate(make_report(), KHARKIV, MUNITIONS, IN_RUSSIA)
    assert evaluation.verdict == "compliant" and evaluation.findings == ()
    assert evaluation.policy_id == KHARKIV.id and evaluation.policy_sha256 == KHARKIV.sha256
    assert evaluation.computed == {"country": "RU", "depth_km": 30.0, "range_km": 60.0,
                                   "zones": ["kharkiv-sector"]}


@pytest.mark.parametrize("instant, expected", [
    ("2022-05-31T23:59:59Z", None),
    ("2022-06-01T02:59:59+03:00", None),
    ("2022-06-01T00:00:00Z", "us-2022-06-01-no-cross-border"),
    ("2024-05-29T23:59:59Z", "us-2022-06-01-no-cross-border"),
    ("2024-05-30T02:59:59+03:00", "us-2022-06-01-no-cross-border"),
    ("2024-05-30T00:00:00Z", "us-2024-05-30-kharkiv"),
    ("2024-05-30T03:00:00+03:00", "us-2024-05-30-kharkiv"),
    ("2024-05-29T20:00:00-04:00", "us-2024-05-30-kharkiv"),
    ("2024-06-18T23:59:59Z", "us-2024-05-30-kharkiv"),
    ("2024-06-18T19:59:59-04:00", "us-2024-05-30-kharkiv"),
    ("2024-06-19T00:00:00Z", "us-2024-06-19-border-wide"),
    ("2024-06-19T05:30:00+05:30", "us-2024-06-19-border-wide"),
    ("2024-11-16T23:59:59Z", "us-2024-06-19-border-wide"),
    ("2024-11-17T01:59:59+02:00", "us-2024-06-19-border-wide"),
    ("2024-11-17T00:00:00Z", "us-2024-11-17-kursk-atacms"),
    ("2024-11-16T19:00:00-05:00", "us-2024-11-17-kursk-atacms"),
    ("2031-01-01T00:00:00Z", "us-2024-11-17-kursk-atacms"),
])
def test_policy_in_force_at_each_boundary(instant, expected):
    policy = policy_in_force(POLICIES.values(), datetime.fromisoformat(instant))
    assert (policy.id if policy else None) == expected


def test_policy_none_fires_and_suppresses_policy_rules_only():
    report = make_report(target__category="military_industry", target__linked_to_invasion=DELETE,
                         launch=DELETE, weapon__munition="M57-ATACMS")
    deep = Geography(country="RU", depth_km=500.0, range_km=None)
    with_policy = set(rule_ids(report, KHARKIV, deep))
    assert {"XB-OUTSIDE-ZONE", "XB-PURPOSE", "LINK-UNSTATED"} <= with_policy
    without = rule_ids(report, None, deep)
    assert without == ["LAUNCH-MISSING", "POLICY-NONE"]
    assert not XB_AND_LINK_RULES & set(rule_ids(make_report(target__linked_to_invasion=False), None, deep))
    assert rule_ids(make_report(target__category="medical"), None, IN_RUSSIA) == ["CIV-TARGET", "POLICY-NONE"]


def test_policy_none_evidence_and_verdict():
    finding = only("POLICY-NONE", policy=None, geography=Geography("UA", 0.0, 10.0),
                   report=make_report(occurred_at="2021-01-01T00:00:00Z", target__country="UA"))
    assert finding.severity == "review" and finding.evidence == {"occurred_at": "2021-01-01T00:00:00Z"}
    assert "2021-01-01T00:00:00Z" in finding.message
    assert evaluate(make_report(target__country="UA"), None, MUNITIONS,
                    Geography("UA", 0.0, 10.0)).verdict == "needs_review"


@pytest.mark.parametrize("category", CATEGORIES["civilian"])
def test_civilian_target_is_critical_anywhere(category):
    for country in ("UA", "RU"):
        finding = only("CIV-TARGET", report=make_report(target__category=category, target__country=country),
                       geography=Geography(country, 0.0 if country == "UA" else 30.0, 60.0))
        assert finding.severity == "critical" and finding.evidence["category"] == category


@pytest.mark.parametrize("category", CATEGORIES["military"] + CATEGORIES["review"])
def test_non_civilian_category_is_not_civ_target(category):
    assert "CIV-TARGET" not in rule_ids(make_report(target__category=category))


def test_xb_not_authorized_under_the_2022_policy():
    finding = only("XB-NOT-AUTHORIZED", policy=NO_CROSS_BORDER)
    assert finding.severity == "critical"
    assert finding.evidence == {"country": "RU", "depth_km": 30.0, "zones": [],
                                "policy_version": NO_CROSS_BORDER.id}
    assert "30.0 km inside Russia" in finding.message and NO_CROSS_BORDER.id in finding.message
    assert rule_ids(policy=NO_CROSS_BORDER) == ["XB-NOT-AUTHORIZED"]
    ukraine = Geography("UA", 0.0, 60.0)
    assert rule_ids(make_report(target__country="UA"), NO_CROSS_BORDER, ukraine) == []
    assert "XB-NOT-AUTHORIZED" not in rule_ids(policy=KHARKIV)


@pytest.mark.parametrize("depth, outside", [(80.0, False), (79.999999, False), (80.000001, True)])
def test_zone_depth_limit_is_inclusive(depth, outside):
    geography = Geography("RU", depth, 60.0)
    for policy in (KHARKIV, BORDER_WIDE, KURSK):
        fired = "XB-OUTSIDE-ZONE" in rule_ids(policy=policy, geography=geography)
        # Kursk's own zone reaches 300 km, but only inside its box, which lat 50.45 is outside.
        assert fired is outside, policy.id


@pytest.mark.parametrize("lon, lat, inside", [
    (35.5, 50.0, True), (38.3, 50.0, True), (36.0, 49.8, True), (36.0, 51.4, True),
    (35.4999999, 50.0, False), (38.3000001, 50.0, False), (36.0, 49.7999999, False), (36.0, 51.4000001, False),
])
def test_kharkiv_sector_box_edges_are_inclusive(lon, lat, inside):
    ids = rule_ids(make_report(target__lon=lon, target__lat=lat))
    assert ("XB-OUTSIDE-ZONE" in ids) is not inside
    zones = evaluate(make_report(target__lon=lon, target__lat=lat), KHARKIV, MUNITIONS, IN_RUSSIA).computed["zones"]
    assert zones == (["kharkiv-sector"] if inside else [])


@pytest.mark.parametrize("lon, lat, inside", [
    (34.05, 51.0, True), (38.55, 51.0, True), (36.0, 50.9, True), (36.0, 52.45, True),
    (34.0499999, 51.0, False), (38.5500001, 51.0, False), (36.0, 50.8999999, False), (36.0, 52.4500001, False),
])
def test_kursk_box_edges_are_inclusive(lon, lat, inside):
    report = make_report(target__lon=lon, target__lat=lat, weapon__munition="M57-ATACMS")
    evaluation = evaluate(report, KURSK, MUNITIONS, Geography("RU", 200.0, 250.0))
    assert evaluation.computed["zones"] == (["kursk-atacms"] if inside else [])
    assert ("XB-OUTSIDE-ZONE" in [f.rule_id for f in evaluation.findings]) is not inside


def test_zones_are_computed_only_for_targets_in_russia():
    # Kharkiv city lies inside the kharkiv-sector box at depth 0, but in Ukraine.
    ukraine = make_report(target__lat=49.99, target__lon=36.23, target__country="UA", weapon__munition="M39-ATACMS")
    evaluation = evaluate(ukraine, KHARKIV, MUNITIONS, Geography("UA", 0.0, 60.0))
    assert evaluation.computed["zones"] == [] and evaluation.findings == ()


def test_xb_outside_zone_message_and_evidence():
    finding = only("XB-OUTSIDE-ZONE", policy=BORDER_WIDE, geography=Geography("RU", 112.4, 150.0),
                   report=make_report(weapon__munition="ER-GMLRS"))
    assert finding.severity == "critical"
    assert finding.message == ("Target 112.4 km inside Russia is outside every zone of "
                               "us-2024-06-19-border-wide (border-strip: depth ≤ 80 km)")
    assert finding.evidence == {"country": "RU", "depth_km": 112.4, "zones": [],
                                "policy_version": BORDER_WIDE.id, "policy_zones": ["border-strip"]}
    kharkiv = only("XB-OUTSIDE-ZONE", report=make_report(target__lon=39.0))
    assert "kharkiv-sector: lon 35.5–38.3, lat 49.8–51.4, depth ≤ 80 km" in kharkiv.message


def test_xb_munition_and_outside_zone_exclude_each_other():
    atacms = make_report(weapon__munition="M39-ATACMS")
    inside = rule_ids(atacms)
    assert "XB-MUNITION" in inside and "XB-OUTSIDE-ZONE" not in inside
    outside = rule_ids(atacms, geography=Geography("RU", 120.0, 140.0))
    assert "XB-OUTSIDE-ZONE" in outside and "XB-MUNITION" not in outside
    finding = only("XB-MUNITION", report=atacms)
    assert finding.severity == "critical"
    assert finding.evidence == {"country": "RU", "depth_km": 30.0, "zones": ["kharkiv-sector"],
                                "policy_version": KHARKIV.id, "munition": "M39-ATACMS", "family": "ATACMS"}


def test_xb_munition_needs_denial_in_every_containing_zone():
    atacms = make_report(weapon__munition="M57-ATACMS", target__lat=51.0, target__lon=36.0)
    # Inside both Kursk zones: kursk-atacms does not deny ATACMS.
    assert rule_ids(atacms, KURSK, Geography("RU", 50.0, 120.0)) == []
    # East of the Kursk box only border-strip contains it, and it denies ATACMS.
    east = make_report(weapon__munition="M57-ATACMS", target__lat=50.0, target__lon=39.5)
    assert rule_ids(east, KURSK, Geography("RU", 50.0, 120.0)) == ["XB-MUNITION"]
    assert rule_ids(atacms, KURSK, Geography("RU", 250.0, 280.0)) == []
    assert "XB-MUNITION" not in rule_ids(make_report(weapon__munition="GLSDB"), BORDER_WIDE)


@pytest.mark.parametrize("country, fires", [("BY", True), ("PL", True), ("UA", False), ("RU", False), (None, False)])
def test_target_third_country(country, fires):
    report = make_report(target__category="incoming_missile", target__country=DELETE)
    ids = rule_ids(report, geography=Geography(country, 10.0 if country == "RU" else 100.0, 60.0))
    assert ("TARGET-THIRD-COUNTRY" in ids) is fires
    if fires:
        assert only("TARGET-THIRD-COUNTRY", report=report,
                    geography=Geography(country, 100.0, 60.0)).evidence == {"country": country}


@pytest.mark.parametrize("category, fires", [
    ("air_defense_site", True), ("military_airfield", True), ("military_industry", True),
    ("military_other", True), ("force_concentration", False), ("incoming_missile", False),
    ("command_post", False), ("dual_use", False), ("energy", False),
])
def test_xb_purpose(category, fires):
    assert ("XB-PURPOSE" in rule_ids(make_report(target__category=category))) is fires


def test_xb_purpose_needs_zones_and_russia():
    report = make_report(target__category="air_defense_site")
    finding = only("XB-PURPOSE", report=report)
    assert finding.severity == "high" and finding.evidence["category"] == "air_defense_site"
    assert "incoming_missile" in finding.evidence["permitted_purposes"]
    assert rule_ids(report, NO_CROSS_BORDER) == ["XB-NOT-AUTHORIZED"]
    assert rule_ids(make_report(target__category="air_defense_site", target__country="UA"),
                    KHARKIV, Geography("UA", 0.0, 60.0)) == []


def test_mil_not_linked():
    finding = only("MIL-NOT-LINKED", report=make_report(target__linked_to_invasion=False))
    assert finding.severity == "high" and finding.evidence["linked_to_invasion"] is False
    assert rule_ids(make_report(target__linked_to_invasion=False), NO_CROSS_BORDER) == \
        ["XB-NOT-AUTHORIZED", "MIL-NOT-LINKED"]
    ukraine = make_report(target__linked_to_invasion=False, target__country="UA")
    assert rule_ids(ukraine, geography=Geography("UA", 0.0, 60.0)) == []
    civilian = make_report(target__linked_to_invasion=False, target__category="water")
    assert rule_ids(civilian) == ["CIV-TARGET"]


def test_link_unstated():
    unstated = make_report(target__linked_to_invasion=DELETE)
    finding = only("LINK-UNSTATED", report=unstated)
    assert finding.severity == "review" and evaluate(unstated, KHARKIV, MUNITIONS, IN_RUSSIA).verdict == "needs_review"
    assert rule_ids(make_report(target__linked_to_invasion=DELETE, target__category="incoming_missile")) == []
    assert rule_ids(make_report(target__linked_to_invasion=DELETE, target__category="dual_use")) == \
        ["CATEGORY-REVIEW"]
    ukraine = make_report(target__linked_to_invasion=DELETE, target__country="UA")
    assert rule_ids(ukraine, geography=Geography("UA", 0.0, 60.0)) == []


@pytest.mark.parametrize("munition, range_km, fires", [
    ("M31A1-GMLRS", 84.0, False), ("M31A1-GMLRS", 84.000001, True), ("M31A1-GMLRS", 83.999, False),
    ("ER-GMLRS", 150.0, False), ("ER-GMLRS", 150.01, True), ("M795-155MM", 30.2, True),
    ("PAC-3-MSE", 44.9, False), ("M39-ATACMS", 165.5, True), ("M57-ATACMS", 299.9, False),
])
def test_range_limit(munition, range_km, fires):
    report = make_report(weapon__munition=munition, target__country="UA")
    ids = rule_ids(report, KHARKIV, Geography("UA", 0.0, range_km))
    assert ids == (["RANGE-EXCEEDED"] if fires else [])


def test_range_exceeded_evidence_and_no_launch():
    finding = only("RANGE-EXCEEDED", geography=Geography("RU", 30.0, 91.23))
    assert finding.evidence == {"range_km": 91.23, "munition": "M31A1-GMLRS", "family": "GMLRS",
                                "max_range_km": 84}
    assert finding.message == "Launch-to-target range 91.2 km exceeds the 84 km maximum of M31A1-GMLRS"
    no_launch = make_report(launch=DELETE, target__country="UA")
    assert rule_ids(no_launch, KHARKIV, Geography("UA", 0.0, None)) == []


def test_launch_missing_only_for_targets_in_russia():
    no_launch = Geography("RU", 30.0, None)
    assert rule_ids(make_report(launch=DELETE), KHARKIV, no_launch) == ["LAUNCH-MISSING"]
    assert rule_ids(make_report(launch=DELETE, target__country="UA"), KHARKIV, Geography("UA", 0.0, None)) == []


@pytest.mark.parametrize("reported, computed, fires", [
    ("UA", "RU", True), ("RU", "RU", False), ("ru", "RU", False), ("RU", None, True), ("UA", "UA", False),
    ("BY", "UA", True), (DELETE, "RU", False), (DELETE, None, False),
])
def test_country_mismatch(reported, computed, fires):
    report = make_report(target__country=reported, target__category="incoming_missile")
    ids = rule_ids(report, KHARKIV, Geography(computed, 30.0 if computed == "RU" else 5.0, 60.0))
    assert ("COUNTRY-MISMATCH" in ids) is fires


def test_country_mismatch_at_sea_names_no_country():
    finding = only("COUNTRY-MISMATCH", geography=Geography(None, 115.0, 60.0))
    assert finding.evidence == {"reported_country": "RU", "country": None}
    assert finding.message.startswith("Reported country RU differs from the computed country none (at sea")


def test_location_unresolved_unless_incoming_missile():
    at_sea = Geography(None, 115.0, 60.0)
    report = make_report(target__country=DELETE)
    assert rule_ids(report, KHARKIV, at_sea) == ["LOCATION-UNRESOLVED"]
    assert only("LOCATION-UNRESOLVED", report=report, geography=at_sea).evidence == \
        {"lat": 50.45, "lon": 36.90, "country": None}
    assert rule_ids(make_report(target__country=DELETE, target__category="incoming_missile"), KHARKIV, at_sea) == []
    assert "LOCATION-UNRESOLVED" not in rule_ids(report, KHARKIV, Geography("UA", 0.0, 60.0))


@pytest.mark.parametrize("category, fires", [("dual_use", True), ("unknown", True),
                                             ("force_concentration", False), ("residential", False)])
def test_category_review(category, fires):
    assert ("CATEGORY-REVIEW" in rule_ids(make_report(target__category=category))) is fires


def test_unknown_munition_skips_family_and_range_rules():
    report = make_report(weapon__munition="STORM-SHADOW")
    finding = only("MUNITION-UNKNOWN", report=report, geography=Geography("RU", 30.0, 900.0))
    assert finding.severity == "review" and finding.evidence == {"munition": "STORM-SHADOW"}
    assert rule_ids(report, KHARKIV, Geography("RU", 30.0, 900.0)) == ["MUNITION-UNKNOWN"]
    # XB-OUTSIDE-ZONE does not depend on the munition and still fires.
    assert rule_ids(report, KHARKIV, Geography("RU", 120.0, 900.0)) == ["XB-OUTSIDE-ZONE", "MUNITION-UNKNOWN"]


def test_an_unknown_code_that_differs_only_in_case_names_the_catalog_code():
    finding = only("MUNITION-UNKNOWN", report=make_report(weapon__munition="m31a1-gmlrs"))
    assert finding.message == ("Munition m31a1-gmlrs is not in the catalog (catalog codes are case-sensitive: "
                               "probably M31A1-GMLRS); family and range rules were not evaluated")
    assert finding.evidence == {"munition": "m31a1-gmlrs", "probably": "M31A1-GMLRS"}
    assert "probably" not in only("MUNITION-UNKNOWN", report=make_report(weapon__munition="M31A2-GMLRS")).message


def test_out_of_scope_has_no_findings_but_keeps_computed_figures():
    report = make_report(weapon__us_provided=False, weapon__munition="NOPE", target__category="medical",
                         target__country="UA", launch=DELETE)
    evaluation = evaluate(report, NO_CROSS_BORDER, MUNITIONS, Geography("RU", 500.0, None))
    assert evaluation.verdict == "out_of_scope" and evaluation.findings == ()
    assert evaluation.computed == {"country": "RU", "depth_km": 500.0, "range_km": None, "zones": []}
    assert evaluation.policy_id == NO_CROSS_BORDER.id
    assert evaluate(report, None, MUNITIONS, IN_RUSSIA).verdict == "out_of_scope"


def test_several_findings_are_ordered_by_severity_then_rule_id():
    report = make_report(target__category="military_industry", target__linked_to_invasion=False,
                         target__country="UA", weapon__munition="UNLISTED", launch=DELETE)
    evaluation = evaluate(report, BORDER_WIDE, MUNITIONS, Geography("RU", 95.0, None))
    assert [(f.severity, f.rule_id) for f in evaluation.findings] == [
        ("critical", "XB-OUTSIDE-ZONE"),
        ("high", "MIL-NOT-LINKED"), ("high", "XB-PURPOSE"),
        ("review", "COUNTRY-MISMATCH"), ("review", "LAUNCH-MISSING"), ("review", "MUNITION-UNKNOWN"),
    ]
    assert evaluation.verdict == "violation"


def test_ordering_holds_for_many_combinations():
    for category in ("residential", "air_defense_site", "dual_use", "force_concentration"):
        for geography in (IN_RUSSIA, Geography("BY", 90.0, 300.0), Geography(None, 10.0, None)):
            for policy in (None, *POLICIES.values()):
                findings = evaluate(make_report(target__category=category, target__linked_to_invasion=DELETE,
                                                weapon__munition="M48-ATACMS"),
                                    policy, MUNITIONS, geography).findings
                keys = [(SEVERITIES.index(f.severity), f.rule_id) for f in findings]
                assert keys == sorted(keys) and len(set(keys)) == len(keys)


def test_high_alone_is_a_violation_and_to_dict_shape():
    evaluation = evaluate(make_report(target__category="military_airfield"), KHARKIV, MUNITIONS, IN_RUSSIA)
    assert [f.rule_id for f in evaluation.findings] == ["XB-PURPOSE"] and evaluation.verdict == "violation"
    as_dict = evaluation.to_dict()
    assert set(as_dict) == {"verdict", "policy_version", "policy_sha256", "findings", "computed"}
    assert as_dict["policy_version"] == KHARKIV.id and as_dict["policy_sha256"] == KHARKIV.sha256
    assert set(as_dict["findings"][0]) == {"rule_id", "severity", "message", "evidence"}
    assert as_dict["computed"] == {"country": "RU", "depth_km": 30.0, "range_km": 60.0, "zones": ["kharkiv-sector"]}


def test_evaluate_does_not_change_the_report():
    report = make_report(target__linked_to_invasion=DELETE)
    before = copy.deepcopy(report)
    evaluate(report, KHARKIV, MUNITIONS, IN_RUSSIA)
    assert report == before
