"""Signing in to the console: sessions held server-side, cookies that hold no key, CSRF on every form,
sessions that end on sign-out, idling, revocation and rotation."""
import hashlib
import logging
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text, update

from service import create_app
from service.audit.tables import Review
from service.core.time import utcnow
from service.keys.store import revoke_key, rotate_key
from service.keys.tables import ApiKey, ConsoleSession
from service.ledger.tables import LedgerEntry

from ..conftest import GENEROUS_RATE_LIMITS
from ..console_client import Console, raw_key
from ..helpers import make_event


@pytest.fixture
def console(client):
    return Console(client)


@pytest.fixture
def event_id(client, keys):
    return client.post("/v1/events", json=make_event("c-1", **{"target.category": "residential"}),
                       headers=keys.reporter).get_json()["id"]


def session_rows(app) -> list[ConsoleSession]:
    with app.extensions["db_sessions"]() as session:
        return list(session.scalars(select(ConsoleSession)))


def counts(app) -> tuple[int, int, int]:
    with app.extensions["db_sessions"]() as session:
        return tuple(session.scalar(select(func.count()).select_from(model))
                     for model in (Review, LedgerEntry, ConsoleSession))


def test_sign_in_keeps_a_reference_to_the_key_never_the_key(app, console, keys, caplog):
    key = raw_key(keys.auditor)
    caplog.set_level(logging.DEBUG)
    signed_in = console.sign_in(key)
    assert signed_in.status_code == 303 and signed_in.headers["Location"] == "/console/events"
    header = next(h for h in signed_in.headers.getlist("Set-Cookie") if h.startswith("console_session="))
    assert "HttpOnly" in header and "SameSite=Strict" in header and "Path=/console" in header
    assert "Secure" not in header  # plain HTTP here; see the HTTPS test
    cookie = console.session_cookie()
    assert key not in cookie.value and hashlib.sha256(key.encode()).hexdigest() not in cookie.value
    [row] = session_rows(app)
    with app.extensions["db_sessions"]() as session:
        stored = session.scalar(select(ApiKey.key_hash).where(ApiKey.name == "auditor-1"))
    assert row.key_hash == stored  # the key's hash as api_keys holds it: a reference, not the key
    token = cookie.value.rsplit(".", 1)[0]
    assert row.token_hash == hashlib.sha256(token.encode()).hexdigest()
    page = console.page("/console/events?verdict=")
    assert "auditor-1" in page.text and key not in page.text
    logged = "\n".join(record.getMessage() + str(getattr(record, "fields", "")) for record in caplog.records)
    assert key not in logged and cookie.value not in logged and "auditor-1" in logged


def test_over_https_the_cookie_is_secure(app, keys):
    console = Console(app.test_client(), "https://localhost")  # as behind a TLS proxy gunicorn trusts
    header = next(h for h in console.sign_in(raw_key(keys.auditor)).headers.getlist("Set-Cookie")
                  if h.startswith("console_session="))
    assert "Secure" in header and "HttpOnly" in header and "SameSite=Strict" in header


def test_a_wrong_key_or_no_session_is_refused(app, console, keys, event_id):
    refused = console.sign_in("sak_not-a-key")
    assert refused.status_code == 401 and "unknown or revoked" in refused.text
    assert session_rows(app) == []
    away = console.page(f"/console/events/{event_id}", status=303)
    assert away.headers["Location"] == f"/console/login?next=/console/events/{event_id}"
    posted = console.client.post(f"/console/events/{event_id}/reviews", data={"status": "dismissed", "comment": "x"})
    assert posted.status_code == 401 and "Sign in" in posted.text
    assert console.sign_in(raw_key(keys.auditor), f"/console/events/{event_id}").headers["Location"] == \
        f"/console/events/{event_id}"


def test_sign_in_goes_back_only_to_console_pages(console, keys):
    for target in ("https://elsewhere.example/", "//elsewhere.example/console/", "/v1/events", "/console\\..\\x"):
        assert console.sign_in(raw_key(keys.auditor), target).headers["Location"] == "/console/events"
        console.client.delete_cookie("console_session", path="/console")


def test_forms_without_their_csrf_token_are_refused_and_store_nothing(app, console, keys, event_id):
    login = console.client.get("/console/login")
    assert login.status_code == 200
    refused = console.client.post("/console/login", data={"api_key": raw_key(keys.auditor)})
    assert refused.status_code == 400 and "CSRF" in refused.text and session_rows(app) == []
    assert console.sign_in(raw_key(keys.auditor)).status_code == 303
    before = counts(app)
    review = {"status": "confirmed_violation", "comment": "school confirmed"}
    for token in (None, "", "0" * 64):
        data = review if token is None else {**review, "csrf_token": token}
        response = console.client.post(f"/console/events/{event_id}/reviews", data=data)
        assert response.status_code == 400 and "csrf_token" in response.text
    other_site = console.client.post(f"/console/events/{event_id}/reviews", headers={"Origin": "https://evil.example"},
                                     data={**review, "csrf_token": console.token()})
    assert other_site.status_code == 400
    assert console.post("/console/logout", {}, token_from=None).status_code == 400
    assert console.post("/console/reports", {"from": "2024-06-01", "to": "2024-07-01"}, token_from=None).status_code \
        == 400
    assert counts(app)[:2] == before[:2]  # no review, no ledger entry (the ledger page writes no access entry)
    assert console.post(f"/console/events/{event_id}/reviews", review).status_code == 303
    assert counts(app)[0] == before[0] + 1


def test_another_sessions_token_is_not_this_ones(app, keys, event_id):
    first, second = Console(app.test_client()), Console(app.test_client())
    first.sign_in(raw_key(keys.auditor))
    second.sign_in(raw_key(keys.admin))
    stolen = first.token()
    response = second.client.post(f"/console/events/{event_id}/reviews",
                                  data={"status": "dismissed", "comment": "x", "csrf_token": stolen})
    assert response.status_code == 400


def test_sign_out_ends_the_session_for_good(app, console, keys):
    console.sign_in(raw_key(keys.auditor))
    cookie = console.session_cookie().value
    out = console.post("/console/logout", {})
    assert out.status_code == 303 and out.headers["Location"] == "/console/login?signed_out=1"
    assert session_rows(app) == []
    console.client.set_cookie("console_session", cookie, path="/console")  # the old cookie, kept by someone
    assert console.page("/console/events?verdict=", status=303).headers["Location"].startswith("/console/login")


def test_an_idle_session_expires(app, console, keys):
    console.sign_in(raw_key(keys.auditor))
    console.page("/console/ledger")
    idle = timedelta(seconds=app.config["CONSOLE_IDLE_SECONDS"])
    assert idle == timedelta(hours=8)  # the default
    with app.extensions["db_sessions"]() as session, session.begin():
        session.execute(update(ConsoleSession).values(last_seen_at=utcnow() - idle + timedelta(minutes=5)))
    console.page("/console/ledger")  # still within the limit, and seen again now
    [row] = session_rows(app)
    assert utcnow() - row.last_seen_at < timedelta(minutes=1)
    with app.extensions["db_sessions"]() as session, session.begin():
        session.execute(update(ConsoleSession).values(last_seen_at=utcnow() - idle - timedelta(seconds=1)))
    console.page("/console/ledger", status=303)
    assert session_rows(app) == []


def test_the_idle_limit_is_a_setting(database_url, signing_key_path, console_secret_path, monkeypatch):
    monkeypatch.setenv("CONSOLE_IDLE_SECONDS", "60")
    app = create_app({"DATABASE_URL": database_url, "LEDGER_SIGNING_KEY": signing_key_path,
                      "CONSOLE_SECRET": console_secret_path, **GENEROUS_RATE_LIMITS})
    assert app.config["CONSOLE_IDLE_SECONDS"] == 60
    app.extensions["db_engine"].dispose()


@pytest.mark.parametrize("how", ["revoke", "rotate", "revoked behind the store"])
def test_a_revoked_or_rotated_key_ends_its_sessions(app, console, keys, how):
    console.sign_in(raw_key(keys.auditor))
    console.page("/console/ledger")
    with app.extensions["db_sessions"]() as session, session.begin():
        if how == "revoke":
            revoke_key(session, "auditor-1")
        elif how == "rotate":
            rotate_key(session, "auditor-1")
        else:  # as if by hand in the database: the next request's key check still sees it
            session.execute(text("UPDATE api_keys SET revoked_at = :now WHERE name = 'auditor-1'"), {"now": utcnow()})
    console.page("/console/ledger", status=303)
    assert session_rows(app) == []


def test_the_secret_is_created_once_with_mode_0600(tmp_path, database_url, signing_key_path, keys):
    path = tmp_path / "secrets" / "console.key"
    app = create_app({"DATABASE_URL": database_url, "LEDGER_SIGNING_KEY": signing_key_path,
                      "CONSOLE_SECRET": str(path), **GENEROUS_RATE_LIMITS})
    assert not path.exists()  # created on first use, not at start-up
    Console(app.test_client()).sign_in(raw_key(keys.auditor))
    assert path.stat().st_mode & 0o777 == 0o600 and len(path.read_bytes()) == 64
    first = path.read_bytes()
    again = create_app({"DATABASE_URL": database_url, "LEDGER_SIGNING_KEY": signing_key_path,
                        "CONSOLE_SECRET": str(path), **GENEROUS_RATE_LIMITS})
    Console(again.test_client()).sign_in(raw_key(keys.auditor))
    assert path.read_bytes() == first
    for made in (app, again):
        made.extensions["db_engine"].dispose()
