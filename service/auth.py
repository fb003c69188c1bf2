"""API keys and roles (SPEC §1): keys are random, shown once, stored only as SHA-256."""
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from functools import wraps

from flask import g, request
from sqlalchemy import select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from .db import db_session, utcnow
from .errors import Conflict, Forbidden, NotFound, Unauthorized
from .models import ApiKey

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
    api_key.key_hash = hash_key(key)
    return key


def revoke_key(session: Session, name: str) -> None:
    api_key = session.scalar(select(ApiKey).where(ApiKey.name == name))
    if api_key is None:
        raise NotFound(f"no key named {name!r}")
    if api_key.revoked_at is None:
        api_key.revoked_at = utcnow()


def authenticate(session: Session, presented: str) -> Principal | None:
    digest = hash_key(presented)
    api_key = session.scalar(select(ApiKey).where(ApiKey.key_hash == digest))
    # The lookup is by hash; the constant-time compare guards against any index timing leak.
    if api_key is None or api_key.revoked_at is not None or not hmac.compare_digest(api_key.key_hash, digest):
        return None
    return Principal(api_key.name, api_key.role)


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def presented_principal() -> Principal | None:
    """The valid key this request carries, if any. Looked up once per request: the rate limiter asks
    before the view's role check does."""
    if "principal_lookup_failed" in g:  # the database was unreachable: once per request is enough
        raise g.principal_lookup_failed
    if "presented_principal" not in g:
        token = _bearer_token()
        if token is None:
            g.presented_principal = None
        else:
            try:
                with db_session() as session:
                    g.presented_principal = authenticate(session, token)
            except OperationalError as exc:
                g.principal_lookup_failed = exc
                raise
    return g.presented_principal


def require_role(*roles: str):
    """View decorator: 401 without a valid key, 403 when the key's role is not allowed."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            if _bearer_token() is None:
                raise Unauthorized("Send an API key as 'Authorization: Bearer <key>'.",
                                   headers={"WWW-Authenticate": "Bearer"})
            principal = presented_principal()
            if principal is None:
                raise Unauthorized("The API key is unknown or revoked.",
                                   headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
            if principal.role not in roles:
                raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
            g.principal = principal
            return view(*args, **kwargs)

        return wrapper

    return decorator
