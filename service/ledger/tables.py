"""The ledger's tables: entries, the sequencer's queue, leaves, tree nodes, signed checkpoints, cosignatures."""
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from service.db.base import Base, EntryId, UTCDateTime


class LedgerEntry(Base):
    """One state change. `canonical` is the RFC 8785 bytes: the only copy of the entry."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(EntryId, primary_key=True, autoincrement=True)
    entry_type: Mapped[str] = mapped_column(String(32))
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


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


class WitnessCosignature(Base):
    """A witness's tlog-cosignature on a checkpoint, verified before it was stored (append-only)."""

    __tablename__ = "witness_cosignatures"
    __table_args__ = (UniqueConstraint("tree_size", "key_name", "key_id"),)
    id: Mapped[int] = mapped_column(EntryId, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, ForeignKey("checkpoints.tree_size"), index=True)
    key_name: Mapped[str] = mapped_column(String(255))  # the witness key's name, as its signature line says
    key_id: Mapped[bytes] = mapped_column(LargeBinary(4))
    timestamp: Mapped[int] = mapped_column(BigInteger)  # POSIX seconds the witness signed at
    line: Mapped[str] = mapped_column(Text)  # the signature line, to put under the checkpoint verbatim
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
