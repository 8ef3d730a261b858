"""The interchange workbook (interchange.md): its sheets and columns, reading it, checking it.

A book is one .xlsx workbook or a folder of UTF-8 CSV files `<sheet>.csv`. Everything is
read as text first (so that a code such as 330206 stays "330206" whatever Excel made of
it), then every cell is checked column by column with vectorised pandas operations, and
every problem becomes one `BookError` carrying the row number as Excel shows it (the
header is row 1). Nothing here touches the database: what the database already holds
comes in as `Known` so that a book may refer to records imported earlier.
"""
from __future__ import annotations

import datetime as dt
import io
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import repeat
from pathlib import Path
from typing import IO, Any

import numpy as np
import pandas as pd

from portfolio import record_rules
from portfolio.filetypes import ZIP_MAGIC, workbook_problem
from portfolio.formatting import DATE_MAX, DATE_MIN
from portfolio.messages import Message, book_error_line, error_shown, from_json
from portfolio.messages import as_json as message_json
from portfolio.vocabulary import (
    FLOW_TYPES,
    FUND_KINDS,
    INSTRUMENTS,
    LABELS,
    MODES,
    SECTORS,
    STAGES,
    VALUATION_METHODS,
    english_field_name,
    label,
)

Progress = Callable[[int, int, str], None]  # done, total, unit: a job's progress bar


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    required: bool
    kind: str  # code, text, money, date, int, year, pct, region, vocab
    vocab: tuple[str, ...] = ()
    label_vocab: str = ""  # LABELS key, so that Chinese names of codes are accepted too
    max_len: int | None = None  # code and text: the most characters its database column holds


# A code or text cell longer than its database column is refused with its sheet, row and
# column, before any write (tests/test_import_errors.py holds the widths to the models).
CODE_LENGTH = record_rules.CODE_LENGTH
NAME_LENGTH = record_rules.NAME_LENGTH


def _c(name, zh, required, kind, vocab=(), label_vocab="", max_len=None):
    if kind == "code" and max_len is None:
        max_len = CODE_LENGTH
    return Column(name, zh, required, kind, tuple(vocab), label_vocab, max_len)


SHEETS: dict[str, list[Column]] = {
    "funds": [
        _c("code", "基金代码", True, "code"),
        _c("name", "基金名称", True, "text", max_len=NAME_LENGTH),
        _c("name_en", "英文名称", False, "text", max_len=NAME_LENGTH),
        _c("kind", "基金类型", True, "vocab", FUND_KINDS, "kind"),
        _c("parent_code", "上级基金代码", False, "code"),
        _c("size_cny", "基金规模", True, "money"),
        _c("vintage_year", "设立年份", True, "year"),
        _c("currency", "币种", False, "vocab", ("CNY",)),
    ],
    "sub_funds": [
        _c("code", "子基金代码", True, "code"),
        _c("name", "子基金名称", True, "text", max_len=NAME_LENGTH),
        _c("manager", "管理人", True, "text", max_len=NAME_LENGTH),
        _c("size_cny", "子基金规模", True, "money"),
        _c("vintage_year", "设立年份", True, "year"),
        _c("sector", "主投领域", True, "vocab", SECTORS, "sector"),
        _c("region_code", "注册地区划代码", True, "region"),
        _c("term_years", "存续期", False, "int"),
    ],
    "companies": [
        _c("code", "企业代码", True, "code"),
        _c("name", "企业名称", True, "text", max_len=NAME_LENGTH),
        _c("credit_code", "统一社会信用代码", True, "code"),
        _c("sector", "所属领域", True, "vocab", SECTORS, "sector"),
        _c("region_code", "注册地区划代码", True, "region"),
        _c("founded", "成立日期", False, "date"),
    ],
    "investments": [
        _c("id", "投资编号", True, "code"),
        _c("fund_code", "基金代码", True, "code"),
        _c("mode", "投资方式", True, "vocab", MODES, "mode"),
        _c("target_code", "投资标的代码", True, "code"),
        _c("alongside_code", "跟投子基金代码", False, "code"),
        _c("date", "投资日期", True, "date"),
        _c("commitment_cny", "认缴/投资金额", True, "money"),
        _c("round", "轮次", False, "text", max_len=CODE_LENGTH),
        _c("ownership_pct", "持股比例", False, "pct"),
        _c("instrument", "投资工具", False, "vocab", INSTRUMENTS, "instrument"),
        _c("stage", "投资阶段", False, "vocab", STAGES, "stage"),
        _c("headcount", "员工人数", False, "int"),
        _c("revenue_cny", "年营业收入", False, "money"),
        _c("total_assets_cny", "资产总额", False, "money"),
        _c("lead_amount_cny", "领投金额", False, "money"),
    ],
    "cash_flows": [
        _c("investment_id", "投资编号", True, "code"),
        _c("date", "日期", True, "date"),
        _c("type", "类型", True, "vocab", FLOW_TYPES, "type"),
        _c("amount_cny", "金额", True, "money"),
        _c("note", "备注", False, "text", max_len=record_rules.NOTE_LENGTH),  # as the flow form takes it
        _c("ref", "凭证号", False, "code"),
    ],
    "valuations": [
        _c("investment_id", "投资编号", True, "code"),
        _c("as_of", "估值基准日", True, "date"),
        _c("fair_value_cny", "公允价值", True, "money"),
        _c("method", "估值方法", True, "vocab", VALUATION_METHODS, "method"),
    ],
    "sub_fund_holdings": [
        _c("sub_fund_code", "子基金代码", True, "code"),
        _c("as_of", "报告基准日", True, "date"),
        _c("company_code", "企业代码", True, "code"),
        _c("cost_cny", "投资成本", True, "money"),
        _c("fair_value_cny", "公允价值", True, "money"),
    ],
}
SHEET_ZH = {"funds": "基金", "sub_funds": "子基金", "companies": "被投企业", "investments": "投资",
            "cash_flows": "现金流", "valuations": "估值", "sub_fund_holdings": "子基金投资明细"}
REQUIRED_SHEETS = ("funds", "companies", "investments")
BOOK_LEVEL = ""  # the `sheet` of an error about the whole file
# An export adds a hidden sheet (a `_meta.csv` in a folder) of (key, value) rows, among them
# the book version it was taken at; an import reads it when present and never needs it.
META_SHEET = "_meta"

_MAX_FEN_DIGITS = 15  # yuan integer digits: up to 999,999,999,999,999.99 (BIGINT fen holds it)


@dataclass(frozen=True)
class BookError:
    """One problem of a book: where it is (sheet, Excel row, column), what was there, what is wrong.

    `sheet` and `column` are the machine's: the sheet's and column's codes (as the JSON, the
    tests and the sort use them), or the text written where it names nothing the book knows (an
    unknown column, a sheet twice). `sheet_written` and `column_written` are what the person
    sees in their workbook: the tab and the header as written there (基金代码 in a workbook with
    Chinese headers, fund_code in one with the codes), and for a sheet or column that is missing,
    its name in the style of the rest of the workbook (read_book fills them in). A person is
    shown those (`sheet_shown`, `column_shown`), never a code the workbook does not hold.
    `message` is a portfolio.messages.Message (its str the Chinese sentence, as the JSON gives
    it), rendered in the reader's language by `message_shown`."""

    sheet: str
    row: int | None
    column: str
    value: str
    message: str
    sheet_written: str = ""
    column_written: str = ""

    def __str__(self) -> str:
        return self.shown("zh")

    def as_dict(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "value": self.value,
                "message": self.message}

    def sheet_shown(self, lang: str = "zh") -> str:
        """The sheet as the workbook names it; where that is not known (an error kept before the
        written names, a doubt found after the book was read), its name in the reader's language:
        its Chinese name in Chinese, its English name in English (Cash flow, as the import's
        counts name it), never its code."""
        if self.sheet_written or not self.sheet:
            return self.sheet_written
        if str(lang).startswith("zh"):
            return SHEET_ZH.get(self.sheet, self.sheet)
        code = _sheet_name(self.sheet)
        return label("entity", code, lang="en") if code in SHEETS else code

    def column_shown(self, lang: str = "zh") -> str:
        """The column as its header is written in the workbook; where that is not known (an
        error kept before the written names, a doubt found after the book was read: --strict's
        refusal), in words in the reader's language as the change-set screen names it
        (column_named: 金额 / Amount (CNY)), never its code; a text no column of the sheet
        has, as it is."""
        if self.column_written or not self.column:
            return self.column_written
        sheet = _sheet_name(self.sheet)
        code = _COLUMN_CODES.get(sheet, {}).get(self.column, self.column)  # also from its Chinese header
        return column_named(code, sheet, str(lang)) if code in _COLUMN_ZH.get(sheet, {}) else self.column

    def message_shown(self, lang: str = "zh") -> str:
        return error_shown(self.message, lang)

    def located(self) -> dict[str, Any]:
        """as_dict with the sheet and column as a person reads them, in each language
        (messages.book_error_line)."""
        return {**self.as_dict(), "sheet_zh": self.sheet_shown("zh"), "sheet_en": self.sheet_shown("en"),
                "column_zh": self.column_shown("zh"), "column_en": self.column_shown("en")}

    def shown(self, lang: str = "zh") -> str:
        """The error in a line, in `lang`: '投资 第3行 投资日期: 2025-13-01 — 不存在的日期'."""
        return book_error_line(self.located(), lang)

    def as_json(self) -> dict[str, Any]:
        """as_dict, its message as text plus, when it has one, its key and arguments ("said"),
        and the sheet and column as written in the workbook."""
        out = {**self.as_dict(), "message": str(self.message)}
        if isinstance(self.message, Message):
            out["said"] = message_json(self.message)
        if self.sheet_written:
            out["sheet_written"] = self.sheet_written
        if self.column_written:
            out["column_written"] = self.column_written
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BookError:
        """Back from as_json (or as_dict): the message by its key again where it was kept."""
        text = str(data.get("message") or "")
        return cls(str(data.get("sheet") or ""), data.get("row"), str(data.get("column") or ""),
                   "" if data.get("value") is None else str(data.get("value")),
                   from_json(data["said"], text) if data.get("said") else text,
                   str(data.get("sheet_written") or ""), str(data.get("column_written") or ""))


ERRORS_HEADER = ("工作表", "行", "列", "值", "问题")
ERRORS_HEADER_EN = ("Sheet", "Row", "Column", "Value", "Problem")


def errors_csv(errors: list[BookError], lang: str = "zh") -> bytes:
    """Every error of a book as a CSV for Excel (UTF-8 with a byte-order mark), however many the
    page shows, in `lang`. A cell that would start a formula gets a leading quote (`csv_escape`,
    OWASP's advice): a refused book may hold anything, and its errors quote it."""
    import csv

    def cell(value: Any) -> Any:
        return csv_escape("" if value is None else str(value))

    said: dict[int, str] = {}  # each message rendered once (thousands of cells share one)

    def message(e: BookError) -> str:
        if id(e.message) not in said:
            said[id(e.message)] = e.message_shown(lang)
        return said[id(e.message)]

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(ERRORS_HEADER if str(lang).startswith("zh") else ERRORS_HEADER_EN)
    writer.writerows((cell(e.sheet_shown(lang)), e.row or "", cell(e.column_shown(lang)), cell(e.value),
                      cell(message(e))) for e in errors)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def errors_json(errors: list[BookError]) -> dict[str, Any]:
    """Every error of a book as JSON, to be shown later in the reader's language (errors_csv of
    `errors_from_json`): each distinct message once, the errors as rows that point to it."""
    messages: list[Any] = []
    index: dict[int, int] = {}
    rows = []
    for e in errors:
        if id(e.message) not in index:
            index[id(e.message)] = len(messages)
            messages.append({k: v for k, v in e.as_json().items() if k in ("message", "said")})
        rows.append([e.sheet, e.row, e.column, e.value, index[id(e.message)], e.sheet_written, e.column_written])
    return {"messages": messages, "errors": rows}


def errors_from_json(data: dict[str, Any]) -> list[BookError]:
    said = [BookError.from_json(m).message for m in data.get("messages", [])]
    # a row kept before the written names has five cells
    return [BookError(sheet, row, column, value, said[i], *written)
            for sheet, row, column, value, i, *written in data.get("errors", [])]


def header(column: Column, chinese: bool) -> str:
    return column.zh if chinese else column.name


def columns(sheet: str) -> list[str]:
    return [c.name for c in SHEETS[sheet]]


# ---------------------------------------------------------------- reading (everything as text)

@dataclass
class RawSheet:
    """A sheet's cells as stripped text ("" when blank); `rows` is each row's Excel row number."""

    name: str
    headers: list[str]          # as written in row 1
    frame: pd.DataFrame | None  # one column per header position (0..n-1), text
    rows: np.ndarray            # Excel row numbers of the frame's rows
    has_header: bool = True
    written: str = ""           # the sheet's name as the workbook writes it (投资 or investments)


def _float_text(value: float) -> str:
    """A number cell as text: the shortest that gives back the same double, or, where that
    runs past 15 significant digits below 1e12, what Excel shows (15 digits). A formula's
    100.1 * 3 is the double 300.29999999999995, which Excel shows as 300.3 and the user
    means; below 1e12 fifteen digits still hold every fen, so nothing typed is changed."""
    text = repr(value)
    if abs(value) < 1e12 and "e" not in text and len(text.lstrip("-").replace(".", "").lstrip("0")) > 15:
        shown = format(value, ".15g")
        if "e" not in shown:
            return shown
    return text


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if math.isnan(value):
            return ""
        if float(value).is_integer() and abs(float(value)) < 1e18:
            return str(int(value))
        return _float_text(float(value))
    if isinstance(value, (dt.datetime, pd.Timestamp)):
        return value.date().isoformat() if not pd.isna(value) else ""
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.isoformat()
    return str(value).strip()


def _column_text(column: pd.Series) -> pd.Series:
    """_cell_text of every cell; a column of text only (a CSV's) stripped in one pass."""
    if isinstance(column.dtype, pd.StringDtype) or \
            (column.dtype == object and pd.api.types.infer_dtype(column, skipna=True) in ("string", "empty")):
        return pd.Series([v.strip() if v.__class__ is str else "" for v in column.to_numpy(dtype=object)],
                         index=column.index, dtype=object)
    return column.map(_cell_text).astype(object)


def _raw_from_grid(name: str, grid: pd.DataFrame) -> RawSheet:
    """`grid`: the sheet with no header interpretation, row i = Excel row i+1."""
    if grid.shape[0] == 0 or grid.shape[1] == 0:
        return RawSheet(name, [], None, np.array([], dtype=int), has_header=False)
    text = pd.DataFrame({i: _column_text(grid[c]) for i, c in enumerate(grid.columns)})
    headers = list(text.iloc[0])
    while headers and headers[-1] == "":
        headers.pop()
    if not any(headers):
        return RawSheet(name, [], None, np.array([], dtype=int), has_header=False)
    body = text.iloc[1:, :len(headers)] if len(headers) <= text.shape[1] else text.iloc[1:]
    extra = text.iloc[1:, len(headers):]
    body = body.copy()
    body.columns = range(body.shape[1])
    rows = np.arange(2, 2 + len(body))
    # a value beyond the last header has no column: keep it so that it is reported
    if extra.shape[1] and (extra != "").any().any():
        for i in range(extra.shape[1]):
            if (extra.iloc[:, i] != "").any():
                headers.append("")
                body[len(headers) - 1] = extra.iloc[:, i].values
    keep = (body != "").any(axis=1).to_numpy()  # wholly blank rows are skipped
    return RawSheet(name, headers, body[keep].reset_index(drop=True), rows[keep])


def _sheet_name(name: str) -> str:
    """A sheet's English name, also from its Chinese name."""
    stripped = name.strip()
    return _SHEET_CODES.get(stripped, stripped)


_SHEET_CODES = {zh: english for english, zh in SHEET_ZH.items()}
_COLUMN_CODES = {sheet: {c.zh: c.name for c in columns} for sheet, columns in SHEETS.items()}  # by Chinese header
_COLUMN_ZH = {sheet: {c.name: c.zh for c in columns} for sheet, columns in SHEETS.items()}  # by code


def column_named(name: str, sheet: str, lang: str) -> str:
    """A column of the workbook by its header in `lang`: Chinese (金额), or the English name
    (Amount (CNY): vocabulary.english_field_name); a code the sheet does not hold, in Chinese,
    as it is. The one way a column is named in words: the change-set screen's 列, an import's
    doubts on the command line and in the history."""
    if lang.startswith("zh"):
        return _COLUMN_ZH.get(sheet, {}).get(name, name)
    return english_field_name(name)


# Limits an uploaded book must keep before it is parsed at all (filetypes.workbook_problem: a
# zip bomb or a book too large to import is refused in milliseconds, from the zip's directory)
MAX_UNCOMPRESSED_BYTES = 512 * 1024 * 1024   # all members together, as declared
MAX_ROWS_PER_SHEET = 500_000                  # the heavy benchmark book's largest sheet: ~100,000


# CSV injection (OWASP): a cell that begins with = + - @ tab or CR is a formula to a spreadsheet
# that opens the CSV. The export puts a single quote before such text (and before text that
# already begins with quotes and then one of those, so the escaping stays reversible); the
# import takes exactly one quote off again, so the names that went in come back.
_FORMULA_START = re.compile(r"^'*[=+\-@\t\r]")
_ESCAPED = r"^'(?='*[=+\-@\t\r])"


def csv_escape(text: str) -> str:
    return "'" + text if _FORMULA_START.match(text) else text


def csv_unescape(column: pd.Series) -> pd.Series:
    # one plain pass (pandas' str methods cost a call per cell); the regex only where it may apply
    quoted = np.fromiter((v.__class__ is str and v[:1] == "'" for v in column.to_numpy(dtype=object)),
                         dtype=bool, count=len(column))
    if not quoted.any():
        return column
    out = column.copy()
    out[quoted] = column[quoted].str.replace(_ESCAPED, "", n=1, regex=True)
    return out


def _csv_sheets(folder: Path, errors: list[BookError]) -> list[tuple[str, pd.DataFrame]]:
    """(file stem, grid) of each CSV file of a folder that could be read; the others in `errors`."""
    sheets = []
    for path in sorted(folder.glob("*.csv")):
        try:
            data = path.read_bytes()
            grid = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, header=None,
                               skip_blank_lines=False, encoding="utf-8-sig")
            if b"'" in data:  # no quote in the file: no cell to unescape (a pass over every cell saved)
                grid = grid.apply(csv_unescape)
        except pd.errors.EmptyDataError:
            grid = pd.DataFrame()
        except UnicodeDecodeError:
            errors.append(BookError(path.stem, None, "", path.name, Message("book_not_utf8")))
            continue
        except (pd.errors.ParserError, ValueError) as exc:
            errors.append(BookError(path.stem, None, "", path.name, Message("book_csv_unreadable", detail=str(exc))))
            continue
        sheets.append((path.stem, grid))
    if not sheets and not errors:
        errors.append(BookError(BOOK_LEVEL, None, "", str(folder), Message("book_no_csv")))
    return sheets


def read_raw(source: str | Path | IO[bytes], *, filename: str | None = None
             ) -> tuple[dict[str, RawSheet], list[BookError]]:
    """The sheets of a book as text, or the errors that keep it from being read at all."""
    errors: list[BookError] = []
    if isinstance(source, (str, Path)) and Path(source).is_dir():
        found = _csv_sheets(Path(source), errors)
    else:
        if isinstance(source, (str, Path)):
            path = Path(source)
            if not path.exists():
                return {}, [BookError(BOOK_LEVEL, None, "", str(source), Message("book_no_file"))]
            data = path.read_bytes()
            filename = filename or path.name
        else:
            data = source.read()
        if not data.startswith(ZIP_MAGIC):
            return {}, [BookError(BOOK_LEVEL, None, "", filename or "", Message("book_not_xlsx"))]
        refused = workbook_problem(data, max_bytes=MAX_UNCOMPRESSED_BYTES, max_rows=MAX_ROWS_PER_SHEET)
        if refused:
            return {}, [BookError(BOOK_LEVEL, None, "", filename or "", refused)]
        try:
            # keep_default_na=False: a name or note that reads "NA", "N/A", "null", "None" or
            # "#N/A" is text, kept as written (pandas would make it a blank)
            sheets = pd.read_excel(io.BytesIO(data), engine="calamine", sheet_name=None, header=None,
                                   dtype=object, keep_default_na=False, na_values=[])
        except Exception:  # a zip that is not a workbook: calamine's errors are of many kinds
            return {}, [BookError(BOOK_LEVEL, None, "", filename or "", Message("book_not_xlsx"))]
        found = [(str(name), grid) for name, grid in sheets.items()]
    grids: dict[str, pd.DataFrame] = {}
    names: dict[str, str] = {}
    for name, grid in found:
        english = _sheet_name(name)
        if english in grids:  # 基金 beside funds (sheets or CSV files): neither is dropped unseen
            errors.append(BookError(name, None, "", name, Message("sheet_duplicated")))
            continue
        grids[english], names[english] = grid, name
    raws: dict[str, RawSheet] = {}
    for english, grid in grids.items():
        if english == META_SHEET:
            continue  # the export's version stamp (read_version), not book data
        raw = _raw_from_grid(english, grid)
        raw.written = names[english]
        if english not in SHEETS:
            if raw.has_header or (raw.frame is not None and len(raw.frame)):
                errors.append(BookError(names[english], None, "", names[english],
                                        Message("sheet_unknown", sheets=", ".join(SHEETS))))
            continue  # an empty extra sheet (Excel's "Sheet1") is harmless
        raws[english] = raw
    return raws, errors


# ---------------------------------------------------------------- checking cells

_DECIMAL_RE = r"\d+(?:\.\d+)?"


def _strip_zeros(s: pd.Series) -> pd.Series:
    """'1234.500' → '1234.5', '12.00' → '12' (a decimal's trailing zeros are not places)."""
    has_point = s.str.contains(".", regex=False)
    stripped = s.str.replace(r"0+$", "", regex=True).str.replace(r"\.$", "", regex=True)
    return s.where(~has_point, stripped)


class _Checker:
    def __init__(self, sheet: str, errors: list[BookError]):
        self.sheet = sheet
        self.errors = errors

    def flag(self, mask: pd.Series | np.ndarray, rows: np.ndarray, column: str, values: pd.Series,
             message: str | list[str]) -> None:
        """An error at each cell of `mask`, in row order: `message`, or one of a list for each."""
        mask = np.asarray(mask, dtype=bool)
        if not mask.any():
            return
        said = message if isinstance(message, list) else repeat(message)
        for row, value, words in zip(rows[mask], values.to_numpy()[mask], said):
            self.errors.append(BookError(self.sheet, int(row), column, "" if value is None else str(value),
                                         words))


# One parser per column kind: each checks a column's text (flagging every bad cell with
# its message) and gives it back typed, a missing or refused cell as None/NA/NaT.
# `present` marks the cells that are not blank.

def _parse_text(col: Column, s: pd.Series, present: pd.Series, rows: np.ndarray, check: _Checker) -> pd.Series:
    bad = present & record_rules.control_characters_mask(s)
    check.flag(bad, rows, col.name, s, record_rules.CONTROL_MESSAGE)
    if col.max_len is not None:
        long = present & ~bad & (s.str.len() > col.max_len).fillna(False).astype(bool)
        check.flag(long, rows, col.name, s, Message("too_long", max_len=col.max_len))
        bad = bad | long
    return s.astype(object).where(present & ~bad, None)


def _parse_vocab(col: Column, s: pd.Series, present: pd.Series, rows: np.ndarray, check: _Checker) -> pd.Series:
    """A coded column (type, sector, mode, kind, instrument, stage, method, currency): its code,
    or the code's Chinese name, the cell's spaces around it left out (as every cell's). Codes
    are case-sensitive (interchange.md): `Distribution` is refused, the message saying which
    code it resembles (`distribution`) and every value the column takes."""
    mapping = {zh: code for code, zh in LABELS.get(col.label_vocab, {}).items()}
    s = s.map(lambda v: mapping.get(v, v)) if mapping else s
    bad = present & ~s.isin(col.vocab)
    choices = (col.label_vocab, list(col.vocab))
    if bad.any():  # only the refused cells are looked at again, each told what it resembles
        folded = {code.casefold(): code for code in col.vocab}
        unknown = Message("unknown_choice", choices=choices)
        said = {code: Message("unknown_choice_case", code=code, choices=choices) for code in col.vocab}
        resembles = s[bad].astype(str).str.casefold().map(folded).to_numpy(dtype=object)
        check.flag(bad, rows, col.name, s, [said.get(code, unknown) if isinstance(code, str) else unknown
                                            for code in resembles])
    return s.astype(object).where(present & ~bad, None)


def _parse_region(col: Column, s: pd.Series, present: pd.Series, rows: np.ndarray, check: _Checker) -> pd.Series:
    bad = present & ~record_rules.region_code_mask(s)
    check.flag(bad, rows, col.name, s, record_rules.REGION_CODE_MESSAGE)
    return s.astype(object).where(present & ~bad, None)


_PLAIN_MONEY = rf"(?:0|[1-9][0-9]{{0,{_MAX_FEN_DIGITS - 1}}})(?:\.[0-9]{{1,2}})?"  # 1234 or 1234.5 or 1234.56


def _parse_money(col: Column, s: pd.Series, present: pd.Series, rows: np.ndarray, check: _Checker) -> pd.Series:
    """Amounts as integer fen. The plain ones (ASCII digits, at most two places: nearly every
    cell of a real book) in one pass; the rest through every check."""
    plain = s.str.fullmatch(_PLAIN_MONEY).fillna(False).to_numpy(dtype=bool)
    if plain.all():
        return pd.Series(_plain_fen(s.to_numpy(dtype=object)), index=s.index, dtype="Int64")
    if not plain.any():
        return _parse_money_checked(col, s, present, rows, check)
    rest = ~plain
    fen = _parse_money_checked(col, s[rest], present[rest], rows[rest], check).reindex(s.index)
    fen[plain] = _plain_fen(s.to_numpy(dtype=object)[plain])
    return fen


def _plain_fen(values: np.ndarray) -> list[int]:
    out = []
    for v in values:
        whole, _point, frac = v.partition(".")
        out.append(int(whole) * 100 + (int(frac.ljust(2, "0")) if frac else 0))
    return out


def _parse_money_checked(col: Column, s: pd.Series, present: pd.Series, rows: np.ndarray, check: _Checker
                         ) -> pd.Series:
    t = s.str.replace(r"\s", "", regex=True)
    # 150,000,000.00: what Excel's Save as CSV writes for a cell shown with thousands separators;
    # only whole groups of three (1,5 stays a refusal)
    grouped = t.str.fullmatch(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?").fillna(False).astype(bool)
    t = _strip_zeros(t.where(~grouped, t.str.replace(",", "", regex=False)))
    number = t.str.fullmatch(r"[+-]?" + _DECIMAL_RE)
    negative = present & number & t.str.startswith("-") & (t.str.strip("-0.") != "")
    check.flag(present & ~number, rows, col.name, s, Message("money_not_number"))
    check.flag(negative, rows, col.name, s, Message("money_negative"))
    t = t.str.lstrip("+-")
    parts = t.str.split(".", n=1, expand=True) if len(t) else pd.DataFrame({0: t, 1: t})
    if parts.shape[1] == 1:
        parts[1] = None
    whole, frac = parts[0].fillna(""), parts[1].fillna("")
    too_fine = present & number & ~negative & (frac.str.len() > 2)
    check.flag(too_fine, rows, col.name, s, Message("money_two_places"))
    too_big = present & number & (whole.str.lstrip("0").str.len() > _MAX_FEN_DIGITS)
    check.flag(too_big, rows, col.name, s, Message("money_too_large"))
    good = present & number & ~negative & ~too_fine & ~too_big
    fen = pd.Series(pd.NA, index=s.index, dtype="Int64")
    if good.any():
        w = whole[good].replace("", "0").astype("int64")
        f = frac[good].str.ljust(2, "0").replace("", "00").astype("int64")
        fen[good] = (w * 100 + f).astype("Int64")
    return fen


def _parse_date(col: Column, s: pd.Series, present: pd.Series, rows: np.ndarray, check: _Checker) -> pd.Series:
    form = s.str.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}")
    check.flag(present & ~form, rows, col.name, s, Message("date_format"))
    parsed = pd.to_datetime(s.where(present & form, None), format="%Y-%m-%d", errors="coerce")
    check.flag(present & form & parsed.isna(), rows, col.name, s, Message("date_unknown_day"))
    outside = parsed.notna() & ((parsed < pd.Timestamp(DATE_MIN)) | (parsed > pd.Timestamp(DATE_MAX)))
    check.flag(outside, rows, col.name, s, Message("date_range", min_day=DATE_MIN, max_day=DATE_MAX))
    parsed = parsed.where(~outside)
    return parsed.astype("datetime64[ns]")


def _parse_integer(col: Column, s: pd.Series, present: pd.Series, rows: np.ndarray, check: _Checker) -> pd.Series:
    """kind int (a count, not negative) or year (1900..2200)."""
    t = _strip_zeros(s) if col.kind == "int" else s
    number = t.str.fullmatch(r"-?\d{1,12}")
    check.flag(present & ~number, rows, col.name, s, Message("integer"))
    values = pd.Series(pd.NA, index=s.index, dtype="Int64")
    ok = present & number
    if ok.any():
        values[ok] = t[ok].astype("int64").astype("Int64")
    if col.kind == "year":
        bad = ok & ((values < 1900) | (values > 2200)).fillna(False)
        check.flag(bad, rows, col.name, s, Message("year_implausible"))
    else:
        negative = ok & (values < 0).fillna(False)
        check.flag(negative, rows, col.name, s, Message("cannot_be_negative"))
        too_large = ok & (values > record_rules.MAX_COUNT).fillna(False)
        check.flag(too_large, rows, col.name, s, record_rules.COUNT_TOO_LARGE)
        bad = negative | too_large
    return values.where(~bad, pd.NA)


def _parse_pct(col: Column, s: pd.Series, present: pd.Series, rows: np.ndarray, check: _Checker) -> pd.Series:
    t = _strip_zeros(s.str.rstrip("%").str.strip())
    number = t.str.fullmatch(r"[+-]?" + _DECIMAL_RE)
    check.flag(present & ~number, rows, col.name, s, Message("pct_not_number"))
    values = pd.Series([Decimal(v) if ok else None for v, ok in zip(t, present & number)],
                       index=s.index, dtype=object)
    out_of_range = pd.Series([not record_rules.ownership_ok(v) for v in values], index=s.index)
    check.flag(out_of_range, rows, col.name, s, record_rules.OWNERSHIP_MESSAGE)
    too_fine = pd.Series([v is not None and v != v.quantize(Decimal(1).scaleb(-record_rules.PCT_PLACES))
                          for v in values], index=s.index)
    check.flag(too_fine & ~out_of_range, rows, col.name, s, Message("pct_places", places=record_rules.PCT_PLACES))
    return values.where(~(out_of_range | too_fine), None)


_PARSERS = {"code": _parse_text, "text": _parse_text, "vocab": _parse_vocab, "region": _parse_region,
            "money": _parse_money, "date": _parse_date, "int": _parse_integer, "year": _parse_integer,
            "pct": _parse_pct}


def _parse_column(col: Column, s: pd.Series, rows: np.ndarray, check: _Checker) -> pd.Series:
    """Check one column's text and give it back typed (missing → None/NA/NaT)."""
    present = s != ""
    if col.required:
        check.flag(~present, rows, col.name, s, Message("cell_required"))
    parser = _PARSERS.get(col.kind)
    if parser is None:
        raise ValueError(col.kind)
    return parser(col, s, present, rows, check)


def _sheet_frame(name: str, raw: RawSheet, errors: list[BookError]) -> pd.DataFrame | None:
    """One sheet checked cell by cell: a typed frame with every column of the sheet, plus `_row`."""
    spec = SHEETS[name]
    if not raw.has_header:
        errors.append(BookError(name, 1, "", "", Message("no_header_row")))
        return None
    by_header = {}
    for c in spec:
        by_header[c.name] = c
        by_header[c.zh] = c
    positions: dict[str, int] = {}
    header_errors = False
    sheet_written = raw.written or name
    for i, h in enumerate(raw.headers):
        col = by_header.get(h)
        if col is None:
            errors.append(BookError(name, 1, h, h, Message("column_unknown" if h else "column_unnamed"),
                                    sheet_written, h))
            header_errors = True
        elif col.name in positions:
            errors.append(BookError(name, 1, h, h, Message("column_duplicated", column=h), sheet_written, h))
            header_errors = True
        else:
            positions[col.name] = i
    chinese = _chinese_headers(name, raw.headers)
    for c in spec:
        if c.required and c.name not in positions:
            # named as the sheet's other headers are written: 基金代码 among Chinese headers (in
            # either language), else fund_code (and its Chinese header beside it, in Chinese)
            named = (c.zh, c.zh) if chinese else (c.name, c.zh)
            errors.append(BookError(name, 1, c.name, "", Message("column_missing", column_named=named),
                                    sheet_written, named[0]))
            header_errors = True
    frame = raw.frame
    assert frame is not None  # a sheet without a frame was refused when read
    n = len(frame)
    check = _Checker(name, errors)
    out = {}
    for c in spec:
        if c.name in positions:
            text = frame[positions[c.name]].astype(str).reset_index(drop=True)
        else:
            text = pd.Series([""] * n, dtype=object)
            if c.required:  # already reported once for the whole column
                out[c.name] = _parse_column(Column(c.name, c.zh, False, c.kind, c.vocab, c.label_vocab),
                                            text, raw.rows, check)
                continue
        out[c.name] = _parse_column(c, text, raw.rows, check)
    typed = pd.DataFrame(out)
    typed["_row"] = raw.rows
    if header_errors:
        typed.attrs["header_errors"] = True
    return typed


def empty_frame(name: str) -> pd.DataFrame:
    return _sheet_frame(name, RawSheet(name, columns(name), pd.DataFrame(columns=range(len(SHEETS[name]))),
                                       np.array([], dtype=int)), [])


# ---------------------------------------------------------------- checking the book as a whole

@dataclass
class Known:
    """What the database already holds, for references (a book may build on an earlier one)."""

    funds: set[str] = field(default_factory=set)
    sub_funds: set[str] = field(default_factory=set)
    companies: dict[str, str] = field(default_factory=dict)  # code → credit_code
    # id, fund_code, mode, target_code, date (datetime64)
    investments: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        {"id": pd.Series(dtype=object), "fund_code": pd.Series(dtype=object), "mode": pd.Series(dtype=object),
         "target_code": pd.Series(dtype=object), "date": pd.Series(dtype="datetime64[ns]")}))


def _flag_rows(errors, sheet, frame, mask, column, message, values=None):
    mask = np.asarray(mask, dtype=bool)
    if not mask.any():
        return
    vals = (values if values is not None else frame[column]).to_numpy()[mask]
    for row, value in zip(frame["_row"].to_numpy()[mask], vals):
        errors.append(BookError(sheet, int(row), column, _shown_value(value), message))


def _shown_value(value: Any) -> str:
    """A typed cell back as the reader wrote it: a date as YYYY-MM-DD (a date column's values
    are numpy datetimes, whose text is 2020-01-01T00:00:00.000000000), a blank as ''."""
    if value is None or value is pd.NA or (isinstance(value, (np.datetime64, pd.Timestamp)) and pd.isna(value)):
        return ""
    if isinstance(value, (np.datetime64, pd.Timestamp)):
        return pd.Timestamp(value).date().isoformat()
    return str(value)


def _flag_parent_cycles(errors, funds: pd.DataFrame) -> None:
    """A chain of parent_code that comes back to where it started (A → B → A) would make
    the roll-up meaningless: one error per cycle, on its first row in the sheet."""
    parent_of = {code: parent for code, parent in zip(funds["code"], funds["parent_code"])
                 if isinstance(code, str) and isinstance(parent, str) and parent != code}
    reported: set[str] = set()
    for row, code in zip(funds["_row"], funds["code"]):
        if code not in parent_of or code in reported:
            continue
        chain = [code]
        while chain[-1] in parent_of and parent_of[chain[-1]] not in chain:
            chain.append(parent_of[chain[-1]])
        if parent_of.get(chain[-1]) == code:  # back to the start: a cycle through this fund
            reported.update(chain)
            errors.append(BookError("funds", int(row), "parent_code", str(parent_of[code]),
                                    Message("parent_cycle", chain=" → ".join(chain + [code]))))


def _duplicates(errors, sheet, frame, keys: list[str], message: str, where=None):
    """`message`: the key of the sentence (its argument `first`: the row repeated)."""
    sub = frame if where is None else frame[where]
    complete = sub[keys].notna().all(axis=1)
    sub = sub[complete]
    dup = sub.duplicated(keys, keep="first")
    if dup.any():
        shown = sub[keys].astype(str).agg(" / ".join, axis=1)
        first_row = sub.groupby(keys, dropna=False)["_row"].transform("first")
        for row, value, first in zip(sub["_row"][dup], shown[dup], first_row[dup]):
            errors.append(BookError(sheet, int(row), keys[-1], value, Message(message, first=int(first))))


@dataclass(frozen=True)
class _Codes:
    """The codes a reference may name: the book's own, and those already in the database."""

    funds: set
    sub_funds: set
    companies: set


def _typed_frames(raws: dict[str, RawSheet], errors: list[BookError], progress: Progress | None = None
                  ) -> dict[str, pd.DataFrame]:
    """Every sheet checked cell by cell and typed; a missing sheet is empty (and, when
    required, an error). `progress(done, total, "sheets_checked")` after each sheet."""
    chinese = _chinese_tabs(raws)
    for name in REQUIRED_SHEETS:
        if name not in raws:
            # named as the workbook's other tabs are: 被投企业 among Chinese names, else companies
            named = (SHEET_ZH[name], SHEET_ZH[name]) if chinese else (name, SHEET_ZH[name])
            errors.append(BookError(name, None, "", "", Message("sheet_missing", sheet_named=named), named[0]))
    frames: dict[str, pd.DataFrame] = {}
    for i, name in enumerate(SHEETS):
        frame = _sheet_frame(name, raws[name], errors) if name in raws else None
        frames[name] = frame if frame is not None else empty_frame(name)
        if progress is not None:
            progress(i + 1, len(SHEETS), "sheets_checked")
    return frames


def _check_unique_keys(errors: list[BookError], frames: dict[str, pd.DataFrame]) -> None:
    """Keys unique within the book."""
    flows = frames["cash_flows"]
    _duplicates(errors, "funds", frames["funds"], ["code"], "dup_fund_code")
    _duplicates(errors, "sub_funds", frames["sub_funds"], ["code"], "dup_sub_fund_code")
    _duplicates(errors, "companies", frames["companies"], ["code"], "dup_company_code")
    _duplicates(errors, "companies", frames["companies"], ["credit_code"], "dup_credit_code")
    _duplicates(errors, "investments", frames["investments"], ["id"], "dup_investment_id")
    _duplicates(errors, "valuations", frames["valuations"], ["investment_id", "as_of"], "dup_valuation")
    _duplicates(errors, "sub_fund_holdings", frames["sub_fund_holdings"], ["sub_fund_code", "as_of", "company_code"],
                "dup_holding")
    _duplicates(errors, "cash_flows", flows, ["investment_id", "ref"], "dup_ref", where=flows["ref"].notna())


def _check_credit_codes(errors: list[BookError], co: pd.DataFrame, known: Known) -> None:
    """Companies: the credit code's check digit; a credit code already used by another company."""
    cc = co["credit_code"]
    bad_cc = cc.notna() & ~cc.map(lambda v: v is None or record_rules.credit_code_ok(v))
    _flag_rows(errors, "companies", co, bad_cc, "credit_code", record_rules.CREDIT_CODE_INVALID)
    if known.companies:
        owner = {v: k for k, v in known.companies.items()}
        taken = co["credit_code"].map(owner)
        clash = taken.notna() & (taken != co["code"]) & ~bad_cc
        _flag_rows(errors, "companies", co, clash, "credit_code", record_rules.CREDIT_CODE_TAKEN)


def _check_fund_parents(errors: list[BookError], f: pd.DataFrame, codes: _Codes) -> None:
    parent = f["parent_code"]
    _flag_rows(errors, "funds", f, parent.notna() & ~parent.isin(codes.funds), "parent_code", Message("parent_unknown"))
    _flag_rows(errors, "funds", f, parent.notna() & (parent == f["code"]), "parent_code", Message("parent_self"))
    _flag_parent_cycles(errors, f)


def _check_investment_references(errors: list[BookError], inv: pd.DataFrame, known: Known, codes: _Codes) -> None:
    """Investments: the fund, a target of the right kind, the sub-fund co-invested alongside."""
    _flag_rows(errors, "investments", inv, inv["fund_code"].notna() & ~inv["fund_code"].isin(codes.funds),
               "fund_code", Message("fund_code_unknown"))
    target, mode = inv["target_code"], inv["mode"]
    is_sf = mode == "sub_fund"
    has_mode = mode.notna() & target.notna()
    sf_bad = has_mode & is_sf & ~target.isin(codes.sub_funds)
    _flag_rows(errors, "investments", inv, sf_bad & target.isin(codes.companies), "target_code",
               Message("target_is_company"))
    _flag_rows(errors, "investments", inv, sf_bad & ~target.isin(codes.companies), "target_code",
               Message("sub_fund_code_unknown"))
    co_bad = has_mode & ~is_sf & ~target.isin(codes.companies)
    _flag_rows(errors, "investments", inv, co_bad & target.isin(codes.sub_funds), "target_code",
               Message("target_is_sub_fund"))
    _flag_rows(errors, "investments", inv, co_bad & ~target.isin(codes.sub_funds), "target_code", Message("company_code_unknown"))
    along = inv["alongside_code"]
    is_co = mode == "co_invest"
    _flag_rows(errors, "investments", inv, is_co & along.isna(), "alongside_code",
               record_rules.COINVEST_NEEDS_ALONGSIDE)
    _flag_rows(errors, "investments", inv, mode.notna() & ~is_co & along.notna(), "alongside_code",
               record_rules.ALONGSIDE_ONLY_FOR_COINVEST)
    unknown_along = is_co & along.notna() & ~along.isin(codes.sub_funds)
    _flag_rows(errors, "investments", inv, unknown_along, "alongside_code", Message("sub_fund_code_unknown"))
    # the same fund must commit to the sub-fund alongside (in the book or already in the database)
    book_ids = set(inv["id"].dropna())
    held = pd.concat([inv.loc[is_sf, ["fund_code", "target_code"]],
                      known.investments.loc[(known.investments["mode"] == "sub_fund")
                                            & ~known.investments["id"].isin(book_ids),
                                            ["fund_code", "target_code"]]])
    held_pairs = set(zip(held["fund_code"], held["target_code"]))
    not_held = is_co & along.notna() & ~unknown_along & pd.Series(
        [not record_rules.coinvest_alongside_held(fc, a, held_pairs) for fc, a in zip(inv["fund_code"], along)],
        index=inv.index, dtype=bool)
    _flag_rows(errors, "investments", inv, not_held, "alongside_code", record_rules.COINVEST_NOT_HELD)


def _check_flows_and_valuations(errors: list[BookError], frames: dict[str, pd.DataFrame], known: Known) -> None:
    """Cash flows and valuations name a known investment; a cash flow is not dated before
    its investment and is not zero; a fund or sub-fund has a size."""
    inv, flows, vals = frames["investments"], frames["cash_flows"], frames["valuations"]
    # every investment's date, from the book first, else from the database
    book_ids = set(inv["id"].dropna())
    dates = pd.concat([inv[["id", "date"]].dropna(subset=["id"]).drop_duplicates("id"),
                       known.investments.loc[~known.investments["id"].isin(book_ids), ["id", "date"]]])
    inv_date = dict(zip(dates["id"], dates["date"]))
    all_ids = set(inv_date)

    for sheet, frame in (("cash_flows", flows), ("valuations", vals)):
        ids = frame["investment_id"]
        _flag_rows(errors, sheet, frame, ids.notna() & ~ids.isin(all_ids), "investment_id", Message("investment_id_unknown"))
    start = flows["investment_id"].map(inv_date).astype("datetime64[ns]")
    early = flows["date"].notna() & start.notna() & (flows["date"] < start)
    _flag_rows(errors, "cash_flows", flows, early, "date", Message("flow_before_investment"))
    _flag_rows(errors, "cash_flows", flows, flows["amount_cny"].notna() & (flows["amount_cny"] == 0).fillna(False),
               "amount_cny", Message("flow_amount_zero"))
    for sheet, frame in (("funds", frames["funds"]), ("sub_funds", frames["sub_funds"])):
        _flag_rows(errors, sheet, frame, (frame["size_cny"] == 0).fillna(False), "size_cny", Message("size_zero"))


def _check_holdings(errors: list[BookError], hold: pd.DataFrame, codes: _Codes) -> None:
    hc, hs = hold["company_code"], hold["sub_fund_code"]
    _flag_rows(errors, "sub_fund_holdings", hold, hs.notna() & ~hs.isin(codes.sub_funds), "sub_fund_code",
               Message("sub_fund_code_unknown"))
    _flag_rows(errors, "sub_fund_holdings", hold, hc.notna() & ~hc.isin(codes.companies), "company_code",
               Message("company_code_unknown"))


def check_book(raws: dict[str, RawSheet], known: Known | None = None, progress: Progress | None = None
               ) -> tuple[dict[str, pd.DataFrame], list[BookError]]:
    """Every sheet typed and every error of the book (cells, keys, references), in steps;
    the errors are listed sheet by sheet, row by row."""
    known = known or Known()
    errors: list[BookError] = []
    frames = _typed_frames(raws, errors, progress)
    _check_unique_keys(errors, frames)
    _check_credit_codes(errors, frames["companies"], known)
    codes = _Codes(funds=set(frames["funds"]["code"].dropna()) | known.funds,
                   sub_funds=set(frames["sub_funds"]["code"].dropna()) | known.sub_funds,
                   companies=set(frames["companies"]["code"].dropna()) | set(known.companies))
    _check_fund_parents(errors, frames["funds"], codes)
    _check_investment_references(errors, frames["investments"], known, codes)
    _check_flows_and_valuations(errors, frames, known)
    _check_holdings(errors, frames["sub_fund_holdings"], codes)
    errors.sort(key=lambda e: (list(SHEETS).index(e.sheet) if e.sheet in SHEETS else -1, e.row or 0))
    return frames, errors


def _chinese_tabs(raws: dict[str, RawSheet]) -> bool:
    """Whether the workbook names its sheets in Chinese (投资 rather than investments)."""
    return any(raw.written and raw.written.strip() == SHEET_ZH.get(name) for name, raw in raws.items())


def _chinese_headers(sheet: str, headers: list[str]) -> bool:
    """Whether a sheet's header row is written in Chinese (基金代码 rather than fund_code)."""
    zh = {c.zh for c in SHEETS[sheet]} - {c.name for c in SHEETS[sheet]}
    return any(h in zh for h in headers)


def as_written(errors: list[BookError], raws: dict[str, RawSheet]) -> list[BookError]:
    """Each error with its sheet and column as the person's workbook writes them: the tab's
    name, and the header of the column (the first written, where a column is written twice);
    an error that already has them, or names no sheet of the book, keeps its own."""
    from dataclasses import replace

    chinese_tabs = _chinese_tabs(raws)
    headers: dict[str, dict[str, str]] = {}
    for name, raw in raws.items():
        by_header = {}
        for c in SHEETS[name]:
            by_header[c.zh] = by_header[c.name] = c.name
        written: dict[str, str] = {}
        for h in raw.headers:
            if h in by_header:
                written.setdefault(by_header[h], h)
        chinese = _chinese_headers(name, raw.headers)
        for c in SHEETS[name]:  # a column the sheet lacks: in the style of its other headers
            written.setdefault(c.name, c.zh if chinese else c.name)
        headers[name] = written
    out = []
    for e in errors:
        if e.sheet not in SHEETS or (e.sheet_written and (e.column_written or not e.column)):
            out.append(e if e.sheet_written or not e.sheet else replace(e, sheet_written=e.sheet))
            continue
        tab = raws[e.sheet].written if e.sheet in raws else ""
        sheet = e.sheet_written or tab or (SHEET_ZH[e.sheet] if chinese_tabs else e.sheet)
        column = e.column_written
        if e.column and not column:
            column = headers.get(e.sheet, {}).get(e.column) or (
                _COLUMN_ZH[e.sheet].get(e.column, e.column) if chinese_tabs else e.column)
        out.append(replace(e, sheet_written=sheet, column_written=column))
    return out


def read_book(source, *, filename: str | None = None, known: Known | None = None,
              progress: Progress | None = None) -> tuple[dict[str, pd.DataFrame], list[BookError]]:
    """Read and check a book: its typed sheets and every error found (empty when it is good).
    `progress(done, total, unit)` is told the rows read ("rows_read"), then each sheet
    checked ("sheets_checked"): a job's progress bar."""
    raws, errors = read_raw(source, filename=filename)
    if progress is not None:
        rows = sum(len(raw.frame) for raw in raws.values() if raw.frame is not None)
        progress(rows, rows, "rows_read")
    if errors and not raws:
        return {name: empty_frame(name) for name in SHEETS}, as_written(errors, raws)
    frames, more = check_book(raws, known, progress)
    return frames, as_written(errors + more, raws)


def read_version(source: str | Path | bytes) -> int | None:
    """The book version an exported book was taken at (its `_meta` sheet), or None."""
    rows: list[list[Any]] = []
    try:
        if isinstance(source, (str, Path)) and Path(source).is_dir():
            path = Path(source) / f"{META_SHEET}.csv"
            if not path.exists():
                return None
            rows = [line.split(",") for line in path.read_text(encoding="utf-8-sig").splitlines()]
        else:
            from openpyxl import load_workbook

            data = Path(source).read_bytes() if isinstance(source, (str, Path)) else source
            workbook = load_workbook(io.BytesIO(data), read_only=True)
            if META_SHEET not in workbook.sheetnames:
                return None
            rows = [list(r) for r in workbook[META_SHEET].iter_rows(max_row=50, max_col=2, values_only=True)]
    except Exception:  # an unreadable stamp is no stamp: the book itself is checked elsewhere
        return None
    for row in rows:
        if len(row) >= 2 and str(row[0]).strip() == "book_version":
            try:
                return int(str(row[1]).strip())
            except ValueError:
                return None
    return None
