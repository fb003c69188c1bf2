"""Writes on the hot path straight through the database driver: SQLAlchemy Core compiles each statement
once and its column types convert the values, as the ORM would; the driver sends them, pipelined on
PostgreSQL, so that taking a report in costs two round trips (ids and a check, then every row and the
commit) instead of a dozen statements, savepoints and sessions.

Errors come out as SQLAlchemy's (IntegrityError, OperationalError, …), so the callers and the web
package's error mapping treat them as they treat any other; a connection the driver found broken is
invalidated, not returned to the pool.
"""
import re
from functools import cache

from sqlalchemy import Table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError


@cache
def _columns(table: Table, dialect) -> tuple[tuple[str, ...], tuple]:
    """`table`'s columns in order, and each one's converter (the column type's, as the ORM applies it)."""
    names = tuple(c.name for c in table.columns)
    # dialect_impl: the dialect's own type (SQLite's DATETIME writes microseconds, as the ORM's rows have).
    return names, tuple(table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in names)


# Up to this many rows, one multi-row VALUES; beyond, PostgreSQL gets a typed array a column, unnested
# into rows: psycopg adapts a list in C where a prepared INSERT executed per row cost 25 µs a row in
# Python, but dumping an array costs more than a few scalars (70 µs more for two rows, measured).
FEW_ROWS = 16


@cache
def _insert(table: Table, dialect, rows: int) -> str:
    """The INSERT of every column of `table` for `rows` rows (0: any number, as arrays) in this dialect's
    paramstyle, its parameters in column order, row after row."""
    names, _ = _columns(table, dialect)
    if dialect.name == "postgresql" and rows == 0:
        # Arrays of the unbounded type (VARCHAR, not VARCHAR(36)): an explicit cast would cut a value too
        # long for its column silently, where the INSERT's own assignment refuses it.
        arrays = ", ".join(f"%s::{re.sub(r'[(][^)]*[)]', '', table.c[name].type.compile(dialect=dialect))}[]"
                           for name in names)
        return f"INSERT INTO {table.name} ({', '.join(names)}) SELECT * FROM unnest({arrays})"
    mark = "%s" if dialect.name == "postgresql" else "?"
    row = f"({', '.join([mark] * len(names))})"
    return f"INSERT INTO {table.name} ({', '.join(names)}) VALUES {', '.join([row] * max(rows, 1))}"


class DriverTransaction:
    """One transaction on a pooled connection, its statements sent by the driver itself.

    `query` answers at once (on PostgreSQL it flushes the pipeline: one round trip with what was queued);
    `insert` and `commit` are queued until then or until the end of the block. On SQLite the transaction
    takes the write lock at BEGIN, as the app's sessions do.
    """

    def __init__(self, engine: Engine):
        self.engine, self.dialect = engine, engine.dialect
        self.postgres = self.dialect.name == "postgresql"

    def __enter__(self) -> "DriverTransaction":
        try:
            # Checked out as any connection is (pinged after idling); a refused connect is the driver's own
            # error here, which Engine.connect would have wrapped.
            self.raw = self.engine.raw_connection()
        except self.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(None, None, error, self.dialect.loaded_dbapi.Error) from error
        self.conn = self.raw.driver_connection
        try:
            if self.postgres:
                self._pipeline = self.conn.pipeline()
                self._pipeline.__enter__()
            else:
                self.conn.execute("BEGIN IMMEDIATE")
        except Exception as error:
            self._fail(error)
        return self

    def __exit__(self, kind, error, _traceback):
        try:
            if self.postgres:
                try:
                    self._pipeline.__exit__(kind, error, _traceback)  # sends and syncs what is queued
                except self.dialect.loaded_dbapi.Error as failure:
                    if error is None:
                        self._fail(failure)
            if error is not None or self._in_transaction():
                self._rollback()
        finally:
            self.raw.close()
        return False

    def query(self, statement) -> list[tuple]:
        """A SQL text without parameters, or a Core select (compiled here with its values); its rows now."""
        return self.queries(statement)[0]

    def queries(self, *statements) -> list[list[tuple]]:
        """Several queries in one round trip (PostgreSQL's pipeline): the rows of each."""
        cursors = []
        try:
            for statement in statements:
                cursor = self.conn.cursor()
                cursor.execute(*self._compiled(statement))
                cursors.append(cursor)
            return [cursor.fetchall() for cursor in cursors]
        except self.dialect.loaded_dbapi.Error as error:
            self._fail(error)

    def _compiled(self, statement) -> tuple:
        if isinstance(statement, str):
            return (statement,)
        compiled = statement.compile(dialect=self.dialect, compile_kwargs={"render_postcompile": True})
        params = compiled.params
        return str(compiled), [params[name] for name in compiled.positiontup] if compiled.positional else params

    def insert(self, table: Table, rows: list[dict]) -> None:
        """All `rows` (dicts by column name) in one statement on PostgreSQL, queued until the next round trip."""
        if not rows:
            return
        names, converters = _columns(table, self.dialect)
        values = [[convert(row[name]) if convert else row[name] for name, convert in zip(names, converters)]
                  for row in rows]
        try:
            if self.postgres and len(rows) > FEW_ROWS:
                self.conn.cursor().execute(_insert(table, self.dialect, 0), [list(c) for c in zip(*values)])
            elif self.postgres:
                self.conn.cursor().execute(_insert(table, self.dialect, len(rows)), [v for row in values for v in row])
            else:  # sqlite3 loops over the rows in C
                self.conn.cursor().executemany(_insert(table, self.dialect, 1), values)
        except self.dialect.loaded_dbapi.Error as error:
            self._fail(error, table.name)

    def commit(self) -> None:
        """Queued with the inserts on PostgreSQL: the end of the block sends them all and waits once."""
        try:
            self.conn.execute("COMMIT")
        except self.dialect.loaded_dbapi.Error as error:
            self._fail(error, "COMMIT")

    def _in_transaction(self) -> bool:
        if self.postgres:
            return self.conn.info.transaction_status != 0  # 0: idle, no transaction open
        return self.conn.in_transaction

    def _rollback(self) -> None:
        try:
            self.conn.rollback() if self.postgres else self.conn.execute("ROLLBACK")
        except self.dialect.loaded_dbapi.Error:
            self.raw.invalidate()  # a connection that cannot even roll back is not given out again

    def _fail(self, error: Exception, statement: str | None = None):
        """Raise the driver's error as SQLAlchemy's; a broken connection is invalidated first."""
        if self.dialect.is_disconnect(error, self.conn, None):
            self.raw.invalidate()
        raise DBAPIError.instance(statement, None, error, self.dialect.loaded_dbapi.Error) from error
