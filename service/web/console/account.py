"""Signing in with an API key and signing out."""
from flask import g, make_response, redirect, request, url_for

from service.keys.store import authenticate, hash_key
from service.web.console import signin
from service.web.console.blueprint import bp, page
from service.web.console.signin import LOGIN_COOKIE, LOGIN_COOKIE_SECONDS, SESSION_COOKIE
from service.web.context import sessions


@bp.get("")
@bp.get("/")
def home():
    return redirect(url_for("console.events"), 303)


def _login_page(status: int = 200, failure: str | None = None):
    token, new_nonce = signin.login_form_token()
    body, status = page("login.html", status=status, login_token=token, failure=failure,
                        next=signin.safe_next(request.values.get("next")), signed_out="signed_out" in request.args)
    response = make_response(body, status)
    if new_nonce:
        signin.set_cookie(response, LOGIN_COOKIE, new_nonce, max_age=LOGIN_COOKIE_SECONDS, path="/console/login")
    return response


@bp.get("/login")
def login():
    if signin.console_principal() is not None:
        return redirect(signin.safe_next(request.args.get("next")), 303)
    return _login_page()


@bp.post("/login")
def sign_in():
    signin.require_csrf(signin.expected_login_token())
    key = request.form.get("api_key", "").strip()
    with sessions()() as session:
        principal = authenticate(session, key) if key else None
    if principal is None:
        return _login_page(401, "That key is unknown or revoked.")
    g.principal = principal  # the request log names who signed in; the key itself is never logged
    response = redirect(signin.safe_next(request.form.get("next")), 303)
    signin.set_cookie(response, SESSION_COOKIE, signin.start(hash_key(key)))
    signin.clear_cookie(response, LOGIN_COOKIE, path="/console/login")
    return response


@bp.post("/logout")
@signin.signed_in()
def sign_out():
    signin.require_csrf(signin.csrf_token())
    signin.end()
    response = redirect(url_for("console.login", signed_out=1), 303)
    signin.clear_cookie(response, SESSION_COOKIE)
    return response
