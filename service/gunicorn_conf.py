"""gunicorn settings for production and `make run` (override with GUNICORN_* / WEB_CONCURRENCY)."""
import os

bind = os.environ.get("BIND", f"127.0.0.1:{os.environ.get('PORT', '8000')}")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
worker_class = "sync"
# Boundaries and policies load once in the master, then are shared copy-on-write by the workers.
preload_app = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = 30
keepalive = 5
# Refuse oversized request lines and headers before any Python code sees them.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
accesslog = None  # the app writes one JSON line per request, with its request id
errorlog = "-"
loglevel = os.environ.get("LOG_LEVEL", "info").lower()


def post_fork(server, worker):
    # Connections opened before the fork must not be shared between workers.
    from service.wsgi import app

    app.extensions["db_engine"].dispose(close=False)
