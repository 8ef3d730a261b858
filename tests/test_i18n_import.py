"""An imported book's errors and a staged change set's doubts in the reader's language (issue 15
item 1): each sentence by its key (portfolio/error_texts.py), never by post-processing the
Chinese. A bad workbook uploaded through the screens lists its errors with the sheets and
columns as the workbook writes them (its Chinese headers, where it has them: never a code it
does not hold) and every problem in the reader's language.
The doubts of a change set, kept with their keys in its JSON, are shown in the language of
whoever reads them; a change set kept before the keys shows its Chinese text. The whole error
list downloads as a CSV in the reader's language."""
from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re

import pytest
from openpyxl import load_workbook
from sqlalchemy.orm.attributes import flag_modified

from models import ChangeSet, Company
from portfolio.book import sanity
from portfolio.errors import FieldErrors
from portfolio.interchange import schema
from portfolio.interchange.importing import import_book, plan_import
from portfolio.interchange.staging import apply_change_set, doubts_of, stage_book
from portfolio.messages import Message
from tests.book_files import credit_code, example_book, write_xlsx_book
from tests.conftest import EXAMPLE_BOOK, login, make_user

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
ROW = re.compile(r'<tr><td>(.*?)</td><td class="num">(.*?)</td><td>(.*?)</td><td>(.*?)</td><td>(.*?)</td></tr>',
                 re.S)


@pytest.fixture
def book(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    return db.session


def _client(app, db, name: str, lang: str):
    make_user(db, name, "manager")
    client = app.test_client()
    login(client, name)
    client.get(f"/lang/{lang}")
    return client


def _bad_workbook(tmp_path, *, chinese: bool) -> bytes:
    """The example book with an error of each kind a reader meets: bad cells (an amount, a
    date, a code), the required sheet companies missing, a column twice, an unknown column, and
    the investments sheet twice (once by its Chinese name)."""
    rows = example_book()
    rows["cash_flows"][0]["amount_cny"] = "12万"      # not an amount
    rows["investments"][0]["date"] = "2025-02-30"     # no such date
    rows["funds"][0]["kind"] = "hedge_fund"           # an unknown code
    del rows["companies"]                             # a required sheet missing
    path = write_xlsx_book(tmp_path / "bad.xlsx", rows, chinese=chinese)
    workbook = load_workbook(path)
    funds = workbook["funds"]
    funds.cell(row=1, column=funds.max_column + 1, value="bogus_column")     # an unknown column
    valuations = workbook["valuations"]
    method = next(c for c in valuations[1] if c.value in ("method", "估值方法"))
    valuations.cell(row=1, column=valuations.max_column + 1, value=method.value)  # a column twice
    workbook.copy_worksheet(workbook["sub_fund_holdings"]).title = "子基金投资明细"  # a sheet twice
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _upload(client, data: bytes):
    return client.post("/book/upload", data={"book": (io.BytesIO(data), "bad.xlsx")},
                       content_type="multipart/form-data")


def _error_rows(page: str) -> list[tuple[str, str, str, str, str]]:
    table = page.split('id="import-errors"', 1)[1].split("</table>", 1)[0]
    return [tuple(html.unescape(cell) for cell in row) for row in ROW.findall(table)]


@pytest.mark.parametrize("chinese", [False, True], ids=["code-headers", "chinese-headers"])
def test_a_bad_workbook_in_english_lists_every_error_in_english(app, db, book, tmp_path, chinese):
    data = _bad_workbook(tmp_path, chinese=chinese)
    expected = plan_import(book, io.BytesIO(data), username="manager_en", filename="bad.xlsx").errors
    book.rollback()
    english = _upload(_client(app, db, "manager_en", "en"), data)
    assert english.status_code == 200
    rows = _error_rows(english.get_data(as_text=True))
    assert len(rows) == len(expected) >= 7
    for sheet, _row, column, _value, message in rows:  # the sheet, column and value: the book's own
        assert not CJK.search(message.replace(column, "").replace(sheet, "")), message
        assert message[:1].isupper(), message
    said = {(sheet, column, message) for sheet, _row, column, _value, message in rows}
    amount, date, kind, method = ("金额", "投资日期", "基金类型", "估值方法") if chinese else \
        ("amount_cny", "date", "kind", "method")
    assert ("cash_flows", amount, "Not an amount in figures") in said
    assert ("investments", date, "No such date") in said
    # the codes, which are what may be typed, each with its English name (the codes alone had been listed)
    assert ("funds", kind, "Unknown value: expected one of innovation_fund (S&T innovation fund), angel_guidance "
                           "(Angel guidance fund), industry_guidance (Industry guidance fund), other (Other)") in said
    assert ("companies", "", "The required sheet companies is missing") in said  # the tabs are named so
    assert ("funds", "bogus_column", "Unknown column") in said
    assert ("valuations", method, f"The column {method} appears twice") in said  # as the header is written
    assert ("子基金投资明细", "", "The sheet appears twice") in said  # as the tab is named
    assert ("cash_flows", "investment_id", "Unknown investment ID") not in said  # nothing made up

    chinese_page = _upload(_client(app, db, "manager_zh", "zh"), data)
    rows = _error_rows(chinese_page.get_data(as_text=True))
    assert rows == [(e.sheet_shown("zh"), str(e.row or ""), e.column_shown("zh"), e.value, str(e.message))
                    for e in expected]
    said = {(sheet, column, message) for sheet, _row, column, _value, message in rows}
    assert ("cash_flows", amount, "不是数字金额") in said
    # the Chinese names, which the import takes, each with its code (the codes alone had been listed)
    assert ("funds", kind, "未知的取值，应为以下之一：科技创新基金（innovation_fund）、天使投资引导基金（angel_guidance）、"
                           "产业引导基金（industry_guidance）、其他（other）") in said
    assert ("companies", "", "缺少必需的工作表 companies（被投企业）") in said
    assert ("valuations", method, f"列 {method} 重复") in said
    assert ("子基金投资明细", "", "工作表重复") in said


def test_the_error_list_downloads_in_the_readers_language(app, db, book, tmp_path):
    client = _client(app, db, "manager1", "en")
    data = _bad_workbook(tmp_path, chinese=False)
    assert 'id="errors-download"' in _upload(client, data).get_data(as_text=True)
    response = client.get("/book/upload/errors.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "import-errors.csv" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))
    assert rows[0] == ["Sheet", "Row", "Column", "Value", "Problem"]
    assert ["cash_flows", "2", "amount_cny", "12万", "Not an amount in figures"] in rows
    assert not any(CJK.search(r[4]) for r in rows)
    assert ["子基金投资明细", "", "", "子基金投资明细", "The sheet appears twice"] in rows  # the tab as named
    # the same list, read in Chinese: the same errors, in Chinese
    client.get("/lang/zh")
    rows_zh = list(csv.reader(io.StringIO(client.get("/book/upload/errors.csv").get_data().decode("utf-8-sig"))))
    assert rows_zh[0] == list(schema.ERRORS_HEADER) and len(rows_zh) == len(rows)
    assert ["cash_flows", "2", "amount_cny", "12万", "不是数字金额"] in rows_zh


def test_a_book_error_keeps_its_key_through_json(tmp_path):
    data = _bad_workbook(tmp_path, chinese=True)
    _frames, errors = schema.read_book(io.BytesIO(data), filename="bad.xlsx")
    back = schema.errors_from_json(schema.errors_json(errors))
    assert back == errors and [str(e) for e in back] == [str(e) for e in errors]
    assert [e.shown("en") for e in back] == [e.shown("en") for e in errors]
    assert all(isinstance(e.message, Message) for e in back)
    one = next(e for e in errors if e.column == "估值方法")
    assert str(one) == "valuations 第1行 估值方法: 估值方法 — 列 估值方法 重复"
    assert one.shown("en") == "valuations row 1 估值方法: 估值方法 — The column 估值方法 appears twice"
    # the machine's codes kept beside what the workbook writes
    amount = next(e for e in back if e.sheet == "cash_flows")
    assert (amount.column, amount.column_written, amount.sheet_written) == ("amount_cny", "金额", "cash_flows")
    assert amount.as_json()["column"] == "amount_cny"
    assert schema.BookError.from_json(one.as_json()) == one
    # an error kept before the keys (a job's outcome of then) is its text
    old = schema.BookError.from_json({"sheet": "funds", "row": 2, "column": "kind", "value": "x", "message": "旧的"})
    assert old.message_shown("en") == "旧的"


def _future_flow_book(client) -> bytes:
    from tests.test_staged_imports import edited

    future = (sanity.today() + dt.timedelta(days=10)).isoformat()
    return edited(client.get("/book/download").data, "cash_flows", {},
                  append=["QY-SF1", future, "distribution", 1000, "提前记账", None])


def test_a_change_sets_doubts_in_the_readers_language(app, db, book):
    uploader = _client(app, db, "manager1", "en")
    response = _upload(uploader, _future_flow_book(uploader))
    cs_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    checker = _client(app, db, "manager2", "en")
    page = checker.get(f"/book/change-sets/{cs_id}").get_data(as_text=True)
    doubts = page.split('id="doubts"', 1)[1].split("</section>", 1)[0]
    today = sanity.today().isoformat()
    future = (sanity.today() + dt.timedelta(days=10)).isoformat()
    assert f"The date {future} is after today ({today})" in doubts
    cells = re.findall(r"<td>(.*?)</td>", doubts, re.S)
    assert cells and not any(CJK.search(html.unescape(cell)) for cell in cells), cells
    # stored as the Chinese text plus the key and its arguments, JSON-safe
    cs = db.session.get(ChangeSet, cs_id)
    kept = cs.preview["cash_flows"]["doubts"][0]
    assert kept["doubts"] == [f"日期 {future} 晚于今天（{today}）"]
    assert kept["said"] == [{"key": "future", "args": {"record": "date", "day": future, "today_day": today}}]
    assert doubts_of(cs)[0]["doubts"][0].shown("en") == f"The date {future} is after today ({today})"
    checker.get("/lang/zh")
    page = checker.get(f"/book/change-sets/{cs_id}").get_data(as_text=True)
    assert f"日期 {future} 晚于今天（{today}）" in page
    # a change set staged before the keys were kept: its Chinese text, in either language
    del kept["said"]
    flag_modified(cs, "preview")
    db.session.commit()
    checker.get("/lang/en")
    page = checker.get(f"/book/change-sets/{cs_id}").get_data(as_text=True)
    assert f"日期 {future} 晚于今天（{today}）" in page.split('id="doubts"', 1)[1]


def test_a_change_set_that_no_longer_imports_says_why_in_the_readers_language(app, db, book):
    """The book moved under a pending change set (its new company's credit code registered
    since): the apply is refused, the error of the file as it would be imported now inside."""
    from tests.test_staged_imports import edited, exported

    code = credit_code(4242)
    data = edited(exported(book), "companies", {}, append=["C-NEW", "新企业", code, "digital", "330206", None])
    change_set = stage_book(book, io.BytesIO(data), username="manager1", filename="b.xlsx").change_set
    book.add(Company(code="C-OTHER", name="另一企业", credit_code=code, sector="digital", region_code="330206"))
    book.commit()
    with pytest.raises(FieldErrors) as refused:
        apply_change_set(book, change_set.id, username="manager2")
    message = refused.value.errors[0][1]
    assert message.startswith("该变更集的文件已不能导入（台账已变化）：companies 第") and \
        message.endswith(f"credit_code: {code} — 该统一社会信用代码已登记")
    checker = _client(app, db, "manager2", "en")
    page = checker.post(f"/book/change-sets/{change_set.id}/apply", data={}, follow_redirects=True)
    text = html.unescape(page.get_data(as_text=True))
    assert "This change set's file can no longer be imported (the book has changed): companies row " in text
    assert f"credit_code: {code} — This unified social credit code is already registered" in text


def test_a_large_uploads_errors_by_its_job_in_english(app, db, book, tmp_path):
    """A book staged by a job (web/queue.py): its errors kept in the job's outcome with their
    keys, shown in the language of whoever opens the result; the CSV as well."""
    from tests.test_jobs import _follow
    from tests.test_upload_jobs import _status

    app.config["UPLOAD_JOB_MIN_BYTES"] = 0  # every upload is a job's
    client = _client(app, db, "manager1", "en")
    response = _upload(client, _bad_workbook(tmp_path, chinese=True))
    job_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    status = _follow(client, _status(client, f"/book/upload/jobs/{job_id}.json"))
    assert status["state"] == "done", status
    rows = _error_rows(client.get(status["download_url"]).get_data(as_text=True))
    assert ("cash_flows", "2", "金额", "12万", "Not an amount in figures") in rows
    assert ("valuations", "1", "估值方法", "估值方法", "The column 估值方法 appears twice") in rows
    assert not any(CJK.search(message.replace(column, "")) for _s, _r, column, _v, message in rows)
    rows = list(csv.reader(io.StringIO(client.get("/book/upload/errors.csv").get_data().decode("utf-8-sig"))))
    assert rows[0] == ["Sheet", "Row", "Column", "Value", "Problem"]
    assert ["cash_flows", "2", "金额", "12万", "Not an amount in figures"] in rows
    client.get("/lang/zh")
    rows = _error_rows(client.get(status["download_url"]).get_data(as_text=True))
    assert ("cash_flows", "2", "金额", "12万", "不是数字金额") in rows
    assert ("valuations", "1", "估值方法", "估值方法", "列 估值方法 重复") in rows


def _chinese_workbook(tmp_path, rows, name: str) -> bytes:
    """A book as a person keeps it in Excel: Chinese headers and Chinese tab names."""
    workbook = load_workbook(write_xlsx_book(tmp_path / f"{name}.xlsx", rows, chinese=True))
    for sheet in workbook.worksheets:
        sheet.title = schema.SHEET_ZH[sheet.title]
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def _bad_books() -> dict[str, dict]:
    """One bad book per kind of mistake a person makes (the first row of a sheet is Excel's row 2)."""
    books = {}
    rows = example_book()
    del rows["companies"]
    books["missing_sheet"] = rows
    rows = example_book()
    for r in rows["investments"]:
        del r["date"]
    books["missing_column"] = rows
    rows = example_book()
    rows["investments"][0]["date"] = "2025-02-30"
    books["bad_date"] = rows
    rows = example_book()
    rows["cash_flows"][0]["amount_cny"] = "12万"
    books["bad_amount"] = rows
    rows = example_book()
    rows["investments"][1]["fund_code"] = "NOPE"
    books["unknown_fund"] = rows
    rows = example_book()
    rows["investments"][1]["id"] = rows["investments"][0]["id"]
    books["dup_id"] = rows
    rows = example_book()
    rows["companies"][0]["credit_code"] = rows["companies"][0]["credit_code"][:-1] + "0"
    books["bad_credit_code"] = rows
    return books


# what a person sees: (sheet, row, column, problem), in Chinese and in English
SEEN = {
    "missing_sheet": [("被投企业", "", "", "缺少必需的工作表 被投企业", "The required sheet 被投企业 is missing")],
    "missing_column": [("投资", "1", "投资日期", "缺少必需的列 投资日期", "The required column 投资日期 is missing")],
    "bad_date": [("投资", "2", "投资日期", "不存在的日期", "No such date")],
    "bad_amount": [("现金流", "2", "金额", "不是数字金额", "Not an amount in figures")],
    "unknown_fund": [("投资", "3", "基金代码", "未知的基金", "Unknown fund")],
    "dup_id": [("投资", "3", "投资编号", "投资编号重复（与第2行重复）", "Investment ID repeated (as in row 2)")],
    "bad_credit_code": [("被投企业", "2", "统一社会信用代码", "统一社会信用代码无效（18 位，校验位不符）",
                         "Not a valid unified social credit code (18 characters, the check character is wrong)")],
}


def test_a_chinese_workbooks_errors_say_where_as_the_workbook_writes_it(app, db, book, tmp_path):
    """A workbook with Chinese tabs and headers: each error names its sheet, row and column as
    the person sees them there (投资, 投资日期), in Chinese and in English alike, never a field
    code (investments, date, fund_code); the problem in the reader's language. The machine's
    codes stay in the error's JSON."""
    readers = {lang: _client(app, db, f"manager_{lang}", lang) for lang in ("zh", "en")}
    codes = set(schema.SHEETS) | {c.name for cols in schema.SHEETS.values() for c in cols}
    for name, rows in _bad_books().items():
        data = _chinese_workbook(tmp_path, rows, name)
        for lang, client in readers.items():
            seen = [(sheet, row, column, message)
                    for sheet, row, column, _value, message in _error_rows(_upload(client, data).get_data(as_text=True))]
            expected = [(sheet, row, column, zh if lang == "zh" else en) for sheet, row, column, zh, en in SEEN[name]]
            assert seen[:len(expected)] == expected, (name, lang, seen)
            for sheet, _row, column, message in seen:
                assert sheet not in codes and column not in codes, (name, lang, sheet, column)
                assert not any(code in message for code in codes if "_" in code), (name, message)
        _frames, errors = schema.read_book(io.BytesIO(data), filename=f"{name}.xlsx")
        first = errors[0].as_json()
        assert first["sheet"] in schema.SHEETS and (not first["column"] or first["column"] in codes), first
    # in a line (the command line, a change set that no longer imports), the same words
    _frames, errors = schema.read_book(io.BytesIO(_chinese_workbook(tmp_path, _bad_books()["bad_date"], "d")))
    assert str(errors[0]) == "投资 第2行 投资日期: 2025-02-30 — 不存在的日期"
    assert errors[0].shown("en") == "投资 row 2 投资日期: 2025-02-30 — No such date"


def test_a_workbook_with_code_headers_is_answered_in_its_own_words(app, db, book, tmp_path):
    """A workbook written with the interchange headers (fund_code): those are what its reader
    sees, so those are what the errors name."""
    rows = _bad_books()["unknown_fund"]
    data = (write_xlsx_book(tmp_path / "codes.xlsx", rows)).read_bytes()
    for lang, problem in (("zh", "未知的基金"), ("en", "Unknown fund")):
        rows_seen = _error_rows(_upload(_client(app, db, f"m_{lang}", lang), data).get_data(as_text=True))
        assert rows_seen[0] == ("investments", "3", "fund_code", "NOPE", problem)
    missing = example_book()
    for r in missing["investments"]:
        del r["date"]
    rows_seen = _error_rows(_upload(_client(app, db, "m_zh2", "zh"),
                                    write_xlsx_book(tmp_path / "m.xlsx", missing).read_bytes()).get_data(as_text=True))
    assert rows_seen[0] == ("investments", "1", "date", "", "缺少必需的列 date（投资日期）")


def test_a_book_that_changes_nothing_counts_its_sheets_in_words(app, db, book):
    """Uploading the book as it stands answers with each sheet's rows by the sheet's name in
    the reader's language (投资 / Investment), not its code (investments)."""
    for lang, words in (("zh", ("投资", "现金流", "子基金投资明细")), ("en", ("Investment", "Cash flow", "Sub-fund holding"))):
        client = _client(app, db, f"manager_{lang}", lang)
        page = _upload(client, client.get("/book/download").data).get_data(as_text=True)
        counts = page.split('id="import-counts"', 1)[1].split("</table>", 1)[0]
        sheets = re.findall(r"<tr><td>(.*?)</td>", counts)
        assert set(words) <= set(sheets), (lang, sheets)
        assert not set(schema.SHEETS) & set(sheets), (lang, sheets)
