"""Signing in to the console with an API key: the session cookie, CSRF tokens and the role check.

The browser holds a random session token signed with the console secret; the database holds the
token's SHA-256 and the key's hash, never the key. Every request checks the session and then the
key again, so a revoked or rotated key is refused at its next request.
"""
import hashlib
import hmac
import secrets
from datetime import timedelta
from functools import wraps
from urllib.parse import urlsplit

from flask import current_app, g, redirect, request, url_for
from itsdangerous import BadSignature, Signer
from sqlalchemy.exc import OperationalError

from service.core import secret_files
from service.core.errors import InvalidInput
from service.core.time import utcnow
from service.keys.sessions import end_session, open_session, start_session
from service.keys.store import Principal, principal_for_hash
from service.web.context import sessions
from service.web.errors import Forbidden, Unauthorized

SESSION_COOKIE = "console_session"
LOGIN_COOKIE = "console_login"  # a nonce binding the sign-in form's CSRF token to this browser
LOGIN_COOKIE_SECONDS = 3600
REVIEWERS = ("auditor", "admin")


def _secret() -> bytes:
    if "console_secret" not in current_app.extensions:
        path = current_app.config["CONSOLE_SECRET"]
        current_app.extensions["console_secret"] = secret_files.load_or_create(
            path, lambda: secrets.token_hex(32).encode())
    return current_app.extensions["console_secret"]


def _signer(purpose: str) -> Signer:
    return Signer(_secret(), salt=f"strike-audit console {purpose}", digest_method=hashlib.sha256)


def _unsigned(value: str | None, purpose: str) -> str | None:
    if not value:
        return None
    try:
        return _signer(purpose).unsign(value).decode()
    except (BadSignature, UnicodeDecodeError):
        return None


def _mac(purpose: str, value: str) -> str:
    return hmac.new(_secret(), f"{purpose}\0{value}".encode(), hashlib.sha256).hexdigest()


def idle_limit() -> timedelta:
    return timedelta(seconds=current_app.config["CONSOLE_IDLE_SECONDS"])


def key_principal(key_hash: str) -> Principal | None:
    """Who the session's key is, asked on every request so that a revoked key is refused at once.
    The one place for a per-worker principal cache, should the API's key lookup get one."""
    with sessions()() as session:
        return principal_for_hash(session, key_hash)


def console_principal() -> Principal | None:
    """The signed-in key of this request's session cookie, if it is valid; looked up once per request
    (the rate limiter asks before the page does)."""
    if "console_lookup_failed" in g:
        raise g.console_lookup_failed
    if "console_principal" not in g:
        try:
            g.console_principal = _session_principal()
        except OperationalError as error:
            g.console_lookup_failed = error
            raise
    return g.console_principal


def _session_principal() -> Principal | None:
    token = _unsigned(request.cookies.get(SESSION_COOKIE), "session")
    if token is None:
        return None
    with sessions()() as session, session.begin():
        opened = open_session(session, token, utcnow(), idle_limit())
    if opened is None:
        return None
    principal = key_principal(opened.key_hash)
    if principal is None:  # revoked or rotated since: the session ends with it
        with sessions()() as session, session.begin():
            end_session(session, opened.id)
        return None
    g.console_session_id, g.console_token = opened.id, token
    return principal


def signed_in(*roles: str):
    """Page decorator: a page asked for without a session sends the browser to sign in (and back);
    a form posted without one is refused; a role that may not is 403."""

    def decorator(view):
        @wraps(view)
        def wrapper(*args, **kwargs):
            principal = console_principal()
            if principal is None:
                if request.method in ("GET", "HEAD"):
                    return redirect(url_for("console.login", next=shown_path()), 303)
                raise Unauthorized("You are not signed in (the session ended or was never started); sign in "
                                   "and send the form again.")
            if roles and principal.role not in roles:
                raise Forbidden(f"This page needs one of the roles: {', '.join(roles)}; "
                                f"you are signed in as a {principal.role}.")
            g.principal = principal  # what the access log, the request log and the rate limit see
            return view(*args, **kwargs)

        return wrapper

    return decorator


def shown_path() -> str:
    return request.full_path.rstrip("?")


def safe_next(target: str | None) -> str:
    """Back to a console page after signing in, never to another site."""
    parts = urlsplit(target or "")
    if not parts.scheme and not parts.netloc and parts.path.startswith("/console/") and "\\" not in target:
        return target
    return url_for("console.events")


def csrf_token() -> str:
    """This session's token for its forms (empty without a session); templates call it."""
    token = g.get("console_token")
    return _mac("csrf", token) if token else ""


def require_csrf(expected: str) -> None:
    """A state-changing form must carry the token of the page that showed it: 400 otherwise, before
    anything is read or stored. A cross-site Origin is refused too."""
    # Under Referrer-Policy: no-referrer a browser sends "Origin: null" even from the console's own
    # pages; only a named other origin is refused here. The token is the check that matters.
    origin = request.headers.get("Origin", "null")
    given = request.form.get("csrf_token", "")
    if origin not in ("null", f"{request.scheme}://{request.host}") or not expected \
            or not hmac.compare_digest(given, expected):
        raise InvalidInput("The form did not carry this page's CSRF token: reload the page and send it again.",
                           errors={"csrf_token": ["missing, or not the token of this session's form"]})


def login_form_token() -> tuple[str, str | None]:
    """The sign-in form's CSRF token, and the value of the nonce cookie it is bound to when the
    browser has none yet (the caller sets it with set_cookie)."""
    nonce = _unsigned(request.cookies.get(LOGIN_COOKIE), "login")
    if nonce is not None:
        return _mac("login", nonce), None
    nonce = secrets.token_urlsafe(16)
    return _mac("login", nonce), _signer("login").sign(nonce).decode()


def expected_login_token() -> str:
    nonce = _unsigned(request.cookies.get(LOGIN_COOKIE), "login")
    return _mac("login", nonce) if nonce else ""


def start(key_hash: str) -> str:
    """A new session for the key; the signed cookie value to set."""
    with sessions()() as session, session.begin():
        token = start_session(session, key_hash, utcnow(), idle_limit())
    return _signer("session").sign(token).decode()


def end() -> None:
    if g.get("console_session_id") is not None:
        with sessions()() as session, session.begin():
            end_session(session, g.console_session_id)


def set_cookie(response, name: str, value: str, max_age: int | None = None, path: str = "/console") -> None:
    # HttpOnly: no script reads it; Strict: no other site's page or link sends it; Secure over HTTPS.
    response.set_cookie(name, value, max_age=max_age, path=path, httponly=True, samesite="Strict",
                        secure=request.is_secure)


def clear_cookie(response, name: str, path: str = "/console") -> None:
    response.delete_cookie(name, path=path, httponly=True, samesite="Strict", secure=request.is_secure)
