"""Rate limits per API key (per client address without a valid key): the `limits` library's moving window,
counted once per request before anything else looks at it.

The `limits` library is what flask-limiter counts with; flask-limiter around it cost 0.4 ms of CPU a
request (some sixty context-local look-ups and a dozen checks per request: 0.78 against 0.36 ms for a
`GET /v1/ledger/public-key` measured in-process), a third of what a small request costs in all.
"""
import math
import time

from flask import Flask, request
from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import MovingWindowRateLimiter
from sqlalchemy.exc import OperationalError

from service.web.auth import presented_principal
from service.web.console.signin import console_principal
from service.web.errors import Problem


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
        # The database is unreachable: counted against the address, and the view's own key check
        # answers 503 (the failed look-up is remembered for the request: one connect timeout, not two).
        principal = None
    return f"key:{principal.name}" if principal else f"addr:{request.remote_addr or 'unknown'}"


class TooManyRequests(Problem):
    status, title = 429, "Too Many Requests"


class RequestLimits:
    """One allowance per key over every route, and a second one for batches on top.

    If the shared storage (Redis) fails, each worker counts in its own memory until it answers again
    (tried once a second), rather than refusing every request or waving them all through.
    """

    PREFIX = "strike-audit"
    RETRY_SHARED_AFTER_S = 1.0

    def __init__(self, general: list[RateLimitItem], batch: list[RateLimitItem], storage_uri: str):
        self.scopes = (("all", general, None), ("batch", batch, BATCH_ENDPOINT))
        self.storage = storage_from_string(storage_uri)
        self.shared = MovingWindowRateLimiter(self.storage)
        self.local = self.shared if isinstance(self.storage, MemoryStorage) else \
            MovingWindowRateLimiter(WorkerMemoryStorage())
        self._shared_failed_at: float | None = None

    def check(self) -> None:
        """Count this request; TooManyRequests (a 429 with Retry-After) if it breaks a limit."""
        if request.blueprint in EXEMPT_BLUEPRINTS or request.endpoint in EXEMPT_ENDPOINTS:
            return
        key = client_key()
        for scope, items, endpoint in self.scopes:
            if endpoint is not None and request.endpoint != endpoint:
                continue
            for item in items:
                window = self._hit(item, scope, key)
                if window is not None:
                    retry_after = max(1, math.ceil(window.get_window_stats(item, self.PREFIX, scope, key).reset_time
                                                   - time.time()))
                    raise TooManyRequests(f"More than {item} for this API key (or, without a valid key, this "
                                          f"address); retry after {retry_after} s.",
                                          headers={"Retry-After": str(retry_after)})

    def _hit(self, item: RateLimitItem, scope: str, key: str) -> MovingWindowRateLimiter | None:
        """None if the request fits; else the window that refused it."""
        window = self.shared
        failed_at = self._shared_failed_at
        if failed_at is not None and time.monotonic() - failed_at < self.RETRY_SHARED_AFTER_S:
            window = self.local
        try:
            allowed = window.hit(item, self.PREFIX, scope, key)
        except Exception:  # whatever the shared storage's client raises (refused, timed out, reset)
            if window is self.local:
                raise
            self._shared_failed_at, window = time.monotonic(), self.local
            allowed = window.hit(item, self.PREFIX, scope, key)
        else:
            if window is self.shared:
                self._shared_failed_at = None
        return None if allowed else window


def install(app: Flask) -> RequestLimits | None:
    """The limits of RATE_LIMIT and RATE_LIMIT_BATCH ("" switches either off), checked before each request."""
    general, batch = app.config["RATE_LIMIT"], app.config["RATE_LIMIT_BATCH"]
    # A typo fails at start-up, not on the first request. A moving window: no burst of twice the limit
    # across a window boundary, and Retry-After is when the oldest counted request leaves the window.
    limits = RequestLimits(parse_many(general) if general else [], parse_many(batch) if batch else [],
                           app.config["RATE_LIMIT_STORAGE_URI"])
    if not general and not batch:
        return None
    app.before_request(limits.check)
    app.extensions["rate_limiter"] = limits
    return limits
