"""Export the book in force as an interchange workbook or CSV folder (interchange.md).

Voided flows and valuations and valuations not yet approved are left out. Amounts are
numbers in 元 (xlsx numeric cells formatted '#,##0.00'; in CSV exact decimals such as
150000000 or 1234.56), dates are date cells formatted 'yyyy-mm-dd' (ISO text in CSV). Each
sheet has its header row frozen, columns wide enough to read, and a drop-down list of the
allowed values (the codes, then their Chinese names, which the import takes too) on every
coded column. Importing the export into an empty database gives back the same book.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from typing import IO, Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation
from sqlalchemy import select
from sqlalchemy.orm import Session

from models import CashFlow, Company, Fund, Investment, SubFund, SubFundHolding, Valuation, utcnow
from portfolio.book.versions import write_mark
from portfolio.figures.scope import FundTree
from portfolio.formatting import XLSX_FORMATS
from portfolio.interchange.schema import META_SHEET, SHEETS, Column, csv_escape, header
from portfolio.record_rules import CONTROL_CHARACTERS
from portfolio.vocabulary import LABELS

# the number format of each kind of column (amounts in 元, as interchange.md says)
BOOK_FORMATS = {"money": XLSX_FORMATS["amount"], "date": XLSX_FORMATS["date"], "int": "0", "year": XLSX_FORMATS["year"]}
LAST_ROW = 1_048_576  # Excel's last row: a drop-down covers every row a user may add
_WIDTH_SAMPLE = 2_000  # rows measured for a column's width


def _plain_decimal(value: Decimal) -> str:
    """150000000.00 → '150000000', 1234.50 → '1234.5' (no exponent, no float noise)."""
    text = format(value.normalize(), "f")
    return text


def _number(value: Decimal) -> int | float:
    # an xlsx cell holds a double; integers stay exact, cents round-trip through repr
    return int(value) if value == value.to_integral_value() else float(value)


def _rows(session: Session, fund_code: str | None) -> dict[str, list[dict[str, Any]]]:
    funds = session.execute(select(Fund).order_by(Fund.code)).scalars().all()
    if fund_code is not None:
        if fund_code not in {f.code for f in funds}:
            raise ValueError(f"unknown fund {fund_code!r}")
        wanted = set(FundTree.of((f.code, f.parent_code) for f in funds).descendants(fund_code))
        fund_codes = set(wanted)
        # the fund's parents too, their rows alone (no holdings): a child's book names its
        # parent_code, and must import on its own (interchange.md's round trip)
        parent_of = {f.code: f.parent_code for f in funds}
        parent = parent_of.get(fund_code)
        while parent and parent not in wanted:
            wanted.add(parent)
            parent = parent_of.get(parent)
        funds = [f for f in funds if f.code in wanted]
    else:
        fund_codes = {f.code for f in funds}
    inv_q = select(Investment).order_by(Investment.id)
    investments = [i for i in session.execute(inv_q).scalars() if fund_code is None or i.fund_code in fund_codes]
    inv_ids = {i.id for i in investments}

    sub_funds = session.execute(select(SubFund).order_by(SubFund.code)).scalars().all()
    if fund_code is not None:
        used = {i.sub_fund_code for i in investments} | {i.alongside_code for i in investments}
        sub_funds = [s for s in sub_funds if s.code in used]
    sf_codes = {s.code for s in sub_funds}
    holdings = [h for h in session.execute(select(SubFundHolding).order_by(
        SubFundHolding.sub_fund_code, SubFundHolding.as_of, SubFundHolding.company_code)).scalars()
        if h.sub_fund_code in sf_codes]
    companies = session.execute(select(Company).order_by(Company.code)).scalars().all()
    if fund_code is not None:
        used = {i.company_code for i in investments} | {h.company_code for h in holdings}
        companies = [c for c in companies if c.code in used]

    flows = session.execute(select(CashFlow.investment_id, CashFlow.date, CashFlow.type, CashFlow.amount_cny,
                                   CashFlow.note, CashFlow.ref)
                            .where(CashFlow.voided_at.is_(None), CashFlow.approved_at.is_not(None))
                            .order_by(CashFlow.investment_id, CashFlow.date, CashFlow.id)).all()
    valuations = session.execute(select(Valuation.investment_id, Valuation.as_of, Valuation.fair_value_cny,
                                        Valuation.method)
                                 .where(Valuation.voided_at.is_(None), Valuation.approved_at.is_not(None))
                                 .order_by(Valuation.investment_id, Valuation.as_of)).all()

    def attrs(record, names):
        return {n: getattr(record, n) for n in names}

    def names(sheet):
        return [c.name for c in SHEETS[sheet]]

    return {
        "funds": [attrs(f, names("funds")) for f in funds],
        "sub_funds": [attrs(s, names("sub_funds")) for s in sub_funds],
        "companies": [attrs(c, names("companies")) for c in companies],
        "investments": [attrs(i, names("investments")) for i in investments],
        "cash_flows": [r._asdict() for r in flows if r.investment_id in inv_ids],
        "valuations": [r._asdict() for r in valuations if r.investment_id in inv_ids],
        "sub_fund_holdings": [attrs(h, names("sub_fund_holdings")) for h in holdings],
    }


def _cell(value: Any, *, for_csv: bool) -> Any:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return _plain_decimal(value) if for_csv else _number(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def _csv_cell(value: Any, kind: str) -> Any:
    """Text columns escaped against formula injection; numbers (a negative one too) stay numbers."""
    cell = _cell(value, for_csv=True)
    return csv_escape(cell) if kind in ("code", "text") and isinstance(cell, str) else cell


def _xlsx_cell(ws, value: Any, column: Column) -> Any:
    """A cell of the workbook: a date as a date cell, an amount as a number with its format,
    text that begins with '=' as text, never as a live formula (a company named
    '=HYPERLINK(...)' stays a name, and the workbook imports back unchanged)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        value = value.date()
    if isinstance(value, Decimal):
        value = _number(value)
    fmt = BOOK_FORMATS.get(column.kind)
    if fmt is not None and not isinstance(value, str):
        cell = WriteOnlyCell(ws, value=value)
        cell.number_format = fmt
        return cell
    if isinstance(value, str):  # a control character stored before they were refused: XML cannot hold it
        value = CONTROL_CHARACTERS.sub("", value)
    if isinstance(value, str) and value.startswith("="):
        cell = WriteOnlyCell(ws, value=value)
        cell.data_type = "s"
        return cell
    return value


def _allowed(column: Column) -> list[str]:
    """The values a coded column takes: its codes, then their Chinese names (both import)."""
    names = [LABELS.get(column.label_vocab, {}).get(code) for code in column.vocab]
    values = list(dict.fromkeys([*column.vocab, *(n for n in names if n)]))
    # Excel keeps an inline list to 255 characters: the codes alone when the names do not fit
    return values if len(",".join(values)) <= 255 else list(column.vocab)


def _width(column: Column, chinese_headers: bool, rows: list[dict]) -> float:
    def wide(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E80 else 1 for ch in text)

    widest = wide(header(column, chinese_headers))
    if column.kind == "money":
        widest = max(widest, 18)
    elif column.kind == "date":
        widest = max(widest, 11)
    elif column.kind == "vocab":
        widest = max([widest, *(wide(v) for v in _allowed(column))])
    for row in rows[:_WIDTH_SAMPLE]:
        value = row.get(column.name)
        if isinstance(value, str):
            widest = max(widest, wide(value))
    return min(max(widest + 2, 8), 60)


def _lay_out(ws, cols: list[Column], chinese_headers: bool, rows: list[dict]) -> None:
    """Header frozen, widths, drop-downs: set before the rows are streamed."""
    ws.freeze_panes = "A2"
    for index, column in enumerate(cols, start=1):
        letter = get_column_letter(index)
        ws.column_dimensions[letter].width = _width(column, chinese_headers, rows)
        if column.kind != "vocab":
            continue
        values = _allowed(column)
        title, message = ("请从列表中选择", "允许的值：" + "、".join(values)) if chinese_headers else \
            ("Choose from the list", "Allowed values: " + ", ".join(values))
        validation = DataValidation(type="list", formula1='"' + ",".join(values) + '"', allow_blank=True,
                                    showErrorMessage=True, errorTitle=title, error=message[:255])
        validation.add(f"{letter}2:{letter}{LAST_ROW}")
        ws.data_validations.append(validation)


def workbook_bytes(rows: dict[str, list[dict]], chinese_headers: bool, meta: dict[str, Any] | None = None) -> bytes:
    workbook = Workbook(write_only=True)
    for sheet, cols in SHEETS.items():
        ws = workbook.create_sheet(sheet)
        sheet_rows = rows.get(sheet, [])
        _lay_out(ws, cols, chinese_headers, sheet_rows)
        ws.append([header(c, chinese_headers) for c in cols])
        for row in sheet_rows:
            ws.append([_xlsx_cell(ws, row[c.name], c) for c in cols])
    if meta:
        ws = workbook.create_sheet(META_SHEET)
        ws.sheet_state = "hidden"  # a stamp for the importer, not for the reader
        for key, value in [("key", "value"), *meta.items()]:
            ws.append([key, value])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _write_csv(folder: Path, rows: dict[str, list[dict]], chinese_headers: bool,
               meta: dict[str, Any] | None = None) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    if meta:
        with open(folder / f"{META_SHEET}.csv", "w", encoding="utf-8", newline="") as fh:
            csv.writer(fh, lineterminator="\n").writerows([("key", "value"), *meta.items()])
    for sheet, cols in SHEETS.items():
        with open(folder / f"{sheet}.csv", "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, lineterminator="\n")
            writer.writerow([header(c, chinese_headers) for c in cols])
            for row in rows.get(sheet, []):
                writer.writerow([_csv_cell(row[c.name], c.kind) for c in cols])


def export_meta(session: Session) -> dict[str, Any]:
    """The stamp an export carries: the book version (the latest audit entry) it was taken
    at. An upload of it is compared with the rows changed since (stale-write protection)."""
    return {"book_version": write_mark(session), "exported_at": utcnow().strftime("%Y-%m-%dT%H:%M:%SZ")}


def export_book(session: Session, target: str | Path | IO[bytes], *, chinese_headers: bool = False,
                fund_code: str | None = None) -> dict[str, int]:
    """Write the book in force to `target` (.xlsx path, folder path, or binary file); rows per sheet."""
    meta = export_meta(session)  # read before the rows: a write in between shows as newer
    rows = _rows(session, fund_code)
    if isinstance(target, (str, Path)):
        path = Path(target)
        if path.suffix.lower() == ".xlsx":
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(workbook_bytes(rows, chinese_headers, meta))
        elif path.suffix == "":
            _write_csv(path, rows, chinese_headers, meta)
        else:
            raise ValueError(f"export to a .xlsx file or a folder, not {path.name}")
    else:
        target.write(workbook_bytes(rows, chinese_headers, meta))
    return {sheet: len(r) for sheet, r in rows.items()}


def template_workbook(chinese_headers: bool = True) -> bytes:
    """An empty book: every sheet with its header row."""
    return workbook_bytes({}, chinese_headers)
