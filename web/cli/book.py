"""Click commands of the book: import-book, export-book, demo."""
from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from web.extensions import db


def _print_counts(counts: dict[str, dict[str, int]]) -> None:
    from portfolio.vocabulary import label
    from web.cli.figures import _pad
    from web.cli.language import cli_lang, say

    click.echo(" ".join([_pad(say("工作表"), 20, True), _pad(say("新增"), 8, False), _pad(say("未变"), 10, False),
                         _pad(say("更新"), 8, False)]))
    for sheet, c in counts.items():  # the sheet by its name in the reader's language, as the upload page
        click.echo(f"{_pad(label('entity', sheet, lang=cli_lang()), 20, True)} {c['new']:8d} {c['unchanged']:10d} "
                   f"{c['changed']:8d}")


def _refused(errors) -> None:
    """Every error, one a line ("sheet 第N行 column: value — problem"), then exit 1: nothing written."""
    from web.cli.language import cli_lang, say

    for error in errors:
        click.echo(error.shown(cli_lang()) if hasattr(error, "shown") else str(error), err=True)
    click.echo(say("导入失败：%(n)s 处错误，未写入任何数据", n=len(errors)), err=True)
    sys.exit(1)


def _bar(progress: bool | None):
    from web.cli.progress import bar

    return bar(progress)


def _import(path: Path, username: str, reason: str | None = None, progress: bool | None = None, *,
            strict: bool = False) -> None:
    """A direct import. Rows a form would question go in, each listed, their audit entries
    keeping the doubts and `reason` (else the words of this command: the operator gave none);
    `strict` refuses them instead unless a reason is given."""
    from portfolio.interchange.doubts import described
    from portfolio.interchange.importing import import_book
    from portfolio.messages import Message
    from web.cli.language import say, shown

    if reason is None and not strict:
        reason = Message("why_command_import")
    bar = _bar(progress)
    try:
        result = import_book(db.session, path, username=username, ask=True, confirm_reason=reason, progress=bar)
    finally:
        bar.close()
    if not result.ok:
        _refused(result.errors)
    click.echo(say("导入成功，批次 %(batch)s", batch=result.batch))
    if result.doubts:
        for doubt in result.doubts:
            for line in described(doubt):
                click.echo(say("  核对提示 %(what)s", what=shown(line)))
        click.echo(say("%(n)s 行核对提示已记入审计，理由：%(reason)s", n=len(result.doubts),
                       reason=shown(reason) if isinstance(reason, Message) else reason))
    _print_counts(result.counts)


@click.command("import-book")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--user", "username", default="cli", help="Who imports (audit trail, valuation approval).")
@click.option("--stage", is_flag=True, help="Stage it as a change set for a second person to apply "
                                            "(apply-change-set), as an upload on the screens is.")
@click.option("--reason", default=None, help="Why rows that trip a sanity check (dated in the future, "
                                             "contributions beyond the commitment, a distribution above NAV plus "
                                             "contributions, a copy of a flow in the book, one of the two without a "
                                             "reference) are right; kept in the audit trail with them.")
@click.option("--strict", is_flag=True, help="Refuse rows that trip a sanity check unless --reason is given.")
@click.option("--progress/--no-progress", default=None,
              help="Show the rows read and sheets checked as a progress bar (default: at a terminal).")
@with_appcontext
def import_book_command(path: Path, username: str, stage: bool, reason: str | None, strict: bool,
                        progress: bool | None) -> None:
    """Import a fund book: a .xlsx workbook or a folder of CSV files.

    Without --stage the import is direct (an operator loading an empty book, the demo, a
    book of interchange.md): rows that trip a sanity check go in, each listed and audited
    with the doubt and --reason (--strict: refused unless --reason is given); with --stage
    the book becomes a pending change set (the approver confirms them with a reason)."""
    if stage:
        _stage(path, username, progress)
    else:
        _import(path, username, reason, progress, strict=strict)


def _stage(path: Path, username: str, progress: bool | None = None) -> None:
    from portfolio.interchange.staging import stage_book
    from web.cli.language import say, shown

    bar = _bar(progress)
    try:
        result = stage_book(db.session, path, username=username, progress=bar)
    finally:
        bar.close()
    if not result.ok:
        _refused(result.errors)
    _print_counts(result.counts)
    if result.change_set is None:
        click.echo(say("台账无变化"))
        return
    change_set = result.change_set
    click.echo(say("变更集 #%(id)s 待审批；冲突 %(n)s 处", id=change_set.id, n=len(change_set.conflicts)))
    from portfolio.interchange.doubts import described
    from portfolio.interchange.staging import doubt_count, doubts_of

    doubts = doubts_of(change_set)
    if doubts:
        click.echo(say("  %(n)s 行待核对（审批人以 apply-change-set --reason 确认）：", n=doubt_count(change_set)))
        for doubt in doubts:
            for line in described(doubt):
                click.echo(say("  待核对 %(what)s", what=shown(line)))
    _print_conflicts(change_set.conflicts)


def _print_conflicts(conflicts: list[dict]) -> None:
    """Each conflict as the change-set screen writes it: the sheet and the row in words (估值
    QY-D1 · 2025-12-31), each field by its name with the uploaded value and the value now (amounts
    in 元 with separators), who changed it and when (Beijing time), a void with its reason."""
    from portfolio.formatting import local_time, row_named
    from portfolio.vocabulary import label
    from web.change_sets import column_named, column_written
    from web.cli.language import cli_lang, say

    lang = cli_lang()
    lp, rp, sep, colon = ("（", "）", "，", "：") if lang == "zh" else (" (", ")", ", ", ": ")
    for conflict in conflicts:
        sheet = conflict["sheet"]
        fields = sep.join(
            f"{column_named(f, sheet, lang)} {column_written(conflict['mine'].get(f), f, sheet, lang, unit=True)}"
            f"{lp}{say('现为')} {column_written(conflict['now'].get(f), f, sheet, lang, unit=True)}{rp}"
            for f in conflict["fields"])
        try:
            at = local_time(dt.datetime.fromisoformat(conflict["at"])) if conflict.get("at") else "—"
        except ValueError:
            at = str(conflict["at"])
        void = ""
        if conflict.get("action") == "void":
            void = say("已作废") + (f"{colon}{conflict['note']}" if conflict.get("note") else "")
            void = f"{lp}{void}{rp}"
        click.echo(say("  冲突 %(row)s：%(fields)s — 由 %(by)s 于 %(at)s 修改", row=f"{label('entity', sheet, lang=lang)} "
                       f"{row_named(conflict['key'], sheet, lang)}", fields=fields, by=conflict["by"], at=at) + void)


@click.command("apply-change-set")
@click.argument("change_set_id", type=int)
@click.option("--user", "username", required=True, help="Who approves (not the uploader).")
@click.option("--reason", default=None, help="Confirms the rows that trip a sanity check; kept in the audit trail.")
@with_appcontext
def apply_change_set_command(change_set_id: int, username: str, reason: str | None) -> None:
    """Apply a pending change set (a staged import) to the book."""
    from portfolio.errors import FieldErrors
    from portfolio.interchange.staging import apply_change_set
    from web.cli.language import refusals_in_a_line, say

    try:
        change_set = apply_change_set(db.session, change_set_id, username=username, confirm_reason=reason)
    except FieldErrors as error:
        raise click.ClickException(refusals_in_a_line(error)) from error
    click.echo(say("变更集 #%(id)s 已应用，批次 %(batch)s", id=change_set.id, batch=change_set.batch))
    _print_counts(change_set.counts)


@click.command("export-book")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--chinese-headers", is_flag=True, help="Chinese column names (中文表头).")
@click.option("--fund", "fund_code", default=None, help="Only this fund and its descendant funds.")
@with_appcontext
def export_book_command(path: Path, chinese_headers: bool, fund_code: str | None) -> None:
    """Export the book in force to PATH (.xlsx file, or a folder for CSV files)."""
    from portfolio.interchange.exporting import export_book

    try:
        counts = export_book(db.session, path, chinese_headers=chinese_headers, fund_code=fund_code)
    except ValueError as error:
        raise click.ClickException(str(error)) from error
    from portfolio.messages import listed
    from portfolio.vocabulary import label
    from web.cli.language import cli_lang, say

    lang = cli_lang()  # each sheet by its name in the reader's language, as import-book's counts
    click.echo(say("已导出到 %(path)s：%(counts)s", path=path,
                   counts=listed((f"{label('entity', k, lang=lang)} {v}" for k, v in counts.items()), lang)))


DEMO_USERS = [("admin", "admin", "管理员"), ("manager1", "manager", "基金经理一"),
              ("manager2", "manager", "基金经理二"),
              *[(f"committee{i}", "committee", f"投委会委员{i}") for i in range(1, 8)],
              ("viewer", "viewer", "只读用户"), ("gp1", "gp", "子基金管理人（SF04）")]
# the demo GP manages one of the sub-funds that report a quarter late (demo.LATE_GPS): its portal asks
# for the last quarter's package, overdue, where the book holds the quarter before (on time, it had
# nothing to do: the book held every quarter's NAV of its sub-fund)
DEMO_GP_SUB_FUNDS = {"gp1": ["SF04"]}


def _demo_until(quarter: str | None) -> dt.date:
    """The quarter end the demo's story runs to: the quarter asked for (2025Q4 or later), else
    the one of a demo loaded before (its last valuation: a re-run changes nothing), else the
    last quarter ended (the demo as recent as a fund's own book)."""
    from sqlalchemy import func, select

    from models import Valuation
    from portfolio.formatting import last_quarter_end, local_today, parse_quarter
    from portfolio.formatting import quarter as quarter_of
    from portfolio.interchange.demo import LAST, story_months
    from portfolio.messages import Message
    from web.cli.language import shown

    latest = max(LAST, last_quarter_end(local_today(), strictly=True))  # a quarter over by today
    if quarter:
        try:
            until = parse_quarter(quarter)[1]
            story_months(until)
            if until > latest:
                raise ValueError("not ended")
        except ValueError:
            raise click.BadParameter(shown(Message("demo_quarter", text=quarter.strip(), first=quarter_of(LAST),
                                                   latest=quarter_of(latest))), param_hint="--until") from None
        return until
    loaded = db.session.scalar(select(func.max(Valuation.as_of)))
    return min(latest, max(LAST, last_quarter_end(loaded))) if loaded else latest


@click.command("demo")
@click.option("--book", "book_path", default=None, type=click.Path(path_type=Path),
              help="Where to write the demo workbook (default: instance/demo_book.xlsx).")
@click.option("--until", "until_quarter", default=None, metavar="QUARTER",
              help="The quarter the demo's story runs to, 2025Q4 or later (default: the last quarter ended, "
                   "or the one a demo loaded before runs to).")
@with_appcontext
def demo_command(book_path: Path | None, until_quarter: str | None) -> None:
    """Load the demo book (funds QY and TS) and create demo users of every role."""
    from flask import current_app
    from sqlalchemy import select

    from models import User
    from portfolio.book.reading import import_index
    from portfolio.book.users import create_user, random_password
    from portfolio.formatting import local_today
    from portfolio.interchange.demo import (
        demo_committee_history,
        demo_index_levels,
        demo_meeting_to_come,
        write_demo_book,
    )
    from portfolio.vocabulary import label
    from web.cli.language import cli_lang, say

    until = _demo_until(until_quarter)
    book_path = book_path or Path(current_app.instance_path) / "demo_book.xlsx"
    write_demo_book(book_path, until=until)
    click.echo(say("演示台账已写入 %(path)s", path=book_path))
    # the demo's one exit is distributed on the day its NAV (after the exit) is nil: a doubt, confirmed
    from portfolio.messages import Message

    _import(book_path, "demo", reason=Message("why_demo_exit"))
    # a public-market index for PME (the fund page and the report choose it)
    index_path = book_path.with_name("demo_index_CSI300.csv")
    levels = [(day, level) for day, level in demo_index_levels(until=until) if day <= local_today()]  # none to come
    index_path.write_text("date,level\n" + "".join(f"{d.isoformat()},{v}\n" for d, v in levels),
                          encoding="utf-8")
    result = import_index(db.session, "CSI300", index_path, "demo")
    click.echo(say("指数 CSI300：新增 %(added)s，修改 %(changed)s，未变 %(unchanged)s", added=result["added"],
                   changed=result["changed"], unchanged=result["unchanged"]))
    # every demo fund compares itself with it by default (a fund setting, audited when it changes):
    # applied at once, not asked for, as `import-book` loads a book directly: the operator who
    # loads the demo holds the shell and the database, and there is no second person yet
    from models import Fund
    from portfolio.book.fund_settings import update_fund_settings

    for code in db.session.execute(select(Fund.code).order_by(Fund.code)).scalars().all():
        update_fund_settings(db.session, code, {"pme_index": "CSI300"}, username="demo")
    # a user who exists keeps the password: a re-run does not lock anyone out
    existing = set(db.session.execute(select(User.username)).scalars())
    click.echo(say("演示用户（密码仅在创建时显示一次）："))
    for username, role, display in DEMO_USERS:
        role_name = label("role", role, lang=cli_lang())
        if username in existing:
            click.echo(f"  {username:12s} {role_name:10s} {say('（已存在，密码未变）')}")
            continue
        password = random_password(username)
        if role == "gp":
            from portfolio.gp.packages import invite_gp

            invite_gp(db.session, username, password, DEMO_GP_SUB_FUNDS[username], by="demo", display_name=display)
        else:
            create_user(db.session, username, role, password, by="demo", display_name=display)
        click.echo(f"  {username:12s} {role_name:10s} {password}")
    # the committee's history: a past meeting with attendance, a recusal, votes and a 决议
    proposal_id = demo_committee_history(db.session, until=until)
    click.echo(say("投委会历史：提案 #%(id)s 的会议已作出决议", id=proposal_id) if proposal_id
               else say("投委会历史：已存在（未变）"))
    meeting_id = demo_meeting_to_come(db.session, local_today())
    click.echo(say("待召开的投委会会议：#%(id)s 已排会", id=meeting_id) if meeting_id
               else say("待召开的投委会会议：已存在（未变）"))


COMMANDS: list = [import_book_command, export_book_command, demo_command, apply_change_set_command]
