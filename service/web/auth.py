"""Who a request is: the bearer key looked up once per request, and the role check views declare."""
from functools import wraps

from flask import g, request
from sqlalchemy.exc import OperationalError

from service.keys.store import Principal, authenticate
from service.web.context import sessions
from service.web.errors import Forbidden, Unauthorized


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
                with sessions()() as session:
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
