"""The review screen's data: the proposal's effect on its fund, pro forma.

The report and the checks before and after the deal, from portfolio.figures.report and
portfolio.figures.rules run on `proforma.with_investment(...)`'s book, for the fund and
every fund it rolls up into."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from models import (
    SECTORS,
    Company,
    Proposal,
)
from portfolio.committee.decisions import investment_fields
from portfolio.figures.scope import FundTree
from portfolio.money import fen

# =============================================================== the review (pro forma)

PRO_FORMA_ID = "本提案"


def _pro_forma_targets(proposal: Proposal) -> dict[str, Any]:
    target = dict(proposal.new_target or {})
    if not proposal.new_target:
        if proposal.mode != "sub_fund" and proposal.founded is not None:
            # a company the book knows: the founding date the proposal supplies, if the book has none
            return {"company": {"code": proposal.target_code, "founded": proposal.founded}}
        return {}
    if proposal.mode == "sub_fund":
        return {"sub_fund": {"code": proposal.target_code, "name": target.get("name"),
                             "manager": target.get("manager"), "size_cny": target.get("size_cny"),
                             "vintage_year": int(target["vintage_year"]), "sector": target.get("sector"),
                             "region_code": target.get("region_code"), "term_years": None}}
    return {"company": {"code": proposal.target_code, "name": target.get("name"),
                        "credit_code": target.get("credit_code"), "sector": target.get("sector"),
                        "region_code": target.get("region_code"), "founded": target.get("founded")}}


def pro_forma_book(book, proposal: Proposal):
    """The book as it would be after the deal, at the proposal's planned date."""
    from portfolio.figures.proforma import with_investment

    fields = investment_fields(proposal, PRO_FORMA_ID)
    # every figure of the review counts the whole amount: paid in on the planned date (so
    # the sector, NAV and paid-in shares agree with the commitment-based 直投占比); the
    # first call is the proposal's record of the payment plan, not a different deal
    return with_investment(book, fields, contribution_fen=fen(proposal.amount_cny),
                           **_pro_forma_targets(proposal))


def payment_plan_book(book, proposal: Proposal):
    """The book after the deal as its money moves: the first call paid on the planned date
    (a direct or co-investment without one: the whole amount, paid at closing; a sub-fund
    without one: nothing yet), the rest of the commitment left to call. The forecast runs
    on this book; the exposure and the rules count the whole amount (pro_forma_book)."""
    from portfolio.figures.proforma import with_investment

    first_call = proposal.first_call_cny
    if first_call is None and proposal.mode != "sub_fund":
        first_call = proposal.amount_cny
    return with_investment(book, investment_fields(proposal, PRO_FORMA_ID),
                           contribution_fen=fen(first_call) if first_call else None,
                           **_pro_forma_targets(proposal))


def target_nav(report: dict, mode: str, target_code: str) -> dict[str, Any] | None:
    """The target's NAV (all the fund's investments in it) and its share of the fund's
    NAV, from the report's investments; None when the fund holds nothing in it."""
    sub_fund = mode == "sub_fund"
    navs = [i["nav"] for i in report["investments"] if i["target"] == target_code
            and (i["mode"] == "sub_fund") == sub_fund and i.get("nav") is not None]
    if not navs:
        return None
    nav = sum(navs, Decimal(0))
    total = Decimal(report["summary"]["nav"] or 0)
    return {"nav": nav, "nav_share": None if total == 0 else float(nav / total)}


def _without_investment(book, investment_id: str):
    return book.with_(investments=book.investments[book.investments["id"] != investment_id],
                      flows=book.flows[book.flows["investment_id"] != investment_id],
                      valuations=book.valuations[book.valuations["investment_id"] != investment_id])


def _founded(session: Session, proposal: Proposal):
    """The company's founding date the angel rules read: the book's, else the proposal's."""
    if proposal.mode == "sub_fund":
        return None
    company = session.get(Company, proposal.target_code)
    if company is not None and company.founded is not None:
        return company.founded
    return proposal.founded


def review(session: Session, proposal: Proposal) -> dict[str, Any]:
    """The proposal's effect on its fund: report and checks before and after (pro forma)."""
    from portfolio.book.reading import load_book
    from portfolio.figures.proforma import failures_introduced
    from portfolio.figures.report import compute_report
    from portfolio.figures.rules import check

    book = load_book(session)
    if proposal.investment_id:
        # already in the book: show the effect as the committee saw it, from the book without it
        book = _without_investment(book, proposal.investment_id)
    after_book = pro_forma_book(book, proposal)
    as_of = proposal.planned_date
    before = compute_report(book, proposal.fund_code, as_of)
    after = compute_report(after_book, proposal.fund_code, as_of)

    sectors = sorted(set(before["by_sector"]) | set(after["by_sector"]), key=lambda s: (
        SECTORS.index(s) if s in SECTORS else len(SECTORS), str(s)))
    sector_rows = [{"sector": s, "before": before["by_sector"].get(s), "after": after["by_sector"].get(s)}
                   for s in sectors]

    # the fund's own checks come with its reports; the funds it rolls up into are checked too
    checks = []
    fund_checks: dict[str, tuple[dict, dict]] = {}
    for code in FundTree.of_book(book).ancestors(proposal.fund_code):
        if code == proposal.fund_code:
            b, a = before["compliance"], after["compliance"]
        else:
            b, a = check(book, code, as_of), check(after_book, code, as_of)
        new = {(r["rule"], r["subject"]) for r in failures_introduced(b, a)}
        by_key = {(r["rule"], r["subject"]): r for r in b}
        fund_checks[code] = (by_key, {(r["rule"], r["subject"]): r for r in a})
        for r in a:
            old = by_key.get((r["rule"], r["subject"]))
            checks.append({**r, "fund": code, "new_failure": (r["rule"], r["subject"]) in new, "before": old,
                           # what the committee needs to see: what the deal changes, and what is not passing
                           "relevant": old is None or r["status"] != "pass" or old.get("value") != r.get("value")
                           or old["status"] != r["status"]})
    fund_checks_before, fund_checks_after = fund_checks[proposal.fund_code]

    def both(rule: str, subject: str) -> dict:
        return {"before": fund_checks_before.get((rule, subject)), "after": fund_checks_after.get((rule, subject))}

    effect: dict[str, Any] = {"direct_share": both("direct_share_cap", proposal.fund_code)}
    if proposal.mode == "sub_fund":
        effect["sub_fund_share"] = both("subfund_share_cap", PRO_FORMA_ID)
    else:
        effect["company_share"] = both("single_company_cap", proposal.target_code)
        effect["ownership"] = both("ownership_cap", PRO_FORMA_ID)
        if proposal.mode == "co_invest":
            effect["lead_ratio"] = both("coinvest_lead_ratio", PRO_FORMA_ID)
    # over all the target's holdings, not only the top ten of the concentration table
    effect["target_nav_share"] = {
        "before": target_nav(before, proposal.mode, proposal.target_code),
        "after": target_nav(after, proposal.mode, proposal.target_code)}

    # local reinvestment of the sub-fund concerned (the target, or the one co-invested alongside)
    concerned = proposal.target_code if proposal.mode == "sub_fund" else proposal.alongside_code
    reinvestment = []
    before_sf = {s["code"]: s for s in before["sub_funds"]}
    for s in after["sub_funds"]:
        old = before_sf.get(s["code"])
        changed = old is None or old.get("local_reinvestment_cost") != s.get("local_reinvestment_cost") or \
            old.get("reinvestment_multiple") != s.get("reinvestment_multiple")
        if s["code"] == concerned or changed:
            reinvestment.append({"code": s["code"], "name": s.get("name"), "before": old, "after": s,
                                 "check_before": fund_checks_before.get(("reinvestment_multiple", s["code"])),
                                 "check_after": fund_checks_after.get(("reinvestment_multiple", s["code"]))})
    return {"as_of": as_of, "before": before, "after": after, "founded": _founded(session, proposal),
            "sectors": sector_rows, "checks": checks,
            "new_failures": [c for c in checks if c["new_failure"]], "effect": effect,
            "reinvestment": reinvestment, "pro_forma_id": PRO_FORMA_ID,
            "forecast": forecast_effect(session, book, payment_plan_book(book, proposal), proposal)}


def forecast_effect(session: Session, book, after_book, proposal: Proposal) -> dict[str, Any]:
    """The proposal's effect on the fund's forecast from its planned date (issue 16): calls
    over the next 4 quarters, peak unfunded, CCaR95 over 4 quarters, before, after and the
    change, by the one forecast engine (forecast_book.commitment_effect: the proposed
    investment one more unit, with its class's pooled parameters; 1,000 paths, 8 quarters).
    `after_book` is the payment plan's book: the first call paid, the rest left to call."""
    from portfolio.book.forecast_parameters import overrides
    from portfolio.figures.forecast_book import commitment_effect

    return commitment_effect(book, after_book, proposal.fund_code, proposal.planned_date, PRO_FORMA_ID,
                             overrides=overrides(session))
