"""report documents as json

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 00:00:00

A stored report's document is kept as `json` (its text, checked) rather than `jsonb` on PostgreSQL:
nothing queries inside it, and converting a month's 29 MB document to jsonb cost ~0.8 s of the
server's time per report, against ~0.3 s for json. Its SHA-256 is of its RFC 8785 bytes, so the key
order a jsonb value had is of no consequence.
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = '0012'
down_revision = '0011'
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('compliance_reports', 'document', type_=sa.JSON(),
                        existing_type=postgresql.JSONB(astext_type=sa.Text()), postgresql_using="document::json")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column('compliance_reports', 'document', type_=postgresql.JSONB(astext_type=sa.Text()),
                        existing_type=sa.JSON(), postgresql_using="document::jsonb")
