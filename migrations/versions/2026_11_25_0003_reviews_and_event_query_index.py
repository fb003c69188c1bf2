"""reviews and event query index

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25 00:17:19.189738
"""
import sqlalchemy as sa
from alembic import op

import service.db
from service.db.guards import make_append_only, undo_append_only

APPEND_ONLY = ("reviews", "event_rules")
SEVERITY_RANK = {"critical": 0, "high": 1, "review": 2}


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('event_heads',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('reporter', sa.String(length=64), nullable=False),
    sa.Column('source_event_id', sa.String(length=128), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('occurred_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('verdict', sa.String(length=16), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=True),
    sa.Column('munition', sa.String(length=64), nullable=False),
    sa.Column('family', sa.String(length=64), nullable=True),
    sa.Column('category', sa.String(length=32), nullable=False),
    sa.Column('target_country', sa.String(length=2), nullable=True),
    sa.Column('policy_version', sa.String(length=128), nullable=True),
    sa.Column('review_status', sa.String(length=32), nullable=False),
    sa.Column('target_lat', sa.Float(), nullable=False),
    sa.Column('target_lon', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_heads_event_id_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_heads')),
    sa.UniqueConstraint('event_id', name=op.f('uq_event_heads_event_id'))
    )
    with op.batch_alter_table('event_heads', schema=None) as batch_op:
        batch_op.create_index('ix_event_heads_category', ['category', 'occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_event_heads_family', ['family', 'occurred_at'], unique=False)
        batch_op.create_index('ix_event_heads_munition', ['munition', 'occurred_at'], unique=False)
        batch_op.create_index('ix_event_heads_order', ['occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_event_heads_policy_version', ['policy_version', 'occurred_at'], unique=False)
        batch_op.create_index('ix_event_heads_received_at', ['received_at'], unique=False)
        batch_op.create_index('ix_event_heads_reporter', ['reporter', 'occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_event_heads_review_status', ['review_status', 'occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_event_heads_severity', ['severity', 'occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_event_heads_target_country', ['target_country', 'occurred_at', 'id'], unique=False)
        batch_op.create_index('ix_event_heads_verdict', ['verdict', 'occurred_at', 'id'], unique=False)

    op.create_table('event_rules',
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('rule_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_rules_event_id_events')),
    sa.PrimaryKeyConstraint('event_id', 'rule_id', name=op.f('pk_event_rules'))
    )
    op.create_table('reviews',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.Column('event_id', sa.String(length=36), nullable=False),
    sa.Column('head_id', sa.String(length=36), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('reviewer', sa.String(length=64), nullable=False),
    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('ledger_entry_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_reviews_event_id_events')),
    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'], name=op.f('fk_reviews_ledger_entry_id_ledger_entries')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_reviews_ledger_entry_id'))
    )
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reviews_event_id'), ['event_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_reviews_head_id'), ['head_id'], unique=False)

    make_append_only(op, APPEND_ONLY)
    _backfill(op.get_bind())


def _backfill(conn) -> None:
    """Index the events stored before this revision: latest version of each, and every finding."""
    families = dict(conn.execute(sa.text("SELECT code, family FROM munitions")).all())
    events = sa.table("events", *(sa.column(c) for c in ("id", "reporter", "source_event_id", "version",
                                                         "occurred_at", "received_at")),
                      sa.column("payload", sa.JSON))
    evaluations = sa.table("evaluations", sa.column("id"), sa.column("event_id"), sa.column("verdict"),
                           sa.column("policy_id"), sa.column("findings", sa.JSON), sa.column("computed", sa.JSON))
    latest_eval = {}
    for row in conn.execute(sa.select(evaluations).order_by(evaluations.c.id)):
        latest_eval[row.event_id] = row
    heads, rules = {}, []
    for event in conn.execute(sa.select(events).order_by(events.c.version)):
        evaluation = latest_eval[event.id]
        rules += [{"event_id": event.id, "rule_id": r} for r in sorted({f["rule_id"] for f in evaluation.findings})]
        key = (event.reporter, event.source_event_id)
        first_id = heads[key]["id"] if key in heads else event.id
        severities = sorted((f["severity"] for f in evaluation.findings), key=SEVERITY_RANK.get)
        target, munition = event.payload["target"], event.payload["weapon"]["munition"]
        heads[key] = {"id": first_id, "event_id": event.id, "reporter": event.reporter,
                      "source_event_id": event.source_event_id, "version": event.version,
                      "occurred_at": event.occurred_at, "received_at": event.received_at,
                      "verdict": evaluation.verdict, "severity": severities[0] if severities else None,
                      "munition": munition, "family": families.get(munition), "category": target["category"],
                      "target_country": evaluation.computed["country"], "policy_version": evaluation.policy_id,
                      "review_status": "open", "target_lat": target["lat"], "target_lon": target["lon"]}
    if rules:
        op.bulk_insert(sa.table("event_rules", sa.column("event_id"), sa.column("rule_id")), rules)
    if heads:
        op.execute(sa.table("event_heads", *(sa.column(c) for c in next(iter(heads.values())))).insert()
                   .values(list(heads.values())))


def downgrade() -> None:
    undo_append_only(op, APPEND_ONLY)
    with op.batch_alter_table('reviews', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reviews_head_id'))
        batch_op.drop_index(batch_op.f('ix_reviews_event_id'))

    op.drop_table('reviews')
    op.drop_table('event_rules')
    with op.batch_alter_table('event_heads', schema=None) as batch_op:
        batch_op.drop_index('ix_event_heads_verdict')
        batch_op.drop_index('ix_event_heads_target_country')
        batch_op.drop_index('ix_event_heads_severity')
        batch_op.drop_index('ix_event_heads_review_status')
        batch_op.drop_index('ix_event_heads_reporter')
        batch_op.drop_index('ix_event_heads_received_at')
        batch_op.drop_index('ix_event_heads_policy_version')
        batch_op.drop_index('ix_event_heads_order')
        batch_op.drop_index('ix_event_heads_munition')
        batch_op.drop_index('ix_event_heads_family')
        batch_op.drop_index('ix_event_heads_category')

    op.drop_table('event_heads')
