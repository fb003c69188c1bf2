"""Who a request is: the bearer key looked up once per request, and the role check views declare."""
import time
from functools import wraps

from flask import current_app, g, request
from sqlalchemy.exc import OperationalError

from service.db import single_statement_reads
from service.keys.store import Principal, authenticate, hash_key
from service.web.context import sessions
from service.web.errors import Forbidden, Unauthorized


def _bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


# How long this worker believes what the database said of a key. A key revoked or rotated stops working
# on every worker within this time; meanwhile a request costs no key lookup (one round trip of ~3).
KEY_TRUST_SECONDS = 0.5
_CACHE_LIMIT = 10_000  # distinct keys remembered; beyond, start afresh (unknown keys must not fill memory)


def known_principal(token: str) -> Principal | None:
    """Who `token` is (None: unknown or revoked), as the database said it at most KEY_TRUST_SECONDS ago."""
    # Per app, as each app has its own database: SHA-256 of a key -> (who, when looked up).
    _known = current_app.extensions.setdefault("known_keys", {})
    digest, now = hash_key(token), time.monotonic()
    cached = _known.get(digest)
    if cached is not None and now - cached[1] < KEY_TRUST_SECONDS:
        return cached[0]
    with single_statement_reads(sessions().kw["bind"]) as db:
        principal = authenticate(db, token)
    if len(_known) >= _CACHE_LIMIT:
        _known.clear()
    _known[digest] = (principal, now)
    return principal


def forget_known_keys() -> None:
    """After revoking or rotating a key in this process: nothing it believed of any key still stands."""
    current_app.extensions.pop("known_keys", None)


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
                g.presented_principal = known_principal(token)
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
