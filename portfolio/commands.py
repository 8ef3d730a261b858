"""The typed commands the forms hand the use cases: one frozen dataclass per use case.

A screen's form builds its command (`web.forms.BaseForm.to_command`); the use case reads
it field by field (`portfolio.book.records.Fields`), as it reads a plain mapping from the
command line, the API or a test. Amounts arrive as Decimal yuan and dates as date; a date
a field could not parse arrives as typed, an amount as the parser's refusal, so the use
case reports it beside its field together with every other error of the record. Pure (standard library
and portfolio.money only).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

from portfolio.money import AmountError

# an amount in yuan; the text typed when it was not parsed; or the parser's refusal
# (portfolio.money.AmountError, its reason in the unit the amount was typed in)
Amount = Decimal | str | AmountError | None
Day = dt.date | str | None     # likewise a date


@dataclass(frozen=True)
class Command:
    """A use case's input. `get` reads a field as a mapping would (None when the command
    has no such field), so a use case takes a command or a plain mapping alike."""

    def get(self, name: str, default: Any = None) -> Any:
        return getattr(self, name, default)

    @classmethod
    def names(cls) -> tuple[str, ...]:
        return tuple(f.name for f in fields(cls))


@dataclass(frozen=True)
class InvestmentCommand(Command):
    """records.record_investment: a sub-fund commitment, a direct or a co-investment."""

    id: str | None = None
    fund_code: str | None = None
    mode: str | None = None
    target_code: str | None = None
    alongside_code: str | None = None
    date: Day = None
    commitment_cny: Amount = None
    round: str | None = None
    ownership_pct: str | None = None
    instrument: str | None = None
    stage: str | None = None
    headcount: str | None = None
    revenue_cny: Amount = None
    total_assets_cny: Amount = None
    lead_amount_cny: Amount = None
    override_reason: str | None = None


@dataclass(frozen=True)
class CashFlowCommand(Command):
    """records.record_cash_flow: a contribution or a distribution."""

    investment_id: str | None = None
    date: Day = None
    type: str | None = None
    amount_cny: Amount = None
    ref: str | None = None
    note: str | None = None
    confirm_reason: str | None = None  # the reason that confirms a doubt (book/sanity.py)


@dataclass(frozen=True)
class ValuationCommand(Command):
    """records.record_valuation: a fair value, a draft until approved."""

    investment_id: str | None = None
    as_of: Day = None
    fair_value_cny: Amount = None
    method: str | None = None
    confirm_reason: str | None = None  # the reason that confirms a doubt (book/sanity.py)


@dataclass(frozen=True)
class VoidCommand(Command):
    """records.void_cash_flow / void_valuation: the written reason."""

    reason: str | None = None


@dataclass(frozen=True)
class CompanyCommand(Command):
    """records.record_company."""

    code: str | None = None
    name: str | None = None
    credit_code: str | None = None
    sector: str | None = None
    region_code: str | None = None
    founded: Day = None


@dataclass(frozen=True)
class SubFundCommand(Command):
    """records.record_sub_fund."""

    code: str | None = None
    name: str | None = None
    manager: str | None = None
    size_cny: Amount = None
    vintage_year: str | None = None
    sector: str | None = None
    region_code: str | None = None
    term_years: str | None = None


@dataclass(frozen=True)
class ProposalCommand(Command):
    """committee.proposals.create_proposal / update_proposal: the deal, the target if new
    to the book, the company's angel-eligibility inputs (target_founded, headcount,
    revenue_cny, total_assets_cny), the case for it and its scenarios."""

    title: str | None = None
    fund_code: str | None = None
    mode: str | None = None
    target_code: str | None = None
    new_target: bool | str | None = None
    target_name: str | None = None
    target_credit_code: str | None = None
    target_sector: str | None = None
    target_region_code: str | None = None
    target_founded: Day = None
    target_manager: str | None = None
    target_size_cny: Amount = None
    target_vintage_year: str | None = None
    alongside_code: str | None = None
    planned_date: Day = None
    amount_cny: Amount = None
    first_call_cny: Amount = None
    pre_money_cny: Amount = None
    post_money_cny: Amount = None
    instrument: str | None = None
    round: str | None = None
    stage: str | None = None
    ownership_pct: str | None = None
    lead_name: str | None = None
    lead_amount_cny: Amount = None
    headcount: str | None = None
    revenue_cny: Amount = None
    total_assets_cny: Amount = None
    thesis: str | None = None
    market: str | None = None
    team: str | None = None
    risks: str | None = None
    valuation_method: str | None = None
    comparables: str | None = None
    bear_case: str | None = None
    bear_moic: str | None = None
    bear_irr: str | None = None
    base_case: str | None = None
    base_moic: str | None = None
    base_irr: str | None = None
    bull_case: str | None = None
    bull_moic: str | None = None
    bull_irr: str | None = None


@dataclass(frozen=True)
class UserCommand(Command):
    """users.add_user, from the admin screen: a new user (users.check_user)."""

    username: str | None = None
    display_name: str | None = None
    role: str | None = None
    password: str | None = None


@dataclass(frozen=True)
class InviteCommand(Command):
    """gp.packages.invite_gp: a sub-fund manager's user, bound to its sub-funds."""

    username: str | None = None
    display_name: str | None = None
    password: str | None = None
    sub_funds: list[str] | None = None


@dataclass(frozen=True)
class TokenCommand(Command):
    """tokens.issue_token: an API token for another system (tokens.check_token)."""

    name: str | None = None
    fund_code: str | None = None
    days: str | None = None


@dataclass(frozen=True)
class MeetingCommand(Command):
    """committee.meetings.create_meeting."""

    fund_code: str | None = None
    date: Day = None
    title: str | None = None


@dataclass(frozen=True)
class FundingCommand(Command):
    """committee.decisions.record_funding: the investment's first contribution."""

    date: Day = None
    amount_cny: Amount = None
    ref: str | None = None
    note: str | None = None
    confirm_reason: str | None = None  # the reason that confirms a doubt (book/sanity.py)


# -- corrections (portfolio/book/corrections.py): the record's fields that may be corrected,
# the version the form was shown at and the reason for the correction


@dataclass(frozen=True)
class CorrectCashFlowCommand(Command):
    """corrections.correct_cash_flow: a flow stays with its investment."""

    date: Day = None
    type: str | None = None
    amount_cny: Amount = None
    ref: str | None = None
    note: str | None = None
    confirm_reason: str | None = None
    version: str | None = None
    correction_reason: str | None = None


@dataclass(frozen=True)
class CorrectValuationCommand(Command):
    """corrections.correct_valuation: a valuation stays with its investment."""

    as_of: Day = None
    fair_value_cny: Amount = None
    method: str | None = None
    confirm_reason: str | None = None
    version: str | None = None
    correction_reason: str | None = None


@dataclass(frozen=True)
class CorrectInvestmentCommand(Command):
    """corrections.correct_investment: the terms; not what other records refer to."""

    date: Day = None
    commitment_cny: Amount = None
    round: str | None = None
    ownership_pct: str | None = None
    instrument: str | None = None
    stage: str | None = None
    headcount: str | None = None
    revenue_cny: Amount = None
    total_assets_cny: Amount = None
    lead_amount_cny: Amount = None
    version: str | None = None
    correction_reason: str | None = None
