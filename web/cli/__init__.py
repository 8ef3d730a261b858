"""The click commands on app.cli. Each family lives in its own module."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from portfolio.book.users import UserError, create_user
from web.extensions import db


@click.command("create-user")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["admin", "manager", "committee", "viewer"]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given.")
@click.option("--display-name", default=None)
@with_appcontext
def create_user_command(name: str, role: str, password: str, display_name: str | None) -> None:
    """Create a user (or reset an existing one's role and password)."""
    try:
        create_user(db.session, name, role, password, by="cli", display_name=display_name)
    except UserError as error:
        raise click.ClickException("；".join(m for _f, m in error.errors)) from error
    click.echo(f"user {name} ({role}) saved")


def _commands():
    from web.cli import backup as cli_backup
    from web.cli import book as cli_book
    from web.cli import figures as cli_figures
    from web.cli import forecast as cli_forecast
    from web.cli import reports as cli_reports
    return [create_user_command, *cli_book.COMMANDS, *cli_figures.COMMANDS, *cli_reports.COMMANDS,
            *cli_forecast.COMMANDS, *cli_backup.COMMANDS]


COMMANDS = _commands()
