"""witness cosignatures

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01 00:00:00
"""
import sqlalchemy as sa
from alembic import op

import service.db
from service.db.guards import make_append_only, undo_append_only

# A cosignature is evidence a witness gave: kept like the checkpoints it signs.
APPEND_ONLY = ("witness_cosignatures",)

revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('witness_cosignatures',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('tree_size', sa.BigInteger(), nullable=False),
    sa.Column('key_name', sa.String(length=255), nullable=False),
    sa.Column('key_id', sa.LargeBinary(length=4), nullable=False),
    sa.Column('timestamp', sa.BigInteger(), nullable=False),
    sa.Column('line', sa.Text(), nullable=False),
    sa.Column('received_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['tree_size'], ['checkpoints.tree_size'],
                            name=op.f('fk_witness_cosignatures_tree_size_checkpoints')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_witness_cosignatures')),
    sa.UniqueConstraint('tree_size', 'key_name', 'key_id', name=op.f('uq_witness_cosignatures_tree_size_key_name_key_id'))
    )
    op.create_index(op.f('ix_witness_cosignatures_tree_size'), 'witness_cosignatures', ['tree_size'], unique=False)
    make_append_only(op, APPEND_ONLY)


def downgrade() -> None:
    undo_append_only(op, APPEND_ONLY)
    op.drop_index(op.f('ix_witness_cosignatures_tree_size'), table_name='witness_cosignatures')
    op.drop_table('witness_cosignatures')
