"""Inline SVG for the HTML report: stacked weekly bars, horizontal bar charts and the flagged-points map."""
from functools import cache
from html import escape
from math import cos, radians

import shapely

VERDICT_COLORS = {"compliant": "#3f8f4f", "needs_review": "#e0a100", "violation": "#c62828", "out_of_scope": "#9e9e9e"}
# A fixed window around the Ukraine–Russia border, so maps of different periods compare at a glance.
WINDOW = (30.0, 44.0, 42.0, 54.0)  # lon_min, lat_min, lon_max, lat_max
MAP_WIDTH = 760
MARGIN = 0.5  # degrees added around points that fall outside the window
# Reference cities, for orientation only (lon, lat).
CITIES = (("Kyiv", 30.52, 50.45), ("Kharkiv", 36.23, 49.99), ("Belgorod", 36.59, 50.6), ("Kursk", 36.19, 51.73),
          ("Sumy", 34.8, 50.91), ("Voronezh", 39.2, 51.67), ("Donetsk", 37.8, 48.0), ("Rostov", 39.72, 47.24))


def _e(value) -> str:
    return escape(str(value), quote=True)


def _svg(svg_id: str, label: str, width: int, height: int, body: list[str]) -> str:
    # No xmlns: inline SVG in HTML needs none, and the page must hold no URL at all.
    return (f'<svg id="{svg_id}" class="chart" role="img" aria-label="{_e(label)}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}"><title>{_e(label)}</title>{"".join(body)}</svg>')


def _legend(items: list[tuple[str, str]], x: int, y: int) -> list[str]:
    out = []
    for label, color in items:
        out.append(f'<rect class="legend-key" x="{x}" y="{y - 9}" width="10" height="10" fill="{color}" stroke="#999"/>'
                   f'<text class="legend" x="{x + 14}" y="{y}">{_e(label)}</text>')
        x += 14 + 7 * len(label) + 16
    return out


def weekly_chart(weekly: list[dict], svg_id: str = "chart-weekly") -> str:
    """Stacked bars: one per ISO week, one segment per verdict."""
    width, height, left, top, bottom = 1040, 260, 44, 30, 40
    plot = height - top - bottom
    totals = [sum(w["by_verdict"].values()) for w in weekly]
    peak = max(totals, default=0) or 1
    body = _legend([(v.replace("_", " "), c) for v, c in VERDICT_COLORS.items()], left, 14)
    body.append(f'<line class="axis" x1="{left}" y1="{top + plot}" x2="{width}" y2="{top + plot}" stroke="#555"/>'
                f'<text class="tick" x="{left - 6}" y="{top + 4}" text-anchor="end">{peak}</text>'
                f'<text class="tick" x="{left - 6}" y="{top + plot}" text-anchor="end">0</text>')
    slot = (width - left) / max(len(weekly), 1)
    for i, week in enumerate(weekly):
        x, y = left + i * slot + slot * 0.15, top + plot
        for verdict, color in VERDICT_COLORS.items():
            n = week["by_verdict"].get(verdict, 0)
            h = plot * n / peak
            y -= h
            if n:
                body.append(f'<rect class="bar {verdict}" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                            f'height="{h:.1f}" fill="{color}"><title>{_e(week["week"])}: {n} {verdict}</title></rect>')
        body.append(f'<text class="value" x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                    f'{totals[i]}</text><text class="tick" x="{x + slot * 0.35:.1f}" y="{height - bottom + 16}" '
                    f'text-anchor="middle">{_e(week["week"])}</text>')
    if not weekly:
        body.append(f'<text class="empty" x="{width / 2}" y="{height / 2}" text-anchor="middle">No events</text>')
    return _svg(svg_id, "Events per week by verdict (stacked bars)", width, height, body)


def bar_chart(counts: dict, svg_id: str, label: str, color: str = "#37618a") -> str:
    """Horizontal bars, largest first; the label column is sized for rule ids like XB-OUTSIDE-ZONE."""
    rows = sorted(counts.items(), key=lambda kv: (-kv[1], str(kv[0])))
    width, left, row_h = 420, 170, 22
    height = max(len(rows), 1) * row_h + 10
    peak = max(counts.values(), default=0) or 1
    body = []
    for i, (key, n) in enumerate(rows):
        y, w = 5 + i * row_h, (width - left - 40) * n / peak
        body.append(f'<text class="tick" x="{left - 6}" y="{y + 15}" text-anchor="end">{_e(key)}</text>'
                    f'<rect class="bar" x="{left}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" fill="{color}"/>'
                    f'<text class="value" x="{left + w + 4:.1f}" y="{y + 15}">{n}</text>')
    if not rows:
        body.append(f'<text class="empty" x="{width / 2}" y="{height / 2 + 4}" text-anchor="middle">None</text>')
    return _svg(svg_id, label, width, height, body)


def _window(points: list[dict]) -> tuple[float, float, float, float]:
    lons, lats = [p["lon"] for p in points], [p["lat"] for p in points]
    return (min([WINDOW[0], *[x - MARGIN for x in lons]]), min([WINDOW[1], *[y - MARGIN for y in lats]]),
            max([WINDOW[2], *[x + MARGIN for x in lons]]), max([WINDOW[3], *[y + MARGIN for y in lats]]))


@cache
def _outlines(window: tuple) -> dict:
    """The Natural Earth polygons the rules use, clipped and simplified (~2 km) to keep the page small."""
    from service.core.geo import border_outlines  # loads the geocoder data: only when a map is drawn

    box = shapely.box(*window)
    return {code: shapely.intersection(geom, box).simplify(0.02) for code, geom in border_outlines().items()}


def flagged_map(points: list[dict], svg_id: str = "map-flagged") -> str:
    """Equirectangular map, x scaled by cos(mid-latitude) so shapes look right at ~50°N."""
    window = _window(points)
    lon0, lat0, lon1, lat1 = window
    kx = cos(radians((lat0 + lat1) / 2))
    scale = MAP_WIDTH / ((lon1 - lon0) * kx)
    height = round((lat1 - lat0) * scale)

    def xy(lon, lat):
        return f"{(lon - lon0) * kx * scale:.1f},{(lat1 - lat) * scale:.1f}"

    body = [f'<rect class="sea" width="{MAP_WIDTH}" height="{height}" fill="#f4f8fb"/>']
    fills = {"RU": "#e6e1d8", "UA": "#d7e6f5"}
    for code, geom in _outlines(window).items():
        rings = [ring for poly in getattr(geom, "geoms", [geom]) if not poly.is_empty
                 for ring in (poly.exterior, *poly.interiors)]
        d = "".join("M" + "L".join(xy(x, y) for x, y in ring.coords) + "Z" for ring in rings)
        body.append(f'<path class="country" id="country-{code}" d="{d}" fill="{fills.get(code, "#eee")}" '
                    f'stroke="#777" stroke-width="0.8" fill-rule="evenodd"><title>{code}</title></path>')
    for name, lon, lat in CITIES:
        x, y = xy(lon, lat).split(",")
        body.append(f'<g class="city"><rect x="{float(x) - 2.5}" y="{float(y) - 2.5}" width="5" height="5" '
                    f'fill="#444"/><text x="{float(x) + 6}" y="{float(y) + 4}" fill="#444">{name}</text></g>')
    # Violations last, so red is drawn on top of amber where points overlap.
    for p in sorted(points, key=lambda p: p["verdict"] == "violation"):
        x, y = xy(p["lon"], p["lat"]).split(",")
        body.append(f'<circle class="marker {_e(p["verdict"])}" data-event-id="{_e(p["event_id"])}" cx="{x}" '
                    f'cy="{y}" r="5" fill="{VERDICT_COLORS.get(p["verdict"], "#333")}" stroke="#222" '
                    f'stroke-width="0.8"><title>{_e(p["event_id"])}: {_e(p["verdict"])}, '
                    f'{_e(p["severity"])}</title></circle>')
    body.append('<rect class="legend-box" x="8" y="8" width="330" height="48" fill="#fff" stroke="#999"/>')
    body += _legend([("violation", VERDICT_COLORS["violation"]), ("needs review", VERDICT_COLORS["needs_review"])],
                    18, 26)
    body += _legend([("Ukraine", fills["UA"]), ("Russia", fills["RU"]), ("other / sea", "#f4f8fb")], 18, 46)
    return _svg(svg_id, f"Map of {len(points)} flagged target points along the Ukraine–Russia border",
                MAP_WIDTH, height, body)
