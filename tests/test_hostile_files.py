"""Hostile workbooks are refused before they are parsed, fast and with a clear message:
a zip bomb, a lying zip directory, a sheet over the row limit; and a long error list is
capped on the page."""
from __future__ import annotations

import csv
import io
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select

from models import AuditEntry
from portfolio.filetypes import workbook_problem
from portfolio.interchange import schema
from portfolio.interchange.importing import import_book
from tests.conftest import PASSWORD, make_user


def _small_workbook(rows: int = 3) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "funds"
    ws.append(["code", "name", "kind", "size_cny", "vintage_year"])
    for i in range(rows):
        ws.append([f"F{i}", f"基金{i}", "innovation_fund", "1000000", "2024"])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _with_member(workbook: bytes, name: str, payload: bytes) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(workbook)) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename))
        dst.writestr(name, payload)
    return out.getvalue()


@pytest.fixture(scope="module")
def bomb() -> bytes:
    # 64 MB of one repeated byte in a sheet: a few tens of KB on the wire, ratio ~1000
    return _with_member(_small_workbook(), "xl/worksheets/sheet2.xml", b"<" + b"a" * (64 * 1024 * 1024))


def test_a_zip_bomb_is_refused_from_its_directory_without_expanding_it(bomb, inflated):
    assert len(bomb) < 1024 * 1024
    tracemalloc.start()
    problem = workbook_problem(bomb, max_bytes=schema.MAX_UNCOMPRESSED_BYTES, max_rows=schema.MAX_ROWS_PER_SHEET)
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert problem and "压缩比异常" in problem
    # 64 MB inside: refused from the directory, the sheet never read (machine-independent,
    # where a time limit was not)
    assert inflated.get("xl/worksheets/sheet2.xml", 0) == 0 and peak < 16 * 1024 * 1024, (inflated, peak)


def test_a_zip_declaring_more_than_the_limit_is_refused(db, monkeypatch):
    monkeypatch.setattr(schema, "MAX_UNCOMPRESSED_BYTES", 1000)
    result = import_book(db.session, io.BytesIO(_small_workbook()), username="u", filename="b.xlsx")
    problem = result.errors[0].message
    assert problem and "超过上限" in problem


def test_a_sheet_over_the_row_limit_is_refused_before_reading(db, monkeypatch):
    monkeypatch.setattr(schema, "MAX_ROWS_PER_SHEET", 5)
    result = import_book(db.session, io.BytesIO(_small_workbook(rows=10)), username="u", filename="big.xlsx")
    assert not result.ok and "超过上限 5" in result.errors[0].message
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_the_upload_page_refuses_a_bomb_without_expanding_it(as_role, bomb, inflated):
    client = as_role("manager")
    response = client.post("/book/upload", data={"book": (io.BytesIO(bomb), "bomb.xlsx")},
                           content_type="multipart/form-data")
    assert response.status_code == 200 and "压缩比异常" in response.get_data(as_text=True)
    # the 64 MB sheet is never expanded, by the page or by anything behind it
    assert inflated.get("xl/worksheets/sheet2.xml", 0) == 0, inflated


def test_a_long_error_list_is_capped_on_the_page(as_role):
    wb = Workbook()
    ws = wb.active
    ws.title = "funds"
    ws.append(["code", "name", "kind", "size_cny", "vintage_year"])
    for i in range(600):
        ws.append([f"F{i}", "基金", "rocket", "-1", "2024"])
    out = io.BytesIO()
    wb.save(out)
    client = as_role("manager")
    page = client.post("/book/upload", data={"book": (io.BytesIO(out.getvalue()), "bad.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert page.count("<tr><td>funds</td>") == 200 and "仅显示前 200 处" in page


def test_the_whole_error_list_downloads_and_only_for_its_session(as_role, app, db):
    """The page shows 200 errors; 下载全部错误 gives every one, as CSV that Excel opens as text
    (a value that would start a formula is quoted), to the session that uploaded only."""
    wb = Workbook()
    ws = wb.active
    ws.title = "funds"
    ws.append(["code", "name", "kind", "size_cny", "vintage_year"])
    for i in range(600):
        ws.append([f"F{i}", "=HYPERLINK(\"http://evil.example\")", "rocket", "-1", "2024"])
    out = io.BytesIO()
    wb.save(out)
    client = as_role("manager")
    assert client.get("/book/upload/errors.csv").status_code == 302  # nothing refused yet: back to the upload page
    page = client.post("/book/upload", data={"book": (io.BytesIO(out.getvalue()), "bad.xlsx")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert 'id="errors-download"' in page
    response = client.get("/book/upload/errors.csv")
    assert response.status_code == 200 and response.headers["Content-Type"] == "text/csv; charset=utf-8"  # once
    text = response.get_data().decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["工作表", "行", "列", "值", "问题"]
    assert len(rows) - 1 >= 1200  # two errors a row (kind, size) on 600 rows: more than the page's 200
    assert {r[1] for r in rows[1:]} >= {str(n) for n in range(2, 602)}  # every Excel row named
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in rows for cell in r)
    make_user(db, "manager2", "manager")
    other = app.test_client()  # another session, of a second manager, does not get this list
    assert other.post("/login", data={"username": "manager2", "password": PASSWORD}).status_code == 302
    assert other.get("/book/upload").status_code == 200  # logged in
    response = other.get("/book/upload/errors.csv")
    assert response.status_code == 302 and response.mimetype != "text/csv"
