"""Click commands `backup` and `restore`: the whole state of the application in one archive
(portfolio/book/backup.py)."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from web.extensions import db


def _report(counts: dict[str, int]) -> None:
    """The rows of each table (and the attachment files) the archive holds, each table by its
    name in the command line's language (现金流 / Cash flow), as import-book's counts."""
    from portfolio.vocabulary import label
    from web.cli.figures import _pad
    from web.cli.language import cli_lang

    for name, count in counts.items():
        click.echo(f"  {_pad(label('entity', name, lang=cli_lang()), 24, True)} {count:8d}")


@click.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--progress/--no-progress", default=None,
              help="Show a progress bar (default: when standard error is a terminal).")
@with_appcontext
def backup_command(path: Path, progress: bool | None) -> None:
    """Write every table and the committee's attachment files to the zip PATH.

    Run as a job in this process (recorded in the jobs table, started by `cli`), with the
    tables written shown as a progress bar. The archive is one snapshot of the database:
    what is committed while it is written is wholly out of it, never half in."""

    from models import utcnow
    from web.cli.language import say
    from web.cli.progress import run_job

    params = {"path": str(path.resolve()), "at": utcnow().isoformat()}  # each command its own backup
    job = run_job("backup", params, progress)
    click.echo(say("备份完成：%(path)s", path=path))
    _report(job.result["counts"])


@click.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--user", "username", default="cli", help="Who restores (audit trail).")
@with_appcontext
def restore_command(path: Path, username: str) -> None:
    """Restore the backup PATH into an empty database (schema built by `db upgrade`)."""
    from portfolio.book.backup import BackupError, restore_backup
    from web.cli.language import refusals_in_a_line, say

    try:
        counts = restore_backup(db.session, path, current_app.config["UPLOAD_FOLDER"], username=username)
    except BackupError as error:
        raise click.ClickException(refusals_in_a_line(error)) from error
    click.echo(say("恢复完成：%(path)s", path=path))
    _report(counts)


@click.command("prune")
@click.option("--dry-run", is_flag=True, help="List what would be removed; remove nothing.")
@click.option("--days", type=click.IntRange(min=0), default=None,
              help="Uploads given up on older than this many days (default PRUNE_UPLOADS_AFTER_DAYS).")
@click.option("--keep", type=click.IntRange(min=1), default=None,
              help="Backups kept, the newest (default BACKUPS_KEEP; never fewer than one).")
@click.option("--user", "username", default="cli", help="Who prunes (audit trail).")
@with_appcontext
def prune_command(dry_run: bool, days: int | None, keep: int | None, username: str) -> None:
    """Remove old uploads given up on (failed staging, refused uploads' error lists, rejected
    change sets' files) and the backups beyond the newest kept; every removal audited.
    The job queue does the same daily (PRUNE_HOUR)."""
    from portfolio.formatting import file_size
    from web.admin import prune_now
    from web.cli.language import say

    pruned = prune_now(username, dry_run=dry_run, days=days, keep=keep)
    for name in pruned.uploads:
        click.echo(say("  上传文件  %(name)s", name=name))
    for number in pruned.change_sets:
        click.echo(say("  变更集    #%(id)s（其文件）", id=number))
    for name in pruned.backups:
        click.echo(say("  备份      %(name)s", name=name))
    summary = "清理：将删除 %(count)s 个文件（%(size)s）；保留备份 %(kept)s 个" if dry_run \
        else "清理：已删除 %(count)s 个文件（%(size)s）；保留备份 %(kept)s 个"
    click.echo(say(summary, count=pruned.count, size=file_size(pruned.freed), kept=len(pruned.kept_backups)))


COMMANDS: list = [backup_command, restore_command, prune_command]
