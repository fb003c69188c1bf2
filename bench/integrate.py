"""The sequencer's work on a bulk-loaded ledger, with COPY for its rows.

service.ledger.sequencer.integrate writes each leaf and tree node with its own INSERT (psycopg
executemany), about a tenth of a millisecond a row: some four minutes for the ~6M rows of 2M
entries. This module does what `integrate` does, step for step and with the same functions —
merkle.append_batch for the new subtree hashes, sequencer.sign_extension for the root, the
consistency check against the last checkpoint and the signed note — but writes the rows with COPY in the batch's
own transaction. tests/integration/test_bench_load.py checks that it builds the same tree as the
real sequencer, and `ledger verify` checks every leaf, node and checkpoint it writes.
"""
from sqlalchemy import text
from sqlalchemy.orm import sessionmaker

from service.core.ledger import merkle
from service.core.time import utcnow
from service.ledger import sequencer
from service.ledger.tree import StoredTree, latest_checkpoint

BATCH = 100_000  # entries per checkpoint


def _copy(raw, table: str, columns: tuple[str, ...], types: tuple[str, ...], rows) -> None:
    with raw.cursor() as cursor, cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(types)
        for row in rows:
            copy.write_row(row)


def integrate_batch(session, signer: sequencer.Signer, first_id: int, end_id: int) -> int:
    """Entries first_id..end_id-1 (none of them queued in ledger_pending) become the next leaves."""
    previous = latest_checkpoint(session)
    size = previous.tree_size if previous else 0
    pending = session.execute(text("SELECT id, leaf_hash FROM ledger_entries WHERE id >= :first AND id < :end "
                                   "ORDER BY id"), {"first": first_id, "end": end_id}).all()
    tree = StoredTree(session)
    nodes = merkle.append_batch(size, [leaf_hash for _, leaf_hash in pending], tree.subtree_hash)
    now = utcnow()
    raw = session.connection().connection.driver_connection  # the same transaction as the session
    _copy(raw, "ledger_leaves", ("leaf_index", "entry_id", "integrated_at"), ("int8", "int8", "timestamptz"),
          ((size + i, entry_id, now) for i, (entry_id, _) in enumerate(pending)))
    _copy(raw, "tree_nodes", ("level", "index", "hash"), ("int4", "int8", "bytea"),
          ((n.level, n.index, n.hash) for n in nodes))
    sequencer.sign_extension(session, signer, tree, previous, nodes, size + len(pending), now)
    return len(pending)


def integrate_range(sessions: sessionmaker, signer: sequencer.Signer, first_id: int, end_id: int,
                    batch: int = BATCH) -> int:
    """All entries first_id..end_id-1, BATCH a transaction and a checkpoint; after whatever the real
    sequencer has already integrated (the policy versions' entries)."""
    total = 0
    for start in range(first_id, end_id, batch):
        with sessions() as session, session.begin():
            total += integrate_batch(session, signer, start, min(start + batch, end_id))
    return total
