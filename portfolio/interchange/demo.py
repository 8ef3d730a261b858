"""A realistic, deterministic demo book for both funds, written as an interchange workbook.

`demo_book()` builds the rows (fixed seed), `write_demo_book(path)` writes them as a
Chinese-headed .xlsx, which the `demo` command imports through `import_book` — the same
path as a user's book. The names are invented; the credit codes carry a valid check
character; most companies are registered in Ningbo (3302xx).

The story: 千亿基金 (QY) commits to 14 sub-funds from 2022 and co-invests and invests
directly in larger rounds, with one exit (2025, valued `exited`); its child fund QY-CL
(新材料专项) commits to two materials sub-funds; the angel guidance fund (TS) commits to 8
early-stage sub-funds and makes small angel investments, one written off. Valuations are
quarterly to 2025-12-31; three GPs report a quarter late (last report 2025-09-30).

The story can be told to a later quarter end (`until`): every date moves by the same whole
quarters (`shifted`), the years of vintage by the nearest whole years, so that the demo
loaded today is as recent as a fund's own book would be (the `demo` command's default:
the last quarter over).
"""
from __future__ import annotations

import calendar
import datetime as dt
import random
from decimal import Decimal
from pathlib import Path
from typing import Any

from portfolio.vocabulary import credit_code_check_char

SEED = 20251231
LAST = dt.date(2025, 12, 31)
SECTORS5 = ["materials", "life_health", "robotics", "dual_carbon", "digital"]
LOCAL = ["330203", "330205", "330206", "330211", "330212", "330213", "330281", "330282", "330226", "330225"]
OUTSIDE = ["310115", "440305", "320505", "110108", "330106", "330110"]
_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"

_PLACE = ["甬江", "镇海", "北仑", "鄞州", "海曙", "江北", "慈溪", "余姚", "奉化", "象山", "宁海", "杭州湾", "前湾",
          "梅山", "东钱湖", "三江", "天一", "四明", "姚江", "甬城"]
_CORE = {
    "materials": ["新材料", "高分子材料", "磁性材料", "碳纤维", "电子化学品", "特种合金"],
    "life_health": ["生物医药", "医疗器械", "基因科技", "精准医疗", "康复科技", "制药"],
    "robotics": ["机器人", "智能装备", "精密机械", "数控科技", "伺服科技", "智造"],
    "dual_carbon": ["新能源", "储能科技", "氢能科技", "光伏科技", "节能环保", "碳中和科技"],
    "digital": ["集成电路", "微电子", "工业软件", "数据科技", "人工智能", "智能网联"],
}
_SF_WORD = {"materials": "新材料", "life_health": "生命健康", "robotics": "智能制造",
            "dual_carbon": "双碳", "digital": "数字经济"}
_GP = ["甬江资本管理有限公司", "宁波梅山保税港区星辰投资管理有限公司", "浙江海港股权投资管理有限公司",
       "宁波通商创业投资管理有限公司", "宁波金投股权投资基金管理有限公司", "上海同创伟业投资管理有限公司",
       "深圳松禾资本管理有限公司", "宁波天使湾投资管理有限公司", "杭州元璟投资管理有限公司",
       "宁波甬科天使投资管理有限公司", "苏州元禾控股投资管理有限公司", "宁波前湾产业投资管理有限公司"]


def story_months(until: dt.date) -> int:
    """The months from the story's last quarter end (LAST) to `until`, a quarter end on or
    after it; ValueError for any other day."""
    if until < LAST or (until.month % 3, until.day) != (0, calendar.monthrange(until.year, until.month)[1]):
        raise ValueError(f"a quarter end on or after {LAST.isoformat()}: {until.isoformat()}")
    return (until.year - LAST.year) * 12 + until.month - LAST.month


def shifted(day: dt.date, months: int) -> dt.date:
    """`day` moved by whole months: a month's last day to the last day of the month it moves
    to, any other day to the same day, or to the day before the month's last when that is
    earlier: so a month's last day, and so a quarter end, stays one and no other day becomes
    one (a flow on 30 March must not land on a quarter's end beside its valuations). Never
    reorders two days (a later day never comes out earlier)."""
    if not months:
        return day
    year, month = divmod(day.month - 1 + months, 12)
    year, month = day.year + year, month + 1
    last = calendar.monthrange(year, month)[1]
    at_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return dt.date(year, month, last if at_end else min(day.day, last - 1))


def _shifted_rows(rows: dict[str, list[dict]], months: int) -> dict[str, list[dict]]:
    """The book's rows told `months` later: every date shifted, every vintage year by the
    nearest whole years (a vintage is a year: the story's 2022 fund is the later story's
    2023 fund when it moves by nine months)."""
    years = (months + 6) // 12
    return {sheet: [{key: shifted(value, months) if isinstance(value, dt.date)
                     else value + years if key == "vintage_year" and isinstance(value, int) else value
                     for key, value in row.items()} for row in sheet_rows]
            for sheet, sheet_rows in rows.items()}


def _money(value: float) -> Decimal:
    return Decimal(str(round(value, 2))).quantize(Decimal("0.01"))


def _wan(value: float) -> Decimal:
    """Round to 万元 (how deal amounts are agreed)."""
    return Decimal(int(round(value / 10_000)) * 10_000)


def _quarter_ends(start: dt.date, end: dt.date = LAST) -> list[dt.date]:
    out: list[dt.date] = []
    year, q = start.year, (start.month - 1) // 3 + 1
    while True:
        month = q * 3
        day = dt.date(year, month, 31 if month in (3, 12) else 30)
        if day > end:
            return out
        if day >= start:
            out.append(day)
        q += 1
        if q == 5:
            year, q = year + 1, 1


def _credit_code(rng: random.Random, region: str, used: set[str]) -> str:
    while True:
        body = "91" + region + "".join(rng.choice(_ALPHABET) for _ in range(9))
        code = body + credit_code_check_char(body)
        if code not in used:
            used.add(code)
            return code


def _date_between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randint(0, (end - start).days))


FUNDS: list[dict[str, Any]] = [
    {"code": "QY", "name": "宁波千亿科技创新基金", "name_en": "Ningbo 100bn S&T Innovation Fund",
     "kind": "innovation_fund", "parent_code": None, "size_cny": Decimal(100_000_000_000),
     "vintage_year": 2022, "currency": "CNY"},
    {"code": "QY-CL", "name": "宁波千亿科技创新基金新材料专项基金", "name_en": "QY Advanced Materials Fund",
     "kind": "innovation_fund", "parent_code": "QY", "size_cny": Decimal(10_000_000_000),
     "vintage_year": 2023, "currency": "CNY"},
    {"code": "TS", "name": "宁波市天使投资引导基金", "name_en": "Ningbo Angel Investment Guidance Fund",
     "kind": "angel_guidance", "parent_code": None, "size_cny": Decimal(5_000_000_000),
     "vintage_year": 2021, "currency": "CNY"},
]
LATE_GPS = {"SF04", "SF11", "SF17"}  # their reports come a quarter late
# sub-fund commitments: QY to SF01–SF14, its child QY-CL to two materials funds, TS to SF13–SF20
COMMITMENTS = ([("QY", f"SF{i:02d}") for i in range(1, 15)] + [("QY-CL", "SF01"), ("QY-CL", "SF06")]
               + [("TS", f"SF{i:02d}") for i in range(13, 21)])


def demo_book(seed: int = SEED, *, until: dt.date = LAST) -> dict[str, list[dict]]:
    """The demo book's rows per sheet (values as Decimal / date / str), its story told to the
    quarter end `until` (module docstring).

    The sheets are drawn in a fixed order from one random stream (the same seed gives the
    same book, row for row), each by its own step of `_DemoBook`."""
    months = story_months(until)
    book = _DemoBook(random.Random(seed))
    book.draw_companies()
    book.draw_sub_funds()
    book.draw_commitments()
    book.draw_deals()
    book.draw_holdings()
    return _shifted_rows({"funds": [dict(f) for f in FUNDS], "sub_funds": book.sub_funds,
                          "companies": book.companies, "investments": book.investments, "cash_flows": book.flows,
                          "valuations": book.valuations, "sub_fund_holdings": book.holdings}, months)


class _DemoBook:
    """The demo's rows, sheet by sheet, from one random stream (the order of the steps is
    part of the book: another order draws another book)."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used_credit: set[str] = set()
        self.companies: list[dict[str, Any]] = []
        self.by_sector: dict[str, list[tuple[str, bool]]] = {s: [] for s in SECTORS5}
        self.sub_funds: list[dict[str, Any]] = []
        self.investments: list[dict[str, Any]] = []
        self.flows: list[dict[str, Any]] = []
        self.valuations: list[dict[str, Any]] = []
        self.holdings: list[dict[str, Any]] = []
        self.held: dict[str, list[str]] = {}
        self.taken: set[str] = set()

    def draw_companies(self) -> None:
        """72 companies, mostly in Ningbo; the angel ones (from the 43rd) young and small."""
        rng, names_used = self.rng, set()
        for i in range(72):
            sector = SECTORS5[i % 5]
            region = rng.choice(LOCAL) if rng.random() < 0.78 else rng.choice(OUTSIDE)
            while True:
                name = f"宁波{rng.choice(_PLACE)}{rng.choice(_CORE[sector])}有限公司" if region.startswith("3302") \
                    else f"{rng.choice(['上海', '深圳', '苏州', '北京', '杭州'])}{rng.choice(_PLACE[:8])}" \
                         f"{rng.choice(_CORE[sector])}有限公司"
                if name not in names_used:
                    names_used.add(name)
                    break
            angel = i >= 42
            founded = _date_between(rng, dt.date(2019, 1, 1), dt.date(2022, 6, 30)) if angel else \
                _date_between(rng, dt.date(2008, 1, 1), dt.date(2019, 12, 31))
            code = f"C{i + 1:03d}"
            self.companies.append({"code": code, "name": name,
                                   "credit_code": _credit_code(rng, region, self.used_credit),
                                   "sector": sector, "region_code": region, "founded": founded})
            self.by_sector[sector].append((code, angel))

    def draw_sub_funds(self) -> None:
        """20 sub-funds: SF01–SF12 for QY, SF13–SF20 angel funds."""
        rng = self.rng
        for i in range(20):
            sector = SECTORS5[i % 5]
            angel = i >= 12
            vintage = 2022 + (i % 3) if not angel else 2021 + (i % 4)
            word = "天使" if angel else _SF_WORD[sector]
            self.sub_funds.append({
                "code": f"SF{i + 1:02d}",
                "name": f"宁波{_PLACE[i]}{word}{'创业投资' if angel else '股权投资'}合伙企业（有限合伙）",
                "manager": _GP[i % len(_GP)],
                "size_cny": Decimal((rng.randint(5, 15) if angel else rng.randint(20, 100)) * 100_000_000),
                "vintage_year": min(vintage, 2024), "sector": sector,
                "region_code": LOCAL[i % len(LOCAL)] if i % 7 else OUTSIDE[0], "term_years": 10 if angel else 8,
            })

    def value_path(self, inv_id, start, cost_of, drift, vol, method, last=LAST, final=None) -> None:
        """Quarterly fair values from the quarter end after `start` to `last` (or a final entry)."""
        level = 1.0
        for q in _quarter_ends(start + dt.timedelta(days=1), last):
            level = max(0.05, level * (1 + drift + self.rng.gauss(0, vol)))
            self.valuations.append({"investment_id": inv_id, "as_of": q,
                                    "fair_value_cny": _wan(cost_of(q) * level), "method": method})
        if final:
            self.valuations.append({"investment_id": inv_id, **final})

    def draw_commitments(self) -> None:
        """The sub-fund commitments, their capital calls in tranches, fees, distributions, GP NAVs."""
        rng, flows = self.rng, self.flows
        sf_by_code = {s["code"]: s for s in self.sub_funds}
        for fund, sf in COMMITMENTS:
            s = sf_by_code[sf]
            start = _date_between(rng, dt.date(max(s["vintage_year"], 2021), 1, 10),
                                  dt.date(max(s["vintage_year"], 2021), 11, 30))
            if fund == "QY-CL":
                start = _date_between(rng, dt.date(2023, 3, 1), dt.date(2023, 10, 31))
            share = Decimal(rng.choice([10, 15, 20, 25, 30]))
            commitment = (s["size_cny"] * share / 100).quantize(Decimal(1))
            inv_id = f"{fund}-{sf}"
            self.investments.append({"id": inv_id, "fund_code": fund, "mode": "sub_fund", "target_code": sf,
                                     "date": start, "commitment_cny": commitment, "ownership_pct": share})
            self.held.setdefault(fund, []).append(sf)
            calls, d = [], start
            for n, part in enumerate((Decimal("0.3"), Decimal("0.3"), Decimal("0.2"))):
                if d > dt.date(2025, 11, 30):
                    break
                amount = (commitment * part).quantize(Decimal(1))
                calls.append((d, amount))
                flows.append({"investment_id": inv_id, "date": d, "type": "contribution", "amount_cny": amount,
                              "note": f"第{n + 1}期实缴", "ref": f"CALL-{n + 1:02d}"})
                d = d + dt.timedelta(days=rng.randint(300, 420))
            # management fees, small, without a ref
            flows.append({"investment_id": inv_id, "date": start + dt.timedelta(days=30), "type": "contribution",
                          "amount_cny": _money(float(commitment) * 0.002), "note": "管理费", "ref": None})
            drift = rng.uniform(-0.01, 0.05)
            if start.year <= 2022 and drift > 0.015:
                dist_day = _date_between(rng, dt.date(2025, 1, 15), dt.date(2025, 10, 31))
                flows.append({"investment_id": inv_id, "date": dist_day, "type": "distribution",
                              "amount_cny": _wan(float(calls[0][1]) * rng.uniform(0.2, 0.5)),
                              "note": "子基金项目退出分配", "ref": "DIST-01"})

            def paid(q, calls=calls):
                return float(sum(a for d_, a in calls if d_ <= q))

            last = dt.date(2025, 9, 30) if sf in LATE_GPS else LAST
            self.value_path(inv_id, start, paid, drift, 0.04, "gp_nav", last=last)

    def company_for(self, sector: str, angel: bool) -> str:
        pool = [c for c, a in self.by_sector[sector] if a == angel and c not in self.taken]
        code = self.rng.choice(pool)
        self.taken.add(code)
        return code

    def draw_deals(self) -> None:
        """Direct and co-investments: QY larger rounds (one exit), TS angel rounds (one written off)."""
        rng = self.rng
        plan = [("QY", i) for i in range(34)] + [("TS", i) for i in range(26)]
        for k, (fund, i) in enumerate(plan):
            sector = SECTORS5[k % 5]
            angel = fund == "TS"
            free = [s for s in SECTORS5 if any(a == angel and c not in self.taken for c, a in self.by_sector[s])]
            company = self.company_for(sector if sector in free else rng.choice(free), angel)
            mode = "co_invest" if i % 3 == 1 else "direct"
            along = rng.choice(self.held[fund]) if mode == "co_invest" else None
            earliest = dt.date(2022, 3, 1) if fund == "QY" else dt.date(2021, 6, 1)
            date = _date_between(rng, earliest, dt.date(2025, 6, 30))
            special = "exit" if (fund == "QY" and i == 0) else "write_off" if (fund == "TS" and i == 0) else None
            if special == "exit":
                date = dt.date(2022, 9, 15)
            elif special == "write_off":
                date = dt.date(2021, 11, 20)
            amount = _wan(rng.uniform(30e6, 400e6) if not angel else rng.uniform(2e6, 10e6))
            inv_id = f"{fund}-{'D' if mode == 'direct' else 'CO'}{i + 1:02d}"
            row = self.deal_row(inv_id, fund, mode, company, along, date, amount, angel)
            self.investments.append(row)
            self.draw_deal_flows(inv_id, date, amount, special, angel)

    def deal_row(self, inv_id, fund, mode, company, along, date, amount, angel) -> dict[str, Any]:
        rng = self.rng
        row = {"id": inv_id, "fund_code": fund, "mode": mode, "target_code": company, "alongside_code": along,
               "date": date, "commitment_cny": amount,
               "round": rng.choice(["天使轮", "Pre-A轮", "A轮"]) if angel else rng.choice(["A轮", "B轮", "C轮", "D轮"]),
               "ownership_pct": Decimal(str(round(rng.uniform(2, 20 if angel else 12), 2))),
               "instrument": "equity" if rng.random() < 0.85 else rng.choice(["convertible", "preferred"]),
               "stage": rng.choice(["seed", "startup"]) if angel else rng.choice(["growth", "mature", "startup"])}
        if angel:
            row.update({"headcount": rng.randint(8, 280), "revenue_cny": _wan(rng.uniform(0, 45e6)),
                        "total_assets_cny": _wan(rng.uniform(3e6, 60e6))})
        if mode == "co_invest":
            row["lead_amount_cny"] = _wan(float(amount) * rng.uniform(1.0, 3.0))
        return row

    def draw_deal_flows(self, inv_id, date, amount, special, angel) -> None:
        """A deal's payments, its exit or write-off, its valuations and a dividend now and then."""
        rng, flows = self.rng, self.flows
        first = amount if special or rng.random() < 0.7 else (amount * Decimal("0.6")).quantize(Decimal(1))
        flows.append({"investment_id": inv_id, "date": date, "type": "contribution", "amount_cny": first,
                      "note": "投资款", "ref": "PAY-01"})
        second_day = date + dt.timedelta(days=rng.randint(150, 400))
        if first != amount and second_day <= dt.date(2025, 12, 15):
            flows.append({"investment_id": inv_id, "date": second_day, "type": "contribution",
                          "amount_cny": amount - first, "note": "第二笔投资款", "ref": "PAY-02"})

        def paid(q):
            return float(sum(f["amount_cny"] for f in flows
                             if f["investment_id"] == inv_id and f["type"] == "contribution" and f["date"] <= q))

        method = "last_round" if rng.random() < 0.5 else rng.choice(["comparables", "dcf", "cost"])
        if special == "exit":  # sold in 2025 at 2.6× cost
            date_exit = dt.date(2025, 6, 30)
            flows.append({"investment_id": inv_id, "date": date_exit, "type": "distribution",
                          "amount_cny": _wan(float(amount) * 2.6), "note": "股权转让退出", "ref": "EXIT-01"})
            self.value_path(inv_id, date, paid, 0.06, 0.03, method, last=dt.date(2025, 3, 31),
                            final={"as_of": date_exit, "fair_value_cny": Decimal("0.00"), "method": "exited"})
        elif special == "write_off":  # the company failed in 2024
            self.value_path(inv_id, date, paid, -0.12, 0.03, method, last=dt.date(2024, 9, 30),
                            final={"as_of": dt.date(2024, 12, 31), "fair_value_cny": Decimal("0.00"),
                                   "method": "write_off"})
        else:
            drift = rng.uniform(-0.05, 0.08) if angel else rng.uniform(-0.03, 0.07)
            self.value_path(inv_id, date, paid, drift, 0.05, method)
            if rng.random() < 0.12 and date.year <= 2023:  # a dividend
                flows.append({"investment_id": inv_id, "date": dt.date(2025, 7, 15), "type": "distribution",
                              "amount_cny": _wan(float(amount) * 0.04), "note": "分红", "ref": None})

    def draw_holdings(self) -> None:
        """Sub-fund holdings reports, quarterly from 2023; late GPs' last report is 2025-09-30."""
        rng = self.rng
        co_in = {c["code"]: c for c in self.companies}
        for s in self.sub_funds:
            sector = s["sector"]
            angel = int(s["code"][2:]) >= 13
            names = [c for c, a in self.by_sector[sector] if a == angel][:4]
            others = [c["code"] for c in self.companies
                      if c["sector"] != sector and (int(c["code"][1:]) > 42) == angel]
            names += rng.sample(others, 2)
            names += [inv["target_code"] for inv in self.investments if inv.get("alongside_code") == s["code"]]
            names = list(dict.fromkeys(names))
            last = dt.date(2025, 9, 30) if s["code"] in LATE_GPS else LAST
            costs = {c: float(s["size_cny"]) * rng.uniform(0.02, 0.12) for c in names}
            marks = {c: 1.0 for c in names}
            for q in _quarter_ends(dt.date(2023, 1, 1), last):
                for c in names:
                    if co_in[c]["founded"] > q:
                        continue
                    marks[c] = max(0.0, marks[c] * (1 + rng.gauss(0.015, 0.06)))
                    self.holdings.append({"sub_fund_code": s["code"], "as_of": q, "company_code": c,
                                          "cost_cny": _wan(costs[c]), "fair_value_cny": _wan(costs[c] * marks[c])})


def _complete(rows: dict[str, list[dict]]) -> dict[str, list[dict]]:
    from portfolio.interchange.schema import SHEETS

    return {sheet: [{c.name: r.get(c.name) for c in SHEETS[sheet]} for r in rows.get(sheet, [])]
            for sheet in SHEETS}


def write_demo_book(path: str | Path, *, seed: int = SEED, chinese_headers: bool = True,
                    until: dt.date = LAST) -> Path:
    """Write the demo book (told to `until`) as a .xlsx workbook (Chinese headers, as users keep it)."""
    from portfolio.interchange.exporting import workbook_bytes

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(workbook_bytes(_complete(demo_book(seed, until=until)), chinese_headers))
    return path


def demo_index_levels(name: str = "CSI300", *, daily: bool = True, seed: int = SEED, until: dt.date = LAST
                      ) -> list[tuple[dt.date, Decimal]]:
    """A deterministic public-market index series from 2018-01-02 to 2026-12-31, for PME; for a
    story told to a later `until`, on as many months further (the same levels to 2026-12-31).

    Daily (weekdays) by default, else quarter ends only (the daily series sampled at
    quarter ends). Levels are Decimal with 6 places, starting near 4,000.
    """
    rng = random.Random(f"{name}-{seed}")
    level = 4000.0
    day, end = dt.date(2018, 1, 2), shifted(dt.date(2026, 12, 31), story_months(until))
    series: list[tuple[dt.date, Decimal]] = []
    while day <= end:
        if day.weekday() < 5:
            level *= 1 + rng.gauss(0.00018, 0.011)
            series.append((day, Decimal(f"{level:.6f}")))
        day += dt.timedelta(days=1)
    if daily:
        return series
    quarter_ends = set(_quarter_ends(dt.date(2018, 1, 1), end))
    out: list[tuple[dt.date, Decimal]] = []
    last: tuple[dt.date, Decimal] | None = None
    for d, v in series:  # the last trading day of each quarter, dated at the quarter end
        q = next(q for q in sorted(quarter_ends) if q >= d)
        if last is not None and last[0] != q:
            out.append(last)
        last = (q, v)
    if last is not None:
        out.append(last)
    return out


# ---------------------------------------------------------------- the committee's history
DEMO_MEETING_DATE = dt.date(2025, 11, 20)  # in the story told to LAST; demo_meeting(until) for another
DEMO_PLANNED_DATE = dt.date(2025, 12, 10)  # the follow-on's planned date, inside the book's last quarter


def demo_meeting(until: dt.date = LAST) -> tuple[dt.date, str]:
    """The past meeting's day and title in the story told to `until`."""
    day = shifted(DEMO_MEETING_DATE, story_months(until))
    return day, f"{day.year} 年第 4 次投资决策委员会"


DEMO_MEMBERS = tuple(f"committee{n}" for n in range(1, 8))


def demo_committee_history(session, *, chair: str = "admin", proposer: str = "manager1",
                           members: tuple[str, ...] = DEMO_MEMBERS, until: dt.date = LAST) -> int | None:
    """A past meeting of QY's committee, through the committee's use cases as people would
    have done it: a follow-on proposal (立项) by `proposer`, submitted and put on the agenda,
    attendance (one member absent), a recusal with its reason, the votes (one abstention)
    and the decision the votes allow, with its conditions (决议), recorded by the chair —
    the approval becomes an investment in the book, as every approval does.

    Once: when the meeting is there already (a re-run of the demo), nothing is done and
    None is returned; else the proposal's id. The users must exist (the demo creates them)."""
    from sqlalchemy import select

    from models import Investment, Meeting
    from portfolio.committee import decisions, meetings, proposals

    meeting_day, title = demo_meeting(until)
    if session.execute(select(Meeting.id).where(Meeting.fund_code == "QY", Meeting.title == title)).first():
        return None
    follow_on = session.execute(select(Investment).where(Investment.fund_code == "QY", Investment.mode == "direct")
                                .order_by(Investment.date, Investment.id).limit(1)).scalars().one()
    proposal = proposals.create_proposal(session, {
        "title": f"{follow_on.company_code} B+ 轮追加投资", "fund_code": "QY", "mode": "direct",
        "target_code": follow_on.company_code, "amount_cny": "20000000",
        "planned_date": shifted(DEMO_PLANNED_DATE, story_months(until)).isoformat(),
        "first_call_cny": "10000000", "pre_money_cny": "780000000", "post_money_cny": "800000000",
        "instrument": "equity", "round": "B+轮", "stage": "growth", "ownership_pct": "2.5",
        "thesis": "已投企业量产爬坡，追加投资巩固本地产业链布局", "market": "国产替代需求明确，下游客户已验证",
        "team": "核心团队稳定，新增量产与质量负责人", "risks": "产能爬坡不及预期；原材料价格波动",
        "valuation_method": "可比公司法（市销率）", "comparables": "同行业三家上市公司",
        "bear_case": "量产延迟一年", "bear_moic": "0.9", "bear_irr": "-3",
        "base_case": "按计划量产", "base_moic": "2.2", "base_irr": "18",
        "bull_case": "提前进入头部客户供应链", "bull_moic": "4", "bull_irr": "35",
    }, username=proposer)
    proposals.submit_proposal(session, proposal.id, username=proposer)
    meeting = meetings.create_meeting(session, {"fund_code": "QY", "date": meeting_day.isoformat(),
                                                "title": title}, username=chair)
    meetings.schedule_proposal(session, proposal.id, meeting.id, username=chair)
    present, absent = list(members[:-1]), members[-1]
    meetings.record_attendance(session, meeting.id, present, username=chair)
    recused = present[3]
    meetings.declare_recusal(session, proposal.id, recused, "曾任标的公司技术顾问，存在利益冲突", username=recused)
    voters = [m for m in present if m != recused]
    for member in voters[:-1]:
        meetings.cast_vote(session, proposal.id, "approve", "同意追加投资，关注量产进度", username=member)
    meetings.cast_vote(session, proposal.id, "abstain", "估值偏高，弃权", username=voters[-1])
    decisions.decide(session, proposal.id, "approved_with_conditions",
                     "决议：同意追加投资 2,000 万元；首期出资 1,000 万元，第二期以企业年产能达到设计产能的 60% 为前提；"
                     "投后 6 个月内报告量产进度。", username=chair)
    assert absent not in voters
    _stamp_history(session, proposal.id, meeting.id, meeting_day)
    return proposal.id


def _stamp_history(session, proposal_id: int, meeting_id: int, meeting_day: dt.date) -> None:
    """Date the history when it happened, not when the demo ran: the proposal written three
    weeks before the meeting, submitted two weeks before, the meeting set up a week before,
    attendance, the recusal and the votes during the meeting (10:00 Beijing time), the
    决议 at its close. The audit trail keeps the true times of the demo's own writes."""
    from sqlalchemy import update

    from models import Meeting, MeetingAttendance, Proposal, Recusal, Resolution, Vote
    from portfolio.formatting import LOCAL_TZ

    def at(days_before: int, hour: int, minute: int = 0) -> dt.datetime:
        local = dt.datetime.combine(meeting_day - dt.timedelta(days=days_before), dt.time(hour, minute),
                                    tzinfo=LOCAL_TZ)
        return local.astimezone(dt.UTC).replace(tzinfo=None)  # stored in UTC, naive

    session.execute(update(Proposal).where(Proposal.id == proposal_id)
                    .values(created_at=at(21, 9, 30), submitted_at=at(14, 16), decided_at=at(0, 11, 40)))
    session.execute(update(Resolution).where(Resolution.proposal_id == proposal_id, Resolution.meeting_id == meeting_id)
                    .values(decided_at=at(0, 11, 40)))
    session.execute(update(Meeting).where(Meeting.id == meeting_id).values(created_at=at(7, 15)))
    session.execute(update(MeetingAttendance).where(MeetingAttendance.meeting_id == meeting_id)
                    .values(recorded_at=at(0, 10)))
    session.execute(update(Recusal).where(Recusal.proposal_id == proposal_id).values(declared_at=at(0, 10, 5)))
    session.execute(update(Vote).where(Vote.proposal_id == proposal_id).values(cast_at=at(0, 11, 20)))
    session.commit()


DEMO_NEXT_MEETING_TITLE = "投资决策委员会例会（待召开）"


def demo_meeting_to_come(session, today: dt.date, *, chair: str = "admin", proposer: str = "manager2") -> int | None:
    """A meeting of QY's committee two weeks after `today` with a new direct deal on its agenda
    (submitted by `proposer`): what the committee members' home page says is coming. Once,
    like the history; returns the meeting's id, or None when it is there already."""
    from sqlalchemy import select

    from models import Company, Investment, Meeting
    from portfolio.committee import meetings, proposals

    if session.execute(select(Meeting.id).where(Meeting.fund_code == "QY",
                                                Meeting.title == DEMO_NEXT_MEETING_TITLE)).first():
        return None
    held = select(Investment.company_code).where(Investment.fund_code == "QY", Investment.company_code.is_not(None))
    company = session.execute(select(Company.code).where(Company.code.not_in(held), Company.region_code.like("3302%"))
                              .order_by(Company.code).limit(1)).scalar_one()
    day = today + dt.timedelta(days=14)
    proposal = proposals.create_proposal(session, {
        "title": f"{company} A 轮投资", "fund_code": "QY", "mode": "direct", "target_code": company,
        "planned_date": (day + dt.timedelta(days=30)).isoformat(), "amount_cny": "15000000",
        "pre_money_cny": "285000000", "post_money_cny": "300000000", "instrument": "equity", "round": "A轮",
        "stage": "startup", "ownership_pct": "5", "thesis": "本地链主企业配套，技术壁垒明确",
        "risks": "客户集中度高", "base_case": "按计划扩产", "base_moic": "2.5", "base_irr": "20",
    }, username=proposer)
    proposals.submit_proposal(session, proposal.id, username=proposer)
    meeting = meetings.create_meeting(session, {"fund_code": "QY", "date": day.isoformat(),
                                                "title": DEMO_NEXT_MEETING_TITLE}, username=chair)
    meetings.schedule_proposal(session, proposal.id, meeting.id, username=chair)
    return meeting.id
