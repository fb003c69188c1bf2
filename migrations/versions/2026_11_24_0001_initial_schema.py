"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 23:28:02.569336
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import service.db
from service.db.guards import PG_REJECT_FUNCTION, make_append_only, undo_append_only

Text = sa.Text

# Rows that record what happened are never changed or removed, not even by the service.
APPEND_ONLY = ("ledger_entries", "events", "evaluations", "policy_versions")

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('api_keys',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_keys')),
    sa.UniqueConstraint('key_hash', name=op.f('uq_api_keys_key_hash')),
    sa.UniqueConstraint('name', name=op.f('uq_api_keys_name'))
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('entry_type', sa.String(length=32), nullable=False),
    sa.Column('canonical', sa.LargeBinary(), nullable=False),
    sa.Column('leaf_hash', sa.LargeBinary(length=32), nullable=False),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    op.create_table('munitions',
    sa.Column('code', sa.String(length=64), nullable=False),
    sa.Column('family', sa.String(length=64), nullable=False),
    sa.Column('max_range_km', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('code', name=op.f('pk_munitions'))
    )
    op.create_table('events',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('reporter', sa.String(length=64), nullable=False),
    sa.Column('source_event_id', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('supersedes', sa.String(length=36), nullable=True),
    sa.Column('payload', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('occurred_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ledger_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], name=op.f('fk_events_ledger_entry_id_ledger_entries')),
    sa.ForeignKeyConstraint(['supersedes'], ['events.id'], name=op.f('fk_events_supersedes_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_events_ledger_entry_id')),
    sa.UniqueConstraint('reporter', 'source_event_id', 'version', name=op.f('uq_events_reporter_source_event_id_version'))
    )
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.create_index('ix_events_occurred_at', ['occurred_at'], unique=False)

    op.create_table('policy_versions',
    sa.Column('id', sa.String(length=128), nullable=False),
    sa.Column('effective_from', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('effective_to', service.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('published_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('published_by', sa.String(length=64), nullable=False),
    sa.Column('ledger_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], name=op.f('fk_policy_versions_ledger_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_policy_versions'))
    )
    op.create_table('evaluations',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('policy_id', sa.String(length=128), nullable=True),
    sa.Column('policy_sha256', sa.String(length=64), nullable=True),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('findings', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('computed', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('evaluated_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ledger_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_evaluations_event_id_events')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], name=op.f('fk_evaluations_ledger_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluations')),
    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_evaluations_ledger_entry_id'))
    )
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_evaluations_event_id'), ['event_id'], unique=False)

    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(PG_REJECT_FUNCTION)
    make_append_only(op, APPEND_ONLY)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    undo_append_only(op, APPEND_ONLY)
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS reject_ledger_change()")
    with op.batch_alter_table('evaluations', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_evaluations_event_id'))

    op.drop_table('evaluations')
    op.drop_table('policy_versions')
    with op.batch_alter_table('events', schema=None) as batch_op:
        batch_op.drop_index('ix_events_occurred_at')

    op.drop_table('events')
    op.drop_table('munitions')
    op.drop_table('ledger_entries')
    op.drop_table('api_keys')
