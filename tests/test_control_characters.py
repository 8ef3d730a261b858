"""Control characters (all but tab and line breaks) are refused wherever text comes in, and a
book that holds one from before still downloads.

Found by posting hostile values into every form: a company named with \\x01 was saved, after
which the book's download answered 500 (openpyxl: a workbook's XML cannot hold it); a token
named with \\x00 answered 500 on PostgreSQL (its text refuses NUL). On SQLite and PostgreSQL."""
from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models import ApiToken, Company
from tests.book_files import credit_code
from tests.test_concurrency import book as book  # noqa: F401  (the fixture)
from tests.test_error_texts import _errors

COMPANY = {"code": "CX1", "credit_code": credit_code(7), "sector": "materials", "region_code": "330200",
           "founded": "2020-01-01"}


@pytest.mark.parametrize("name", ["坏\x01名", "tab\x0bvertical", "a\x1fb", "nul\x00"])
def test_a_form_refuses_a_control_character_beside_its_field(db, book, as_role, name):
    client = as_role("manager")
    page = client.post("/book/companies/new", data={**COMPANY, "name": name})
    assert page.status_code == 200
    assert _errors(page.get_data(as_text=True))["name"] == ["含有不可见的控制字符，请删除后重新输入"]
    assert db.session.get(Company, "CX1") is None
    # tab and line breaks are text: a note may hold them
    saved = client.post("/book/companies/new", data={**COMPANY, "name": "甬材\t新材料"})
    assert saved.status_code == 302


def test_a_token_named_with_nul_is_refused_not_a_500(db, book, as_role):
    client = as_role("admin")
    client.get("/lang/en")
    page = client.post("/admin/tokens", data={"name": "bureau\x00", "fund_code": "", "days": "90"})
    assert page.status_code == 200
    assert _errors(page.get_data(as_text=True))["name"] == [
        "Contains invisible control characters; remove them and enter it again"]
    assert db.session.scalar(select(func.count()).select_from(ApiToken)) == 0


def test_a_book_holding_one_from_before_still_downloads(db, book, as_role):
    db.session.get(Company, "C1").name = "旧\x01名"  # stored before they were refused
    db.session.commit()
    response = as_role("viewer").get("/book/download")
    assert response.status_code == 200
    names = [row[1] for row in load_workbook(io.BytesIO(response.data))["companies"].iter_rows(min_row=2, values_only=True)]
    assert "旧名" in names
