"""merkle tree and checkpoints

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 23:41:27.134732
"""
import sqlalchemy as sa
from alembic import op

import service.db
from service.db.guards import make_append_only, undo_append_only

# The tree and its signed checkpoints are history too; only the pending queue is drained.
APPEND_ONLY = ("ledger_leaves", "tree_nodes", "checkpoints")


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('checkpoints',
    sa.Column('tree_size', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('root_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('signed_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('tree_size', name=op.f('pk_checkpoints'))
    )
    op.create_table('tree_nodes',
    sa.Column('level', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('hash', sa.LargeBinary(length=32), nullable=False),
    sa.PrimaryKeyConstraint('level', 'index', name=op.f('pk_tree_nodes'))
    )
    op.create_table('ledger_leaves',
    sa.Column('leaf_index', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('integrated_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_ledger_leaves_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('leaf_index', name=op.f('pk_ledger_leaves')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_ledger_leaves_entry_id'))
    )
    op.create_table('ledger_pending',
    sa.Column('entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=False, nullable=False),
    sa.ForeignKeyConstraint(['entry_id'], ['ledger_entries.id'], name=op.f('fk_ledger_pending_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('entry_id', name=op.f('pk_ledger_pending'))
    )
    # Entries written before the sequencer existed wait for it like any new one.
    op.execute("INSERT INTO ledger_pending (entry_id) SELECT id FROM ledger_entries ORDER BY id")
    make_append_only(op, APPEND_ONLY)


def downgrade() -> None:
    undo_append_only(op, APPEND_ONLY)
    op.drop_table('ledger_pending')
    op.drop_table('ledger_leaves')
    op.drop_table('tree_nodes')
    op.drop_table('checkpoints')
