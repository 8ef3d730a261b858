"""Click commands of the figures: `report` (metrics.md JSON or a table) and `import-index`.

Imports are lazy (inside the commands) so that `flask --app app report` starts quickly. The
table, the sentences and the refusals are in the command line's language (web/cli/language.py).
"""
from __future__ import annotations

import datetime as dt
import sys

import click
from flask.cli import with_appcontext

from web.cli.ending import end_without_teardown


def _as_of(value: str | None) -> dt.date:
    from portfolio.formatting import last_quarter_end, local_today, parse_date

    if not value:
        return last_quarter_end(local_today())
    from portfolio.formatting import DateError
    from portfolio.messages import Message
    from web.cli.language import shown

    try:
        return parse_date(value)
    except DateError as error:
        raise click.BadParameter(shown(Message("typed_refused", reason=error.reason, text=value.strip())),
                                 param_hint="--as-of") from None


@click.command("report")
@click.argument("fund")
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD; default: the last quarter end.")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True)
@click.option("--index", "index_name", default=None, help="An imported index series, for PME.")
@with_appcontext
def report_command(fund: str, as_of: str | None, fmt: str, index_name: str | None) -> None:
    """The fund's figures as of a date (metrics.md).

    The JSON is the API's, byte for byte (web.api.report_json), its checks' sentences in the
    command line's language (PORTFOLIO_LANG): made once per book version and
    kept in the shared report cache, so asked again with no write since, it is read, not
    computed. Into a pipe it is printed as stored (compact); at a terminal, indented."""
    from portfolio.errors import PMEError, ReportError
    from portfolio.figures.scope import UnknownFund
    from portfolio.messages import said_by
    from web.cli.language import shown

    date = _as_of(as_of)
    try:
        if fmt == "json":
            _print_json(fund, date, index_name)
        else:
            from portfolio.book import cache
            from web.extensions import db

            click.echo(render_table(cache.fund_report(db.session, fund, date, index_name)))
    except (UnknownFund, ReportError, PMEError) as error:
        raise click.ClickException(shown(said_by(error))) from error
    end_without_teardown()


def _print_json(fund: str, date: dt.date, index_name: str | None) -> None:
    from web.api import report_json
    from web.cli.language import cli_lang

    body = report_json(fund, date, index_name, lang=cli_lang())
    if sys.stdout.isatty():  # for a person: indented, in the API's order of keys
        import json

        click.echo(json.dumps(json.loads(body), ensure_ascii=False, indent=1))
    else:
        click.echo(body, nl=False)


def render_table(report: dict) -> str:
    """The same report for a person: in the command line's language, amounts in 万元."""
    from portfolio.formatting import hhi, iso_date, multiple, percent, wan
    from portfolio.vocabulary import label as label_in
    from web.cli.language import cli_lang, say, shown

    lang = cli_lang()
    label = lambda vocabulary, code: label_in(vocabulary, code, lang=lang)  # noqa: E731
    name = (report.get("fund_name_en") if lang == "en" else None) or report.get("fund_name", "")
    lp, rp = ("（", "）") if lang == "zh" else (" (", ")")
    lines = [f"{report['fund']} {name}  {say('截至')} {iso_date(report['as_of'])}  {lp}{say('金额单位：万元')}{rp}", ""]
    head = ["", say("认缴"), say("实缴"), say("未实缴"), say("已分配"), say("剩余价值"), "TVPI", "DPI", "RVPI", "IRR"]

    def row(name: str, f: dict, share: bool = False) -> list[str]:
        cells = [name, wan(f["commitment"]), wan(f["paid_in"]), wan(f["unfunded"]), wan(f["distributed"]),
                 wan(f["nav"]), multiple(f["tvpi"]), multiple(f["dpi"]), multiple(f["rvpi"]), percent(f["irr"])]
        if share:
            cells.append(percent(f.get("nav_share")))
        return cells

    def table(title: str, rows: list[list[str]], header: list[str]) -> None:
        lines.append(title)
        lines.extend(aligned(header, rows))
        lines.append("")

    table(say("汇总"), [row(say("基金合计"), report["summary"])], head)
    table(say("按投资方式"), [row(label("mode", m), f) for m, f in report["by_mode"].items()], head)
    table(say("按行业"), [row(label("sector", s), f, True) for s, f in report["by_sector"].items()],
          head + [say("占比")])
    table(say("穿透后按行业（子基金按其持仓公允价值分摊）"),
          [[label("sector", s), wan(f["nav"]), percent(f["nav_share"])]
           for s, f in report["lookthrough_by_sector"].items()], ["", say("剩余价值"), say("占比")])
    table(say("投资明细"), [row(f"{i['id']} {i.get('target_name') or i['target']}", i) for i in report["investments"]],
          head)
    periodic = report.get("periodic") or {}
    conc = report.get("concentration") or {}
    lines.append(say("季度IRR（年化）：%(irr)s    MIRR（年化）：%(mirr)s", irr=percent(periodic.get("quarterly_irr")),
                     mirr=percent(periodic.get("mirr"))))
    lines.append(say("前十大占比：%(top)s    最大单一占比：%(largest)s    HHI：%(hhi)s",
                     top=percent(conc.get("top10_share")), largest=percent(conc.get("largest_share")),
                     hhi=hhi(conc.get("hhi"))))  # 0–10,000, as the screens and workbook show it
    if report.get("pme"):
        p = report["pme"]
        lines.append(say("PME（%(index)s）：KS-PME %(ks)s    LN-PME %(ln)s    Direct Alpha %(alpha)s",
                         index=p["index"], ks=multiple(p["ks_pme"]), ln=percent(p["ln_pme"]),
                         alpha=percent(p["direct_alpha"])))
    if report.get("compliance"):
        lines.append("")
        table(say("合规检查"), [[label("rule", c["rule"]), str(c["subject"]), label("check_status", c["status"]),
                                shown(c.get("message", ""))] for c in report["compliance"]],
              [say("规则"), say("对象"), say("结果"), say("说明")])
    return "\n".join(lines).rstrip() + "\n"


def aligned(header: list[str], rows: list[list[str]], *, left: int = 0, indent: str = "") -> list[str]:
    """A table's lines for a terminal: each column as wide as its widest cell (a Chinese
    character takes two), column `left` aligned left and the others right (the amounts),
    each line after `indent`."""
    widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
    return [indent + "  ".join(_pad(c, w, i == left) for i, (c, w) in enumerate(zip(r, widths)))
            for r in [header, *rows]]


def _width(text: str) -> int:
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _pad(text: str, width: int, left: bool) -> str:
    space = " " * (width - _width(text))
    return text + space if left else space + text


@click.command("import-index")
@click.argument("name")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--user", "username", default="cli", show_default=True, help="Recorded in the audit trail.")
@with_appcontext
def import_index_command(name: str, path: str, username: str) -> None:
    """Import (upsert) an index series from a CSV of date, level (for PME)."""
    from portfolio.book.reading import import_index
    from portfolio.errors import FieldErrors
    from web.cli.language import refusals, say
    from web.extensions import db

    try:
        result = import_index(db.session, name, path, username=username)
    except FieldErrors as error:
        db.session.rollback()
        raise click.ClickException(refusals(error)) from error
    click.echo(say("指数 %(name)s：%(rows)s 行，新增 %(added)s，更新 %(changed)s，未变 %(unchanged)s",
                   name=result["name"], rows=result["rows"], added=result["added"], changed=result["changed"],
                   unchanged=result["unchanged"]))


COMMANDS: list = [report_command, import_index_command]
