"""Security headers on every response the app writes: errors, 404s and /openapi.yaml included."""
from flask import Flask, g, request

# The API answers JSON, CSV and plain text: nothing in it may load, run, frame or submit anything.
API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# The HTML compliance report is one self-contained page (an inline <style>, inline SVG charts and map,
# no script, no fetches), so inline style is the one thing it is allowed on top.
HTML_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; " \
              "form-action 'none'"
# The console's pages: script and style only from the service's own files (nothing inline, so text a
# reporter sent can never run), fetches only to the service (the proof check), forms only to itself.
CONSOLE_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " \
                 "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"


def use_policy(policy: str) -> None:
    """A view's choice of one of the policies above for its response (otherwise: by media type)."""
    g.content_security_policy = policy


def install(app: Flask) -> None:
    fixed = {"X-Content-Type-Options": "nosniff", "X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer"}
    if app.config["HSTS_MAX_AGE"]:
        fixed["Strict-Transport-Security"] = f"max-age={app.config['HSTS_MAX_AGE']}; includeSubDomains"

    @app.after_request
    def _secure(response):
        response.headers.update(fixed)
        response.headers["Content-Security-Policy"] = g.get("content_security_policy") or (
            HTML_POLICY if response.mimetype == "text/html" else API_POLICY)
        if "Authorization" in request.headers:
            # Whatever a key was shown (or refused) must not be kept by a browser or a shared cache.
            response.headers["Cache-Control"] = "no-store"
        return response
