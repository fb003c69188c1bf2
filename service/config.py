"""Settings: every environment variable the service reads, read here and nowhere else (docs/operations.md)."""
import os
from dataclasses import dataclass, field, fields
from pathlib import Path

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


class SettingsError(ValueError):
    """A variable holds a value the service cannot use; the message names it, in one line."""


def _var_dir() -> Path:
    # Under the working directory, not beside the code: an installed package has no checkout around it.
    return Path(os.environ.get("VAR_DIR") or Path.cwd() / "var")


@dataclass(frozen=True)
class Settings:
    var_dir: Path = field(default_factory=_var_dir)
    database_url: str = ""  # default: SQLite in var_dir (see __post_init__)
    ledger_signing_key: str = ""  # default: a key file in var_dir, created on first use
    ledger_origin: str = "strike-audit.local/ledger"
    max_body_bytes: int = 1 << 20
    max_batch_body_bytes: int = 16 << 20
    db_pool_size: int = 5
    db_timeout_seconds: float = 5.0
    log_level: str = "INFO"
    # Strict-Transport-Security max-age in seconds; 0 sends no header (set it only behind HTTPS).
    hsts_max_age: int = 0
    # Per API key (per address without a valid key), in `limits` notation; "" switches limiting off.
    rate_limit: str = "600/minute"
    # A batch carries up to 1000 reports, so batches get their own, lower limit on top of the one above.
    rate_limit_batch: str = "60/minute"
    # worker-memory:// counts in each gunicorn worker (web/rate_limits.py); redis://host:6379 shares one
    # count between all of them.
    rate_limit_storage_uri: str = "worker-memory://"
    # /readyz fails when the oldest entry no signed checkpoint covers is older than this; 0 = never.
    ready_max_sequencer_lag_s: float = 10.0
    # A tlog-policy file naming the witnesses (with their URLs) and the quorum; "" asks no witness.
    ledger_witness_policy: str = ""
    # Seconds one add-checkpoint request may take: a slow witness only delays its own cosignatures.
    witness_timeout_s: float = 5.0
    # How often each witness is offered the newest checkpoint (backing off to 30 s while it fails).
    witness_interval_s: float = 1.0
    # /readyz says the quorum is missing once a checkpoint has waited this long for one (it stays 200).
    witness_max_lag_s: float = 30.0
    # POST /v1/events?wait=integrated waits at most this long for a cosigned checkpoint, then answers
    # without the receipt (the report is stored either way). Each waiting request holds a worker.
    receipt_wait_s: float = 10.0
    # gunicorn (service/gunicorn_conf.py)
    bind: str = ""  # default: 127.0.0.1:<port>
    port: int = 8000
    web_concurrency: int = 4
    gunicorn_timeout: int = 30
    # `make run` starts the sequencer beside gunicorn; docker-compose runs it as its own service (0).
    embedded_sequencer: bool = True
    # Set by gunicorn for the sequencer it starts, so that the sequencer exits when gunicorn is gone.
    sequencer_parent_pid: int | None = None
    # prometheus_client's multiprocess directory; gunicorn_conf makes a temporary one when unset.
    prometheus_multiproc_dir: str | None = None
    # The auditor's console: the secret its session cookies and CSRF tokens are signed with (a file
    # created mode 0600 on first use, like the ledger key), and how long an idle session lasts.
    console_secret: str = ""  # default: a file in var_dir
    console_idle_seconds: int = 8 * 3600

    def __post_init__(self):
        if not self.database_url:
            object.__setattr__(self, "database_url", f"sqlite:///{self.var_dir / 'audit.db'}")
        if not self.ledger_signing_key:
            object.__setattr__(self, "ledger_signing_key", str(self.var_dir / "ledger-signing.key"))
        if not self.console_secret:
            object.__setattr__(self, "console_secret", str(self.var_dir / "console-secret.key"))
        if not self.bind:
            object.__setattr__(self, "bind", f"127.0.0.1:{self.port}")
        level = self.log_level.upper()
        if level not in LOG_LEVELS:
            raise SettingsError(f"LOG_LEVEL={self.log_level!r} is not a log level; use one of "
                                f"{', '.join(LOG_LEVELS)} (in any case)")
        object.__setattr__(self, "log_level", level)

    @classmethod
    def from_env(cls, environ=os.environ) -> "Settings":
        """Every field from the variable of its name in upper case, where set and not empty (an empty
        RATE_LIMIT or RATE_LIMIT_BATCH is a value: it switches that limit off)."""
        values = {}
        for setting in fields(cls):
            name = setting.name.upper()
            raw = environ.get(name, "").strip()
            if raw or (name in _EMPTY_IS_A_VALUE and name in environ):
                values[setting.name] = _parse(name, raw, setting.type)
        return cls(**values)


_EMPTY_IS_A_VALUE = ("RATE_LIMIT", "RATE_LIMIT_BATCH")


def _parse(name: str, raw: str, kind):
    try:
        if kind in (int, "int", int | None, "int | None"):
            return int(raw)
        if kind in (float, "float"):
            return float(raw)
        if kind in (bool, "bool"):
            if raw.lower() not in ("1", "0", "true", "false", "yes", "no"):
                raise ValueError(raw)
            return raw.lower() in ("1", "true", "yes")
        if kind in (Path, "Path"):
            return Path(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a valid {getattr(kind, '__name__', kind)}") from None
    return raw
