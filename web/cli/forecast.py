"""Click command of the forecast (issue 16): `forecast FUND --as-of D --format json|table`."""
from __future__ import annotations

import click
from flask.cli import with_appcontext

from web.cli.ending import end_without_teardown


@click.command("forecast")
@click.argument("fund")
@click.option("--as-of", "as_of", default=None, help="YYYY-MM-DD; default: the last quarter end.")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json", show_default=True)
@click.option("--unit", default=None, help="A sub-fund code or an investment id: that unit only.")
@click.option("--paths", default=2000, show_default=True, type=click.IntRange(10, 100_000))
@click.option("--backtest", is_flag=True, help="Add the rolling-origin back-test (预测准确度).")
@click.option("--progress/--no-progress", default=None,
              help="Show the back-test's progress bar (default: when standard error is a terminal).")
@with_appcontext
def forecast_command(fund: str, as_of: str | None, fmt: str, unit: str | None, paths: int, backtest: bool,
                     progress: bool | None) -> None:
    """The fund's forecast from a date: calls, distributions and NAV by quarter with P10/P90,
    capital call at risk, the policy figures projected. The back-test runs as a job in this
    process (recorded in the jobs table, started by `cli`; a progress bar at a terminal),
    taken as it is when the same back-test of the same book was already done."""
    import json
    import sys

    from portfolio.book.forecasting import fund_forecast
    from portfolio.figures.engine import UnknownFund
    from portfolio.figures.report import to_json
    from portfolio.messages import said_by
    from web.cli.figures import _as_of
    from web.extensions import db

    date = _as_of(as_of)
    try:
        result = fund_forecast(db.session, fund, date, unit=unit, paths=paths)
    except UnknownFund as error:
        from web.cli.language import shown

        raise click.ClickException(shown(said_by(error))) from error
    if backtest:
        result = result | {"backtest": _backtest_job(fund, date, progress)}
    if fmt == "json":
        click.echo(json.dumps(to_json(result), ensure_ascii=False, indent=1 if sys.stdout.isatty() else None))
    else:
        click.echo(render_table(result))
    end_without_teardown()


def _backtest_job(fund: str, date, progress: bool | None) -> dict:
    """The back-test as a job run here (web.forecast's handler), with a tqdm bar on standard error."""
    from web.cli.progress import run_job
    from web.forecast import backtest_params

    return dict(run_job("forecast_backtest", backtest_params(fund, date), progress).result)


def render_table(result: dict) -> str:
    """The forecast for a person, in the command line's language: amounts in 万元, A for
    actuals, E for estimates."""
    from portfolio.figures.forecast_backtest import band_record
    from portfolio.formatting import iso_date, percent, wan
    from portfolio.messages import clauses
    from portfolio.reports.forecast_xlsx import CHECKS  # the checks in the forecast page's words
    from web.cli.figures import aligned
    from web.cli.language import cli_lang, say

    lines = [say("%(fund)s 预测  截至 %(day)s  （金额单位：万元；%(paths)s 条模拟路径）",
                 fund=f"{result['fund']}{' ' + result['unit'] if result['unit'] else ''}",
                 day=iso_date(result["as_of"]), paths=result["paths"]), ""]
    header = [say("季度"), "", say("出资"), say("出资P10"), say("出资P90"), say("分配"), say("剩余价值"),
              say("剩余价值P10"), say("剩余价值P90"), say("未实缴")]
    rows = [[a["quarter"], "A", wan(a["call"]), "", "", wan(a["distribution"]), wan(a["nav"]), "", "", ""]
            for a in result["actuals"]]
    rows += [[f["quarter"], "E", wan(f["call"]), wan(f["call_p10"]), wan(f["call_p90"]), wan(f["distribution"]),
              wan(f["nav"]), wan(f["nav_p10"]), wan(f["nav_p90"]), wan(f["unfunded"])] for f in result["forecast"]]
    lines.extend(aligned(header, rows))
    e = result["expected"]
    lines += ["", say("下一季度预计出资 %(q)s，未来一年 %(y)s；预计分配 %(dq)s，未来一年 %(dy)s",
                      q=wan(e["calls_next_quarter"]), y=wan(e["calls_next_year"]),
                      dq=wan(e["distributions_next_quarter"]), dy=wan(e["distributions_next_year"])), ""]
    lines.append(say("出资风险值 CCaR（财政出资占 %(share)s）", share=percent(result["bureau_share"])))
    for h, levels in result["call_at_risk"].items():
        cells = "  ".join(say("%(level)s %(amount)s（财政 %(bureau)s）", level=f"{float(lv):.0%}", amount=wan(v),
                              bureau=wan(result["call_at_risk_bureau"][h][lv])) for lv, v in levels.items())
        lines.append(say("  未来%(h)s个季度：%(cells)s", h=h, cells=cells))
    policy = result["policy"]
    lines += ["", say("实缴进度：%(items)s", items="  ".join(f"{r['year']}{r['kind']} {percent(r['progress'])}"
                                                        for r in policy["paid_in_progress"]))]
    checks = clauses((f"{say(CHECKS.get(c['check'], c['check']))} {say('通过') if c['ok'] else say('不通过')}"
                      for c in result["checks"]), cli_lang())
    lines.append(say("检查：%(items)s", items=checks))
    if "backtest" in result:
        lines += ["", say("预测准确度（误差：占认缴的百分点）")]

        def f(v, fmt="{:.2f}"):
            return "—" if v is None else fmt.format(v)
        # each model as the accuracy page names it (templates/forecast/accuracy.html), never by its code
        models = {"calibrated": say("按历史校准"), "published": say("未校准（公开参数）")}
        head = [say("期"), say("模型"), say("出资MAE"), say("出资偏差"), say("分配MAE"), say("覆盖率"), say("CCaR95超出")]
        table = [[str(r["horizon"]), models.get(r["model"], r["model"]), f(r["call_mae"]), f(r["call_bias"], "{:+.2f}"),
                  f(r["distribution_mae"]), percent(r["call_coverage"]), percent(r["ccar95_exceedance"])]
                 for r in result["backtest"]["table"]]
        lines.extend(aligned(head, table, left=1, indent="  "))
        track = result["backtest"].get("track") or []
        if track:  # the last four quarters of the track record, the newest last
            lines += ["", say("逐季回顾：上季末对下一季度的预测与实际（全基金，万元）")]
            head = [say("季度"), say("预测出资"), say("出资 P10–P90"), say("实际出资"), say("预测分配"),
                    say("分配 P10–P90"), say("实际分配")]

            def band(row: dict, name: str) -> str:
                outside = "" if row[f"{name}_inside"] else " *"
                return f"{wan(row[f'{name}_p10'])}–{wan(row[f'{name}_p90'])}{outside}"
            table = [[r["quarter"], wan(r["calls_e"]), band(r, "calls"), wan(r["calls_actual"]),
                      wan(r["distributions_e"]), band(r, "distributions"), wan(r["distributions_actual"])]
                     for r in track[-4:]]
            lines.extend(aligned(head, table, indent="  "))
            lines.append("  " + say("* 实际数在 P10–P90 之外"))
            # how the bands have done over every quarter of the record, in the pages' words (_band_record.html)
            record = band_record(track)
            lines.append("  " + say("区间的实际表现：过去 %(n)s 个季度中，下一季度出资的实际数落在预测的 P10–P90 区间内 "
                                    "%(calls)s 次，分配 %(distributions)s 次（P10–P90 区间若准确，应约八成落在其内）。",
                                    n=record["quarters"], calls=record["calls_inside"],
                                    distributions=record["distributions_inside"]))
            if record["calls_inside"] < record["quarters"] or record["distributions_inside"] < record["quarters"]:
                lines.append("  " + say("区间之外：出资实际数低于 P10 %(calls_below)s 次、高于 P90 %(calls_above)s 次，"
                                        "分配低于 P10 %(distributions_below)s 次、高于 P90 %(distributions_above)s 次"
                                        "（低于 P10：预测偏高；高于 P90：预测偏低）。",
                                        **{key: record[key] for key in ("calls_below", "calls_above",
                                                                        "distributions_below", "distributions_above")}))
    return "\n".join(lines)


COMMANDS = [forecast_command]
