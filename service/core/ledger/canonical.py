"""Canonical bytes and leaf hashes of ledger entries (RFC 8785 JCS, RFC 9162 leaf hash)."""
import hashlib

import rfc8785

# Every kind of state change the ledger records (contract §7).
ENTRY_TYPES = ("event_received", "evaluation", "correction", "review", "policy_published",
               "report_generated", "access")


def canonical_bytes(document) -> bytes:
    """The RFC 8785 (JCS) serialization: the exact bytes that are hashed and signed."""
    return rfc8785.dumps(document)


def leaf_hash(entry_bytes: bytes) -> bytes:
    """RFC 9162 §2.1.1: SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry_bytes).digest()


def document_sha256(document) -> str:
    """Hex SHA-256 of a document's canonical bytes (policy versions, stored reports)."""
    return hashlib.sha256(canonical_bytes(document)).hexdigest()
