"""Rate limits per API key (per client address without a valid key), counted by flask-limiter."""
import time

from flask import Flask, request
from flask_limiter import ApplicationLimit, Limiter
from limits import parse_many
from limits.storage import MemoryStorage
from sqlalchemy.exc import OperationalError

from service.web.auth import presented_principal
from service.web.console.signin import console_principal


class WorkerMemoryStorage(MemoryStorage):
    """limits' in-memory counts (one per worker), without the thread it starts to drop expired entries.

    MemoryStorage schedules that clean-up on a 10 ms timer, a new thread each time one has run out: under
    load a thread started every few requests, a sixth of a worker's time (py-spy). The clean-up only keeps
    memory bounded (a window's entries are judged by their time either way), so here it runs inline, at
    most once a second. `worker-memory://` in RATE_LIMIT_STORAGE_URI; `memory://` is limits' own.
    """

    STORAGE_SCHEME = ["worker-memory"]
    EXPIRE_EVERY_S = 1.0

    def __init__(self, uri: str | None = None, **options):
        super().__init__(uri, **options)
        self._expired_at = 0.0

    def _MemoryStorage__schedule_expiry(self) -> None:  # noqa: N802 - the name MemoryStorage calls
        now = time.monotonic()
        if now - self._expired_at >= self.EXPIRE_EVERY_S:
            self._expired_at = now
            self._MemoryStorage__expire_events()


BATCH_ENDPOINT = "events.Batch"
# An orchestrator or Prometheus that got a 429 would take a healthy instance out of service.
EXEMPT_BLUEPRINTS = ("health", "metrics")
CONSOLE = "console"
# The console's stylesheet and script: the same few files for everyone, nothing read from the database.
EXEMPT_ENDPOINTS = ("console.static",)


def client_key() -> str:
    """Whom a request counts against. A missing, unknown or revoked key counts against the address,
    so inventing tokens never buys a fresh allowance."""
    try:
        # The console's pages count against the signed-in key, like the same reads through the API.
        principal = console_principal() if request.blueprint == CONSOLE else presented_principal()
    except OperationalError:
        # The database is unreachable. Raising here would make flask-limiter retry the lookup
        # (a connect timeout each time); the view's own key check answers 503 instead.
        principal = None
    return f"key:{principal.name}" if principal else f"addr:{request.remote_addr or 'unknown'}"


def _is_not_batch() -> bool:
    return request.endpoint != BATCH_ENDPOINT


def install(app: Flask) -> Limiter | None:
    """One limit over every route, plus one for batches on top; "" switches either off."""
    general, batch = app.config["RATE_LIMIT"], app.config["RATE_LIMIT_BATCH"]
    limits = []
    if general:
        parse_many(general)  # a typo fails at start-up, not on the first request
        limits.append(ApplicationLimit(general, scope="all"))
    if batch:
        parse_many(batch)
        limits.append(ApplicationLimit(batch, scope="batch", exempt_when=_is_not_batch))
    if not limits:
        return None
    # A moving window: no burst of twice the limit across a window boundary, and Retry-After is
    # when the oldest counted request leaves the window. If the shared storage (Redis) is down,
    # each worker keeps counting in memory rather than refusing or waving everything through.
    limiter = Limiter(client_key, app=app, application_limits=limits, strategy="moving-window",
                      storage_uri=app.config["RATE_LIMIT_STORAGE_URI"], in_memory_fallback_enabled=True,
                      key_prefix="strike-audit")
    limiter.request_filter(lambda: request.blueprint in EXEMPT_BLUEPRINTS or request.endpoint in EXEMPT_ENDPOINTS)
    app.extensions["rate_limiter"] = limiter
    return limiter
