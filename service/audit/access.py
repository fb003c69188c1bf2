"""Access entries: every read by an auditor or admin is a ledger entry saying who read what, and how much."""
from sqlalchemy.engine import Engine

from service.core.time import utcnow
from service.db.driver import DriverConnection
from service.keys.store import Principal
from service.ledger.entries import append_entry_now


def record_read(engine: Engine, principal: Principal, read: dict) -> None:
    """Committed when this returns. `read`: method, endpoint, path, query, result_count, request_id.

    Through the driver, one statement on PostgreSQL: it follows every auditor's read, where a session's
    begin, flush and commit cost as much as a small page."""
    with DriverConnection(engine) as db:
        append_entry_now(db, "access", {"who": principal.name, "role": principal.role, **read}, utcnow())
