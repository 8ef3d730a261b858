"""flask import-book / export-book: errors one per line with exit code 1, counts on success."""
from __future__ import annotations

import re

from openpyxl import load_workbook
from sqlalchemy import func, select

from models import Fund
from tests.book_files import example_book, write_csv_book
from tests.conftest import EXAMPLE_BOOK


def test_import_book_command_prints_counts(runner):
    result = runner.invoke(args=["import-book", str(EXAMPLE_BOOK)])
    assert result.exit_code == 0, result.output
    assert re.search(r"现金流\s+7\s+0\s+0", result.output)
    again = runner.invoke(args=["import-book", str(EXAMPLE_BOOK)])
    assert re.search(r"现金流\s+0\s+7\s+0", again.output)


def test_import_book_command_lists_every_error_and_exits_1(runner, db, tmp_path):
    book = example_book()
    book["cash_flows"][1]["amount_cny"] = "-5"
    book["companies"][2]["founded"] = "2025-02-30"
    result = runner.invoke(args=["import-book", str(write_csv_book(tmp_path / "bad", book))])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert "companies 第4行 founded: 2025-02-30 — 不存在的日期" in lines
    assert "cash_flows 第3行 amount_cny: -5 — 金额不能为负数" in lines
    assert any("2 处错误" in line for line in lines)
    assert db.session.scalar(select(func.count()).select_from(Fund)) == 0  # nothing written


def test_export_book_command(runner, tmp_path):
    runner.invoke(args=["import-book", str(EXAMPLE_BOOK)])
    result = runner.invoke(args=["export-book", str(tmp_path / "b.xlsx"), "--chinese-headers", "--fund", "QY"])
    assert result.exit_code == 0, result.output
    wb = load_workbook(tmp_path / "b.xlsx")
    assert wb["funds"]["A1"].value == "基金代码" and wb["funds"]["A2"].value == "QY"
    folder = runner.invoke(args=["export-book", str(tmp_path / "csv")])
    assert folder.exit_code == 0 and (tmp_path / "csv" / "investments.csv").exists()


def test_export_book_command_names_its_sheets_in_the_readers_words(runner, tmp_path):
    """export-book's counts name each sheet as import-book's do (现金流 7 / Cash flow 7), never by
    its code (cash_flows 7)."""
    runner.invoke(args=["import-book", str(EXAMPLE_BOOK)])
    result = runner.invoke(args=["export-book", str(tmp_path / "b.xlsx")])
    assert result.exit_code == 0, result.output
    assert "现金流 7" in result.output and "基金 1、" in result.output, result.output
    assert "cash_flows" not in result.output and "funds" not in result.output
    english = runner.invoke(args=["export-book", str(tmp_path / "c.xlsx")], env={"PORTFOLIO_LANG": "en"})
    assert english.exit_code == 0 and "Cash flow 7, " in english.output, english.output
    assert "cash_flows" not in english.output
