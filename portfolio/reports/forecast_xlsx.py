"""The forecast as a workbook (issue 16): sheets Inputs (each unit on D and its parameters),
Forecast (actuals A and estimates E by quarter, with P10/P50/P90), Summary (expected calls
and distributions, capital call at risk, the policy figures) and Checks. Amounts in 万元,
as the screens show them. Renders the forecast object; computes nothing.

Numbers stay numbers (exact, never text) with the number format of their kind, as the
quarterly workbook writes them (portfolio.formatting XLSX_FORMATS): amounts in 万元
'#,##0.00', rates and shares as percentages, multiples '0.00"x"', counts as integers,
years as years, a calendar year as 2027, the checks' residuals in scientific notation; days
(the as-of date, each quarter's end) as date cells, yyyy-mm-dd.

In the reader's language (`lang`, "zh" or "en"), wholly: the sheets' names (as the quarterly
workbook's, msgctxt "sheet": 参数, 预测, 汇总, 核对 / Inputs, Forecast, Summary, Checks), headers,
labels and the forecast's codes (a unit's class, its parameters' source, the checks, a row's
kind A or E as 实际 or 预测 / Actual or Forecast) in the words of the forecast page
(portfolio.reports.words). Only the book's own names (a sub-fund's, a company's) stay as booked."""
from __future__ import annotations

import datetime as dt
import io

from openpyxl import Workbook
from openpyxl.styles import Font

from portfolio.filetypes import formulas_as_text
from portfolio.formatting import XLSX_FORMATS
from portfolio.reports.words import word
from portfolio.reports.xlsx import AMOUNT, COUNT, DATE, MULTIPLE, PERCENT, TEXT, Formatted

WAN = 10_000
YEARS = XLSX_FORMATS["years"]  # a span in years (one decimal, as formatting.years)
YEAR = XLSX_FORMATS["year"]  # a calendar year: 2027, not 2,027
DECIMAL = XLSX_FORMATS["decimal"]  # the TA bow, as the page shows it ('%.2f')
SCIENTIFIC = XLSX_FORMATS["scientific"]  # a check's residual: 4.77E-07, not 0.00

# the forecast's codes, in the forecast page's words (templates/forecast/forecast.html)
CLASSES = {"sub_fund": "子基金", "direct": "直投和跟投"}  # one unit's class (msgctxt "xlsx": "Sub-fund")
SOURCES = {"override": "手工设置", "published": "公开参数", "calibrated": "按历史校准"}
# a row's kind (forecast_book: A actual, E expected), in words: a bare letter is the code, not the reader's
KINDS = {"A": "实际", "E": "预测"}
KIND_HEADER = "实际/预测"
# the sheets, by their Chinese names (msgctxt "sheet", as the quarterly workbook's: short enough for Excel)
INPUTS, FORECAST, SUMMARY, CHECKS_SHEET = "参数", "预测", "汇总", "核对"
CHECKS = {"nav_roll": "期初剩余价值 + 出资 − 分配 + 增值 = 期末剩余价值", "unfunded_non_negative": "未实缴不为负",
          "calls_within_commitment": "累计出资不超过认缴"}


def _wan(value) -> float | None:
    """Yuan in 万元, exact (the cell's format shows two places, as the page's |wan)."""
    return None if value is None else float(value) / WAN


def _day(value) -> dt.date | None:
    """A day as a date cell takes it (a date, never its ISO text: Excel sorts and filters it as
    a date; the cell's format writes it yyyy-mm-dd), from a date, a datetime, a pandas
    Timestamp or ISO text."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10])
    if isinstance(value, dt.datetime) or (hasattr(value, "date") and not isinstance(value, dt.date)):
        return value.date()
    return value


def _sheet(wb: Workbook, title: str, columns: list[tuple[str, str | None]], rows: list[list], lang: str,
           first: bool = False):
    """A sheet of `columns` (header, number format: TEXT for words); a cell given as
    Formatted(value, format) has its own format (the Summary's 数值, a figure of any kind).
    A number keeps its value; only the format says how it reads."""
    ws = wb.active if first else wb.create_sheet()
    ws.title = word(title, lang, context="sheet")
    ws.append([word(head, lang) for head, _ in columns])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for r, row in enumerate(rows, start=2):
        for c, ((_, column_format), value) in enumerate(zip(columns, row), start=1):
            value, fmt = value if isinstance(value, Formatted) else (value, column_format)
            cell = ws.cell(row=r, column=c, value=value)
            if fmt is not None and not isinstance(value, str):
                cell.number_format = fmt
    ws.freeze_panes = "A2"
    return ws


def forecast_workbook(result: dict, fund_name: str = "", *, lang: str = "zh") -> bytes:
    """The forecast object (portfolio.figures.forecast_book.forecast) as an .xlsx in `lang`;
    `fund_name` is the fund's name in that language."""
    def w(text: str, **args) -> str:
        return word(text, lang, **args)

    def code(names: dict[str, str], value):
        """A code of the forecast in the page's words (an unknown code as it is)."""
        return word(names[value], lang, context="xlsx") if value in names else value

    wb = Workbook()
    _sheet(wb, INPUTS, [
        ("投资编号", TEXT), ("类别", TEXT), ("名称", TEXT), ("认缴（万元）", AMOUNT), ("实缴（万元）", AMOUNT),
        ("剩余价值（万元）", AMOUNT), ("未实缴（万元）", AMOUNT), ("年限（年）", YEARS), ("前两年出资比例", PERCENT),
        ("此后出资比例", PERCENT), ("弯度 B", DECIMAL), ("存续期 L", YEARS), ("增长率 G", PERCENT),
        ("最低分配率 Y", PERCENT), ("参数来源", TEXT)],
           [[u["id"], code(CLASSES, u["class"]), u["name"], _wan(u["commitment"]), _wan(u["paid_in"]),
             _wan(u["nav"]), _wan(u["unfunded"]), u["age"], u["parameters"]["rc_early"],
             u["parameters"]["rc_late"], u["parameters"]["bow"], u["parameters"]["life"],
             u["parameters"]["growth"], u["parameters"]["yield"], code(SOURCES, u["source"])]
            for u in result["units"]], lang, first=True)
    rows = [[a["quarter"], _day(a["end"]), code(KINDS, "A"), _wan(a["call"]), None, None, _wan(a["distribution"]), None, None,
             _wan(a["nav"]), None, None, None] for a in result["actuals"]]
    rows += [[f["quarter"], _day(f["end"]), code(KINDS, "E"), _wan(f["call"]), _wan(f["call_p10"]), _wan(f["call_p90"]),
              _wan(f["distribution"]), _wan(f["distribution_p10"]), _wan(f["distribution_p90"]), _wan(f["nav"]),
              _wan(f["nav_p10"]), _wan(f["nav_p90"]), _wan(f["unfunded"])] for f in result["forecast"]]
    _sheet(wb, FORECAST, [("季度", TEXT), ("季末", DATE), (word(KIND_HEADER, lang, context="xlsx"), TEXT)] + [
        (head, AMOUNT) for head in ("出资（万元）", "出资 P10（万元）", "出资 P90（万元）", "分配（万元）", "分配 P10（万元）",
                                    "分配 P90（万元）", "剩余价值（万元）", "剩余价值 P10（万元）", "剩余价值 P90（万元）",
                                    "未实缴（万元）")], rows, lang)  # the unit in each header, as the Inputs'
    e = result["expected"]
    summary = [[word("基金", lang, context="xlsx"), result["fund"] + (" " + fund_name if fund_name else "")],
               [w("截至"), Formatted(_day(result["as_of"]), DATE)],
               [w("模拟路径数"), Formatted(result["paths"], COUNT)],
               [w("下一季度预计出资（万元）"), _wan(e["calls_next_quarter"])],
               [w("未来一年预计出资（万元）"), _wan(e["calls_next_year"])],
               [w("下一季度预计分配（万元）"), _wan(e["distributions_next_quarter"])],
               [w("未来一年预计分配（万元）"), _wan(e["distributions_next_year"])]]
    for horizon, levels in result["call_at_risk"].items():
        for level, value in levels.items():
            share = f"{float(level):.0%}"
            summary.append([w("出资风险值 CCaR 未来%(n)s个季度 %(level)s（万元）", n=horizon, level=share), _wan(value)])
            summary.append([w("其中财政出资 %(level)s（万元）", level=share),
                            _wan(result["call_at_risk_bureau"][horizon][level])])
    policy = result["policy"]
    for row in policy["paid_in_progress"]:
        summary.append([w("实缴进度 %(year)s（%(kind)s）", year=row["year"], kind=code(KINDS, row["kind"])),
                        Formatted(row["progress"], PERCENT)])
    summary.append([w("放大倍数"), Formatted(policy["leverage"], MULTIPLE)])
    for r in policy["reinvestment"]:
        summary.append([w("返投倍数 %(sub_fund)s 达标年份（要求 %(requirement)s）", sub_fund=r["sub_fund"],
                          requirement=r["requirement"]), Formatted(r["year_met"] or w("预测期内未达标"), YEAR)])  # as the page
    noise = result["noise"]  # the bands' random layer, as the page's 区间的随机层
    for kind, label in (("call", "出资"), ("distribution", "分配"), ("growth", "净值回报")):
        summary.append([w("%(kind)s：波动 σ", kind=w(label)), Formatted(noise[f"{kind}_sigma"], DECIMAL)])
        if kind != "growth":
            summary.append([w("%(kind)s：无现金流的季度占比", kind=w(label)), Formatted(noise[f"{kind}_zero"], PERCENT)])
        summary.append([w("%(kind)s：共同因子占比 ρ", kind=w(label)), Formatted(noise[f"{kind}_common"], PERCENT)])
    _sheet(wb, SUMMARY, [("项目", TEXT), ("数值", AMOUNT)], summary, lang)  # 数值: 万元 unless Formatted
    _sheet(wb, CHECKS_SHEET, [(word("检查", lang, context="xlsx"), TEXT), (word("通过", lang, context="xlsx"), TEXT),
                          ("数值（元）", SCIENTIFIC)],  # residuals in yuan, the only figures here not in 万元
           [[code(CHECKS, c["check"]), w("是") if c["ok"] else w("否"), c["value"]] for c in result["checks"]], lang)
    buffer = io.BytesIO()
    formulas_as_text(wb)  # a sub-fund or company named '=…' stays a name
    wb.save(buffer)
    return buffer.getvalue()
