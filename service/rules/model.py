"""Value objects of policy evaluation: policy versions, zones, munitions, geography, findings."""
from dataclasses import dataclass, field
from datetime import datetime, timezone

from service.ledger.canonical import document_sha256


def parse_instant(text: str) -> datetime:
    """An RFC 3339 timestamp as an aware UTC datetime; a missing offset is an error, not local time."""
    instant = datetime.fromisoformat(text)
    if instant.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no UTC offset")
    return instant.astimezone(timezone.utc)


@dataclass(frozen=True)
class Zone:
    id: str
    box: tuple[float, float, float, float] | None  # (min_lon, min_lat, max_lon, max_lat); None = anywhere
    max_depth_km: float
    denied_families: frozenset[str]

    @classmethod
    def from_document(cls, doc: dict) -> "Zone":
        box = doc.get("box")
        return cls(
            id=doc["id"],
            box=None if box is None else (box["min_lon"], box["min_lat"], box["max_lon"], box["max_lat"]),
            max_depth_km=float(doc["max_depth_km"]),
            denied_families=frozenset(doc.get("denied_families", ())),
        )

    def contains(self, lon: float, lat: float, depth_km: float | None) -> bool:
        # An unknown depth cannot be shown to lie within the zone.
        if depth_km is None or depth_km > self.max_depth_km:
            return False
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
            effective_from=parse_instant(doc["effective_from"]),
            effective_to=None if effective_to is None else parse_instant(effective_to),
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
