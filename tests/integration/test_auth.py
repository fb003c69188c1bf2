"""contract §1: bearer keys, roles, 401/403/404, the keys CLI."""
import pytest
from sqlalchemy import select

from service.keys.tables import ApiKey
from service.ledger import sequencer

from ..console_client import Console, raw_key
from ..helpers import make_event
from .test_policies import polygon_policy

ANYONE = "anyone"  # no key needed; a key, valid or not, changes nothing
READERS, WRITERS = {"reporter", "auditor", "admin"}, {"reporter", "admin"}
REVIEWERS, ADMIN = {"auditor", "admin"}, {"admin"}
PERIOD = "from=2024-06-01&to=2024-07-01"
SIMULATE = ("/v1/policies/us-2024-05-30-kharkiv/simulate"
            "?occurred_from=2024-01-01T00:00:00Z&occurred_to=2025-01-01T00:00:00Z")

# Every route of the app and who may use it. {id} is an event reported by ops-a, {report} a stored report.
# A route missing here fails test_every_route_is_in_the_matrix: a new endpoint must say who may use it.
MATRIX = {
    # (method, URL rule)                              (request path,                                   who)
    ("GET", "/healthz"):                               ("/healthz",                                      ANYONE),
    ("GET", "/readyz"):                                ("/readyz",                                       ANYONE),
    ("GET", "/metrics"):                               ("/metrics",                                      ANYONE),
    ("GET", "/openapi.yaml"):                          ("/openapi.yaml",                                 ANYONE),
    ("GET", "/v1/ledger/checkpoint"):                  ("/v1/ledger/checkpoint",                         ANYONE),
    ("GET", "/v1/ledger/public-key"):                  ("/v1/ledger/public-key",                         ANYONE),
    ("GET", "/v1/ledger/proofs/inclusion"):            ("/v1/ledger/proofs/inclusion?index=0",           ANYONE),
    ("GET", "/v1/ledger/proofs/consistency"):          ("/v1/ledger/proofs/consistency?first=1",         ANYONE),
    ("GET", "/v1/ledger/entries"):                     ("/v1/ledger/entries?start=0&end=1",              REVIEWERS),
    ("GET", "/v1/ledger/entries/<int:index>"):         ("/v1/ledger/entries/0",                          REVIEWERS),
    ("GET", "/v1/ledger/entries/<int:index>/receipt"): ("/v1/ledger/entries/0/receipt",                  REVIEWERS),
    ("GET", "/v1/ledger/tile/<tile_level:level>/<tile_index:index>"):("/v1/ledger/tile/0/000.p/1",                     ANYONE),
    ("GET", "/v1/ledger/tile/entries/<tile_index:index>"):("/v1/ledger/tile/entries/000.p/1",               REVIEWERS),
    ("GET", "/v1/events"):                             ("/v1/events",                                    READERS),
    ("POST", "/v1/events"):                            ("/v1/events",                                    WRITERS),
    ("POST", "/v1/events/batch"):                      ("/v1/events/batch",                              WRITERS),
    ("GET", "/v1/events/export"):                      ("/v1/events/export?format=ndjson",               READERS),
    ("GET", "/v1/events/<event_id>"):                  ("/v1/events/{id}",                               READERS),
    ("GET", "/v1/events/<event_id>/receipt"):          ("/v1/events/{id}/receipt",                       READERS),
    ("POST", "/v1/events/<event_id>/corrections"):     ("/v1/events/{id}/corrections",                   WRITERS),
    ("POST", "/v1/events/<event_id>/reviews"):         ("/v1/events/{id}/reviews",                       REVIEWERS),
    ("GET", "/v1/policies"):                           ("/v1/policies",                                  READERS),
    ("POST", "/v1/policies"):                          ("/v1/policies",                                  ADMIN),
    ("GET", "/v1/policies/<policy_id>"):               ("/v1/policies/us-2024-05-30-kharkiv",            READERS),
    ("POST", "/v1/policies/<policy_id>/simulate"):     (SIMULATE,                                        REVIEWERS),
    ("GET", "/v1/catalog/munitions"):                  ("/v1/catalog/munitions",                         READERS),
    ("GET", "/v1/catalog/categories"):                 ("/v1/catalog/categories",                        READERS),
    ("GET", "/v1/reports"):                            ("/v1/reports",                                   REVIEWERS),
    ("POST", "/v1/reports"):                           ("/v1/reports",                                   REVIEWERS),
    ("GET", "/v1/reports/compliance"):                 (f"/v1/reports/compliance?{PERIOD}",              REVIEWERS),
    ("GET", "/v1/reports/<int:report_id>"):            ("/v1/reports/{report}",                          REVIEWERS),
}
BODIES = {  # what each POST sends: valid, so an allowed key gets a 2xx
    "/v1/events": make_event("matrix-new"),
    "/v1/events/batch": {"events": [make_event("matrix-batch")]},
    "/v1/events/<event_id>/corrections": make_event(**{"target.category": "command_post"}),
    "/v1/events/<event_id>/reviews": {"status": "acknowledged", "comment": "seen"},
    "/v1/policies": polygon_policy(),
    "/v1/reports": {"from": "2024-06-01", "to": "2024-07-01"},
}
IDENTITIES = ("no key", "invalid key", "revoked key", "reporter", "auditor", "admin")


# The console's pages: who may use them once signed in (a session cookie; bearer keys open none of them).
SIGNED_IN = READERS
CONSOLE_MATRIX = {
    ("GET", "/console"):                               ("/console",                                      ANYONE),
    ("GET", "/console/"):                              ("/console/",                                     ANYONE),
    ("GET", "/console/login"):                         ("/console/login",                                ANYONE),
    ("POST", "/console/login"):                        ("/console/login",                                ANYONE),
    ("GET", "/console/static/<path:filename>"):        ("/console/static/console.css",                   ANYONE),
    ("GET", "/console/events"):                        ("/console/events?verdict=",                      SIGNED_IN),
    ("GET", "/console/events/export"):                 ("/console/events/export?format=csv",             SIGNED_IN),
    ("GET", "/console/events/<event_id>"):             ("/console/events/{id}",                          SIGNED_IN),
    ("POST", "/console/events/<event_id>/reviews"):    ("/console/events/{id}/reviews",                  REVIEWERS),
    ("GET", "/console/map"):                           ("/console/map?verdict=",                         SIGNED_IN),
    ("GET", "/console/policies"):                      ("/console/policies",                             SIGNED_IN),
    ("GET", "/console/policies/simulate"):             ("/console/policies/simulate?policy_version="
                                                        "us-2024-05-30-kharkiv&occurred_from=2024-01-01T00:00:00Z"
                                                        "&occurred_to=2025-01-01T00:00:00Z",             REVIEWERS),
    ("GET", "/console/reports"):                       ("/console/reports",                              REVIEWERS),
    ("POST", "/console/reports"):                      ("/console/reports",                              REVIEWERS),
    ("GET", "/console/reports/<int:report_id>"):       ("/console/reports/{report}",                     REVIEWERS),
    ("GET", "/console/ledger"):                        ("/console/ledger",                               SIGNED_IN),
    ("POST", "/console/logout"):                       ("/console/logout",                               SIGNED_IN),
}
CONSOLE_FORMS = {"/console/events/<event_id>/reviews": {"status": "acknowledged", "comment": "seen"},
                 "/console/reports": {"from": "2024-06-01", "to": "2024-07-01"}}


def test_every_route_is_in_the_matrix(app):
    routes = {(method, rule.rule) for rule in app.url_map.iter_rules()
              for method in rule.methods - {"HEAD", "OPTIONS"}}
    matrices = set(MATRIX) | set(CONSOLE_MATRIX)
    assert routes - matrices == set(), "a route without a matrix entry: say who may use it"
    assert matrices - routes == set(), "a matrix entry for a route that no longer exists"


@pytest.fixture
def identities(app, client, keys, runner) -> dict:
    """Headers for each identity. The revoked key was valid a moment ago."""
    created = runner.invoke(args=["keys", "create", "--name", "ops-revoked", "--role", "admin"])
    revoked = {"Authorization": f"Bearer {created.output.strip().splitlines()[-1]}"}
    assert client.get("/v1/policies", headers=revoked).status_code == 200
    assert runner.invoke(args=["keys", "revoke", "ops-revoked"]).exit_code == 0
    return {"no key": {}, "invalid key": {"Authorization": "Bearer sak_not-a-key"}, "revoked key": revoked,
            "reporter": keys.reporter, "auditor": keys.auditor, "admin": keys.admin}


def expected(who, identity: str) -> str:
    if who == ANYONE:
        return "2xx"
    if identity in ("no key", "invalid key", "revoked key"):
        return "401"
    return "2xx" if identity in who else "403"


def test_authorization_matrix(app, client, keys, identities):
    event_id = client.post("/v1/events", json=make_event(), headers=keys.reporter).get_json()["id"]
    report_id = client.post("/v1/reports", json=BODIES["/v1/reports"], headers=keys.auditor).get_json()["id"]
    sequencer.integrate_all(app.extensions["db_sessions"], app.extensions["ledger_signer"])
    wrong = []
    for (method, rule), (path, who) in MATRIX.items():
        for identity in IDENTITIES:
            response = client.open(path.format(id=event_id, report=report_id), method=method,
                                   json=BODIES.get(rule) if method == "POST" and rule in BODIES else None,
                                   headers=identities[identity])
            got = "2xx" if 200 <= response.status_code < 300 else str(response.status_code)
            if got != expected(who, identity):
                wrong.append(f"{method} {rule} as {identity}: {response.status_code}, "
                             f"expected {expected(who, identity)}")
    assert not wrong, "\n".join(wrong)


def test_unauthorized_answers_are_problems_with_a_challenge(client):
    for headers in ({}, {"Authorization": "Basic dXNlcjpwYXNz"}, {"Authorization": "Bearer"}):
        response = client.get("/v1/policies", headers=headers)
        assert response.status_code == 401 and response.mimetype == "application/problem+json"
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_keys_cli_create_list_revoke(runner, client, app):
    created = runner.invoke(args=["keys", "create", "--name", "ops-new", "--role", "reporter"])
    assert created.exit_code == 0, created.output
    key = created.output.strip().splitlines()[-1]
    assert key.startswith("sak_") and len(key) >= 4 + 43  # 32 random bytes, url-safe base64
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/policies", headers=headers).status_code == 200
    with app.extensions["db_sessions"]() as session:
        stored = session.scalar(select(ApiKey).where(ApiKey.name == "ops-new"))
    assert key not in (stored.key_hash, stored.name) and len(stored.key_hash) == 64
    listing = runner.invoke(args=["keys", "list"])
    assert "ops-new\treporter" in listing.output and key not in listing.output
    assert runner.invoke(args=["keys", "revoke", "ops-new"]).exit_code == 0
    assert client.get("/v1/policies", headers=headers).status_code == 401
    assert "revoked" in runner.invoke(args=["keys", "list"]).output


def test_keys_cli_rotate_keeps_the_identity_and_kills_the_old_secret(runner, client, keys):
    old = keys.reporter
    event_id = client.post("/v1/events", json=make_event("rot-1"), headers=old).get_json()["id"]
    rotated = runner.invoke(args=["keys", "rotate", "ops-a"])
    assert rotated.exit_code == 0, rotated.output
    new = {"Authorization": f"Bearer {rotated.output.strip().splitlines()[-1]}"}
    assert client.get("/v1/policies", headers=old).status_code == 401
    # the same reporter: its event is still its own, to read, replay and correct
    assert client.get(f"/v1/events/{event_id}", headers=new).status_code == 200
    assert client.post("/v1/events", json=make_event("rot-1"), headers=new).status_code == 200
    assert runner.invoke(args=["keys", "revoke", "ops-a"]).exit_code == 0
    again = runner.invoke(args=["keys", "rotate", "ops-a"])
    assert again.exit_code != 0 and "revoked" in again.output
    assert runner.invoke(args=["keys", "rotate", "nobody"]).exit_code != 0


def test_keys_cli_refuses_bad_input(runner):
    assert runner.invoke(args=["keys", "create", "--name", "x", "--role", "superuser"]).exit_code != 0
    assert runner.invoke(args=["keys", "create", "--name", "bad name", "--role", "reporter"]).exit_code != 0
    assert runner.invoke(args=["keys", "create", "--name", "dup", "--role", "auditor"]).exit_code == 0
    again = runner.invoke(args=["keys", "create", "--name", "dup", "--role", "auditor"])
    assert again.exit_code != 0 and "already exists" in again.output
    assert runner.invoke(args=["keys", "revoke", "nobody"]).exit_code != 0


def test_reporter_identity_comes_from_the_key(client, keys):
    body = client.post("/v1/events", json=make_event(), headers=keys.admin).get_json()
    assert body["reporter"] == "admin-1"


def test_console_matrix(app, client, keys, identities):
    """Each console route for each role signed in, and signed out; the session is the only way in."""
    event_id = client.post("/v1/events", json=make_event(), headers=keys.reporter).get_json()["id"]
    report_id = client.post("/v1/reports", json=BODIES["/v1/reports"], headers=keys.auditor).get_json()["id"]
    wrong = []
    for identity in ("no session", "reporter", "auditor", "admin"):
        console = Console(app.test_client())
        if identity != "no session":
            assert console.sign_in(raw_key(keys[{"reporter": "ops-a", "auditor": "auditor-1",
                                                  "admin": "admin-1"}[identity]])).status_code == 303
        token = console.token("/console/login") if identity == "no session" else console.token()
        for (method, rule), (path, who) in sorted(CONSOLE_MATRIX.items(), key=lambda item: item[0][1] == "/console/logout"):
            url = path.format(id=event_id, report=report_id)
            if method == "GET":
                response = console.client.get(url)
            elif rule == "/console/login":  # signing in, from another browser: this one stays who it is
                other = Console(app.test_client())
                response = other.client.post(url, data={"csrf_token": other.token("/console/login"),
                                                        "api_key": raw_key(keys.auditor)})
            else:
                response = console.client.post(url, data={"csrf_token": token, **CONSOLE_FORMS.get(rule, {})})
            response.close()
            to_login = response.status_code == 303 and response.headers["Location"].startswith("/console/login") \
                and "signed_out" not in response.headers["Location"]
            got = "refused" if to_login or response.status_code == 401 else (
                "ok" if response.status_code < 400 else str(response.status_code))
            want = "ok" if who == ANYONE or identity in who else "refused" if identity == "no session" else "403"
            if got != want:
                wrong.append(f"{method} {rule} as {identity}: {response.status_code}, expected {want}")
    for identity, headers in identities.items():  # a bearer key opens no console page
        response = client.get("/console/events?verdict=", headers=headers)
        if response.status_code != 303:
            wrong.append(f"GET /console/events with the {identity}'s bearer key: {response.status_code}")
    assert not wrong, "\n".join(wrong)
