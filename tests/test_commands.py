"""Forms hand the use cases typed commands (portfolio/commands.py, one frozen dataclass per
use case): each form's fields are its command's, by name; a posted form gives a command
with Decimal amounts and dates; and the use case takes the command as it takes a mapping."""
from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

import pytest

from portfolio.book import records
from portfolio.commands import CashFlowCommand, Command, VoidCommand
from portfolio.errors import FieldErrors
from web import committee_forms, correction_forms, forms

FORMS = [forms.InvestmentForm, forms.CashFlowForm, forms.ValuationForm, forms.VoidForm, forms.CompanyForm,
         forms.SubFundForm, committee_forms.ProposalForm, committee_forms.MeetingForm, committee_forms.FundingForm,
         correction_forms.CorrectCashFlowForm, correction_forms.CorrectValuationForm,
         correction_forms.CorrectInvestmentForm]


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: c.__name__)
def test_each_form_s_fields_are_its_command_s(app, form_class):
    with app.test_request_context():
        form = form_class(meta={"csrf": False})
        assert issubclass(form_class.command, Command)
        # the idempotency key goes to web/once.py, never to the use case
        assert set(form._fields) - {"csrf_token", "idempotency_key"} == set(form_class.command.names())


def test_a_posted_form_gives_a_frozen_typed_command(app):
    posted = {"investment_id": "QY-001", "date": "2025-03-31", "type": "contribution",
              "amount_cny": "１,234,567.80", "amount_cny_unit": "yuan", "ref": "PZ-1", "note": ""}
    with app.test_request_context(method="POST", data=posted):
        form = forms.CashFlowForm(meta={"csrf": False})
        command = form.to_command()
    assert isinstance(command, CashFlowCommand)
    assert command.amount_cny == Decimal("1234567.80") and command.date == dt.date(2025, 3, 31)
    assert command.investment_id == "QY-001" and command.get("ref") == "PZ-1" and command.get("nope") is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        command.amount_cny = Decimal(0)  # type: ignore[misc]
    # typed in 万元, the form's default unit: the same command, exact to the fen
    with app.test_request_context(method="POST", data={**posted, "amount_cny": "123.45678", "amount_cny_unit": "wan"}):
        assert forms.CashFlowForm(meta={"csrf": False}).to_command().amount_cny == Decimal("1234567.80")


def test_a_form_without_a_use_case_hands_no_command(app):
    with app.test_request_context(), pytest.raises(TypeError):
        forms.ConfirmForm(meta={"csrf": False}).to_command()


def test_the_use_case_reads_a_command_as_it_reads_a_mapping(db):
    """The same refusal, field and message, from a command and from a plain dict."""
    bad = {"investment_id": "NOPE", "date": "2025-03-31", "type": "contribution", "amount_cny": "1,5"}
    answers = []
    for fields in (CashFlowCommand(**bad), bad):
        with pytest.raises(FieldErrors) as refused:
            records.record_cash_flow(db.session, fields, username="u")
        db.session.rollback()
        answers.append(refused.value.errors)
    assert answers[0] == answers[1] and {f for f, _m in answers[0]} >= {"investment_id", "amount_cny"}
    with pytest.raises(FieldErrors) as refused:
        records.void_cash_flow(db.session, 1, VoidCommand(reason=" "), username="u")
    assert refused.value.errors
