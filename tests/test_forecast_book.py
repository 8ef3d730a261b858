"""The forecast of a fund on the book (forecast_book.forecast): it continues the book from
D, its bands are ordered, capital call at risk is consistent, the checks hold."""
from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest

from portfolio.figures import forecast as fc
from portfolio.figures import forecast_book as fb
from tests.forecast_books import demo_book_data

D = dt.date(2025, 12, 31)


@pytest.fixture(scope="module")
def book():
    return demo_book_data()


@pytest.fixture(scope="module")
def result(book):
    return fb.forecast(book, "QY", D, paths=2000, bureau_share=0.4)


def test_forecast_continues_the_book(book, result):
    h = fb.histories(book, "QY", D)
    assert result["actuals"][-1]["quarter"] == "2025Q4" and result["actuals"][-1]["kind"] == "A"
    assert result["forecast"][0]["quarter"] == "2026Q1" and result["forecast"][0]["kind"] == "E"
    # starts from the actuals: unfunded after the first quarter = unfunded on D − the quarter's calls
    first = result["forecast"][0]
    assert first["unfunded"] + first["call"] == pytest.approx(h.units["unfunded"].sum(), rel=1e-9)
    # the actual NAV on D is the book's
    assert result["actuals"][-1]["nav"] == pytest.approx(h.units["nav"].sum(), abs=0.01)
    # a fund's total called never exceeds its commitment
    called = h.units["paid_in"].sum() + sum(r["call"] for r in result["forecast"])
    assert called <= h.units["commitment"].sum() * (1 + 1e-12)


def test_checks_hold(result):
    assert {c["check"] for c in result["checks"]} == {"nav_roll", "unfunded_non_negative", "calls_within_commitment"}
    assert all(c["ok"] for c in result["checks"])


def test_bands_are_ordered_and_ccar_consistent(result):
    for row in result["forecast"]:
        for name in ("call", "distribution", "nav", "unfunded"):
            assert row[f"{name}_p10"] <= row[f"{name}_p50"] <= row[f"{name}_p90"]
    car = result["call_at_risk"]
    assert car["4"]["0.90"] <= car["4"]["0.95"] <= car["4"]["0.99"]
    assert car["8"]["0.95"] >= car["4"]["0.95"]
    # CCaR above the expected calls of the year, below everything left to call
    assert car["4"]["0.95"] >= result["expected"]["calls_next_year"]
    assert car["8"]["0.99"] <= sum(u["unfunded"] for u in result["units"]) * (1 + 1e-6)
    for h in ("4", "8"):
        for level, value in car[h].items():
            assert result["call_at_risk_bureau"][h][level] == pytest.approx(0.4 * value, rel=1e-12)


def test_one_sub_fund(book):
    one = fb.forecast(book, "QY", D, unit="SF01", paths=500)
    assert [u["target_code"] for u in one["units"]] == ["SF01"] * len(one["units"])
    assert one["actuals"][-1]["nav"] == pytest.approx(sum(u["nav"] for u in one["units"]), abs=0.01)


def test_empty_fund_and_before_the_first_investment(book):
    early = fb.forecast(book, "QY", dt.date(2000, 1, 1), paths=100)
    assert early["units"] == [] and early["actuals"] == []
    assert all(r["call"] == 0 for r in early["forecast"])


def test_reproducible(book):
    a = fb.forecast(book, "TS", D, paths=300, seed=5)
    b = fb.forecast(book, "TS", D, paths=300, seed=5)
    assert a["call_at_risk"] == b["call_at_risk"]
    assert np.isfinite([r["nav_p90"] for r in a["forecast"]]).all()


def test_policy_projections(book, result):
    p = result["policy"]
    progress = [row["progress"] for row in p["paid_in_progress"]]
    assert p["paid_in_progress"][0]["kind"] == "A" and p["paid_in_progress"][0]["year"] == 2025
    assert all(a <= b + 1e-12 for a, b in zip(progress, progress[1:])) and progress[-1] <= 1 + 1e-12
    h = fb.histories(book, "QY", D)
    assert progress[0] == pytest.approx(h.units["paid_in"].sum() / h.units["commitment"].sum(), rel=1e-12)
    # the 返投 requirement is the fund's setting (rules.md), the actual multiple the rule's
    from portfolio.figures.rules import local_reinvestments
    lr = local_reinvestments(book, "QY", [r["sub_fund"] for r in p["reinvestment"]], D)
    for row in p["reinvestment"]:
        assert row["requirement"] == 1.5
        actual = lr[row["sub_fund"]].multiple
        if actual is not None:
            assert row["by_year"][0]["multiple"] == pytest.approx(float(actual), rel=1e-9)
        met = [r["year"] for r in row["by_year"] if r["multiple"] is not None and r["multiple"] >= 1.5]
        assert row["year_met"] == (met[0] if met else None)
    for unit in p["idle_units"]:
        assert unit["status"] == ("trigger" if unit["months"] >= 12 else "warn" if unit["months"] >= 9 else "ok")
    sizes = dict(zip(book.sub_funds["code"], book.sub_funds["size_fen"] / 100))
    sf = [u for u in result["units"] if u["class"] == "sub_fund"]
    expected = sum(sizes[c] for c in {u["target_code"] for u in sf}) / sum(u["commitment"] for u in sf)
    assert p["leverage"] == pytest.approx(expected, rel=1e-12)


def test_bureau_share_comes_from_the_fund_settings(book):
    funds = book.funds.copy()
    funds["settings"] = [{"finance_bureau_share": "0.25"} if c == "QY" else s
                         for c, s in zip(funds["code"], funds["settings"])]
    r = fb.forecast(book.with_(funds=funds), "QY", D, paths=300)
    assert r["bureau_share"] == 0.25
    assert r["call_at_risk_bureau"]["4"]["0.95"] == pytest.approx(0.25 * r["call_at_risk"]["4"]["0.95"], rel=1e-12)


def test_new_commitment_profile_is_annual_ta():
    # 25 %, 25 %, then 50 %: 0.25, 0.75 × 0.25, 0.5625 × 0.5, …
    assert fb.new_commitment_call_profile(0.25, 0.5, 4).tolist() == pytest.approx([0.25, 0.1875, 0.28125, 0.140625])


def test_pacing_plan_meets_the_target(result):
    plan = fb.pacing_plan(result, yearly_target=5e9, years=5)
    for row in plan["years"]:
        # where the existing portfolio alone calls less than the target, the plan fills the gap exactly
        if row["new_commitment"] > 0:
            assert row["total_calls"] == pytest.approx(5e9, rel=1e-9)
        else:
            assert row["total_calls"] >= 5e9 - 1e-6
        assert sum(row["by_sector"].values()) == pytest.approx(row["new_commitment"], rel=1e-9, abs=1e-6)
    budget = fb.pacing_plan(result, yearly_target=2e9, target_is_budget=True)
    assert budget["target"] == pytest.approx(2e9 / 0.4)


def test_a_date_far_beyond_the_book(book, result):
    # nothing is recorded after 2025: no decades of empty quarters (five years of them, then
    # one row for D), the same NAV
    far = fb.forecast(book, "QY", dt.date(2199, 12, 31), paths=100)
    assert len(far["actuals"]) == len(result["actuals"]) + fb.QUIET_QUARTERS + 1
    assert far["actuals"][-1]["quarter"] == "2199Q4" and far["actuals"][-2]["quarter"] == "2030Q4"
    assert far["actuals"][-1]["nav"] == result["actuals"][-1]["nav"]
    h = fb.histories(book, "QY", dt.date(2199, 12, 31))
    assert h.calls.shape[1] <= fb.histories(book, "QY", D).calls.shape[1] + 1
    assert all(c["ok"] for c in far["checks"])


# ---------------------------------------------------------------- a proposal's effect (committee review)
def _with_proposal(book, mode: str, amount: int, first_call: int | None, sector: str = "digital"):
    from portfolio.figures.proforma import with_investment

    fields = {"id": "本提案", "fund_code": "QY", "mode": mode, "date": "2025-12-31", "commitment_fen": amount * 100,
              "target_code": "NEWSF" if mode == "sub_fund" else "NEWCO"}
    target = ({"sub_fund": {"code": "NEWSF", "name": "新子基金", "sector": sector, "size_cny": "500000000",
                            "vintage_year": 2025}} if mode == "sub_fund"
              else {"company": {"code": "NEWCO", "name": "新企业", "sector": sector, "region_code": "330206"}})
    return with_investment(book, fields, contribution_fen=first_call * 100 if first_call else None, **target)


def test_commitment_effect_before_is_the_fund_forecast(book, result):
    after = _with_proposal(book, "sub_fund", 100_000_000, 20_000_000)
    effect = fb.commitment_effect(book, after, "QY", D, "本提案")
    # the same engine: the fund's forecast gives the same expected calls over the next 4 quarters
    assert effect["before"]["calls_next_year"] == pytest.approx(result["expected"]["calls_next_year"], rel=1e-12)
    # peak unfunded before: the unfunded on D (TA only calls it down afterwards)
    h = fb.histories(book, "QY", D)
    assert effect["before"]["peak_unfunded"] == pytest.approx(h.units["unfunded"].sum(), rel=1e-12)
    assert all(c["ok"] for c in effect["checks"])


@pytest.mark.parametrize("day", [dt.date(2025, 11, 15), dt.date(2026, 2, 28), dt.date(2025, 12, 31)])
def test_commitment_effect_from_inside_a_quarter_is_the_forecast_pages(book, day):
    """From a planned date inside a quarter the review steps as the forecast page does (a stub to
    the quarter's end, then calendar quarters): its "before" calls over the next 12 months, and
    its CCaR95 over them on the same paths, are the page's for the same day."""
    after = _with_proposal(book, "sub_fund", 100_000_000, None)
    effect = fb.commitment_effect(book, after, "QY", day, "本提案", paths=500, seed=3)
    page = fb.forecast(book, "QY", day, paths=500, seed=3, quarters=fb.EFFECT_QUARTERS)
    assert effect["before"]["calls_next_year"] == pytest.approx(page["expected"]["calls_next_year"], rel=1e-12)
    assert effect["before"]["ccar95_4q"] == pytest.approx(page["call_at_risk"]["4"]["0.95"], rel=1e-12)


def test_commitment_effect_of_a_new_sub_fund_is_its_pooled_ta_calls(book):
    after = _with_proposal(book, "sub_fund", 100_000_000, 20_000_000)
    effect = fb.commitment_effect(book, after, "QY", D, "本提案")
    cal = fb.calibrate(fb.histories(book, "QY", D))
    # the new unit takes its pool's parameters (class and sector, else the class)
    pools = cal.pooled
    pool = pools.get("sub_fund:digital") or pools["sub_fund:"]
    p = effect["unit"]["parameters"]
    assert (p["rc_early"], p["rc_late"], p["growth"], p["bow"]) == (
        pool["rc_early"], pool["rc_late"], pool["growth"], pool["bow"])
    assert p["life"] == fb.DEFAULT_LIFE["sub_fund"]  # a new sub-fund with no term: 15 years
    # calls next 4 quarters: the first call on D + a year of TA on the 80 left: 80 × RC_early
    assert effect["change"]["calls_next_year"] == pytest.approx(20_000_000 + 80_000_000 * p["rc_early"], rel=1e-9)
    assert effect["change"]["peak_unfunded"] == pytest.approx(80_000_000, rel=1e-12)
    # more commitment, more call at risk; the band of the change brackets the expected change
    assert effect["after"]["ccar95_4q"] > effect["before"]["ccar95_4q"]
    assert 0 < effect["change"]["ccar95_4q"] <= 100_000_000
    assert effect["after"]["calls_next_year_p10"] <= effect["after"]["calls_next_year_p50"] \
        <= effect["after"]["calls_next_year_p90"] <= effect["after"]["ccar95_4q"]


def test_commitment_effect_of_a_direct_deal_is_its_payment(book):
    after = _with_proposal(book, "direct", 30_000_000, 30_000_000)
    effect = fb.commitment_effect(book, after, "QY", D, "本提案")
    assert effect["unit"]["class"] == "direct"
    assert effect["change"]["calls_next_year"] == pytest.approx(30_000_000, rel=1e-12)
    assert effect["change"]["peak_unfunded"] == pytest.approx(0, abs=1e-6)
    # paid on D: the call at risk moves by the payment exactly (same paths before and after)
    assert effect["change"]["ccar95_4q"] == pytest.approx(30_000_000, rel=1e-6)


def test_commitment_effect_simulates_the_book_once_and_the_new_unit_alone(book, monkeypatch):
    """What keeps the review screen's effect cheap, whatever the machine (its time is
    benchmarks.bench_committee's): the book's units are simulated once, with the effect's
    1,000 paths over 8 quarters, and the proposed unit on its own, added to those paths,
    never the whole book a second time."""
    after = _with_proposal(book, "sub_fund", 100_000_000, None)
    simulated: list[tuple[int, int, int]] = []
    simulate = fc.simulate

    def counted(start, params, quarters, paths, **kwargs):
        simulated.append((len(start.commitment), quarters, paths))
        return simulate(start, params, quarters, paths, **kwargs)

    monkeypatch.setattr(fc, "simulate", counted)
    effect = fb.commitment_effect(book, after, "QY", D, "本提案")
    units = len(fb.histories(book, "QY", D).start().commitment)
    assert units > 1 and effect["paths"] == fb.EFFECT_PATHS == 1_000 and effect["quarters"] == fb.EFFECT_QUARTERS == 8
    assert simulated == [(units, 8, 1_000), (1, 8, 1_000)]


MID = dt.date(2025, 11, 15)


@pytest.fixture(scope="module")
def mid(book):
    return fb.forecast(book, "QY", MID, paths=500)


def test_from_a_day_inside_a_quarter_the_rows_are_calendar_quarters(book, mid):
    """From 2025-11-15 the first row is the rest of 2025Q4 (to 2025-12-31, half a quarter's
    rates), then 2026Q1 to 2026-03-31, …: rows had ended on 2026-02-15, 2026-05-15, … under the
    label of the quarter they ended in, and 2025Q4 had no forecast."""
    rows = mid["forecast"]
    assert [r["quarter"] for r in rows[:3]] == ["2025Q4", "2026Q1", "2026Q2"]
    assert [r["end"] for r in rows[:3]] == [dt.date(2025, 12, 31), dt.date(2026, 3, 31), dt.date(2026, 6, 30)]
    assert mid["actuals"][-1]["quarter"] == "2025Q4" and mid["actuals"][-1]["end"] == MID
    h = fb.histories(book, "QY", MID)
    assert rows[0]["unfunded"] + rows[0]["call"] == pytest.approx(h.units["unfunded"].sum(), rel=1e-9)
    # the stub is 46 of the quarter's 92 days
    assert fb.first_step(pd.Timestamp(MID)) == pytest.approx(46 / 92)
    assert all(c["ok"] for c in mid["checks"])


def test_the_policy_keeps_every_year_end_from_a_day_inside_a_quarter(mid):
    """From 2025-11-15 the paid-in progress, 返投 and idle money are shown at every year end;
    2026 and 2027 had been dropped (no row ended on 31 December)."""
    p = mid["policy"]
    years = [row["year"] for row in p["paid_in_progress"]]
    assert years[0] == MID.isoformat() and years[1:4] == [2025, 2026, 2027]
    assert [row["year"] for row in p["idle_by_year"]][:3] == [2025, 2026, 2027]
    progress = [row["progress"] for row in p["paid_in_progress"]]
    assert all(a <= b + 1e-12 for a, b in zip(progress, progress[1:]))


@pytest.mark.parametrize("as_of", [dt.date(2025, 9, 30), dt.date(2025, 12, 30)])
def test_the_pacing_plan_shows_the_year_under_way_and_plans_from_the_next(book, as_of):
    """From inside 2025 the plan's 2025 holds the calls booked in it and the forecast of the rest,
    and commits nothing: a commitment made with days left would be many times the gap (from
    2025-12-30 a 1 亿 shortfall had asked for 770 亿, called in full the years after). New
    commitments start in 2026, and each later year meets the target."""
    forecast = fb.forecast(book, "QY", as_of, paths=300)
    booked = sum(r["call"] for r in forecast["actuals"] if r["end"].year == 2025)
    ahead = sum(r["call"] for r in forecast["forecast"] if r["end"].year == 2025)
    assert booked > 0
    target = booked + ahead + 1e8  # a shortfall of 1 亿 in 2025
    plan = fb.pacing_plan(forecast, yearly_target=target, years=4)
    first, *later = plan["years"]
    assert (first["year"], first["under_way"], first["new_commitment"]) == (2025, True, 0.0)
    assert first["existing_calls"] == pytest.approx(booked + ahead)
    assert [r["year"] for r in later] == [2026, 2027, 2028] and not any(r["under_way"] for r in later)
    for row in later:
        assert row["total_calls"] == pytest.approx(target, rel=1e-9) if row["new_commitment"] > 0 \
            else row["total_calls"] >= target - 1e-6
        assert row["new_commitment"] < 10 * target  # never a multiple of the year's target


def test_a_budget_through_a_fund_the_bureau_has_no_share_in_is_refused(result):
    with pytest.raises(ValueError) as refused:
        fb.pacing_plan({**result, "bureau_share": 0.0}, yearly_target=1e9, target_is_budget=True)
    assert refused.value.args[0].key == "pacing_no_bureau_share"
    plain = fb.pacing_plan({**result, "bureau_share": 0.0}, yearly_target=1e9)  # a fund target needs no share
    assert plain["target"] == 1e9


def test_the_next_quarter_and_year_run_three_and_twelve_months_from_any_day(book, result):
    """From 2025-12-30 the first step is one day: 'next year' had been that day and 3 quarters
    (1.58 against 1.87 billion from the day after), 'next quarter' one day's calls. They are the
    next 3 and 12 months from D, as from a quarter end, so a day apart they nearly agree."""
    eve = fb.forecast(book, "QY", dt.date(2025, 12, 30), paths=2000, bureau_share=0.4)
    for key in ("calls_next_quarter", "calls_next_year", "distributions_next_year"):
        assert eve["expected"][key] == pytest.approx(result["expected"][key], rel=0.03), key
    for level in ("0.90", "0.95"):
        assert eve["call_at_risk"]["4"][level] == pytest.approx(result["call_at_risk"]["4"][level], rel=0.05)
    assert eve["window_ends"] == {"next_quarter": dt.date(2026, 3, 30), "next_year": dt.date(2026, 12, 30)}
    assert result["window_ends"] == {"next_quarter": dt.date(2026, 3, 31), "next_year": dt.date(2026, 12, 31)}
    shares = fc.window(4, 0.25, 8)
    assert shares.tolist() == [1, 1, 1, 1, 0.75, 0, 0, 0]
    assert (shares * fc.step_lengths(8, 0.25)).sum() == 4  # the stub's ¼, 3 whole quarters and ¾: 4 quarters


def test_idle_money_in_ds_own_year_counts_the_calls_booked_in_it(book):
    """From 2025-12-30, 2025's idle money was judged on one day's forecast calls: 18 units and
    44.6 亿 read as idle. The year is judged on its calls from 1 January: a unit is idle in 2025
    when what it called in 2025 (booked, and the day's forecast) is under 1 % of its commitment."""
    eve = fb.forecast(book, "QY", dt.date(2025, 12, 30), paths=200)
    row = next(r for r in eve["policy"]["idle_by_year"] if r["year"] == 2025)
    h = fb.histories(book, "QY", dt.date(2025, 12, 30))
    flows = book.flows
    called = flows[(flows["type"] == "contribution") & (flows["date"].dt.year == 2025)
                   & (flows["date"] <= pd.Timestamp(2025, 12, 30))].groupby("investment_id")["amount_fen"].sum() / 100
    units = h.units.assign(called=h.units["id"].map(called).fillna(0.0))
    start_unfunded = units["unfunded"] + units["called"]
    idle = (start_unfunded > 0) & (units["called"] < fb.IDLE_CALL_SHARE * units["commitment"])
    assert row["units"] == int(idle.sum()) < 18
    assert row["idle"] == pytest.approx(float(start_unfunded[idle].sum()), rel=1e-6)



def test_an_extended_life_extends_the_forecast_to_its_end(book):
    """A sub-fund's life overridden past its term (an extension): the forecast runs to the end of
    the life in force and pays its NAV out by then, as it does at the term without the override."""
    h = fb.histories(book, "QY", D)
    unit = h.units[h.units["cls"] == "sub_fund"].sort_values("life").iloc[0]
    plain = fb.forecast(book, "QY", D, unit=unit["target_code"], paths=100, details=False)
    extended = fb.forecast(book, "QY", D, unit=unit["target_code"], paths=100, details=False,
                           overrides={unit["id"]: {"life": float(unit["life"]) + 4.0}})
    assert extended["quarters"] == plain["quarters"] + 16
    held = extended["forecast"][plain["quarters"] - 1]["nav"]  # still held at the old term's end
    assert held > 100 * plain["forecast"][-1]["nav"]
    # paid out at the new end (what is left is the last quarter's call, TA's as at any term's end)
    assert extended["forecast"][-1]["nav"] < 0.01 * held


@pytest.mark.parametrize("since, d, months", [("2024-02-29", "2025-02-28", 12), ("2024-05-31", "2025-02-28", 9),
                                              ("2024-05-31", "2025-02-27", 8), ("2024-01-15", "2025-01-14", 11),
                                              ("2024-01-15", "2025-01-15", 12), ("2025-03-31", "2025-04-30", 1),
                                              ("2025-12-31", "2025-12-31", 0), ("2025-01-31", "2025-02-28", 1)])
def test_idle_months_count_a_month_from_a_months_last_day_to_the_next_ones(since, d, months):
    """The 12-month trigger of 财预〔2015〕210号 on whole months: a last call on 2024-02-29 is a year
    idle on 2025-02-28 (it had read 11 and missed the trigger)."""
    assert fb.whole_months(pd.Timestamp(since), pd.Timestamp(d)) == months


def test_the_actuals_keep_every_quarter_to_a_date_shortly_after_the_last_record(book, result):
    """D at the last quarter end (2026-09-30), three quarters past the book's last record: the
    actuals by quarter had jumped from 2025Q4 to 2026Q3; the quiet quarters are there, with
    no flows and the NAV carried, as the dashboard's quarterly table has them."""
    later = fb.forecast(book, "QY", dt.date(2026, 9, 30), paths=100)
    quarters = [row["quarter"] for row in later["actuals"]]
    assert quarters[-4:] == ["2025Q4", "2026Q1", "2026Q2", "2026Q3"]
    assert quarters == [row["quarter"] for row in result["actuals"]] + ["2026Q1", "2026Q2", "2026Q3"]
    for row in later["actuals"][-3:]:
        assert row["call"] == 0 and row["distribution"] == 0 and row["nav"] == result["actuals"][-1]["nav"]
