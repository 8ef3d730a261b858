"""The Flask extensions, created unbound and initialised in app.register_extensions."""
from __future__ import annotations

from typing import Any

import click
from flask import Flask
from flask_babel import Babel
from flask_login import LoginManager
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from models import Base


class DeferredMigrate:
    """Flask-Migrate, imported when first used: by `flask db …`, or by alembic's env.py and
    flask_migrate's functions, which read app.extensions['migrate']. Importing it imports
    alembic and mako (about 0.2 s of CPU), which no other command and no request needs.

    `init_app` takes Flask-Migrate's arguments; the first use calls Flask-Migrate's own."""

    def init_app(self, app: Any, db: SQLAlchemy, **options: Any) -> None:
        app.extensions["migrate"] = _MigrateOnFirstUse(app, db, options)
        app.cli.add_command(_MigrationCommands())


class _MigrateOnFirstUse:
    """Stands in app.extensions['migrate'] until an attribute is asked for; then sets
    Flask-Migrate up (which puts its own config there) and answers from it."""

    def __init__(self, app: Any, db: SQLAlchemy, options: dict[str, Any]) -> None:
        self._app, self._db, self._options = app, db, options
        self._real: Any = None

    def __getattr__(self, name: str) -> Any:
        if self._real is None:
            from flask_migrate import Migrate

            Migrate(self._app, self._db, **self._options)
            self._real = self._app.extensions["migrate"]
        return getattr(self._real, name)


class _MigrationCommands(click.Group):
    """`flask db`: Flask-Migrate's group (flask_migrate.cli.db), imported when the command
    line reaches it; listed in `flask --help` without importing it."""

    def __init__(self) -> None:
        super().__init__("db", help="Perform database migrations.")

    def make_context(self, info_name: str | None, args: list[str], parent: click.Context | None = None,
                     **extra: Any) -> click.Context:
        from flask_migrate.cli import db as commands

        return commands.make_context(info_name, args, parent=parent, **extra)


def bounded_waits(app: Flask) -> None:
    """A request's write waits at most BOOK_LOCK_WAIT seconds for the book (held by an import
    or a change set's apply), then is refused with a form error (portfolio.book.unit.BookBusy),
    never held past the server's timeout. SQLite: the connections' busy timeout (every writer
    of the app: pysqlite's default is 5 s); PostgreSQL: the lock_timeout of a request's
    transaction (unit.LOCK_WAIT), while jobs and commands wait for an import to end."""
    from portfolio.book import unit

    seconds = max(int(app.config.get("BOOK_LOCK_WAIT") or 0), 1)
    if str(app.config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
        options["connect_args"] = {"timeout": seconds, **(options.get("connect_args") or {})}
        app.config["SQLALCHEMY_ENGINE_OPTIONS"] = options

    def bounded() -> None:
        db.session.info[unit.LOCK_WAIT] = seconds * 1000

    app.before_request(bounded)


def enforce_foreign_keys(app: Flask) -> None:
    """SQLite checks foreign keys only on a connection that asks (PRAGMA foreign_keys, off
    by default): every connection of the app's engines asks, so a row that names a missing
    fund, investment or user is refused on SQLite as PostgreSQL refuses it. Alembic's batch
    migrations turn the check off for their own connection (migrations/env.py)."""
    from sqlalchemy import event

    with app.app_context():
        engines = [engine for engine in db.engines.values() if engine.dialect.name == "sqlite"]
    for engine in engines:
        event.listen(engine, "connect", _foreign_keys_on)


def _foreign_keys_on(dbapi_connection: Any, _record: Any) -> None:
    # at connect, before any transaction: inside one the pragma is a no-op
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def write_ahead_log(app: Flask) -> None:
    """SQLite in WAL mode (https://sqlite.org/wal.html): readers proceed while a writer holds
    the book. In the default rollback journal, an import whose writes outgrow its cache (and
    any commit) takes the file exclusively, and every page and report waits the busy timeout,
    then answers 409 "book busy"; in WAL a writer appends to the -wal file and each read sees
    the last commit before it began. Writers still queue one at a time (an import's BEGIN
    IMMEDIATE keeps every other writer out, as before).

    synchronous = FULL: the -wal file is synced at every commit, so a commit the app has
    answered survives a power cut (NORMAL syncs only at checkpoints and may lose the last
    commits, consistent but gone: not for a book of record). In WAL that is one sync per
    commit, fewer than the rollback journal's. The mode is kept in the file: every later
    connection (the CLI, a second process, the sqlite3 shell) opens it in WAL. An in-memory
    database keeps its own journal ("memory"; WAL does not apply) and is left as it is.
    WAL needs the -wal and -shm files beside the database, on a local disk (not a network
    share): the instance folder is."""
    from sqlalchemy import event

    with app.app_context():
        engines = [engine for engine in db.engines.values() if engine.dialect.name == "sqlite"]
    seconds = float(max(int(app.config.get("BOOK_LOCK_WAIT") or 0), 1))
    for engine in engines:
        event.listen(engine, "connect", lambda connection, _record: _wal_on(connection, seconds))


def _wal_on(dbapi_connection: Any, wait: float) -> None:
    # at connect, before any transaction (inside one the journal mode cannot change). Turning
    # a rollback-journal file to WAL takes it alone for a moment; the busy handler is not
    # called for that upgrade, so a connection that meets another's lock tries again, `wait`
    # seconds at most (once a file is in WAL, the pragma only reads its mode)
    import sqlite3
    import time

    cursor = dbapi_connection.cursor()
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
                break
            except sqlite3.OperationalError as error:
                if not str(getattr(error, "sqlite_errorname", "")).startswith("SQLITE_BUSY") \
                        or time.monotonic() >= deadline:
                    raise
                time.sleep(0.01)
        if mode == "wal":
            cursor.execute("PRAGMA synchronous = FULL")
    finally:
        cursor.close()


db = SQLAlchemy(model_class=Base)
migrate = DeferredMigrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
