"""Published policy versions and the munition catalog (both append-only)."""
from datetime import datetime

from sqlalchemy import Float, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, EntryId, JSONDoc, UTCDateTime


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
