"""End to end: the example book imported through the importer, then `flask report` and the API."""
from __future__ import annotations

import datetime as dt
import json

import pytest

from tests.conftest import EXAMPLE_BOOK, booked_cash_flow, make_user
from tests.test_figures import EXPECTED, assert_report_matches


@pytest.fixture
def imported(db):
    from portfolio.interchange.importing import import_book

    make_user(db, "importer", "manager")
    import_book(db.session, EXAMPLE_BOOK, username="importer")
    db.session.commit()
    return db


@pytest.mark.parametrize("as_of", sorted(EXPECTED))
def test_flask_report_json_equals_expected(imported, runner, as_of):
    result = runner.invoke(args=["report", "QY", "--as-of", as_of, "--format", "json"])
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert_report_matches(report, EXPECTED[as_of])
    got = [(c["rule"], c["subject"], c["status"], c["value"], c["limit"]) for c in report["compliance"]]
    want = [(c["rule"], c["subject"], c["status"], c["value"], c["limit"]) for c in EXPECTED[as_of]["compliance"]]
    assert got == want


def test_flask_report_table_is_in_chinese_and_wan(imported, runner):
    result = runner.invoke(args=["report", "QY", "--as-of", "2025-12-31", "--format", "table"])
    assert result.exit_code == 0, result.output
    assert "金额单位：万元" in result.output and "子基金" in result.output
    assert "59,400.00" in result.output  # fund NAV 594,000,000 yuan = 59,400 万元
    assert "先进材料" in result.output
    # HHI on the 0–10,000 scale the screens and the workbook use, not the JSON's 0–1 share sum
    as_json = runner.invoke(args=["report", "QY", "--as-of", "2025-12-31", "--format", "json"])
    hhi = json.loads(as_json.output)["concentration"]["hhi"]
    assert 0 < hhi < 1
    assert f"HHI：{round(hhi * 10_000):,}" in result.output, result.output


def test_flask_report_unknown_fund_and_bad_date(imported, runner):
    result = runner.invoke(args=["report", "NOPE", "--as-of", "2025-12-31"])
    assert result.exit_code != 0 and "NOPE" in result.output
    result = runner.invoke(args=["report", "QY", "--as-of", "2025-13-45"])
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output


def test_api_report(imported, client, as_role):
    assert client.get("/api/v1/funds/QY/report?as_of=2025-12-31").status_code == 401
    unauth = client.get("/api/v1/funds/QY/report?as_of=2025-12-31")
    assert unauth.is_json and unauth.get_json()["status"] == 401
    as_role("viewer")
    response = client.get("/api/v1/funds/QY/report?as_of=2025-12-31")
    assert response.status_code == 200 and response.is_json
    assert_report_matches(response.get_json(), EXPECTED["2025-12-31"])
    missing = client.get("/api/v1/funds/NOPE/report?as_of=2025-12-31")
    assert missing.status_code == 404 and missing.is_json
    bad = client.get("/api/v1/funds/QY/report?as_of=31/12/2025")
    assert bad.status_code == 400 and bad.is_json
    # full-width digits read as the date they are; other scripts' digits are a wrong format
    wide = client.get("/api/v1/funds/QY/report?as_of=２０２５-１２-３１")
    assert wide.status_code == 200 and wide.get_json()["as_of"] == "2025-12-31"
    foreign = client.get("/api/v1/funds/QY/report?as_of=٢٠٢٥-١٢-٣١")
    assert foreign.status_code == 400 and "日期格式应为 YYYY-MM-DD" in foreign.get_data(as_text=True)
    default = client.get("/api/v1/funds/QY/report")
    from portfolio.formatting import last_quarter_end

    assert default.get_json()["as_of"] == last_quarter_end(dt.date.today()).isoformat()


def test_the_command_prints_the_api_s_json_and_follows_each_write(imported, runner, client, as_role):
    """`flask report` into a pipe prints the API's body byte for byte, from the one entry of the
    shared report cache whichever asked first; its keys in metrics.md's order, Chinese as text.
    A write to the book moves the version: both give the new figures."""
    from portfolio.book import cache

    as_role("viewer")
    url = "/api/v1/funds/QY/report?as_of=2025-12-31"
    printed = runner.invoke(args=["report", "QY", "--as-of", "2025-12-31"])
    assert printed.exit_code == 0, printed.output
    served = client.get(url)
    assert served.status_code == 200 and served.data == printed.stdout_bytes
    keys = list(served.get_json())
    assert keys[0] == "fund" and keys.index("summary") < keys.index("by_mode")  # not sorted: as metrics.md
    name = served.get_json()["fund_name"]
    assert not name.isascii() and name.encode() in served.data  # Chinese as UTF-8 text, not \u escapes

    booked_cash_flow(imported.session, {"investment_id": "QY-SF1", "date": "2025-11-01",
                                                "type": "contribution", "amount_cny": "1000000.50"},
                             username="importer")
    imported.session.commit()
    cache.clear()  # this process's memo: the shared entry of the old version must not be served either
    served_after = client.get(url)  # the API asks first this time
    printed_after = runner.invoke(args=["report", "QY", "--as-of", "2025-12-31"])
    assert printed_after.stdout_bytes == served_after.data != served.data
    before, after = json.loads(printed.stdout_bytes), json.loads(printed_after.stdout_bytes)
    assert dt.date.fromisoformat(after["as_of"]) == dt.date(2025, 12, 31)
    assert round(after["summary"]["paid_in"] - before["summary"]["paid_in"], 2) == 1000000.50
