"""The quarterly package as an xlsx workbook with Chinese headers (the template the portal gives
out, and the reading of a filled one), and as the JSON document kept on the package.

Headers use the words of AMAC《私募投资基金信息披露内容与格式指引2号》where it has one (期初
净资产, 实缴出资, 分配, 管理费, 期末净资产, 认缴出资). Amounts are read with
portfolio.money.parse_amount (a number cell or the text typed) and kept as integer fen. Every
error is collected with its sheet, row and column, never only the first.

No Session here: reading and writing plain data (pure apart from openpyxl).
"""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any

from portfolio.errors import FieldErrors
from portfolio.figures.tieout import ACCOUNT_FIELDS, SIGNED_FIELDS, Holding, Notice, Package
from portfolio.formatting import parse_date
from portfolio.messages import Message
from portfolio.money import UNITS, AmountError, fen, parse_amount, yuan
from portfolio.vocabulary import LABELS

ACCOUNT_LABELS = {
    "opening_nav": "期初净资产", "contributions": "本期实缴出资", "distributions": "本期分配",
    "management_fees": "管理费", "other_income_expenses": "其他收入与费用（净额，费用为负）",
    "realised_gain": "已实现收益", "unrealised_gain": "未实现收益（公允价值变动）", "closing_nav": "期末净资产",
    "commitment": "认缴出资额", "opening_unfunded": "期初未缴出资", "recallable_distributions": "可循环调用的分配",
    "closing_unfunded": "期末未缴出资",
}
HOLDING_COLUMNS = (("name", "企业名称"), ("credit_code", "统一社会信用代码"), ("sector", "所属行业"),
                   ("region_code", "注册地行政区划代码"), ("cost", "投资成本（元）"), ("fair_value", "公允价值（元）"),
                   ("method", "估值方法"))
NOTICE_COLUMNS = (("date", "日期"), ("type", "类型（出资/分配）"), ("amount", "金额（元）"), ("ref", "通知书编号"))
PROJECTION_COLUMNS = (("quarter", "季度"), ("calls", "预计出资（元）"), ("distributions", "预计分配（元）"))
SHEETS = {"info": "基本信息", "account": "资本账户", "holdings": "投资明细", "notices": "出资与分配",
          "projection": "未来预测"}
INFO_LABELS = {"investment_id": "投资编号", "quarter_end": "报告期末日期", "narrative": "情况说明"}
MAX_ROWS = 2000

# a sector, flow type or method may be written as its code or its Chinese name
_SECTOR = {name: code for code, name in LABELS["sector"].items()}
_TYPE = {"出资": "contribution", "分配": "distribution", "缴款": "contribution"}
_METHOD = {name: code for code, name in LABELS["method"].items()}


def empty_content() -> dict[str, Any]:
    return {"account": {name: 0 for name in ACCOUNT_FIELDS}, "holdings": [], "notices": [], "narrative": "",
            "projection": []}


def to_package(content: dict[str, Any], quarter_end: dt.date) -> Package:
    """The JSON document kept on a package → the tie-out's plain data."""
    holdings = tuple(Holding(name=h["name"], credit_code=h["credit_code"], sector=h["sector"],
                             region_code=h["region_code"], cost=int(h["cost"]), fair_value=int(h["fair_value"]),
                             method=h.get("method") or "last_round") for h in content.get("holdings", []))
    notices = tuple(Notice(date=dt.date.fromisoformat(n["date"]), type=n["type"], amount=int(n["amount"]),
                           ref=n.get("ref") or None) for n in content.get("notices", []))
    account = {name: int(content.get("account", {}).get(name, 0)) for name in ACCOUNT_FIELDS}
    return Package(quarter_end=quarter_end, account=account, holdings=holdings, notices=notices)


def from_package(package: Package, narrative: str = "") -> dict[str, Any]:
    """The tie-out's plain data → the JSON document (the generator's packages go in this way)."""
    return {"account": dict(package.account),
            "holdings": [{"name": h.name, "credit_code": h.credit_code, "sector": h.sector,
                          "region_code": h.region_code, "cost": h.cost, "fair_value": h.fair_value,
                          "method": h.method} for h in package.holdings],
            "notices": [{"date": n.date.isoformat(), "type": n.type, "amount": n.amount, "ref": n.ref or ""}
                        for n in package.notices],
            "narrative": narrative, "projection": []}


def _money(value: int) -> str:
    return format(yuan(value), "f")


def workbook(content: dict[str, Any] | None = None, *, investment_id: str = "",
             quarter_end: dt.date | None = None) -> bytes:
    """The template (blank, or filled with a package): one sheet per part, Chinese headers.
    Amounts are written as text so that they come back exact."""
    from openpyxl import Workbook  # here, not at the top: web/gp.py imports this module at start-up

    content = content or empty_content()
    wb = Workbook()
    info = wb.active
    info.title = SHEETS["info"]
    info.append(["项目", "内容"])
    info.append([INFO_LABELS["investment_id"], investment_id])
    info.append([INFO_LABELS["quarter_end"], quarter_end.isoformat() if quarter_end else ""])
    info.append([INFO_LABELS["narrative"], content.get("narrative", "")])
    account = wb.create_sheet(SHEETS["account"])
    account.append(["项目", "金额（元）"])
    for name in ACCOUNT_FIELDS:
        account.append([ACCOUNT_LABELS[name], _money(int(content["account"].get(name, 0)))])
    holdings = wb.create_sheet(SHEETS["holdings"])
    holdings.append([label for _k, label in HOLDING_COLUMNS])
    for h in content.get("holdings", []):
        holdings.append([h["name"], h["credit_code"], LABELS["sector"].get(h["sector"], h["sector"]),
                         h["region_code"], _money(h["cost"]), _money(h["fair_value"]),
                         LABELS["method"].get(h.get("method", ""), h.get("method", ""))])
    notices = wb.create_sheet(SHEETS["notices"])
    notices.append([label for _k, label in NOTICE_COLUMNS])
    for n in content.get("notices", []):
        notices.append([n["date"], "出资" if n["type"] == "contribution" else "分配", _money(n["amount"]),
                        n.get("ref", "")])
    projection = wb.create_sheet(SHEETS["projection"])
    projection.append([label for _k, label in PROJECTION_COLUMNS])
    for row in content.get("projection", []):
        projection.append([row["quarter"], _money(row["calls"]), _money(row["distributions"])])
    for ws in wb.worksheets:
        for column in "ABCDEFG":
            ws.column_dimensions[column].width = 22
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class _Reader:
    """Reads cells or typed fields, collecting every error. Amounts in `unit`: the workbook's
    元 (its documented unit), or what the portal's form was typed in (万元 or 元)."""

    def __init__(self, unit: str = "yuan") -> None:
        self.errors: list[tuple[str, str]] = []
        self.unit = unit

    def error(self, sheet: str, row: int, column: str, message: str) -> None:
        where = f"{sheet} 第 {row} 行 {column}" if row else f"{sheet} {column}"
        self.errors.append(("", f"{where}：{message}"))

    def amount(self, value: Any, sheet: str, row: int, column: str, *, signed: bool = False) -> int:
        if value is None or str(value).strip() == "":
            return 0
        try:
            text = value if isinstance(value, (int, Decimal, str)) else str(value)
            amount = parse_amount(text, unit=self.unit)
        except (AmountError, ValueError) as exc:
            self.error(sheet, row, column.replace("（元）", f"（{UNITS[self.unit][2]}）"), str(exc))
            return 0
        if amount < 0 and not signed:
            self.error(sheet, row, column, "不能为负数")
        return fen(amount)

    def date(self, value: Any, sheet: str, row: int, column: str) -> str | None:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        try:
            return parse_date(str(value or "")).isoformat()
        except ValueError as exc:
            self.error(sheet, row, column, str(exc))
            return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def read_workbook(data: bytes) -> tuple[dict[str, Any], str, dt.date | None]:
    """A filled template → (the JSON document, investment id, quarter end). Raises FieldErrors
    listing every cell that could not be read; negative amounts are refused except in the
    lines that can be negative (other income and expenses, gains)."""
    from openpyxl import load_workbook

    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise FieldErrors([("file", Message("gp_unreadable"))]) from exc
    missing = [name for name in SHEETS.values() if name not in wb.sheetnames and name != SHEETS["projection"]]
    if missing:
        raise FieldErrors([("file", Message("gp_missing_sheets", people=list(missing)))])
    r = _Reader()

    def rows(sheet: str) -> list[tuple[int, tuple]]:
        if sheet not in wb.sheetnames:
            return []
        out = []
        for number, row in enumerate(wb[sheet].iter_rows(min_row=2, values_only=True), start=2):
            if number > MAX_ROWS:
                r.error(sheet, number, "", f"超过 {MAX_ROWS} 行")
                break
            if any(v is not None and str(v).strip() for v in row):
                out.append((number, tuple(row) + (None,) * 8))
        return out

    info = {_text(row[0]): row[1] for _n, row in rows(SHEETS["info"])}
    investment_id = _text(info.get(INFO_LABELS["investment_id"]))
    quarter_end = None
    if _text(info.get(INFO_LABELS["quarter_end"])):
        day = r.date(info.get(INFO_LABELS["quarter_end"]), SHEETS["info"], 3, INFO_LABELS["quarter_end"])
        quarter_end = dt.date.fromisoformat(day) if day else None
    content = empty_content()
    content["narrative"] = _text(info.get(INFO_LABELS["narrative"]))[:20000]

    by_label = {label: name for name, label in ACCOUNT_LABELS.items()}
    for number, row in rows(SHEETS["account"]):
        name = by_label.get(_text(row[0]))
        if name is None:
            r.error(SHEETS["account"], number, "项目", f"未知的项目：{_text(row[0])}")
            continue
        content["account"][name] = r.amount(row[1], SHEETS["account"], number, "金额（元）",
                                            signed=name in SIGNED_FIELDS)

    sheet = SHEETS["holdings"]
    for number, row in rows(sheet):
        name, code, sector, region = (_text(v) for v in row[:4])
        if not name:
            r.error(sheet, number, "企业名称", "必填")
        method = _text(row[6])
        content["holdings"].append({
            "name": name[:200], "credit_code": code.upper()[:40], "sector": _SECTOR.get(sector, sector)[:40],
            "region_code": region[:12], "cost": r.amount(row[4], sheet, number, "投资成本（元）"),
            "fair_value": r.amount(row[5], sheet, number, "公允价值（元）"),
            "method": _METHOD.get(method, method or "last_round")[:40]})

    sheet = SHEETS["notices"]
    for number, row in rows(sheet):
        day = r.date(row[0], sheet, number, "日期")
        kind = _TYPE.get(_text(row[1]), _text(row[1]))
        if kind not in ("contribution", "distribution"):
            r.error(sheet, number, "类型", "应为 出资 或 分配")
        amount = r.amount(row[2], sheet, number, "金额（元）")
        if day and kind in ("contribution", "distribution"):
            content["notices"].append({"date": day, "type": kind, "amount": amount, "ref": _text(row[3])[:64]})

    sheet = SHEETS["projection"]
    for number, row in rows(sheet):
        content["projection"].append({"quarter": _text(row[0])[:10],
                                      "calls": r.amount(row[1], sheet, number, "预计出资（元）"),
                                      "distributions": r.amount(row[2], sheet, number, "预计分配（元）")})
    wb.close()
    if r.errors:
        raise FieldErrors(r.errors)
    return content, investment_id, quarter_end


FORM_HOLDING_ROWS = 12
FORM_NOTICE_ROWS = 8
FORM_PROJECTION_ROWS = 4


def read_form(form: dict[str, str], *, unit: str = "yuan") -> dict[str, Any]:
    """The package typed on the portal's form (fields acc-<line>, h-<i>-<column>, n-<i>-<column>,
    p-<i>-<column>, narrative), its amounts in `unit` (the form's unit select) → the JSON
    document, amounts in fen; FieldErrors lists every field that could not be read. Blank rows
    are skipped."""
    r = _Reader(unit)
    content = empty_content()
    content["narrative"] = str(form.get("narrative") or "").strip()[:20000]
    for name in ACCOUNT_FIELDS:
        content["account"][name] = r.amount(form.get(f"acc-{name}"), SHEETS["account"], 0, ACCOUNT_LABELS[name],
                                            signed=name in SIGNED_FIELDS)
    i = 0
    while i < MAX_ROWS and any(f"h-{i}-{k}" in form for k, _l in HOLDING_COLUMNS):
        row = {k: str(form.get(f"h-{i}-{k}") or "").strip() for k, _l in HOLDING_COLUMNS}
        if any(row.values()):
            if not row["name"]:
                r.error(SHEETS["holdings"], i + 1, "企业名称", "必填")
            content["holdings"].append({
                "name": row["name"][:200], "credit_code": row["credit_code"].upper()[:40],
                "sector": _SECTOR.get(row["sector"], row["sector"])[:40], "region_code": row["region_code"][:12],
                "cost": r.amount(row["cost"], SHEETS["holdings"], i + 1, "投资成本（元）"),
                "fair_value": r.amount(row["fair_value"], SHEETS["holdings"], i + 1, "公允价值（元）"),
                "method": _METHOD.get(row["method"], row["method"] or "last_round")[:40]})
        i += 1
    i = 0
    while i < MAX_ROWS and any(f"n-{i}-{k}" in form for k, _l in NOTICE_COLUMNS):
        row = {k: str(form.get(f"n-{i}-{k}") or "").strip() for k, _l in NOTICE_COLUMNS}
        if any(v for k, v in row.items() if k != "type"):
            day = r.date(row["date"], SHEETS["notices"], i + 1, "日期")
            kind = _TYPE.get(row["type"], row["type"])
            if kind not in ("contribution", "distribution"):
                r.error(SHEETS["notices"], i + 1, "类型", "应为 出资 或 分配")
            amount = r.amount(row["amount"], SHEETS["notices"], i + 1, "金额（元）")
            if day and kind in ("contribution", "distribution"):
                content["notices"].append({"date": day, "type": kind, "amount": amount, "ref": row["ref"][:64]})
        i += 1
    i = 0
    while i < MAX_ROWS and f"p-{i}-quarter" in form:
        row = {k: str(form.get(f"p-{i}-{k}") or "").strip() for k, _l in PROJECTION_COLUMNS}
        if any(row.values()):
            content["projection"].append({
                "quarter": row["quarter"][:10],
                "calls": r.amount(row["calls"], SHEETS["projection"], i + 1, "预计出资（元）"),
                "distributions": r.amount(row["distributions"], SHEETS["projection"], i + 1, "预计分配（元）")})
        i += 1
    if r.errors:
        raise FieldErrors(r.errors)
    return content
