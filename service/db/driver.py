"""Writes on the hot path straight through the database driver: SQLAlchemy Core's column types convert the
values, as the ORM would, and the driver sends them, so that taking a report in costs one statement on
PostgreSQL instead of a dozen statements, savepoints and sessions.

Errors come out as SQLAlchemy's (IntegrityError, OperationalError, …), so the callers and the web
package's error mapping treat them as they treat any other; a connection the driver found broken is
invalidated, not returned to the pool.
"""
import re
from functools import cache

import orjson
from sqlalchemy import Column, Table
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError


def _unbounded_type(column: Column, dialect) -> str:
    # VARCHAR, not VARCHAR(36): an explicit cast would cut a value too long for its column silently, where
    # the INSERT's own assignment refuses it.
    return re.sub(r"[(][^)]*[)]", "", column.type.compile(dialect=dialect))


@cache
def _converters(columns: tuple[Column, ...], dialect) -> tuple:
    # dialect_impl: the dialect's own type (SQLite's DATETIME writes microseconds, as the ORM's rows have).
    return tuple(column.type.dialect_impl(dialect).bind_processor(dialect) for column in columns)


def bound(columns: tuple[Column, ...], rows: list[tuple], dialect) -> list[list]:
    """Each row's values (in `columns`' order) converted as the columns' types convert them."""
    converters = _converters(columns, dialect)
    return [[convert(value) if convert else value for value, convert in zip(row, converters)] for row in rows]


@cache
def json_rows(columns: tuple[tuple[str, Column], ...], alias: str, dialect) -> str:
    """A PostgreSQL FROM item: the rows of one JSON parameter (`json_param`), their columns named and typed
    as given, plus `ord`, their order.

    Any number of rows is one parameter, which PostgreSQL parses in C: psycopg dumped the elements of one
    array a column in Python, a third of a thousand-report batch's time, and a VALUES list is a statement
    of its own for every count of rows.
    """
    typed = ", ".join(f"{name} {_unbounded_type(column, dialect)}" for name, column in columns)
    return (f"ROWS FROM (json_to_recordset(%s::json) AS ({typed})) WITH ORDINALITY "
            f"AS {alias}({', '.join(name for name, _ in columns)}, ord)")


def _bytea(value):
    if isinstance(value, bytes):
        return "\\x" + value.hex()  # bytea's input format
    raise TypeError(f"{type(value).__name__} is not JSON")


def json_param(rows: list[dict]) -> str:
    """`json_rows`' parameter: the rows as JSON objects (keys the column names; others are ignored)."""
    return orjson.dumps(rows, default=_bytea).decode()


class DriverConnection:
    """A pooled connection used through the driver itself.

    On PostgreSQL every statement is its own transaction (autocommit), committed when the database answers
    it: a write that must be atomic is one statement. On SQLite the block is one transaction, which takes
    the write lock at BEGIN as the app's sessions do and which `commit` ends; with `write=False` (reads of
    immutable rows, such as a proof's, or of a snapshot a statement may have to itself, such as an export
    chunk's) it takes no lock and each statement reads on its own (WAL) while writers go on.

    `settings`: PostgreSQL settings for the block's statements only. The block is then one transaction
    that sets them LOCAL and ends with a commit (it wrote nothing: psycopg's rollback would also deallocate
    every statement the connection had prepared), so no later user of the connection has them.
    """

    def __init__(self, engine: Engine, write: bool = True, settings: dict[str, str] | None = None):
        self.engine, self.dialect = engine, engine.dialect
        self.postgres = self.dialect.name == "postgresql"
        self.write, self.settings = write, settings or {}

    def __enter__(self) -> "DriverConnection":
        try:
            # Checked out as any connection is (pinged after idling); a refused connect is the driver's own
            # error here, which Engine.connect would have wrapped.
            self.raw = self.engine.raw_connection()
        except self.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(None, None, error, self.dialect.loaded_dbapi.Error) from error
        self.conn = self.raw.driver_connection
        try:
            if self.postgres:
                self.conn.autocommit = not self.settings
                for name, value in self.settings.items():
                    self.conn.execute("SELECT set_config(%s, %s, true)", [name, value])
            elif self.write:
                self.conn.execute("BEGIN IMMEDIATE")
        except Exception as error:
            self._fail(error)
        return self

    def __exit__(self, kind, error, _traceback):
        try:
            if self.postgres:
                if self.conn.closed:
                    pass
                elif self.settings:
                    self.conn.rollback() if kind else self.conn.commit()
                else:
                    self.conn.autocommit = False  # as the pool's other users expect it
            elif self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
        except self.dialect.loaded_dbapi.Error:
            self.raw.invalidate()  # a connection that cannot even be put back as it was is not given out again
        finally:
            self.raw.close()
        return False

    def query(self, statement, params=None, hot: bool = False, binary: bool = False) -> list[tuple]:
        """A SQL text and its parameters, or a Core select (compiled here with its values): its rows, as
        the driver gives them (no column type converts them back).

        A `hot` statement is prepared on PostgreSQL the first time a connection runs it, not the fifth.
        `binary`: PostgreSQL sends the rows in its binary format, so bytea arrives as its bytes rather than
        as hex text twice their size that the server writes and psycopg decodes.
        """
        if not isinstance(statement, str):
            statement, params = self._compiled(statement)
        try:
            if self.postgres:
                cursor = self.conn.execute(statement, params, prepare=True if hot else None, binary=binary)
            else:
                cursor = self.conn.execute(statement, params or ())
            return cursor.fetchall() if cursor.description else []
        except self.dialect.loaded_dbapi.Error as error:
            self._fail(error, statement)

    def _compiled(self, statement) -> tuple:
        compiled = statement.compile(dialect=self.dialect, compile_kwargs={"render_postcompile": True})
        params = dict(compiled.params)
        for name, value in params.items():  # as SQLAlchemy binds them (a UTC datetime as SQLite's text)
            bind = compiled.binds.get(name)
            convert = bind.type.dialect_impl(self.dialect).bind_processor(self.dialect) if bind is not None else None
            if convert is not None:
                params[name] = convert(value)
        return str(compiled), [params[name] for name in compiled.positiontup] if compiled.positional else params

    def insert(self, table: Table, rows: list[dict]) -> None:
        """All `rows` (dicts by column name) in this SQLite transaction; sqlite3 loops over them in C."""
        assert not self.postgres, "on PostgreSQL each statement is its own transaction"
        if not rows:
            return
        columns = tuple(table.columns)
        names = [column.name for column in columns]
        values = bound(columns, [tuple(row[name] for name in names) for row in rows], self.dialect)
        marks = ", ".join("?" * len(names))
        try:
            self.conn.executemany(f"INSERT INTO {table.name} ({', '.join(names)}) VALUES ({marks})", values)
        except self.dialect.loaded_dbapi.Error as error:
            self._fail(error, table.name)

    def commit(self) -> None:
        """Ends the SQLite transaction (on PostgreSQL each statement committed as it was answered)."""
        if not self.postgres:
            try:
                self.conn.execute("COMMIT")
            except self.dialect.loaded_dbapi.Error as error:
                self._fail(error, "COMMIT")

    def _fail(self, error: Exception, statement: str | None = None):
        """Raise the driver's error as SQLAlchemy's; a broken connection is invalidated first."""
        if self.dialect.is_disconnect(error, self.conn, None):
            self.raw.invalidate()
        raise DBAPIError.instance(statement, None, error, self.dialect.loaded_dbapi.Error) from error
