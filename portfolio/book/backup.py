"""Backup and restore: every table of the book and the committee's files, in one archive.

The interchange workbook is the book in force for people; a backup is the whole state of
the application for the machine: fund settings, users with their password hashes, tokens,
the committee's records and attachment files, drafts and voided records, index levels,
login attempts and the audit trail.

The archive is a zip:
- `manifest.json`: format and version, the schema fingerprint (and the Alembic revision of
  the database it came from), the book version it holds (portfolio.book.cache), per table
  its columns, row count and SHA-256, per file its SHA-256;
- `tables/<table>.jsonl`: one JSON object per row, every column, written from a Core
  select in foreign-key order (parents before children, and within a table referring to
  itself, such as funds, parents first);
- `files/<stored name>`: the attachments under their stored (random) names.

Values are exact: amounts, percentages and index levels as decimal strings, dates and
times ISO text, JSON columns as JSON, binary columns (a staged upload's file) as base64
text. The report cache's rows are left out: they are derived from the rest, computed again
when first asked for (a done job whose file is not in the cache is run again).

A backup is one snapshot: every table, the book version and the attachments' list are read in
one read-only transaction on a connection of its own (PostgreSQL: REPEATABLE READ, READ ONLY;
SQLite in WAL: a BEGIN held for the backup, its first read taken at once), so the commits that
land while it writes are wholly out of it, never half in: no cash flow without its investment,
no row without its audit entry. The manifest names the book version it holds. The caller's
session is not read through (what it has not committed is not in the archive) and not held
(SQLite: a snapshot held on it would make its next write fail once the file moved on).

Restoring refuses a database that holds any row, an archive whose schema is not this
application's, and any member whose checksum differs; it inserts every table in one
transaction and moves PostgreSQL's sequences past the restored ids, so the next row gets a
fresh id.
"""
from __future__ import annotations

import base64
import contextlib
import datetime as dt
import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    DateTime,
    Float,
    LargeBinary,
    Table,
    false,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import Base
from models.types import ScaledDecimal
from portfolio.book.audit import audit
from portfolio.book.cache import book_version
from portfolio.book.unit import commit
from portfolio.errors import FieldErrors
from portfolio.messages import Message

FORMAT = "fundbook-backup"
FORMAT_VERSION = 1
DERIVED = "report_cache"  # the table whose rows a backup leaves out (the reports computed)
MANIFEST = "manifest.json"
CHUNK = 2000


class BackupError(FieldErrors):
    """The archive cannot be restored here; nothing was written."""


def _refuse(key: str, **args) -> BackupError:
    """The refusal by key (portfolio/error_texts.py), in the reader's language where shown."""
    return BackupError([("", Message(key, **args))])


def schema_fingerprint() -> str:
    """A digest of every table's columns and their types: two databases with the same
    fingerprint hold the same tables in the same shape, so a backup of one restores into
    the other. Any new table or column (a migration) changes it."""
    parts = []
    for table in sorted(Base.metadata.tables.values(), key=lambda t: t.name):
        for column in sorted(table.columns, key=lambda c: c.name):
            parts.append(f"{table.name}.{column.name}:{column.type!r}:{column.nullable}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _alembic_revision(session: Session) -> str | None:
    if not inspect(session.connection()).has_table("alembic_version"):
        return None
    return session.execute(text("SELECT version_num FROM alembic_version")).scalar()


def tables() -> list[Table]:
    """Every table of the models, parents before children."""
    return list(Base.metadata.sorted_tables)


# --- values ------------------------------------------------------------------------------

def _encode(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, (bytes, memoryview)):
        return base64.b64encode(value).decode("ascii")
    return value


def _decoder(column) -> Any:
    kind = column.type
    if isinstance(kind, ScaledDecimal):
        return Decimal
    if isinstance(kind, DateTime):
        return dt.datetime.fromisoformat
    if isinstance(kind, Date):
        return dt.date.fromisoformat
    if isinstance(kind, Float):
        return float
    if isinstance(kind, Boolean):
        return bool
    if isinstance(kind, LargeBinary):
        return base64.b64decode
    if isinstance(kind, JSON):
        return None  # already JSON
    return None


def _decode_row(row: dict[str, Any], decoders: dict[str, Any]) -> dict[str, Any]:
    out = {}
    for name, convert in decoders.items():
        value = row.get(name)
        out[name] = convert(value) if (convert is not None and value is not None) else value
    return out


def _self_parent(table: Table) -> tuple[str, str] | None:
    """(child column, parent key column) of a foreign key from the table to itself."""
    for fk in table.foreign_keys:
        if fk.column.table is table:
            return fk.parent.name, fk.column.name
    return None


def _parents_first(rows: list[dict[str, Any]], link: tuple[str, str]) -> list[dict[str, Any]]:
    child, key = link
    placed: set[Any] = set()
    ordered: list[dict[str, Any]] = []
    pending = rows
    while pending:
        ready = [r for r in pending if r[child] is None or r[child] in placed]
        if not ready:  # a cycle or a dangling parent: the database will say which
            ordered.extend(pending)
            break
        ordered.extend(ready)
        placed.update(r[key] for r in ready)
        ready_ids = {id(r) for r in ready}
        pending = [r for r in pending if id(r) not in ready_ids]
    return ordered


def _table_rows(session: Session, table: Table) -> Iterator[dict[str, Any]]:
    stmt = select(table).order_by(*table.primary_key.columns)
    if table.name == "jobs":  # finished work only: a restored queue must not run (this backup) again
        stmt = stmt.where(table.c.state.in_(("done", "failed")))
    if table.name == DERIVED:  # computed from the rest when asked for
        stmt = stmt.where(false())
    link = _self_parent(table)
    result = session.execute(stmt)
    if link is None:
        for row in result.mappings():
            yield dict(row)
    else:  # small tables (funds): sorted in memory so that a parent precedes its children
        yield from _parents_first([dict(r) for r in result.mappings()], link)


def _in_memory(engine: Any) -> bool:
    """An SQLite database in memory: one connection shared by the app (no other connection
    could write between two reads, and a second one would open another, empty, database)."""
    database = engine.url.database
    return engine.dialect.name == "sqlite" and (database in (None, "", ":memory:")
                                                or "mode=memory" in str(engine.url))


@contextlib.contextmanager
def _snapshot(session: Session) -> Iterator[Session]:
    """A session reading one moment of the database, on a connection of its own, in a
    read-only transaction ended (rolled back) when the backup is written.

    PostgreSQL: REPEATABLE READ, READ ONLY: every statement sees the snapshot taken at the
    first; writers never wait for it (nor it for them, an import's lock included). SQLite in
    WAL: pysqlite begins a transaction only before a write, so each SELECT was its own read at
    its own moment; a BEGIN (deferred) held for the backup and a first read at once pin the
    snapshot (the -wal frames committed by then), which later commits do not move, and writers
    go on beside it (a checkpoint leaves the frames it still reads)."""
    engine = session.get_bind().engine
    if _in_memory(engine):
        yield session
        return
    with engine.connect() as connection:
        try:
            if connection.dialect.name == "postgresql":
                connection.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            elif connection.dialect.name == "sqlite":
                connection.exec_driver_sql("BEGIN")
                connection.exec_driver_sql("SELECT count(*) FROM sqlite_master").scalar()  # the snapshot, now
            with Session(bind=connection) as reading:
                yield reading
        finally:
            connection.rollback()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- backup ------------------------------------------------------------------------------

def write_backup(session: Session, path: str | Path, upload_folder: str | Path,
                 progress: Callable[[int, int, str], None] | None = None) -> dict[str, int]:
    """Write the whole state to the zip `path`; rows per table (and `files`).
    `progress(done, total, "tables_written")` after each table (a job's progress bar)."""
    path, upload_folder = Path(path), Path(upload_folder)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    with _snapshot(session) as reading:
        counts = _write_archive(reading, tmp, upload_folder, progress)
    tmp.replace(path)  # a half-written archive never bears the backup's name
    return counts


def _write_archive(session: Session, tmp: Path, upload_folder: Path,
                   progress: Callable[[int, int, str], None] | None) -> dict[str, int]:
    """The archive, every row read from `session` (the snapshot), written to `tmp`."""
    manifest: dict[str, Any] = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "schema": schema_fingerprint(),
        "alembic_revision": _alembic_revision(session),
        "book_version": book_version(session),
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "tables": [], "files": [],
    }
    counts: dict[str, int] = {}
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as archive:
        every = tables()
        for done, table in enumerate(every):
            if progress is not None:
                progress(done, len(every), "tables_written")
            digest, count = hashlib.sha256(), 0
            with archive.open(f"tables/{table.name}.jsonl", "w", force_zip64=True) as member:
                for row in _table_rows(session, table):
                    line = (json.dumps({k: _encode(v) for k, v in row.items()}, ensure_ascii=False,
                                       sort_keys=True) + "\n").encode()
                    digest.update(line)
                    member.write(line)
                    count += 1
            manifest["tables"].append({"name": table.name, "columns": [c.name for c in table.columns],
                                       "rows": count, "sha256": digest.hexdigest()})
            counts[table.name] = count
        files = _attachment_files(session)
        for stored_name, expected in files:
            source = upload_folder / stored_name
            if not source.is_file():
                raise _refuse("backup_file_missing", name=stored_name)
            actual = _sha256_file(source)
            if actual != expected:
                raise _refuse("backup_file_checksum", name=stored_name)
            archive.write(source, f"files/{stored_name}")
            manifest["files"].append({"name": stored_name, "sha256": actual, "bytes": source.stat().st_size})
        counts["files"] = len(files)
        if progress is not None:
            progress(len(every), len(every), "tables_written")
        archive.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1))
    return counts


def _attachment_files(session: Session) -> list[tuple[str, str]]:
    from models import ProposalAttachment

    return [(r.stored_name, r.sha256) for r in session.execute(
        select(ProposalAttachment.stored_name, ProposalAttachment.sha256).order_by(ProposalAttachment.id))]


# --- restore -----------------------------------------------------------------------------

def read_manifest(archive: zipfile.ZipFile) -> dict[str, Any]:
    try:
        manifest = json.loads(archive.read(MANIFEST))
    except (KeyError, ValueError) as error:
        raise _refuse("backup_not_ours") from error
    if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
        raise _refuse("backup_format", format=manifest.get("format"), version=manifest.get("format_version"))
    return manifest


def _member_sha256(archive: zipfile.ZipFile, name: str) -> str:
    digest = hashlib.sha256()
    try:
        with archive.open(name) as member:
            while block := member.read(1 << 20):
                digest.update(block)
    except KeyError as error:
        raise _refuse("backup_incomplete", name=name) from error
    return digest.hexdigest()


def _check_members(archive: zipfile.ZipFile, manifest: dict[str, Any]) -> None:
    for entry in manifest["tables"]:
        name = f"tables/{entry['name']}.jsonl"
        if _member_sha256(archive, name) != entry["sha256"]:
            raise _refuse("backup_corrupt_checksum", name=name)
    for entry in manifest["files"]:
        name = f"files/{entry['name']}"
        if Path(entry["name"]).name != entry["name"] or entry["name"] in ("", ".", ".."):
            raise _refuse("backup_unsafe_name", name=entry["name"])
        if _member_sha256(archive, name) != entry["sha256"]:
            raise _refuse("backup_corrupt_checksum", name=name)


def _nonempty_tables(session: Session) -> list[str]:
    return [t.name for t in tables() if session.execute(select(func.count()).select_from(t)).scalar()]


def _rows_of(archive: zipfile.ZipFile, table: Table, columns: list[str]) -> Iterator[dict[str, Any]]:
    decoders = {c.name: _decoder(c) for c in table.columns if c.name in columns}
    with archive.open(f"tables/{table.name}.jsonl") as member:
        for line in member:
            yield _decode_row(json.loads(line), decoders)


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    chunk: list[dict[str, Any]] = []
    for row in rows:
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _reset_sequences(session: Session) -> None:
    """PostgreSQL hands out ids from a sequence that the restored rows did not advance."""
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite's next id is max(id) + 1
    for table in tables():
        for column in table.primary_key.columns:
            if column.autoincrement is True or (column.autoincrement == "auto" and len(table.primary_key.columns) == 1
                                                 and column.type.python_type is int):
                session.execute(text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE((SELECT MAX({column.name}) FROM {table.name}), 0) + 1, false)"))


def restore_backup(session: Session, path: str | Path, upload_folder: str | Path, *,
                   username: str = "cli") -> dict[str, int]:
    """Restore the archive `path` into this (empty) database and upload folder; rows per table."""
    path, upload_folder = Path(path), Path(upload_folder)
    try:
        archive = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as error:
        raise _refuse("backup_unreadable", name=path.name) from error
    written: list[Path] = []
    with archive:
        manifest = read_manifest(archive)
        if manifest["schema"] != schema_fingerprint():
            raise _refuse("backup_schema_unknown", revision=manifest.get("alembic_revision") or "?")
        here = _alembic_revision(session)
        if here and manifest.get("alembic_revision") and here != manifest["alembic_revision"]:
            raise _refuse("backup_schema_revision", revision=manifest["alembic_revision"], here=here)
        known = {t.name: t for t in tables()}
        if {e["name"] for e in manifest["tables"]} != set(known):
            raise _refuse("backup_tables_differ")
        _check_members(archive, manifest)
        occupied = _nonempty_tables(session)
        if occupied:
            raise _refuse("backup_not_empty", tables=list(occupied))
        counts: dict[str, int] = {}
        try:
            for entry in manifest["tables"]:  # written in foreign-key order
                table = known[entry["name"]]
                count = 0
                for chunk in _chunks(_rows_of(archive, table, entry["columns"]), CHUNK):
                    session.execute(insert(table), chunk)
                    count += len(chunk)
                if count != entry["rows"]:
                    raise _refuse("backup_rows", table=table.name, rows=entry["rows"], count=count)
                counts[table.name] = count
            _reset_sequences(session)
            upload_folder.mkdir(parents=True, exist_ok=True)
            for entry in manifest["files"]:
                target = upload_folder / entry["name"]
                if target.exists():
                    if _sha256_file(target) != entry["sha256"]:
                        raise _refuse("backup_upload_clash", name=entry["name"])
                    continue
                target.write_bytes(archive.read(f"files/{entry['name']}"))
                written.append(target)
            counts["files"] = len(manifest["files"])
            audit(session, username, "restore", "backup", path.name,
                  after={"created_at": manifest["created_at"], "rows": sum(e["rows"] for e in manifest["tables"]),
                         "files": len(manifest["files"])})
            commit(session)
        except BaseException as error:
            session.rollback()
            for target in written:  # files of a restore that did not happen
                target.unlink(missing_ok=True)
            if isinstance(error, SQLAlchemyError):
                raise _refuse("backup_restore_failed", detail=f"{type(error).__name__}: {str(error).splitlines()[0]}") \
                    from error
            raise
    return counts
