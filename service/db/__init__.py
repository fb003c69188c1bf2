"""Storage shared by every feature: the declarative base and column types, engines and sessions,
and the triggers that make ledger tables append-only (guards)."""
from service.db.base import Base, EntryId, JSONDoc, UTCDateTime
from service.db.engine import make_engine, make_session_factory, normalize_url, single_statement_reads

__all__ = ["Base", "EntryId", "JSONDoc", "UTCDateTime", "make_engine", "make_session_factory", "normalize_url",
           "single_statement_reads"]
