"""Value objects of policy evaluation: policy versions, zones, munitions, geography, findings."""
from dataclasses import dataclass, field
from datetime import datetime

import shapely
from shapely.geometry import MultiPolygon, Point

from service.core.ledger.canonical import document_sha256
from service.core.time import parse_rfc3339

# A polygon area as plain tuples, so that zones stay hashable and compare by value:
# polygons -> rings (shell first, then holes) -> (lon, lat) positions.
Ring = tuple[tuple[float, float], ...]
PolygonArea = tuple[tuple[Ring, ...], ...]


def polygon_area(geojson: dict) -> PolygonArea:
    """A GeoJSON Polygon or MultiPolygon object as nested tuples (a Polygon is one polygon)."""
    polygons = [geojson["coordinates"]] if geojson["type"] == "Polygon" else geojson["coordinates"]
    return tuple(tuple(tuple((float(p[0]), float(p[1])) for p in ring) for ring in polygon)
                 for polygon in polygons)


def polygon_shape(area: PolygonArea) -> MultiPolygon:
    return MultiPolygon([(polygon[0], polygon[1:]) for polygon in area])


@dataclass(frozen=True)
class Zone:
    id: str
    box: tuple[float, float, float, float] | None  # (min_lon, min_lat, max_lon, max_lat); None = anywhere
    max_depth_km: float
    denied_families: frozenset[str]
    polygon: PolygonArea | None = None  # instead of a box; never both
    # Built once per zone, since every target in Russia is tested against it; derived from
    # `polygon`, so it takes no part in equality or hashing.
    _shape: MultiPolygon | None = field(init=False, default=None, repr=False, compare=False, hash=False)

    def __post_init__(self):
        if self.polygon is not None:
            if self.box is not None:
                raise ValueError(f"zone {self.id} has both a box and a polygon")
            shape = polygon_shape(self.polygon)
            shapely.prepare(shape)
            object.__setattr__(self, "_shape", shape)

    @classmethod
    def from_document(cls, doc: dict) -> "Zone":
        box, polygon = doc.get("box"), doc.get("polygon")
        return cls(
            id=doc["id"],
            box=None if box is None else (box["min_lon"], box["min_lat"], box["max_lon"], box["max_lat"]),
            max_depth_km=float(doc["max_depth_km"]),
            denied_families=frozenset(doc.get("denied_families", ())),
            polygon=None if polygon is None else polygon_area(polygon),
        )

    def contains(self, lon: float, lat: float, depth_km: float | None) -> bool:
        # An unknown depth cannot be shown to lie within the zone.
        if depth_km is None or depth_km > self.max_depth_km:
            return False
        if self._shape is not None:
            # covers, not contains: a target on the polygon's boundary is inside, as on a box's edge.
            return self._shape.covers(Point(lon, lat))
        if self.box is None:
            return True
        min_lon, min_lat, max_lon, max_lat = self.box
        return min_lon <= lon <= max_lon and min_lat <= lat <= max_lat


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    effective_from: datetime
    effective_to: datetime | None
    zones: tuple[Zone, ...]
    permitted_purposes: frozenset[str]
    sha256: str
    # The sha256 already stands for the whole document, so it is left out of equality and hashing.
    document: dict = field(compare=False, repr=False)

    @classmethod
    def from_document(cls, doc: dict) -> "Policy":
        effective_to = doc.get("effective_to")
        return cls(
            id=doc["id"],
            title=doc.get("title", ""),
            effective_from=parse_rfc3339(doc["effective_from"]),
            effective_to=None if effective_to is None else parse_rfc3339(effective_to),
            zones=tuple(Zone.from_document(z) for z in doc.get("zones", ())),
            permitted_purposes=frozenset(doc.get("permitted_purposes", ())),
            sha256=document_sha256(doc),
            document=doc,
        )

    def in_force_at(self, t: datetime) -> bool:
        return self.effective_from <= t and (self.effective_to is None or t < self.effective_to)


@dataclass(frozen=True)
class Munition:
    code: str
    family: str
    max_range_km: float


@dataclass(frozen=True)
class Geography:
    country: str | None  # ISO 3166-1 alpha-2 of the containing polygon; None at sea
    depth_km: float | None  # geodesic distance to Ukraine's polygon; 0.0 inside it
    range_km: float | None  # geodesic launch -> target; None without a launch position


@dataclass(frozen=True)
class Finding:
    rule_id: str
    severity: str
    message: str
    evidence: dict = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict:
        return {"rule_id": self.rule_id, "severity": self.severity,
                "message": self.message, "evidence": dict(self.evidence)}


@dataclass(frozen=True)
class Evaluation:
    verdict: str
    findings: tuple[Finding, ...]
    policy_id: str | None
    policy_sha256: str | None
    computed: dict = field(default_factory=dict, hash=False)

    def to_dict(self) -> dict:
        computed = self.computed
        return {
            "verdict": self.verdict,
            "policy_version": self.policy_id,
            "policy_sha256": self.policy_sha256,
            "findings": [f.to_dict() for f in self.findings],
            "computed": {"country": computed.get("country"), "depth_km": computed.get("depth_km"),
                         "range_km": computed.get("range_km"), "zones": list(computed.get("zones", []))},
        }
