"""Security headers on every response: successes, problems, 404s, the spec and the HTML report."""
from service import create_app
from service.web.security_headers import API_POLICY, HTML_POLICY

EVERY_RESPONSE = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}


def assert_secured(response, policy=API_POLICY):
    for name, value in EVERY_RESPONSE.items():
        assert response.headers.get(name) == value, (name, response.status_code)
    assert response.headers["Content-Security-Policy"] == policy
    assert "Strict-Transport-Security" not in response.headers  # only when HSTS_MAX_AGE is set


def no_database_app(tmp_path, **config):
    """None of these answers reads the database; an outage answers 503."""
    return create_app({"DATABASE_URL": f"sqlite:///{tmp_path}/missing/dir/audit.db", **config})


def test_open_refused_and_failed_responses_carry_the_headers(tmp_path):
    client = no_database_app(tmp_path).test_client()
    for method, path, status in [
        ("GET", "/healthz", 200), ("GET", "/openapi.yaml", 200), ("GET", "/v1/ledger/public-key", 200),
        ("GET", "/v1/nothing-here", 404), ("DELETE", "/v1/policies", 405), ("GET", "/v1/policies", 401),
        ("POST", "/v1/events", 401), ("GET", "/readyz", 503),
    ]:
        response = client.open(path, method=method)
        assert response.status_code == status, path
        assert_secured(response)
        assert "no-store" not in response.headers.get("Cache-Control", ""), path
    outage = client.get("/v1/policies", headers={"Authorization": "Bearer sak_any"})
    assert outage.status_code == 503
    assert_secured(outage)


def test_anything_sent_with_a_key_is_no_store(client, keys):
    for response in (client.get("/v1/policies", headers=keys.reporter),                       # 200
                     client.get("/v1/events?verdict=bad", headers=keys.auditor),               # 400
                     client.post("/v1/policies", json={}, headers=keys.reporter),              # 403
                     client.get("/v1/policies", headers={"Authorization": "Bearer sak_nope"}),  # 401
                     client.get("/v1/ledger/public-key", headers=keys.reporter)):              # open, but sent a key
        assert_secured(response)
        assert response.headers["Cache-Control"] == "no-store", response.status_code


def test_the_html_report_may_use_inline_style_and_nothing_else(client, keys):
    response = client.get("/v1/reports/compliance?from=2024-06-01&to=2024-07-01&format=html", headers=keys.auditor)
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert_secured(response, HTML_POLICY)
    assert "<script" not in response.get_data(as_text=True)
    assert "script-src" not in HTML_POLICY and "default-src 'none'" in HTML_POLICY
    csv = client.get("/v1/reports/compliance?from=2024-06-01&to=2024-07-01&format=csv", headers=keys.auditor)
    assert_secured(csv)


def test_hsts_when_configured(tmp_path):
    client = no_database_app(tmp_path, HSTS_MAX_AGE=31536000).test_client()
    for path in ("/healthz", "/v1/nothing-here"):
        assert client.get(path).headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
