"""The console's map as drawing data: Natural Earth outlines (the boundaries the rules use), the zones
of a policy version and event points, projected for inline SVG as the report's map is (equirectangular,
x scaled by the cosine of the middle latitude)."""
from dataclasses import dataclass
from functools import cache
from math import cos, radians

import pyproj
import shapely

from service.core import geo
from service.core.rules.model import Zone, polygon_shape
from service.reports.svg import CITIES, VERDICT_COLORS

# Ukraine, Russia's border regions, Belarus and the neighbours to the west and south.
WINDOW = (22.0, 43.5, 46.0, 57.0)
MARGIN = 0.5  # degrees around points outside the window
WIDTH = 960
SIMPLIFY_DEG = 0.02  # ~2 km: outlines small enough for a page, far finer than a pixel here
FILLS = {"UA": "#d7e6f5", "RU": "#e6e1d8"}
OTHER_LAND = "#efefea"
SEA = "#f4f8fb"
# Depths are geodesic distances to Ukraine's polygon; for drawing, a band of that width in an
# equal-area projection centred on the border is within about 1 % of it across the window.
_BORDER_CRS = pyproj.CRS.from_proj4("+proj=laea +lat_0=50 +lon_0=36 +ellps=WGS84 +units=m")
_TO_METRES = pyproj.Transformer.from_crs("EPSG:4326", _BORDER_CRS, always_xy=True).transform
_TO_DEGREES = pyproj.Transformer.from_crs(_BORDER_CRS, "EPSG:4326", always_xy=True).transform


@dataclass(frozen=True)
class Projection:
    window: tuple[float, float, float, float]
    width: int = WIDTH

    @property
    def kx(self) -> float:
        return cos(radians((self.window[1] + self.window[3]) / 2))

    @property
    def scale(self) -> float:
        return self.width / ((self.window[2] - self.window[0]) * self.kx)

    @property
    def height(self) -> int:
        return round((self.window[3] - self.window[1]) * self.scale)

    def xy(self, lon: float, lat: float) -> tuple[float, float]:
        return round((lon - self.window[0]) * self.kx * self.scale, 1), round((self.window[3] - lat) * self.scale, 1)

    def path(self, geometry) -> str:
        """SVG path data of a (multi)polygon's rings, holes included (drawn with fill-rule evenodd)."""
        rings = [ring for polygon in getattr(geometry, "geoms", [geometry])
                 if polygon.geom_type == "Polygon" and not polygon.is_empty
                 for ring in (polygon.exterior, *polygon.interiors)]
        return "".join("M" + "L".join("{},{}".format(*self.xy(x, y)) for x, y in ring.coords) + "Z"
                       for ring in rings)


def window_for(points: list[dict]) -> tuple[float, float, float, float]:
    """The fixed window, grown to hold points outside it (a report from the sea or a third country)."""
    lons, lats = [p["lon"] for p in points], [p["lat"] for p in points]
    return (min([WINDOW[0], *[x - MARGIN for x in lons]]), min([WINDOW[1], *[y - MARGIN for y in lats]]),
            max([WINDOW[2], *[x + MARGIN for x in lons]]), max([WINDOW[3], *[y + MARGIN for y in lats]]))


@cache
def _countries(window: tuple) -> dict:
    return {code: shape.simplify(SIMPLIFY_DEG) for code, shape in geo.outlines_within(window).items()}


@cache
def _within_depth(max_depth_km: float):
    """Where a target in Russia is at most max_depth_km from Ukraine: Russia's part of the band."""
    ukraine = shapely.transform(geo.ukraine_outline().simplify(0.01), _TO_METRES, interleaved=False)
    band = shapely.transform(ukraine.buffer(max_depth_km * 1000, 16), _TO_DEGREES, interleaved=False)
    russia = _countries(WINDOW)["RU"]
    return shapely.intersection(russia, band)


@cache
def zone_area(zone: Zone):
    """What a zone of a policy version covers inside Russia: its box or polygon (or anywhere), within
    its maximum depth."""
    area = _within_depth(zone.max_depth_km)
    if zone.polygon is not None:
        return shapely.intersection(area, polygon_shape(zone.polygon))
    if zone.box is not None:
        return shapely.intersection(area, shapely.box(*zone.box))
    return area


def drawing(points: list[dict], zones: tuple[Zone, ...]) -> dict:
    """Everything the map template draws, in SVG coordinates. `points`: {lon, lat, verdict, ...}."""
    projection = Projection(window_for(points))
    countries = [{"code": code, "d": projection.path(shape), "fill": FILLS.get(code, OTHER_LAND)}
                 for code, shape in sorted(_countries(projection.window).items(), key=lambda item: item[0] in FILLS)]
    drawn_zones = []
    for zone in zones:
        area = zone_area(zone)
        if not area.is_empty:
            x, y = projection.xy(*area.representative_point().coords[0])
            drawn_zones.append({"zone": zone, "d": projection.path(area), "x": x, "y": y})
    cities = [{"name": name, "x": projection.xy(lon, lat)[0], "y": projection.xy(lon, lat)[1]}
              for name, lon, lat in CITIES]
    # Violations last, so that red is drawn over amber where points overlap.
    shown = [{**p, "x": projection.xy(p["lon"], p["lat"])[0], "y": projection.xy(p["lon"], p["lat"])[1],
              "color": VERDICT_COLORS.get(p["verdict"], "#333")}
             for p in sorted(points, key=lambda p: p["verdict"] == "violation")]
    return {"width": projection.width, "height": projection.height, "sea": SEA, "countries": countries,
            "zones": drawn_zones, "cities": cities, "points": shown, "colors": VERDICT_COLORS,
            "fills": {**FILLS, "other": OTHER_LAND}}
