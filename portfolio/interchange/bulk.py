"""Bulk inserts for the import: the database's own fast path, inside the session's transaction.

SQLAlchemy's Core `executemany` builds a parameter dict per row and runs every value through
its type's bind processor, which costs more than the database's own work at 150,000 rows.
Here the values are converted column by column, each distinct value once (a date, the
import's timestamp), and handed to the driver in one call:

- SQLite: one prepared INSERT run by `cursor.executemany` over row tuples (the statement is
  compiled once by SQLite and stepped per row);
- PostgreSQL (psycopg 3): `COPY … FROM STDIN`, the rows streamed by `copy.write_row`.

The values stored are those SQLAlchemy would store (the same bind processors: dates and
timestamps as the dialect keeps them, JSON as its serializer writes it, Python-side scalar
defaults filled in); a table whose omitted column has a callable default, or another
database, takes SQLAlchemy's path. Nothing is committed here: the rows are part of the
caller's transaction (the import's lock, its audit entries, its one commit).
"""
from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from typing import Any, cast

import orjson
from sqlalchemy import JSON, BigInteger, Integer, Table, bindparam, insert
from sqlalchemy.orm import Session

from models.types import ScaledDecimal


def _processor(column, dialect, stored: bool) -> Callable[[Any], Any] | None:
    if stored and isinstance(column.type, ScaledDecimal):  # integer fen given: stored as is
        return None
    return column.type._cached_bind_processor(dialect)


def _convert(values: list, process: Callable[[Any], Any] | None, hashable: bool) -> list:
    """The values as the driver takes them; each distinct (hashable) value processed once."""
    if process is None:
        return values
    if not hashable:
        return [process(v) for v in values]
    seen: dict[Any, Any] = {}
    out: list[Any] = []
    append = out.append
    for v in values:
        try:
            append(seen[v])
        except KeyError:
            seen[v] = done = process(v)
            append(done)
    return out


def _columns(table: Table, rows: Sequence[dict[str, Any]]) -> list[str] | None:
    """The columns to write (the rows' keys, then the omitted ones with a scalar default);
    None when the rows differ in their keys or an omitted column needs a callable default."""
    names = list(rows[0])
    if set(map(len, rows)) != {len(names)}:
        return None
    if any(name not in table.c for name in names):
        return None
    for column in table.columns:
        if column.name in rows[0] or column.default is None:
            continue
        if not getattr(column.default, "is_scalar", False):
            return None
        names.append(column.name)
    return names


def _sqlalchemy_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]], stored: Iterable[str]) -> None:
    stored = set(stored)
    statement = insert(table)
    if stored:
        statement = statement.values({c.name: bindparam(c.name, type_=BigInteger()) for c in table.columns
                                      if c.name in stored and isinstance(c.type, ScaledDecimal)})
    session.execute(statement, list(rows))


def bulk_insert(session: Session, table: Table, rows: Sequence[dict[str, Any]], *,
                stored: Iterable[str] = ()) -> None:
    """Insert `rows` ({column: value}) into `table` in the session's transaction. Columns named
    in `stored` hold money already as stored (integer fen), the rest Python values."""
    if not rows:
        return
    stored = frozenset(stored)
    connection = session.connection()
    dialect = connection.dialect
    names = _columns(table, rows)
    if names is None or dialect.name not in ("sqlite", "postgresql") or \
            (dialect.name == "postgresql" and dialect.driver != "psycopg"):
        _sqlalchemy_insert(session, table, rows, stored)
        return
    first = rows[0]
    columns: list[list] = []
    for name in names:
        column = table.c[name]
        if name not in first:  # an omitted column: its scalar default, as SQLAlchemy fills it
            value = column.default.arg  # type: ignore[union-attr]
            process = _processor(column, dialect, name in stored)
            columns.append([process(value) if process else value] * len(rows))
            continue
        values = [row[name] for row in rows]
        if isinstance(column.type, JSON):
            columns.append(_json(values, column, dialect))
        else:
            columns.append(_convert(values, _processor(column, dialect, name in stored), hashable=True))
    quote = dialect.identifier_preparer.quote
    target = f"{quote(table.name)} ({', '.join(quote(n) for n in names)})"
    raw: Any = connection.connection.dbapi_connection  # the driver's own: sqlite3, or psycopg's (COPY)
    if raw is None:  # pragma: no cover - a session's connection always has one
        _sqlalchemy_insert(session, table, rows, stored)
        return
    if dialect.name == "sqlite":
        cursor = raw.cursor()
        try:
            cursor.executemany(f"INSERT INTO {target} VALUES ({', '.join('?' * len(names))})", zip(*columns))
        finally:
            cursor.close()
    else:
        with raw.cursor() as cursor, cursor.copy(f"COPY {target} FROM STDIN") as copy:
            write = copy.write_row
            for row in zip(*columns):
                write(row)


def _json(values: list, column, dialect) -> list:
    """JSON as SQLAlchemy stores it: its serializer's text where the engine names one, else the
    same JSON value as json.dumps gives, written by orjson (an audit entry per imported row:
    json.dumps was a tenth of a large import; the text is compact and keeps Chinese as UTF-8,
    the value read back is the same). None is JSON null unless the column says none_as_null.
    PostgreSQL's COPY takes the text as is."""
    serialize = getattr(dialect, "_json_serializer", None) or _dumps
    none = None if column.type.none_as_null else serialize(None)
    return [none if v is None else serialize(v) for v in values]


def _dumps(value: Any) -> str:
    """json.dumps's value, by orjson; what orjson refuses and json.dumps takes (an int beyond
    64 bits, a key not a string) by json.dumps. A float NaN or infinity, which json.dumps writes
    as a token that is not JSON (PostgreSQL refuses it), orjson writes as null; no caller stores
    one (the audit's rows have null for an empty cell: importing._plain)."""
    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson.JSONEncodeError
        return json.dumps(value)


# -- updates ---------------------------------------------------------------------------------

_temp_tables = 0  # a fresh temporary table name for each PostgreSQL bulk update


def bulk_update(session: Session, model: Any, rows: Sequence[dict[str, Any]]) -> None:
    """Update `rows` ({column: value}, each with the table's primary key) of `model`'s table in
    the session's transaction, set-wise: the values converted column by column as SQLAlchemy
    would bind them, then
    - SQLite: one prepared `UPDATE … SET … WHERE pk = ?` stepped over the row tuples;
    - PostgreSQL (psycopg 3): the rows COPYed into a temporary table, then one
      `UPDATE … SET … FROM` it joined on the primary key.
    Like SQLAlchemy's ORM bulk UPDATE by primary key (`session.execute(update(model), rows)`,
    which it stands in for and which other cases still take), a row that is no longer there is
    not skipped: StaleDataError, and the caller's transaction is refused whole."""
    from sqlalchemy import update
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm.exc import StaleDataError

    if not rows:
        return
    table = cast(Table, model.__table__)
    session.flush()  # what the ORM's update would have flushed first
    connection = session.connection()
    dialect = connection.dialect
    pk = [c.name for c in table.primary_key.columns]
    names = list(rows[0])
    sets = [n for n in names if n not in pk]
    raw: Any = connection.connection.dbapi_connection
    first = rows[0].keys()
    if (not sets or any(n not in table.c for n in names) or any(k not in names for k in pk)
            or any(row.keys() != first for row in rows) or dialect.name not in ("sqlite", "postgresql")
            or (dialect.name == "postgresql" and dialect.driver != "psycopg") or raw is None):
        session.execute(update(model), list(rows))
        return
    order = sets + pk
    columns: list[list] = []
    for name in order:
        column = table.c[name]
        values = [row[name] for row in rows]
        if isinstance(column.type, Integer) and not isinstance(column.type, ScaledDecimal):
            # a whole number pandas made a float (an id through a merge with gaps): the integer,
            # as PostgreSQL's cast of the bound float gave it (COPY takes text, not a cast)
            values = [int(v) if isinstance(v, float) and v.is_integer() else v for v in values]
        if isinstance(column.type, JSON):
            columns.append(_json(values, column, dialect))
        else:
            columns.append(_convert(values, _processor(column, dialect, False), hashable=True))
    quote = dialect.identifier_preparer.quote
    target = quote(table.name)
    if dialect.name == "sqlite":
        sql = (f"UPDATE {target} SET {', '.join(f'{quote(n)} = ?' for n in sets)} "
               f"WHERE {' AND '.join(f'{quote(k)} = ?' for k in pk)}")
        cursor = raw.cursor()
        try:
            cursor.executemany(sql, zip(*columns))
            matched = cursor.rowcount
        except dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(sql, None, error, dialect.loaded_dbapi.Error) from error
        finally:
            cursor.close()
    else:
        global _temp_tables
        _temp_tables += 1
        temp = quote(f"_bulk_update_{table.name}_{_temp_tables}")
        listed = ", ".join(quote(n) for n in order)
        sql = (f"UPDATE {target} AS t SET {', '.join(f'{quote(n)} = u.{quote(n)}' for n in sets)} FROM {temp} AS u "
               f"WHERE {' AND '.join(f't.{quote(k)} = u.{quote(k)}' for k in pk)}")
        try:
            with raw.cursor() as cursor:
                cursor.execute(f"CREATE TEMPORARY TABLE {temp} ON COMMIT DROP AS "
                               f"SELECT {listed} FROM {target} WITH NO DATA")
                with cursor.copy(f"COPY {temp} ({listed}) FROM STDIN") as copy:
                    write = copy.write_row
                    for row in zip(*columns):
                        write(row)
                cursor.execute(sql)
                matched = cursor.rowcount
                cursor.execute(f"DROP TABLE {temp}")
        except dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(sql, None, error, dialect.loaded_dbapi.Error) from error
    if matched != len(rows):
        raise StaleDataError(f"UPDATE statement on table '{table.name}' expected to update {len(rows)} row(s); "
                             f"{matched} were matched.")
