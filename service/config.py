"""Settings from environment variables, with the defaults documented in the README."""
import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent


def _default_database_url() -> str:
    return f"sqlite:///{REPO_ROOT / 'var' / 'audit.db'}"


@dataclass(frozen=True)
class Settings:
    database_url: str = field(default_factory=_default_database_url)
    ledger_signing_key: str = str(REPO_ROOT / "var" / "ledger-signing.key")
    ledger_origin: str = "strike-audit.local/ledger"
    max_body_bytes: int = 1 << 20
    max_batch_body_bytes: int = 16 << 20
    max_batch_items: int = 1000
    # Reports dated later than now + this are rejected: nobody reports a strike before it happens.
    future_tolerance_seconds: int = 300
    db_pool_size: int = 5
    db_timeout_seconds: float = 5.0
    log_level: str = "INFO"
    # Strict-Transport-Security max-age in seconds; 0 sends no header (set it only behind HTTPS).
    hsts_max_age: int = 0
    # Per API key (per address without a valid key), in `limits` notation; "" switches limiting off.
    rate_limit: str = "600/minute"
    # A batch carries up to 1000 reports, so batches get their own, lower limit on top of the one above.
    rate_limit_batch: str = "60/minute"
    # memory:// counts in each gunicorn worker; redis://host:6379 shares one count between all of them.
    rate_limit_storage_uri: str = "memory://"
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

    @classmethod
    def from_env(cls, environ=os.environ) -> "Settings":
        defaults = cls()
        return cls(
            database_url=environ.get("DATABASE_URL") or defaults.database_url,
            ledger_signing_key=environ.get("LEDGER_SIGNING_KEY") or defaults.ledger_signing_key,
            ledger_origin=environ.get("LEDGER_ORIGIN") or defaults.ledger_origin,
            db_pool_size=int(environ.get("DB_POOL_SIZE", defaults.db_pool_size)),
            db_timeout_seconds=float(environ.get("DB_TIMEOUT_SECONDS", defaults.db_timeout_seconds)),
            log_level=environ.get("LOG_LEVEL", defaults.log_level),
            hsts_max_age=int(environ.get("HSTS_MAX_AGE", defaults.hsts_max_age)),
            rate_limit=environ.get("RATE_LIMIT", defaults.rate_limit).strip(),
            rate_limit_batch=environ.get("RATE_LIMIT_BATCH", defaults.rate_limit_batch).strip(),
            rate_limit_storage_uri=environ.get("RATE_LIMIT_STORAGE_URI") or defaults.rate_limit_storage_uri,
            ready_max_sequencer_lag_s=float(environ.get("READY_MAX_SEQUENCER_LAG_S",
                                                        defaults.ready_max_sequencer_lag_s)),
            ledger_witness_policy=environ.get("LEDGER_WITNESS_POLICY", defaults.ledger_witness_policy),
            witness_timeout_s=float(environ.get("WITNESS_TIMEOUT_S", defaults.witness_timeout_s)),
            witness_interval_s=float(environ.get("WITNESS_INTERVAL_S", defaults.witness_interval_s)),
            witness_max_lag_s=float(environ.get("WITNESS_MAX_LAG_S", defaults.witness_max_lag_s)),
            receipt_wait_s=float(environ.get("RECEIPT_WAIT_S", defaults.receipt_wait_s)),
        )
