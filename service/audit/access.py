"""Access entries: every read by an auditor or admin is a ledger entry saying who read what, and how much."""
from sqlalchemy.orm import Session

from service.core.time import utcnow
from service.keys.store import Principal
from service.ledger.entries import append_entry


def record_read(session: Session, principal: Principal, read: dict) -> None:
    """In the caller's transaction. `read`: method, endpoint, path, query, result_count, request_id."""
    append_entry(session, "access", {"who": principal.name, "role": principal.role, **read}, utcnow())
