"""rows derived from ledger entries: versions without payloads, no evaluations table, fuller heads

A version's report and evaluation are ledger entries; their canonical bytes become the only copy. The
`events` row keeps what finds and orders versions (its head and both entry ids); `evaluations`, which
restated the evaluation entry, goes; `reviews` keeps the status and reviewer but not the comment;
`event_heads` also names the latest version's two entries and the latest review, so a list page is
read with the head rows alone.

Set-based SQL on both databases (copies, then the new tables, then the data back): a database of a
million events migrates in minutes on PostgreSQL. The downgrade rebuilds the old columns from the
entries' bytes.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 21:00:00
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import service.db
from service.db.guards import make_append_only, undo_append_only

revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None

EntryId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')
APPEND_ONLY = ("events", "event_rules", "reviews")
HEAD_INDEXES = {  # name: columns, as 0003 made them
    'ix_event_heads_category': ['category', 'occurred_at', 'id'], 'ix_event_heads_family': ['family', 'occurred_at'],
    'ix_event_heads_munition': ['munition', 'occurred_at'], 'ix_event_heads_order': ['occurred_at', 'id'],
    'ix_event_heads_policy_version': ['policy_version', 'occurred_at'], 'ix_event_heads_received_at': ['received_at'],
    'ix_event_heads_reporter': ['reporter', 'occurred_at', 'id'],
    'ix_event_heads_review_status': ['review_status', 'occurred_at', 'id'],
    'ix_event_heads_severity': ['severity', 'occurred_at', 'id'],
    'ix_event_heads_target_country': ['target_country', 'occurred_at', 'id'],
    'ix_event_heads_verdict': ['verdict', 'occurred_at', 'id'],
}
HEAD_COLUMNS = ("id", "event_id", "reporter", "source_event_id", "version", "occurred_at", "received_at", "verdict",
                "severity", "munition", "family", "category", "target_country", "policy_version", "review_status",
                "target_lat", "target_lon")


def _head_columns() -> list:
    return [
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
    ]


def _create_heads(extra: list) -> None:
    op.create_table('event_heads', *_head_columns(), *extra,
                    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_heads_event_id_events')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_event_heads')),
                    sa.UniqueConstraint('event_id', name=op.f('uq_event_heads_event_id')))
    for name, columns in HEAD_INDEXES.items():
        op.create_index(name, 'event_heads', columns, unique=False)


def _create_rules() -> None:
    op.create_table('event_rules',
                    sa.Column('event_id', sa.String(length=36), nullable=False),
                    sa.Column('rule_id', sa.String(length=32), nullable=False),
                    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_event_rules_event_id_events')),
                    sa.PrimaryKeyConstraint('event_id', 'rule_id', name=op.f('pk_event_rules')))


def _create_reviews(extra: list) -> None:
    op.create_table('reviews',
                    sa.Column('id', EntryId, autoincrement=True, nullable=False),
                    sa.Column('event_id', sa.String(length=36), nullable=False),
                    sa.Column('head_id', sa.String(length=36), nullable=False),
                    sa.Column('status', sa.String(length=32), nullable=False),
                    *extra,
                    sa.Column('reviewer', sa.String(length=64), nullable=False),
                    sa.Column('created_at', service.db.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('ledger_entry_id', EntryId, nullable=False),
                    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_reviews_event_id_events')),
                    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'],
                                            name=op.f('fk_reviews_ledger_entry_id_ledger_entries')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_reviews')),
                    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_reviews_ledger_entry_id')))
    op.create_index(op.f('ix_reviews_event_id'), 'reviews', ['event_id'], unique=False)
    op.create_index(op.f('ix_reviews_head_id'), 'reviews', ['head_id'], unique=False)


def _drop_old(*tables: str) -> None:
    for table in tables:  # dependents first; their triggers and indexes go with them
        op.drop_table(table)


def _move(copy: str, table: str, columns: str) -> None:
    op.execute(f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {copy}")
    op.execute(f"DROP TABLE {copy}")


def upgrade() -> None:
    op.execute("CREATE TABLE m7_events AS SELECT e.id, v1.id AS head_id, e.reporter, e.source_event_id, "
               "e.version, e.supersedes, e.occurred_at, e.received_at, e.ledger_entry_id, "
               "(SELECT max(v.ledger_entry_id) FROM evaluations v WHERE v.event_id = e.id) AS evaluation_entry_id "
               "FROM events e JOIN events v1 ON v1.reporter = e.reporter "
               "AND v1.source_event_id = e.source_event_id AND v1.version = 1")
    op.execute(f"CREATE TABLE m7_heads AS SELECT {', '.join('h.' + c for c in HEAD_COLUMNS)}, "
               "(SELECT max(r.id) FROM reviews r WHERE r.head_id = h.id) AS review_id, "
               "v.ledger_entry_id, v.evaluation_entry_id FROM event_heads h JOIN m7_events v ON v.id = h.event_id")
    op.execute("CREATE TABLE m7_rules AS SELECT event_id, rule_id FROM event_rules")
    op.execute("CREATE TABLE m7_reviews AS SELECT id, event_id, head_id, status, reviewer, created_at, "
               "ledger_entry_id FROM reviews")
    _drop_old("reviews", "event_rules", "event_heads", "evaluations", "events")

    op.create_table('events',
                    sa.Column('id', sa.String(length=36), nullable=False),
                    sa.Column('head_id', sa.String(length=36), nullable=False),
                    sa.Column('reporter', sa.String(length=64), nullable=False),
                    sa.Column('source_event_id', sa.String(length=128), nullable=False),
                    sa.Column('version', sa.Integer(), nullable=False),
                    sa.Column('supersedes', sa.String(length=36), nullable=True),
                    sa.Column('occurred_at', service.db.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('received_at', service.db.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('ledger_entry_id', EntryId, nullable=False),
                    sa.Column('evaluation_entry_id', EntryId, nullable=False),
                    sa.ForeignKeyConstraint(['evaluation_entry_id'], ['ledger_entries.id'],
                                            name=op.f('fk_events_evaluation_entry_id_ledger_entries')),
                    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'],
                                            name=op.f('fk_events_ledger_entry_id_ledger_entries')),
                    sa.ForeignKeyConstraint(['supersedes'], ['events.id'], name=op.f('fk_events_supersedes_events')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
                    sa.UniqueConstraint('evaluation_entry_id', name=op.f('uq_events_evaluation_entry_id')),
                    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_events_ledger_entry_id')),
                    sa.UniqueConstraint('reporter', 'source_event_id', 'version',
                                        name=op.f('uq_events_reporter_source_event_id_version')))
    op.create_index('ix_events_head_id', 'events', ['head_id', 'version'], unique=False)
    # Versions in version order, so that a correction's `supersedes` finds its row already there.
    op.execute("INSERT INTO events SELECT id, head_id, reporter, source_event_id, version, supersedes, occurred_at, "
               "received_at, ledger_entry_id, evaluation_entry_id FROM m7_events ORDER BY version")
    op.execute("DROP TABLE m7_events")
    _create_heads([sa.Column('review_id', EntryId, nullable=True),
                   sa.Column('ledger_entry_id', EntryId, nullable=False),
                   sa.Column('evaluation_entry_id', EntryId, nullable=False)])
    _move("m7_heads", "event_heads", ", ".join(HEAD_COLUMNS + ("review_id", "ledger_entry_id", "evaluation_entry_id")))
    _create_rules()
    _move("m7_rules", "event_rules", "event_id, rule_id")
    _create_reviews([])
    _move("m7_reviews", "reviews", "id, event_id, head_id, status, reviewer, created_at, ledger_entry_id")
    make_append_only(op, APPEND_ONLY)


def _json(dialect: str, path: str, text: bool = False) -> str:
    """SQL for a key of the ledger entry `le` (its canonical bytes), as JSON or as text."""
    if dialect == "postgresql":
        keys = path.split(".")
        head = "convert_from(le.canonical, 'UTF8')::jsonb"
        return head + "".join(f" -> '{k}'" for k in keys[:-1]) + f" {'->>' if text else '->'} '{keys[-1]}'"
    return f"json_extract(CAST(le.canonical AS TEXT), '$.{path}')"


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.execute(f"CREATE TABLE m7_events AS SELECT e.id, e.reporter, e.source_event_id, e.version, e.supersedes, "
               f"{_json(dialect, 'payload')} AS payload, e.occurred_at, e.received_at, e.ledger_entry_id, "
               "e.evaluation_entry_id FROM events e JOIN ledger_entries le ON le.id = e.ledger_entry_id")
    op.execute(f"CREATE TABLE m7_evaluations AS SELECT e.id AS event_id, "
               f"{_json(dialect, 'policy_version', text=True)} AS policy_id, "
               f"{_json(dialect, 'policy_sha256', text=True)} AS policy_sha256, "
               f"{_json(dialect, 'verdict', text=True)} AS verdict, {_json(dialect, 'findings')} AS findings, "
               f"{_json(dialect, 'computed')} AS computed, e.received_at AS evaluated_at, "
               "e.evaluation_entry_id AS ledger_entry_id "
               "FROM events e JOIN ledger_entries le ON le.id = e.evaluation_entry_id")
    op.execute(f"CREATE TABLE m7_heads AS SELECT {', '.join(HEAD_COLUMNS)} FROM event_heads")
    op.execute("CREATE TABLE m7_rules AS SELECT event_id, rule_id FROM event_rules")
    op.execute(f"CREATE TABLE m7_reviews AS SELECT r.id, r.event_id, r.head_id, r.status, "
               f"{_json(dialect, 'comment', text=True)} AS comment, r.reviewer, r.created_at, r.ledger_entry_id "
               "FROM reviews r JOIN ledger_entries le ON le.id = r.ledger_entry_id")
    undo_append_only(op, APPEND_ONLY)
    _drop_old("reviews", "event_rules", "event_heads", "events")

    json_doc = sa.JSON().with_variant(postgresql.JSONB(), 'postgresql')
    op.create_table('events',
                    sa.Column('id', sa.String(length=36), nullable=False),
                    sa.Column('reporter', sa.String(length=64), nullable=False),
                    sa.Column('source_event_id', sa.String(length=128), nullable=False),
                    sa.Column('version', sa.Integer(), nullable=False),
                    sa.Column('supersedes', sa.String(length=36), nullable=True),
                    sa.Column('payload', json_doc, nullable=False),
                    sa.Column('occurred_at', service.db.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('received_at', service.db.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('ledger_entry_id', EntryId, nullable=False),
                    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'],
                                            name=op.f('fk_events_ledger_entry_id_ledger_entries')),
                    sa.ForeignKeyConstraint(['supersedes'], ['events.id'], name=op.f('fk_events_supersedes_events')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_events')),
                    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_events_ledger_entry_id')),
                    sa.UniqueConstraint('reporter', 'source_event_id', 'version',
                                        name=op.f('uq_events_reporter_source_event_id_version')))
    op.create_index('ix_events_occurred_at', 'events', ['occurred_at'], unique=False)
    op.create_index('ix_events_supersedes', 'events', ['supersedes'], unique=False)
    op.execute("INSERT INTO events SELECT id, reporter, source_event_id, version, supersedes, payload, occurred_at, "
               "received_at, ledger_entry_id FROM m7_events ORDER BY version")
    op.create_table('evaluations',
                    sa.Column('id', EntryId, autoincrement=True, nullable=False),
                    sa.Column('event_id', sa.String(length=36), nullable=False),
                    sa.Column('policy_id', sa.String(length=128), nullable=True),
                    sa.Column('policy_sha256', sa.String(length=64), nullable=True),
                    sa.Column('verdict', sa.String(length=16), nullable=False),
                    sa.Column('findings', json_doc, nullable=False),
                    sa.Column('computed', json_doc, nullable=False),
                    sa.Column('evaluated_at', service.db.UTCDateTime(timezone=True), nullable=False),
                    sa.Column('ledger_entry_id', EntryId, nullable=False),
                    sa.ForeignKeyConstraint(['event_id'], ['events.id'], name=op.f('fk_evaluations_event_id_events')),
                    sa.ForeignKeyConstraint(['ledger_entry_id'], ['ledger_entries.id'],
                                            name=op.f('fk_evaluations_ledger_entry_id_ledger_entries')),
                    sa.PrimaryKeyConstraint('id', name=op.f('pk_evaluations')),
                    sa.UniqueConstraint('ledger_entry_id', name=op.f('uq_evaluations_ledger_entry_id')))
    op.create_index(op.f('ix_evaluations_event_id'), 'evaluations', ['event_id'], unique=False)
    columns = "event_id, policy_id, policy_sha256, verdict, findings, computed, evaluated_at, ledger_entry_id"
    op.execute(f"INSERT INTO evaluations ({columns}) SELECT {columns} FROM m7_evaluations ORDER BY ledger_entry_id")
    op.execute("DROP TABLE m7_evaluations")
    op.execute("DROP TABLE m7_events")
    _create_heads([])
    _move("m7_heads", "event_heads", ", ".join(HEAD_COLUMNS))
    _create_rules()
    _move("m7_rules", "event_rules", "event_id, rule_id")
    _create_reviews([sa.Column('comment', sa.Text(), nullable=False)])
    _move("m7_reviews", "reviews", "id, event_id, head_id, status, comment, reviewer, created_at, ledger_entry_id")
    make_append_only(op, ("events", "evaluations", "event_rules", "reviews"))
