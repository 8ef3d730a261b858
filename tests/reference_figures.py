"""An independent computation of the report's figures, straight from metrics.md.

Deliberately naive and separate from `portfolio/`: it reads the interchange CSV files
with the csv module, sums amounts as Decimal yuan, keeps ratios as exact Fractions and
loops over plain dicts, one investment at a time. The only thing it shares with the
engine is pyxirr for the root of the XIRR equation (metrics.md names it). The tests
compare the engine's JSON report with it on generated books.
"""
from __future__ import annotations

import csv
import datetime as dt
import math
from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

import pyxirr


def read_book(folder: Path) -> dict[str, list[dict]]:
    book = {}
    for name in ("funds", "sub_funds", "companies", "investments", "cash_flows", "valuations", "sub_fund_holdings"):
        path = Path(folder) / f"{name}.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            book[name] = list(csv.DictReader(handle))
    return book


def _day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _ratio(a: Decimal, b: Decimal) -> float | None:
    return None if b == 0 else float(Fraction(a) / Fraction(b))


def _irr(flows: list[tuple[dt.date, Decimal]]) -> float | None:
    """pyxirr on the flows in date order, same-day flows added up (the XIRR equation)."""
    by_day: dict[dt.date, Decimal] = defaultdict(Decimal)
    for day, amount in flows:
        by_day[day] += amount
    flows = sorted(by_day.items())
    amounts = [float(a) for _, a in flows]
    if not (any(a < 0 for a in amounts) and any(a > 0 for a in amounts)):
        return None  # no sign change: no rate exists (metrics.md)
    rate = pyxirr.xirr([d for d, _ in flows], amounts, silent=True)
    return None if rate is None or not math.isfinite(rate) else rate  # inf is no rate


class Reference:
    """The figures of one fund as of D, computed the plain way."""

    def __init__(self, book: dict[str, list[dict]], fund: str, as_of: dt.date, home_prefix: str = "3302"):
        self.as_of, self.prefix = as_of, home_prefix
        family, grew = {fund}, True
        while grew:  # every fund whose parent_code leads up to `fund`
            more = {f["code"] for f in book["funds"] if f["parent_code"] in family}
            grew = not more <= family
            family |= more
        self.sub_funds = {s["code"]: s for s in book["sub_funds"]}
        self.companies = {c["code"]: c for c in book["companies"]}
        self.investments = [i for i in book["investments"] if i["fund_code"] in family and _day(i["date"]) <= as_of]
        self.investments.sort(key=lambda i: (i["date"], i["id"]))
        ids = {i["id"] for i in self.investments}
        self.flows = defaultdict(list)
        for f in book["cash_flows"]:
            if f["investment_id"] in ids and _day(f["date"]) <= as_of:
                self.flows[f["investment_id"]].append((_day(f["date"]), f["type"], Decimal(f["amount_cny"])))
        self.latest = {}
        for v in book["valuations"]:
            if v["investment_id"] in ids and _day(v["as_of"]) <= as_of:
                held = self.latest.get(v["investment_id"])
                if held is None or _day(v["as_of"]) >= held[0]:
                    self.latest[v["investment_id"]] = (_day(v["as_of"]), Decimal(v["fair_value_cny"]))
        self.holdings = book["sub_fund_holdings"]
        self.per_investment = {i["id"]: self._position(i) for i in self.investments}

    def target(self, inv: dict) -> dict:
        table = self.sub_funds if inv["mode"] == "sub_fund" else self.companies
        return table.get(inv["target_code"], {})

    def _position(self, inv: dict) -> dict:
        flows = self.flows[inv["id"]]
        paid = sum((a for _, t, a in flows if t == "contribution"), Decimal(0))
        dist = sum((a for _, t, a in flows if t == "distribution"), Decimal(0))
        if inv["id"] in self.latest:
            v_day, fair = self.latest[inv["id"]]
            later = sum(((a if t == "contribution" else -a) for d, t, a in flows if d > v_day), Decimal(0))
            nav = max(fair + later, Decimal(0))
        else:
            nav = max(paid - dist, Decimal(0))
        commitment = Decimal(inv["commitment_cny"])
        target = self.target(inv)
        region = target.get("region_code") or ""
        return {"commitment": commitment, "paid_in": paid, "unfunded": max(commitment - paid, Decimal(0)),
                "distributed": dist, "nav": nav, "sector": target.get("sector"),
                "vintage": int(inv["date"][:4]), "region": "local" if region.startswith(self.prefix) else "outside",
                "mode": inv["mode"]}

    def group(self, ids: list[str]) -> dict:
        members = [self.per_investment[i] for i in ids]
        sums = {k: sum((m[k] for m in members), Decimal(0))
                for k in ("commitment", "paid_in", "unfunded", "distributed", "nav")}
        return {**sums, "tvpi": _ratio(sums["distributed"] + sums["nav"], sums["paid_in"]),
                "dpi": _ratio(sums["distributed"], sums["paid_in"]), "rvpi": _ratio(sums["nav"], sums["paid_in"]),
                "irr": _irr(self.irr_flows(ids))}

    def irr_flows(self, ids: list[str]) -> list[tuple[dt.date, Decimal]]:
        """The group's flows seen from the fund, with its total NAV on D."""
        flows = [(d, a if t == "distribution" else -a) for i in ids for d, t, a in self.flows[i]]
        flows.append((self.as_of, sum((self.per_investment[i]["nav"] for i in ids), Decimal(0))))
        return flows

    def members(self, key: str, name: str) -> list[str]:
        return [i for i, p in self.per_investment.items() if str(p[key]) == name]

    def by(self, key: str) -> dict:
        groups = defaultdict(list)
        for inv_id, p in self.per_investment.items():
            groups[p[key]].append(inv_id)
        total = self.group(list(self.per_investment))["nav"]
        out = {}
        for name, ids in groups.items():
            figures = self.group(ids)
            figures["nav_share"] = _ratio(figures["nav"], total)
            out[str(name)] = figures
        return out

    def _latest_report(self, sub_fund: str) -> list[dict]:
        rows = [h for h in self.holdings if h["sub_fund_code"] == sub_fund and _day(h["as_of"]) <= self.as_of]
        if not rows:
            return []
        last = max(h["as_of"] for h in rows)
        return [h for h in rows if h["as_of"] == last]

    def lookthrough(self) -> dict:
        exact: dict[str, Fraction] = defaultdict(Fraction)
        nav_by_sub_fund: dict[str, Decimal] = defaultdict(Decimal)
        for inv in self.investments:
            p = self.per_investment[inv["id"]]
            if inv["mode"] == "sub_fund":
                nav_by_sub_fund[inv["target_code"]] += p["nav"]
            else:
                exact[p["sector"]] += Fraction(p["nav"])
        for sub_fund, nav in nav_by_sub_fund.items():
            report = self._latest_report(sub_fund)
            total = sum((Fraction(h["fair_value_cny"]) for h in report), Fraction(0))
            if total <= 0:
                exact[self.sub_funds[sub_fund]["sector"]] += Fraction(nav)
                continue
            for h in report:
                sector = self.companies[h["company_code"]]["sector"]
                exact[sector] += Fraction(nav) * Fraction(h["fair_value_cny"]) / total
        fund_nav = sum(exact.values(), Fraction(0))
        return {s: {"nav": Decimal(math.floor(v * 100 + Fraction(1, 2))) / 100,
                    "nav_share": None if fund_nav == 0 else float(v / fund_nav)}
                for s, v in exact.items() if v != 0}

    def concentration(self) -> dict:
        navs: dict[tuple, Decimal] = defaultdict(Decimal)
        for inv in self.investments:
            kind = "sub_fund" if inv["mode"] == "sub_fund" else "company"
            navs[(kind, inv["target_code"])] += self.per_investment[inv["id"]]["nav"]
        fund_nav = sum(navs.values(), Decimal(0))
        if fund_nav == 0:
            return {"top10_share": None, "largest_share": None, "hhi": None}
        ranked = sorted(navs.values(), reverse=True)
        return {"top10_share": _ratio(sum(ranked[:10], Decimal(0)), fund_nav),
                "largest_share": _ratio(ranked[0], fund_nav),
                "hhi": float(sum((Fraction(v) / Fraction(fund_nav)) ** 2 for v in ranked))}

    def reinvestment_multiples(self) -> dict:
        paid: dict[str, Decimal] = defaultdict(Decimal)
        for inv in self.investments:
            if inv["mode"] == "sub_fund":
                paid[inv["target_code"]] += self.per_investment[inv["id"]]["paid_in"]
        out = {}
        for sub_fund, paid_in in paid.items():
            report = self._latest_report(sub_fund)
            local = sum((Decimal(h["cost_cny"]) for h in report
                         if (self.companies[h["company_code"]]["region_code"] or "").startswith(self.prefix)),
                        Decimal(0))
            out[sub_fund] = None if not report else _ratio(local, paid_in)
        return out
