"""A record's form shows every error there is to fix on one submit: those of the form's own
checks (a required field left empty) together with the use case's (a negative amount, a code
taken, an unknown investment), each beside its field, and nothing is written. Before, a form
its own checks refused never reached the use case: its errors appeared only on the next submit.
On SQLite and PostgreSQL (DATABASE_URL)."""
from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import func, select, update

from models import AuditEntry, CashFlow, Company, Investment, PendingCorrection, SubFund, Valuation
from portfolio.book.corrections import version_of
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


# a correction's form (of an approved cash flow, a valuation, an investment's terms): its reason
# left empty (the form's own check) and an amount the use case refuses; the record, the requests
# waiting and the history stay as they were
CORRECTIONS = {
    "cash flow": (CashFlow, "cash-flows", {"date": "2025-03-31", "type": "distribution", "amount_cny": "-5"},
                  {"correction_reason": None, "amount_cny": Message("amount_positive")}),
    "valuation": (Valuation, "valuations", {"as_of": "2025-06-30", "fair_value_cny": "-5", "method": "cost"},
                  {"correction_reason": None, "fair_value_cny": Message("amount_negative")}),
    "investment": (Investment, "investments", {"date": "2023-06-30", "commitment_cny": "-5", "ownership_pct": "150"},
                   {"correction_reason": None, "commitment_cny": Message("amount_negative"),
                    "ownership_pct": Message("ownership_range")}),
}


def _one_of(db, model):
    if model is Investment:
        return db.session.get(Investment, "QY-D1")
    return db.session.execute(select(model).where(model.voided_at.is_(None), model.approved_at.is_not(None))
                              .order_by(model.id)).scalars().first()


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("kind", CORRECTIONS, ids=str)
def test_one_submit_of_a_correction_shows_the_forms_errors_and_the_use_cases_and_writes_nothing(db, book, as_role,
                                                                                                kind, lang):
    model, path, data, expected = CORRECTIONS[kind]
    client = as_role("manager")
    client.get(f"/lang/{lang}")
    record = _one_of(db, model)
    url = f"/book/{path}/{record.id}/correct"
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="([^"]*)"', page) or \
        re.search(r'value="([^"]*)"[^>]*name="version"', page)
    assert version, page[:2000]
    before = version_of(record)
    counts = _count(db, PendingCorrection), _count(db, AuditEntry)
    page = client.post(url, data={**data, "version": version.group(1), "correction_reason": ""})
    assert page.status_code == 200
    errors = {field: [html.unescape(e) for e in said] for field, said in _errors(page.get_data(as_text=True)).items()}
    assert set(errors) == set(expected), (kind, errors)
    for field, message in expected.items():
        if message is None:
            assert len(errors[field]) == 1, (kind, field, errors)
        else:
            assert errors[field] == [message.shown(lang)], (kind, field, errors)
    db.session.expire_all()
    assert (_count(db, PendingCorrection), _count(db, AuditEntry)) == counts
    assert version_of(db.session.get(model, record.id)) == before


def test_a_correction_whose_only_change_the_form_refused_is_not_told_it_changes_nothing(db, book, as_role):
    """The note changed to one holding a control character, the rest as stored: the note's error,
    and no 没有需要更正的内容 (the use case never saw the note typed); nothing written."""
    client = as_role("manager")
    flow = _one_of(db, CashFlow)
    db.session.execute(update(CashFlow).where(CashFlow.id == flow.id).values(note=None))
    db.session.commit()
    url = f"/book/cash-flows/{flow.id}/correct"
    page = client.get(url).get_data(as_text=True)
    version = re.search(r'name="version"[^>]*value="([^"]*)"', page) or \
        re.search(r'value="([^"]*)"[^>]*name="version"', page)
    entries = _count(db, AuditEntry)
    page = client.post(url, data={"date": flow.date.isoformat(), "type": flow.type,
                                  "amount_cny": format(flow.amount_cny / 10000, "f"), "ref": flow.ref or "",
                                  "note": "坏\x01", "version": version.group(1), "correction_reason": "补备注"})
    text = page.get_data(as_text=True)
    assert set(_errors(text)) == {"note"}, _errors(text)
    assert Message("nothing_to_correct").shown("zh") not in text
    db.session.expire_all()
    assert _count(db, AuditEntry) == entries
