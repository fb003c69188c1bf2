"""`make demo`: load a realistic synthetic set of strike reports through the HTTP API.

    python -m service.demo --url http://127.0.0.1:8000 --key KEY [--count 600] [--seed 7]

The set spans every policy period of SPEC §3 (plus a few reports from before the first one),
and is planned so that every verdict and every rule id of SPEC §6 occurs at least once. It
is synthetic: places are real towns, airbases and sea areas, but every strike, unit and
piece of evidence is invented.

The demo is an ordinary API client. It submits with `POST /v1/events/batch` (≤ 200 reports
a request), reads every verdict back with `GET /v1/events/{id}` and prints what the
*service* answered: counts by submission status, verdict, rule id and policy version. The
geography module is used in-process only to *plan* (to keep a jittered town inside Russia
and within 80 km of Ukraine, a sea point at sea, a launch within range); what counts is
what the API returns.

The set is a pure function of --seed and --count (no clock, no network input), and each
report's `source_event_id` is `demo-<seed>-<nnnnn>`, so running the demo again with the same
key gives "duplicate" for every report. Exit status: 0 when every verdict and rule id of
SPEC §6 occurred and no report came back invalid or in conflict, 1 otherwise, 2 when the
service could not be used at all (unreachable, bad key, bad arguments).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from service import geo
from service.rules.catalog import bundled_munitions

# ---- SPEC §6: what must occur -----------------------------------------------------------

VERDICTS = ("compliant", "needs_review", "violation", "out_of_scope")
RULE_IDS = (
    "POLICY-NONE", "CIV-TARGET", "XB-NOT-AUTHORIZED", "XB-OUTSIDE-ZONE", "XB-MUNITION",
    "TARGET-THIRD-COUNTRY", "XB-PURPOSE", "MIL-NOT-LINKED", "LINK-UNSTATED", "RANGE-EXCEEDED",
    "LAUNCH-MISSING", "COUNTRY-MISMATCH", "LOCATION-UNRESOLVED", "CATEGORY-REVIEW", "MUNITION-UNKNOWN",
)
STATUSES = ("created", "duplicate", "conflict", "invalid")
MAX_CHUNK = 200

# ---- SPEC §3: policy periods (planning only; the service picks the version) -------------


def _utc(*args) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


@dataclass(frozen=True)
class Period:
    policy_id: str | None  # None: before the first policy version (POLICY-NONE)
    start: datetime
    end: datetime  # exclusive
    weight: float  # share of the random part of the set


# The open period is cut at a fixed date, so the set does not depend on the day it is made.
OPEN_PERIOD_HORIZON = _utc(2025, 11, 17)
PERIODS = (
    # First M777 155 mm fires in late April 2022; the no-cross-border policy is from June 2022.
    Period(None, _utc(2022, 4, 20), _utc(2022, 6, 1), 0.03),
    Period("us-2022-06-01-no-cross-border", _utc(2022, 6, 1), _utc(2024, 5, 30), 0.34),
    Period("us-2024-05-30-kharkiv", _utc(2024, 5, 30), _utc(2024, 6, 19), 0.10),
    Period("us-2024-06-19-border-wide", _utc(2024, 6, 19), _utc(2024, 11, 17), 0.23),
    Period("us-2024-11-17-kursk-atacms", _utc(2024, 11, 17), OPEN_PERIOD_HORIZON, 0.30),
)
PRE_POLICY, NO_CROSS_BORDER, KHARKIV, BORDER_WIDE, KURSK_ATACMS = range(len(PERIODS))
KHARKIV_BOX = (35.5, 49.8, 38.3, 51.4)  # min_lon, min_lat, max_lon, max_lat
KURSK_BOX = (34.05, 50.9, 38.55, 52.45)


def _in_box(box, lat: float, lon: float) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


# ---- SPEC §4: categories (military ones only appear in CATEGORY_WEIGHTS) ------------------

CIVILIAN = ("residential", "medical", "education", "energy", "water", "food_agriculture", "cultural_religious",
            "government_civilian", "commercial", "transport_civilian", "dangerous_forces", "civilian_other")
REVIEW = ("dual_use", "unknown")

# ---- places -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Place:
    name: str
    lat: float
    lon: float
    region: str = ""
    hints: tuple[str, ...] = ()  # categories typical of the place


@dataclass(frozen=True)
class Theatre:
    name: str
    country: str | None  # the computed country every jittered point must keep
    places: tuple[Place, ...]
    jitter: float  # degrees
    depth: tuple[float, float] | None = None  # accepted depth band in km (with margin to 80 / 300)
    preposition: str = "near"


AIRBASE = ("military_airfield", "strike_aircraft", "air_defense_site")
NPP_DAM = ("dangerous_forces", "energy")

THEATRES = {t.name: t for t in (
    Theatre("occupied", "UA", (
        Place("Donetsk", 48.00, 37.80, "Donetsk"), Place("Horlivka", 48.30, 38.05, "Donetsk"),
        Place("Makiivka", 48.05, 37.96, "Donetsk"), Place("Mariupol", 47.10, 37.55, "Donetsk"),
        Place("Volnovakha", 47.60, 37.50, "Donetsk"), Place("Bakhmut", 48.59, 38.00, "Donetsk"),
        Place("Avdiivka", 48.14, 37.74, "Donetsk"), Place("Luhansk", 48.57, 39.31, "Luhansk"),
        Place("Alchevsk", 48.47, 38.80, "Luhansk"), Place("Lysychansk", 48.90, 38.43, "Luhansk"),
        Place("Sievierodonetsk", 48.95, 38.49, "Luhansk"), Place("Kreminna", 49.05, 38.22, "Luhansk"),
        Place("Svatove", 49.41, 38.16, "Luhansk"), Place("Starobilsk", 49.28, 38.91, "Luhansk"),
        Place("Tokmak", 47.25, 35.71, "Zaporizhzhia"), Place("Polohy", 47.48, 36.25, "Zaporizhzhia"),
        Place("Vasylivka", 47.44, 35.28, "Zaporizhzhia"),
        Place("Enerhodar", 47.50, 34.65, "Zaporizhzhia", NPP_DAM),
        Place("Melitopol", 46.85, 35.37, "Zaporizhzhia", AIRBASE),
        Place("Berdiansk", 46.76, 36.80, "Zaporizhzhia", AIRBASE),
        Place("Nova Kakhovka", 46.75, 33.37, "Kherson", NPP_DAM), Place("Oleshky", 46.62, 32.72, "Kherson"),
        Place("Hola Prystan", 46.52, 32.52, "Kherson"), Place("Skadovsk", 46.12, 32.91, "Kherson"),
        Place("Henichesk", 46.17, 34.81, "Kherson"), Place("Dzhankoi", 45.71, 34.39, "Crimea", AIRBASE),
        Place("Saky airbase", 45.09, 33.60, "Crimea", AIRBASE),
        Place("Belbek airbase", 44.69, 33.57, "Crimea", AIRBASE),
        Place("Simferopol", 44.95, 34.10, "Crimea"), Place("Armiansk", 46.11, 33.69, "Crimea"),
        Place("Vovchansk", 50.29, 36.94, "Kharkiv"),
    ), jitter=0.05),
    Theatre("ru_border", "RU", (
        Place("Belgorod", 50.60, 36.59, "Belgorod"), Place("Shebekino", 50.41, 36.89, "Belgorod"),
        Place("Grayvoron", 50.48, 35.67, "Belgorod"), Place("Valuyki", 50.21, 38.10, "Belgorod"),
        Place("Urazovo", 50.08, 38.04, "Belgorod"), Place("Nikolskoye", 50.55, 36.30, "Belgorod"),
        Place("Korocha", 50.81, 37.19, "Belgorod"), Place("Novy Oskol", 50.76, 37.87, "Belgorod"),
        Place("Tyotkino", 51.27, 34.30, "Kursk"), Place("Sudzha", 51.19, 35.27, "Kursk"),
        Place("Glushkovo", 51.34, 34.63, "Kursk"), Place("Rylsk", 51.57, 34.68, "Kursk"),
        Place("Korenevo", 51.41, 34.91, "Kursk"), Place("Lgov", 51.66, 35.27, "Kursk"),
        Place("Kurchatov", 51.66, 35.65, "Kursk"), Place("Klimovo", 52.38, 32.19, "Bryansk"),
        Place("Klintsy", 52.76, 32.24, "Bryansk"), Place("Sevsk", 52.15, 34.49, "Bryansk"),
        Place("Trubchevsk", 52.58, 33.77, "Bryansk"), Place("Pogar", 52.55, 33.26, "Bryansk"),
        Place("Millerovo airbase", 48.92, 40.40, "Rostov", AIRBASE),
        Place("Kamensk-Shakhtinsky", 48.32, 40.26, "Rostov"), Place("Novoshakhtinsk", 47.76, 39.93, "Rostov"),
        Place("Taganrog", 47.22, 38.90, "Rostov"),
    ), jitter=0.04, depth=(0.5, 75.0)),
    Theatre("ru_deep", "RU", (
        Place("Kursk", 51.73, 36.19, "Kursk"), Place("Khalino airbase", 51.75, 36.30, "Kursk", AIRBASE),
        Place("Stary Oskol", 51.30, 37.84, "Belgorod"), Place("Gubkin", 51.28, 37.55, "Belgorod"),
        Place("Zheleznogorsk", 52.34, 35.35, "Kursk"), Place("Bryansk", 53.24, 34.36, "Bryansk"),
        Place("Karachev arsenal", 53.12, 34.98, "Bryansk"), Place("Seshcha airbase", 53.73, 33.34, "Bryansk", AIRBASE),
        Place("Voronezh", 51.67, 39.21, "Voronezh"), Place("Morozovsk airbase", 48.32, 41.79, "Rostov", AIRBASE),
        Place("Borisoglebsk airbase", 51.37, 42.08, "Voronezh", AIRBASE),
    ), jitter=0.04, depth=(85.0, 290.0)),
    Theatre("sea", None, (
        Place("Black Sea, west of Cape Tarkhankut", 45.30, 32.10), Place("Black Sea, off Sevastopol", 44.40, 33.00),
        Place("Black Sea, off Snake Island", 45.20, 30.60), Place("Black Sea, south of the Kerch Strait", 44.90, 36.60),
        Place("Black Sea, off Novorossiysk", 44.40, 37.50), Place("Sea of Azov, off Berdiansk", 46.20, 36.60),
        Place("Sea of Azov, central", 46.00, 37.60),
    ), jitter=0.10, preposition="in the"),
    Theatre("belarus", "BY", (
        Place("Gomel", 52.44, 31.00, "Homel"), Place("Ziabrouka airbase", 52.30, 31.15, "Homel", AIRBASE),
        Place("Mazyr", 52.05, 29.25, "Homel"), Place("Rechytsa", 52.36, 30.39, "Homel"),
        Place("Khoiniki", 51.89, 29.96, "Homel"),
    ), jitter=0.04),
    Theatre("ua_air", "UA", (  # interceptions over Ukraine-controlled cities
        Place("Kharkiv", 49.99, 36.23), Place("Sumy", 50.91, 34.80), Place("Zaporizhzhia", 47.84, 35.14),
        Place("Dnipro", 48.46, 35.04), Place("Kyiv", 50.45, 30.52), Place("Odesa", 46.48, 30.72),
        Place("Kramatorsk", 48.73, 37.56), Place("Chernihiv", 51.49, 31.29),
    ), jitter=0.12, preposition="over"),
)}

# Ukraine-controlled firing positions: rocket and artillery units, airfields' release areas, air defence.
LAUNCH_AREAS = (
    Place("Kharkiv", 49.99, 36.23), Place("Chuhuiv", 49.84, 36.69), Place("Derhachi", 50.11, 36.12),
    Place("Zolochiv", 50.28, 35.98), Place("Bohodukhiv", 50.16, 35.52), Place("Balakliia", 49.46, 36.86),
    Place("Izium", 49.21, 37.26), Place("Sumy", 50.91, 34.80), Place("Okhtyrka", 50.31, 34.90),
    Place("Krasnopillia", 50.77, 35.27), Place("Konotop", 51.24, 33.20), Place("Shostka", 51.86, 33.48),
    Place("Novhorod-Siverskyi", 52.01, 33.26), Place("Semenivka", 52.18, 32.58), Place("Chernihiv", 51.49, 31.29),
    Place("Kramatorsk", 48.73, 37.56), Place("Sloviansk", 48.85, 37.60), Place("Lyman", 48.99, 37.80),
    Place("Siversk", 48.87, 38.10), Place("Kostiantynivka", 48.53, 37.71), Place("Chasiv Yar", 48.59, 37.84),
    Place("Toretsk", 48.40, 37.85), Place("Pokrovsk", 48.28, 37.18), Place("Kurakhove", 47.98, 37.28),
    Place("Huliaipole", 47.66, 36.26), Place("Orikhiv", 47.57, 35.78), Place("Stepnohirsk", 47.59, 35.27),
    Place("Zaporizhzhia", 47.84, 35.14), Place("Nikopol", 47.57, 34.39), Place("Beryslav", 46.84, 33.43),
    Place("Kherson", 46.64, 32.61), Place("Mykolaiv", 46.97, 32.00), Place("Odesa", 46.48, 30.72),
    Place("Dnipro", 48.46, 35.04), Place("Kyiv", 50.45, 30.52),
)
LAUNCH_JITTER = 0.03

# Which theatre a report's target lies in, by period (the random part of the set).
THEATRE_WEIGHTS = {
    PRE_POLICY: {"occupied": 0.93, "sea": 0.04, "ru_border": 0.03},
    NO_CROSS_BORDER: {"occupied": 0.84, "ua_air": 0.04, "ru_border": 0.05, "ru_deep": 0.01, "sea": 0.04,
                      "belarus": 0.02},
    KHARKIV: {"occupied": 0.48, "ua_air": 0.04, "ru_border": 0.42, "ru_deep": 0.02, "sea": 0.03, "belarus": 0.01},
    BORDER_WIDE: {"occupied": 0.50, "ua_air": 0.04, "ru_border": 0.38, "ru_deep": 0.03, "sea": 0.04,
                  "belarus": 0.01},
    KURSK_ATACMS: {"occupied": 0.44, "ua_air": 0.04, "ru_border": 0.32, "ru_deep": 0.13, "sea": 0.05,
                   "belarus": 0.02},
}
# Where along the border: the Kharkiv-sector permission of May 2024 is about Belgorod oblast;
# the August 2024 incursion moved fighting into Kursk oblast.
BORDER_REGION_WEIGHTS = {
    PRE_POLICY: {"Belgorod": 0.4, "Kursk": 0.3, "Bryansk": 0.2, "Rostov": 0.1},
    NO_CROSS_BORDER: {"Belgorod": 0.4, "Kursk": 0.3, "Bryansk": 0.2, "Rostov": 0.1},
    KHARKIV: {"Belgorod": 0.86, "Kursk": 0.08, "Bryansk": 0.04, "Rostov": 0.02},
    BORDER_WIDE: {"Belgorod": 0.45, "Kursk": 0.35, "Bryansk": 0.12, "Rostov": 0.08},
    KURSK_ATACMS: {"Belgorod": 0.40, "Kursk": 0.35, "Bryansk": 0.15, "Rostov": 0.10},
}
CATEGORY_WEIGHTS = {
    "occupied": {"force_concentration": 22, "military_logistics": 16, "command_post": 11, "air_defense_site": 10,
                 "launch_site": 7, "military_airfield": 4, "military_other": 7, "military_industry": 2,
                 "strike_aircraft": 1, "energy": 1.2, "transport_civilian": 0.8, "commercial": 0.6,
                 "residential": 0.6, "food_agriculture": 0.4, "government_civilian": 0.4, "dual_use": 6,
                 "unknown": 4},
    "ru_border": {"force_concentration": 26, "launch_site": 14, "military_logistics": 16, "command_post": 11,
                  "strike_aircraft": 4, "incoming_missile": 2, "air_defense_site": 5, "military_airfield": 1.5,
                  "military_other": 3, "military_industry": 1, "energy": 1, "residential": 0.8,
                  "transport_civilian": 0.8, "dual_use": 4, "unknown": 2.5},
    "ru_deep": {"strike_aircraft": 18, "military_airfield": 12, "military_logistics": 20, "command_post": 10,
                "air_defense_site": 10, "military_industry": 6, "force_concentration": 8, "launch_site": 6,
                "energy": 2, "dual_use": 6, "unknown": 2},
    "sea": {"military_other": 60, "incoming_missile": 14, "military_logistics": 12, "unknown": 9, "dual_use": 5},
    "belarus": {"military_logistics": 35, "force_concentration": 25, "military_airfield": 15, "unknown": 15,
                "dual_use": 10},
    "ua_air": {"incoming_missile": 82, "strike_aircraft": 18},
}
DESCRIPTIONS = {
    "incoming_missile": ("incoming Kh-59 cruise missile", "Iskander-M ballistic missile",
                         "Shahed-136 loitering munition", "Kh-101 cruise missile", "KAB-500 glide bomb"),
    "strike_aircraft": ("Su-34 on a glide-bomb release run", "Su-25 pair on approach", "Su-35 escorting bombers",
                        "Ka-52 helicopter", "parked Su-34s"),
    "force_concentration": ("armour assembly area", "troop concentration in a tree line",
                            "vehicle column on a forest road", "motorised rifle company staging area",
                            "artillery group assembly area"),
    "launch_site": ("MLRS firing position", "S-300 launcher used against ground targets", "Tornado-S battery position",
                    "Iskander launch area", "Lancet launch team"),
    "command_post": ("battalion command post", "brigade forward command post", "field headquarters in a farm compound",
                     "drone operators' control point"),
    "military_logistics": ("ammunition depot", "fuel storage point", "rail-head unloading ammunition",
                           "pontoon crossing", "field supply point"),
    "air_defense_site": ("S-400 battery", "Pantsir-S1 position", "Tor-M2 launcher", "Buk-M2 battery"),
    "military_airfield": ("airbase apron", "hardened aircraft shelters", "runway and taxiways",
                          "helicopter forward base"),
    "military_industry": ("drone assembly workshop", "ammunition repair plant", "armour repair depot"),
    "military_other": ("radar station", "electronic-warfare system", "landing ship", "patrol boat", "signals node"),
    "energy": ("electrical substation", "thermal power plant"),
    "transport_civilian": ("road bridge used by civilian traffic", "passenger railway station"),
    "commercial": ("warehouse of a retail chain",), "residential": ("apartment block",),
    "food_agriculture": ("grain terminal",), "government_civilian": ("district administration building",),
    "dangerous_forces": ("dam spillway", "nuclear plant cooling pond"),
    "dual_use": ("railway bridge carrying military and civilian traffic", "port fuel terminal",
                 "telecommunications tower", "power substation feeding a rail line"),
    "unknown": ("unidentified structure", "vehicles, type not identified", "heat signature, not identified"),
}
EVENT_ID = "<source_event_id>"  # placeholder in evidence URIs until the set is numbered
NOTES = ("Reported by the firing unit.", "Post-strike imagery attached.", "Secondary explosions observed.",
         "Battle damage assessment pending.", "Reported from a UAV feed.", "Time from the fire-mission log.")

# ---- SPEC §5: munitions -----------------------------------------------------------------


@dataclass(frozen=True)
class Weapon:
    code: str
    family: str | None  # None: not in the catalog
    max_range_km: float | None  # planning range for codes outside the catalog; None: no launch position
    fielded: datetime
    weight: float
    launchers: tuple[str, ...]


_FIELDING = {  # code: (first use, weight, launchers)
    "M795-155MM": (_utc(2022, 4, 20), 12, ("M777", "M109A6")),
    "M982-EXCALIBUR": (_utc(2022, 4, 20), 6, ("M777", "M109A6")),
    "M31A1-GMLRS": (_utc(2022, 6, 23), 28, ("M142-HIMARS", "M270-MLRS")),
    "M30A1-GMLRS": (_utc(2022, 9, 1), 10, ("M142-HIMARS", "M270-MLRS")),
    "NASAMS-AIM-120": (_utc(2022, 11, 7), 5, ("NASAMS",)),
    "JDAM-ER": (_utc(2023, 3, 1), 7, ("MiG-29", "Su-27")),
    "PAC-3-MSE": (_utc(2023, 4, 19), 5, ("MIM-104-PATRIOT",)),
    "PAC-2-GEM-T": (_utc(2023, 4, 19), 5, ("MIM-104-PATRIOT",)),
    "M39-ATACMS": (_utc(2023, 10, 17), 4, ("M142-HIMARS", "M270-MLRS")),
    "GLSDB": (_utc(2024, 2, 1), 4, ("M142-HIMARS",)),
    "M39A1-ATACMS": (_utc(2024, 4, 17), 4, ("M142-HIMARS", "M270-MLRS")),
    "M57-ATACMS": (_utc(2024, 4, 17), 3, ("M142-HIMARS", "M270-MLRS")),
    "M48-ATACMS": (_utc(2024, 4, 17), 2, ("M142-HIMARS",)),
    "ER-GMLRS": (_utc(2025, 3, 1), 2, ("M142-HIMARS",)),
}
AIR_DEFENCE_FAMILIES = ("PATRIOT", "NASAMS")
ATACMS = ("M39-ATACMS", "M39A1-ATACMS", "M48-ATACMS", "M57-ATACMS")
GMLRS = ("M30A1-GMLRS", "M31A1-GMLRS")


def _catalog_weapons() -> dict[str, Weapon]:
    weapons = {}
    for item in bundled_munitions():  # the bundled catalog is the source of family and range
        fielded, weight, launchers = _FIELDING.get(item["code"], (_utc(2023, 1, 1), 1, ()))
        weapons[item["code"]] = Weapon(item["code"], item["family"], float(item["max_range_km"]),
                                       fielded, weight, launchers)
    return weapons


CATALOG = _catalog_weapons()
# US-provided, but not in the catalog: MUNITION-UNKNOWN.
UNCATALOGUED_US = (
    Weapon("FGM-148-JAVELIN", None, None, _utc(2022, 4, 20), 1, ("Javelin CLU",)),
    Weapon("AGM-88B-HARM", None, 100.0, _utc(2022, 8, 1), 1, ("MiG-29", "Su-27")),
    Weapon("M26-MLRS", None, 35.0, _utc(2023, 1, 1), 1, ("M270-MLRS",)),
    Weapon("GBU-39B-SDB", None, 100.0, _utc(2024, 8, 1), 1, ("F-16AM",)),
)
# Not US-provided: out_of_scope.
NOT_US = (
    Weapon("R-360-NEPTUNE", None, 280.0, _utc(2022, 4, 13), 2, ("RK-360MTs",)),
    Weapon("BM-21-GRAD-122MM", None, 35.0, _utc(2022, 2, 24), 4, ("BM-21",)),
    Weapon("2S22-BOHDANA-155MM", None, 38.0, _utc(2022, 5, 1), 2, ("2S22 Bohdana",)),
    Weapon("STORM-SHADOW", None, 250.0, _utc(2023, 5, 11), 2, ("Su-24M",)),
    Weapon("LIUTYI-UAV", None, None, _utc(2024, 1, 1), 3, ()),
)

# ---- planning ---------------------------------------------------------------------------


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
    allowed = when >= PERIODS[KURSK_ATACMS].start and _in_box(KURSK_BOX, target.lat, target.lon)
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
    return _in_box(KHARKIV_BOX, p.lat, p.lon) and p.depth_km <= 75


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
             where=lambda p: _in_box(KURSK_BOX, p.lat, p.lon), category="strike_aircraft", us_provided=True,
             uncatalogued=False, munitions=("M39A1-ATACMS", "M57-ATACMS"), launch="ok", linked=True,
             country="match", expect_verdict="compliant"),
    Scenario("civilian object hit", period=BORDER_WIDE, theatre="occupied", category="energy", us_provided=True,
             uncatalogued=False, launch="ok", linked=None, country="match", expect_verdict="violation",
             expect_rules=("CIV-TARGET",)),
    Scenario("strike inside Russia before May 2024", period=NO_CROSS_BORDER, theatre="ru_border", region="Belgorod",
             category="force_concentration", us_provided=True, uncatalogued=False, munitions=GMLRS, launch="ok",
             linked=True, country="match", expect_verdict="violation", expect_rules=("XB-NOT-AUTHORIZED",)),
    Scenario("Kursk oblast under the Kharkiv-only permission", period=KHARKIV, theatre="ru_border", region="Kursk",
             where=lambda p: not _in_box(KHARKIV_BOX, p.lat, p.lon), category="force_concentration",
             us_provided=True, uncatalogued=False, launch="ok", linked=True, country="match",
             expect_verdict="violation", expect_rules=("XB-OUTSIDE-ZONE",)),
    Scenario("deep strike outside every zone", period=KURSK_ATACMS, theatre="ru_deep",
             where=lambda p: not _in_box(KURSK_BOX, p.lat, p.lon), category="military_logistics", us_provided=True,
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


# ---- HTTP -------------------------------------------------------------------------------


class ServiceError(Exception):
    """The service could not be used (unreachable, refused the key, answered an error)."""


@dataclass
class Client:
    base_url: str
    key: str
    timeout: float = 120.0

    def call(self, method: str, path: str, body: dict | None = None) -> dict:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(self.base_url.rstrip("/") + path, data=data, method=method, headers={
            "Authorization": f"Bearer {self.key}", "Accept": "application/json",
            **({"Content-Type": "application/json"} if data is not None else {})})
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            detail = error.read().decode("utf-8", "replace")[:2000]
            try:
                problem = json.loads(detail)
                detail = problem.get("detail") or problem.get("title") or detail
                if problem.get("errors"):
                    detail += f" {json.dumps(problem['errors'])[:1500]}"
            except ValueError:
                pass
            raise ServiceError(f"{method} {path}: HTTP {error.code}: {detail}") from None
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise ServiceError(f"{method} {path}: cannot reach {self.base_url}: {reason}") from None


# ---- running and reporting --------------------------------------------------------------


@dataclass
class Outcome:
    statuses: Counter = field(default_factory=Counter)
    verdicts: Counter = field(default_factory=Counter)
    rules: Counter = field(default_factory=Counter)
    policies: Counter = field(default_factory=Counter)
    by_policy_verdict: Counter = field(default_factory=Counter)
    problems: list = field(default_factory=list)  # invalid / conflict items: (source_event_id, status, errors)
    surprises: list = field(default_factory=list)  # coverage scenarios judged otherwise than planned
    submit_seconds: float = 0.0
    read_seconds: float = 0.0
    batches: int = 0

    def missing(self) -> tuple[list[str], list[str]]:
        return ([v for v in VERDICTS if not self.verdicts[v]], [r for r in RULE_IDS if not self.rules[r]])


def _submit(client: Client, reports: list[PlannedReport], chunk: int, outcome: Outcome) -> list[tuple[str, int]]:
    """POST the reports in chunks; returns (event id, index into reports) of created and duplicate items."""
    stored = []
    started = time.monotonic()
    for offset in range(0, len(reports), chunk):
        events = [r.event for r in reports[offset:offset + chunk]]
        answer = client.call("POST", "/v1/events/batch", {"events": events})
        outcome.batches += 1
        results = answer.get("results", [])
        if len(results) != len(events):
            raise ServiceError(f"the batch answered {len(results)} results for {len(events)} reports")
        for result in results:
            index = offset + result["index"]
            outcome.statuses[result["status"]] += 1
            if result["status"] in ("created", "duplicate"):
                stored.append((result["id"], index))
            else:
                outcome.problems.append((reports[index].event["source_event_id"], result["status"],
                                         result.get("errors")))
    outcome.submit_seconds = time.monotonic() - started
    return stored


def _read_back(client: Client, reports: list[PlannedReport], stored: list[tuple[str, int]], outcome: Outcome,
               workers: int = 4) -> None:
    started = time.monotonic()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        records = list(pool.map(lambda item: client.call("GET", f"/v1/events/{item[0]}"), stored))
    outcome.read_seconds = time.monotonic() - started
    for (_event_id, index), record in zip(stored, records):
        rules = sorted({f["rule_id"] for f in record.get("findings", [])})
        verdict, policy = record.get("verdict"), record.get("policy_version") or "(none in force)"
        outcome.verdicts[verdict] += 1
        outcome.policies[policy] += 1
        outcome.by_policy_verdict[(policy, verdict)] += 1
        outcome.rules.update(rules)
        scenario = reports[index].scenario
        if scenario is not None and (verdict != scenario.expect_verdict
                                     or not set(scenario.expect_rules) <= set(rules)):
            outcome.surprises.append((reports[index].event["source_event_id"], scenario.name,
                                      f"expected {scenario.expect_verdict} {list(scenario.expect_rules)}, "
                                      f"the service answered {verdict} {rules}"))


def _section(title: str, rows: list[tuple[str, int]]) -> list[str]:
    width = max([len(k) for k, _ in rows] + [12])
    return [title] + [f"  {key:<{width}}  {value:>6}" for key, value in rows] + [""]


def render(outcome: Outcome, total: int, url: str, seed: int) -> str:
    policy_ids = [p.policy_id or "(none in force)" for p in PERIODS]
    policies = policy_ids + sorted(set(outcome.policies) - set(policy_ids))
    lines = [f"strike-audit demo: {total} synthetic reports, seed {seed}, {url}",
             f"submitted in {outcome.batches} batch(es) of <= {MAX_CHUNK}: {outcome.submit_seconds:.1f} s; "
             f"read back {sum(outcome.verdicts.values())} verdicts: {outcome.read_seconds:.1f} s", ""]
    lines += _section("status", [(s, outcome.statuses[s]) for s in STATUSES]
                      + [(s, n) for s, n in sorted(outcome.statuses.items()) if s not in STATUSES])
    lines += _section("verdict", [(v, outcome.verdicts[v]) for v in VERDICTS])
    lines += _section("rule_id (events with the finding)", [(r, outcome.rules[r]) for r in RULE_IDS]
                      + [(r, n) for r, n in sorted(outcome.rules.items()) if r not in RULE_IDS])
    width = max(len(p) for p in policies)
    lines.append("policy_version" + " " * (width - 12) + "".join(f"{v:>14}" for v in VERDICTS) + f"{'total':>8}")
    for policy in policies:
        lines.append(f"  {policy:<{width}}" + "".join(f"{outcome.by_policy_verdict[(policy, v)]:>14}" for v in VERDICTS)
                     + f"{outcome.policies[policy]:>8}")
    lines.append("")
    for source_event_id, name, text in outcome.surprises:
        lines.append(f"note: {source_event_id} ({name}): {text}")
    for source_event_id, status, errors in outcome.problems[:20]:
        lines.append(f"{status}: {source_event_id}: {json.dumps(errors)[:500]}")
    if len(outcome.problems) > 20:
        lines.append(f"... and {len(outcome.problems) - 20} more")
    missing_verdicts, missing_rules = outcome.missing()
    if missing_verdicts or missing_rules:
        lines.append(f"FAIL: never occurred: {', '.join(missing_verdicts + missing_rules)}")
    if outcome.problems:
        lines.append(f"FAIL: {len(outcome.problems)} report(s) came back invalid or in conflict"
                     + (" (a conflict means this key already stored different reports under these ids:"
                        " try another --seed)" if outcome.statuses["conflict"] else ""))
    if not (missing_verdicts or missing_rules or outcome.problems):
        lines.append(f"OK: all {len(VERDICTS)} verdicts and all {len(RULE_IDS)} rule ids of SPEC §6 occurred")
    return "\n".join(lines)


def run(url: str, key: str, count: int, seed: int, chunk: int = MAX_CHUNK, out=sys.stdout) -> int:
    reports = plan_reports(count, seed)
    client = Client(url, key)
    outcome = Outcome()
    stored = _submit(client, reports, chunk, outcome)
    _read_back(client, reports, stored, outcome)
    print(render(outcome, len(reports), url, seed), file=out)
    missing_verdicts, missing_rules = outcome.missing()
    return 1 if (missing_verdicts or missing_rules or outcome.problems) else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m service.demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default=os.environ.get("DEMO_URL", "http://127.0.0.1:8000"),
                        help="base URL of the service (default: $DEMO_URL or http://127.0.0.1:8000)")
    parser.add_argument("--key", default=os.environ.get("DEMO_API_KEY"),
                        help="a reporter (or admin) API key (default: $DEMO_API_KEY)")
    parser.add_argument("--count", type=int, default=600, help="number of reports (default 600)")
    parser.add_argument("--seed", type=int, default=7, help="random seed; the set is a function of it (default 7)")
    parser.add_argument("--chunk", type=int, default=MAX_CHUNK, help=f"reports per batch request (<= {MAX_CHUNK})")
    args = parser.parse_args(argv)
    if not args.key:
        parser.error("an API key is needed: --key KEY or DEMO_API_KEY "
                     "(create one with: flask --app service keys create --name demo --role reporter)")
    if not 1 <= args.chunk <= MAX_CHUNK:
        parser.error(f"--chunk must be between 1 and {MAX_CHUNK}")
    if args.count < len(COVERAGE):
        parser.error(f"--count must be at least {len(COVERAGE)}")
    if args.seed < 0:
        parser.error("--seed must not be negative")
    try:
        return run(args.url, args.key, args.count, args.seed, args.chunk)
    except ServiceError as error:
        print(f"demo: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
