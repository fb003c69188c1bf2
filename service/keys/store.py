"""API keys and roles (contract §1): keys are random, shown once, stored only as SHA-256."""
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from service.core.errors import Conflict, NotFound
from service.core.time import utcnow
from service.keys.sessions import end_sessions_of_key
from service.keys.tables import ApiKey

ROLES = ("reporter", "auditor", "admin")
KEY_PREFIX = "sak_"  # makes a leaked key recognisable to secret scanners


@dataclass(frozen=True)
class Principal:
    name: str
    role: str

    @property
    def sees_everything(self) -> bool:
        return self.role in ("auditor", "admin")


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(session: Session, name: str, role: str) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if not name or len(name) > 64 or not all(c.isalnum() or c in "._-" for c in name):
        raise ValueError("name must be 1-64 characters of letters, digits, '.', '_' or '-'")
    if session.scalar(select(ApiKey).where(ApiKey.name == name)):
        raise Conflict(f"a key named {name!r} already exists")
    key = _new_key()
    session.add(ApiKey(name=name, role=role, key_hash=hash_key(key), created_at=utcnow()))
    return key


def _new_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)  # 256 bits of entropy


def rotate_key(session: Session, name: str) -> str:
    """A new secret for the same name, so the reporter identity (and with it idempotency and the right
    to correct) carries over; the old secret stops working when the transaction commits."""
    api_key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if api_key is None:
        raise NotFound(f"no key named {name!r}")
    if api_key.revoked_at is not None:
        raise Conflict(f"the key {name!r} is revoked; revocation is final")
    key = _new_key()
    end_sessions_of_key(session, api_key.key_hash)
    api_key.key_hash = hash_key(key)
    return key


def revoke_key(session: Session, name: str) -> None:
    api_key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if api_key is None:
        raise NotFound(f"no key named {name!r}")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()
    end_sessions_of_key(session, api_key.key_hash)


def authenticate(db: Session | Connection, presented: str) -> Principal | None:
    return principal_for_hash(db, hash_key(presented))


def principal_for_hash(db: Session | Connection, digest: str) -> Principal | None:
    """Who the key with this SHA-256 is, while it is neither revoked nor rotated away; a console
    session holds only this hash and asks again on every request."""
    api_key = db.execute(select(ApiKey.name, ApiKey.role, ApiKey.key_hash, ApiKey.revoked_at)
                         .where(ApiKey.key_hash == digest)).first()
    # The lookup is by hash; the constant-time compare guards against any index timing leak.
    if api_key is None or api_key.revoked_at is not None or not hmac.compare_digest(api_key.key_hash, digest):
        return None
    return Principal(api_key.name, api_key.role)


def all_keys(session: Session) -> list[ApiKey]:
    """Every key, active or revoked, by name (their hashes, never the keys)."""
    return list(session.scalars(select(ApiKey).order_by(ApiKey.name)))
