"""PME against an index series, and `flask import-index` (generated series: real index data
cannot be downloaded here, metrics.md)."""
from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
import pyxirr.pe as pe

from portfolio.figures import engine as fg
from portfolio.figures.pme import PMEError, levels_on, pme_figures
from portfolio.figures.report import compute_report
from tests.conftest import EXAMPLE_BOOK, make_user
from tests.factories import book_from_csv


def generated_series(start="2020-01-01", end="2026-03-31", yearly=0.06) -> pd.Series:
    days = pd.date_range(start, end, freq="B")
    t = (days - days[0]).days.to_numpy() / 365.0
    return pd.Series(3000 * (1 + yearly) ** t, index=days.astype("datetime64[ns]"), name="GEN")


def test_levels_on_takes_latest_on_or_before_and_refuses_earlier_flows():
    s = pd.Series([100.0, 110.0], index=pd.to_datetime(["2024-01-02", "2024-01-05"]).astype("datetime64[ns]"),
                  name="X")
    got = levels_on(s, np.array(["2024-01-02", "2024-01-04", "2024-01-06"], dtype="datetime64[D]"), "X")
    assert list(got) == [100.0, 100.0, 110.0]
    with pytest.raises(PMEError, match="2024-01-01"):
        levels_on(s, np.array(["2024-01-01"], dtype="datetime64[D]"), "X")


def test_pme_of_the_example_against_pyxirr_definitions():
    book = book_from_csv(EXAMPLE_BOOK)
    as_of = dt.date(2025, 12, 31)
    series = generated_series()
    ids = fg.fund_investment_ids(book, "QY", as_of)
    got = pme_figures(book, ids, as_of, series)
    # the same figures from the raw flows of the CSV, straight through pyxirr.pe
    cf = pd.read_csv(EXAMPLE_BOOK / "cash_flows.csv").sort_values("date", kind="stable")
    amounts = np.where(cf["type"] == "contribution", -cf["amount_cny"], cf["amount_cny"]).astype(float)
    days = pd.to_datetime(cf["date"]).to_numpy().astype("datetime64[D]")
    days = np.concatenate([days, [np.datetime64("2025-12-31")]])
    amounts = np.concatenate([amounts, [0.0]])
    idx = series.asof(pd.DatetimeIndex(days)).to_numpy()
    nav = 594_000_000.0
    assert got["ks_pme"] == pytest.approx(pe.ks_pme(amounts, idx, nav), rel=1e-12)
    assert got["ln_pme_nav"] == pytest.approx(pe.ln_pme_nav(amounts, idx), rel=1e-12)
    # a 6 % a year index against a fund doing about 8.5 %: KS-PME above 1, positive direct alpha
    assert got["ks_pme"] > 1 and got["direct_alpha"] > 0
    assert got["irr"] == pytest.approx(0.08530618895937328, abs=1e-6)
    # the index-replicating investment earns about the index's 6 %
    assert got["ln_pme"] == pytest.approx(0.06, abs=0.01)


def test_flow_before_the_series_is_an_error():
    book = book_from_csv(EXAMPLE_BOOK).with_(indexes={"LATE": generated_series("2024-01-01").rename("LATE")})
    with pytest.raises(PMEError, match="2023-03-31"):
        compute_report(book, "QY", dt.date(2025, 12, 31), index_name="LATE")


def test_report_with_index_has_pme():
    book = book_from_csv(EXAMPLE_BOOK).with_(indexes={"GEN": generated_series()})
    report = compute_report(book, "QY", dt.date(2025, 12, 31), index_name="GEN")
    assert report["pme"]["index"] == "GEN" and report["pme"]["ks_pme"] is not None


def test_periodic_figures_of_the_example():
    import numpy_financial as npf

    book = book_from_csv(EXAMPLE_BOOK)
    report = compute_report(book, "QY", dt.date(2025, 12, 31))
    # by hand: quarters 2023Q1 … 2025Q4 (12), net flows in yuan, NAV in the last quarter
    values = np.zeros(12)
    values[0] -= 150e6       # 2023Q1 SF1
    values[1] -= 100e6       # 2023Q2 D1
    values[4] -= 150e6 + 30e6  # 2024Q1 SF1, CO1
    values[8] += 5e6         # 2025Q1 D1 dividend
    values[9] += 20e6        # 2025Q2 SF1 distribution
    values[11] += -100e6 + 594e6  # 2025Q4 call and NAV
    q = npf.irr(values)
    assert report["periodic"]["quarterly_irr"] == pytest.approx((1 + q) ** 4 - 1, rel=1e-9)
    fq = 1.08 ** 0.25 - 1
    assert report["periodic"]["mirr"] == pytest.approx((1 + npf.mirr(values, fq, fq)) ** 4 - 1, rel=1e-9)


def test_import_index_command_upserts_and_audits(db, runner, tmp_path):
    from sqlalchemy import func, select

    from models import AuditEntry, IndexLevel

    path = tmp_path / "gen.csv"
    path.write_text("date,level\n2020-01-02,3000.5\n2020-01-03,3010.123456\n", encoding="utf-8")
    result = runner.invoke(args=["import-index", "GEN", str(path)])
    assert result.exit_code == 0, result.output
    path.write_text("date,level\n2020-01-03,3011\n2020-01-06,3020\n", encoding="utf-8")
    result = runner.invoke(args=["import-index", "GEN", str(path), "--user", "alice"])
    assert result.exit_code == 0 and "新增 1" in result.output and "更新 1" in result.output
    levels = dict(db.session.execute(select(IndexLevel.date, IndexLevel.level)).all())
    assert len(levels) == 3 and str(levels[dt.date(2020, 1, 3)]) == "3011.000000"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)
                             .where(AuditEntry.entity == "index_levels")) == 4
    bad = tmp_path / "bad.csv"
    # a level past what is stored exactly (10^30 also past Decimal's precision at 6 places: it had raised)
    bad.write_text("date,level\n2020-13-01,1\n2020-01-07,-5\n2020-01-08,1e30\n2020-01-09,1000000000000\n",
                   encoding="utf-8")
    result = runner.invoke(args=["import-index", "GEN", str(bad)])
    assert result.exit_code != 0 and all(f"第 {n} 行" in result.output for n in (2, 3, 4, 5)), result.output
    assert "第 4 行：指数点位 '1e30' 过大" in result.output
    assert len(db.session.execute(select(IndexLevel.date)).all()) == 3  # nothing half-imported


def test_flask_report_with_index(db, runner, tmp_path):
    from portfolio.interchange.importing import import_book

    make_user(db, "importer", "manager")
    import_book(db.session, EXAMPLE_BOOK, username="importer")
    db.session.commit()
    series = generated_series()
    path = tmp_path / "gen.csv"
    pd.DataFrame({"date": series.index.strftime("%Y-%m-%d"), "level": series.round(6).to_numpy()}).to_csv(
        path, index=False)
    assert runner.invoke(args=["import-index", "GEN", str(path)]).exit_code == 0
    result = runner.invoke(args=["report", "QY", "--as-of", "2025-12-31", "--index", "GEN"])
    assert result.exit_code == 0, result.output
    pme = json.loads(result.output)["pme"]
    assert pme["index"] == "GEN" and pme["ks_pme"] > 1
    missing = runner.invoke(args=["report", "QY", "--as-of", "2025-12-31", "--index", "NOPE"])
    assert missing.exit_code != 0 and "NOPE" in missing.output


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_index_that_starts_too_late_says_so_on_the_fund_page_in_the_readers_language(db, client, tmp_path, lang):
    """The PME panel's reason (a PMEError, by key) in the reader's language; the CSV imported by
    the command, as an operator does."""
    import re

    from portfolio.book.reading import import_index
    from portfolio.interchange.importing import import_book
    from tests.conftest import login

    make_user(db, "importer", "manager")
    assert import_book(db.session, EXAMPLE_BOOK, username="importer").ok
    path = tmp_path / "late.csv"
    path.write_text("date,level\n2025-01-02,3000\n2025-06-30,3100\n", encoding="utf-8")
    import_index(db.session, "LATE", path, username="importer")
    make_user(db, "reader", "viewer")
    login(client, "reader")
    client.get(f"/lang/{lang}")
    page = client.get("/funds/QY?as_of=2025-12-31&index=LATE").get_data(as_text=True)
    shown = re.search(r'<p class="error" id="pme-error">(.*?)</p>', page).group(1)
    if lang == "en":
        assert re.fullmatch(r"A cash flow on \d{4}-\d\d-\d\d is before the index LATE starts, on 2025-01-02", shown)
    else:
        assert re.fullmatch(r"现金流日期 \d{4}-\d\d-\d\d 早于指数 LATE 的起始日期 2025-01-02", shown)


def test_the_cached_report_with_its_pme_is_compute_report_s(db, tmp_path):
    """cache.fund_report with an index (the API's, the command's) is compute_report's object,
    keys in the same order: the PME before the checks."""
    from portfolio.book import cache
    from portfolio.book.reading import build_report, import_index
    from portfolio.interchange.importing import import_book
    assert import_book(db.session, EXAMPLE_BOOK, username="test").ok
    series = generated_series()
    path = tmp_path / "gen.csv"
    pd.DataFrame({"date": series.index.strftime("%Y-%m-%d"), "level": series.round(6).to_numpy()}).to_csv(
        path, index=False)
    import_index(db.session, "GEN", path, username="test")
    expected = build_report(db.session, "QY", dt.date(2025, 12, 31), index_name="GEN")
    got = cache.fund_report(db.session, "QY", dt.date(2025, 12, 31), "GEN")
    assert list(got) == list(expected) and got == expected
