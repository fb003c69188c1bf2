"""Reported strikes: every version, the rules each version's evaluation found, and the query index
over the latest versions (one head per event)."""
from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, EntryId, UTCDateTime


class Event(Base):
    """One version of a reported strike; a correction is a new row that supersedes the previous one.

    The version's report and its evaluation are ledger entries, whose canonical bytes are the only copy of
    them; the row keeps what finds and orders versions, every value of it derived from those two entries
    (`ledger verify` compares them).
    """

    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("reporter", "source_event_id", "version"),
        Index("ix_events_head_id", "head_id", "version"),
    )
    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    head_id: Mapped[str] = mapped_column(String(36))  # the first version's id: the event's stable id
    reporter: Mapped[str] = mapped_column(String(64))
    source_event_id: Mapped[str] = mapped_column(String(128))
    version: Mapped[int] = mapped_column(Integer)
    supersedes: Mapped[str | None] = mapped_column(ForeignKey("events.id"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ledger_entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("ledger_entries.id"), unique=True)  # the report
    evaluation_entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("ledger_entries.id"), unique=True)


class EventRule(Base):
    """One row per rule that found something in an event version, so `rule_id` filters use an index, not JSON.

    It repeats the version's `occurred_at` and `head_id` so that a rule's events come out of one index
    in the list's order (newest first, keyset cursors): a page of a rule that one event in forty
    breaks is a range scan, not a walk along every head probing for the rule.
    """

    __tablename__ = "event_rules"
    __table_args__ = (Index("ix_event_rules_order", "rule_id", "occurred_at", "head_id"),)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    head_id: Mapped[str] = mapped_column(String(36))  # the version's event (its first version's id)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime())  # the version's


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
        # A reporting system looks its report up by its own id (GET /v1/events?source_event_id=).
        Index("ix_event_heads_source_event_id", "source_event_id", "reporter"),
        # `ledger verify` finds each head by the entries it names, a range of them per piece of leaves.
        Index("ix_event_heads_ledger_entry_id", "ledger_entry_id"),
        Index("ix_event_heads_evaluation_entry_id", "evaluation_entry_id"),
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
    review_id: Mapped[int | None] = mapped_column(EntryId)  # the latest review's, None while open
    target_lat: Mapped[float] = mapped_column(Float)
    target_lon: Mapped[float] = mapped_column(Float)
    # The latest version's two entries: a list row is built from their bytes, read with the head.
    ledger_entry_id: Mapped[int] = mapped_column(EntryId)
    evaluation_entry_id: Mapped[int] = mapped_column(EntryId)
