"""A record's form shows every error there is to fix on one submit: those of the form's own
checks (a required field left empty) together with the use case's (a negative amount, a code
taken, an unknown investment), each beside its field, and nothing is written. Before, a form
its own checks refused never reached the use case: its errors appeared only on the next submit.
On SQLite and PostgreSQL (DATABASE_URL)."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from models import AuditEntry, CashFlow, Company, PendingCorrection, SubFund, Valuation
from portfolio.messages import Message
from tests.book_files import credit_code
from tests.test_concurrency import book as book  # noqa: F401  (the fixture)
from tests.test_error_texts import _errors

# url, what is posted (a required field left empty), the table nothing may enter, and the errors
# expected beside their fields: the form's own (None: whichever it says) and the use case's
FORMS = {
    "cash flow": ("/book/cash-flows/new",
                  {"investment_id": "QY-SF1", "date": "", "type": "contribution", "amount_cny": "-5"},
                  CashFlow, {"date": None, "amount_cny": Message("amount_positive")}),
    "valuation": ("/book/valuations/new",
                  {"investment_id": "QY-SF1", "as_of": "", "fair_value_cny": "-5", "method": "cost"},
                  Valuation, {"as_of": None, "fair_value_cny": Message("amount_negative")}),
    "unknown investment": ("/book/valuations/new",
                           {"investment_id": "NO-SUCH", "as_of": "2025-06-30", "fair_value_cny": "-5", "method": ""},
                           Valuation, {"method": None, "investment_id": Message("investment_unknown", id="NO-SUCH"),
                                       "fair_value_cny": Message("amount_negative")}),
    "sub-fund": ("/book/sub-funds/new",
                 {"code": "SF-NEW", "name": "", "manager": "某管理人", "size_cny": "-5", "vintage_year": "2024",
                  "sector": "materials", "region_code": "330200"},
                 SubFund, {"name": None, "size_cny": Message("amount_positive")}),
    "company": ("/book/companies/new",
                {"code": "C1", "name": "", "credit_code": credit_code(11), "sector": "materials",
                 "region_code": "330200"},
                Company, {"name": None, "code": Message("company_exists", code="C1")}),
    "new investment": ("/book/investments/new",
                       {"id": "QY-D1", "fund_code": "QY", "mode": "direct", "target_code": "C3", "date": "",
                        "commitment_cny": "-5"},
                       PendingCorrection, {"date": None, "id": Message("investment_exists", id="QY-D1"),
                                           "commitment_cny": Message("amount_negative")}),
}


def _count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", FORMS, ids=str)
def test_one_submit_shows_the_forms_errors_and_the_use_cases_and_writes_nothing(db, book, as_role, kind, lang):
    url, data, model, expected = FORMS[kind]
    client = as_role("manager")
    client.get(f"/lang/{lang}")
    rows, entries = _count(db, model), _count(db, AuditEntry)
    page = client.post(url, data=data)
    assert page.status_code == 200
    errors = {field: [html.unescape(e) for e in said] for field, said in _errors(page.get_data(as_text=True)).items()}
    assert set(errors) == set(expected), (kind, errors)
    for field, message in expected.items():
        if message is None:
            assert len(errors[field]) == 1, (kind, field, errors)  # the form's own, not the use case's again
        else:
            assert errors[field] == [message.shown(lang)], (kind, field, errors)
    db.session.expire_all()
    assert (_count(db, model), _count(db, AuditEntry)) == (rows, entries)


def test_a_form_refused_only_by_its_own_checks_still_says_a_doubt_to_confirm(db, book, as_role):
    """A cash flow dated in the future with a note holding a control character: the note's error
    and the doubt asking for a reason, on one submit; nothing written."""
    client = as_role("manager")
    flows = _count(db, CashFlow)
    page = client.post("/book/cash-flows/new", data={"investment_id": "QY-SF1", "date": "2099-01-02",
                                                      "type": "contribution", "amount_cny": "1", "note": "坏\x01"})
    errors = _errors(page.get_data(as_text=True))
    assert set(errors) == {"note", "confirm_reason"}, errors
    assert "2099-01-02" in html.unescape(errors["confirm_reason"][0])
    db.session.expire_all()
    assert _count(db, CashFlow) == flows
