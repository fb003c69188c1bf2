"""Policy versions and the munition catalog as stored in the database."""
from sqlalchemy import select
from sqlalchemy.orm import Session

from .db import utcnow
from .errors import Conflict
from .ledger.store import append_entry
from .models import Munition as MunitionRow
from .models import PolicyVersion
from .rules.catalog import bundled_munitions, bundled_policies
from .rules.model import Munition, Policy

SYSTEM_PUBLISHER = "bundled"


def stored_policies(session: Session) -> list[Policy]:
    rows = session.scalars(select(PolicyVersion).order_by(PolicyVersion.effective_from))
    return [Policy.from_document(row.document) for row in rows]


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
