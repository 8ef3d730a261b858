"""Click commands of the figures: `report` (metrics.md JSON or a table) and `import-index`.

Imports are lazy (inside the commands) so that `flask --app app report` starts quickly.
"""
from __future__ import annotations

import datetime as dt
import sys

import click
from flask.cli import with_appcontext


def _as_of(value: str | None) -> dt.date:
    from portfolio.formatting import last_quarter_end, parse_date

    if not value:
        return last_quarter_end(dt.date.today())
    try:
        return parse_date(value)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--as-of") from None


@click.command("report")
@click.argument("fund")
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD; default: the last quarter end.")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True)
@click.option("--index", "index_name", default=None, help="An imported index series, for PME.")
@with_appcontext
def report_command(fund: str, as_of: str | None, fmt: str, index_name: str | None) -> None:
    """The fund's figures as of a date (metrics.md)."""
    import json

    from portfolio.book.reading import build_report
    from portfolio.figures.pme import PMEError
    from portfolio.figures.report import ReportError, UnknownFund, to_json
    from web.extensions import db

    date = _as_of(as_of)
    try:
        report = build_report(db.session, fund, date, index_name=index_name)
    except (UnknownFund, ReportError, PMEError) as error:
        raise click.ClickException(str(error)) from error
    if fmt == "json":
        # indented for a person at a terminal; compact (and several times faster) into a pipe
        indent = 1 if sys.stdout.isatty() else None
        click.echo(json.dumps(to_json(report), ensure_ascii=False, indent=indent))
    else:
        click.echo(render_table(report))


def render_table(report: dict) -> str:
    """The same report for a person: Chinese labels, amounts in 万元."""
    from portfolio.formatting import iso_date, multiple, percent, wan
    from portfolio.vocabulary import LABELS, label

    lines = [f"{report['fund']} {report.get('fund_name', '')}  截至 {iso_date(report['as_of'])}  （金额单位：万元）", ""]
    head = ["", "认缴", "实缴", "未实缴", "已分配", "剩余价值", "TVPI", "DPI", "RVPI", "IRR"]

    def row(name: str, f: dict, share: bool = False) -> list[str]:
        cells = [name, wan(f["commitment"]), wan(f["paid_in"]), wan(f["unfunded"]), wan(f["distributed"]),
                 wan(f["nav"]), multiple(f["tvpi"]), multiple(f["dpi"]), multiple(f["rvpi"]), percent(f["irr"])]
        if share:
            cells.append(percent(f.get("nav_share")))
        return cells

    def table(title: str, rows: list[list[str]], header: list[str]) -> None:
        lines.append(title)
        widths = [max(_width(r[i]) for r in [header, *rows]) for i in range(len(header))]
        for r in [header, *rows]:
            lines.append("  ".join(_pad(c, w, i == 0) for i, (c, w) in enumerate(zip(r, widths))))
        lines.append("")

    table("汇总", [row("基金合计", report["summary"])], head)
    table("按投资方式", [row(label("mode", m), f) for m, f in report["by_mode"].items()], head)
    table("按行业", [row(label("sector", s), f, True) for s, f in report["by_sector"].items()], head + ["占比"])
    table("穿透后按行业（子基金按其持仓公允价值分摊）",
          [[label("sector", s), wan(f["nav"]), percent(f["nav_share"])]
           for s, f in report["lookthrough_by_sector"].items()], ["", "剩余价值", "占比"])
    table("投资明细", [row(f"{i['id']} {i.get('target_name') or i['target']}", i) for i in report["investments"]],
          head)
    periodic = report.get("periodic") or {}
    conc = report.get("concentration") or {}
    lines.append(f"季度IRR（年化）：{percent(periodic.get('quarterly_irr'))}    MIRR（年化）：{percent(periodic.get('mirr'))}")
    lines.append(f"前十大占比：{percent(conc.get('top10_share'))}    最大单一占比：{percent(conc.get('largest_share'))}"
                 f"    HHI：{'—' if conc.get('hhi') is None else format(conc['hhi'], '.4f')}")
    if report.get("pme"):
        p = report["pme"]
        lines.append(f"PME（{p['index']}）：KS-PME {multiple(p['ks_pme'])}    LN-PME {percent(p['ln_pme'])}"
                     f"    Direct Alpha {percent(p['direct_alpha'])}")
    if report.get("compliance"):
        lines.append("")
        status = LABELS["check_status"]
        table("合规检查", [[label("rule", c["rule"]), str(c["subject"]), status.get(c["status"], c["status"]),
                           c.get("message", "")] for c in report["compliance"]], ["规则", "对象", "结果", "说明"])
    return "\n".join(lines).rstrip() + "\n"


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
    from web.extensions import db

    try:
        result = import_index(db.session, name, path, username=username)
    except FieldErrors as error:
        db.session.rollback()
        raise click.ClickException("\n".join(m for _, m in error.errors)) from error
    click.echo(f"指数 {result['name']}：{result['rows']} 行，新增 {result['added']}，更新 {result['changed']}，"
               f"未变 {result['unchanged']}")


COMMANDS: list = [report_command, import_index_command]
