"""Policy versions and the munition catalog as stored in the database."""
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from service.core.errors import Conflict, InvalidInput, NotFound
from service.core.rules.model import Munition, Policy
from service.core.time import format_utc, utcnow
from service.ledger.entries import append_entry
from service.policies.bundled import bundled_munitions, bundled_policies
from service.policies.tables import Munition as MunitionRow
from service.policies.tables import PolicyVersion

SYSTEM_PUBLISHER = "bundled"


@dataclass(frozen=True)
class RuleSet:
    """What reports are judged with: every stored policy version and the munition catalog."""

    policies: list[Policy]
    catalog: dict[str, Munition]
    generation: tuple = ()  # GENERATION's answer when these were read: they are current while it holds


# Both tables are append-only (triggers), so their row counts and the newest policy entry change
# whenever their content does: checking these three numbers replaces loading every policy document and
# hashing it again (a fifth of a report's time, measured). The write of a report checks them in its own
# transaction (events.intake), so a report is never stored judged by rules that changed under it.
GENERATION = ("SELECT (SELECT count(*) FROM policy_versions), (SELECT max(ledger_entry_id) FROM policy_versions), "
              "(SELECT count(*) FROM munitions)")

class RulesChanged(Exception):
    """A policy version or munition was stored after these reports were judged: judge them again."""


# database URL -> the rule set last read from it, in this process
_rule_sets: dict[str, RuleSet] = {}


def current_rules(session: Session) -> RuleSet:
    """The stored rules, from this process's cache while they have not changed (one small query)."""
    generation = tuple(session.execute(text(GENERATION)).one())
    database = session.get_bind().url.render_as_string()
    cached = _rule_sets.get(database)
    if cached is not None and cached.generation == generation:
        return cached
    rules = RuleSet(stored_policies(session), munition_catalog(session), generation)
    _rule_sets[database] = rules
    return rules


def cached_rules(sessions) -> RuleSet:
    """The rules this process read last, with no query; read now if it has none. The caller checks
    `generation` in the transaction that stores what was judged with them."""
    cached = _rule_sets.get(sessions.kw["bind"].url.render_as_string())
    if cached is not None:
        return cached
    with sessions() as session:
        return current_rules(session)


def stored_policies(session: Session) -> list[Policy]:
    return [Policy.from_document(row.document) for row in published_versions(session)]


def published_versions(session: Session) -> list[PolicyVersion]:
    """Every published version as stored, oldest effective_from first."""
    return list(session.scalars(select(PolicyVersion).order_by(PolicyVersion.effective_from)))


def published_version(session: Session, policy_id: str) -> PolicyVersion:
    row = session.get(PolicyVersion, policy_id)
    if row is None:
        raise NotFound(f"no policy version {policy_id}")
    return row


def munition_catalog(session: Session) -> dict[str, Munition]:
    rows = session.scalars(select(MunitionRow))
    return {row.code: Munition(row.code, row.family, row.max_range_km) for row in rows}


def publish_policy(session: Session, document: dict, publisher: str) -> PolicyVersion:
    """Store a new version and its `policy_published` ledger entry; versions never change."""
    policy = Policy.from_document(document)
    existing = session.get(PolicyVersion, policy.id)
    if existing is not None:
        if existing.sha256 != policy.sha256:
            raise Conflict(f"policy version {policy.id} is already published with different content")
        return existing
    now = utcnow()
    entry = append_entry(session, "policy_published", {
        "policy_id": policy.id, "policy_sha256": policy.sha256, "published_by": publisher, "document": document,
    }, now)
    row = PolicyVersion(id=policy.id, effective_from=policy.effective_from, effective_to=policy.effective_to,
                        sha256=policy.sha256, document=document, published_at=now, published_by=publisher,
                        ledger_entry_id=entry.id)
    session.add(row)
    return row


def _overlaps(a_from: datetime, a_to: datetime | None, b_from: datetime, b_to: datetime | None) -> bool:
    # Half-open [from, to) with None as +infinity: one version ending where the next begins is no overlap.
    return (b_to is None or a_from < b_to) and (a_to is None or b_from < a_to)


def _supersedes(new: Policy, stored: PolicyVersion) -> bool:
    """An open-ended version is in force until a later one takes effect: a new version may start
    after it (for good, or for a while), which is how policy changes without editing history.
    policy_in_force agrees: of the versions whose range holds an instant, the latest-starting governs."""
    return stored.effective_to is None and new.effective_from > stored.effective_from


def _span(row: PolicyVersion) -> str:
    end = "open-ended" if row.effective_to is None else format_utc(row.effective_to)
    return f"{row.id} ({format_utc(row.effective_from)} → {end})"


def unknown_family_errors(document: dict, known_families: set[str]) -> dict[str, list[str]]:
    """Denied families missing from the munition catalog, keyed `zones.N.denied_families`."""
    errors = {}
    for index, zone in enumerate(document["zones"]):
        unknown = sorted(set(zone["denied_families"]) - known_families)
        if unknown:
            errors[f"zones.{index}.denied_families"] = [
                f"Not a munition family of the catalog: {', '.join(unknown)} "
                f"(known: {', '.join(sorted(known_families))})."]
    return errors


def publish_version(session: Session, document: dict, publisher: str) -> tuple[PolicyVersion, bool]:
    """An admin's new version, already schema-checked; (row, created). The caller owns the transaction.

    Rejects denied families missing from the stored catalog (400), an id already published with
    other content and an effective range overlapping any stored version (409); the exact same
    document again answers with the stored version.
    """
    errors = unknown_family_errors(document, {m.family for m in munition_catalog(session).values()})
    if errors:
        raise InvalidInput("The document names munition families that are not in the catalog.", errors)
    if session.get_bind().dialect.name == "postgresql":
        # Two admins publishing overlapping versions at once must not both pass the check below.
        # (SQLite transactions already begin IMMEDIATE, holding the one write lock.)
        session.execute(text("LOCK TABLE policy_versions IN SHARE ROW EXCLUSIVE MODE"))
    policy = Policy.from_document(document)
    existing = session.get(PolicyVersion, policy.id)
    if existing is not None:
        return publish_policy(session, document, publisher), False  # the same again, or 409
    overlapping = [row for row in session.scalars(select(PolicyVersion).order_by(PolicyVersion.effective_from))
                   if _overlaps(row.effective_from, row.effective_to, policy.effective_from, policy.effective_to)
                   and not _supersedes(policy, row)]
    if overlapping:
        raise Conflict("The effective range overlaps published version(s): "
                       f"{'; '.join(_span(row) for row in overlapping)}. Versions never change; "
                       "choose a range outside every published one.")
    return publish_policy(session, document, publisher), True


def load_bundled(session: Session) -> tuple[int, int]:
    """Seed the bundled versions and catalog; idempotent, and refuses to overwrite a changed version."""
    published = 0
    for document in bundled_policies():
        if session.get(PolicyVersion, document["id"]) is None:
            published += 1
        publish_policy(session, document, SYSTEM_PUBLISHER)
    added = 0
    for item in bundled_munitions():
        if session.get(MunitionRow, item["code"]) is None:
            session.add(MunitionRow(code=item["code"], family=item["family"], max_range_km=item["max_range_km"]))
            added += 1
    return published, added
