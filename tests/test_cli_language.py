"""The command line's language (web/cli/language.py): Chinese by default, English with
PORTFOLIO_LANG=en or the app's CLI_LANGUAGE. Sentences, table headers and the domain's
refusals (by key) follow it; in English no Chinese character is left in them."""
from __future__ import annotations

import re

import pytest

from tests.conftest import EXAMPLE_BOOK, make_user

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")
EN = {"PORTFOLIO_LANG": "en"}


@pytest.fixture
def imported(db):
    from portfolio.interchange.importing import import_book

    make_user(db, "importer", "manager")
    assert import_book(db.session, EXAMPLE_BOOK, username="importer").ok
    db.session.commit()
    return db


def _bad_csv(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("date,level\n2020-13-01,1\n2020-01-07,-5\n2020-01-07,5\n2020-01-07,6\n", encoding="utf-8")
    return bad


def test_a_bad_index_csv_is_refused_row_by_row_in_english(db, runner, tmp_path):
    result = runner.invoke(args=["import-index", "GEN", str(_bad_csv(tmp_path))], env=EN)
    assert result.exit_code != 0
    refusals = [line for line in result.output.splitlines() if line.strip()]
    assert refusals == ["Error: Row 2: the date '2020-13-01' is not YYYY-MM-DD",
                        "Row 3: the level '-5' must be a positive number",
                        "Row 5: the date 2020-01-07 is there twice"]
    assert not CJK.search(result.output)
    columns = tmp_path / "columns.csv"
    columns.write_text("day,value\n2020-01-02,1\n", encoding="utf-8")
    result = runner.invoke(args=["import-index", "GEN", str(columns)], env=EN)
    assert "The CSV needs the two columns date and level" in result.output and not CJK.search(result.output)
    result = runner.invoke(args=["import-index", "X" * 65, str(columns)], env=EN)
    assert "An index name has 1 to 64 characters" in result.output


def test_the_same_refusals_stay_chinese_by_default(db, runner, tmp_path):
    result = runner.invoke(args=["import-index", "GEN", str(_bad_csv(tmp_path))])
    assert result.exit_code != 0
    assert [line for line in result.output.splitlines() if line.strip()] == [
        "Error: 第 2 行：日期 '2020-13-01' 不是 YYYY-MM-DD", "第 3 行：指数点位 '-5' 须为正数", "第 5 行：日期 2020-01-07 重复"]


def test_an_index_imported_is_echoed_in_the_command_lines_language(db, app, runner, tmp_path):
    path = tmp_path / "gen.csv"
    path.write_text("date,level\n2020-01-02,3000.5\n2020-01-03,3010\n", encoding="utf-8")
    zh = runner.invoke(args=["import-index", "GEN", str(path)])
    assert zh.exit_code == 0 and zh.output.strip() == "指数 GEN：2 行，新增 2，更新 0，未变 0"
    app.config["CLI_LANGUAGE"] = "en"  # the app's setting, without the variable
    en = runner.invoke(args=["import-index", "GEN", str(path)])
    assert en.exit_code == 0 and en.output.strip() == "Index GEN: rows 2; new 0; changed 0; unchanged 2"


def test_the_report_table_in_english(imported, runner):
    result = runner.invoke(args=["report", "QY", "--as-of", "2025-12-31", "--format", "table"], env=EN)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "amounts in CNY 10k" in out and "Summary" in out and "Fund total" in out and "By sector" in out
    assert "Commitment" in out and "Paid-in" in out and "Advanced materials" in out and "59,400.00" in out
    assert "Compliance" in out and "Rule" in out
    # the book's own names (the fund's, its targets') are data, as the book has them; nothing else is Chinese
    words = [line for line in out.splitlines() if not line.startswith("QY")]
    assert not [line for line in words if CJK.search(line)]
    zh = runner.invoke(args=["report", "QY", "--as-of", "2025-12-31", "--format", "table"])
    assert "汇总" in zh.output and "基金合计" in zh.output and "先进材料" in zh.output and "合规检查" in zh.output


def test_report_refusals_in_english(imported, runner):
    missing = runner.invoke(args=["report", "QY", "--as-of", "2025-12-31", "--index", "NOPE"], env=EN)
    assert missing.exit_code != 0 and "There are no data for the index NOPE" in missing.output
    assert not CJK.search(missing.output)
    fund = runner.invoke(args=["report", "NOFUND", "--as-of", "2025-12-31"], env=EN)
    assert fund.exit_code != 0 and "There is no fund NOFUND" in fund.output and not CJK.search(fund.output)
    day = runner.invoke(args=["report", "QY", "--as-of", "2025/12/31"], env=EN)
    assert day.exit_code != 0 and "The date must be written YYYY-MM-DD: 2025/12/31" in day.output
    assert not CJK.search(day.output)
    assert "没有指数 NOPE 的数据" in runner.invoke(args=["report", "QY", "--as-of", "2025-12-31",
                                                     "--index", "NOPE"]).output


def test_a_refused_job_in_the_command_lines_language(imported, runner):
    out = runner.invoke(args=["quarterly-report", "QY", "2025Q4", "--index", "NOPE", "--output", "/dev/null"],
                        env=EN)
    assert out.exit_code != 0 and "There are no data for the index NOPE" in out.output, out.output
    assert not CJK.search(out.output)


def test_create_user_refusal_and_import_messages_in_english(db, runner, tmp_path):
    short = runner.invoke(args=["create-user", "bob", "--role", "viewer", "--password", "short"], env=EN)
    assert short.exit_code != 0 and "A password has at least" in short.output and not CJK.search(short.output)
    result = runner.invoke(args=["import-book", str(EXAMPLE_BOOK)], env=EN)
    assert result.exit_code == 0, result.output
    first = result.output.splitlines()[0]
    assert first.startswith("Imported, batch ") and result.output.splitlines()[1].split() == [
        "Sheet", "New", "Unchanged", "Changed"]
    # each sheet by its name in the command line's language, as the upload page counts them,
    # not its code (investments, sub_fund_holdings)
    sheets = [line[:20].strip() for line in result.output.splitlines()[2:] if line.strip()]
    assert {"Investment", "Cash flow", "Sub-fund holding"} <= set(sheets) and "investments" not in sheets, sheets
    chinese = runner.invoke(args=["import-book", str(EXAMPLE_BOOK)])
    assert chinese.exit_code == 0 and "投资" in chinese.output and "sub_fund_holdings" not in chinese.output


def test_the_progress_bar_and_the_backup_in_english(imported, runner, tmp_path):
    out = tmp_path / "b.zip"
    result = runner.invoke(args=["backup", str(out), "--progress"], env=EN)
    assert result.exit_code == 0, result.output
    assert "tables written" in result.output and f"Backup written: {out}" in result.output
    assert not CJK.search(result.output)


def test_a_refused_import_lists_its_errors_in_the_command_lines_language(db, runner, tmp_path):
    """import-book's refusal, one error a line (sheet, row, column, value, problem): in English
    with PORTFOLIO_LANG=en, in Chinese by default; nothing written either way."""
    from tests.book_files import example_book, write_xlsx_book

    rows = example_book()
    rows["investments"][0]["date"] = "2025-02-30"  # no such date
    path = write_xlsx_book(tmp_path / "bad.xlsx", rows, chinese=True)
    english = runner.invoke(args=["import-book", str(path)], env=EN)
    assert english.exit_code == 1
    lines = [line for line in english.output.splitlines() if line.strip()]
    # the tab and the header as the workbook writes them (a tab named by its code, a Chinese
    # header: what the person finds in their file), the rest in English
    error = next(line for line in lines if line.startswith("investments row 2 投资日期: 2025-02-30 — "))
    assert not CJK.search(error.split(" — ", 1)[1]), error
    assert lines[-1] == "Import failed (errors: 1); nothing written"
    chinese = runner.invoke(args=["import-book", str(path)])
    assert chinese.exit_code == 1 and "导入失败：1 处错误，未写入任何数据" in chinese.output
    assert "第2行" in chinese.output


def test_the_json_reports_checks_in_english(imported, runner, client, as_role):
    """`flask report` prints the API's body, its checks' sentences in the command line's
    language: the same bytes as the API answers an English asker, the figures as in Chinese."""
    import json

    args = ["report", "QY", "--as-of", "2025-06-30"]
    english = runner.invoke(args=args, env=EN)
    chinese = runner.invoke(args=args)
    assert english.exit_code == chinese.exit_code == 0, english.output + chinese.output
    en, zh = json.loads(english.output), json.loads(chinese.output)
    assert {k: v for k, v in en.items() if k != "compliance"} == {k: v for k, v in zh.items() if k != "compliance"}
    assert not [c for c in en["compliance"] if CJK.search(c["message"])]
    assert all(CJK.search(c["message"]) for c in zh["compliance"])
    assert "(missing: sub_fund_holdings)" in english.output and "（missing: sub_fund_holdings）" in chinese.output
    as_role("viewer")
    api = client.get("/api/v1/funds/QY/report?as_of=2025-06-30", headers={"Accept-Language": "en"})
    assert api.data.decode() == english.output
