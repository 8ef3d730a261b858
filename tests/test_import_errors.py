"""A bad book changes nothing and every error is listed with sheet, Excel row, column, value
(interchange.md, "Rules of an import"). One bad book with every kind of error at once, and one
test per kind."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import func, select

from models import AuditEntry, CashFlow, Company, Fund, Investment
from portfolio.interchange.importing import import_book, plan_import
from tests.book_files import NO_HEADER, credit_code, example_book, write_csv_book, write_xlsx_book


def _append(book, sheet, row):
    book.setdefault(sheet, []).append(row)
    return len(book[sheet]) + 1  # the Excel row: header is row 1


def _set(book, sheet, index, column, value):
    book[sheet][index][column] = value
    return index + 2


INV = {"fund_code": "QY", "date": "2024-01-01", "commitment_cny": "1000000"}

# each case: (id, mutate(book) -> (sheet, row, column), words expected in the message)
CASES = [
    ("credit_code", lambda b: ("companies", _set(b, "companies", 0, "credit_code", "913302067JH4BXKF5Z"),
                               "credit_code"), "校验"),
    ("unknown_sector", lambda b: ("companies", _set(b, "companies", 1, "sector", "biotech"), "sector"), "未知"),
    ("unknown_kind", lambda b: ("funds", _set(b, "funds", 0, "kind", "hedge_fund"), "kind"), "未知"),
    ("unknown_mode", lambda b: ("investments", _append(b, "investments", {
        **INV, "id": "X-MODE", "mode": "loan", "target_code": "C1"}), "mode"), "未知"),
    ("unknown_type", lambda b: ("cash_flows", _set(b, "cash_flows", 0, "type", "refund"), "type"), "未知"),
    ("unknown_method", lambda b: ("valuations", _set(b, "valuations", 0, "method", "guess"), "method"), "未知"),
    ("unknown_instrument", lambda b: ("investments", _set(b, "investments", 1, "instrument", "warrant"),
                                      "instrument"), "未知"),
    ("unknown_stage", lambda b: ("investments", _set(b, "investments", 1, "stage", "late"), "stage"), "未知"),
    ("negative_amount", lambda b: ("cash_flows", _set(b, "cash_flows", 1, "amount_cny", "-5"), "amount_cny"),
     "负数"),
    ("non_numeric_amount", lambda b: ("cash_flows", _set(b, "cash_flows", 2, "amount_cny", "12万"),
                                      "amount_cny"), "数字"),
    ("three_decimals", lambda b: ("valuations", _set(b, "valuations", 1, "fair_value_cny", "1.234"),
                                  "fair_value_cny"), "两位小数"),
    ("size_zero", lambda b: ("sub_funds", _set(b, "sub_funds", 0, "size_cny", "0"), "size_cny"), "大于 0"),
    ("flow_amount_zero", lambda b: ("cash_flows", _set(b, "cash_flows", 3, "amount_cny", "0.00"),
                                    "amount_cny"), "大于 0"),
    ("impossible_date", lambda b: ("companies", _set(b, "companies", 2, "founded", "2025-02-30"), "founded"),
     "不存在"),
    ("bad_date_text", lambda b: ("valuations", _set(b, "valuations", 2, "as_of", "31/12/2024"), "as_of"),
     "YYYY-MM-DD"),
    ("flow_unknown_investment", lambda b: ("cash_flows", _append(b, "cash_flows", {
        "investment_id": "NOPE", "date": "2024-01-01", "type": "contribution", "amount_cny": "5"}),
        "investment_id"), "未知"),
    ("alongside_not_held", lambda b: (
        _append(b, "sub_funds", {**b["sub_funds"][0], "code": "SF2", "size_cny": "1000000"}) and "investments",
        _append(b, "investments", {**INV, "id": "X-CO", "mode": "co_invest", "target_code": "C3",
                                   "alongside_code": "SF2"}), "alongside_code"), "没有投资该子基金"),
    ("unknown_company", lambda b: ("investments", _append(b, "investments", {
        **INV, "id": "X-D", "mode": "direct", "target_code": "C99"}), "target_code"), "未知的企业"),
    ("unknown_sub_fund", lambda b: ("investments", _append(b, "investments", {
        **INV, "id": "X-SF", "mode": "sub_fund", "target_code": "SF9"}), "target_code"), "未知的子基金"),
    ("unknown_fund", lambda b: ("investments", _append(b, "investments", {
        **INV, "id": "X-F", "fund_code": "ZZ", "mode": "direct", "target_code": "C1"}), "fund_code"), "未知的基金"),
    ("unknown_parent", lambda b: ("funds", _set(b, "funds", 0, "parent_code", "PARENT"), "parent_code"),
     "上级基金"),
    ("parent_cycle", lambda b: (_append(b, "funds", {**b["funds"][0], "code": "QYB", "parent_code": "QY"})
                                and "funds", _set(b, "funds", 0, "parent_code", "QYB"), "parent_code"), "成环"),
    ("duplicate_code", lambda b: ("companies", _append(b, "companies", {
        **b["companies"][0], "credit_code": credit_code(7)}), "code"), "重复"),
    ("flow_before_investment", lambda b: ("cash_flows", _append(b, "cash_flows", {
        "investment_id": "QY-D1", "date": "2020-01-01", "type": "contribution", "amount_cny": "5"}), "date"),
     "早于"),
    ("unknown_column", lambda b: (b["sub_funds"][0].update(colour="blue") or "sub_funds", 1, "colour"), "未知的列"),
    ("missing_required_column", lambda b: ([r.pop("region_code") for r in b["sub_funds"]] and "sub_funds", 1,
                                           "region_code"), "缺少必需的列"),
    ("missing_required_cell", lambda b: ("companies", _set(b, "companies", 3, "name", ""), "name"), "必填"),
    ("no_header_row", lambda b: (b.update(sub_fund_holdings=NO_HEADER) or "sub_fund_holdings", 1, ""),
     "表头"),
    ("ownership_range", lambda b: ("investments", _set(b, "investments", 0, "ownership_pct", "120"),
                                   "ownership_pct"), "0–100"),
    ("alongside_for_direct", lambda b: ("investments", _set(b, "investments", 1, "alongside_code", "SF1"),
                                        "alongside_code"), "只有跟投"),
    ("target_wrong_kind", lambda b: ("investments", _append(b, "investments", {
        **INV, "id": "X-K", "mode": "sub_fund", "target_code": "C1"}), "target_code"), "应为子基金代码"),
    ("duplicate_ref", lambda b: (_append(b, "cash_flows", {
        "investment_id": "QY-SF1", "date": "2024-06-30", "type": "contribution", "amount_cny": "5", "ref": "R1"})
        and "cash_flows", _append(b, "cash_flows", {
            "investment_id": "QY-SF1", "date": "2024-07-30", "type": "contribution", "amount_cny": "6",
            "ref": "R1"}), "ref"), "凭证号"),
    ("currency", lambda b: ("funds", _set(b, "funds", 0, "currency", "USD"), "currency"), "CNY"),
    ("duplicate_valuation", lambda b: ("valuations", _append(b, "valuations", {
        "investment_id": "QY-SF1", "as_of": "2025-09-30", "fair_value_cny": "1", "method": "cost"}), "as_of"),
     "重复"),
    ("bad_region", lambda b: ("companies", _set(b, "companies", 0, "region_code", "3302"), "region_code"),
     "6 位"),
    # a count past what the integer columns hold (PostgreSQL refused it: the import's bare database error)
    ("headcount_too_large", lambda b: ("investments", _set(b, "investments", 1, "headcount", "99999999999"),
                                       "headcount"), "不能大于 2147483647"),
    ("term_too_large", lambda b: ("sub_funds", _set(b, "sub_funds", 0, "term_years", "2147483648"),
                                  "term_years"), "不能大于"),
    # a control character: a workbook cannot hold it (the book's download failed), PostgreSQL refuses \x00
    ("control_character", lambda b: ("companies", _set(b, "companies", 1, "name", "甬\x01材"), "name"), "控制字符"),
    # text past its column's width: PostgreSQL's COPY refused the whole import with a bare
    # database error, and SQLite kept it whole
    ("name_too_long", lambda b: ("companies", _set(b, "companies", 0, "name", "甬" * 201), "name"),
     "不能超过 200 个字符"),
    ("manager_too_long", lambda b: ("sub_funds", _set(b, "sub_funds", 0, "manager", "管" * 201), "manager"),
     "不能超过 200 个字符"),
    ("round_too_long", lambda b: ("investments", _set(b, "investments", 1, "round", "A" * 65), "round"),
     "不能超过 64 个字符"),
    ("code_too_long", lambda b: ("cash_flows", _set(b, "cash_flows", 0, "ref", "R" * 65), "ref"),
     "不能超过 64 个字符"),
    # a note as long as the flow form takes and no longer (it had no limit on the way in by a book)
    ("note_too_long", lambda b: ("cash_flows", _set(b, "cash_flows", 2, "note", "注" * 2001), "note"),
     "不能超过 2000 个字符"),
]


def _count(db, model):
    return db.session.scalar(select(func.count()).select_from(model))


def _assert_nothing_written(db):
    for model in (Fund, Company, Investment, CashFlow, AuditEntry):
        assert _count(db, model) == 0


@pytest.mark.parametrize("case_id,mutate,words", CASES, ids=[c[0] for c in CASES])
def test_each_kind_of_error(db, tmp_path, case_id, mutate, words):
    book = example_book()
    sheet, row, column = mutate(book)
    result = import_book(db.session, write_csv_book(tmp_path / "book", book), username="tester")
    assert not result.ok
    where = [(e.sheet, e.row, e.column) for e in result.errors]
    assert where == [(sheet, row, column)], [str(e) for e in result.errors]
    assert words in result.errors[0].message
    _assert_nothing_written(db)


def test_one_bad_book_lists_every_error(db, tmp_path):
    book = example_book()
    expected = [(case_id, mutate(book), words) for case_id, mutate, words in CASES]
    result = import_book(db.session, write_csv_book(tmp_path / "book", book), username="tester")
    assert not result.ok
    for case_id, (sheet, row, column), words in expected:
        hits = [e for e in result.errors if (e.sheet, e.row, e.column) == (sheet, row, column)
                and words in e.message]
        assert hits, f"{case_id}: no error at {sheet} row {row} {column}"
    assert len(result.errors) == len(CASES)
    _assert_nothing_written(db)


def test_a_note_as_long_as_the_form_takes_goes_in_whole(db, tmp_path):
    book = example_book()
    book["cash_flows"][2]["note"] = "注" * 2000
    result = import_book(db.session, write_csv_book(tmp_path / "book", book), username="tester")
    assert result.ok, [str(e) for e in result.errors]
    assert "注" * 2000 in db.session.scalars(select(CashFlow.note)).all()


def test_error_carries_the_value_and_prints_in_one_line(db, tmp_path):
    book = example_book()
    book["cash_flows"][1]["amount_cny"] = "-5"
    result = import_book(db.session, write_csv_book(tmp_path / "book", book), username="tester")
    (error,) = result.errors
    assert (error.sheet, error.row, error.column, error.value) == ("cash_flows", 3, "amount_cny", "-5")
    assert str(error) == "cash_flows 第3行 amount_cny: -5 — 金额不能为负数"


@pytest.mark.parametrize("sheet", ["funds", "companies", "investments"])
def test_missing_required_sheet(db, tmp_path, sheet):
    book = example_book()
    del book[sheet]
    result = import_book(db.session, write_csv_book(tmp_path / "book", book), username="tester")
    assert not result.ok
    assert any(e.sheet == sheet and "缺少必需的工作表" in e.message for e in result.errors)
    _assert_nothing_written(db)


def test_not_a_workbook(db, tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_text("this is not a workbook", encoding="utf-8")
    result = import_book(db.session, path, username="tester")
    assert [(e.sheet, e.message) for e in result.errors] == [("", "不是 Excel 工作簿（.xlsx）")]
    upload = import_book(db.session, io.BytesIO(b"PK\x03\x04 broken zip"), username="tester",
                         filename="upload.xlsx")
    assert not upload.ok and "不是 Excel 工作簿" in upload.errors[0].message
    _assert_nothing_written(db)


def test_errors_in_an_xlsx_use_excel_row_numbers(db, tmp_path):
    book = example_book()
    book["valuations"][3]["method"] = "guess"
    result = import_book(db.session, write_xlsx_book(tmp_path / "b.xlsx", book, chinese=True), username="t")
    assert [(e.sheet, e.row, e.column, e.value) for e in result.errors] == [("valuations", 5, "method", "guess")]


def test_text_widths_are_the_database_columns():
    """Each code or text column of a sheet is held to its table's column width (a column the
    tables name otherwise, such as target_code, to the width of a code); a note, in a column of
    unbounded text, to what the flow form takes."""
    from models import Base
    from portfolio.interchange.schema import CODE_LENGTH, SHEETS
    from portfolio.record_rules import NOTE_LENGTH

    assert Base.metadata.tables["funds"].c["code"].type.length == CODE_LENGTH
    for sheet, columns in SHEETS.items():
        table = Base.metadata.tables[sheet]
        for col in columns:
            if col.kind not in ("code", "text"):
                continue
            width = getattr(table.c[col.name].type, "length", None) if col.name in table.c else CODE_LENGTH
            if col.name == "credit_code":  # 18 characters and a check digit: its own rule
                assert width == 18 and col.max_len == CODE_LENGTH
                continue
            if width is None:  # Text
                assert col.max_len == NOTE_LENGTH, (sheet, col.name)
                continue
            assert col.max_len == width, (sheet, col.name, col.max_len, width)


def test_a_flow_before_its_investment_shows_the_date_as_written(db, tmp_path):
    """A check across sheets names the value as the reader wrote it: 2020-01-01, not the
    numpy text 2020-01-01T00:00:00.000000000."""
    book = example_book()
    book["cash_flows"][0]["date"] = "2020-01-01"
    result = import_book(db.session, write_csv_book(tmp_path / "book", book), username="tester")
    assert [(e.sheet, e.row, e.column, e.value) for e in result.errors] == [("cash_flows", 2, "date", "2020-01-01")]


def test_a_sheet_given_twice_in_a_folder_is_an_error_not_dropped(db, tmp_path):
    """funds.csv beside 基金.csv: one of them had been read and the other dropped without a
    word (a workbook with two such sheets was already refused)."""
    folder = write_csv_book(tmp_path / "book", example_book())
    (folder / "基金.csv").write_text("code,name,kind,size_cny,vintage_year\nXX,另一只基金,other,1000,2024\n",
                                    encoding="utf-8")
    result = import_book(db.session, folder, username="tester")
    assert [(e.sheet, e.message.key) for e in result.errors] == [("基金", "sheet_duplicated")]
    _assert_nothing_written(db)


@pytest.mark.parametrize(("typed", "fen"), [("150,000,000.00", 15_000_000_000), ("1,500", 150_000),
                                           ("-0", 0), ("1,5", None), ("1,5000", None), ("15,00,000", None)])
def test_an_amount_with_thousands_separators_is_read_as_excel_writes_it(db, tmp_path, typed, fen):
    """What Excel's Save as CSV writes for a cell shown as 150,000,000.00 is that amount; only
    whole groups of three are separators (1,5 could be 1.5 or 15: refused, as on the forms)."""
    book = example_book()
    book["cash_flows"][0]["amount_cny"] = typed
    result = import_book(db.session, write_csv_book(tmp_path / "book", book), username="tester")
    if fen is None or fen == 0:
        assert [(e.row, e.column) for e in result.errors] == [(2, "amount_cny")]
        return
    assert result.ok, [str(e) for e in result.errors]
    first = db.session.execute(select(CashFlow).order_by(CashFlow.id)).scalars().first()
    assert first.amount_cny * 100 == fen


def _as_excel_stores(path, *doubles: float):
    """The workbook with each number cell of `doubles` written as Excel itself stores it, to 17
    significant digits (openpyxl writes 16, which already rounds the noise away)."""
    import zipfile

    with zipfile.ZipFile(path) as z:
        parts = {name: z.read(name) for name in z.namelist()}
    for name, data in parts.items():
        if name.startswith("xl/worksheets/"):
            for value in doubles:
                data = data.replace(f"<v>{value:.16g}</v>".encode(), f"<v>{value:.17g}</v>".encode())
            parts[name] = data
    with zipfile.ZipFile(path, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
    return path


def test_a_formula_result_is_read_as_excel_shows_it(db, tmp_path):
    """A number cell whose double runs past 15 significant digits (a formula's float noise:
    100.1 * 3 = 300.29999999999995, stored so by Excel) is read as Excel shows it, 300.3;
    1.005 typed stays three places and is refused."""
    book = example_book()
    noisy_amount, noisy_pct = 100.1 * 3, 0.1 * 3 * 10  # 300.29999999999995, 3.0000000000000004
    book["cash_flows"][0]["amount_cny"] = noisy_amount
    book["investments"][1]["ownership_pct"] = noisy_pct
    path = _as_excel_stores(write_xlsx_book(tmp_path / "b.xlsx", book), noisy_amount, noisy_pct)
    with __import__("zipfile").ZipFile(path) as z:
        assert any(b"<v>300.29999999999995</v>" in z.read(n) for n in z.namelist() if n.startswith("xl/worksheets/"))
    result = import_book(db.session, path, username="tester")
    assert result.ok, [str(e) for e in result.errors]
    first = db.session.execute(select(CashFlow).order_by(CashFlow.id)).scalars().first()
    assert str(first.amount_cny) == "300.30"
    assert str(db.session.get(Investment, book["investments"][1]["id"]).ownership_pct).rstrip("0").rstrip(".") == "3"
    db.session.rollback()
    book["cash_flows"][0]["amount_cny"] = 1.005
    refused = import_book(db.session, write_xlsx_book(tmp_path / "c.xlsx", book), username="tester")
    assert [(e.row, e.column, e.value) for e in refused.errors] == [(2, "amount_cny", "1.005")]


def _coded_cells():
    """Every coded column of the book (type, sector, mode, kind, instrument, stage, method,
    currency): a cell of the example book that holds one of its codes (set where it has none)."""
    from portfolio.interchange.schema import SHEETS

    book = example_book()
    for sheet, columns in SHEETS.items():
        for col in columns:
            if col.kind != "vocab":
                continue
            # (not a sub-fund holding: refused, the co-investment alongside it would be refused too)
            index = next((i for i, r in enumerate(book[sheet]) if r.get(col.name) not in (None, "", "sub_fund")), 0)
            code = book[sheet][index].get(col.name) or col.vocab[0]
            yield pytest.param(sheet, index, col.name, code, col.label_vocab, id=f"{sheet}.{col.name}")


CODED = list(_coded_cells())


@pytest.mark.parametrize("sheet,index,column,code,vocab", CODED)
@pytest.mark.parametrize("written", [str.capitalize, str.upper], ids=["capitalised", "upper"])
def test_a_code_in_other_letters_is_refused_saying_which_code_and_every_value(db, tmp_path, sheet, index, column,
                                                                           code, vocab, written):
    """interchange.md: codes are case-sensitive. `Distribution` in the flows' type column (and
    the like in every coded column) stays refused; the message had listed the values
    ('distribution (Distribution)', which reads as if the refused word were one of them); it
    now says codes are case-sensitive and which code to write, then every value."""
    from portfolio.vocabulary import label

    typed = written(code)
    if typed == code:  # a code all capitals (CNY): the other case
        typed = code.lower()
    book = example_book()
    row = _set(book, sheet, index, column, typed)
    result = import_book(db.session, write_csv_book(tmp_path / "book", book), username="tester")
    assert [(e.sheet, e.row, e.column, e.value) for e in result.errors] == [(sheet, row, column, typed)]
    error = result.errors[0]
    assert f"代码区分大小写，应写作 {code}" in error.message and f"（{code}）" in error.message \
        if vocab else code in error.message
    english = error.shown("en")
    assert f"codes are case-sensitive, write {code} (expected one of" in english
    assert (f"{code} ({label(vocab, code, lang='en')})" if vocab else code) in english.split("expected one of")[1]
    _assert_nothing_written(db)


@pytest.mark.parametrize("sheet,index,column,code,vocab", CODED)
def test_a_code_with_spaces_around_it_or_its_chinese_name_is_the_code(db, tmp_path, sheet, index, column, code,
                                                                    vocab):
    """A cell's spaces around its text (a typed space, a full-width one, in a CSV or a
    workbook) are no part of it; a coded cell may also give the code's Chinese name (出资)."""
    from portfolio.vocabulary import LABELS

    written = [f" {code} ", f"\u3000{code}"] + ([LABELS[vocab][code]] if vocab else [])
    for n, typed in enumerate(written):
        book = example_book()
        _set(book, sheet, index, column, typed)
        for source in (write_csv_book(tmp_path / f"book{n}", book), write_xlsx_book(tmp_path / f"b{n}.xlsx", book)):
            result = plan_import(db.session, source, username="tester")
            db.session.rollback()
            assert result.ok, (typed, [str(e) for e in result.errors])
            plan = next(p for p in result.plan if p.sheet == sheet)
            assert plan.inserts[index][column] == code, typed
