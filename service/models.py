"""ORM tables. Events, evaluations and ledger entries are append-only (triggers in the migrations)."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from .db import Base, UTCDateTime

# JSONB on PostgreSQL for indexing later; plain JSON text on SQLite.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")
# 64-bit ids on PostgreSQL; SQLite only auto-increments a column declared INTEGER.
EntryId = BigInteger().with_variant(Integer(), "sqlite")


class ApiKey(Base):
    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    role: Mapped[str] = mapped_column(String(16))
    # SHA-256 of the key: keys carry 256 random bits, so a slow hash would add nothing.
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PolicyVersion(Base):
    __tablename__ = "policy_versions"
    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    effective_from: Mapped[datetime] = mapped_column(UTCDateTime())
    effective_to: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sha256: Mapped[str] = mapped_column(String(64))
    document: Mapped[dict] = mapped_column(JSONDoc)
    published_at: Mapped[datetime] = mapped_column(UTCDateTime())
    published_by: Mapped[str] = mapped_column(String(64))
    ledger_entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("ledger_entries.id"))


class Munition(Base):
    __tablename__ = "munitions"
    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    family: Mapped[str] = mapped_column(String(64))
    max_range_km: Mapped[float] = mapped_column(Float)


class LedgerEntry(Base):
    """One state change. `canonical` is the RFC 8785 bytes: the only copy of the entry."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(EntryId, primary_key=True, autoincrement=True)
    entry_type: Mapped[str] = mapped_column(String(32))
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Event(Base):
    """One version of a reported strike; a correction is a new row that supersedes the previous one."""

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("reporter", "source_event_id", "version"),
        Index("ix_events_occurred_at", "occurred_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reporter: Mapped[str] = mapped_column(String(64))
    source_event_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    supersedes: Mapped[str | None] = mapped_column(ForeignKey("events.id"))
    payload: Mapped[dict] = mapped_column(JSONDoc)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ledger_entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("ledger_entries.id"), unique=True)


class Evaluation(Base):
    __tablename__ = "evaluations"
    id: Mapped[int] = mapped_column(EntryId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    policy_id: Mapped[str | None] = mapped_column(String(128))
    policy_sha256: Mapped[str | None] = mapped_column(String(64))
    verdict: Mapped[str] = mapped_column(String(16))
    findings: Mapped[list] = mapped_column(JSONDoc)
    computed: Mapped[dict] = mapped_column(JSONDoc)
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ledger_entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("ledger_entries.id"), unique=True)
