"""The correction forms (portfolio/book/corrections.py): the record's form shown filled in,
with the version it was shown at and the reason for the correction."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length

from portfolio.commands import CorrectCashFlowCommand, CorrectInvestmentCommand, CorrectValuationCommand
from portfolio.record_rules import NOTE_LENGTH
from web.forms import CashFlowForm, InvestmentForm, ValuationForm


class _Correction:
    version = HiddenField()
    correction_reason = TextAreaField(_l("更正理由"), validators=[DataRequired(), Length(max=NOTE_LENGTH)])


class CorrectCashFlowForm(_Correction, CashFlowForm):
    command = CorrectCashFlowCommand
    investment_id = None  # a flow stays with its investment


class CorrectValuationForm(_Correction, ValuationForm):
    command = CorrectValuationCommand
    investment_id = None


class CorrectInvestmentForm(_Correction, InvestmentForm):
    command = CorrectInvestmentCommand
    # what other records refer to is not corrected here
    id = None
    fund_code = None
    mode = None
    target_code = None
    alongside_code = None
    override_reason = None

    def set_choices(self, funds=(), sub_funds=()):
        from models import INSTRUMENTS, STAGES
        from web.forms import choices

        self.instrument.choices = choices("instrument", INSTRUMENTS, blank=True)
        self.stage.choices = choices("stage", STAGES, blank=True)
