"""Inline SVG for the HTML report: stacked weekly bars, horizontal bar charts and the flagged-points map."""
from datetime import timedelta
from functools import cache
from html import escape
from math import ceil, cos, floor, log10, radians


from service.core.time import parse_rfc3339

VERDICT_COLORS = {"compliant": "#3f8f4f", "needs_review": "#e0a100", "violation": "#c62828", "out_of_scope": "#9e9e9e"}
# A fixed window around the Ukraine–Russia border, so maps of different periods compare at a glance.
WINDOW = (30.0, 44.0, 42.0, 54.0)  # lon_min, lat_min, lon_max, lat_max
MAP_WIDTH = 760
MARGIN = 0.5  # degrees added around points that fall outside the window
# Ukraine, Russia, every other country's land, and the sea: four fills a printed page tells apart.
LAND_FILLS = {"UA": "#d7e6f5", "RU": "#e6e1d8"}
OTHER_LAND, SEA = "#cfd8c4", "#f4f8fb"
WEEK = timedelta(days=7)
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


def axis_ticks(peak: int) -> list[int]:
    """0 up to the first round value ≥ peak, in about four steps of 1, 2 or 5 × 10^k (whole events)."""
    if peak <= 0:
        return [0, 1]
    raw = peak / 4
    magnitude = 10 ** floor(log10(raw))
    step = max(1, int(next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)))
    return list(range(0, ceil(peak / step) * step + 1, step))


def partial_weeks(weekly: list[dict], period: dict) -> list[bool]:
    """Whether each ISO week starts before the period or ends after it: its bar counts only some days."""
    start, end = parse_rfc3339(period["from"]), parse_rfc3339(period["to"])
    mondays = [parse_rfc3339(w["from"]) for w in weekly]
    return [monday < start or monday + WEEK > end for monday in mondays]


def weekly_chart(weekly: list[dict], period: dict, svg_id: str = "chart-weekly") -> str:
    """Stacked bars: one per ISO week, one segment per verdict; a week cut by the period's bounds is
    drawn lighter, its label marked with an asterisk."""
    width, height, left, top, bottom = 1040, 260, 44, 30, 40
    plot = height - top - bottom
    totals = [sum(w["by_verdict"].values()) for w in weekly]
    ticks = axis_ticks(max(totals, default=0))
    peak = ticks[-1]
    partial = partial_weeks(weekly, period)
    body = _legend([(v.replace("_", " "), c) for v, c in VERDICT_COLORS.items()], left, 14)
    for tick in ticks:
        y = top + plot - plot * tick / peak
        body.append(f'<line class="grid" x1="{left}" y1="{y:.1f}" x2="{width}" y2="{y:.1f}" stroke="#e3e3e3"/>'
                    f'<text class="tick y-tick" x="{left - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    body.append(f'<line class="axis" x1="{left}" y1="{top + plot}" x2="{width}" y2="{top + plot}" stroke="#555"/>')
    slot = (width - left) / max(len(weekly), 1)
    for i, week in enumerate(weekly):
        x, y = left + i * slot + slot * 0.15, top + plot
        opacity = ' fill-opacity="0.45"' if partial[i] else ""
        for verdict, color in VERDICT_COLORS.items():
            n = week["by_verdict"].get(verdict, 0)
            h = plot * n / peak
            y -= h
            if n:
                body.append(f'<rect class="bar {verdict}" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.7:.1f}" '
                            f'height="{h:.1f}" fill="{color}"{opacity}><title>{_e(week["week"])}: {n} {verdict}'
                            f'</title></rect>')
        label = f'{_e(week["week"])}{" *" if partial[i] else ""}'
        cls = "tick week partial" if partial[i] else "tick week"
        body.append(f'<text class="value" x="{x + slot * 0.35:.1f}" y="{y - 4:.1f}" text-anchor="middle">'
                    f'{totals[i]}</text><text class="{cls}" x="{x + slot * 0.35:.1f}" y="{height - bottom + 16}" '
                    f'text-anchor="middle">{label}</text>')
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


def point_numbers(points: list[dict]) -> dict[str, int]:
    """event id -> its number on the map: its place in the report's flagged points, from 1."""
    return {p["event_id"]: i for i, p in enumerate(points, 1)}


def _window(points: list[dict]) -> tuple[float, float, float, float]:
    lons, lats = [p["lon"] for p in points], [p["lat"] for p in points]
    return (min([WINDOW[0], *[x - MARGIN for x in lons]]), min([WINDOW[1], *[y - MARGIN for y in lats]]),
            max([WINDOW[2], *[x + MARGIN for x in lons]]), max([WINDOW[3], *[y + MARGIN for y in lats]]))


@cache
def _outlines(window: tuple) -> list[tuple[str | None, object]]:
    """The Natural Earth polygons the rules use, clipped and simplified (~2 km) to keep the page small."""
    from service.core.geo import outlines_within  # loads the geocoder data: only when a map is drawn

    simplified = [(code, geom.simplify(0.02)) for code, geom in outlines_within(window).items()]
    return [(code, geom) for code, geom in simplified if not geom.is_empty]


def flagged_map(points: list[dict], svg_id: str = "map-flagged") -> str:
    """Equirectangular map, x scaled by cos(mid-latitude) so shapes look right at ~50°N."""
    window = _window(points)
    lon0, lat0, lon1, lat1 = window
    kx = cos(radians((lat0 + lat1) / 2))
    scale = MAP_WIDTH / ((lon1 - lon0) * kx)
    height = round((lat1 - lat0) * scale)

    def xy(lon, lat):
        return f"{(lon - lon0) * kx * scale:.1f},{(lat1 - lat) * scale:.1f}"

    body = [f'<rect class="sea" width="{MAP_WIDTH}" height="{height}" fill="{SEA}"/>']
    for code, geom in _outlines(window):
        rings = [ring for poly in getattr(geom, "geoms", [geom]) if not poly.is_empty
                 for ring in (poly.exterior, *poly.interiors)]
        d = "".join("M" + "L".join(xy(x, y) for x, y in ring.coords) + "Z" for ring in rings)
        name = code or "unassigned land"
        body.append(f'<path class="country{"" if code in LAND_FILLS else " other-land"}" id="country-{_e(name)}" '
                    f'd="{d}" fill="{LAND_FILLS.get(code, OTHER_LAND)}" stroke="#777" stroke-width="0.8" '
                    f'fill-rule="evenodd"><title>{_e(name)}</title></path>')
    for name, lon, lat in CITIES:
        x, y = xy(lon, lat).split(",")
        body.append(f'<g class="city"><rect x="{float(x) - 2.5}" y="{float(y) - 2.5}" width="5" height="5" '
                    f'fill="#444"/><text x="{float(x) + 6}" y="{float(y) + 4}" fill="#444">{name}</text></g>')
    # Violations last, so red is drawn on top of amber where points overlap. Each point carries its
    # number (point_numbers), which the tables repeat, so a printed map can be read against them.
    numbers = point_numbers(points)
    for p in sorted(points, key=lambda p: p["verdict"] == "violation"):
        x, y = xy(p["lon"], p["lat"]).split(",")
        number = numbers[p["event_id"]]
        body.append(f'<circle class="marker {_e(p["verdict"])}" data-event-id="{_e(p["event_id"])}" '
                    f'data-number="{number}" cx="{x}" cy="{y}" r="5" fill="{VERDICT_COLORS.get(p["verdict"], "#333")}" '
                    f'stroke="#222" stroke-width="0.8"><title>{number}. {_e(p["event_id"])}: {_e(p["verdict"])}, '
                    f'{_e(p["severity"])}</title></circle><text class="marker-number" x="{float(x) + 6:.1f}" '
                    f'y="{float(y) - 5:.1f}" fill="#222" stroke="#fff" stroke-width="2.5" paint-order="stroke" '
                    f'font-size="10" font-weight="600">{number}</text>')
    body.append('<rect class="legend-box" x="8" y="8" width="420" height="48" fill="#fff" stroke="#999"/>')
    body += _legend([("violation", VERDICT_COLORS["violation"]), ("needs review", VERDICT_COLORS["needs_review"])],
                    18, 26)
    body += _legend([("Ukraine", LAND_FILLS["UA"]), ("Russia", LAND_FILLS["RU"]), ("other land", OTHER_LAND),
                     ("sea", SEA)], 18, 46)
    return _svg(svg_id, f"Map of {len(points)} flagged target points along the Ukraine–Russia border",
                MAP_WIDTH, height, body)
