"""The application factory: `flask --app app run`."""
from __future__ import annotations

import gc
import hashlib
import os
from pathlib import Path

from flask import Flask

from portfolio.memory import collections_paused
from web.config import default_config


def create_app(config: dict | None = None) -> Flask:
    """The app. Without a config (a command, a server process: one app for the process's
    life), the garbage collector is paused while the app is made (its imports and set-up
    make ~10^6 objects that live as long as the process and would each be traversed by
    every collection), then everything alive is frozen (`gc.freeze`: left out of later
    collections) and collection resumes. Tests, which make many apps, are left alone."""
    if config is not None:
        return _create_app(config)
    with collections_paused():
        app = _create_app(None)
        gc.freeze()  # before collection resumes: its first run would walk all of it
    return app


def import_figures() -> None:
    """The figures' code, and pandas, numpy and pyxirr with it, which `create_app` leaves to the
    first figure computed (a command or a page that computes nothing, or reads its report from
    the shared cache, starts without them: 0.2 s and ~60 MB less). A server imports it at once,
    before its workers are forked (gunicorn.conf.py), so that no worker's first request waits
    for it and the workers share its memory; frozen out of later collections, as the app is."""
    with collections_paused():
        import portfolio.book.reading  # noqa: F401  (the book's loader, the report)
        import portfolio.figures.forecast_book  # noqa: F401
        import portfolio.interchange.schema  # noqa: F401  (uploads)
        import portfolio.reports.quarterly  # noqa: F401
        gc.freeze()


def _create_app(config: dict | None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.from_mapping(default_config(app.instance_path))
    if config:
        app.config.update(config)
    register_extensions(app)
    register_blueprints(app)
    register_commands(app)
    register_errorhandlers(app)
    return app


def register_extensions(app: Flask) -> None:
    from web.auth import load_user
    from web.extensions import babel, bounded_waits, csrf, db, enforce_foreign_keys, login_manager, migrate, write_ahead_log
    from web.i18n import PUNCTUATION, compile_translations, install_one_language, refresh_locale, select_locale, template_helpers
    from web.security import register_security

    # JSON (the API, the `report` command) as metrics.md writes it: keys in the report's order,
    # Chinese as UTF-8 text rather than \u escapes
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    register_security(app)
    bounded_waits(app)  # before db.init_app: SQLite's busy timeout goes into the engine's options
    db.init_app(app)
    enforce_foreign_keys(app)
    write_ahead_log(app)  # readers beside a writer on SQLite
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"), compare_type=True)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.user_loader(load_user)
    csrf.init_app(app)
    compile_translations(app)
    babel.init_app(app, locale_selector=select_locale)
    install_one_language(app)
    app.before_request(refresh_locale)
    app.context_processor(template_helpers)
    app.jinja_env.filters.update(template_helpers()["filters"])
    app.jinja_env.globals.update(PUNCTUATION)
    register_template_cache(app)
    register_jobs(app)


def register_template_cache(app: Flask) -> None:
    """Compiled templates kept on disk between processes (Jinja's bytecode cache, keyed by
    the template's name and source, so an edited template is compiled afresh): a CLI run
    or a new worker otherwise compiles the quarterly report's templates again, 0.3 s of its
    render. TEMPLATE_CACHE_DIR: where (default: the instance folder); empty: none."""
    from jinja2 import FileSystemBytecodeCache

    directory = app.config.get("TEMPLATE_CACHE_DIR", os.path.join(app.instance_path, "jinja-cache"))
    if not directory:
        return
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:  # a read-only instance folder: compile in each process as before
        return
    # compiled code also depends on the filters (which of them Jinja may work out when it
    # compiles: web/i18n.py): a cache of other filters is not this one's
    filters = hashlib.sha256(Path(__file__).with_name("web").joinpath("i18n.py").read_bytes()).hexdigest()[:12]
    app.jinja_env.bytecode_cache = FileSystemBytecodeCache(directory, f"__jinja2_{filters}_%s.cache")


def register_jobs(app: Flask) -> None:
    """The job queue (web/queue.py) and the shared report cache: in the database and an
    in-process worker by default, on Redis when REDIS_URL is set."""
    from portfolio.book import cache
    from web import queue

    queue.init_app(app)
    cache.configure(redis_url=app.config.get("REDIS_URL"), prefix=app.config.get("REPORT_CACHE_PREFIX"))


def register_blueprints(app: Flask) -> None:
    from web.auth import require_login_everywhere
    from web.blueprints import BLUEPRINTS, LazyBuildRule, RowId

    app.url_map.converters["int"] = RowId  # before any route is added: they take it as they bind
    app.url_rule_class = LazyBuildRule  # their URL builders compiled on first use
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    app.before_request(require_login_everywhere)


def register_commands(app: Flask) -> None:
    from web.cli import COMMANDS

    for command in COMMANDS:
        app.cli.add_command(command)


def register_errorhandlers(app: Flask) -> None:
    from web.errors import register

    register(app)
