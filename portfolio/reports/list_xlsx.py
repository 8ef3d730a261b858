"""A list screen as an Excel workbook: the rows its filter selects, as the screen shows them.

One sheet: a title row (what and as of when), a row saying the filter, the header row
(frozen, with the rows above it), then one row per record. Numbers stay numbers with the
number formats of portfolio.formatting (amounts in 万元, '#,##0.00'; multiples '0.00"x"';
rates as percentages), dates are date cells ('yyyy-mm-dd'), codes are written as words by
the caller. Text cells are always string cells: a name that begins with '=' is never a
formula. Column widths follow the longest value (CJK characters count double).
"""
from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from portfolio.formatting import XLSX_FORMATS, xlsx_value

HEAD_FILL_COLOR = "EEF2F7"
HEADER_ROW = 3  # title, filter, header
PROGRESS_EVERY = 2_000  # rows written between two reports to a job's bar
MIN_WIDTH, MAX_WIDTH = 8, 60
# characters Excel refuses in a sheet's name
_SHEET_BAD = re.compile(r"[\[\]:*?/\\]")


@dataclass(frozen=True)
class ListColumn:
    """One column: its key in the rows, its header (in the reader's language), its kind:
    text, amount (yuan, shown in 万元), date, datetime, percent, multiple, count, number,
    years; or by_row: each row's `kind` says (a compliance check's value is a share, a
    multiple or an amount, as its rule measures it)."""

    key: str
    header: str
    kind: str = "text"


FORMATS = {"amount": XLSX_FORMATS["amount"], "date": XLSX_FORMATS["date"], "datetime": "yyyy-mm-dd hh:mm:ss",
           "percent": XLSX_FORMATS["percent"], "multiple": XLSX_FORMATS["multiple"],
           "count": XLSX_FORMATS["count"], "number": "#,##0.00", "years": XLSX_FORMATS["years"]}


def display_width(text: str) -> int:
    """Columns an Excel cell needs for `text`: a CJK (wide) character takes two."""
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)


def sheet_title(text: str) -> str:
    """A valid sheet name: no []:*?/\\, at most 31 characters, never blank."""
    return (_SHEET_BAD.sub("_", text).strip("'") or "Sheet")[:31]


def _value(value, kind: str):
    if value is None or value == "":
        return None
    if kind == "amount":
        return xlsx_value(value, "amount")
    if kind in ("date", "datetime"):
        if isinstance(value, dt.datetime):
            return value if kind == "datetime" else value.date()
        if isinstance(value, dt.date):
            return value
        if hasattr(value, "to_pydatetime"):  # a pandas Timestamp
            stamp = value.to_pydatetime()
            return stamp if kind == "datetime" else stamp.date()
        return dt.date.fromisoformat(str(value)[:10])
    if kind in ("percent", "multiple", "count", "number", "years"):
        if isinstance(value, (Decimal, int, float)):
            return value
        if hasattr(value, "item"):  # a numpy scalar
            return value.item()
        return Decimal(str(value))
    return str(value)


def list_workbook(title: str, filters: str, columns: Sequence[ListColumn],
                  rows: Iterable[Mapping], *, sheet: str | None = None,
                  progress: Callable[[int], None] | None = None) -> bytes:
    """The workbook of one list: `title` (what, as of when), `filters` (in words), the rows;
    `progress` is told the rows written, every PROGRESS_EVERY (a job's bar)."""
    # openpyxl only here: the blueprint that imports this module must not cost every process it
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    head_font, head_fill = Font(bold=True), PatternFill("solid", fgColor=HEAD_FILL_COLOR)
    wb = Workbook()
    ws = wb.active
    ws.title = sheet_title(sheet or title)
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=12)
    ws.cell(row=1, column=1).data_type = "s"
    ws.cell(row=2, column=1, value=filters).data_type = "s"
    widths = [display_width(c.header) + 2 for c in columns]
    for col, column in enumerate(columns, start=1):
        cell = ws.cell(row=HEADER_ROW, column=col, value=column.header)
        cell.data_type = "s"
        cell.font, cell.fill = head_font, head_fill
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    row_no = HEADER_ROW
    for row in rows:
        row_no += 1
        for col, column in enumerate(columns, start=1):
            kind = str(row.get("kind") or "text") if column.kind == "by_row" else column.kind
            value = _value(row.get(column.key), kind)
            cell = ws.cell(row=row_no, column=col, value=value)
            if value is None:
                continue
            if kind in FORMATS:
                cell.number_format = FORMATS[kind]
                shown = {"amount": 14, "number": 14, "datetime": 20}.get(kind, 11)
            else:
                cell.data_type = "s"  # text is text: '=1+2' stays a name, never a formula
                shown = display_width(value) + 2
            widths[col - 1] = max(widths[col - 1], shown)
        if progress is not None and (row_no - HEADER_ROW) % PROGRESS_EVERY == 0:
            progress(row_no - HEADER_ROW)
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(max(width, MIN_WIDTH), MAX_WIDTH)
    ws.freeze_panes = ws.cell(row=HEADER_ROW + 1, column=1).coordinate
    if row_no > HEADER_ROW:
        ws.auto_filter.ref = f"A{HEADER_ROW}:{get_column_letter(len(columns))}{row_no}"
    ws.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    out = io.BytesIO()
    wb.save(out)
    if progress is not None:
        progress(row_no - HEADER_ROW)
    return out.getvalue()
