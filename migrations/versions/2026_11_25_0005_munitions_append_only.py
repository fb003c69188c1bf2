"""munitions append-only

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25 02:00:00
"""
from alembic import op

from service.db.guards import make_append_only, undo_append_only

# The catalog decides which family a munition is judged as: a row changed in place would silently
# change verdicts of later reports, and the per-process rules cache relies on rows only ever being added.
APPEND_ONLY = ("munitions",)

revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade() -> None:
    make_append_only(op, APPEND_ONLY)


def downgrade() -> None:
    undo_append_only(op, APPEND_ONLY)
