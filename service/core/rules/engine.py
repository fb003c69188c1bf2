"""Judges one strike report against the policy version in force at its time (contract §6)."""
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import chain

from service.core.rules.categories import category_group
from service.core.rules.model import Evaluation, Finding, Geography, Munition, Policy, Zone

RUSSIA, UKRAINE = "RU", "UA"
SEVERITIES = ("critical", "high", "review")  # most serious first: the order of findings
VERDICTS = ("compliant", "needs_review", "violation", "out_of_scope")
SEVERITY_OF_RULE = {
    "POLICY-NONE": "review", "CIV-TARGET": "critical", "XB-NOT-AUTHORIZED": "critical",
    "XB-OUTSIDE-ZONE": "critical", "XB-MUNITION": "critical", "TARGET-THIRD-COUNTRY": "critical",
    "XB-PURPOSE": "high", "MIL-NOT-LINKED": "high", "LINK-UNSTATED": "review",
    "RANGE-EXCEEDED": "review", "LAUNCH-MISSING": "review", "COUNTRY-MISMATCH": "review",
    "LOCATION-UNRESOLVED": "review", "CATEGORY-REVIEW": "review", "MUNITION-UNKNOWN": "review",
}


def policy_in_force(policies: Iterable[Policy], occurred_at: datetime) -> Policy | None:
    """The version whose [effective_from, effective_to) holds occurred_at (an aware datetime)."""
    in_force = [p for p in policies if p.in_force_at(occurred_at)]
    # Published versions never overlap; were they to, the latest decision would govern.
    return max(in_force, key=lambda p: p.effective_from, default=None)


@dataclass(frozen=True)
class _Facts:
    report: dict
    target: dict
    group: str  # "military", "civilian" or "review"
    policy: Policy | None
    munition: Munition | None  # None: not in the catalog
    same_but_case: str | None  # for an unknown code: the catalog code it equals but for letter case
    geo: Geography
    zones: tuple[Zone, ...]  # zones of the policy containing the target; only ever set in Russia

    def where(self) -> dict:
        return {"country": self.geo.country, "depth_km": self.geo.depth_km,
                "zones": [z.id for z in self.zones], "policy_version": self.policy.id}


def _finding(rule_id: str, message: str, **evidence) -> Finding:
    return Finding(rule_id, SEVERITY_OF_RULE[rule_id], message, evidence)


def _km(value: float | None) -> str:
    return "an unknown distance" if value is None else f"{value:.1f} km"


def _zone_text(zone: Zone) -> str:
    parts = [] if zone.box is None else ["lon {:g}–{:g}, lat {:g}–{:g}".format(
        zone.box[0], zone.box[2], zone.box[1], zone.box[3])]
    if zone.polygon is not None:
        parts = ["within its polygon area"]
    return f"{zone.id}: {', '.join(parts + [f'depth ≤ {zone.max_depth_km:g} km'])}"


def _general_findings(f: _Facts) -> Iterator[Finding]:
    category, country, reported = f.target["category"], f.geo.country, f.target.get("country")
    if f.policy is None:
        at = f.report["occurred_at"]
        yield _finding("POLICY-NONE", f"No policy version was in force at {at}", occurred_at=at)
    if f.group == "civilian":
        yield _finding("CIV-TARGET", f"Target category {category} is civilian; prohibited everywhere",
                       category=category, country=country)
    if f.group == "review":
        yield _finding("CATEGORY-REVIEW", f"Category {category} needs an auditor's review", category=category)
    if country not in (None, RUSSIA, UKRAINE):
        yield _finding("TARGET-THIRD-COUNTRY", f"Target is in {country}, neither Ukraine nor Russia",
                       country=country)
    if country == RUSSIA and "launch" not in f.report:
        yield _finding("LAUNCH-MISSING", "Target inside Russia but no launch position was reported",
                       country=country, depth_km=f.geo.depth_km)
    if country is None and category != "incoming_missile":
        yield _finding("LOCATION-UNRESOLVED", f"Target ({f.target['lat']}, {f.target['lon']}) lies in no country: "
                       "at sea or on unassigned land", lat=f.target["lat"], lon=f.target["lon"], country=None)
    # ISO codes are case-insensitive: "ru" and "RU" name the same country.
    if reported is not None and reported.upper() != country:
        computed = country or "none (at sea or on unassigned land)"
        yield _finding("COUNTRY-MISMATCH", f"Reported country {reported} differs from the computed country "
                       f"{computed}", reported_country=reported, country=country)


def _munition_findings(f: _Facts) -> Iterator[Finding]:
    m, range_km = f.munition, f.geo.range_km  # range_km is None exactly when no launch was given
    if m is None:
        code, probable = f.report["weapon"]["munition"], f.same_but_case
        # Codes are exact (contract §5): one that differs only in case is still unknown, but the auditor
        # and the reporting system should see at once which catalog code it probably means.
        hint = "" if probable is None else f" (catalog codes are case-sensitive: probably {probable})"
        evidence = {"munition": code} if probable is None else {"munition": code, "probably": probable}
        yield _finding("MUNITION-UNKNOWN", f"Munition {code} is not in the catalog{hint}; family and range "
                       "rules were not evaluated", **evidence)
    elif range_km is not None and range_km > m.max_range_km:
        yield _finding("RANGE-EXCEEDED", f"Launch-to-target range {_km(range_km)} exceeds the "
                       f"{m.max_range_km:g} km maximum of {m.code}", range_km=range_km,
                       munition=m.code, family=m.family, max_range_km=m.max_range_km)


def _cross_border_findings(f: _Facts) -> Iterator[Finding]:
    # Targets in Russia only, and none of these rules is evaluated when POLICY-NONE fires.
    if f.geo.country != RUSSIA or f.policy is None:
        return
    policy, m, category, where = f.policy, f.munition, f.target["category"], f.where()
    inside = f"Target {_km(f.geo.depth_km)} inside Russia"
    if not policy.zones:
        yield _finding("XB-NOT-AUTHORIZED", f"{inside}; {policy.id} authorizes no strike inside Russia",
                       **where)
    elif not f.zones:
        zones = "; ".join(_zone_text(z) for z in policy.zones)
        yield _finding("XB-OUTSIDE-ZONE", f"{inside} is outside every zone of {policy.id} ({zones})",
                       **where, policy_zones=[z.id for z in policy.zones])
    # Inside at least one zone here, hence never together with XB-OUTSIDE-ZONE.
    elif m is not None and all(m.family in z.denied_families for z in f.zones):
        yield _finding("XB-MUNITION", f"{m.family} ({m.code}) is denied in every zone containing the target "
                       f"({', '.join(where['zones'])}) under {policy.id}", **where,
                       munition=m.code, family=m.family)
    if f.group != "military":
        return
    if policy.zones and category not in policy.permitted_purposes:
        yield _finding("XB-PURPOSE", f"Category {category} is not a permitted purpose inside Russia under "
                       f"{policy.id}", **where, category=category,
                       permitted_purposes=sorted(policy.permitted_purposes))
    if f.target.get("linked_to_invasion") is False:
        yield _finding("MIL-NOT-LINKED", "Military target inside Russia is reported as not linked to the "
                       "invasion", **where, category=category, linked_to_invasion=False)
    elif "linked_to_invasion" not in f.target and category != "incoming_missile":
        yield _finding("LINK-UNSTATED", "Military target inside Russia: the report does not state whether "
                       "it is linked to the invasion", **where, category=category)


def _verdict(findings: list[Finding]) -> str:
    severities = {f.severity for f in findings}
    if severities & {"critical", "high"}:
        return "violation"
    return "needs_review" if "review" in severities else "compliant"


def _containing_zones(policy: Policy | None, target: dict, geography: Geography) -> tuple[Zone, ...]:
    if policy is None or geography.country != RUSSIA:  # zones are areas inside Russia
        return ()
    return tuple(z for z in policy.zones if z.contains(target["lon"], target["lat"], geography.depth_km))


def evaluate(report: dict, policy: Policy | None, munitions: Mapping[str, Munition],
             geography: Geography) -> Evaluation:
    """Every contract §6 rule that applies to a validated §2 report; out_of_scope when not US-provided."""
    target = report["target"]
    zones = _containing_zones(policy, target, geography)
    computed = {"country": geography.country, "depth_km": geography.depth_km,
                "range_km": geography.range_km, "zones": [z.id for z in zones]}
    policy_id, policy_sha256 = (policy.id, policy.sha256) if policy is not None else (None, None)
    if not report["weapon"]["us_provided"]:
        return Evaluation("out_of_scope", (), policy_id, policy_sha256, computed)
    code = report["weapon"]["munition"]
    munition = munitions.get(code)
    same_but_case = None if munition is not None else next(
        (known for known in munitions if known.casefold() == code.casefold()), None)
    facts = _Facts(report, target, category_group(target["category"]), policy, munition, same_but_case,
                   geography, zones)
    findings = sorted(chain(_general_findings(facts), _munition_findings(facts), _cross_border_findings(facts)),
                      key=lambda f: (SEVERITIES.index(f.severity), f.rule_id))
    return Evaluation(_verdict(findings), tuple(findings), policy_id, policy_sha256, computed)
