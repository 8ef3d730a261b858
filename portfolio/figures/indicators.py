"""绩效评价: the performance-evaluation indicators of a guidance fund, as of a date.

`performance_indicators(book, fund_code, as_of)` returns, per indicator key, a dict
with its Chinese `label`, its `value` (float for a ratio, int for a count, None where
it is undefined, e.g. nothing paid in) and the exact amounts it is made of (Decimal
yuan). Scope as every figure: the fund's investments with its descendants', dated on
or before D, exited ones included (metrics.md).

Choices where the brief leaves room, said here once:
- early-stage share: paid_in of direct and co_invest investments whose `stage` is
  `seed` or `startup` ÷ paid_in of all direct and co_invest investments; an
  investment without a stage counts as not early-stage.
- a sub-fund without a holdings report on or before D counts with 0 cost (nothing
  reported) in the totals, and has None for its own ratios.
- realised loss: paid_in of the investments whose latest valuation on or before D is a
  `write_off` ÷ the fund's paid_in.
- local companies: distinct companies of the home region held directly or by
  co-investment, or in a sub-fund's latest holdings report.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

import pandas as pd

from portfolio.figures import rules
from portfolio.figures.bookdata import BookData
from portfolio.figures.engine import latest_reports
from portfolio.figures.rules import is_local, is_missing, local_reinvestments
from portfolio.figures.scope import Holdings, holdings_of
from portfolio.money import CENT, FEN_PER_YUAN
from portfolio.money import yuan as _yuan

EARLY_STAGES = ("seed", "startup")
DIRECT_MODES = ("direct", "co_invest")

LABELS = {
    "leverage_multiple": "财政资金放大倍数（子基金总规模 ÷ 本基金认缴）",
    "reinvestment_completion": "返投完成率（本地返投 ÷ 要求返投额）",
    "paid_in_ratio": "实缴到位率（实缴 ÷ 认缴）",
    "sub_fund_investment_progress": "子基金投资进度（子基金已投成本 ÷ 子基金规模）",
    "early_stage_share": "投早投小占比（种子期、初创期实缴 ÷ 直投和跟投实缴）",
    "local_companies": "支持本地企业数",
    "realised_loss_ratio": "核销损失率（核销项目实缴 ÷ 实缴）",
    "compliance_exceptions": "合规例外数（未通过的检查）",
}


def _ratio(numerator, denominator) -> float | None:
    if denominator == 0:
        return None
    return float(Decimal(numerator) / Decimal(denominator))


def _item(key: str, value, **parts) -> dict:
    return {"label": LABELS[key], "value": value, **parts}


@dataclass(frozen=True)
class _SubFunds:
    """The sub-funds the fund (or a descendant) committed to, one line each, and their totals (fen)."""

    lines: list[dict]
    size: int          # their sizes
    commitment: int    # our commitments to them
    cost: int          # cost invested, per their latest holdings reports
    local_cost: int    # of which in the home region
    paid_in: int       # our paid_in to them
    required: Decimal  # the local reinvestment required: the multiple × our paid_in


def _sub_funds(book: BookData, holdings: Holdings, reports: pd.DataFrame) -> _SubFunds:
    settings = holdings.scope.settings
    required = Decimal(settings["reinvestment_multiple"])
    inv, as_of = holdings.investments, holdings.as_of
    sizes = {str(k): int(v) for k, v in zip(book.sub_funds["code"], book.sub_funds["size_fen"])}
    commitments = inv[inv["mode"] == "sub_fund"]
    codes = list(dict.fromkeys(str(c) for c in commitments["target_code"]))
    reinvestment = local_reinvestments(
        book, holdings.scope.code, codes, as_of, str(settings["home_region_prefix"]),
        paid_in_by_sub_fund=rules.sub_fund_paid_in(book, inv, as_of, paid=holdings.paid_in))
    report_cost = {str(k): int(v) for k, v in reports.groupby("sub_fund_code")["cost_fen"].sum().items()}
    commit_by = {str(k): int(v) for k, v in commitments.groupby("target_code")["commitment_fen"].sum().items()}
    lines = []
    total_size = total_commit = total_cost = total_local = total_paid = 0
    for code in codes:
        commit = commit_by.get(code, 0)
        size = sizes.get(code, 0)
        lr = reinvestment[code]
        report = lr.report_as_of
        cost = report_cost.get(code, 0)
        required_fen = required * lr.paid_in_fen
        lines.append({
            "sub_fund": code, "size": _yuan(size), "commitment": _yuan(commit), "paid_in": _yuan(lr.paid_in_fen),
            "report_as_of": None if report is None else pd.Timestamp(report).date(),
            "invested_cost": None if report is None else _yuan(cost),
            "local_cost": None if report is None else _yuan(lr.local_cost_fen),
            "reinvestment_multiple": None if lr.multiple is None else float(lr.multiple),
            "reinvestment_completion": (None if report is None or required_fen == 0
                                        else float(Decimal(lr.local_cost_fen) / required_fen)),
            "investment_progress": None if report is None or size == 0 else _ratio(cost, size),
        })
        total_size += size
        total_commit += commit
        total_cost += cost
        total_local += lr.local_cost_fen
        total_paid += lr.paid_in_fen
    return _SubFunds(lines, total_size, total_commit, total_cost, total_local, total_paid, required)


def _leverage_multiple(sf: _SubFunds) -> dict:
    return _item("leverage_multiple", _ratio(sf.size, sf.commitment),
                 sub_fund_size=_yuan(sf.size), commitment=_yuan(sf.commitment))


def _reinvestment_completion(sf: _SubFunds) -> dict:
    required_total = sf.required * sf.paid_in
    return _item("reinvestment_completion",
                 None if required_total == 0 else float(Decimal(sf.local_cost) / required_total),
                 local_cost=_yuan(sf.local_cost), paid_in=_yuan(sf.paid_in), required_multiple=float(sf.required),
                 required=(Decimal(required_total) / FEN_PER_YUAN).quantize(CENT))


def _paid_in_ratio(holdings: Holdings) -> dict:
    total_paid = sum(holdings.paid_in.values())
    total_commitment = sum(int(c) for c in holdings.investments["commitment_fen"])
    return _item("paid_in_ratio", _ratio(total_paid, total_commitment),
                 paid_in=_yuan(total_paid), commitment=_yuan(total_commitment))


def _sub_fund_investment_progress(sf: _SubFunds) -> dict:
    return _item("sub_fund_investment_progress", _ratio(sf.cost, sf.size),
                 invested_cost=_yuan(sf.cost), sub_fund_size=_yuan(sf.size))


def _early_stage_share(holdings: Holdings) -> dict:
    inv, paid = holdings.investments, holdings.paid_in
    # int64 even with no investment yet (an empty object column would sum to '')
    inv_paid = pd.Series([paid.get(str(i), 0) for i in inv["id"]], index=inv.index, dtype="int64")
    direct = inv["mode"].isin(DIRECT_MODES)
    direct_paid = int(inv_paid[direct].sum())
    early = direct & inv["stage"].map(lambda s: not is_missing(s) and str(s) in EARLY_STAGES).astype(bool)
    early_paid = int(inv_paid[early].sum())
    return _item("early_stage_share", _ratio(early_paid, direct_paid),
                 early_stage_paid_in=_yuan(early_paid), direct_paid_in=_yuan(direct_paid))


def _local_companies(book: BookData, holdings: Holdings, reports: pd.DataFrame) -> dict:
    """Held directly or by co-investment, or in a sub-fund's latest holdings report."""
    inv = holdings.investments
    prefix = str(holdings.scope.settings["home_region_prefix"])
    targets = inv.loc[inv["mode"].isin(DIRECT_MODES), "target_code"]
    direct_local = {str(c) for c in targets[is_local(book, targets, prefix).to_numpy()]}
    through_local = {str(c) for c in reports.loc[is_local(book, reports["company_code"], prefix).to_numpy(),
                                                  "company_code"]}
    return _item("local_companies", len(direct_local | through_local),
                 direct=len(direct_local), through_sub_funds=len(through_local))


def _realised_loss_ratio(holdings: Holdings) -> dict:
    # written off: the latest valuation on or before D (the positions') is a write_off
    rows = holdings.positions.rows
    written_off = {str(i) for i, m in zip(rows["id"], rows["valuation_method"]) if m == "write_off"}
    written_off_paid = sum(holdings.paid_in.get(i, 0) for i in written_off)
    total_paid = sum(holdings.paid_in.values())
    return _item("realised_loss_ratio", _ratio(written_off_paid, total_paid),
                 written_off_paid_in=_yuan(written_off_paid), paid_in=_yuan(total_paid),
                 investments=sorted(written_off))


def _compliance_exceptions(checks: list[dict]) -> dict:
    fails = [c for c in checks if c["status"] == "fail"]
    return _item("compliance_exceptions", len(fails), rules=sorted({c["rule"] for c in fails}))


def performance_indicators(book: BookData, fund_code: str, as_of: dt.date, *,
                           checks: list[dict] | None = None) -> dict:
    """The 绩效评价 indicators (see the module's doc), one function each, on the fund's
    holdings as of D. `checks` may pass in the result of `rules.check` for the same fund
    and date, to spare running it twice."""
    holdings = holdings_of(book, fund_code, as_of)
    sub_fund_codes = list(dict.fromkeys(str(c) for c in holdings.investments.loc[
        holdings.investments["mode"] == "sub_fund", "target_code"]))
    reports = latest_reports(book, sub_fund_codes, as_of)
    sub_funds = _sub_funds(book, holdings, reports)
    if checks is None:
        checks = rules.check(book, fund_code, as_of)
    return {
        "fund": fund_code,
        "as_of": pd.Timestamp(as_of).date(),
        "leverage_multiple": _leverage_multiple(sub_funds),
        "reinvestment_completion": _reinvestment_completion(sub_funds),
        "paid_in_ratio": _paid_in_ratio(holdings),
        "sub_fund_investment_progress": _sub_fund_investment_progress(sub_funds),
        "early_stage_share": _early_stage_share(holdings),
        "local_companies": _local_companies(book, holdings, reports),
        "realised_loss_ratio": _realised_loss_ratio(holdings),
        "compliance_exceptions": _compliance_exceptions(checks),
        "sub_funds": sub_funds.lines,
    }
