"""The report cache through any sequence of writes (portfolio/book/cache.py).

tests/test_cache_carried.py takes each kind of write once, after a report computed from
scratch. Here hypothesis runs sequences of them through the use cases, in any order and on
any date — cash flows and valuations on either side of the dates reported, drafts, voids,
corrections approved or declined, a fund's settings changed, a new investment — with the
process's cache forgotten now and then (another worker, holding only what the shared cache
keeps). After every step, every cached figure must equal the one computed from scratch on the
book as it now is: the book refreshed piece by piece (`reading.refreshed`), a report carried
past a write (`_carried`), a trend that keeps its quarters before the date written, each
entry from the process or from the shared cache. A difference here is a figure a reader would
see and the book would not support."""
from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal

import pandas as pd
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule
from sqlalchemy import select

from models import CashFlow, Fund, Valuation
from portfolio.book import cache, records
from portfolio.book.corrections import (
    approve_correction,
    correct_cash_flow,
    correct_valuation,
    decline_correction,
    version_of,
)
from portfolio.book.reading import build_report, load_book
from portfolio.errors import FieldErrors
from portfolio.figures.alerts import fund_alerts
from portfolio.figures.report import compute_report
from portfolio.figures.trend import trend
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK, booked_cash_flow, settings_in_force, void_in_force
from tests.test_cache_carried import shared_store  # noqa: F401  (the fixture: database or Redis)

FUNDS = ("QY", "ZZ")
REPORTED = (dt.date(2025, 6, 30), dt.date(2025, 12, 31), dt.date(2026, 3, 31))
INVESTMENTS = ("QY-SF1", "QY-D1", "QY-CO1", "ZZ-D1")
# every date a write may carry: before, between and after the dates reported
days = st.dates(min_value=dt.date(2024, 8, 1), max_value=dt.date(2026, 6, 30))
amounts = st.integers(min_value=1, max_value=50_000_000).map(lambda fen: Decimal(fen) / 100)
CONFIRM = {"confirm_reason": "测试：序列"}


# a correction's record, use case, and the fields it corrects: its date and its amount
CORRECTED = {"cash_flows": (CashFlow, correct_cash_flow, "date", "amount_cny"),
             "valuations": (Valuation, correct_valuation, "as_of", "fair_value_cny")}


def _sorted(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame in one order: the book sets none on its flows, valuations and holdings."""
    return frame.sort_values(list(frame.columns), kind="stable").reset_index(drop=True)


class CacheAcrossWrites(RuleBasedStateMachine):
    """The example book (fund QY) and a second fund ZZ; the session is the test's `db`'s."""

    db = None  # the test's `db`, set before the machine runs

    @property
    def session(self):
        return self.db.session

    @initialize()
    def book(self):
        """Each sequence starts from empty tables and an empty cache (the shared one too)."""
        self.db.session.remove()
        self.db.drop_all()
        self.db.create_all()
        cache.clear()
        session = self.session
        result = import_book(session, EXAMPLE_BOOK, username="loader")
        assert result.ok, result.errors
        session.add(Fund(code="ZZ", name="另一基金", kind="innovation_fund", size_cny=Decimal("1000000000"),
                         vintage_year=2024))
        session.commit()
        records.record_investment(session, {"id": "ZZ-D1", "fund_code": "ZZ", "mode": "direct",
                                            "target_code": "C1", "date": "2024-06-30",
                                            "commitment_cny": "30000000", "ownership_pct": "2", "round": "B轮"},
                                  username="mgr")
        booked_cash_flow(session, {"investment_id": "ZZ-D1", "date": "2024-07-15", "type": "contribution",
                                   "amount_cny": "30000000"}, username="mgr")
        self.refused = 0

    # -- writes, each through its use case ---------------------------------------------------

    def _tried(self, write) -> None:
        """A write its checks refuse (a date before the investment, a correction already
        waiting) writes nothing; the figures must still agree, so the step stays."""
        try:
            write()
        except FieldErrors:
            self.session.rollback()
            self.refused += 1

    @rule(investment=st.sampled_from(INVESTMENTS), day=days, kind=st.sampled_from(["contribution", "distribution"]),
          amount=amounts, approved=st.booleans())
    def cash_flow(self, investment, day, kind, amount, approved):
        fields = {"investment_id": investment, "date": day.isoformat(), "type": kind, "amount_cny": str(amount),
                  **CONFIRM}
        if approved:
            self._tried(lambda: booked_cash_flow(self.session, fields, username="mgr"))
        else:  # a draft: in no figure, yet a write to the flows
            self._tried(lambda: records.record_cash_flow(self.session, fields, username="mgr"))

    @rule(investment=st.sampled_from(INVESTMENTS), day=days, value=amounts, approved=st.booleans())
    def valuation(self, investment, day, value, approved):
        def write():
            valuation = records.record_valuation(self.session, {
                "investment_id": investment, "as_of": day.isoformat(), "fair_value_cny": str(value * 10),
                "method": "last_round", **CONFIRM}, username="mgr")
            if approved:
                records.approve_valuation(self.session, valuation.id, username="checker")
        self._tried(write)

    def _picked(self, model, pick: int) -> int | None:
        """One of the records of `model` in force (not voided), by `pick`; None when none is."""
        ids = self.session.scalars(select(model.id).where(model.voided_at.is_(None)).order_by(model.id)).all()
        return ids[pick % len(ids)] if ids else None

    @rule(pick=st.integers(min_value=0), what=st.sampled_from(["cash_flow", "valuation"]))
    def void(self, pick, what):
        record_id = self._picked(CashFlow if what == "cash_flow" else Valuation, pick)
        if record_id is not None:
            self._tried(lambda: void_in_force(self.session, what, record_id, "录错", username="mgr"))

    @rule(what=st.sampled_from(["cash_flows", "valuations"]), pick=st.integers(min_value=0), day=days,
          amount=amounts, approve=st.booleans())
    def correct(self, what, pick, day, amount, approve):
        """A record corrected (its date and amount): a draft in place; an approved one asked
        for, then approved or declined by another person."""
        model, corrector, date, money = CORRECTED[what]
        record_id = self._picked(model, pick)
        if record_id is None:
            return

        def write():
            record = self.session.get(model, record_id)
            kept = {"type": record.type} if what == "cash_flows" else {"method": record.method}
            corrector(self.session, record_id, {
                date: day.isoformat(), money: str(amount), **kept, "correction_reason": "更正",
                "version": version_of(record), **CONFIRM}, username="mgr")
            if record.approved_at is None:
                return  # a draft is corrected in place
            if approve:
                approve_correction(self.session, record_id, username="checker", entity=what)
            else:
                decline_correction(self.session, record_id, {"reason": "不符"}, username="checker", entity=what)
        self._tried(write)

    @rule(fund=st.sampled_from(FUNDS), cap=st.sampled_from(["0.01", "0.05", "0.2"]))
    def settings(self, fund, cap):
        self._tried(lambda: settings_in_force(self.session, fund, {"single_company_cap": cap}, username="admin"))

    @rule(fund=st.sampled_from(FUNDS), day=days, n=st.integers(min_value=1, max_value=999))
    def new_investment(self, fund, day, n):
        self._tried(lambda: records.record_investment(self.session, {
            "id": f"{fund}-N{n}", "fund_code": fund, "mode": "direct", "target_code": "C4",
            "date": day.isoformat(), "commitment_cny": "10000000", "ownership_pct": "1", "round": "A轮"},
            username="mgr"))

    @rule()
    def another_worker(self):
        """This process forgets what it kept, as another worker starts with nothing of it:
        what it serves next is computed, or carried from the shared cache's entries."""
        cache.clear()

    # -- what must hold after every step -------------------------------------------------------

    @invariant()
    def the_cached_book_is_the_book(self):
        if not hasattr(self, "refused"):  # (hypothesis checks invariants before `book` too)
            return
        kept, fresh = cache.book(self.session), load_book(self.session)
        for name in ("funds", "investments", "flows", "valuations", "holdings"):
            mine, theirs = getattr(kept, name), getattr(fresh, name)
            if name in ("flows", "valuations", "holdings"):  # in no set order (reading.load_book)
                mine, theirs = _sorted(mine), _sorted(theirs)
            pd.testing.assert_frame_equal(mine, theirs, check_dtype=True, obj=name)

    @invariant()
    def the_cached_figures_are_the_figures_from_scratch(self):
        if not hasattr(self, "refused"):  # (hypothesis checks invariants before `book` too)
            return
        session = self.session
        book = load_book(session)
        for code in FUNDS:
            for day in REPORTED:
                report = compute_report(book, code, day)
                assert cache.fund_report(session, code, day) == report, (code, day)
                assert cache.fund_trend(session, code, day) == cache._trend_points(
                    cache._trend_bytes(trend(book, code, day))), (code, day)
                assert cache.fund_alerts(session, code, day) == fund_alerts(book, report, day), (code, day)
        assert cache.fund_report(session, "QY", REPORTED[1]) == build_report(session, "QY", REPORTED[1])


@pytest.mark.usefixtures("shared_store")
def test_the_cache_agrees_with_the_book_through_any_sequence_of_writes(db):
    """The shared cache in the database, and in Redis (its entries outlive each sequence's
    tables, as a restored or refilled database's would: none may be taken for the new book's)."""
    CacheAcrossWrites.db = db
    try:
        run = CacheAcrossWrites.TestCase
        # more to explore further: SEQ_EXAMPLES=60 SEQ_STEPS=25 (about 10 minutes a store)
        run.settings = settings(max_examples=int(os.environ.get("SEQ_EXAMPLES", 8)),
                                stateful_step_count=int(os.environ.get("SEQ_STEPS", 12)),
                                deadline=None, suppress_health_check=list(HealthCheck))
        run().runTest()
    finally:
        CacheAcrossWrites.db = None
        cache.clear()


def test_the_book_lists_funds_sub_funds_and_companies_in_one_order_whatever_was_written(db):
    """The case the sequences found on PostgreSQL: a fund's row taken to ask for a change of its
    settings (a no-op UPDATE, `unit.take`) moved it last on disk, and the book read its funds in
    another order, so a fund's family, and what is listed in its order, moved with a write."""
    from portfolio.book.unit import take

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    for code in ("ZZ", "AA"):
        db.session.add(Fund(code=code, name=f"基金{code}", kind="innovation_fund", size_cny=Decimal("1000000000"),
                            vintage_year=2024, parent_code="QY"))
    db.session.commit()
    before = load_book(db.session)
    for code in ("QY", "AA"):
        take(db.session, db.session.get(Fund, code))
    db.session.commit()
    after = load_book(db.session)
    assert list(after.funds["code"]) == list(before.funds["code"]) == ["AA", "QY", "ZZ"]
    assert list(after.sub_funds["code"]) == sorted(after.sub_funds["code"])
    assert list(after.companies["code"]) == sorted(after.companies["code"])
