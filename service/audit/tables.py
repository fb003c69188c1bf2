"""Auditors' reviews of events (append-only)."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, EntryId, UTCDateTime


class Review(Base):
    """An auditor's review of an event; appended, never edited. The latest one is the event's status."""

    __tablename__ = "reviews"
    id: Mapped[int] = mapped_column(EntryId, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(ForeignKey("events.id"), index=True)
    head_id: Mapped[str] = mapped_column(String(36), index=True)
    status: Mapped[str] = mapped_column(String(32))
    reviewer: Mapped[str] = mapped_column(String(64))  # the comment is in the review's ledger entry only
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ledger_entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("ledger_entries.id"), unique=True)
