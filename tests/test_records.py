"""The book's use cases (portfolio/records.py) on a real database, on the example book of
the spec (spec/example/book): rules, audit, maker-checker, void."""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from models import AuditEntry, CashFlow, Company, Investment, User, Valuation
from portfolio.book import cache, records
from portfolio.book.reading import build_report
from portfolio.errors import FieldErrors
from portfolio.interchange.importing import import_book
from portfolio.vocabulary import credit_code_check_char
from tests.conftest import EXAMPLE_BOOK, booked_cash_flow, make_user, void_in_force

AS_OF = dt.date(2025, 12, 31)


@pytest.fixture
def book(db):
    result = import_book(db.session, EXAMPLE_BOOK, username="loader")
    assert result.ok, result.errors
    return db.session


def credit_code(body: str = "91330206MA2AAAAA0") -> str:
    return body + credit_code_check_char(body)


def fields_of(exc: FieldErrors) -> set[str]:
    return {f for f, _ in exc.errors}


def audits(session, entity: str, key: str) -> list[AuditEntry]:
    return session.execute(select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_key == key)
                           .order_by(AuditEntry.id)).scalars().all()


DIRECT = {"id": "QY-D9", "fund_code": "QY", "mode": "direct", "target_code": "C1", "date": "2025-10-15",
          "commitment_cny": "20000000", "ownership_pct": "3", "round": "C轮"}


def test_record_investment_writes_and_audits(book):
    investment = records.record_investment(book, dict(DIRECT), username="mgr")
    assert isinstance(investment, Investment)
    stored = book.get(Investment, "QY-D9")
    assert stored.company_code == "C1" and stored.sub_fund_code is None
    assert stored.commitment_cny == Decimal("20000000.00") and stored.date == dt.date(2025, 10, 15)
    (entry,) = audits(book, "investments", "QY-D9")
    assert entry.username == "mgr" and entry.action == "create" and entry.before is None
    assert entry.after["commitment_cny"] == "20000000.00"


def test_every_error_of_an_investment_is_returned(book):
    bad = {"id": "QY-D1", "fund_code": "NOPE", "mode": "direct", "target_code": "C1", "date": "2025-13-01",
           "commitment_cny": "-5", "ownership_pct": "120", "instrument": "loan"}
    with pytest.raises(FieldErrors) as caught:
        records.record_investment(book, bad, username="mgr")
    assert {"id", "fund_code", "date", "commitment_cny", "ownership_pct", "instrument"} <= fields_of(caught.value)


def test_target_must_match_the_mode(book):
    with pytest.raises(FieldErrors) as caught:
        records.record_investment(book, {**DIRECT, "mode": "sub_fund", "target_code": "C1"}, username="mgr")
    assert fields_of(caught.value) == {"target_code"}
    with pytest.raises(FieldErrors) as caught:
        records.record_investment(book, {**DIRECT, "target_code": "SF1"}, username="mgr")
    assert fields_of(caught.value) == {"target_code"}


def test_a_co_investment_picks_a_sub_fund_the_fund_holds(book):
    co = {**DIRECT, "id": "QY-CO9", "mode": "co_invest", "target_code": "C2", "lead_amount_cny": "60000000"}
    with pytest.raises(FieldErrors) as caught:
        records.record_investment(book, co, username="mgr")
    assert fields_of(caught.value) == {"alongside_code"}
    with pytest.raises(FieldErrors) as caught:
        records.record_investment(book, {**co, "alongside_code": "SF-OTHER"}, username="mgr")
    assert fields_of(caught.value) == {"alongside_code"}
    with pytest.raises(FieldErrors) as caught:  # alongside is for co-investments only
        records.record_investment(book, {**DIRECT, "alongside_code": "SF1"}, username="mgr")
    assert fields_of(caught.value) == {"alongside_code"}
    assert records.record_investment(book, {**co, "alongside_code": "SF1"}, username="mgr").alongside_code == "SF1"


def test_a_deal_that_fails_a_rule_needs_a_written_reason(book):
    # 35 % ownership is above the 30 % ownership_cap of rules.md
    deal = {**DIRECT, "ownership_pct": "35"}
    with pytest.raises(records.RuleFailures) as caught:
        records.record_investment(book, deal, username="mgr")
    assert fields_of(caught.value) == {"override_reason"}
    assert [(f["rule"], f["subject"]) for f in caught.value.failures] == [("ownership_cap", "QY-D9")]
    book.rollback()
    assert book.get(Investment, "QY-D9") is None
    records.record_investment(book, {**deal, "override_reason": "投委会特批：战略性持股"}, username="mgr")
    (entry,) = audits(book, "investments", "QY-D9")
    assert entry.reason == "投委会特批：战略性持股"
    assert any("ownership_cap" in line for line in entry.after["compliance_failures"])


def test_a_passing_deal_stores_no_override_reason(book):
    records.record_investment(book, {**DIRECT, "override_reason": "不需要"}, username="mgr")
    (entry,) = audits(book, "investments", "QY-D9")
    assert entry.reason is None


def test_cash_flow_checks_and_counts(book):
    with pytest.raises(FieldErrors) as caught:
        records.record_cash_flow(book, {"investment_id": "QY-D1", "date": "2023-01-01", "type": "contribution",
                                        "amount_cny": "0"}, username="mgr")
    assert fields_of(caught.value) == {"date", "amount_cny"}
    with pytest.raises(FieldErrors) as caught:
        records.record_cash_flow(book, {"investment_id": "NOPE", "date": "2025-01-01", "type": "gift",
                                        "amount_cny": "1.234"}, username="mgr")
    assert fields_of(caught.value) == {"investment_id", "type", "amount_cny"}
    before = build_report(book, "QY", AS_OF)["summary"]["paid_in"]
    flow = records.record_cash_flow(book, {"investment_id": "QY-SF1", "date": "2025-11-01", "type": "contribution",
                                           "amount_cny": "1,000,000.50", "ref": "PAY-9"}, username="mgr")
    records.approve_cash_flow(book, flow.id, username="checker")
    assert build_report(book, "QY", AS_OF)["summary"]["paid_in"] - before == Decimal("1000000.50")
    assert audits(book, "cash_flows", str(flow.id))[0].after["amount_cny"] == "1000000.50"
    with pytest.raises(FieldErrors) as caught:  # a reference is unique within the investment
        records.record_cash_flow(book, {"investment_id": "QY-SF1", "date": "2025-11-02", "type": "contribution",
                                        "amount_cny": "5", "ref": "PAY-9"}, username="mgr")
    assert fields_of(caught.value) == {"ref"}


def test_void_cash_flow_keeps_it_in_history_and_out_of_figures(book):
    flow = records.record_cash_flow(book, {"investment_id": "QY-SF1", "date": "2025-11-01", "type": "contribution",
                                           "amount_cny": "2000000"}, username="mgr")
    records.approve_cash_flow(book, flow.id, username="checker")
    with_flow = build_report(book, "QY", AS_OF)["summary"]["paid_in"]
    with pytest.raises(FieldErrors) as caught:
        records.void_cash_flow(book, flow.id, {"reason": "  "}, username="mgr2")
    assert fields_of(caught.value) == {"reason"}
    # an approved flow's void is asked for by one person and in force once another approves it
    records.void_cash_flow(book, flow.id, {"reason": "重复录入"}, username="mgr2")
    stored = book.get(CashFlow, flow.id)
    assert stored.voided_at is None and stored.void_requested_by == "mgr2" and stored.void_reason == "重复录入"
    assert build_report(book, "QY", AS_OF)["summary"]["paid_in"] == with_flow  # asked for: still counts
    with pytest.raises(FieldErrors) as caught:  # asked once
        records.void_cash_flow(book, flow.id, {"reason": "again"}, username="mgr3")
    assert str(caught.value.errors[0][1]).endswith("已申请作废该现金流，待另一人批准")
    with pytest.raises(FieldErrors) as caught:  # not by whoever asked
        records.approve_void(book, "cash_flow", flow.id, username="mgr2")
    assert str(caught.value.errors[0][1]) == "申请作废的人不能批准自己的申请，须由另一人批准"
    records.approve_void(book, "cash_flow", flow.id, username="checker")
    assert with_flow - build_report(book, "QY", AS_OF)["summary"]["paid_in"] == Decimal("2000000.00")
    stored = book.get(CashFlow, flow.id)
    assert (stored.void_requested_by, stored.voided_by, stored.void_reason) == ("mgr2", "checker", "重复录入")
    asked, entry = audits(book, "cash_flows", str(flow.id))[-2:]
    assert (asked.action, asked.username, asked.reason) == ("request_void", "mgr2", "重复录入")
    assert (entry.action, entry.username, entry.reason) == ("void", "checker", "重复录入")
    assert entry.before["voided_at"] is None and entry.after["voided_at"] is not None
    with pytest.raises(FieldErrors):
        records.void_cash_flow(book, flow.id, {"reason": "again"}, username="mgr2")
    with pytest.raises(FieldErrors):
        records.approve_void(book, "cash_flow", flow.id, username="checker2")


def test_a_void_asked_for_can_be_declined_and_the_record_stays_as_it_was(book):
    valuation = book.execute(select(Valuation).where(Valuation.investment_id == "QY-SF1",
                                                     Valuation.voided_at.is_(None))).scalars().first()
    nav = build_report(book, "QY", AS_OF)["summary"]["nav"]
    records.void_valuation(book, valuation.id, {"reason": "估值有误"}, username="mgr")
    with pytest.raises(FieldErrors) as caught:  # a decline says why
        records.reject_void(book, "valuation", valuation.id, {"reason": " "}, username="checker")
    assert fields_of(caught.value) == {"reason"}
    with pytest.raises(FieldErrors) as caught:  # and says it within the audit's bound
        records.reject_void(book, "valuation", valuation.id, {"reason": "理" * 2001}, username="checker")
    assert fields_of(caught.value) == {"reason"}
    records.reject_void(book, "valuation", valuation.id, {"reason": "估值无误，见管理人报告"}, username="checker")
    stored = book.get(Valuation, valuation.id)
    assert (stored.voided_at, stored.void_requested_by, stored.void_reason) == (None, None, None)
    assert build_report(book, "QY", AS_OF)["summary"]["nav"] == nav
    entry = audits(book, "valuations", str(valuation.id))[-1]
    assert (entry.action, entry.reason) == ("reject_void", "估值无误，见管理人报告")
    with pytest.raises(FieldErrors) as caught:  # nothing asked any more
        records.approve_void(book, "valuation", valuation.id, username="checker")
    assert str(caught.value.errors[0][1]) == "该估值没有待批准的作废申请"


def test_a_draft_is_withdrawn_at_once_and_a_record_asked_to_void_is_not_corrected(book):
    from portfolio.book import corrections

    draft = records.record_cash_flow(book, {"investment_id": "QY-SF1", "date": "2025-11-01", "type": "contribution",
                                            "amount_cny": "5"}, username="mgr")
    records.void_cash_flow(book, draft.id, {"reason": "录错"}, username="mgr")  # never counted: no checker
    assert book.get(CashFlow, draft.id).voided_at is not None
    flow = booked_cash_flow(book, {"investment_id": "QY-SF1", "date": "2025-11-02", "type": "contribution",
                                   "amount_cny": "7"}, username="mgr")
    records.void_cash_flow(book, flow.id, {"reason": "重复"}, username="mgr")
    with pytest.raises(FieldErrors) as caught:
        corrections.correct_cash_flow(book, flow.id, {
            "date": "2025-11-02", "type": "contribution", "amount_cny": "8", "correction_reason": "金额",
            "version": corrections.version_of(book.get(CashFlow, flow.id))}, username="mgr2")
    assert "待批准的作废申请" in str(caught.value.errors[0][1])


def test_valuation_is_a_draft_until_another_person_approves(book):
    nav_before = build_report(book, "QY", AS_OF)["summary"]["nav"]
    valuation = records.record_valuation(book, {"investment_id": "QY-CO1", "as_of": "2025-12-31",
                                                "fair_value_cny": "45000000", "method": "last_round"},
                                         username="maker")
    assert valuation.approved_at is None and valuation.entered_by == "maker"
    assert build_report(book, "QY", AS_OF)["summary"]["nav"] == nav_before  # a draft does not count
    with pytest.raises(FieldErrors):
        records.approve_valuation(book, valuation.id, username="maker")
    records.approve_valuation(book, valuation.id, username="checker")
    assert book.get(Valuation, valuation.id).approved_by == "checker"
    assert build_report(book, "QY", AS_OF)["summary"]["nav"] != nav_before
    report = build_report(book, "QY", AS_OF)
    co1 = next(i for i in report["investments"] if i["id"] == "QY-CO1")
    assert co1["nav"] == Decimal("45000000.00")
    with pytest.raises(FieldErrors):
        records.approve_valuation(book, valuation.id, username="checker2")
    # one valuation in force per (investment, as_of)
    with pytest.raises(FieldErrors) as caught:
        records.record_valuation(book, {"investment_id": "QY-CO1", "as_of": "2025-12-31", "fair_value_cny": "1",
                                        "method": "cost"}, username="maker")
    assert fields_of(caught.value) == {"as_of"}
    void_in_force(book, "valuation", valuation.id, "估值有误", username="checker", checker="checker2")
    assert build_report(book, "QY", AS_OF)["summary"]["nav"] == nav_before
    with pytest.raises(FieldErrors):
        records.approve_valuation(book, valuation.id, username="checker2")
    actions = [e.action for e in audits(book, "valuations", str(valuation.id))]
    assert actions == ["create", "approve", "request_void", "void"]


def test_a_cash_flow_is_a_draft_until_another_person_approves(book):
    """Maker-checker on the book's money, as on its valuations: a flow entered by one person
    counts nowhere (paid-in, the report, the book's export) until a second approves it."""
    from portfolio.interchange.exporting import export_book

    paid_before = build_report(book, "QY", AS_OF)["summary"]["paid_in"]
    flow = records.record_cash_flow(book, {"investment_id": "QY-SF1", "date": "2025-11-01", "type": "contribution",
                                           "amount_cny": "3000000", "ref": "CALL-7"}, username="maker")
    assert flow.approved_at is None and flow.entered_by == "maker"
    assert build_report(book, "QY", AS_OF)["summary"]["paid_in"] == paid_before  # a draft does not count
    exported = io.BytesIO()
    export_book(book, exported)
    assert b"CALL-7" not in _sheet_text(exported, "cash_flows")
    with pytest.raises(FieldErrors) as caught:  # the maker is not the checker
        records.approve_cash_flow(book, flow.id, username="maker")
    assert str(caught.value.errors[0][1]) == "录入人不能审批自己录入的现金流，须由另一人审批"
    with pytest.raises(FieldErrors) as caught:  # a draft still holds its voucher number
        records.record_cash_flow(book, {"investment_id": "QY-SF1", "date": "2025-11-02", "type": "contribution",
                                        "amount_cny": "5", "ref": "CALL-7"}, username="maker")
    assert fields_of(caught.value) == {"ref"}
    records.approve_cash_flow(book, flow.id, username="checker")
    stored = book.get(CashFlow, flow.id)
    assert stored.approved_by == "checker" and stored.approved_at is not None
    assert build_report(book, "QY", AS_OF)["summary"]["paid_in"] - paid_before == Decimal("3000000.00")
    exported = io.BytesIO()
    export_book(book, exported)
    assert b"CALL-7" in _sheet_text(exported, "cash_flows")
    with pytest.raises(FieldErrors) as caught:  # not twice
        records.approve_cash_flow(book, flow.id, username="checker2")
    assert str(caught.value.errors[0][1]).startswith("该现金流已由")
    void_in_force(book, "cash_flow", flow.id, "重复录入", username="checker", checker="checker2")
    with pytest.raises(FieldErrors) as caught:  # nor a void one
        records.approve_cash_flow(book, flow.id, username="checker2")
    assert str(caught.value.errors[0][1]) == "该现金流已作废，不能审批"
    assert [e.action for e in audits(book, "cash_flows", str(flow.id))] == ["create", "approve", "request_void", "void"]


def test_a_corrected_cash_flow_stays_in_force_until_another_person_approves(book):
    from portfolio.book import corrections

    flow = records.record_cash_flow(book, {"investment_id": "QY-SF1", "date": "2025-11-01", "type": "contribution",
                                           "amount_cny": "3000000"}, username="maker")
    records.approve_cash_flow(book, flow.id, username="checker")
    paid = build_report(book, "QY", AS_OF)["summary"]["paid_in"]
    corrections.correct_cash_flow(book, flow.id, {
        "date": "2025-11-01", "type": "contribution", "amount_cny": "3500000", "correction_reason": "金额录错",
        "version": corrections.version_of(flow)}, username="corrector")
    stored = book.get(CashFlow, flow.id)
    assert stored.approved_by == "checker" and stored.amount_cny == Decimal("3000000.00")
    assert build_report(book, "QY", AS_OF)["summary"]["paid_in"] == paid  # as it was, until approved
    with pytest.raises(FieldErrors):
        corrections.approve_correction(book, flow.id, username="corrector", entity="cash_flows")
    book.rollback()
    corrections.approve_correction(book, flow.id, username="maker", entity="cash_flows")  # the first maker may
    assert book.get(CashFlow, flow.id).approved_by == "maker"
    assert build_report(book, "QY", AS_OF)["summary"]["paid_in"] == paid + Decimal("500000.00")


def _sheet_text(workbook: io.BytesIO, sheet: str) -> bytes:
    from openpyxl import load_workbook

    cells = load_workbook(io.BytesIO(workbook.getvalue()), read_only=True)[sheet].iter_rows(values_only=True)
    return repr([row for row in cells]).encode("unicode_escape")


def test_add_company_verifies_the_credit_code(book):
    good = {"code": "C9", "name": "甬新材料有限公司", "credit_code": credit_code(), "sector": "materials",
            "region_code": "330212", "founded": "2021-01-05"}
    wrong_check = good["credit_code"][:17] + ("0" if good["credit_code"][17] != "0" else "1")
    with pytest.raises(FieldErrors) as caught:
        records.record_company(book, {**good, "credit_code": wrong_check, "region_code": "3302"}, username="mgr")
    assert fields_of(caught.value) == {"credit_code", "region_code"}
    company = records.record_company(book, good, username="mgr")
    assert book.get(Company, "C9").founded == dt.date(2021, 1, 5)
    assert audits(book, "companies", company.code)[0].after["credit_code"] == good["credit_code"]
    with pytest.raises(FieldErrors) as caught:
        records.record_company(book, good, username="mgr")
    assert fields_of(caught.value) == {"code", "credit_code"}


def test_add_sub_fund(book):
    fields = {"code": "SF9", "name": "甬江二期", "manager": "甬江资本", "size_cny": "1000000000",
              "vintage_year": "2025", "sector": "digital", "region_code": "330203"}
    with pytest.raises(FieldErrors) as caught:
        records.record_sub_fund(book, {**fields, "size_cny": "0", "sector": "space"}, username="mgr")
    assert fields_of(caught.value) == {"size_cny", "sector"}
    records.record_sub_fund(book, fields, username="mgr")
    assert audits(book, "sub_funds", "SF9")[0].after["size_cny"] == "1000000000.00"
    # the new sub-fund can now be committed to (target matches the mode)
    records.record_investment(book, {"id": "QY-SF9", "fund_code": "QY", "mode": "sub_fund", "target_code": "SF9",
                                     "date": "2025-11-01", "commitment_cny": "100000000"}, username="mgr")
    assert book.get(Investment, "QY-SF9").sub_fund_code == "SF9"


def test_roles_and_deactivation_are_audited(db):
    admin = make_user(db, "boss", "admin")
    user = make_user(db, "clerk", "viewer")
    records.change_role(db.session, user.id, "manager", username="boss")
    assert db.session.get(User, user.id).role == "manager"
    with pytest.raises(FieldErrors):
        records.change_role(db.session, admin.id, "viewer", username="boss")
    with pytest.raises(FieldErrors):
        records.deactivate_user(db.session, admin.id, username="boss")
    records.deactivate_user(db.session, user.id, username="boss")
    assert db.session.get(User, user.id).active is False
    entries = audits(db.session, "users", "clerk")
    assert [e.action for e in entries][-2:] == ["update", "deactivate"]
    assert all("password" not in str(e.after) and "password" not in str(e.before) for e in entries)


def test_dashboard_cache_follows_the_book_version(book):
    cache.clear()
    first = cache.fund_report(book, "QY", AS_OF)
    assert cache.fund_report(book, "QY", AS_OF) is first  # not recomputed: the book has not changed
    version = cache.book_version(book)
    booked_cash_flow(book, {"investment_id": "QY-D1", "date": "2025-11-01", "type": "distribution",
                            "amount_cny": "1000000"}, username="mgr")
    assert cache.book_version(book) != version
    second = cache.fund_report(book, "QY", AS_OF)
    assert second is not first
    assert second["summary"]["distributed"] - first["summary"]["distributed"] == Decimal("1000000.00")
    assert second == build_report(book, "QY", AS_OF)


def test_the_book_version_moves_for_book_writes_only(book):
    """A login lock, a user or a token is audited but is not the book: the cached reports
    stay; a new flow is the book: they go."""
    from portfolio.book.audit import audit
    from portfolio.book.unit import commit
    from portfolio.book.users import create_user

    cache.clear()
    first = cache.fund_report(book, "QY", AS_OF)
    version = cache.book_version(book)
    create_user(book, "clerk2", "viewer", "correct-horse-9", by="boss")
    audit(book, "system", "lock", "users", "clerk2", after={"failures": 10})  # as logins.authenticate locks
    commit(book)
    assert cache.book_version(book) == version
    assert cache.fund_report(book, "QY", AS_OF) is first
    records.record_cash_flow(book, {"investment_id": "QY-D1", "date": "2025-11-02", "type": "distribution",
                                    "amount_cny": "1"}, username="mgr")
    assert cache.book_version(book) != version
    assert cache.fund_report(book, "QY", AS_OF) is not first


def test_the_book_version_is_read_by_a_seek_per_kind_of_record_never_a_sort_of_the_log(book):
    """Every page reads the book version: its plan seeks the latest entry of each kind of book
    record in the index on (entity, id). `entity IN (…) ORDER BY id DESC LIMIT 1` had SQLite
    read and sort every book entry of the log (24 ms a page at 150,000 entries)."""
    from sqlalchemy import bindparam, text

    dialect = book.get_bind().dialect
    sql = str(cache._LATEST_ENTRY.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
    if dialect.name == "sqlite":
        plan = " | ".join(str(row[-1]) for row in book.execute(text("EXPLAIN QUERY PLAN " + sql)))
        assert "TEMP B-TREE" not in plan, plan
        assert plan.count("USING COVERING INDEX ix_audit_log_entity_id (entity=?)") == len(cache.BOOK_ENTITIES), plan
    else:
        plan = " | ".join(row[0] for row in book.execute(text("EXPLAIN " + sql)))
        assert "Sort" not in plan, plan
    latest = book.execute(text("SELECT id FROM audit_log WHERE entity IN :entities ORDER BY id DESC LIMIT 1")
                          .bindparams(bindparam("entities", expanding=True)),
                          {"entities": list(cache.BOOK_ENTITIES)}).scalar()
    assert book.execute(cache._LATEST_ENTRY).first().id == latest


def test_a_voided_record_frees_its_reference_and_its_valuation_date(book):
    flow = records.record_cash_flow(book, {"investment_id": "QY-SF1", "date": "2025-11-01", "type": "contribution",
                                           "amount_cny": "5", "ref": "PAY-77"}, username="mgr")
    records.void_cash_flow(book, flow.id, {"reason": "金额录错"}, username="mgr2")
    again = records.record_cash_flow(book, {"investment_id": "QY-SF1", "date": "2025-11-01", "type": "contribution",
                                            "amount_cny": "50", "ref": "PAY-77"}, username="mgr")
    assert again.ref == "PAY-77"
    # the example book already values QY-SF1 on 2025-09-30: a second one that day is refused
    with pytest.raises(FieldErrors) as caught:
        records.record_valuation(book, {"investment_id": "QY-SF1", "as_of": "2025-09-30",
                                        "fair_value_cny": "1", "method": "gp_nav"}, username="mgr")
    assert fields_of(caught.value) == {"as_of"}
    existing = book.execute(select(Valuation).where(Valuation.investment_id == "QY-SF1",
                                                    Valuation.as_of == dt.date(2025, 9, 30))).scalar_one()
    void_in_force(book, "valuation", existing.id, "GP 更正报告", username="mgr2")
    corrected = records.record_valuation(book, {"investment_id": "QY-SF1", "as_of": "2025-09-30",
                                                "fair_value_cny": "305000000", "method": "gp_nav"}, username="mgr")
    assert corrected.fair_value_cny == Decimal("305000000.00")


def test_a_new_release_does_not_serve_reports_stored_by_the_old_one(book, monkeypatch):
    """The shared report cache and the jobs are keyed by the book version, which carries the
    code's fingerprint: after a deploy that changes how a report is rendered, the stored
    report of the same book is not served again."""
    stored = b"%PDF rendered by the old release"
    version = cache.book_version(book)
    cache.shared_put(book, "pdf", "QY", "2025Q4", version, stored)
    assert cache.shared(book, "pdf", "QY", "2025Q4", lambda: b"new") == stored
    monkeypatch.setattr(cache, "code_version", lambda: "another-release")
    assert cache.book_version(book) != version and cache.book_version(book).endswith("-another-release")
    assert cache.shared(book, "pdf", "QY", "2025Q4", lambda: b"new") == b"new"


def test_imported_flows_count_as_approved_and_an_imported_change_leaves_a_draft_a_draft(book, tmp_path):
    """An import is its own check (import-book's user, a staged upload's applier): its new
    flows count at once. A draft it matches and changes is not approved by it: it stays a
    draft, now of the uploader's making, for another person."""
    import shutil

    draft = records.record_cash_flow(book, {"investment_id": "QY-SF1", "date": "2025-11-01", "type": "contribution",
                                            "amount_cny": "3000000", "ref": "CALL-9", "note": "草稿"}, username="mgr")
    paid = build_report(book, "QY", AS_OF)["summary"]["paid_in"]
    folder = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, folder)
    flows = folder / "cash_flows.csv"
    header, *rows = flows.read_text(encoding="utf-8").splitlines()
    flows.write_text("\n".join([header + ",ref", *(row + "," for row in rows),
                                "QY-SF1,2025-11-01,contribution,3000000,导入改了备注,CALL-9",
                                "QY-SF1,2025-11-05,contribution,1000000,导入的新缴款,CALL-10"]) + "\n",
                     encoding="utf-8")
    result = import_book(book, folder, username="importer")
    assert result.ok, result.errors
    assert result.counts["cash_flows"] == {"new": 1, "unchanged": len(rows), "changed": 1}
    book.expire_all()
    changed = book.get(CashFlow, draft.id)
    assert (changed.note, changed.entered_by, changed.approved_at) == ("导入改了备注", "importer", None)
    new = book.execute(select(CashFlow).where(CashFlow.ref == "CALL-10")).scalar_one()
    assert (new.entered_by, new.approved_by) == ("importer", "importer") and new.approved_at is not None
    assert build_report(book, "QY", AS_OF)["summary"]["paid_in"] - paid == Decimal("1000000.00")
    with pytest.raises(FieldErrors):  # the uploader is now its maker
        records.approve_cash_flow(book, draft.id, username="importer")
    records.approve_cash_flow(book, draft.id, username="mgr")
    assert build_report(book, "QY", AS_OF)["summary"]["paid_in"] - paid == Decimal("4000000.00")
