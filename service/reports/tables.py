"""Stored compliance reports."""
from datetime import datetime

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, EntryId, UTCDateTime


class Report(Base):
    """A stored compliance report (contract §9): the exact document, its SHA-256 and its ledger entry."""

    __tablename__ = "compliance_reports"
    __table_args__ = (
        # A scheduled period has one report per revision, so two `reports generate` racing for the
        # same revision store it once; on-demand reports of a period may be stored as often as asked.
        Index("uq_compliance_reports_revision", "kind", "period_from", "period_to", "revision", unique=True,
              sqlite_where=text("kind <> 'on_demand'"), postgresql_where=text("kind <> 'on_demand'")),
    )
    id: Mapped[int] = mapped_column(EntryId, primary_key=True, autoincrement=True)
    period_from: Mapped[datetime] = mapped_column(UTCDateTime())
    period_to: Mapped[datetime] = mapped_column(UTCDateTime())
    label: Mapped[str | None] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))  # on_demand | weekly | monthly
    tree_size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))  # of the RFC 8785 bytes of `document`
    # json, not jsonb: kept whole and never queried inside; a month's document converts to json in a
    # third of the time (migration 0012)
    document: Mapped[dict] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    ledger_entry_id: Mapped[int] = mapped_column(EntryId, ForeignKey("ledger_entries.id"), unique=True)
    # Revisions of a scheduled period (reports/revisions.py): 1, 2, …, each naming the one it supersedes.
    # An on-demand report is revision 1 of nothing. The row is append-only: "superseded by" is the
    # row whose `supersedes` names this one.
    revision: Mapped[int] = mapped_column(Integer, server_default=text("1"))
    supersedes: Mapped[int | None] = mapped_column(EntryId, ForeignKey("compliance_reports.id"), unique=True)
