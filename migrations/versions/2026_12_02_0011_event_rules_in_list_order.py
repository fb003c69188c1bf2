"""event rules in the list's order

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 00:00:00

Each rule row repeats its version's occurred_at and head_id, so that the events a rule found come
out of one index newest first (`ix_event_rules_order`): before, a page filtered by a rule walked the
heads in order probing each for the rule, thousands of probes for a rule one event in forty breaks.
Existing rows are filled from their version's row; the table stays append-only.
"""
import sqlalchemy as sa
from alembic import op

import service.db
from service.db.guards import make_append_only, undo_append_only

revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

TABLE = ("event_rules",)


def upgrade() -> None:
    undo_append_only(op, TABLE)  # the fill below is the one UPDATE these rows ever get
    with op.batch_alter_table('event_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('head_id', sa.String(length=36), nullable=True))
        batch_op.add_column(sa.Column('occurred_at', service.db.UTCDateTime(timezone=True), nullable=True))
    op.execute("UPDATE event_rules SET head_id = (SELECT head_id FROM events WHERE events.id = event_rules.event_id), "
               "occurred_at = (SELECT occurred_at FROM events WHERE events.id = event_rules.event_id)"
               if op.get_bind().dialect.name == "sqlite" else
               "UPDATE event_rules SET head_id = events.head_id, occurred_at = events.occurred_at "
               "FROM events WHERE events.id = event_rules.event_id")
    with op.batch_alter_table('event_rules', schema=None) as batch_op:
        batch_op.alter_column('head_id', existing_type=sa.String(length=36), nullable=False)
        batch_op.alter_column('occurred_at', existing_type=service.db.UTCDateTime(timezone=True), nullable=False)
        batch_op.create_index('ix_event_rules_order', ['rule_id', 'occurred_at', 'head_id'], unique=False)
    make_append_only(op, TABLE)


def downgrade() -> None:
    undo_append_only(op, TABLE)
    with op.batch_alter_table('event_rules', schema=None) as batch_op:
        batch_op.drop_index('ix_event_rules_order')
        batch_op.drop_column('occurred_at')
        batch_op.drop_column('head_id')
    make_append_only(op, TABLE)
