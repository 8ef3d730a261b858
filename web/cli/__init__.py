"""The click commands on app.cli. Each family lives in its own module."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from portfolio.book.users import UserError, create_user
from web.extensions import db


@click.command("create-user")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(["admin", "manager", "committee", "viewer", "gp"]))
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="Prompted for when not given.")
@click.option("--display-name", default=None)
@click.option("--sub-fund", "sub_funds", multiple=True,
              help="For --role gp: a sub-fund code the manager reports for (repeat for several).")
@with_appcontext
def create_user_command(name: str, role: str, password: str, display_name: str | None,
                        sub_funds: tuple[str, ...]) -> None:
    """Create a user (or reset an existing one's role and password)."""
    from portfolio.errors import FieldErrors
    from portfolio.gp.packages import invite_gp

    if (role == "gp") != bool(sub_funds):
        from web.cli.language import say

        raise click.ClickException(say("子基金管理人用户（--role gp）须用 --sub-fund 指定其报送的子基金；其他角色不能指定"))
    try:
        if role == "gp":
            invite_gp(db.session, name, password, list(sub_funds), by="cli", display_name=display_name)
        else:
            create_user(db.session, name, role, password, by="cli", display_name=display_name)
    except (UserError, FieldErrors) as error:
        from web.cli.language import refusals_in_a_line

        raise click.ClickException(refusals_in_a_line(error)) from error
    from portfolio.vocabulary import label
    from web.cli.language import cli_lang, say

    click.echo(say("用户 %(name)s（%(role)s）已保存", name=name, role=label("role", role, lang=cli_lang())))


def _commands():
    from web.cli import backup as cli_backup
    from web.cli import book as cli_book
    from web.cli import figures as cli_figures
    from web.cli import forecast as cli_forecast
    from web.cli import reports as cli_reports
    return [create_user_command, *cli_book.COMMANDS, *cli_figures.COMMANDS, *cli_reports.COMMANDS,
            *cli_forecast.COMMANDS, *cli_backup.COMMANDS]


COMMANDS = _commands()
