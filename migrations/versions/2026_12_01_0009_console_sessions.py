"""console sessions

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 00:00:00
"""
import sqlalchemy as sa
from alembic import op

import service.db

revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Not append-only: a session is deleted when it ends. Nothing in it is part of the record.
    op.create_table('console_sessions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('key_hash', sa.String(length=64), nullable=False),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_console_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_console_sessions_token_hash'))
    )
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_console_sessions_key_hash'), ['key_hash'], unique=False)
        batch_op.create_index(batch_op.f('ix_console_sessions_last_seen_at'), ['last_seen_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('console_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_console_sessions_last_seen_at'))
        batch_op.drop_index(batch_op.f('ix_console_sessions_key_hash'))
    op.drop_table('console_sessions')
