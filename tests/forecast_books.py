"""Books for the forecast tests: a generated book whose cash flows follow Takahashi–Alexander
with known parameters (plus noise), and the demo book as BookData."""
from __future__ import annotations

from decimal import Decimal

import numpy as np
import pandas as pd

from portfolio.figures import forecast as fc
from portfolio.figures.bookdata import BookData
from portfolio.interchange.demo import demo_book
from tests.rules_factories import book_from_rows

TRUE = {"rc_early": 0.40, "rc_late": 0.30, "bow": 2.0, "life": 10.0, "growth": 0.08, "yield": 0.0}
AS_OF = pd.Timestamp("2025-12-31")


def generated_book(units: int = 24, seed: int = 11, call_noise: float = 0.25, growth_noise: float = 0.02,
                   first: str = "2014-03-31", last: str = "2023-06-30", call_zero: float = 0.0,
                   call_common: float = 0.0) -> BookData:
    """Sub-funds of 1 亿元 each, started at spread-out dates between `first` and `last`; each
    quarter a call of r_q × UC × exp(σε − σ²/2) and the TA distribution of the NAV grown by a
    noisy G; a valuation at each quarter end of age. Everything up to AS_OF is booked.
    With call_zero = π, calls are lumpy: no call in a quarter with probability π, else the
    call above ÷ (1 − π) (the zero-inflated layer of forecast.Noise). With call_common = ρ, the
    calls' normal is √ρ z + √(1 − ρ) ε, z one draw per calendar quarter for every sub-fund (the
    common factor of forecast.Noise)."""
    rng = np.random.default_rng(seed)
    market = np.random.default_rng(seed + 1)
    common = {q: market.standard_normal() for q in pd.period_range("2014Q1", AS_OF.to_period("Q"), freq="Q")}
    starts = pd.date_range(first, last, periods=units).normalize()
    g_q = float(fc.quarterly_growth(TRUE["growth"]))
    funds = [{"code": "G", "name": "生成基金", "kind": "innovation_fund", "size_fen": 10**14, "vintage_year": 2014,
              "settings": {}}]
    sub_funds, investments, flows, valuations = [], [], [], []
    for u, start in enumerate(starts):
        code, inv = f"GS{u:02d}", f"G-GS{u:02d}"
        sector = ("digital", "materials", "robotics")[u % 3]
        sub_funds.append({"code": code, "name": f"生成子基金{u}", "manager": "M", "size_fen": 10**12,
                          "vintage_year": start.year, "sector": sector, "region_code": "330206",
                          "term_years": int(TRUE["life"])})
        cc = 10**10  # fen: 1 亿元
        investments.append({"id": inv, "fund_code": "G", "mode": "sub_fund", "target_code": code, "date": start,
                            "commitment_fen": cc})
        uc, nav = float(cc), 0.0
        k = 0
        while True:
            k += 1
            day = start + pd.Timedelta(days=int(round(k * 365.25 / 4)) - 1)
            if day > AS_OF:
                break
            age = k / 4
            year = int(np.ceil(age - 1e-9))
            rc = TRUE["rc_early"] if year <= 2 else TRUE["rc_late"]
            own = rng.standard_normal()
            if call_common > 0:
                middle = start + pd.Timedelta(days=(k - 0.5) * 365.25 / 4)
                own = np.sqrt(call_common) * common[middle.to_period("Q")] + np.sqrt(1 - call_common) * own
            r_q = float(fc.quarterly_rate(rc)) * float(np.exp(call_noise * own - call_noise**2 / 2))
            if call_zero > 0:
                r_q = 0.0 if rng.random() < call_zero else r_q / (1 - call_zero)
            call = int(round(min(r_q, 1.0) * uc))
            rd = 1.0 if age >= TRUE["life"] else float(fc.quarterly_rate(min((age / TRUE["life"]) ** TRUE["bow"], 1)))
            grown = nav * (1 + g_q) * float(np.exp(growth_noise * rng.standard_normal()))
            dist = int(round(rd * grown))
            nav = max(grown + call - dist, 0.0)
            uc -= call
            if call > 0:
                flows.append({"investment_id": inv, "date": day, "type": "contribution", "amount_fen": call})
            if dist > 0:
                flows.append({"investment_id": inv, "date": day, "type": "distribution", "amount_fen": dist})
            valuations.append({"investment_id": inv, "as_of": day, "fair_value_fen": int(round(nav)),
                               "method": "gp_nav"})
    return book_from_rows(funds=funds, sub_funds=sub_funds, investments=investments, flows=flows,
                          valuations=valuations)


def _fen(value) -> int | None:
    return None if value is None else int(Decimal(str(value)) * 100)


def demo_book_data() -> BookData:
    """The demo workbook's rows (portfolio.interchange.demo) as BookData, without a database."""
    rows = demo_book()
    rename = {"size_cny": "size_fen", "commitment_cny": "commitment_fen", "amount_cny": "amount_fen",
              "fair_value_cny": "fair_value_fen", "cost_cny": "cost_fen", "revenue_cny": "revenue_fen",
              "total_assets_cny": "total_assets_fen", "lead_amount_cny": "lead_amount_fen"}

    def convert(table: list[dict]) -> list[dict]:
        out = []
        for row in table:
            new = {}
            for key, value in row.items():
                if key in rename:
                    new[rename[key]] = _fen(value)
                else:
                    new[key] = value
            new.setdefault("settings", {})
            out.append(new)
        return out

    return book_from_rows(funds=convert(rows["funds"]), sub_funds=convert(rows["sub_funds"]),
                          companies=convert(rows["companies"]), investments=convert(rows["investments"]),
                          flows=convert(rows["cash_flows"]), valuations=convert(rows["valuations"]),
                          holdings=convert(rows["sub_fund_holdings"]))
