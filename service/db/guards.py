"""SQL that makes tables append-only: the database itself refuses UPDATE, DELETE and TRUNCATE."""


def append_only_sql(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [
            f"CREATE TRIGGER {table}_no_update_delete BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION reject_ledger_change()",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION reject_ledger_change()",
        ]
    return [
        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
        f"BEGIN SELECT RAISE(ABORT, '{table} is append-only: {verb} refused'); END"
        for verb in ("UPDATE", "DELETE")
    ]


def drop_append_only_sql(dialect: str, table: str) -> list[str]:
    if dialect == "postgresql":
        return [f"DROP TRIGGER IF EXISTS {table}_{name} ON {table}" for name in ("no_update_delete", "no_truncate")]
    return [f"DROP TRIGGER IF EXISTS {table}_no_{verb}" for verb in ("update", "delete")]


# Shared by every append-only table on PostgreSQL; TG_OP names what was refused.
PG_REJECT_FUNCTION = """
CREATE OR REPLACE FUNCTION reject_ledger_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END
$$
"""


def make_append_only(op, tables) -> None:
    """For a migration's upgrade(): install the refusing triggers on `tables` (PG_REJECT_FUNCTION first)."""
    dialect = op.get_bind().dialect.name
    for table in tables:
        for statement in append_only_sql(dialect, table):
            op.execute(statement)


def undo_append_only(op, tables) -> None:
    """For a migration's downgrade(): drop what make_append_only installed."""
    dialect = op.get_bind().dialect.name
    for table in tables:
        for statement in drop_append_only_sql(dialect, table):
            op.execute(statement)
