"""The synthetic world the demo draws from: policy periods, real places, launch areas, weapons."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from service.core.rules.categories import CATEGORIES
from service.core.rules.model import Policy
from service.policies.bundled import bundled_munitions, bundled_policies

# ---- contract §3: policy periods (planning only; the service picks the version) ---------


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
# The zones' boxes (min_lon, min_lat, max_lon, max_lat), as the bundled policies define them.
_ZONES = {zone.id: zone.box for document in bundled_policies() for zone in Policy.from_document(document).zones}
KHARKIV_BOX, KURSK_BOX = _ZONES["kharkiv-sector"], _ZONES["kursk-atacms"]


def in_box(box, lat: float, lon: float) -> bool:
    return box[0] <= lon <= box[2] and box[1] <= lat <= box[3]


# ---- contract §4: categories (military ones only appear in CATEGORY_WEIGHTS) --------------

CIVILIAN, REVIEW = tuple(CATEGORIES["civilian"]), tuple(CATEGORIES["review"])

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

# ---- contract §5: munitions -----------------------------------------------------------------


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
