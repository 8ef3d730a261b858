"""Click commands `backup` and `restore`: the whole state of the application in one archive
(portfolio/book/backup.py)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from web.extensions import db


def _report(counts: dict[str, int]) -> None:
    for name, count in counts.items():
        click.echo(f"  {name:24s} {count:8d}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(path: Path) -> None:
    """Write every table and the committee's attachment files to the zip PATH."""
    from portfolio.book.backup import BackupError, write_backup

    try:
        counts = write_backup(db.session, path, current_app.config["UPLOAD_FOLDER"])
    except BackupError as error:
        raise click.ClickException("；".join(m for _f, m in error.errors)) from error
    click.echo(f"备份完成 (backup written): {path}")
    _report(counts)


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", default="cli", help="Who restores (audit trail).")
@with_appcontext
def restore_command(path: Path, username: str) -> None:
    """Restore the backup PATH into an empty database (schema built by `db upgrade`)."""
    from portfolio.book.backup import BackupError, restore_backup

    try:
        counts = restore_backup(db.session, path, current_app.config["UPLOAD_FOLDER"], username=username)
    except BackupError as error:
        raise click.ClickException("；".join(m for _f, m in error.errors)) from error
    click.echo(f"恢复完成 (restored): {path}")
    _report(counts)


COMMANDS: list = [backup_command, restore_command]
