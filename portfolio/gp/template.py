"""The quarterly package as an xlsx workbook with Chinese headers, or English ones for an English
reader (the template the portal gives out, and the reading of a filled one in either language),
and as the JSON document kept on the package.

Headers use the words of AMAC《私募投资基金信息披露内容与格式指引2号》where it has one (期初
净资产, 实缴出资, 分配, 管理费, 期末净资产, 认缴出资). Amounts are read with
portfolio.money.parse_amount (a number cell or the text typed) and kept as integer fen. Every
error is collected with its sheet, row and column, never only the first.

No Session here: reading and writing plain data (pure apart from openpyxl).
"""
from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from portfolio.errors import FieldErrors
from portfolio.figures.tieout import ACCOUNT_FIELDS, SIGNED_FIELDS, Holding, Notice, Package, is_quarter_end
from portfolio.filetypes import formulas_as_text, workbook_problem
from portfolio.formatting import DateError, parse_date, parse_quarter
from portfolio.formatting import quarter as quarter_label
from portfolio.messages import Message, said_by
from portfolio.money import AmountError, fen, parse_amount, yuan
from portfolio.record_rules import CODE_LENGTH, CONTROL_CHARACTERS, NAME_LENGTH
from portfolio.vocabulary import LABELS, LABELS_EN

# the names (Chinese, as the workbook has them by default; the portal's form shows them through
# its catalogue). A workbook is written in its reader's language (`WORDS`) and read in either.
ACCOUNT_LABELS = LABELS["gp_account"]
HOLDING_COLUMNS = (("name", "企业名称"), ("credit_code", "统一社会信用代码"), ("sector", "所属行业"),
                   ("region_code", "注册地行政区划代码"), ("cost", "投资成本（元）"), ("fair_value", "公允价值（元）"),
                   ("method", "估值方法"))
NOTICE_COLUMNS = (("date", "日期"), ("type", "类型（出资/分配）"), ("amount", "金额（元）"), ("ref", "通知书编号"))
PROJECTION_COLUMNS = (("quarter", "季度"), ("calls", "预计出资（元）"), ("distributions", "预计分配（元）"))
SHEETS = LABELS["gp_sheet"]
INFO_ITEMS = ("investment_id", "quarter_end", "narrative")
INFO_LABELS = {code: LABELS["gp_column"][code] for code in INFO_ITEMS}


@dataclass(frozen=True)
class Words:
    """A workbook's words in one language: its sheets, headers, the labels of its items and
    lines, and of the codes in its cells (sector, method, flow type)."""

    sheets: dict[str, str]
    info_header: tuple[str, str]
    info: dict[str, str]
    account_header: tuple[str, str]
    account: dict[str, str]
    holdings: tuple[str, ...]
    notices: tuple[str, ...]
    projection: tuple[str, ...]
    sector: dict[str, str]
    method: dict[str, str]
    type: dict[str, str]


WORDS = {
    "zh": Words(sheets=SHEETS, info_header=("项目", "内容"), info=INFO_LABELS, account_header=("项目", "金额（元）"),
                account=ACCOUNT_LABELS, holdings=tuple(label for _k, label in HOLDING_COLUMNS),
                notices=tuple(label for _k, label in NOTICE_COLUMNS),
                projection=tuple(label for _k, label in PROJECTION_COLUMNS),
                sector=LABELS["sector"], method=LABELS["method"], type=LABELS["type"]),
    "en": Words(sheets=LABELS_EN["gp_sheet"], info_header=("Item", "Value"),
                info={code: LABELS_EN["gp_column"][code] for code in INFO_ITEMS},
                account_header=("Item", "Amount (CNY)"), account=LABELS_EN["gp_account"],
                holdings=("Company name", "Unified social credit code", "Sector", "Region code", "Cost (CNY)",
                          "Fair value (CNY)", "Valuation method"),
                notices=("Date", "Type (contribution/distribution)", "Amount (CNY)", "Notice reference"),
                projection=("Quarter", "Expected calls (CNY)", "Expected distributions (CNY)"),
                sector=LABELS_EN["sector"], method=LABELS_EN["method"], type=LABELS_EN["type"]),
}


def _words(lang: str) -> Words:
    return WORDS["zh" if str(lang).startswith("zh") else "en"]


def _by_label(*vocabularies: dict[str, str]) -> dict[str, str]:
    """label → code, from the labels of both languages (English ones in any case: looked up
    folded, `_code`)."""
    return {label.casefold(): code for vocabulary in vocabularies for code, label in vocabulary.items()}


def _code(text: str, by_label: dict[str, str], default: str) -> str:
    return by_label.get(text.casefold(), default)
MAX_ROWS = 2000
# a filled template is tens of KB; its parts together, uncompressed, may not pass this (openpyxl
# reads the shared strings whole before a row is counted: 4 million of them are 68 MB)
MAX_UNCOMPRESSED_BYTES = 16 * 1024 * 1024
EXCEL_ROWS = 1_048_576

# a sector, flow type or method may be written as its code or its name in either language
_SECTOR = _by_label(*(w.sector for w in WORDS.values()))
_TYPE = {**_by_label(*(w.type for w in WORDS.values())), "缴款": "contribution"}
_METHOD = _by_label(*(w.method for w in WORDS.values()))
# an item of the general sheet or a line of the capital account, by its label in either language
_INFO = _by_label(*(w.info for w in WORDS.values()))
_ACCOUNT = _by_label(*(w.account for w in WORDS.values()))


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
             quarter_end: dt.date | None = None, lang: str = "zh") -> bytes:
    """The template (blank, or filled with a package): one sheet per part, its headers and labels
    in `lang` (read_workbook reads either language). Amounts are written as text so that they
    come back exact."""
    from openpyxl import Workbook  # here, not at the top: web/gp.py imports this module at start-up

    words = _words(lang)
    content = _cleaned(content or empty_content())  # a package stored before they were dropped
    wb = Workbook()
    info = wb.active
    info.title = words.sheets["info"]
    info.append(list(words.info_header))
    info.append([words.info["investment_id"], investment_id])
    info.append([words.info["quarter_end"], quarter_end.isoformat() if quarter_end else ""])
    info.append([words.info["narrative"], content.get("narrative", "")])
    account = wb.create_sheet(words.sheets["account"])
    account.append(list(words.account_header))
    for name in ACCOUNT_FIELDS:
        account.append([words.account[name], _money(int(content["account"].get(name, 0)))])
    holdings = wb.create_sheet(words.sheets["holdings"])
    holdings.append(list(words.holdings))
    for h in content.get("holdings", []):
        holdings.append([h["name"], h["credit_code"], words.sector.get(h["sector"], h["sector"]),
                         h["region_code"], _money(h["cost"]), _money(h["fair_value"]),
                         words.method.get(h.get("method", ""), h.get("method", ""))])
    notices = wb.create_sheet(words.sheets["notices"])
    notices.append(list(words.notices))
    for n in content.get("notices", []):
        notices.append([n["date"], words.type[n["type"]], _money(n["amount"]), n.get("ref", "")])
    projection = wb.create_sheet(words.sheets["projection"])
    projection.append(list(words.projection))
    for row in content.get("projection", []):
        projection.append([row["quarter"], _money(row["calls"]), _money(row["distributions"])])
    for ws in wb.worksheets:
        for column in "ABCDEFG":
            ws.column_dimensions[column].width = 22
    formulas_as_text(wb)  # a GP's '=…' is text in the workbook a fund manager opens
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


class _Reader:
    """Reads cells or typed fields, collecting every error. Amounts in `unit`: the workbook's
    元 (its documented unit), or what the portal's form was typed in (万元 or 元)."""

    def __init__(self, unit: str = "yuan") -> None:
        self.errors: list[tuple[str, str]] = []
        self.unit = unit

    def error(self, sheet: str, row: int, column: tuple[str, str], reason: Any, *, amount: bool = False) -> None:
        """A refusal at a cell (`row` 0: a field of the portal's form), by key: `sheet` a key of
        SHEETS, `column` a (vocabulary, code) name, `reason` the sentence; an amount's column
        names its unit."""
        where = {"sheet_term": ("gp_sheet", sheet), "column_term": column, "reason": reason}
        if not row:
            message = Message("gp_field", **where)
        elif amount:
            message = Message("gp_cell_amount", row=row, unit=self.unit, **where)
        else:
            message = Message("gp_cell", row=row, **where)
        self.errors.append(("", message))

    def text(self, value: str, sheet: str, row: int, column: tuple[str, str], max_len: int) -> str:
        """A text kept to what its database column holds: a longer one is refused, never cut."""
        if len(value) > max_len:
            self.error(sheet, row, column, Message("too_long", max_len=max_len))
        return value[:max_len]

    def quarter(self, value: str, sheet: str, row: int, column: tuple[str, str]) -> str:
        """A projection's quarter as the book writes quarters (2026Q1; ２０２６ｑ１ reads as it);
        anything else refused at its cell."""
        if not value:
            self.error(sheet, row, column, Message("required"))
            return value
        try:
            _first, last = parse_quarter(value)
        except ValueError:
            shown = value if len(value) <= QUARTER_LENGTH else value[:QUARTER_LENGTH] + "…"
            self.error(sheet, row, column, Message("quarter_format", text=shown))
            return value[:QUARTER_LENGTH]
        return quarter_label(last)

    def amount(self, value: Any, sheet: str, row: int, column: tuple[str, str], *, signed: bool = False) -> int:
        if value is None or str(value).strip() == "":
            return 0
        try:
            text = value if isinstance(value, (int, Decimal, str)) else str(value)
            amount = parse_amount(text, unit=self.unit)
        except (AmountError, ValueError) as exc:
            reason = said_by(exc)
            self.error(sheet, row, column, reason, amount=True)
            return 0
        if amount < 0 and not signed:
            self.error(sheet, row, column, Message("gp_negative"), amount=True)
        return fen(amount)

    def date(self, value: Any, sheet: str, row: int, column: tuple[str, str]) -> str | None:
        if isinstance(value, dt.datetime):
            return value.date().isoformat()
        if isinstance(value, dt.date):
            return value.isoformat()
        text = str(value or "")
        if not text.strip():  # a row's missing date: required, not a format with nothing after it
            self.error(sheet, row, column, Message("required"))
            return None
        try:
            return parse_date(text).isoformat()
        except DateError as exc:
            self.error(sheet, row, column, Message("typed_refused", reason=exc.reason, text=text.strip()))
            return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _cleaned(str(value)).strip()


def _cleaned(value: Any) -> Any:
    """Text without control characters (record_rules.CONTROL_CHARACTERS: invisible, and a
    workbook cannot hold them: the package's download would fail); a document, each text in it."""
    if isinstance(value, str):
        return CONTROL_CHARACTERS.sub("", value)
    if isinstance(value, dict):
        return {k: _cleaned(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_cleaned(v) for v in value]
    return value


# the widest each holding's text may be: the tie-out judges the value (a credit code's check
# digit, a known sector, region and method); these only keep a wild one out of the document
_HOLDING_TEXT_LENGTH = {"name": NAME_LENGTH, "credit_code": 40, "sector": 40, "region_code": 12, "method": 40}
NARRATIVE_LENGTH = 20000
QUARTER_LENGTH = 10  # a projection's quarter as typed, "2026Q1" with room, shown back in a refusal


def _holding(r: _Reader, row: dict[str, Any], number: int) -> dict[str, Any]:
    """One row of the holdings schedule (a sheet's row or the form's `number`th), by column code
    → the document's holding; a text too long for its place is refused at its cell, never cut."""
    cell = {k: _text(row.get(k)) for k in _HOLDING_TEXT_LENGTH}
    if not cell["name"]:
        r.error("holdings", number, ("gp_column", "name"), Message("required"))
    text = {k: r.text(v, "holdings", number, ("gp_column", k), _HOLDING_TEXT_LENGTH[k]) for k, v in cell.items()}
    return {"name": text["name"], "credit_code": text["credit_code"].upper(),
            "sector": _code(text["sector"], _SECTOR, text["sector"]), "region_code": text["region_code"],
            "cost": r.amount(row.get("cost"), "holdings", number, ("gp_column", "cost")),
            "fair_value": r.amount(row.get("fair_value"), "holdings", number, ("gp_column", "fair_value")),
            "method": _code(text["method"], _METHOD, text["method"] or "last_round")}


def _sheets_of(names: list[str]) -> tuple[dict[str, str], list[str]]:
    """A workbook's sheets by code, in the language whose sheets it has most of (Chinese on a
    tie), and the required ones it lacks, named in that language (the projection may be left out)."""
    def lacking(words: Words) -> list[str]:
        return [name for code, name in words.sheets.items() if name not in names and code != "projection"]

    words = min(WORDS.values(), key=lambda words: len(lacking(words)))
    return words.sheets, lacking(words)


def _general(r: _Reader, info: dict[str, tuple[int, Any]]) -> tuple[str, dt.date | None]:
    """The general sheet's interest and period end (by item: (row, value)), each refused at its
    cell when blank or, the period end, a day that ends no quarter."""
    number, value = info.get("investment_id", (2, None))
    investment_id = _text(value)
    if not investment_id:
        r.error("info", number, ("gp_column", "investment_id"), Message("required"))
    number, value = info.get("quarter_end", (3, None))
    day = r.date(value, "info", number, ("gp_column", "quarter_end"))
    quarter_end = dt.date.fromisoformat(day) if day else None
    if quarter_end is not None and not is_quarter_end(quarter_end):
        r.error("info", number, ("gp_column", "quarter_end"), Message("gp_quarter_end"))
    return investment_id, quarter_end


def read_workbook(data: bytes) -> tuple[dict[str, Any], str, dt.date | None]:
    """A filled template → (the JSON document, investment id, quarter end). Raises FieldErrors
    listing every cell that could not be read; negative amounts are refused except in the
    lines that can be negative (other income and expenses, gains)."""
    from openpyxl import load_workbook

    # rows past MAX_ROWS are refused sheet by sheet below, read lazily: no ceiling on the dimension
    refused = workbook_problem(data, max_bytes=MAX_UNCOMPRESSED_BYTES, max_rows=EXCEL_ROWS)
    if refused is not None:  # a zip bomb is refused from its directory, before openpyxl expands it
        raise FieldErrors([("file", refused)])
    try:
        wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a file that is not a workbook
        raise FieldErrors([("file", Message("gp_unreadable"))]) from exc
    sheets, missing = _sheets_of(wb.sheetnames)
    if missing:
        raise FieldErrors([("file", Message("gp_missing_sheets", people=list(missing)))])
    r = _Reader()

    def rows(sheet: str) -> list[tuple[int, tuple]]:
        if sheets[sheet] not in wb.sheetnames:
            return []
        out = []
        for number, row in enumerate(wb[sheets[sheet]].iter_rows(min_row=2, values_only=True), start=2):
            if number > MAX_ROWS:
                r.errors.append(("", Message("gp_too_many_rows", sheet_term=("gp_sheet", sheet), row=number,
                                             limit_n=MAX_ROWS)))
                break
            if any(v is not None and str(v).strip() for v in row):
                out.append((number, tuple(row) + (None,) * 8))
        return out

    # each item by its label, with its row (the sheet's rows may come in any order)
    info = {_code(_text(row[0]), _INFO, ""): (number, row[1]) for number, row in rows("info")}
    investment_id, quarter_end = _general(r, info)
    content = empty_content()
    number, value = info.get("narrative", (4, None))
    content["narrative"] = r.text(_text(value), "info", number, ("gp_column", "narrative"),
                                  NARRATIVE_LENGTH)

    for number, row in rows("account"):
        name = _code(_text(row[0]), _ACCOUNT, "")
        if not name:
            r.error("account", number, ("gp_column", "item"), Message("gp_unknown_line", text=_text(row[0])))
            continue
        content["account"][name] = r.amount(row[1], "account", number, ("gp_column", "amount"),
                                            signed=name in SIGNED_FIELDS)

    sheet = "holdings"
    for number, row in rows(sheet):
        content["holdings"].append(_holding(r, dict(zip((k for k, _l in HOLDING_COLUMNS), row)), number))

    sheet = "notices"
    for number, row in rows(sheet):
        day = r.date(row[0], sheet, number, ("gp_column", "date"))
        kind = _code(_text(row[1]), _TYPE, _text(row[1]))
        if kind not in ("contribution", "distribution"):
            r.error(sheet, number, ("gp_column", "type"), Message("gp_flow_type"))
        amount = r.amount(row[2], sheet, number, ("gp_column", "amount"))
        if day and kind in ("contribution", "distribution"):
            ref = r.text(_text(row[3]), sheet, number, ("gp_column", "ref"), CODE_LENGTH)
            content["notices"].append({"date": day, "type": kind, "amount": amount, "ref": ref})

    sheet = "projection"
    for number, row in rows(sheet):
        content["projection"].append({"quarter": r.quarter(_text(row[0]), sheet, number, ("gp_column", "quarter")),
                                      "calls": r.amount(row[1], sheet, number, ("gp_column", "calls")),
                                      "distributions": r.amount(row[2], sheet, number, ("gp_column", "distributions"))})
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
    form = _cleaned(dict(form))
    content = empty_content()
    content["narrative"] = r.text(str(form.get("narrative") or "").strip(), "info", 0, ("gp_column", "narrative"),
                                  NARRATIVE_LENGTH)
    for name in ACCOUNT_FIELDS:
        content["account"][name] = r.amount(form.get(f"acc-{name}"), "account", 0, ("gp_account", name),
                                            signed=name in SIGNED_FIELDS)
    i = 0
    while i < MAX_ROWS and any(f"h-{i}-{k}" in form for k, _l in HOLDING_COLUMNS):
        row = {k: str(form.get(f"h-{i}-{k}") or "").strip() for k, _l in HOLDING_COLUMNS}
        if any(row.values()):
            content["holdings"].append(_holding(r, row, i + 1))
        i += 1
    i = 0
    while i < MAX_ROWS and any(f"n-{i}-{k}" in form for k, _l in NOTICE_COLUMNS):
        row = {k: str(form.get(f"n-{i}-{k}") or "").strip() for k, _l in NOTICE_COLUMNS}
        if any(v for k, v in row.items() if k != "type"):
            day = r.date(row["date"], "notices", i + 1, ("gp_column", "date"))
            kind = _code(row["type"], _TYPE, row["type"])
            if kind not in ("contribution", "distribution"):
                r.error("notices", i + 1, ("gp_column", "type"), Message("gp_flow_type"))
            amount = r.amount(row["amount"], "notices", i + 1, ("gp_column", "amount"))
            if day and kind in ("contribution", "distribution"):
                ref = r.text(row["ref"], "notices", i + 1, ("gp_column", "ref"), CODE_LENGTH)
                content["notices"].append({"date": day, "type": kind, "amount": amount, "ref": ref})
        i += 1
    i = 0
    while i < MAX_ROWS and f"p-{i}-quarter" in form:
        row = {k: str(form.get(f"p-{i}-{k}") or "").strip() for k, _l in PROJECTION_COLUMNS}
        if any(row.values()):
            content["projection"].append({
                "quarter": r.quarter(row["quarter"], "projection", i + 1, ("gp_column", "quarter")),
                "calls": r.amount(row["calls"], "projection", i + 1, ("gp_column", "calls")),
                "distributions": r.amount(row["distributions"], "projection", i + 1, ("gp_column", "distributions"))})
        i += 1
    if r.errors:
        raise FieldErrors(r.errors)
    return content
