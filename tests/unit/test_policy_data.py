"""The bundled data files and their parsing match contract §3-§5."""
import hashlib
from datetime import datetime, timedelta, timezone

import pytest
import rfc8785

from service.core.rules.categories import ALL_CATEGORIES, CATEGORIES, category_group
from service.core.rules.model import Policy, Zone
from service.policies.bundled import bundled_munitions, bundled_policies

UTC = timezone.utc
PERMITTED = {"incoming_missile", "strike_aircraft", "force_concentration", "launch_site", "command_post",
             "military_logistics"}
# contract §3 table: id, effective_from, effective_to, {zone id: (box, max depth, denied families)}.
SPEC_POLICIES = [
    ("us-2022-06-01-no-cross-border", datetime(2022, 6, 1, tzinfo=UTC), datetime(2024, 5, 30, tzinfo=UTC), {}),
    ("us-2024-05-30-kharkiv", datetime(2024, 5, 30, tzinfo=UTC), datetime(2024, 6, 19, tzinfo=UTC),
     {"kharkiv-sector": ((35.5, 49.8, 38.3, 51.4), 80, {"ATACMS"})}),
    ("us-2024-06-19-border-wide", datetime(2024, 6, 19, tzinfo=UTC), datetime(2024, 11, 17, tzinfo=UTC),
     {"border-strip": (None, 80, {"ATACMS"})}),
    ("us-2024-11-17-kursk-atacms", datetime(2024, 11, 17, tzinfo=UTC), None,
     {"border-strip": (None, 80, {"ATACMS"}), "kursk-atacms": ((34.05, 50.9, 38.55, 52.45), 300, set())}),
]
SPEC_MUNITIONS = {
    "M30A1-GMLRS": ("GMLRS", 84), "M31A1-GMLRS": ("GMLRS", 84), "ER-GMLRS": ("GMLRS", 150),
    "M39-ATACMS": ("ATACMS", 165), "M39A1-ATACMS": ("ATACMS", 300), "M48-ATACMS": ("ATACMS", 300),
    "M57-ATACMS": ("ATACMS", 300), "GLSDB": ("GLSDB", 150), "M982-EXCALIBUR": ("ARTILLERY-155", 40),
    "M795-155MM": ("ARTILLERY-155", 30), "JDAM-ER": ("JDAM", 72), "PAC-3-MSE": ("PATRIOT", 45),
    "PAC-2-GEM-T": ("PATRIOT", 160), "NASAMS-AIM-120": ("NASAMS", 30),
}


def test_bundled_policies_match_the_spec_table_in_order():
    policies = [Policy.from_document(doc) for doc in bundled_policies()]
    assert len(policies) == len(SPEC_POLICIES)
    for policy, (policy_id, start, end, zones) in zip(policies, SPEC_POLICIES):
        assert (policy.id, policy.effective_from, policy.effective_to) == (policy_id, start, end)
        assert {z.id: (z.box, z.max_depth_km, set(z.denied_families)) for z in policy.zones} == zones
        assert policy.permitted_purposes == (PERMITTED if zones else set())
        assert policy.document["source"]["citation"]


def test_bundled_policies_are_contiguous_and_never_overlap():
    policies = [Policy.from_document(doc) for doc in bundled_policies()]
    for earlier, later in zip(policies, policies[1:]):
        assert earlier.effective_to == later.effective_from
    assert policies[-1].effective_to is None


def test_policy_sha256_is_the_hash_of_its_canonical_json():
    docs = bundled_policies()
    hashes = {Policy.from_document(doc).sha256 for doc in docs}
    assert hashes == {hashlib.sha256(rfc8785.dumps(doc)).hexdigest() for doc in docs}
    assert len(hashes) == len(docs)
    changed = docs[1] | {"title": docs[1]["title"] + "."}
    assert Policy.from_document(changed).sha256 != Policy.from_document(docs[1]).sha256


def test_policy_timestamps_are_parsed_to_utc_and_need_an_offset():
    doc = bundled_policies()[0] | {"effective_from": "2022-06-01T03:00:00+03:00"}
    assert Policy.from_document(doc).effective_from == datetime(2022, 6, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        Policy.from_document(doc | {"effective_from": "2022-06-01T00:00:00"})


def test_in_force_at_includes_from_and_excludes_to():
    policy = Policy.from_document(bundled_policies()[1])
    start, end = policy.effective_from, policy.effective_to
    assert policy.in_force_at(start) and not policy.in_force_at(end)
    assert policy.in_force_at(end - timedelta(microseconds=1))
    assert not policy.in_force_at(start - timedelta(microseconds=1))


def test_zone_box_bounds_are_inclusive():
    zone = Zone("z", (35.5, 49.8, 38.3, 51.4), 80.0, frozenset())
    for lon, lat in [(35.5, 49.8), (38.3, 51.4), (35.5, 51.4), (38.3, 49.8)]:
        assert zone.contains(lon, lat, 80.0)
    assert not zone.contains(35.49, 50.0, 10.0) and not zone.contains(36.0, 51.41, 10.0)
    assert not zone.contains(36.0, 50.0, 80.01) and not zone.contains(36.0, 50.0, None)
    assert Zone("anywhere", None, 80.0, frozenset()).contains(-170.0, -80.0, 0.0)


def test_munition_catalog_matches_the_spec():
    assert {m["code"]: (m["family"], m["max_range_km"]) for m in bundled_munitions()} == SPEC_MUNITIONS


def test_categories_match_the_spec():
    assert set(CATEGORIES["military"]) == PERMITTED | {"air_defense_site", "military_airfield",
                                                       "military_industry", "military_other"}
    assert set(CATEGORIES["civilian"]) == {
        "residential", "medical", "education", "energy", "water", "food_agriculture", "cultural_religious",
        "government_civilian", "commercial", "transport_civilian", "dangerous_forces", "civilian_other"}
    assert CATEGORIES["review"] == ["dual_use", "unknown"]
    assert len(ALL_CATEGORIES) == 24
    assert [category_group(c) for c in ("launch_site", "water", "unknown")] == ["military", "civilian", "review"]
    with pytest.raises(ValueError):
        category_group("tank")


def test_callers_cannot_change_the_bundled_data():
    bundled_policies()[0]["zones"].append({"id": "rogue"})
    bundled_munitions()[0]["max_range_km"] = 1
    assert bundled_policies()[0]["zones"] == []
    assert bundled_munitions()[0]["max_range_km"] == 84
