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


db = SQLAlchemy(model_class=Base)
migrate = DeferredMigrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
