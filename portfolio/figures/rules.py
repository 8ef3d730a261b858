"""Guidance-fund rule checks (rules.md), as of a date, exact.

`check(book, fund_code, as_of)` gives one result per check and subject, passes
included, in the order of the report: per investment (date, id) its own checks and,
for the first commitment to a sub-fund, that sub-fund's checks; then the fund-level
direct share; then each company's share of the fund.

Amounts in the BookData are int fen: every comparison is made on Decimals built from
those ints (a value equal to its limit passes); only the reported `value`/`limit` are
floats. Data a check needs but the book lacks gives `warn` with `missing: FIELD`.

`local_reinvestments` (and `local_reinvestment` for one sub-fund) is the one
implementation of a sub-fund's local reinvestment multiple (metrics.md); the report's
`sub_funds` and the 绩效评价 indicators import it from here.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from portfolio.figures.bookdata import BookData, records
from portfolio.figures.engine import int_sums, latest_reports
from portfolio.figures.scope import holdings_of, scope_of
from portfolio.messages import Message

PASS, WARN, FAIL = "pass", "warn", "fail"
# how checks are listed: the worst first (an unknown status after them all)
STATUS_ORDER = {FAIL: 0, WARN: 1, PASS: 2}
FEN_PER_YUAN = 100
DAYS_PER_YEAR = Decimal("365.25")


# ---------------------------------------------------------------- book helpers
def is_missing(value: Any) -> bool:
    """None, NaN, NaT, <NA> or a blank string: the book lacks it (metrics.md)."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def _ts(value: dt.date | str | pd.Timestamp) -> pd.Timestamp:
    return pd.Timestamp(value).normalize()


def paid_in_fen(book: BookData, investment_ids, as_of: dt.date) -> dict[str, int]:
    """Gross contributions dated on or before D, per investment (0 where none), as exact ints of fen."""
    ids = pd.Index(list(dict.fromkeys(str(i) for i in investment_ids)), dtype=object)
    flows = book.flows
    row = ids.get_indexer(flows["investment_id"])
    keep = ((row >= 0) & (flows["type"].to_numpy(dtype=object) == "contribution")
            & (flows["date"].to_numpy(dtype="datetime64[ns]") <= _ts(as_of).to_datetime64()))
    sums = int_sums(row[keep], flows["amount_fen"].to_numpy(dtype="int64")[keep], len(ids))
    return dict(zip(ids, sums.tolist()))


@dataclass(frozen=True)
class LocalReinvestment:
    """A sub-fund's local reinvestment (返投) as of D, for the reporting fund (metrics.md)."""

    sub_fund_code: str
    report_as_of: pd.Timestamp | None   # the holdings report used; None when there is none
    local_cost_fen: int                 # cost in companies of the home region (0 without a report)
    paid_in_fen: int                    # our paid_in to the sub-fund (the fund and its descendants)

    @property
    def has_report(self) -> bool:
        return self.report_as_of is not None

    @property
    def multiple(self) -> Decimal | None:
        """local cost / our paid_in, exact; None without a report or with nothing paid in."""
        if not self.has_report or self.paid_in_fen == 0:
            return None
        return Decimal(self.local_cost_fen) / Decimal(self.paid_in_fen)


def is_local(book: BookData, company_codes: pd.Series, home_region_prefix: str) -> pd.Series:
    """True where the company's region_code starts with the home-region prefix (metrics.md)."""
    at = pd.Index(book.companies["code"]).get_indexer(company_codes)
    regions = book.companies["region_code"].to_numpy(dtype=object)
    region = pd.Series(np.where(at >= 0, regions[at], None), index=company_codes.index, dtype=object)
    # a missing or blank code is not local; anything else is local by its prefix
    return (region.str.strip().str.len().gt(0).fillna(False)
            & region.str.startswith(home_region_prefix).fillna(False)).astype(bool)


def local_reinvestments(book: BookData, fund_code: str, sub_fund_codes, as_of: dt.date,
                        home_region_prefix: str | None = None, *,
                        paid_in_by_sub_fund: dict[str, int] | None = None) -> dict[str, LocalReinvestment]:
    """The one implementation of the local reinvestment multiple (metrics.md), for several
    sub-funds at once (set-based: one pass over the flows and the holdings).

    Local cost: the cost, in the sub-fund's latest holdings report dated on or before D,
    of its holdings in companies whose region_code starts with the home-region prefix
    (the reporting fund's setting unless given). Our paid_in: contributions dated on or
    before D over the `sub_fund` investments in it of the fund and its descendants; a
    caller that has already summed them (the report, the rule check) passes them in.
    """
    codes = [str(c) for c in dict.fromkeys(sub_fund_codes)]
    if home_region_prefix is None:
        home_region_prefix = str(scope_of(book, fund_code).settings["home_region_prefix"])
    if paid_in_by_sub_fund is None:
        holdings = holdings_of(book, fund_code, as_of)
        paid_in_by_sub_fund = sub_fund_paid_in(book, holdings.investments, as_of, codes, paid=holdings.paid_in)
    reports = latest_reports(book, codes, as_of)
    report_dates: dict[str, pd.Timestamp] = {}
    local_cost: dict[str, int] = {}
    if not reports.empty:
        local = is_local(book, reports["company_code"], home_region_prefix)
        report_dates = {str(k): v for k, v in reports.groupby("sub_fund_code")["as_of"].max().items()}
        sums = reports.loc[local.to_numpy(), ["sub_fund_code", "cost_fen"]].groupby("sub_fund_code")["cost_fen"].sum()
        local_cost = {str(k): int(v) for k, v in sums.items()}
    return {code: LocalReinvestment(code, report_dates.get(code), local_cost.get(code, 0),
                                    int(paid_in_by_sub_fund.get(code, 0))) for code in codes}


def sub_fund_paid_in(book: BookData, investments: pd.DataFrame, as_of: dt.date, sub_fund_codes=None,
                     paid: dict[str, int] | None = None) -> dict[str, int]:
    """Our paid_in to each sub-fund: the contributions over the `sub_fund` investments given
    (`paid`: those investments' paid_in when already summed)."""
    ours = investments[investments["mode"] == "sub_fund"]
    if sub_fund_codes is not None:
        ours = ours[ours["target_code"].isin(list(sub_fund_codes))]
    if paid is None:
        paid = paid_in_fen(book, ours["id"], as_of)
    out: dict[str, int] = {}
    for inv_id, target in zip(ours["id"].tolist(), ours["target_code"].tolist()):
        out[str(target)] = out.get(str(target), 0) + paid.get(str(inv_id), 0)
    return out


def local_reinvestment(book: BookData, fund_code: str, sub_fund_code: str, as_of: dt.date,
                       home_region_prefix: str | None = None) -> LocalReinvestment:
    """One sub-fund's local reinvestment (see local_reinvestments)."""
    return local_reinvestments(book, fund_code, [sub_fund_code], as_of, home_region_prefix)[sub_fund_code]


# ---------------------------------------------------------------- wording (portfolio/messages.py)
def _missing(field: str, what: str) -> Message:
    return Message("missing", what=what, missing=[field])


def _result(rule: str, subject: str, status: str, value, limit, message: str) -> dict:
    if type(value) is Decimal or type(value) is int:  # (not bool: type(True) is bool)
        value = float(value)
    if type(limit) is Decimal or type(limit) is int:
        limit = float(limit)
    return {"rule": rule, "subject": subject, "status": status, "value": value, "limit": limit,
            "message": message}


def _cap(rule: str, subject: str, value: Decimal, limit: Decimal, what: str) -> dict:
    """A '≤ limit' check on a share: equal passes. `what`: a key of messages.WHAT."""
    if value > limit:
        return _result(rule, subject, FAIL, value, limit, Message("cap_over", what=what, value_pct=value,
                                                                  limit_pct=limit))
    return _result(rule, subject, PASS, value, limit, Message("cap_within", what=what, value_pct=value,
                                                              limit_pct=limit))


# ---------------------------------------------------------------- the checks
def _prohibited_instrument(inv, settings) -> dict:
    instrument = "equity" if is_missing(inv["instrument"]) else str(inv["instrument"])
    forbidden = list(settings["prohibited_instruments"])
    if instrument in forbidden:
        return _result("prohibited_instrument", inv["id"], FAIL, instrument, None,
                       Message("prohibited_fail", instrument=instrument))
    return _result("prohibited_instrument", inv["id"], PASS, instrument, None,
                   Message("prohibited_pass", instrument=instrument))


def _subfund_share_cap(inv, sub_fund, settings) -> dict:
    limit = settings["subfund_share_cap"]
    if sub_fund is None or is_missing(sub_fund["size_fen"]) or int(sub_fund["size_fen"]) <= 0:
        return _result("subfund_share_cap", inv["id"], WARN, None, limit, _missing("size_cny", "sub_fund_size"))
    value = Decimal(int(inv["commitment_fen"])) / Decimal(int(sub_fund["size_fen"]))
    return _cap("subfund_share_cap", inv["id"], value, limit, "subfund_share")


def _ownership_cap(inv, settings) -> dict:
    limit = settings["ownership_cap"]
    if is_missing(inv["ownership_pct"]):
        return _result("ownership_cap", inv["id"], WARN, None, limit, _missing("ownership_pct", "ownership"))
    value = Decimal(str(inv["ownership_pct"])) / 100
    if value > limit:
        return _result("ownership_cap", inv["id"], FAIL, value, limit,
                       Message("ownership_over", value_pct=value, limit_pct=limit))
    return _result("ownership_cap", inv["id"], PASS, value, limit,
                   Message("ownership_within", value_pct=value, limit_pct=limit))


def _coinvest_lead_ratio(inv, settings) -> dict:
    limit = settings["coinvest_lead_ratio"]
    lead = inv["lead_amount_fen"]
    if is_missing(lead) or int(lead) == 0:  # interchange.md: 0 counts as missing
        return _result("coinvest_lead_ratio", inv["id"], WARN, None, limit,
                       _missing("lead_amount_cny", "lead_amount"))
    value = Decimal(int(inv["commitment_fen"])) / Decimal(int(lead))
    if value > limit:
        return _result("coinvest_lead_ratio", inv["id"], FAIL, value, limit,
                       Message("coinvest_over", value_x=value, limit_x=limit))
    return _result("coinvest_lead_ratio", inv["id"], PASS, value, limit,
                   Message("coinvest_within", value_x=value, limit_x=limit))


def _angel_company_age(inv, company, settings) -> dict:
    limit = settings["angel_company_age_years"]
    founded = None if company is None else company["founded"]
    if is_missing(founded):
        return _result("angel_company_age", inv["id"], WARN, None, limit, _missing("founded", "founded"))
    days = (_ts(inv["date"]) - _ts(founded)).days
    value = Decimal(days) / DAYS_PER_YEAR
    # days / 365.25 ≤ limit  ⇔  days ≤ limit × 365.25, exactly
    over = Decimal(days) > Decimal(limit) * DAYS_PER_YEAR
    if over:
        return _result("angel_company_age", inv["id"], FAIL, days / 365.25, limit,
                       Message("age_over", years=value, limit_years=Decimal(limit)))
    return _result("angel_company_age", inv["id"], PASS, days / 365.25, limit,
                   Message("age_within", years=value, limit_years=Decimal(limit)))


def _angel_headcount(inv, settings) -> dict:
    limit = settings["angel_headcount"]
    if is_missing(inv["headcount"]):
        return _result("angel_headcount", inv["id"], WARN, None, limit, _missing("headcount", "headcount"))
    value = int(inv["headcount"])
    if value > limit:
        return _result("angel_headcount", inv["id"], FAIL, value, limit,
                       Message("headcount_over", n=value, limit_n=limit))
    return _result("angel_headcount", inv["id"], PASS, value, limit,
                   Message("headcount_within", n=value, limit_n=limit))


def _angel_company_size(inv, settings) -> dict:
    limit = Decimal(settings["angel_company_size_cny"])
    limit_fen = limit * FEN_PER_YUAN
    present, missing, over = [], [], []
    for field, name in (("revenue", "revenue"), ("total_assets", "total_assets")):
        fen = inv[f"{field}_fen"]
        if is_missing(fen):
            missing.append((field, name))
            continue
        present.append(int(fen))
        if Decimal(int(fen)) > limit_fen:
            over.append((name, int(fen)))
    value = Decimal(max(present)) / FEN_PER_YUAN if present else None
    if over:
        return _result("angel_company_size", inv["id"], FAIL, value, limit,
                       Message("size_over", over=over, limit_fen=int(limit_fen)))
    if missing:
        return _result("angel_company_size", inv["id"], WARN, value, limit,
                       Message("size_missing", whats=[n for _, n in missing],
                               missing=[f"{f}_cny" for f, _ in missing]))
    return _result("angel_company_size", inv["id"], PASS, value, limit,
                   Message("size_within", limit_fen=int(limit_fen)))


def _subfund_single_company_cap(sub_fund_code, largest: int | None, sub_fund, settings) -> dict:
    """`largest`: the largest cost in one company in the latest report (None: no report)."""
    rule, limit = "subfund_single_company_cap", settings["subfund_single_company_cap"]
    if largest is None:
        return _result(rule, sub_fund_code, WARN, None, limit,
                       _missing("sub_fund_holdings", "holdings_report"))
    if sub_fund is None or is_missing(sub_fund["size_fen"]) or int(sub_fund["size_fen"]) <= 0:
        return _result(rule, sub_fund_code, WARN, None, limit, _missing("size_cny", "sub_fund_size"))
    value = Decimal(largest) / Decimal(int(sub_fund["size_fen"]))
    return _cap(rule, sub_fund_code, value, limit, "subfund_single_company")


def _reinvestment_multiple(sub_fund_code, lr: LocalReinvestment, sub_fund, as_of, settings) -> dict:
    rule, limit = "reinvestment_multiple", settings["reinvestment_multiple"]
    missing = []
    if not lr.has_report:
        missing.append(("sub_fund_holdings", "holdings_report"))
    if lr.paid_in_fen == 0:
        missing.append(("paid_in", "paid_in"))
    if missing:
        return _result(rule, sub_fund_code, WARN, None, limit,
                       Message("reinvest_missing", whats=[n for _, n in missing], missing=[f for f, _ in missing]))
    value = lr.multiple
    assert value is not None  # a report and a paid-in amount: the multiple exists
    figures = {"local_fen": lr.local_cost_fen, "paid_fen": lr.paid_in_fen, "value_x": value, "limit_x": limit}
    if value >= limit:
        return _result(rule, sub_fund_code, PASS, value, limit, Message("reinvest_met", **figures))
    period = int(settings["investment_period_years"])
    vintage = None if sub_fund is None or is_missing(sub_fund["vintage_year"]) else int(sub_fund["vintage_year"])
    if vintage is None:
        return _result(rule, sub_fund_code, WARN, value, limit,
                       Message("reinvest_below_no_vintage", **figures, missing=["vintage_year"]))
    if _ts(as_of).year - vintage < period:
        return _result(rule, sub_fund_code, WARN, value, limit,
                       Message("reinvest_below_in_period", **figures, period=period))
    return _result(rule, sub_fund_code, FAIL, value, limit,
                   Message("reinvest_below_after_period", **figures, period=period))


def _direct_share_cap(fund_code, fund, investments, settings) -> dict:
    limit = settings["direct_share_cap"]
    direct = investments[investments["mode"].isin(["direct", "co_invest"])]
    total = sum(int(c) for c in direct["commitment_fen"])
    value = Decimal(total) / Decimal(int(fund["size_fen"]))
    return _cap("direct_share_cap", fund_code, value, limit, "direct_share")


def _single_company_caps(fund, investments, paid: dict[str, int], settings) -> list[dict]:
    limit = settings["single_company_cap"]
    direct = investments[investments["mode"].isin(["direct", "co_invest"])]
    size = Decimal(int(fund["size_fen"]))
    per_company: dict[str, int] = {}  # insertion order = first appearance in report order
    for inv_id, company in zip(direct["id"].tolist(), direct["target_code"].tolist()):
        per_company[str(company)] = per_company.get(str(company), 0) + paid.get(str(inv_id), 0)
    return [_cap("single_company_cap", company, Decimal(fen) / size, limit, "single_company")
            for company, fen in per_company.items()]


def check(book: BookData, fund_code: str, as_of: dt.date) -> list[dict]:
    """Every rule of rules.md for the fund's investments (with its descendants') as of D,
    on the fund's holdings as of D (resolved once with the book: the report's own)."""
    holdings = holdings_of(book, fund_code, as_of)
    scope = holdings.scope
    fund, settings = scope.row, scope.settings
    investments, paid = holdings.investments, holdings.paid_in
    # rules.md: the angel rules check "each direct or co_invest of an angel_guidance fund": the
    # investing fund's kind (a parent's report checks its angel child's deals, and not a
    # non-angel child's), each under the reporting fund's settings
    angel_funds = set(book.funds.loc[book.funds["kind"] == "angel_guidance", "code"])
    of_angel = investments["fund_code"].isin(angel_funds) & (investments["mode"] != "sub_fund")
    # set-based: the flows, the holdings reports and the master rows are read once
    sub_fund_codes = list(dict.fromkeys(investments.loc[investments["mode"] == "sub_fund", "target_code"]))
    reinvestment = local_reinvestments(book, fund_code, sub_fund_codes, as_of, str(settings["home_region_prefix"]),
                                       paid_in_by_sub_fund=sub_fund_paid_in(book, investments, as_of, paid=paid))
    reports = latest_reports(book, sub_fund_codes, as_of)
    largest = {str(k): int(v) for k, v in
               reports.groupby(["sub_fund_code", "company_code"])["cost_fen"].sum().groupby(level=0).max().items()}
    sub_funds = {str(r["code"]): r for r in records(book.sub_funds[book.sub_funds["code"].isin(sub_fund_codes)])}
    # only the angel rules read the company's own record
    companies = {str(r["code"]): r for r in records(book.companies[book.companies["code"].isin(
        investments.loc[of_angel, "target_code"])])}
    results: list[dict] = []
    seen_sub_funds: set[str] = set()
    for inv in records(investments):
        results.append(_prohibited_instrument(inv, settings))
        target = str(inv["target_code"])
        if inv["mode"] == "sub_fund":
            sub_fund = sub_funds.get(target)
            results.append(_subfund_share_cap(inv, sub_fund, settings))
            if target not in seen_sub_funds:
                seen_sub_funds.add(target)
                results.append(_subfund_single_company_cap(target, largest.get(target), sub_fund, settings))
                results.append(_reinvestment_multiple(target, reinvestment[target], sub_fund, as_of, settings))
            continue
        results.append(_ownership_cap(inv, settings))
        if inv["mode"] == "co_invest":
            results.append(_coinvest_lead_ratio(inv, settings))
        if inv["fund_code"] in angel_funds:
            results.append(_angel_company_age(inv, companies.get(target), settings))
            results.append(_angel_headcount(inv, settings))
            results.append(_angel_company_size(inv, settings))
    results.append(_direct_share_cap(fund_code, fund, investments, settings))
    results.extend(_single_company_caps(fund, investments, paid, settings))
    return results
