"""Books as plain rows, and writers of them as CSV folders, .xlsx workbooks (for the import tests) and
SQLite files (for the tests that run the app in a process of its own)."""
from __future__ import annotations

import copy
import csv
import random
from pathlib import Path

from openpyxl import Workbook

from portfolio.interchange.schema import SHEETS
from portfolio.vocabulary import credit_code_check_char

# The contract (../shared/spec) is vendored as spec/ so that a clone runs its tests anywhere;
# tests/test_spec_copy.py says when the copy has drifted from the shared one.
SPEC = Path(__file__).resolve().parents[1] / "spec"
SHARED_SPEC = Path(__file__).resolve().parents[1].parent / "shared" / "spec"
EXAMPLE_BOOK = SPEC / "example" / "book"
NO_HEADER = None  # a sheet given as None is written as an empty file / empty worksheet


def read_csv_book(folder: Path = EXAMPLE_BOOK) -> dict[str, list[dict]]:
    book = {}
    for path in sorted(Path(folder).glob("*.csv")):
        with open(path, encoding="utf-8-sig", newline="") as fh:
            book[path.stem] = [dict(r) for r in csv.DictReader(fh)]
    return book


def example_book() -> dict[str, list[dict]]:
    return copy.deepcopy(read_csv_book())


def book_database(path: Path, folder: Path = EXAMPLE_BOOK) -> str:
    """A SQLite file at path holding the book of folder (the example's by default), imported
    as a user would; its database URL, for a process of its own (DATABASE_URL)."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    from models import Base
    from portfolio.interchange.importing import import_book

    engine = create_engine(f"sqlite:///{path}")
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        assert import_book(session, folder, username="test").ok
        session.commit()
    engine.dispose()
    return f"sqlite:///{path}"


def headers_of(rows: list[dict]) -> list[str]:
    names: list[str] = []
    for r in rows:
        for k in r:
            if k not in names:
                names.append(k)
    return names


def write_csv_book(folder: Path, book: dict, headers: dict[str, list[str]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for sheet, rows in book.items():
        path = folder / f"{sheet}.csv"
        if rows is NO_HEADER:
            path.write_text("", encoding="utf-8")
            continue
        names = (headers or {}).get(sheet) or headers_of(rows) or [c.name for c in SHEETS[sheet]]
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(names)
            for r in rows:
                writer.writerow([r.get(n, "") for n in names])
    return folder


def write_xlsx_book(path: Path, book: dict, *, chinese: bool = False, reverse_columns: bool = False) -> Path:
    zh = {sheet: {c.name: c.zh for c in cols} for sheet, cols in SHEETS.items()}
    wb = Workbook()
    wb.remove(wb.active)
    for sheet, rows in book.items():
        ws = wb.create_sheet(sheet)
        if rows is NO_HEADER:
            continue
        names = headers_of(rows)
        if reverse_columns:
            names = names[::-1]
        ws.append([zh.get(sheet, {}).get(n, n) if chinese else n for n in names])
        for r in rows:
            ws.append([None if r.get(n) in ("", None) else r.get(n) for n in names])
    wb.save(path)
    return path


def credit_code(seed: int, region: str = "330206") -> str:
    rng = random.Random(seed)
    body = "91" + region + "".join(rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + credit_code_check_char(body)
