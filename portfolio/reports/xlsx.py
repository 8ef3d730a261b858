"""The quarterly report as an Excel workbook (XlsxWriter): one sheet per section.

Numbers are stored as numbers with number formats (never as text): amounts in 万元 as on
every screen ('#,##0.00', unit in the header; the exact Decimal yuan / 10,000, written as
the double Excel holds, to 16 significant digits: exact to the fen below 10^12 万元), multiples
'0.00"x"', rates and shares as percentages, dates as dates; each kind's format comes from
portfolio.formatting (XLSX_FORMATS), the one set of formatters. The workbook only writes
the report object's figures.

In the reader's language (`lang`, "zh" or "en"): sheet names, headers, labels and the
book's codes from the screens' own words (portfolio.reports.words, portfolio.vocabulary,
portfolio.messages); the fund's English name where the book has one. The formats are the
same in both.
"""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import Any, NamedTuple

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name
from xlsxwriter.worksheet import CellBlankTuple, CellDatetimeTuple, CellNumberTuple, CellStringTuple, Worksheet

from portfolio.formatting import FIGURE_KINDS, RULE_KINDS, XLSX_FORMATS, xlsx_value
from portfolio.messages import shown
from portfolio.reports.words import irr_text, is_zh, word
from portfolio.vocabulary import label

AMOUNT = XLSX_FORMATS["amount"]
MULTIPLE = XLSX_FORMATS["multiple"]
PERCENT = XLSX_FORMATS["percent"]
DATE = XLSX_FORMATS["date"]
COUNT = XLSX_FORMATS["count"]
# a shareholding as typed, to the two decimals the screens and the PDF show it
# (formatting.ownership: 2.385 → 2.39%), not the one of a computed share
OWNERSHIP = "0.00%"
NO_MULTIPLE = "—"
TEXT = None

HEAD_STYLE: dict[str, Any] = {"bold": True, "bg_color": "#EEF2F7", "pattern": 1, "text_wrap": True}
TITLE_STYLE: dict[str, Any] = {"bold": True, "font_size": 12, "font_color": "#B3261E"}
# Excel's default font, named so that every cell's font is the same as before (openpyxl's
# default, Calibri 11) and the workbook opens the same in WPS and Excel.
BASE_STYLE = {"font_name": "Calibri", "font_size": 11}

METRIC_COLUMNS = [("认缴（万元）", "commitment", AMOUNT), ("实缴（万元）", "paid_in", AMOUNT),
                  ("未实缴（万元）", "unfunded", AMOUNT), ("已分配（万元）", "distributed", AMOUNT),
                  ("剩余价值（万元）", "nav", AMOUNT), ("TVPI", "tvpi", MULTIPLE), ("DPI", "dpi", MULTIPLE),
                  ("RVPI", "rvpi", MULTIPLE), ("IRR", "irr", PERCENT)]
SUMMARY_NAMES = {"commitment": "认缴（万元）", "paid_in": "实缴（万元）", "unfunded": "未实缴（万元）",
                 "distributed": "已分配（万元）", "nav": "剩余价值（万元）", "tvpi": "TVPI", "dpi": "DPI",
                 "rvpi": "RVPI", "irr": "IRR"}
SUMMARY_FORMATS = {"commitment": AMOUNT, "paid_in": AMOUNT, "unfunded": AMOUNT, "distributed": AMOUNT,
                   "nav": AMOUNT, "tvpi": MULTIPLE, "dpi": MULTIPLE, "rvpi": MULTIPLE, "irr": PERCENT}
PERIODS = {"quarter": "本季度", "ytd": "本年累计", "inception": "成立以来"}


class Formatted(NamedTuple):
    """A cell whose number format is its own, not its column's (a figure of any kind in a
    'value' column)."""
    value: Any
    fmt: str | None


def _fund_name(r: dict, lang: str) -> str:
    """The fund's name in `lang`: its English name where the book has one, as on the screens."""
    return str((None if is_zh(lang) else r.get("fund_name_en")) or r.get("fund_name") or r.get("fund") or "")


def _words(lang: str):
    """`w(text, **args)`: a Chinese text of the workbook in `lang`."""
    def w(text: str, **args) -> str:
        return word(text, lang, **args)
    return w


def _number(value):
    """Keep numbers numeric: Decimal and int as they are, numpy scalars as float/int."""
    if value is None or isinstance(value, (Decimal, int, float, str)):
        return value
    if hasattr(value, "item"):  # numpy scalar
        return value.item()
    return value


# The fast path below fills XlsxWriter's cell table and writes its rows' XML itself, as
# XlsxWriter FAST_FOR does (tests/test_xlsx_fast.py: the file byte for byte the same as
# XlsxWriter's own path). Another version of XlsxWriter takes its own path, unchanged.
FAST_FOR = "3.3.1"
_EXCEL_EPOCH = dt.date(1899, 12, 31).toordinal()
_STRMAX = 16383  # a longer string is checked against Excel's limit by XlsxWriter's own path
_INF = (float("inf"), float("-inf"))


def fast_path() -> bool:
    """Whether the installed XlsxWriter is the one the fast path was written against."""
    return getattr(xlsxwriter, "__version__", None) == FAST_FOR


def _excel_date(day: dt.date) -> float:
    """A date (not a datetime) as Excel's serial number, as XlsxWriter's write_datetime
    makes it (1900 epoch, Excel's phantom 29 February 1900 counted)."""
    serial = float(day.toordinal() - _EXCEL_EPOCH)
    return serial + 1 if serial > 59 else serial


class _RowWorksheet(Worksheet):
    """XlsxWriter's worksheet writing each row's XML in one string (its own writes every
    cell's element and attribute separately). Only the cells this module writes (numbers,
    dates, shared strings, styled blanks), in rows with no row options or comments; any
    other row, or sheet, goes through XlsxWriter's own `_write_rows`."""

    rows_xml: str | None = None  # the rows' XML made before the workbook is closed (write_rows_now)

    def write_rows_now(self) -> None:
        """Make the rows' XML now, for this sheet whose cells are all written, and keep it to
        be written as it is when the workbook is closed (QuarterlyWorkbook.start: while the
        forward look is still computed). The cell styles get their numbers as the closing
        would give them: sheet after sheet, each one's columns' styles first (<cols> comes
        before <sheetData>), then its cells'."""
        if self.dim_rowmin is None:
            return
        for col in sorted(self.col_info):
            if self.col_info[col].column_format is not None:
                self.col_info[col].column_format._get_xf_index()
        out = io.StringIO()
        closing = self.__dict__["fh"]  # None: the closing gives the sheet its file
        self._set_filehandle(out)
        try:
            self._write_rows()
        finally:
            self.__dict__["fh"] = closing
        self.rows_xml = out.getvalue()

    def _write_rows(self) -> None:
        if self.rows_xml is not None:
            self.fh.write(self.rows_xml)
            return
        if (self.constant_memory or self.row_info or self.comments or self.excel_version == 2010
                or self.default_row_height != self.original_row_height):
            return super()._write_rows()
        self._spans()
        column_style = {col: f' s="{info.column_format._get_xf_index()}"'
                        for col, info in self.col_info.items() if info.column_format is not None}
        letters: dict[int, str] = {}
        write = self.fh.write
        table, spans = self.table, self.row_spans
        for row_num in range(self.dim_rowmin, self.dim_rowmax + 1):
            cells = table[row_num]
            if not cells:
                continue
            span = spans.get(row_num // 16)
            r = str(row_num + 1)
            parts = [f'<row r="{r}" spans="{span}">' if span else f'<row r="{r}">']
            for col_num in sorted(cells):
                cell = cells[col_num]
                letter = letters.get(col_num)
                if letter is None:
                    letter = letters[col_num] = xl_col_to_name(col_num)
                fmt = cell.format
                style = f' s="{fmt._get_xf_index()}"' if fmt else column_style.get(col_num, "")
                kind = cell.__class__
                if kind is CellNumberTuple or kind is CellDatetimeTuple:
                    parts.append(f'<c r="{letter}{r}"{style}><v>{cell.number:.16G}</v></c>')
                elif kind is CellStringTuple:
                    parts.append(f'<c r="{letter}{r}"{style} t="s"><v>{cell.string}</v></c>')
                elif kind is CellBlankTuple:
                    parts.append(f'<c r="{letter}{r}"{style}/>')
                else:  # a cell of another kind: the row as XlsxWriter writes it
                    parts = []
                    break
            if parts:
                parts.append("</row>")
                write("".join(parts))
            else:
                self._write_row(row_num, span)
                for col_num in sorted(cells):
                    self._write_cell(row_num, col_num, cells[col_num])
                self._xml_end_tag("row")


    def _spans(self) -> None:
        """XlsxWriter's `_calculate_spans` (each block of 16 rows: its cells' first and last
        column) from each row's cells, not by trying every column of every row."""
        spans: dict[int, tuple[int, int]] = {}
        for row_num, cells in self.table.items():
            if cells and self.dim_rowmin <= row_num <= self.dim_rowmax:
                index, low, high = row_num // 16, min(cells), max(cells)
                if index in spans:
                    low, high = min(low, spans[index][0]), max(high, spans[index][1])
                spans[index] = (low, high)
        self.row_spans = {index: f"{low + 1}:{high + 1}" for index, (low, high) in spans.items()}


def row_worksheet() -> type[Worksheet] | None:
    """The worksheet class writing each row's XML in one step (_RowWorksheet) when the installed
    XlsxWriter is the one it was written against; else None, XlsxWriter's own."""
    return _RowWorksheet if fast_path() else None


class _Book:
    """The workbook being written (XlsxWriter: it streams the sheets' XML several times
    faster than openpyxl builds a tree of cell objects), with its cell styles made once.
    `fast` (by default when XlsxWriter is the version it was written for): the tables'
    cells put straight into XlsxWriter's cell table, a writer chosen by type, and each row's
    XML written in one step (_RowWorksheet); else XlsxWriter's public writers, cell by cell."""

    def __init__(self, fast: bool | None = None) -> None:
        self.buffer = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buffer, {"in_memory": True})
        self._styles: dict[tuple, Any] = {}
        self.fast = fast_path() if fast is None else fast

    def style(self, fmt: str | None = None, **extra):
        key = (fmt, tuple(sorted(extra.items())))
        if key not in self._styles:
            self._styles[key] = self.wb.add_format({**BASE_STYLE, **extra, **({"num_format": fmt} if fmt else {})})
        return self._styles[key]

    def close(self) -> bytes:
        self.wb.close()
        return self.buffer.getvalue()


class _Sheet:
    """Writes titled tables one under the other, formatting each column."""

    def __init__(self, book: _Book, title: str, lang: str):
        self.book, self.lang = book, lang
        self.ws = book.wb.add_worksheet(word(title, lang, context="sheet"),
                                        worksheet_class=_RowWorksheet if book.fast else None)
        self.row = 0  # XlsxWriter counts rows and columns from 0
        self.widths: dict[int, int] = {}

    def put(self, row: int, col: int, value, fmt: str | None = None, **style: Any) -> None:
        """One cell: numbers as numbers, dates as dates (always in a date format), text as text."""
        ws = self.ws
        if value is None or value == "":
            if style:  # a header without words: styled, empty
                ws.write_blank(row, col, None, self.book.style(None, **style))
            return
        if isinstance(value, str):
            ws.write_string(row, col, value, self.book.style(None, **style))
        elif isinstance(value, bool):
            ws.write_boolean(row, col, value, self.book.style(None, **style))
        elif isinstance(value, (dt.date, dt.datetime)):
            ws.write_datetime(row, col, value, self.book.style(DATE, **style))
        elif isinstance(value, (int, float, Decimal)):
            # Decimal → float only here, for the file: Excel holds every number as a double
            ws.write_number(row, col, float(value), self.book.style(fmt, **style))
        else:
            ws.write_string(row, col, str(value), self.book.style(None, **style))

    def title(self, text: str):
        self.put(self.row, 0, word(text, self.lang), **TITLE_STYLE)
        self.row += 1

    def note(self, text: str):
        self.put(self.row, 0, word(text, self.lang))
        self.row += 1

    def table(self, columns: list[tuple[str, str | None]], rows: list[list]):
        for col, (head, _fmt) in enumerate(columns):
            head = word(head, self.lang)
            self.put(self.row, col, head, **HEAD_STYLE)
            self.widths[col] = max(self.widths.get(col, 8), min(len(head) * 2 + 2, 28))
        self.row += 1
        formats = [fmt for _head, fmt in columns]
        if self.book.fast:
            self._rows_fast(rows, formats)
            rows_written = True
        else:
            rows_written = False
        for values in () if rows_written else rows:
            for col, (value, fmt) in enumerate(zip(values, formats)):
                if isinstance(value, Formatted):
                    value, fmt = value
                elif fmt == AMOUNT:  # yuan in the report object, 万元 on the sheet
                    value = xlsx_value(_number(value), "amount")
                value = _number(value)
                self.put(self.row, col, value, fmt)
                if isinstance(value, str):
                    self.widths[col] = max(self.widths.get(col, 8), min(len(value) * 2 + 2, 48))
            self.row += 1
        if not rows:
            self.put(self.row, 0, word("无", self.lang, context="xlsx"))
            self.row += 1
        self.row += 1

    def _rows_fast(self, rows: list[list], formats: list[str | None]) -> None:
        """`table`'s rows, each cell as `put` writes it, put straight into XlsxWriter's cell
        table (in the same order: the shared strings are numbered as they come): strings,
        finite numbers and dates by their type, anything else through `put`."""
        book, ws, widths = self.book, self.ws, self.widths
        table, string_index = ws.table, ws.str_table._get_shared_string_index
        text_style, date_style = book.style(None), book.style(DATE)
        number_styles = [book.style(fmt) for fmt in formats]
        amount = [fmt == AMOUNT for fmt in formats]
        low = high = top = None  # the columns written, the first row written
        for values in rows:
            row = self.row
            cells = table[row]
            for col, value in enumerate(values):
                number_style = number_styles[col]
                if value.__class__ is Formatted:
                    value, fmt = value
                    number_style = book.style(fmt)
                elif amount[col]:  # yuan in the report object, 万元 on the sheet
                    value = xlsx_value(_number(value), "amount")
                    fmt = AMOUNT
                else:
                    fmt = formats[col]
                value = _number(value)
                kind = value.__class__
                if kind is str:
                    widths[col] = max(widths.get(col, 8), min(len(value) * 2 + 2, 48))
                    if not value:
                        continue
                    if len(value) > _STRMAX:
                        self.put(row, col, value, fmt)
                        continue
                    cells[col] = CellStringTuple(string_index(value), text_style)
                elif value is None:
                    continue
                elif kind is Decimal or kind is float or kind is int:
                    number = float(value)
                    if number != number or number in _INF:  # XlsxWriter's own error for it
                        self.put(row, col, value, fmt)
                        continue
                    cells[col] = CellNumberTuple(number, number_style)
                elif kind is dt.date:
                    cells[col] = CellDatetimeTuple(_excel_date(value), date_style)
                else:
                    self.put(row, col, value, fmt)
                    if isinstance(value, str):
                        widths[col] = max(widths.get(col, 8), min(len(value) * 2 + 2, 48))
                    continue
                low = col if low is None or col < low else low
                high = col if high is None or col > high else high
                bottom = row
                if top is None:
                    top = row
            self.row += 1
        if top is not None:  # XlsxWriter's dimensions, as writing each cell would leave them
            ws._check_dimensions(top, low)
            ws._check_dimensions(bottom, high)

    def finish(self):
        for col, width in self.widths.items():
            self.ws.set_column(col, col, max(width, 12))


def _metric_values(m: dict) -> list:
    """A group's figures in METRIC_COLUMNS' order; a multiple that does not exist (nothing
    paid in) is the '—' the HTML and PDF print, with the cover's note, not an empty cell."""
    return [NO_MULTIPLE if m.get(key) is None and fmt == MULTIPLE else m.get(key) for _h, key, fmt in METRIC_COLUMNS]


def _metric_columns(first: str, share: bool = False) -> list:
    cols = [(first, TEXT)] + [(h, f) for h, _k, f in METRIC_COLUMNS]
    if share:
        cols.insert(6, ("净值占比", PERCENT))
    return cols


def _irr(value, since, as_of, lang: str):
    """An IRR cell: the rate, or the words the HTML and PDF print in its place (no rate;
    under a year, not annualised), never an empty cell or an annualised rate over weeks."""
    said = irr_text(value, since, as_of, lang, short=True)
    return value if said is None else said


def _metric_rows(groups: dict, vocab: str | None, lang: str, share: bool = False, *, since: dict | None = None,
                 as_of=None) -> list[list]:
    rows = []
    for key, m in groups.items():
        values = _metric_values(m)
        values[-1] = _irr(m.get("irr"), (since or {}).get(key), as_of, lang)
        if share:
            values.insert(5, m.get("nav_share"))
        rows.append([label(vocab, key, lang=lang) if vocab else str(key)] + values)
    return rows


def _with_irr(values: list, since, as_of, lang: str) -> list:
    """A summary's metric values with its IRR cell as _irr writes it."""
    return values[:-1] + [_irr(values[-1], since, as_of, lang)]


def _figure_rows(sheet: _Sheet, figures: dict) -> None:
    """Figures whose shape the engine decides (PME, periodic): named, each in its kind's format."""
    keys = [k for k in figures if k != "index"]
    sheet.table([("指标", TEXT), ("数值", None)],
                [[label("figure", k, lang=sheet.lang),
                  Formatted(xlsx_value(_number(figures[k]), FIGURE_KINDS.get(k, "text")),
                            XLSX_FORMATS.get(FIGURE_KINDS.get(k, "text")))]
                 for k in keys])


def _rule_cell(value, rule: str, lang: str):
    """A check's value or limit as its rule measures it: a number in its format, or words."""
    kind = RULE_KINDS.get(rule, "percent")
    if kind == "instrument" and value is not None:
        return label("instrument", str(value), lang=lang), None
    return xlsx_value(_number(value), kind), XLSX_FORMATS.get(kind)


# Each sheet writer takes the workbook and the report object `r` and adds one sheet.

def _cover_sheet(wb: _Book, r: dict, lang: str) -> None:
    w = _words(lang)
    s = _Sheet(wb, "封面与要点", lang)
    name = _fund_name(r, lang)
    s.title(w("%(fund)s 季度投资组合报告 %(quarter)s", fund=name, quarter=r["quarter"]))
    s.table([("项目", TEXT), ("内容", DATE)], [
        [w("基金代码"), r["fund"]], [w("基金名称"), name], [w("报告季度"), r["quarter"]],
        [w("截至日期"), r["as_of"]], [w("报告期初"), r["period_start"]], [w("上季末"), r["previous_as_of"]],
        [w("货币"), w("人民币（金额单位：万元）")]])
    rows = []
    for h in r["highlights"]:
        fmt = SUMMARY_FORMATS[h["key"]]
        kind = "amount" if fmt == AMOUNT else "ratio"
        cells = [Formatted(NO_MULTIPLE if h[k] is None and fmt == MULTIPLE else xlsx_value(h[k], kind), fmt)
                 for k in ("value", "previous", "change")]
        if h["key"] == "irr":  # as the HTML: no rate or under a year in words, and then no change
            since = r["since"]["total"]
            now, before = _irr(h["value"], since, r["as_of"], lang), _irr(h["previous"], since, r["previous_as_of"], lang)
            if isinstance(now, str) or isinstance(before, str):
                cells = [Formatted(now, fmt), Formatted(before, fmt), Formatted("—", fmt)]
            elif h["change"] is not None:  # in percentage points, as the document says it (not '2.5%')
                points = w("个百分点")
                cells[2] = Formatted(float(h["change"]) * 100,
                                     f'+0.0" {points}";-0.0" {points}";0.0" {points}"')
        rows.append([w(SUMMARY_NAMES[h["key"]])] + cells)
    s.table([("指标", TEXT), ("本季末", None), ("上季末", None), ("变动", None)], rows)
    # the cells hold the unrounded figures; what they show is rounded, as in the PDF
    s.note("金额逐项四舍五入；合计与变动按未舍入金额计算后再四舍五入，可能与所列各项相加减的结果有 0.01 的尾差。")
    s.finish()


def _fund_sheet(wb: _Book, r: dict, lang: str) -> None:
    w = _words(lang)
    s = _Sheet(wb, "基金概况", lang)
    s.title(w("基金概况（截至 %(date)s）", date=r["as_of"].isoformat()))
    s.table([(SUMMARY_NAMES[k], SUMMARY_FORMATS[k]) for k in SUMMARY_NAMES],
            [_with_irr(_metric_values(r["summary"]), r["since"]["total"], r["as_of"], lang)])
    s.finish()


def _bridge_sheet(wb: _Book, r: dict, lang: str) -> None:
    w = _words(lang)
    s = _Sheet(wb, "净值变动表", lang)
    s.title("净值变动表：期初净值 + 出资 − 分配 + 估值变动 = 期末净值（万元）")
    rows = []
    for b in r["bridge"]:
        for m in b["modes"]:
            row = b["rows"][m]
            rows.append([w(PERIODS[b["period"]]), b["opening_date"], label("mode", m, lang=lang)] + [row[k] for k in (
                "opening", "contributions", "distributions", "change", "closing")])
        total = b["total"]
        rows.append([w(PERIODS[b["period"]]), b["opening_date"], w("合计")] + [total[k] for k in (
            "opening", "contributions", "distributions", "change", "closing")])
    s.table([("期间", TEXT), ("期初日期", DATE), ("投资方式", TEXT), ("期初净值（万元）", AMOUNT),
             ("出资（万元）", AMOUNT), ("分配（万元）", AMOUNT), ("估值变动（万元）", AMOUNT), ("期末净值（万元）", AMOUNT)],
            rows)
    s.finish()


def _performance_sheet(wb: _Book, r: dict, lang: str) -> None:
    w = _words(lang)
    s = _Sheet(wb, "业绩分析", lang)
    s.title("按投资方式")
    since, as_of = r["since"], r["as_of"]
    s.table(_metric_columns("投资方式"), _metric_rows(r["by_mode"], "mode", lang, since=since["by_mode"], as_of=as_of)
            + [[w("合计")] + _with_irr(_metric_values(r["summary"]), since["total"], as_of, lang)])
    s.title("按行业（按投资标的归属）")
    s.table(_metric_columns("行业", share=True), _metric_rows(r["by_sector"], "sector", lang, share=True,
                                                          since=since["by_sector"], as_of=as_of))
    s.title("按行业（穿透至子基金底层资产；口径不同）")
    s.table([("行业", TEXT), ("剩余价值（万元）", AMOUNT), ("净值占比", PERCENT)],
            [[label("sector", k, lang=lang), m.get("nav"), m.get("nav_share")]
             for k, m in r["lookthrough_by_sector"].items()])
    s.title("按投资年份")
    s.table(_metric_columns("年份"), _metric_rows(r["by_vintage"], None, lang, since=since["by_vintage"], as_of=as_of))
    if r.get("periodic"):
        s.title("按季度现金流的收益率")
        _figure_rows(s, r["periodic"])
    s.title(w("公开市场等价比较（PME）") + ((("：" if is_zh(lang) else ": ") + r["index_name"])
                                         if r.get("index_name") else ""))
    if r.get("pme"):
        _figure_rows(s, r["pme"])
    else:
        s.note("未选择比较指数。")
    s.finish()


def _schedule_sheet(wb: _Book, r: dict, lang: str) -> None:
    w = _words(lang)
    s = _Sheet(wb, "投资明细表", lang)
    s.title(w("投资明细表（截至 %(date)s）", date=r["as_of"].isoformat()))
    rows = []
    for i in r["schedule"]:
        own = i.get("ownership_pct")
        rows.append([
            i["id"], i.get("target_name") or i.get("target"), label("mode", i.get("mode"), lang=lang),
            label("sector", i.get("sector"), lang=lang), label("region", i.get("region"), lang=lang), i.get("date"),
            i.get("round"), None if own is None else Decimal(str(own)) / 100,
            i.get("commitment"), i.get("paid_in"), i.get("distributed"), i.get("nav"), i.get("moic"),
            _irr(i.get("irr"), i.get("date"), r["as_of"], lang),
            label("method", i.get("valuation_method"), lang=lang) if i.get("valuation_method") else None,
            i.get("valuation_as_of"), w("滞后") if i["stale"] else (w("成本") if i["unvalued"] else None)])
    s.table([("编号", TEXT), ("投资标的", TEXT), ("方式", TEXT), ("行业", TEXT), ("地区", TEXT),
             ("投资日期", DATE), ("轮次", TEXT), ("持股比例", OWNERSHIP), ("认缴（万元）", AMOUNT),
             ("实缴（万元）", AMOUNT), ("已分配（万元）", AMOUNT), ("剩余价值（万元）", AMOUNT), ("MOIC", MULTIPLE),
             ("IRR", PERCENT), ("估值方法", TEXT), ("估值日期", DATE), ("估值滞后", TEXT)], rows)
    s.ws.freeze_panes(2, 2)  # the header row and the id and name columns stay in view ("C3")
    s.finish()


def _activity_sheet(wb: _Book, r: dict, lang: str) -> None:
    w = _words(lang)
    a = r["activity"]
    s = _Sheet(wb, "本季度活动", lang)
    s.title("新增投资")
    s.table([("编号", TEXT), ("投资标的", TEXT), ("方式", TEXT), ("投资日期", DATE), ("认缴（万元）", AMOUNT),
             ("实缴（万元）", AMOUNT)],
            [[i["id"], i.get("target_name") or i.get("target"), label("mode", i.get("mode"), lang=lang), i.get("date"),
              i.get("commitment"), i.get("paid_in")] for i in a["new_investments"]])
    for kind, title in (("contributions", "出资（实缴）"), ("distributions", "分配")):
        s.title(title)
        s.table([("日期", DATE), ("编号", TEXT), ("投资标的", TEXT), ("方式", TEXT), ("金额（万元）", AMOUNT)],
                [[f["date"], f["id"], f.get("target_name") or f.get("target"), label("mode", f.get("mode"), lang=lang),
                  f["amount"]] for f in a[kind]])
    s.title(word("退出", lang, context="report"))
    s.table([("编号", TEXT), ("投资标的", TEXT), ("方式", TEXT), ("退出日期", DATE), ("本季分配（万元）", AMOUNT),
             ("累计分配（万元）", AMOUNT), ("实缴（万元）", AMOUNT), ("MOIC", MULTIPLE), ("IRR", PERCENT)],
            [[i["id"], i.get("target_name") or i.get("target"), label("mode", i.get("mode"), lang=lang), i["exit_date"],
              i["distributed_in_quarter"], i.get("distributed"), i.get("paid_in"), i.get("moic"),
              _irr(i.get("irr"), i.get("date"), r["as_of"], lang)]
             for i in a["exits"]])
    s.title(w("估值变动超过 %(t)s 的投资", t=f"{float(a['threshold']):.0%}"))
    s.table([("编号", TEXT), ("投资标的", TEXT), ("期初净值（万元）", AMOUNT), ("本季出资（万元）", AMOUNT),
             ("估值变动（万元）", AMOUNT), ("变动幅度", PERCENT), ("估值方法", TEXT), ("估值日期", DATE)],
            [[i["id"], i.get("target_name") or i.get("target"), i["bridge"]["opening"],
              i["bridge"]["contributions"], i["bridge"]["change"], i["change_ratio"],
              label("method", i.get("valuation_method"), lang=lang) if i.get("valuation_method") else w("成本"),
              i.get("valuation_as_of")] for i in a["valuation_changes"]])
    s.finish()


def _concentration_sheet(wb: _Book, r: dict, lang: str) -> None:
    w = _words(lang)
    c = r["concentration"] or {}
    s = _Sheet(wb, "集中度与敞口", lang)
    s.title("集中度")
    s.table([("指标", TEXT), ("数值", PERCENT)],
            [[w("前十大占比"), c.get("top10_share")], [w("最大单一占比"), c.get("largest_share")]])
    s.table([("指标", TEXT), ("数值", COUNT)], [[w("赫芬达尔指数（HHI，0–10,000）"), xlsx_value(c.get("hhi"), "hhi")]])
    s.title("前十大持仓")
    s.table([("排名", COUNT), ("持仓", TEXT), ("剩余价值（万元）", AMOUNT), ("净值占比", PERCENT)],
            [[n, t.get("name") or t.get("target_name") or t.get("code") or t.get("target"), t.get("nav"),
              t.get("share", t.get("nav_share"))] for n, t in enumerate(c.get("top") or [], start=1)])
    s.title("本地与外地")
    s.table(_metric_columns("地区"), _metric_rows(r["by_region"], "region", lang, since=r["since"]["by_region"],
                                                as_of=r["as_of"]))
    s.finish()


def _sub_funds_sheet(wb: _Book, r: dict, lang: str) -> None:
    s = _Sheet(wb, "子基金", lang)
    s.title("子基金：实缴与认缴，本地返投进度")
    s.table([("子基金代码", TEXT), ("子基金", TEXT), ("管理人", TEXT), ("规模（万元）", AMOUNT), ("认缴（万元）", AMOUNT),
             ("实缴（万元）", AMOUNT), ("未实缴（万元）", AMOUNT), ("剩余价值（万元）", AMOUNT), ("最新持仓报告", DATE),
             ("本地返投成本（万元）", AMOUNT), ("返投倍数", MULTIPLE)],
            [[sf.get("code"), sf.get("name"), sf.get("manager"), sf.get("size"), sf.get("commitment"),
              sf.get("paid_in"), sf.get("unfunded"), sf.get("nav"), sf.get("latest_report_as_of"),
              sf.get("local_reinvestment_cost"), sf.get("reinvestment_multiple")] for sf in r["sub_funds"]])
    s.finish()


def _compliance_sheet(wb: _Book, r: dict, lang: str) -> None:
    w = _words(lang)
    s = _Sheet(wb, "合规与绩效评价", lang)
    s.title("合规检查")
    s.table([("结果", TEXT), ("规则", TEXT), ("对象", TEXT), ("测算值", None), ("限额", None), ("说明", TEXT)],
            [[label("check_status", x.get("status"), lang=lang), label("rule", x.get("rule"), lang=lang),
              x.get("subject"), Formatted(*_rule_cell(x.get("value"), x.get("rule"), lang)),
              Formatted(*_rule_cell(x.get("limit"), x.get("rule"), lang)), shown(x.get("message"), lang)]
             for x in r["compliance"]])
    s.title("绩效评价指标")
    if r.get("indicators") is not None:
        formats = {"multiple": MULTIPLE, "count": "0", "percent": PERCENT}
        s.table([("指标", TEXT), ("数值", None)],
                [[w(i["label"]), Formatted(i["value"], formats[i["format"]])] for i in r["indicators"]])
    else:
        s.note("绩效评价指标尚未配置")
    s.finish()


def _forward_look_sheet(wb: _Book, r: dict, lang: str) -> None:
    w = _words(lang)
    fl = r.get("forward_look")
    if not fl:
        return
    s = _Sheet(wb, "展望", lang)
    s.title(w("展望：预计出资与分配（自 %(date)s 起）", date=fl["as_of"].isoformat()))
    periods = {"next_quarter": w("下一季度（%(q)s）", q=fl["next_quarter"]),
               "next_year": w("未来一年（%(q)s）", q=fl["next_year"])}
    s.table([("", TEXT), ("期间", TEXT), ("预计（万元）", AMOUNT), ("P10（万元）", AMOUNT), ("P50（万元）", AMOUNT),
             ("P90（万元）", AMOUNT)],
            [[w("预计出资") if row["kind"] == "calls" else w("预计分配"), periods[row["period"]], row["e"], row["p10"],
              row["p50"], row["p90"]] for row in fl["rows"]])
    s.title("出资风险值 CCaR95（万元）")
    s.table([("", TEXT), ("全基金（万元）", AMOUNT), ("其中财政出资（万元）", AMOUNT)],
            [[w("未来 %(n)s 个季度", n=h), v, fl["ccar95_bureau"].get(h)] for h, v in fl["ccar95"].items()])
    s.note(w("Takahashi–Alexander 模型，按历史现金流校准；P10–P90 为 %(paths)s 条蒙特卡洛模拟路径的区间；"
             "财政出资占 %(share)s。", paths=f"{fl['paths']:,}", share=f"{float(fl['bureau_share']):.0%}"))
    s.finish()


# the workbook's sheets, in order: each writes one section of the report
SHEETS = (_cover_sheet, _fund_sheet, _bridge_sheet, _performance_sheet, _schedule_sheet, _activity_sheet,
          _concentration_sheet, _sub_funds_sheet, _compliance_sheet, _forward_look_sheet)


class QuarterlyWorkbook:
    """The workbook written in two steps: `start(report)` every sheet before the forward
    look's, which read nothing of it (so while the forecast is still computed: build_quarterly's
    `meanwhile`), then `finish(report)` the rest, closed. The same file as in one step."""

    def __init__(self, lang: str = "zh", fast: bool | None = None):
        self.book, self.lang, self.written = _Book(fast), lang, 0

    def start(self, report: dict) -> None:
        for write_sheet in SHEETS[self.written:BEFORE_FORWARD_LOOK]:
            write_sheet(self.book, report, self.lang)
        self.written = max(self.written, BEFORE_FORWARD_LOOK)
        # and their rows' XML, which the closing would make (a third of its time)
        for sheet in self.book.wb.worksheets():
            if isinstance(sheet, _RowWorksheet) and sheet.rows_xml is None:
                sheet.write_rows_now()

    def finish(self, report: dict) -> bytes:
        for write_sheet in SHEETS[self.written:]:
            write_sheet(self.book, report, self.lang)
        self.written = len(SHEETS)
        return self.book.close()


BEFORE_FORWARD_LOOK = SHEETS.index(_forward_look_sheet)
assert SHEETS[BEFORE_FORWARD_LOOK:] == (_forward_look_sheet,), "the forward look's sheet is the last"


def write_quarterly_xlsx(report: dict, *, lang: str = "zh", fast: bool | None = None) -> bytes:
    """The report object (portfolio.reports.quarterly) as an .xlsx, one sheet per section,
    in `lang` ("zh" or "en"). `fast`: see _Book (the same file either way)."""
    return QuarterlyWorkbook(lang, fast).finish(report)
