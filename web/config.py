"""Configuration: the database from DATABASE_URL, secrets from the environment or the
instance folder (never from the repository)."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from web.security import security_config


def database_url(instance_path: str) -> str:
    url = os.environ.get("DATABASE_URL")
    if not url:
        return "sqlite:///" + str(Path(instance_path) / "fundbook.sqlite")
    # psycopg 3 is the driver we install; accept the plain postgres URLs people paste.
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def secret_key(instance_path: str) -> str:
    """SECRET_KEY from the environment, else one generated once per instance folder."""
    if os.environ.get("SECRET_KEY"):
        return os.environ["SECRET_KEY"]
    path = Path(instance_path) / "secret_key"
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()


def _int_env(name: str, default: int) -> int:
    text = (os.environ.get(name) or "").strip()
    return int(text) if text.isdigit() else default


def default_config(instance_path: str) -> dict:
    return {
        "SQLALCHEMY_DATABASE_URI": database_url(instance_path),
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "SECRET_KEY": secret_key(instance_path),
        "BABEL_DEFAULT_LOCALE": "zh",
        "LANGUAGES": ["zh", "en"],
        # the commands' language (web/cli/language.py): PORTFOLIO_LANG=en for English
        "CLI_LANGUAGE": os.environ.get("PORTFOLIO_LANG", "zh"),
        # how long a request's write waits for the book held by an import (or another writer)
        # before it is refused, "submit again in a moment": seconds, well within gunicorn's timeout
        "BOOK_LOCK_WAIT": _int_env("BOOK_LOCK_WAIT", 15),
        "MAX_CONTENT_LENGTH": 64 * 1024 * 1024,  # uploads (books, due-diligence files)
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "UPLOAD_FOLDER": str(Path(instance_path) / "uploads"),
        # a session ends: after this long, and at once on logout or a password or role change
        "PERMANENT_SESSION_LIFETIME": 8 * 3600,  # idle: every request renews it
        "SESSION_ABSOLUTE_HOURS": _int_env("SESSION_ABSOLUTE_HOURS", 12),  # from the login, however busy
        "REMEMBER_COOKIE_DURATION": 8 * 3600,
        # a form's CSRF token lives as long as the session it is bound to (which ends as above):
        # Flask-WTF's default hour had refused, and lost, a form typed over a long meeting
        "WTF_CSRF_TIME_LIMIT": None,
        # the job queue and the shared report cache: on Redis when set, else embedded (web/queue.py)
        "REDIS_URL": os.environ.get("REDIS_URL") or None,
        "JOBS_QUEUE_NAME": os.environ.get("JOBS_QUEUE_NAME") or "fundbook-jobs",
        "REPORT_CACHE_PREFIX": os.environ.get("REPORT_CACHE_PREFIX") or "fundbook:report:",
        # pruning (portfolio/book/pruning.py; `flask prune`, and daily at PRUNE_HOUR UTC by the
        # job queue's periodic task): uploads given up on after this many days, and the newest
        # backups kept (never fewer than one)
        "PRUNE_UPLOADS_AFTER_DAYS": _int_env("PRUNE_UPLOADS_AFTER_DAYS", 30),
        "BACKUPS_KEEP": _int_env("BACKUPS_KEEP", 10),
        "PRUNE_HOUR": _int_env("PRUNE_HOUR", 3),
        # where the screens' backups are written (`backup-<job>.zip`), and pruned
        "BACKUPS_FOLDER": os.environ.get("BACKUPS_FOLDER") or str(Path(instance_path) / "backups"),
        **security_config(),
    }
