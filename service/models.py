"""ORM tables. Events, evaluations and ledger entries are append-only (triggers in the migrations)."""
from datetime import datetime

from sqlalchemy import (JSON, BigInteger, Float, ForeignKey, Index, Integer, LargeBinary, String, Text,
                        UniqueConstraint, text)
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
        # Records show which version supersedes each one: without it, a scan of every version.
        Index("ix_events_supersedes", "supersedes"),
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


class PendingEntry(Base):
    """Work queue of entries the sequencer has not integrated yet (the only table rows leave)."""

    __tablename__ = "ledger_pending"
    entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("ledger_entries.id"), primary_key=True,
                                          autoincrement=False)


class Leaf(Base):
    """Position of an entry in the Merkle tree: dense, gap-free, in integration order."""

    __tablename__ = "ledger_leaves"
    leaf_index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("ledger_entries.id"), unique=True)
    integrated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class TreeNode(Base):
    """Hash of the complete subtree of 2**level leaves starting at leaf index * 2**level."""

    __tablename__ = "tree_nodes"
    level: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    index: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(LargeBinary(32))


class Checkpoint(Base):
    """Every signed checkpoint, as the exact note text that was signed."""

    __tablename__ = "checkpoints"
    tree_size: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    root_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    note: Mapped[str] = mapped_column(Text)
    signed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Review(Base):
    """An auditor's review of an event; appended, never edited. The latest one is the event's status."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(EntryId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    head_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text)
    reviewer: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ledger_entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("ledger_entries.id"), unique=True)


class EventRule(Base):
    """One row per finding of an event version, so `rule_id` filters use an index, not JSON."""

    __tablename__ = "event_rules"
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(32), primary_key=True)


class EventHead(Base):
    """The latest version of each reported event, with what auditors filter on.

    A derived index, not history: it is rewritten when a correction or a review arrives, and every
    value in it can be recomputed from the append-only tables (and so from the ledger).
    """

    __tablename__ = "event_heads"
    __table_args__ = (
        Index("ix_event_heads_order", "occurred_at", "id"),
        Index("ix_event_heads_verdict", "verdict", "occurred_at", "id"),
        Index("ix_event_heads_reporter", "reporter", "occurred_at", "id"),
        Index("ix_event_heads_review_status", "review_status", "occurred_at", "id"),
        Index("ix_event_heads_severity", "severity", "occurred_at", "id"),
        Index("ix_event_heads_category", "category", "occurred_at", "id"),
        Index("ix_event_heads_target_country", "target_country", "occurred_at", "id"),
        Index("ix_event_heads_received_at", "received_at"),
        Index("ix_event_heads_policy_version", "policy_version", "occurred_at"),
        Index("ix_event_heads_munition", "munition", "occurred_at"),
        Index("ix_event_heads_family", "family", "occurred_at"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the first version's id: stable
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), unique=True)  # the latest version
    reporter: Mapped[str] = mapped_column(String(64))
    source_event_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    verdict: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str | None] = mapped_column(String(16))  # highest finding severity
    munition: Mapped[str] = mapped_column(String(64))
    family: Mapped[str | None] = mapped_column(String(64))  # None: munition not in the catalog
    category: Mapped[str] = mapped_column(String(32))
    target_country: Mapped[str | None] = mapped_column(String(2))  # computed; None at sea
    policy_version: Mapped[str | None] = mapped_column(String(128))
    review_status: Mapped[str] = mapped_column(String(32))
    target_lat: Mapped[float] = mapped_column(Float)
    target_lon: Mapped[float] = mapped_column(Float)


class Report(Base):
    """A stored compliance report (SPEC §9): the exact document, its SHA-256 and its ledger entry."""

    __tablename__ = "compliance_reports"
    __table_args__ = (
        # Scheduled reports are one per period, so a second `reports generate` finds the first;
        # on-demand reports of the same period may be stored as often as asked.
        Index("uq_compliance_reports_period", "kind", "period_from", "period_to", unique=True,
              sqlite_where=text("kind <> 'on_demand'"), postgresql_where=text("kind <> 'on_demand'")),
    )
    id: Mapped[int] = mapped_column(EntryId, primary_key=True, autoincrement=True)
    period_from: Mapped[datetime] = mapped_column(UTCDateTime())
    period_to: Mapped[datetime] = mapped_column(UTCDateTime())
    label: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # on_demand | weekly | monthly
    tree_size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))  # of the RFC 8785 bytes of `document`
    document: Mapped[dict] = mapped_column(JSONDoc)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    ledger_entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("ledger_entries.id"), unique=True)
