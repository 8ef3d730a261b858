"""The forecast's back-test (portfolio/figures/forecast_backtest.py): rolling origin over
the book's history, calibrated TA beside uncalibrated TA with the published parameters.

On the generated book (tests/forecast_books.py: TA with known parameters plus noise) the
calibrated model must beat the published parameters on the 4-quarter call error, and
nothing from after an origin may leak into its fit.
"""
from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest

from portfolio.figures import forecast_backtest as bt
from tests.forecast_books import AS_OF, demo_book_data, generated_book


def _row(result, horizon, model):
    return next(r for r in result["table"] if r["horizon"] == horizon and r["model"] == model)


@pytest.fixture(scope="module")
def generated():
    return bt.backtest(generated_book(units=12), "G", AS_OF.date(), paths=200)


def test_calibrated_beats_published_on_four_quarter_calls(generated):
    cal, pub = _row(generated, 4, "calibrated"), _row(generated, 4, "published")
    assert cal["n_calls"] == pub["n_calls"] > 100
    assert cal["call_mae"] < 0.5 * pub["call_mae"]
    assert abs(cal["call_bias"]) < 1.0  # % of commitment: unbiased on a book that is TA
    # the calibrated bands (their noise fitted to the book's residuals) hold the actuals about
    # as often as P10–P90 promises (80 %), and the actual calls exceed CCaR95 about 5 % of the time
    assert 0.65 <= cal["call_coverage"] <= 0.95
    assert cal["ccar95_exceedance"] <= 0.10


def test_table_shape_and_units(generated):
    assert [(r["horizon"], r["model"]) for r in generated["table"]] == [
        (h, m) for h in (1, 4, 8) for m in ("calibrated", "published")]
    assert all(r["ccar95_exceedance"] is None for r in generated["table"] if r["horizon"] == 1)
    records = pd.DataFrame(generated["records"])
    # every origin is a quarter end before D, and each horizon ends on or before D
    assert (pd.to_datetime(records["origin"]).dt.is_quarter_end).all()
    assert (pd.to_datetime(records["origin"]) < AS_OF).all()


def test_no_data_after_the_origin_is_used():
    # the back-test of a book cut at an origin equals the back-test of the whole book for
    # that origin's 1-quarter horizon computed from the cut book's history
    book = generated_book(units=6)
    full = bt.backtest(book, "G", AS_OF.date(), paths=100, horizons=(1,))
    origin = dt.date(2020, 6, 30)
    later = book.flows["date"] > pd.Timestamp("2020-09-30")
    cut = book.with_(flows=book.flows[~later], valuations=book.valuations[book.valuations["as_of"] <= "2020-09-30"])
    short = bt.backtest(cut, "G", dt.date(2020, 9, 30), paths=100, horizons=(1,))
    pick = lambda r: sorted((x["unit"], x["model"], round(x["call_error"], 9))  # noqa: E731
                            for x in r["records"] if x["origin"] == origin)
    assert pick(full) == pick(short) and pick(full)


def test_demo_book_calibrated_beats_published_on_four_quarter_calls():
    result = bt.backtest(demo_book_data(), "QY", dt.date(2025, 12, 31), paths=200, horizons=(1, 4))
    cal, pub = _row(result, 4, "calibrated"), _row(result, 4, "published")
    assert cal["n_calls"] == pub["n_calls"] > 100
    assert cal["call_mae"] < 0.75 * pub["call_mae"]
    # the demo book is lumpy (a few call notices, distributions on exits): the zero-inflated
    # layer's bands hold the quarters where nothing happened, the log-normal alone held none
    one = _row(result, 1, "calibrated")
    assert one["call_coverage"] >= 0.6 and one["distribution_coverage"] >= 0.6
    assert cal["call_coverage"] >= 0.6 and cal["distribution_coverage"] >= 0.6
    assert cal["ccar95_exceedance"] <= 0.10 < pub["ccar95_exceedance"]


def test_lumpy_generated_book():
    # calls missing in 40 % of the quarters: calibrated still beats published on 4-quarter
    # calls, and its bands (π_c fitted) hold about the 80 % they promise
    result = bt.backtest(generated_book(units=12, call_zero=0.4), "G", AS_OF.date(), paths=200, horizons=(1, 4))
    cal, pub = _row(result, 4, "calibrated"), _row(result, 4, "published")
    assert cal["call_mae"] < 0.8 * pub["call_mae"]  # the lumps are noise no model foresees: a smaller margin
    assert 0.65 <= _row(result, 1, "calibrated")["call_coverage"] <= 0.95
    assert 0.65 <= cal["call_coverage"] <= 0.95 and cal["ccar95_exceedance"] <= 0.10


def test_fund_without_history():
    result = bt.backtest(demo_book_data(), "QY", dt.date(2000, 1, 1))
    assert result["records"] == [] and result["origins"] == 0
    assert all(r["call_mae"] is None for r in result["table"])


def test_nothing_is_compared_past_the_book_s_last_record():
    book = demo_book_data()
    far = bt.backtest(book, "QY", dt.date(2199, 12, 31), paths=50, horizons=(1,))
    near = bt.backtest(book, "QY", dt.date(2025, 12, 31), paths=50, horizons=(1,))
    assert far["data_until"] == near["data_until"] <= dt.date(2025, 12, 31)
    assert far["origins"] == near["origins"] and far["table"] == near["table"]


def test_an_override_is_applied_only_from_the_day_it_was_set():
    """A person's override (here a unit's life) set on a day is known to the origins from that day
    on: the origins before it are fitted as if it did not exist, those after use it (applying
    today's judgement to 2019 had flattered the back-test)."""
    book = generated_book(units=6)
    unit = str(book.investments["id"].iloc[0])
    overrides = {unit: {"life": 30.0, "rc_early": 0.9, "rc_late": 0.9}}
    set_on = dt.date(2021, 1, 15)
    plain = bt.backtest(book, "G", AS_OF.date(), paths=50, horizons=(4,))
    dated = bt.backtest(book, "G", AS_OF.date(), paths=50, horizons=(4,), overrides=overrides,
                        overrides_set_on={unit: set_on})
    always = bt.backtest(book, "G", AS_OF.date(), paths=50, horizons=(4,), overrides=overrides)

    def errors(result, before: bool) -> list:
        return [(r["origin"], r["call_error"], r["distribution_error"]) for r in result["records"]
                if r["model"] == "calibrated" and r["unit"] == unit and (r["origin"] < set_on) == before]

    assert errors(dated, before=True) == errors(plain, before=True) != errors(always, before=True)
    assert errors(dated, before=False) == errors(always, before=False) != errors(plain, before=False)


def test_a_sub_fund_s_valuation_counts_from_the_quarter_after_its_date():
    """A sub-fund's NAV arrives a quarter late (metrics.md): on an origin the back-test knows its
    valuations up to the previous quarter end, not the one dated on the origin (knowing it had
    flattered the distribution forecasts), and knows it from the next origin on."""
    book = generated_book(units=6)
    origin, later_origin = dt.date(2020, 6, 30), dt.date(2020, 9, 30)
    in_quarter = (book.valuations["as_of"] > "2020-03-31") & (book.valuations["as_of"] <= "2020-06-30")
    assert in_quarter.any()
    without = book.with_(valuations=book.valuations[~in_quarter])

    def at(result, day) -> list:
        return sorted((r["unit"], r["model"], round(r["call_error"], 9), round(r["distribution_error"], 9))
                      for r in result["records"] if r["origin"] == day)

    lagged, lagged_without = (bt.backtest(b, "G", AS_OF.date(), paths=50, horizons=(1,)) for b in (book, without))
    assert at(lagged, origin) == at(lagged_without, origin) and at(lagged, origin)
    assert at(lagged, later_origin) != at(lagged_without, later_origin)
    # knowing every valuation on its date (no lag) is the look-ahead the default leaves out
    prompt, prompt_without = (bt.backtest(b, "G", AS_OF.date(), paths=50, horizons=(1,), lag_quarters={})
                              for b in (book, without))
    assert at(prompt, origin) != at(prompt_without, origin)
    # the result says which lag it assumed (the API's and the command line's JSON carry it)
    assert lagged["reporting_lag_quarters"] == {"sub_fund": 1} and prompt["reporting_lag_quarters"] == {}


def test_as_reported_keeps_a_direct_investment_s_valuation_on_its_date():
    book = demo_book_data()
    origin = pd.Timestamp("2024-12-31")
    known = bt.as_reported(book, origin)
    modes = known.valuations["investment_id"].map(book.investments.set_index("id")["mode"])
    assert (known.valuations.loc[modes == "sub_fund", "as_of"] <= pd.Timestamp("2024-09-30")).all()
    direct = book.valuations["investment_id"].map(book.investments.set_index("id")["mode"]) != "sub_fund"
    on_origin = direct & (book.valuations["as_of"] > "2024-09-30") & (book.valuations["as_of"] <= origin)
    assert on_origin.any()  # the demo has a direct valuation in the quarter: kept
    assert set(book.valuations[on_origin].index) <= set(known.valuations.index)


def test_the_track_record_is_the_forecast_of_each_origin_beside_what_happened(generated):
    """The track record's row of an origin is what the forecast itself (forecast_book.forecast,
    on the book as reported that day, with the back-test's paths) says of the next quarter for
    the whole fund, and the actual is the flows of that quarter of the investments held on the
    origin; the band holds the actual about as often as P10–P90 promises."""
    from portfolio.figures import forecast_book as fb

    book = generated_book(units=12)
    track = generated["track"]
    origins = sorted({r["origin"] for r in generated["records"]})
    assert [row["origin"] for row in track] == origins  # one row an origin, oldest first
    for row in (track[3], track[len(track) // 2], track[-1]):
        origin = pd.Timestamp(row["origin"])
        quarters = min(8, len([e for e in fb.quarter_ends_after(origin, 8) if e <= AS_OF]))
        ahead = fb.forecast(bt.as_reported(book, origin), "G", row["origin"], paths=200, quarters=quarters,
                            details=False)
        next_quarter = ahead["outlook"]
        assert row["quarter"] == ahead["forecast"][0]["quarter"]
        for name in ("calls", "distributions"):
            band = next_quarter[f"{name}_next_quarter"]
            assert row[f"{name}_e"] == pytest.approx(band["e"], rel=1e-9, abs=1e-6)
            assert row[f"{name}_p10"] == pytest.approx(band["p10"], rel=1e-6)
            assert row[f"{name}_p90"] == pytest.approx(band["p90"], rel=1e-6)
        held = set(fb.histories(bt.as_reported(book, origin), "G", row["origin"]).units["id"])
        flows = book.flows[book.flows["investment_id"].isin(held)
                           & (book.flows["date"] > origin) & (book.flows["date"] <= pd.Timestamp(ahead["forecast"][0]["end"]))]
        assert row["calls_actual"] == pytest.approx(flows.loc[flows["type"] == "contribution", "amount_fen"].sum() / 100)
        assert row["distributions_actual"] == pytest.approx(
            flows.loc[flows["type"] == "distribution", "amount_fen"].sum() / 100)
        assert row["calls_inside"] == (row["calls_p10"] <= row["calls_actual"] <= row["calls_p90"])
    assert 0.5 <= sum(row["calls_inside"] for row in track) / len(track) <= 1.0


def _track_row(i: int, calls: str, distributions: str) -> dict:
    """A track record's row whose actual calls (distributions) fell 'in' the band [10, 90],
    'below' or 'above' it."""
    actual = {"in": 50.0, "below": 5.0, "above": 95.0}
    row: dict = {"quarter": f"2024Q{i % 4 + 1}"}
    for name, where in (("calls", calls), ("distributions", distributions)):
        row |= {f"{name}_p10": 10.0, f"{name}_p90": 90.0, f"{name}_actual": actual[where],
                f"{name}_inside": where == "in"}
    return row


@pytest.mark.parametrize(("where", "expected"), [
    ([], {"quarters": 0, "calls_inside": 0, "calls_below": 0, "calls_above": 0,
          "distributions_inside": 0, "distributions_below": 0, "distributions_above": 0}),
    ([("in", "below")], {"quarters": 1, "calls_inside": 1, "calls_below": 0, "calls_above": 0,
                         "distributions_inside": 0, "distributions_below": 1, "distributions_above": 0}),
    ([("in", "in"), ("below", "in"), ("above", "below"), ("below", "above"), ("in", "in")],
     {"quarters": 5, "calls_inside": 2, "calls_below": 2, "calls_above": 1,
      "distributions_inside": 3, "distributions_below": 1, "distributions_above": 1}),
])
def test_band_record_counts_the_quarters_inside_below_and_above_the_band(where, expected):
    """band_record is the one count of the pages and the command line: the track record's
    quarters, those whose actual calls (distributions) fell inside the band, and of the others
    those below its P10 (the forecast ran high) and above its P90 (it ran low)."""
    track = [_track_row(i, c, d) for i, (c, d) in enumerate(where)]
    assert bt.band_record(track) == expected


def test_band_record_of_a_back_test_agrees_with_its_rows(generated):
    record = bt.band_record(generated["track"])
    assert record["quarters"] == len(generated["track"]) > 0
    assert record["calls_inside"] == len([r for r in generated["track"] if r["calls_p10"] <= r["calls_actual"] <= r["calls_p90"]])
    assert record["distributions_inside"] == len(
        [r for r in generated["track"] if r["distributions_p10"] <= r["distributions_actual"] <= r["distributions_p90"]])
    for name in ("calls", "distributions"):
        assert record[f"{name}_below"] == len([r for r in generated["track"] if r[f"{name}_actual"] < r[f"{name}_p10"]])
        assert record[f"{name}_above"] == len([r for r in generated["track"] if r[f"{name}_actual"] > r[f"{name}_p90"]])
        assert record[f"{name}_inside"] + record[f"{name}_below"] + record[f"{name}_above"] == record["quarters"]
