"""Calibration of the forecast to the book (portfolio/figures/forecast_book.py) and the
audited overrides (portfolio/book/forecast_parameters.py).

The generated book (tests/forecast_books.py) follows Takahashi–Alexander with known
parameters (RC 40 % in years 1–2 then 30 %, B 2.0, L 10, G 8 %) plus noise on every call
(log-normal, σ 0.25) and on NAV growth (σ 0.02 a quarter). Tolerances stated: the median
over the sub-funds of the calibrated RC within 0.03, G within 0.02, B within 0.25; the
noise of the stochastic layer (moment-matched to the residuals) σ_c within 0.05, σ_g within 0.01.
"""
from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import select

from models import AuditEntry, ForecastParameters
from portfolio.book.forecast_parameters import overrides, set_forecast_parameters
from portfolio.errors import FieldErrors
from portfolio.figures import forecast_book as fb
from portfolio.interchange.demo import write_demo_book
from portfolio.interchange.importing import import_book
from tests.forecast_books import AS_OF, TRUE, demo_book_data, generated_book


def test_calibration_recovers_the_generating_parameters():
    h = fb.histories(generated_book(), "G", AS_OF)
    cal = fb.calibrate(h).table
    assert len(cal) == 24
    assert abs(np.median(cal["rc_early"]) - TRUE["rc_early"]) <= 0.03
    assert abs(np.median(cal["rc_late"]) - TRUE["rc_late"]) <= 0.03
    assert abs(np.median(cal["growth"]) - TRUE["growth"]) <= 0.02
    assert abs(np.median(cal["bow"]) - TRUE["bow"]) <= 0.25
    assert set(cal["life"]) == {TRUE["life"]}  # the sub-funds' term


def test_noise_is_recovered_from_the_residuals():
    # the generated book's calls carry log-normal noise σ 0.25, its NAV growth σ 0.02 a quarter
    h = fb.histories(generated_book(), "G", AS_OF)
    noise = fb.calibrate_noise(h, fb.calibrate(h))
    assert abs(noise.call_sigma - 0.25) <= 0.05
    assert abs(noise.growth_sigma - 0.02) <= 0.01


def test_short_histories_are_shrunk_toward_the_pool():
    h = fb.histories(generated_book(), "G", AS_OF)
    cal = fb.calibrate(h).table
    # θ = (n θ_own + 8 θ_pool)/(n + 8), n the quarters that inform θ
    for _, row in cal.iterrows():
        n = row["n_rc_late"]
        if n > 0:
            expected = (n * row["own_rc_late"] + 8 * row["pooled_rc_late"]) / (n + 8)
            assert row["rc_late"] == pytest.approx(expected, abs=1e-12)
        else:
            assert row["rc_late"] == row["pooled_rc_late"]
    # the youngest sub-fund's late rate leans on the pool more than the oldest's
    young, old = cal.iloc[-1], cal.iloc[0]
    assert young["n_rc_late"] < old["n_rc_late"]


def test_histories_start_from_the_book_on_d():
    book = demo_book_data()
    h = fb.histories(book, "QY", dt.date(2025, 12, 31))
    u = h.units
    # what was called by D is what the history holds, per unit
    assert np.allclose(h.calls.sum(axis=1), u["paid_in"], atol=0.005)
    assert np.allclose(h.distributions.sum(axis=1), u["distributed"], atol=0.005)
    assert set(u["cls"]) == {"sub_fund", "direct"}
    assert (u["unfunded"] == np.maximum(u["commitment"] - u["paid_in"], 0)).all()


def test_overrides_replace_calibrated_values():
    h = fb.histories(generated_book(units=6), "G", AS_OF)
    cal = fb.calibrate(h, {"G-GS02": {"rc_late": 0.9, "bow": 4.0}}).table.set_index("id")
    assert cal.loc["G-GS02", "rc_late"] == 0.9 and cal.loc["G-GS02", "bow"] == 4.0
    assert cal.loc["G-GS02", "source"] == "override" and cal.loc["G-GS01", "source"] == "calibrated"


@pytest.fixture
def demo_db(db, tmp_path):
    path = tmp_path / "demo.xlsx"
    write_demo_book(path)
    assert import_book(db.session, path, username="demo").ok
    return db


def test_set_parameters_is_audited_and_blank_clears(demo_db):
    session = demo_db.session
    stored = set_forecast_parameters(session, "QY-SF01", {"rc_late": "0.35", "growth": "0.12"}, username="admin1")
    assert stored == {"rc_late": 0.35, "growth": 0.12}
    assert overrides(session) == {"QY-SF01": {"rc_late": 0.35, "growth": 0.12}}
    entries = session.execute(select(AuditEntry).where(AuditEntry.entity == "forecast_parameters")).scalars().all()
    assert [e.action for e in entries] == ["create"] and entries[0].after["rc_late"] == 0.35
    # the same values again write nothing
    set_forecast_parameters(session, "QY-SF01", {"rc_late": "0.35"}, username="admin1")
    assert len(session.execute(select(AuditEntry).where(AuditEntry.entity == "forecast_parameters")).all()) == 1
    # blank goes back to the calibrated value; nothing left: the row goes
    set_forecast_parameters(session, "QY-SF01", {"rc_late": "", "growth": None}, username="admin1")
    assert session.get(ForecastParameters, "QY-SF01") is None
    actions = session.execute(select(AuditEntry.action).where(AuditEntry.entity == "forecast_parameters")
                              .order_by(AuditEntry.id)).scalars().all()
    assert actions == ["create", "delete"]


@pytest.mark.parametrize("key,value", [("rc_early", "1.5"), ("rc_late", "-0.1"), ("bow", "0"), ("life", "abc"),
                                       ("growth", "-1"), ("yield", "nan"), ("nope", "1")])
def test_bad_values_are_field_errors_and_change_nothing(demo_db, key, value):
    with pytest.raises(FieldErrors) as error:
        set_forecast_parameters(demo_db.session, "QY-SF01", {key: value}, username="admin1")
    assert error.value.errors[0][0] == key
    assert demo_db.session.get(ForecastParameters, "QY-SF01") is None


def test_unknown_investment(demo_db):
    with pytest.raises(FieldErrors):
        set_forecast_parameters(demo_db.session, "NOPE", {"bow": "2"}, username="admin1")


def test_lumpy_calls_are_recovered_as_zero_inflation():
    # calls missing in 40 % of the quarters (the rest ÷ 0.6), σ 0.25 on the ones that come:
    # the layer's π_c and σ_c are recovered from the residuals, and the RCs still are
    h = fb.histories(generated_book(call_zero=0.4), "G", AS_OF)
    cal = fb.calibrate(h)
    noise = fb.calibrate_noise(h, cal)
    assert abs(noise.call_zero - 0.4) <= 0.05
    # the sizes' σ carries the error of each unit's fitted RC on top of the noise: within 0.08
    assert abs(noise.call_sigma - 0.25) <= 0.08
    assert noise.distribution_zero <= 0.02  # every quarter of the generated book distributes something
    assert abs(np.median(cal.table["rc_early"]) - TRUE["rc_early"]) <= 0.05
    assert abs(np.median(cal.table["rc_late"]) - TRUE["rc_late"]) <= 0.05


def test_the_demo_book_is_lumpy():
    # the demo book's sub-funds call in a few notices and distribute on exits: most quarters
    # have neither, and the fitted layer says so
    h = fb.histories(demo_book_data(), "QY", dt.date(2025, 12, 31))
    noise = fb.calibrate_noise(h, fb.calibrate(h))
    assert noise.call_zero > 0.3 and noise.distribution_zero > 0.5


@pytest.mark.parametrize("rho", [0.0, 0.6])
def test_a_common_factor_in_the_calls_is_recovered(rho):
    """The generated book's calls with a common factor of share ρ (one normal per calendar
    quarter for every sub-fund, forecast.Noise): calibrate_noise tells it from the residuals of
    units in the same quarter, shrunk by n / (n + 8) over its n ≈ 47 quarters (×0.85); none
    where the units are independent, and none in their NAV returns, which share nothing."""
    h = fb.histories(generated_book(call_noise=0.5, call_common=rho), "G", AS_OF)
    noise = fb.calibrate_noise(h, fb.calibrate(h))
    assert noise.call_common == pytest.approx(rho * 47 / 55, abs=0.12)
    assert noise.growth_common <= 0.05


def _ratios(rng, rho: float, sigma: float, zero: float, quarters: int, units: int):
    """Ratios of actual to expected under the layer: zero with probability π, else a
    log-normal of mean 1 / (1 − π) whose normals share ρ within a quarter."""
    z = rng.standard_normal((quarters, 1))
    e = rng.standard_normal((quarters, units))
    size = np.exp(sigma * (np.sqrt(rho) * z + np.sqrt(1 - rho) * e) - sigma**2 / 2)
    flow = rng.random((quarters, units)) >= zero
    quarter = np.repeat(np.arange(quarters), units)
    return quarter, (size * flow / (1 - zero)).ravel()


@pytest.mark.parametrize("rho,zero", [(0.0, 0.0), (0.3, 0.0), (0.7, 0.0), (0.5, 0.6)])
def test_common_share_is_the_normals_correlation_whatever_the_empty_quarters(rho, zero):
    """E[(R_i − 1)(R_j − 1)] = e^{ρσ²} − 1 for two units of a quarter, whatever π (the
    quarters without a flow are each unit's own): 2,000 quarters of 12 units give ρ back, times
    the shrinkage 2,000 / 2,008, to sampling error (over eight seeds: within ±0.04 without empty
    quarters, ±0.11 with 60 % of them)."""
    rng = np.random.default_rng(2)
    quarter, ratio = _ratios(rng, rho, 0.5, zero, 2000, 12)
    weight = rng.uniform(1.0, 3.0, len(ratio))  # expected amounts: any positive weights
    found = fb.common_share(quarter, weight, ratio, sigma=0.5)
    assert found == pytest.approx(rho * 2000 / 2008, abs=0.05 if zero == 0 else 0.12)


def test_common_share_needs_quarters_with_two_units():
    rng = np.random.default_rng(3)
    quarter, ratio = _ratios(rng, 0.5, 0.5, 0.0, fb.MIN_COMMON_QUARTERS - 1, 5)
    assert fb.common_share(quarter, np.ones(len(ratio)), ratio, sigma=0.5) is None
    # one unit a quarter: no pair, nothing to tell
    assert fb.common_share(np.arange(40), np.ones(40), rng.uniform(0, 2, 40), sigma=0.5) is None
    # units that move apart (one up when the other is down) have no common factor: 0, not less
    quarter = np.repeat(np.arange(20), 2)
    ratio = np.tile([0.5, 1.5], 20)
    assert fb.common_share(quarter, np.ones(40), ratio, sigma=0.5) == 0.0
