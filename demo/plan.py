"""Planning the demo set: scenarios that make every verdict and rule id occur, then random reports."""
from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from demo.world import (AIR_DEFENCE_FAMILIES, ATACMS, BORDER_REGION_WEIGHTS, BORDER_WIDE, CATALOG, CATEGORY_WEIGHTS,
                        CIVILIAN, DESCRIPTIONS, EVENT_ID, GMLRS, KHARKIV, KHARKIV_BOX, KURSK_ATACMS, KURSK_BOX,
                        LAUNCH_AREAS, LAUNCH_JITTER, NO_CROSS_BORDER, NOT_US, NOTES, OPEN_PERIOD_HORIZON, PERIODS,
                        PRE_POLICY, REVIEW, THEATRE_WEIGHTS, THEATRES, UNCATALOGUED_US, Period, Place, Theatre, Weapon,
                        in_box)
from service.core import geo


class _Unplannable(Exception):
    """These draws cannot make a consistent report (e.g. no weapon reaches the target); draw again."""


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    country: str | None
    depth_km: float
    place: Place


@dataclass
class Scenario:
    """Constraints of one planned report; whatever is left open is drawn at random."""

    name: str
    period: int | None = None
    theatre: str | None = None
    region: str | None = None
    where: object = None  # predicate(Point) -> bool
    category: str | None = None
    us_provided: bool | None = None
    munitions: tuple[str, ...] | None = None  # catalog codes to choose from
    uncatalogued: bool | None = None
    launch: str | None = None  # "ok" | "missing" | "far"
    linked: object = "random"  # True | False | None (absent) | "random"
    country: str | None = None  # "match" | "absent" | "mismatch"
    expect_verdict: str | None = None
    expect_rules: tuple[str, ...] = ()


def _weighted(rng: random.Random, weights: dict):
    keys = list(weights)
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _period_instant(rng: random.Random, period: Period) -> datetime:
    seconds = int((period.end - period.start).total_seconds())
    return period.start + timedelta(seconds=rng.randrange(seconds))


def _place_target(rng: random.Random, theatre: Theatre, period: int, region: str | None, where) -> Point:
    places = theatre.places
    if theatre.name == "ru_border":
        region = region or _weighted(rng, BORDER_REGION_WEIGHTS[period])
    if region:
        places = tuple(p for p in places if p.region == region)
    for _ in range(60):
        place = rng.choice(places)
        lat = round(place.lat + rng.uniform(-theatre.jitter, theatre.jitter), 4)
        lon = round(place.lon + rng.uniform(-theatre.jitter, theatre.jitter) * 1.5, 4)
        country = geo.country_at(lat, lon)
        if country != theatre.country:
            continue
        depth = geo.depth_km(lat, lon) if country != "UA" else 0.0
        if theatre.depth and not theatre.depth[0] <= depth <= theatre.depth[1]:
            continue
        point = Point(lat, lon, country, depth, place)
        if where is None or where(point):
            return point
    raise _Unplannable(f"no point of {theatre.name} fits")


def _launch_options(target: Point, reach_km: float, far: bool) -> list[tuple[Place, float]]:
    options = []
    for area in LAUNCH_AREAS:
        distance = geo.range_km(area.lat, area.lon, target.lat, target.lon)
        if far:
            if reach_km * 1.15 + 10 <= distance <= max(2.5 * reach_km, reach_km + 150):
                options.append((area, distance))
        elif 2.0 <= distance <= reach_km - 5:
            options.append((area, distance))
    return options


def _pick_launch(rng: random.Random, target: Point, reach_km: float, far: bool) -> dict:
    options = _launch_options(target, reach_km, far)
    if not options:
        raise _Unplannable("no launch area fits")
    area = rng.choices([a for a, _ in options], weights=[1.0 / (d + 30.0) for _, d in options])[0]
    for _ in range(10):
        lat = round(area.lat + rng.uniform(-LAUNCH_JITTER, LAUNCH_JITTER), 4)
        lon = round(area.lon + rng.uniform(-LAUNCH_JITTER, LAUNCH_JITTER) * 1.5, 4)
        distance = geo.range_km(lat, lon, target.lat, target.lon)
        if geo.country_at(lat, lon) == "UA" and (distance > reach_km + 5 if far else distance <= reach_km - 1):
            return {"lat": lat, "lon": lon}
    raise _Unplannable("no launch point fits")


def _weight(weapon: Weapon, when: datetime, target: Point) -> float:
    # Units mostly kept to the policy: ATACMS inside Russia is rare until it is allowed near Kursk.
    allowed = when >= PERIODS[KURSK_ATACMS].start and in_box(KURSK_BOX, target.lat, target.lon)
    if weapon.family == "ATACMS" and target.country == "RU" and not allowed:
        return weapon.weight * 0.2
    return weapon.weight


def _weapon_and_launch(rng: random.Random, s: Scenario, when: datetime, target: Point, category: str,
                       theatre: str) -> tuple[Weapon, dict | None]:
    if not s.us_provided:
        pool = [w for w in NOT_US if w.fielded <= when]
        weapon = rng.choices(pool, weights=[w.weight for w in pool])[0]
        if weapon.max_range_km is None or not _launch_options(target, weapon.max_range_km, False):
            return weapon, None
        return weapon, _pick_launch(rng, target, weapon.max_range_km, False)
    if s.uncatalogued:
        pool = [w for w in UNCATALOGUED_US if w.fielded <= when]
        if not pool:
            raise _Unplannable("nothing uncatalogued fielded yet")
        weapon = rng.choice(pool)
        if weapon.max_range_km is None or not _launch_options(target, weapon.max_range_km, False):
            return weapon, None
        return weapon, _pick_launch(rng, target, weapon.max_range_km, False)

    pool = [w for w in CATALOG.values() if w.fielded <= when and (s.munitions is None or w.code in s.munitions)]
    air_defence = [w for w in pool if w.family in AIR_DEFENCE_FAMILIES]
    if s.munitions is None:
        # Interceptors shoot at missiles and aircraft; rockets and shells at everything else.
        wants_air_defence = theatre == "ua_air" or category == "incoming_missile" or (
            category == "strike_aircraft" and rng.random() < 0.5)
        pool = air_defence if wants_air_defence else [w for w in pool if w not in air_defence]
    launch_mode = s.launch
    usable = [w for w in pool if _launch_options(target, w.max_range_km, False)]
    if launch_mode == "far":
        usable = [w for w in pool if _launch_options(target, w.max_range_km, True)]
    if not usable:
        raise _Unplannable("no weapon reaches the target")
    weapon = rng.choices(usable, weights=[_weight(w, when, target) for w in usable])[0]
    if launch_mode == "missing":
        return weapon, None
    return weapon, _pick_launch(rng, target, weapon.max_range_km, launch_mode == "far")


def _reported_country(rng: random.Random, mode: str, target: Point) -> str | None:
    if mode == "absent":
        return None
    if mode == "match":
        return target.country  # at sea there is nothing that matches: the caller asks for "absent"
    # A mismatch: occupied Ukraine reported as Russia, a border village as Ukraine, a ship as Russian.
    return {"UA": "RU", "RU": "UA", "BY": "UA", None: rng.choice(("RU", "UA"))}[target.country]


def _draw(rng: random.Random, s: Scenario, seed: int) -> dict:
    """One report following the scenario; raises _Unplannable when these draws do not fit."""
    period_index = s.period if s.period is not None else _weighted(
        rng, {i: p.weight for i, p in enumerate(PERIODS)})
    when = _period_instant(rng, PERIODS[period_index])
    if s.us_provided is None:
        s = _copy(s, us_provided=rng.random() >= 0.055)
    if s.us_provided and s.uncatalogued is None:
        s = _copy(s, uncatalogued=rng.random() < 0.025)
    theatre_name = s.theatre or _weighted(rng, THEATRE_WEIGHTS[period_index])
    theatre = THEATRES[theatre_name]
    target = _place_target(rng, theatre, period_index, s.region, s.where)

    category = s.category
    if category is None:
        if target.place.hints and rng.random() < 0.5:
            category = rng.choice(target.place.hints)
        else:
            category = _weighted(rng, CATEGORY_WEIGHTS[theatre_name])
    if s.launch is None:
        s = _copy(s, launch=_weighted(rng, {"ok": 0.925, "missing": 0.05, "far": 0.025}))
    weapon, launch = _weapon_and_launch(rng, s, when, target, category, theatre_name)

    linked = s.linked
    if linked == "random":
        if category in CIVILIAN or category in REVIEW:
            linked = _weighted(rng, {None: 0.6, True: 0.4})
        elif target.country == "RU":
            linked = _weighted(rng, {True: 0.80, None: 0.14, False: 0.06})
        else:
            linked = _weighted(rng, {True: 0.6, None: 0.4})
    country_mode = s.country or _weighted(rng, {"match": 0.70, "absent": 0.26, "mismatch": 0.04})
    if target.country is None and country_mode == "match":
        country_mode = "absent"
    reported = _reported_country(rng, country_mode, target)

    target_doc = {"lat": target.lat, "lon": target.lon, "category": category}
    if linked is not None:
        target_doc["linked_to_invasion"] = linked
    if reported is not None:
        target_doc["country"] = reported
    target_doc["description"] = (f"{rng.choice(DESCRIPTIONS[category])} {theatre.preposition} {target.place.name}"
                                 + (f" ({target.place.region} oblast)" if target.place.region and target.country in
                                    ("RU", "UA") and theatre_name != "ua_air" else ""))
    weapon_doc = {"munition": weapon.code, "us_provided": bool(s.us_provided)}
    if weapon.launchers and rng.random() < 0.9:
        weapon_doc["launcher"] = rng.choice(weapon.launchers)
    event = {"occurred_at": when.strftime("%Y-%m-%dT%H:%M:%SZ"), "weapon": weapon_doc}
    if launch is not None:
        event["launch"] = launch
    event["target"] = target_doc
    if rng.random() < 0.7:
        event["notes"] = f"Synthetic demo report (seed {seed}). {rng.choice(NOTES)}"
    evidence = []
    for k in range(rng.choice((0, 1, 1, 2))):
        kind, ext = rng.choice((("imagery", "tif"), ("video", "mp4"), ("report", "pdf")))
        evidence.append({"kind": kind, "uri": f"s3://demo-evidence/seed-{seed}/{EVENT_ID}-{k + 1}.{ext}",
                         "sha256": f"{rng.getrandbits(256):064x}"})
    if evidence:
        event["evidence"] = evidence
    return event


def _copy(s: Scenario, **changes) -> Scenario:
    return Scenario(**{**s.__dict__, **changes})


def _plan(rng: random.Random, s: Scenario, seed: int) -> dict:
    for _ in range(400):
        try:
            return _draw(rng, s, seed)
        except _Unplannable:
            continue
    raise RuntimeError(f"scenario {s.name!r} could not be planned")


def _kharkiv_sector(p: Point) -> bool:
    return in_box(KHARKIV_BOX, p.lat, p.lon) and p.depth_km <= 75


# One report per scenario makes sure every verdict and rule id occurs, whatever the seed; the
# expectations are only printed when the service disagrees, it is the service that judges.
COVERAGE = (
    Scenario("before the first policy: artillery on a Kherson-bank position", period=PRE_POLICY, theatre="occupied",
             category="force_concentration", us_provided=True, uncatalogued=False, launch="ok", linked=True,
             country="match", expect_verdict="needs_review", expect_rules=("POLICY-NONE",)),
    Scenario("rockets on a depot in occupied Ukraine", period=NO_CROSS_BORDER, theatre="occupied",
             category="military_logistics", us_provided=True, uncatalogued=False, munitions=GMLRS, launch="ok",
             linked=True, country="match", expect_verdict="compliant"),
    Scenario("counter-fire into the Kharkiv sector", period=KHARKIV, theatre="ru_border", region="Belgorod",
             where=_kharkiv_sector, category="launch_site", us_provided=True, uncatalogued=False, munitions=GMLRS,
             launch="ok", linked=True, country="match", expect_verdict="compliant"),
    Scenario("ATACMS on a Kursk-area airbase after November 2024", period=KURSK_ATACMS, theatre="ru_deep",
             where=lambda p: in_box(KURSK_BOX, p.lat, p.lon), category="strike_aircraft", us_provided=True,
             uncatalogued=False, munitions=("M39A1-ATACMS", "M57-ATACMS"), launch="ok", linked=True,
             country="match", expect_verdict="compliant"),
    Scenario("civilian object hit", period=BORDER_WIDE, theatre="occupied", category="energy", us_provided=True,
             uncatalogued=False, launch="ok", linked=None, country="match", expect_verdict="violation",
             expect_rules=("CIV-TARGET",)),
    Scenario("strike inside Russia before May 2024", period=NO_CROSS_BORDER, theatre="ru_border", region="Belgorod",
             category="force_concentration", us_provided=True, uncatalogued=False, munitions=GMLRS, launch="ok",
             linked=True, country="match", expect_verdict="violation", expect_rules=("XB-NOT-AUTHORIZED",)),
    Scenario("Kursk oblast under the Kharkiv-only permission", period=KHARKIV, theatre="ru_border", region="Kursk",
             where=lambda p: not in_box(KHARKIV_BOX, p.lat, p.lon), category="force_concentration",
             us_provided=True, uncatalogued=False, launch="ok", linked=True, country="match",
             expect_verdict="violation", expect_rules=("XB-OUTSIDE-ZONE",)),
    Scenario("deep strike outside every zone", period=KURSK_ATACMS, theatre="ru_deep",
             where=lambda p: not in_box(KURSK_BOX, p.lat, p.lon), category="military_logistics", us_provided=True,
             uncatalogued=False, munitions=ATACMS, launch="ok", linked=True, country="match",
             expect_verdict="violation", expect_rules=("XB-OUTSIDE-ZONE",)),
    Scenario("ATACMS in the border strip", period=BORDER_WIDE, theatre="ru_border", region="Belgorod",
             category="force_concentration", us_provided=True, uncatalogued=False, munitions=ATACMS, launch="ok",
             linked=True, country="match", expect_verdict="violation", expect_rules=("XB-MUNITION",)),
    Scenario("target in Belarus", period=KURSK_ATACMS, theatre="belarus", category="military_logistics",
             us_provided=True, uncatalogued=False, launch="ok", linked=True, country="match",
             expect_verdict="violation", expect_rules=("TARGET-THIRD-COUNTRY",)),
    Scenario("air-defence site across the border", period=BORDER_WIDE, theatre="ru_border", category="air_defense_site",
             us_provided=True, uncatalogued=False, munitions=GMLRS, launch="ok", linked=True, country="match",
             expect_verdict="violation", expect_rules=("XB-PURPOSE",)),
    Scenario("military target reported as not linked", period=KURSK_ATACMS, theatre="ru_border",
             category="military_logistics", us_provided=True, uncatalogued=False, munitions=GMLRS, launch="ok",
             linked=False, country="match", expect_verdict="violation", expect_rules=("MIL-NOT-LINKED",)),
    Scenario("link to the invasion not stated", period=BORDER_WIDE, theatre="ru_border", category="command_post",
             us_provided=True, uncatalogued=False, munitions=GMLRS, launch="ok", linked=None, country="match",
             expect_verdict="needs_review", expect_rules=("LINK-UNSTATED",)),
    Scenario("launch beyond the munition's range", period=KURSK_ATACMS, theatre="occupied",
             category="force_concentration", us_provided=True, uncatalogued=False, munitions=GMLRS + ("GLSDB",),
             launch="far", linked=True, country="match", expect_verdict="needs_review",
             expect_rules=("RANGE-EXCEEDED",)),
    Scenario("no launch position across the border", period=KHARKIV, theatre="ru_border", region="Belgorod",
             where=_kharkiv_sector, category="force_concentration", us_provided=True, uncatalogued=False,
             munitions=GMLRS, launch="missing", linked=True, country="match", expect_verdict="needs_review",
             expect_rules=("LAUNCH-MISSING",)),
    Scenario("Crimea reported as Russia", period=NO_CROSS_BORDER, theatre="occupied", region="Crimea",
             category="air_defense_site", us_provided=True, uncatalogued=False, launch="ok", linked=True,
             country="mismatch", expect_verdict="needs_review", expect_rules=("COUNTRY-MISMATCH",)),
    Scenario("warship at sea", period=BORDER_WIDE, theatre="sea", category="military_other", us_provided=True,
             uncatalogued=False, launch="ok", linked=True, country="absent", expect_verdict="needs_review",
             expect_rules=("LOCATION-UNRESOLVED",)),
    Scenario("dual-use bridge", period=NO_CROSS_BORDER, theatre="occupied", category="dual_use", us_provided=True,
             uncatalogued=False, launch="ok", linked=True, country="match", expect_verdict="needs_review",
             expect_rules=("CATEGORY-REVIEW",)),
    Scenario("munition not in the catalog", period=NO_CROSS_BORDER, theatre="occupied", category="air_defense_site",
             us_provided=True, uncatalogued=True, linked=True, country="match", expect_verdict="needs_review",
             expect_rules=("MUNITION-UNKNOWN",)),
    Scenario("Ukrainian-made weapon", period=KURSK_ATACMS, theatre="ru_deep", category="military_airfield",
             us_provided=False, linked=True, country="match", expect_verdict="out_of_scope"),
)


@dataclass(frozen=True)
class PlannedReport:
    event: dict
    scenario: Scenario | None  # a coverage scenario, or None for the random part


def plan_reports(count: int, seed: int) -> list[PlannedReport]:
    """The demo set: the coverage scenarios, then random reports, numbered in the order drawn.

    The random reports are drawn one after another from one stream, so the set for a larger
    --count starts with the set for a smaller one: numbers never change meaning for a seed.
    """
    if count < len(COVERAGE):
        raise ValueError(f"--count must be at least {len(COVERAGE)} (one report per coverage scenario)")
    if datetime.now(timezone.utc) < OPEN_PERIOD_HORIZON:
        raise ValueError(f"the demo set runs to {OPEN_PERIOD_HORIZON:%Y-%m-%d}, which is in this machine's future")
    rng = random.Random(seed)
    planned = [PlannedReport(_plan(rng, s, seed), s) for s in COVERAGE]
    random_part = Scenario("random")
    planned += [PlannedReport(_plan(rng, random_part, seed), None) for _ in range(count - len(COVERAGE))]
    numbered = []
    for number, report in enumerate(planned, start=1):
        source_event_id = f"demo-{seed}-{number:05d}"
        event = {"source_event_id": source_event_id, **report.event}
        for item in event.get("evidence", ()):
            item["uri"] = item["uri"].replace(EVENT_ID, source_event_id)
        numbered.append(PlannedReport(event, report.scenario))
    return numbered
