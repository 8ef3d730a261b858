"""Each fund's settings: rule limits (rules.md), the home region, the investment period,
the MIRR rates, the committee's quorum. The defaults depend on the fund's kind; an
admin may override any of them per fund (stored in funds.settings, audited).
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

HOME_REGION_PREFIX = "3302"  # Ningbo: a company registered under 3302xx is local
# MIRR (metrics.md): the annual rate the fund pays to finance its calls and earns on what
# it distributes, until a fund sets its own
MIRR_FINANCE_RATE = 0.08
MIRR_REINVEST_RATE = 0.08

# Funds of kind industry_guidance or other take the innovation_fund defaults (rules.md).
_COMMON: dict[str, Any] = {
    "home_region_prefix": HOME_REGION_PREFIX,
    "investment_period_years": 5,          # sub-fund investment period, for reinvestment_multiple
    "subfund_share_cap": Decimal("0.30"),
    "direct_share_cap": Decimal("0.30"),
    "single_company_cap": Decimal("0.05"),
    "ownership_cap": Decimal("0.30"),
    "subfund_single_company_cap": Decimal("0.20"),
    "reinvestment_multiple": Decimal("1.5"),
    "angel_company_age_years": Decimal("5"),
    "angel_headcount": 300,
    "angel_company_size_cny": Decimal("100000000"),
    "coinvest_lead_ratio": Decimal("1.0"),
    "prohibited_instruments": ["debt", "guarantee"],
    "mirr_finance_rate": MIRR_FINANCE_RATE,
    "mirr_reinvest_rate": MIRR_REINVEST_RATE,
    "committee_quorum": 5,
    "committee_pass_ratio": Decimal("2") / Decimal("3"),
    "valuation_change_threshold": Decimal("0.20"),  # quarterly report: changes above this are listed
    "finance_bureau_share": Decimal("1"),  # the finance bureau's share of the fund's calls (forecast: its CCaR)
    # the GP portal (portfolio/gp): packages due this many days after the quarter end; the fund's
    # share of the holdings may differ from its NAV by this share; 1 = another person accepts
    # than the one who reviewed (four eyes)
    "gp_deadline_days": 60,
    "gp_nav_tolerance": Decimal("0.10"),
    "gp_four_eyes": 1,
    # the PME benchmark the fund page and the quarterly report show unless another is chosen:
    # the name of an index series of the book (blank: none)
    "pme_index": "",
}

DEFAULTS: dict[str, dict[str, Any]] = {
    "innovation_fund": dict(_COMMON),
    "angel_guidance": {**_COMMON, "subfund_share_cap": Decimal("0.40"),
                       "reinvestment_multiple": Decimal("1.0")},
}


def defaults_for(kind: str) -> dict[str, Any]:
    return dict(DEFAULTS.get(kind, DEFAULTS["innovation_fund"]))


def fund_settings(kind: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The settings in force for a fund: its kind's defaults, overridden per fund.

    Overrides are stored as JSON (strings for decimals); they come back in the type of
    the default, so limits stay exact Decimals.
    """
    settings = defaults_for(kind)
    for key, value in (overrides or {}).items():
        if key not in settings or value is None:
            continue
        default = settings[key]
        if isinstance(default, Decimal):
            settings[key] = Decimal(str(value))
        elif isinstance(default, bool):
            settings[key] = bool(value)
        elif isinstance(default, int):
            settings[key] = int(value)
        elif isinstance(default, float):
            settings[key] = float(value)
        else:
            settings[key] = value
    return settings
