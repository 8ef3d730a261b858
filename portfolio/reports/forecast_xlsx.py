"""The forecast as a workbook (issue 16): sheets Inputs (each unit on D and its parameters),
Forecast (actuals A and estimates E by quarter, with P10/P50/P90), Summary (expected calls
and distributions, capital call at risk, the policy figures) and Checks. Amounts in 万元,
as the screens show them; Chinese headers. Renders the forecast object; computes nothing."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

from portfolio.formatting import iso_date

WAN = 10_000


def _wan(value) -> float | None:
    return None if value is None else round(float(value) / WAN, 2)


def _sheet(wb: Workbook, title: str, header: list[str], rows: list[list], first: bool = False):
    ws = wb.active if first else wb.create_sheet(title)
    ws.title = title
    ws.append(header)
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in rows:
        ws.append(row)
    ws.freeze_panes = "A2"
    return ws


def forecast_workbook(result: dict, fund_name: str = "") -> bytes:
    wb = Workbook()
    _sheet(wb, "Inputs", ["投资编号", "类别", "名称", "认缴（万元）", "实缴（万元）", "剩余价值（万元）", "未实缴（万元）",
                          "年限（年）", "前两年出资比例", "此后出资比例", "弯度 B", "存续期 L", "增长率 G", "最低分配率 Y",
                          "参数来源"],
           [[u["id"], u["class"], u["name"], _wan(u["commitment"]), _wan(u["paid_in"]), _wan(u["nav"]),
             _wan(u["unfunded"]), round(u["age"], 2), u["parameters"]["rc_early"], u["parameters"]["rc_late"],
             u["parameters"]["bow"], u["parameters"]["life"], u["parameters"]["growth"], u["parameters"]["yield"],
             u["source"]] for u in result["units"]], first=True)
    rows = [[a["quarter"], iso_date(a["end"]), "A", _wan(a["call"]), None, None, _wan(a["distribution"]), None, None,
             _wan(a["nav"]), None, None, None] for a in result["actuals"]]
    rows += [[f["quarter"], iso_date(f["end"]), "E", _wan(f["call"]), _wan(f["call_p10"]), _wan(f["call_p90"]),
              _wan(f["distribution"]), _wan(f["distribution_p10"]), _wan(f["distribution_p90"]), _wan(f["nav"]),
              _wan(f["nav_p10"]), _wan(f["nav_p90"]), _wan(f["unfunded"])] for f in result["forecast"]]
    _sheet(wb, "Forecast", ["季度", "季末", "A/E", "出资", "出资 P10", "出资 P90", "分配", "分配 P10", "分配 P90",
                            "剩余价值", "剩余价值 P10", "剩余价值 P90", "未实缴"], rows)
    e = result["expected"]
    summary = [["基金", result["fund"] + (" " + fund_name if fund_name else "")],
               ["截至", iso_date(result["as_of"])],
               ["模拟路径数", result["paths"]],
               ["下一季度预计出资（万元）", _wan(e["calls_next_quarter"])],
               ["未来一年预计出资（万元）", _wan(e["calls_next_year"])],
               ["下一季度预计分配（万元）", _wan(e["distributions_next_quarter"])],
               ["未来一年预计分配（万元）", _wan(e["distributions_next_year"])]]
    for horizon, levels in result["call_at_risk"].items():
        for level, value in levels.items():
            summary.append([f"出资风险值 CCaR 未来{horizon}个季度 {float(level):.0%}（万元）", _wan(value)])
            summary.append([f"其中财政出资 {float(level):.0%}（万元）", _wan(result["call_at_risk_bureau"][horizon][level])])
    policy = result["policy"]
    for row in policy["paid_in_progress"]:
        summary.append([f"实缴进度 {row['year']}（{row['kind']}）", row["progress"]])
    summary.append(["放大倍数", policy["leverage"]])
    for r in policy["reinvestment"]:
        summary.append([f"返投倍数 {r['sub_fund']} 达标年份（要求 {r['requirement']}）", r["year_met"] or "—"])
    _sheet(wb, "Summary", ["项目", "数值"], summary)
    _sheet(wb, "Checks", ["检查", "通过", "数值"],
           [[c["check"], "是" if c["ok"] else "否", c["value"]] for c in result["checks"]])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()
