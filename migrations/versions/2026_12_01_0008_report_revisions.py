"""report revisions; event_heads by source_event_id

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01 00:00:00
"""
import sqlalchemy as sa
from alembic import op

from service.db.guards import make_append_only, undo_append_only

APPEND_ONLY = ("compliance_reports",)
SCHEDULED = sa.text("kind <> 'on_demand'")

revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # On SQLite the batch rebuilds the table (a foreign key cannot be added in place), which drops
    # its triggers: take them off first and put them back after, on both databases alike. Existing
    # rows become revision 1 through the column default, with no UPDATE the triggers would refuse.
    undo_append_only(op, APPEND_ONLY)
    with op.batch_alter_table('compliance_reports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('revision', sa.Integer(), server_default=sa.text('1'), nullable=False))
        batch_op.add_column(sa.Column('supersedes', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
                                      nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_compliance_reports_supersedes'), ['supersedes'])
        batch_op.create_foreign_key(batch_op.f('fk_compliance_reports_supersedes_compliance_reports'),
                                    'compliance_reports', ['supersedes'], ['id'])
        batch_op.drop_index('uq_compliance_reports_period', sqlite_where=SCHEDULED, postgresql_where=SCHEDULED)
        batch_op.create_index('uq_compliance_reports_revision', ['kind', 'period_from', 'period_to', 'revision'],
                              unique=True, sqlite_where=SCHEDULED, postgresql_where=SCHEDULED)
    make_append_only(op, APPEND_ONLY)
    # GET /v1/events?source_event_id=: without it, a reporter's lookup scans all its events.
    with op.batch_alter_table('event_heads', schema=None) as batch_op:
        batch_op.create_index('ix_event_heads_source_event_id', ['source_event_id', 'reporter'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('event_heads', schema=None) as batch_op:
        batch_op.drop_index('ix_event_heads_source_event_id')
    undo_append_only(op, APPEND_ONLY)
    with op.batch_alter_table('compliance_reports', schema=None) as batch_op:
        batch_op.drop_index('uq_compliance_reports_revision', sqlite_where=SCHEDULED, postgresql_where=SCHEDULED)
        batch_op.create_index('uq_compliance_reports_period', ['kind', 'period_from', 'period_to'], unique=True,
                              sqlite_where=SCHEDULED, postgresql_where=SCHEDULED)
        batch_op.drop_constraint(batch_op.f('fk_compliance_reports_supersedes_compliance_reports'),
                                 type_='foreignkey')
        batch_op.drop_constraint(batch_op.f('uq_compliance_reports_supersedes'), type_='unique')
        batch_op.drop_column('supersedes')
        batch_op.drop_column('revision')
    make_append_only(op, APPEND_ONLY)
