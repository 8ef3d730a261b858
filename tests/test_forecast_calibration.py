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
