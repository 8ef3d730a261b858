"""The report cache across writes (portfolio/book/cache.py): a fund's report and trend are
carried forward past a write that touched none of its investments, and recomputed after one
that did; either way they equal the report and the trend computed from scratch on the book
as it now is. Each kind of write: a cash flow, a valuation approved, a void, a correction."""
from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import CashFlow, Fund
from portfolio.book import cache, records
from portfolio.book.corrections import approve_correction, correct_cash_flow, version_of
from portfolio.book.reading import build_report, load_book
from portfolio.figures.trend import trend
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK, booked_cash_flow, void_in_force

AS_OF = dt.date(2025, 12, 31)
FUNDS = ("QY", "ZZ")


@pytest.fixture
def book(db):
    """The example book (fund QY) and a second fund ZZ with one direct investment."""
    result = import_book(db.session, EXAMPLE_BOOK, username="loader")
    assert result.ok, result.errors
    db.session.add(Fund(code="ZZ", name="另一基金", kind="innovation_fund", size_cny=Decimal("1000000000"),
                        vintage_year=2024))
    db.session.commit()
    records.record_investment(db.session, {"id": "ZZ-D1", "fund_code": "ZZ", "mode": "direct", "target_code": "C1",
                                           "date": "2024-06-30", "commitment_cny": "30000000",
                                           "ownership_pct": "2", "round": "B轮"}, username="mgr")
    booked_cash_flow(db.session, {"investment_id": "ZZ-D1", "date": "2024-07-15", "type": "contribution",
                                          "amount_cny": "30000000"}, username="mgr")
    return db.session


def write(session, kind: str, investment_id: str, flow_id: int) -> None:
    if kind == "flow":
        booked_cash_flow(session, {"investment_id": investment_id, "date": "2025-11-20",
                                           "type": "distribution", "amount_cny": "1234.56",
                                           "confirm_reason": "测试"}, username="mgr")
    elif kind == "valuation":
        valuation = records.record_valuation(session, {"investment_id": investment_id, "as_of": "2025-12-30",
                                                       "fair_value_cny": "45678901.23", "method": "last_round"},
                                             username="mgr")
        records.approve_valuation(session, valuation.id, username="checker")
    elif kind == "void":
        void_in_force(session, "cash_flow", flow_id, "录错", username="mgr")
    else:
        version = version_of(session.get(CashFlow, flow_id))
        correct_cash_flow(session, flow_id, {"date": "2025-10-02", "type": "contribution", "amount_cny": "777.77",
                                             "correction_reason": "金额更正", "version": version,
                                             "confirm_reason": "测试"}, username="mgr")
        approve_correction(session, flow_id, username="checker", entity="cash_flows")


def from_scratch(session, code: str) -> tuple[dict, list[dict]]:
    return build_report(session, code, AS_OF), cache._trend_points(cache._trend_bytes(
        trend(load_book(session), code, AS_OF)))


@pytest.mark.parametrize("kind", ["flow", "valuation", "void", "correction"])
@pytest.mark.parametrize("written", ["QY-D1", "ZZ-D1"])
def test_the_cached_figures_after_a_write_equal_the_figures_from_scratch(book, kind, written):
    flow = booked_cash_flow(book, {"investment_id": written, "date": "2025-10-01", "type": "contribution",
                                           "amount_cny": "1000", "confirm_reason": "测试"}, username="mgr")
    cache.clear()
    before = {code: (cache.fund_report(book, code, AS_OF), cache.fund_trend(book, code, AS_OF)) for code in FUNDS}
    version = cache.book_version(book)

    write(book, kind, written, flow.id)

    assert cache.book_version(book) != version
    touched = written.split("-")[0]
    for code in FUNDS:
        report, points = cache.fund_report(book, code, AS_OF), cache.fund_trend(book, code, AS_OF)
        assert (report, points) == from_scratch(book, code)
        if code == touched:  # recomputed: the write may have moved its figures
            assert report is not before[code][0] and points is not before[code][1]
        else:  # carried forward as it was: the write did not touch this fund
            assert report is before[code][0] and points is before[code][1]


def test_nothing_is_carried_past_a_write_to_anything_but_flows_and_valuations(book):
    cache.clear()
    first = cache.fund_report(book, "ZZ", AS_OF)
    records.record_investment(book, {"id": "QY-D9", "fund_code": "QY", "mode": "direct", "target_code": "C1",
                                     "date": "2025-10-15", "commitment_cny": "20000000", "ownership_pct": "3",
                                     "round": "C轮"}, username="mgr")
    again = cache.fund_report(book, "ZZ", AS_OF)
    assert again is not first and again == build_report(book, "ZZ", AS_OF)


def test_nothing_is_carried_into_another_database_with_the_same_audit_ids(book, db):
    """An entry of an older version is carried only while that version is in the audit log as
    it was (same id, same time): a database emptied and refilled starts afresh."""
    from models import AuditEntry

    cache.clear()
    first = cache.fund_report(book, "ZZ", AS_OF)
    (key, at) = cache._version_key(book)
    entry = book.get(AuditEntry, key)
    entry.at = at - dt.timedelta(seconds=1)  # as if the history had been written again
    book.commit()
    booked_cash_flow(book, {"investment_id": "QY-D1", "date": "2025-11-21", "type": "distribution",
                                    "amount_cny": "1", "confirm_reason": "测试"}, username="mgr")
    assert cache.fund_report(book, "ZZ", AS_OF) is not first


def test_a_write_dated_after_the_date_carries_the_figures_of_that_date(book):
    """A flow and a valuation dated after D leave the figures as of D as they were (carried),
    not those of a later date (recomputed); both equal the figures from scratch."""
    later = dt.date(2026, 3, 31)
    cache.clear()
    first, first_later = cache.fund_report(book, "QY", AS_OF), cache.fund_report(book, "QY", later)
    booked_cash_flow(book, {"investment_id": "QY-D1", "date": "2026-01-15", "type": "distribution",
                                    "amount_cny": "5000", "confirm_reason": "测试"}, username="mgr")
    valuation = records.record_valuation(book, {"investment_id": "QY-D1", "as_of": "2026-02-27",
                                                "fair_value_cny": "45678901.23", "method": "last_round"},
                                         username="mgr")
    records.approve_valuation(book, valuation.id, username="checker")
    assert cache.fund_report(book, "QY", AS_OF) is first
    assert first == build_report(book, "QY", AS_OF)
    again = cache.fund_report(book, "QY", later)
    assert again is not first_later and again == build_report(book, "QY", later) and again != first_later



@pytest.mark.parametrize("days", [100, 400])
@pytest.mark.parametrize("older_in", ["process", "shared"])
def test_after_a_write_the_trend_keeps_its_quarters_before_the_date_written(book, monkeypatch, days, older_in):
    """The written fund's trend: its points before the earliest date the write touched are
    taken as they were, the later ones computed; the whole equals the trend from scratch.
    The older trend is this process's, or (`shared`: another worker computed it, this one
    served the page from the shared cache) the shared cache's."""
    from models import Investment
    from portfolio.figures import engine

    cache.clear()
    before = cache.fund_trend(book, "QY", AS_OF)
    if older_in == "shared":
        cache.clear()
    day = book.get(Investment, "QY-D1").date + dt.timedelta(days=days)
    booked_cash_flow(book, {"investment_id": "QY-D1", "date": day.isoformat(), "type": "distribution",
                                    "amount_cny": "4321.09", "confirm_reason": "测试"}, username="mgr")
    summed: list[int] = []
    summarise = engine.summarise
    monkeypatch.setattr(engine, "summarise", lambda *a, **k: summed.append(1) or summarise(*a, **k))
    after = cache.fund_trend(book, "QY", AS_OF)
    computed = len(summed)
    assert after == from_scratch(book, "QY")[1]
    kept = [point for point in before if point["as_of"] < day]
    assert kept and after[:len(kept)] == kept and after[len(kept)] != before[len(kept)]
    assert computed == len(after) - len(kept)  # the later quarters only


@pytest.fixture(params=["database", "redis"])
def shared_store(request):
    """The shared cache in the database, or in Redis (a prefix of the test's own)."""
    if request.param == "redis":
        from tests.test_jobs import REDIS_URL, _redis_up

        if not _redis_up():
            pytest.skip("no Redis at 127.0.0.1:6379")
        cache.configure(redis_url=REDIS_URL, prefix=f"test-carried-{uuid.uuid4().hex[:8]}:")
        yield "redis"
        cache.configure(redis_url=None)
    else:
        yield "database"


def test_another_workers_trend_is_carried_past_a_write_to_another_fund(book, monkeypatch, shared_store):
    """A worker that never computed ZZ's trend (it served the page from the shared cache) takes
    the shared cache's older trend past a write to QY: nothing is computed, and it equals the
    trend from scratch. A write to anything but flows and valuations: computed afresh."""
    from portfolio.figures import engine

    cache.clear()
    before = cache.fund_trend(book, "ZZ", AS_OF)
    cache.clear()
    booked_cash_flow(book, {"investment_id": "QY-D1", "date": "2025-11-20", "type": "distribution",
                                    "amount_cny": "99.01", "confirm_reason": "测试"}, username="mgr")
    summed: list[int] = []
    summarise = engine.summarise
    monkeypatch.setattr(engine, "summarise", lambda *a, **k: summed.append(1) or summarise(*a, **k))
    after = cache.fund_trend(book, "ZZ", AS_OF)
    assert not summed  # taken from the shared cache, not computed
    assert after == before == from_scratch(book, "ZZ")[1]
    summed.clear()
    cache.clear()
    records.record_investment(book, {"id": "ZZ-D2", "fund_code": "ZZ", "mode": "direct", "target_code": "C1",
                                     "date": "2025-10-15", "commitment_cny": "20000000", "ownership_pct": "3",
                                     "round": "C轮"}, username="mgr")
    again = cache.fund_trend(book, "ZZ", AS_OF)
    assert summed and again == from_scratch(book, "ZZ")[1]


def test_a_stored_version_of_another_release_or_not_a_version_is_not_taken():
    at = dt.datetime(2025, 12, 31, 8, 30, 1, 123456)
    ours = f"17.{at:%Y%m%d%H%M%S%f}-{cache.code_version()}"
    assert cache._parse_book_version(ours) == (17, at)
    for text in (f"0-{cache.code_version()}", f"17.{at:%Y%m%d%H%M%S%f}-000000000000", "17", "x.y-z", ""):
        assert cache._parse_book_version(text) is None, text


@pytest.mark.parametrize("written", ["QY-D1", "ZZ-D1"])
def test_the_alerts_are_carried_with_the_report(book, written):
    """The home page's alerts after a write: carried forward with the report past a write to
    another fund, recomputed for the fund written; both equal the alerts from scratch."""
    from portfolio.figures.alerts import fund_alerts

    cache.clear()
    before = {code: cache.fund_alerts(book, code, AS_OF) for code in FUNDS}
    booked_cash_flow(book, {"investment_id": written, "date": "2025-11-20", "type": "contribution",
                                    "amount_cny": "5000", "confirm_reason": "测试"}, username="mgr")
    for code in FUNDS:
        alerts = cache.fund_alerts(book, code, AS_OF)
        assert alerts == fund_alerts(load_book(book), build_report(book, code, AS_OF), AS_OF)
        assert (alerts is before[code]) == (code != written.split("-")[0]), code


def test_the_writes_since_are_read_once_for_every_figure_of_the_page(book):
    """After a write, each fund's report, trend and alerts ask what the writes since touched:
    the audit log is read for it once, not once a figure."""
    from sqlalchemy import event

    cache.clear()
    for code in FUNDS:
        cache.fund_report(book, code, AS_OF), cache.fund_trend(book, code, AS_OF), cache.fund_alerts(book, code, AS_OF)
    booked_cash_flow(book, {"investment_id": "QY-D1", "date": "2025-11-20", "type": "distribution",
                                    "amount_cny": "12.34", "confirm_reason": "测试"}, username="mgr")
    statements: list[str] = []
    engine = book.get_bind().engine
    listen = lambda *args: statements.append(args[2])  # noqa: E731 (before_cursor_execute's statement)
    event.listen(engine, "before_cursor_execute", listen)
    try:
        for code in FUNDS:
            cache.fund_report(book, code, AS_OF), cache.fund_trend(book, code, AS_OF)
            cache.fund_alerts(book, code, AS_OF)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    ranges = [s for s in statements if "audit_log" in s and "audit_log.id >" in s]
    assert len(ranges) == 1, statements


def _rows(frame) -> list[tuple]:
    """A frame's rows in a set order, its dtypes beside (the refreshed book's flows and
    valuations come in another order than a fresh read's: nothing depends on it)."""
    return sorted(map(tuple, frame.astype(str).to_numpy().tolist())) + [tuple(map(str, frame.dtypes))]


def test_after_writes_to_flows_and_valuations_the_book_is_refreshed_not_read_whole(book, monkeypatch):
    """After each kind of write to cash flows and valuations, the book in force is this
    process's older book with those investments' flows and valuations read again: the same
    rows and dtypes as a fresh read (load_book), and the whole book not read again. Any other
    write (an investment) reads it whole."""
    from portfolio.book import reading
    from portfolio.figures.report import compute_report

    cache.clear()
    flow_id = book.execute(select(CashFlow.id).where(CashFlow.investment_id == "QY-D1").limit(1)).scalar_one()
    cache.book(book)
    whole_reads = []
    real_load_book = reading.load_book
    monkeypatch.setattr(reading, "load_book", lambda session: whole_reads.append(1) or real_load_book(session))
    for kind, investment in [("flow", "QY-D1"), ("valuation", "ZZ-D1"), ("correction", "QY-D1"), ("void", "QY-D1")]:
        write(book, kind, investment, flow_id)
        cached, fresh = cache.book(book), real_load_book(book)
        for table in ("flows", "valuations", "investments", "funds"):
            assert _rows(getattr(cached, table)) == _rows(getattr(fresh, table)), (kind, table)
        assert cache.fund_report(book, "QY", AS_OF) == compute_report(fresh, "QY", AS_OF), kind
    assert whole_reads == []
    records.record_investment(book, {"id": "ZZ-D2", "fund_code": "ZZ", "mode": "direct", "target_code": "C1",
                                     "date": "2025-06-30", "commitment_cny": "1000000", "ownership_pct": "1",
                                     "round": "C轮"}, username="mgr")
    whole_reads.clear()
    cache.book(book)
    assert whole_reads == [1]


def test_with_redis_down_the_report_is_computed_and_served(book, client, runner, as_role, caplog):
    """The shared cache only spares work: with its Redis unreachable, the API and the
    `report` command compute the report and answer it, and the failure is logged."""
    import json

    from web.api import report_json

    as_role("viewer")
    cache.configure(redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    try:
        cache.clear()
        served = client.get("/api/v1/funds/QY/report?as_of=2025-12-31")
        assert served.status_code == 200
        assert json.loads(served.data)["summary"] == json.loads(report_json("QY", AS_OF))["summary"]
        printed = runner.invoke(args=["report", "QY", "--as-of", AS_OF.isoformat()])
        assert printed.exit_code == 0 and printed.stdout_bytes == served.data
        assert cache.shared_latest(book, "api_report", "QY", AS_OF.isoformat()) is None
        assert not cache.shared_has(book, "api_report", "QY", AS_OF.isoformat(), cache.book_version(book))
    finally:
        cache.configure(redis_url=None)
    assert "Redis unavailable" in caplog.text
