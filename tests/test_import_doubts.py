"""Sanity checks on the import side (issue 12, Deliver 7: "the form and the import warn and
require an explicit confirmation with a reason, which is audited"), on SQLite and PostgreSQL.

The rules are the form's (portfolio/book/sanity.py), applied to the book as the import would
leave it, to the rows the import adds or changes. On the example book (spec/example/book):
QY-CO1 has a commitment of 30,000,000 fully paid on 2024-01-15 and an approved NAV of
24,000,000 on 2025-06-30; QY-D1 a commitment of 100,000,000 fully paid.
"""
from __future__ import annotations

import collections
import datetime as dt
import io
import json
import shutil
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from models import AuditEntry, CashFlow, ChangeSet, Investment, Valuation
from portfolio.book import sanity
from portfolio.errors import FieldErrors
from portfolio.interchange.importing import import_book, plan_import
from portfolio.interchange.staging import apply_change_set, doubts_of, stage_book
from portfolio.interchange.synthetic import generate_heavy_book
from tests.conftest import EXAMPLE_BOOK, login, make_user
from tests.test_staged_imports import edited, exported

FUTURE = (sanity.today() + dt.timedelta(days=10)).isoformat()
# the three doubts, each a row appended to the example book's export
DOUBTED_ROWS = [
    ("cash_flows", ["QY-SF1", FUTURE, "distribution", 1000, "提前记账", None], "晚于今天"),
    ("cash_flows", ["QY-D1", "2025-12-01", "contribution", 5000, "超额出资", None], "将超过认缴额 10,000 万元"),
    ("cash_flows", ["QY-CO1", "2025-07-01", "distribution", 24000000.01, "大额分配", None],
     "大于净值加出资 2,400 万元"),
    ("valuations", ["QY-D1", FUTURE, 170000000, "comparables"], "估值基准日"),
]


@pytest.fixture
def book(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    return db.session


def _with(data: bytes, *rows) -> bytes:
    for sheet, row, _doubt in rows:
        data = edited(data, sheet, {}, append=row)
    return data


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


@pytest.mark.parametrize("row", DOUBTED_ROWS, ids=["future-flow", "beyond-commitment", "above-nav", "future-nav"])
def test_a_staged_row_that_trips_a_check_is_shown_and_applies_only_with_a_reason(book, row):
    sheet, values, doubt = row
    change_set = stage_book(book, io.BytesIO(_with(exported(book), row)), username="manager1",
                            filename="b.xlsx").change_set
    doubts = doubts_of(change_set)
    # the preview says where and what: the sheet, the workbook's row (header = row 1) and the doubt
    last_row = 1 + _count(book, CashFlow if sheet == "cash_flows" else Valuation) + 1
    assert [(d["sheet"], d["row"]) for d in doubts] == [(sheet, last_row)]
    assert doubt in doubts[0]["doubts"][0]
    flows, valuations = _count(book, CashFlow), _count(book, Valuation)
    with pytest.raises(sanity.Unconfirmed) as refused:
        apply_change_set(book, change_set.id, username="manager2")
    assert doubt in refused.value.errors[0][1] and refused.value.errors[0][0] == "confirm_reason"
    assert (_count(book, CashFlow), _count(book, Valuation)) == (flows, valuations)  # nothing written
    assert book.get(ChangeSet, change_set.id).status == "pending"

    apply_change_set(book, change_set.id, username="manager2", confirm_reason="已核对原始凭证")
    assert _count(book, CashFlow) + _count(book, Valuation) == flows + valuations + 1
    cs = book.get(ChangeSet, change_set.id)
    applied = book.execute(select(AuditEntry).where(AuditEntry.action == "apply",
                                                    AuditEntry.entity_key == str(cs.id))).scalar_one()
    assert "已核对原始凭证" in applied.reason and doubt in applied.after["confirmed_doubts"][0]
    # the row itself, in 修改历史: the reason and the doubt it answered
    entry = book.execute(select(AuditEntry).where(AuditEntry.batch == cs.batch, AuditEntry.action == "import",
                                                  AuditEntry.entity == sheet)).scalar_one()
    assert entry.reason == "已核对原始凭证" and doubt in entry.after["confirmed_doubts"][0]


def test_rows_of_one_book_add_up(db, tmp_path):
    """Two new contributions, each within QY-SF1's commitment, together beyond it: the check
    sees the book as the import leaves it, not one row at a time."""
    plain = plan_import(db.session, EXAMPLE_BOOK, username="u")
    assert plain.ok and plain.doubts == []  # the example book has nothing to doubt
    db.session.rollback()
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    folder = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, folder)
    with open(folder / "cash_flows.csv", "a", encoding="utf-8") as fh:
        fh.write("QY-SF1,2025-12-01,contribution,60000000,第四期\nQY-SF1,2025-12-02,contribution,60000000,第五期\n")
    # QY-SF1: 500,000,000 committed, 400,000,000 paid in the book; each 60,000,000 fits, both do not
    result = plan_import(db.session, folder, username="u")
    assert result.ok
    assert [(d["sheet"], d["row"]) for d in result.doubts] == [("cash_flows", 9), ("cash_flows", 10)]
    assert all("出资合计 52,000 万元 将超过认缴额 50,000 万元" in d["doubts"][0] for d in result.doubts)
    db.session.rollback()
    # an export re-imported unchanged asks nothing, even where the book already has a doubt
    assert import_book(db.session, folder, username="u", confirm_reason="两期增资").ok
    again = plan_import(db.session, folder, username="u")
    assert again.ok and again.doubts == []
    db.session.rollback()


def test_the_direct_import_lists_doubted_rows_and_audits_them_with_the_reason_given_or_none(db, runner, tmp_path):
    """A book of interchange.md imports on the command line as it is: a row a form would ask
    about (here a distribution dated after today) goes in, named by sheet and row on the
    output, its audit entry keeping the doubt and --reason, or the command's own words where
    none was given. (It had been refused without --reason; but the spec's books may hold
    contributions beyond the commitment, which metrics.md's unfunded = max(…, 0) expects, and
    exits above the last NAV.) --strict refuses it unless a reason is given."""
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    folder = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, folder)
    with open(folder / "cash_flows.csv", "a", encoding="utf-8") as fh:
        fh.write(f"QY-SF1,{FUTURE},distribution,1000,提前记账\n")
    flows = _count(db.session, CashFlow)
    refused = runner.invoke(args=["import-book", str(folder), "--user", "ops", "--strict"])
    # the refusal names the sheet in the reader's words (a doubt is found after the files are
    # read, without their written names: 现金流, the sheet's Chinese name, as interchange.md has it)
    assert refused.exit_code == 1 and "现金流 第9行" in refused.output and "晚于今天" in refused.output
    assert "--reason" in refused.output and _count(db.session, CashFlow) == flows

    done = runner.invoke(args=["import-book", str(folder), "--user", "ops"])
    assert done.exit_code == 0, done.output
    # the doubt names its sheet in the reader's words, as the refusal and the counts do
    assert "核对提示 现金流 第9行" in done.output and "晚于今天" in done.output
    assert "cash_flows" not in done.output
    assert "命令行直接导入，操作员未另附理由" in done.output
    assert _count(db.session, CashFlow) == flows + 1
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "cash_flows",
                                                        AuditEntry.username == "ops")).scalar_one()
    assert entry.reason == "命令行直接导入，操作员未另附理由" and "晚于今天" in entry.after["confirmed_doubts"][0]

    with open(folder / "cash_flows.csv", "a", encoding="utf-8") as fh:
        fh.write(f"QY-SF1,{FUTURE},distribution,2000,提前记账\n")
    given = runner.invoke(args=["import-book", str(folder), "--user", "ops2", "--strict", "--reason", "付款通知已到"])
    assert given.exit_code == 0, given.output
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "cash_flows",
                                                        AuditEntry.username == "ops2")).scalar_one()
    assert entry.reason == "付款通知已到" and "晚于今天" in entry.after["confirmed_doubts"][0]


def test_a_doubt_names_its_sheet_in_english_refused_listed_staged_and_unconfirmed(book, runner, tmp_path):
    """Every place a doubt is shown in English names its sheet by its English name (Cash flow,
    as the counts do), never by its code: the refusal of --strict, the list after a direct
    import, a staged change set's list and the apply's refusal without a reason."""
    en = {"PORTFOLIO_LANG": "en"}
    folder = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, folder)
    with open(folder / "cash_flows.csv", "a", encoding="utf-8") as fh:
        fh.write(f"QY-SF1,{FUTURE},distribution,1000,early\n")
    refused = runner.invoke(args=["import-book", str(folder), "--user", "ops", "--strict"], env=en)
    assert refused.exit_code == 1 and "Cash flow row 9" in refused.output, refused.output
    assert "cash_flows" not in refused.output
    done = runner.invoke(args=["import-book", str(folder), "--user", "ops"], env=en)
    assert done.exit_code == 0 and "Cash flow row 9" in done.output, done.output
    assert "cash_flows" not in done.output

    path = tmp_path / "b.xlsx"
    path.write_bytes(_with(exported(book), DOUBTED_ROWS[1]))
    staged = runner.invoke(args=["import-book", str(path), "--stage", "--user", "manager1"], env=en)
    assert staged.exit_code == 0 and "Cash flow row" in staged.output, staged.output
    assert "cash_flows" not in staged.output
    cs_id = book.scalar(select(ChangeSet.id))
    unconfirmed = runner.invoke(args=["apply-change-set", str(cs_id), "--user", "manager2"], env=en)
    assert unconfirmed.exit_code != 0 and "Cash flow row" in unconfirmed.output, unconfirmed.output
    assert "cash_flows" not in unconfirmed.output
    chinese = runner.invoke(args=["apply-change-set", str(cs_id), "--user", "manager2"])
    assert "现金流 第" in chinese.output and "cash_flows" not in chinese.output, chinese.output


def test_the_command_line_stages_shows_and_applies_with_a_reason(book, runner, tmp_path):
    path = tmp_path / "b.xlsx"
    path.write_bytes(_with(exported(book), DOUBTED_ROWS[1]))
    staged = runner.invoke(args=["import-book", str(path), "--stage", "--user", "manager1"])
    assert staged.exit_code == 0 and "将超过认缴额" in staged.output
    cs_id = book.scalar(select(ChangeSet.id))
    refused = runner.invoke(args=["apply-change-set", str(cs_id), "--user", "manager2"])
    assert refused.exit_code != 0 and "请核对" in refused.output
    assert book.get(ChangeSet, cs_id).status == "pending"
    applied = runner.invoke(args=["apply-change-set", str(cs_id), "--user", "manager2", "--reason", "增资协议"])
    assert applied.exit_code == 0, applied.output
    book.expire_all()
    assert book.get(ChangeSet, cs_id).status == "applied"


def test_the_preview_shows_the_doubts_and_the_apply_asks_for_the_box_and_a_reason(app, db, book):
    make_user(db, "manager1", "manager")
    make_user(db, "manager2", "manager")
    uploader, checker = app.test_client(), app.test_client()
    login(uploader, "manager1")
    login(checker, "manager2")
    data = _with(uploader.get("/book/download").data, DOUBTED_ROWS[2])
    response = uploader.post("/book/upload", data={"book": (io.BytesIO(data), "b.xlsx")},
                             content_type="multipart/form-data")
    cs_id = int(response.headers["Location"].rstrip("/").split("/")[-1])
    page = checker.get(f"/book/change-sets/{cs_id}").get_data(as_text=True)
    assert 'id="doubts"' in page and 'data-doubt="cash_flows-9"' in page and "大于净值加出资" in page
    assert 'name="confirmed"' in page and 'name="confirm_reason"' in page
    url = f"/book/change-sets/{cs_id}/apply"
    for form in ({}, {"confirm_reason": "有理由没勾选"}, {"confirmed": "y"}):
        checker.post(url, data=form)
        db.session.expire_all()
        assert db.session.get(ChangeSet, cs_id).status == "pending", form
    checker.post(url, data={"confirmed": "y", "confirm_reason": "清算分配，含未估值收益"})
    db.session.expire_all()
    assert db.session.get(ChangeSet, cs_id).status == "applied"
    assert db.session.scalar(select(func.count()).select_from(CashFlow).where(
        CashFlow.amount_cny == Decimal("24000000.01"))) == 1
    history = checker.get(f"/history?change_set={cs_id}").get_data(as_text=True)
    assert "清算分配，含未估值收益" in history


def test_a_blank_reason_is_no_reason(book):
    change_set = stage_book(book, io.BytesIO(_with(exported(book), DOUBTED_ROWS[1])), username="manager1",
                            filename="b.xlsx").change_set
    with pytest.raises(FieldErrors):
        apply_change_set(book, change_set.id, username="manager2", confirm_reason="   ")
    assert book.get(ChangeSet, change_set.id).status == "pending"


@pytest.mark.parametrize("seed", [3, 11])
def test_the_import_asks_of_each_row_what_the_form_asks(db, tmp_path, seed):
    """The import's doubts (planned set-wise over the whole book) are, row for row, the form's
    (sanity.flow_doubts over the rows in the database, the row itself left out), on a generated
    book whose contributions run past commitments and whose distributions pass NAVs, with
    one flow and one valuation dated after today."""
    folder = generate_heavy_book(tmp_path / "book", investments=30, flows=400, valuations=120, holdings=80, seed=seed)
    ids = [line.split(",")[0] for line in (folder / "investments.csv").read_text(encoding="utf-8").splitlines()[1:]]
    first = ids[0]
    with open(folder / "cash_flows.csv", "a", encoding="utf-8") as fh:
        fh.write(f"{first},{FUTURE},distribution,1000.5,提前记账,\n")
        for inv in ids[1:6]:  # far above any NAV, and a fen
            fh.write(f"{inv},2025-12-31,distribution,900000000000,大额分配,\n{inv},2025-12-30,distribution,0.01,,\n")
    with open(folder / "valuations.csv", "a", encoding="utf-8") as fh:
        fh.write(f"{first},{FUTURE},123.45,comparables\n")
    planned = plan_import(db.session, folder, username="u")
    assert planned.ok
    db.session.rollback()
    assert import_book(db.session, folder, username="u", confirm_reason="生成的账本").ok
    asked = {(d["sheet"], d["match"]): [(m.key, str(m)) for m in d["doubts"]] for d in planned.doubts}
    assert len(asked) == len(planned.doubts)  # one entry per row

    form = {}
    investments = {i.id: i for i in db.session.scalars(select(Investment))}
    for flow in db.session.scalars(select(CashFlow)):
        doubts = sanity.flow_doubts(db.session, investments[flow.investment_id], flow.date, flow.type,
                                    flow.amount_cny, excluding=flow.id)
        if doubts:
            form[("cash_flows", f"{flow.investment_id}/{flow.date}/{flow.type}/{round(flow.amount_cny * 100)}")] = \
                [(m.key, str(m)) for m in doubts]
    for valuation in db.session.scalars(select(Valuation)):
        doubts = sanity.valuation_doubts(valuation.as_of)
        if doubts:
            form[("valuations", f"{valuation.investment_id}/{valuation.as_of}")] = [(m.key, str(m)) for m in doubts]
    kinds = collections.Counter(key for doubts in form.values() for key, _text in doubts)
    assert len(form) > 10 and kinds["distribution_over_nav"] + kinds["distribution_over_no_nav"] >= 5 \
        and kinds["over_commitment"] and kinds["future"] >= 2, kinds  # every kind of check, more than once
    assert asked == form


def test_a_change_set_with_more_doubted_rows_than_a_page_lists_counts_them_all(app, db, tmp_path):
    """The preview lists the first rows (web.change_sets.SHOWN) and says how many there are;
    the apply still asks for the box and a reason."""
    from portfolio.interchange.staging import KEPT, doubt_count
    from web.change_sets import SHOWN

    folder = generate_heavy_book(tmp_path / "book", investments=8, flows=900, valuations=40, holdings=20, seed=5)
    change_set = stage_book(db.session, folder, username="manager1").change_set
    count = doubt_count(change_set)
    assert count > KEPT >= SHOWN  # the change set keeps the first KEPT, and counts them all
    assert len(doubts_of(change_set)) == KEPT
    assert len(doubts_of(change_set, limit=SHOWN)) == SHOWN and doubts_of(change_set, limit=3) == doubts_of(change_set)[:3]
    make_user(db, "manager2", "manager")
    checker = app.test_client()
    login(checker, "manager2")
    page = checker.get(f"/book/change-sets/{change_set.id}").get_data(as_text=True)
    assert f"须核对：{count} 行" in page and page.count("data-doubt=") == SHOWN and f"仅列出前 {SHOWN} 行" in page
    checker.post(f"/book/change-sets/{change_set.id}/apply", data={"confirm_reason": "没勾选"})
    db.session.expire_all()
    assert db.session.get(ChangeSet, change_set.id).status == "pending"


def test_an_exit_valued_nil_on_its_day_is_weighed_against_the_nav_before_it(db, tmp_path):
    """interchange.md: a valuation is "the value of our holding on that date, after the flows of
    that date". QY-CO1 (NAV 24,000,000 on 2025-06-30) sold for 20,000,000 on 2025-12-31 and
    valued nil (exited) the same day: the distribution is within the NAV before it, nothing to
    ask. The nil NAV of the day had been taken as the NAV before the sale: a doubt on every
    exit booked with its exited valuation. The form weighs it the same way."""
    folder = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, folder)
    with open(folder / "cash_flows.csv", "a", encoding="utf-8") as fh:
        fh.write("QY-CO1,2025-12-31,distribution,20000000,股权转让\n")
    with open(folder / "valuations.csv", "a", encoding="utf-8") as fh:
        fh.write("QY-CO1,2025-12-31,0,exited\n")
    planned = plan_import(db.session, folder, username="u")
    assert planned.ok and planned.doubts == []
    db.session.rollback()
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    with open(folder / "valuations.csv", "a", encoding="utf-8") as fh:
        fh.write("QY-CO1,2025-12-30,1000,comparables\n")  # the day before: that NAV is the one before
    planned = plan_import(db.session, folder, username="u")
    assert [d["doubts"][0].key for d in planned.doubts] == ["distribution_over_nav"]
    db.session.rollback()
    # the form, the valuation of the day already in the book
    investment = db.session.get(Investment, "QY-CO1")
    db.session.add(Valuation(investment_id="QY-CO1", as_of=dt.date(2025, 12, 31), fair_value_cny=Decimal(0),
                             method="exited", entered_by="a", approved_by="b", approved_at=dt.datetime(2026, 1, 5)))
    db.session.commit()
    assert sanity.flow_doubts(db.session, investment, dt.date(2025, 12, 31), "distribution", Decimal("20000000")) == []


def test_a_doubted_cash_flow_is_described_in_words_on_the_command_line(book, runner, tmp_path):
    """A doubted row is described as the change-set screen describes it: its flow type by its
    name in the reader's language and its amount in 元 (it had read
    'QY-SF1/2026-12-16/distribution/1000.00', the type's code), after a direct import, in a
    staged change set's list and in the apply's refusal without a reason, in both languages."""
    en = {"PORTFOLIO_LANG": "en"}
    folder = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, folder)
    with open(folder / "cash_flows.csv", "a", encoding="utf-8") as fh:
        fh.write(f"QY-SF1,{FUTURE},distribution,1000,提前记账\n")
    done = runner.invoke(args=["import-book", str(folder), "--user", "ops"])
    assert done.exit_code == 0, done.output
    assert f"（QY-SF1 · {FUTURE} · 分配 · 1,000.00 元）" in done.output, done.output
    assert "distribution" not in done.output and "/" not in done.output.split("核对提示", 1)[1].splitlines()[0]
    with open(folder / "cash_flows.csv", "a", encoding="utf-8") as fh:
        fh.write(f"QY-SF1,{FUTURE},distribution,2000,early\n")
    english = runner.invoke(args=["import-book", str(folder), "--user", "ops"], env=en)
    assert english.exit_code == 0, english.output
    assert f"(QY-SF1 · {FUTURE} · Distribution · 2,000.00 CNY)" in english.output, english.output
    assert "/distribution/" not in english.output

    path = tmp_path / "b.xlsx"
    path.write_bytes(_with(exported(book), DOUBTED_ROWS[1]))
    for env, words in (({}, "QY-D1 · 2025-12-01 · 出资 · 5,000.00 元"),
                       (en, "QY-D1 · 2025-12-01 · Contribution · 5,000.00 CNY")):
        staged = runner.invoke(args=["import-book", str(path), "--stage", "--user", "manager1"], env=env)
        assert staged.exit_code == 0 and words in staged.output, staged.output
        assert "/contribution/" not in staged.output
        cs_id = book.scalar(select(func.max(ChangeSet.id)))
        refused = runner.invoke(args=["apply-change-set", str(cs_id), "--user", "manager2"], env=env)
        assert refused.exit_code != 0 and words in refused.output, refused.output
        assert "/contribution/" not in refused.output
        book.get(ChangeSet, cs_id).status = "rejected"
        book.commit()


SCREEN_FLOW = {"investment_id": "QY-SF1", "date": "2025-12-01", "type": "contribution", "amount_cny": "1000"}


def test_a_flow_typed_on_screen_then_imported_with_its_reference_is_asked_about(book, runner, tmp_path):
    """A flow typed on screen has no reference; the same payment in a workbook with its notice's
    number matches nothing (flows match by reference first, interchange.md) and was booked a
    second time without a word. The import asks what the form asks (sanity.duplicate_doubt):
    a flow with the same investment, date, type and amount, one of the two without a reference."""
    from tests.conftest import booked_cash_flow

    typed = booked_cash_flow(book, SCREEN_FLOW)
    data = edited(exported(book), "cash_flows", {}, append=["QY-SF1", "2025-12-01", "contribution", 1000, "第四期",
                                                             "CALL-4"])
    last_row = 1 + _count(book, CashFlow) + 1
    planned = plan_import(book, io.BytesIO(data), username="u", filename="b.xlsx")
    book.rollback()
    assert planned.ok and [(d["sheet"], d["row"], d["key"]) for d in planned.doubts] == \
        [("cash_flows", last_row, "QY-SF1/2025-12-01/contribution/1000.00")]
    said = planned.doubts[0]["doubts"]
    assert [m.key for m in said] == ["same_flow_unreferenced"] and "（未填凭证号）" in said[0]
    assert f"#{typed.id}" not in said[0] and "可能重复录入" in said[0]
    assert "(entered without a reference)" in said[0].shown("en")

    # staged: the change set lists it by sheet and row; the apply asks for a reason
    change_set = stage_book(book, io.BytesIO(data), username="manager1", filename="b.xlsx").change_set
    assert [(d["sheet"], d["row"]) for d in doubts_of(change_set)] == [("cash_flows", last_row)]
    assert "可能重复录入" in doubts_of(change_set)[0]["doubts"][0]
    flows = _count(book, CashFlow)
    with pytest.raises(sanity.Unconfirmed) as refused:
        apply_change_set(book, change_set.id, username="manager2")
    assert "可能重复录入" in refused.value.errors[0][1] and _count(book, CashFlow) == flows
    book.get(ChangeSet, change_set.id).status = "rejected"
    book.commit()

    # the command line: as every doubt, --strict refuses it without a reason; else listed and imported
    path = tmp_path / "b.xlsx"
    path.write_bytes(data)
    strict = runner.invoke(args=["import-book", str(path), "--user", "ops", "--strict"])
    assert strict.exit_code == 1 and f"现金流 第{last_row}行" in strict.output and "可能重复录入" in strict.output
    assert _count(book, CashFlow) == flows
    done = runner.invoke(args=["import-book", str(path), "--user", "ops"], env={"PORTFOLIO_LANG": "en"})
    assert done.exit_code == 0 and f"Cash flow row {last_row}" in done.output, done.output
    assert "entered twice" in done.output and _count(book, CashFlow) == flows + 1


@pytest.mark.parametrize("theirs, mine", [(None, "CALL-4"), ("CALL-4", None), (None, None)],
                         ids=["typed-then-referenced", "referenced-then-typed", "neither"])
def test_a_copy_is_asked_whichever_of_the_two_lacks_the_reference(book, theirs, mine):
    """The book already holds one flow with this key, which the workbook claims with a row of a
    different reference (or none): the second row, new, is a copy of it."""
    from tests.conftest import booked_cash_flow

    booked_cash_flow(book, {**SCREEN_FLOW, "ref": theirs})
    data = exported(book)
    data = edited(data, "cash_flows", {}, append=["QY-SF1", "2025-12-01", "contribution", 1000, "又一笔", mine])
    planned = plan_import(book, io.BytesIO(data), username="u", filename="b.xlsx")
    book.rollback()
    said = [d["doubts"][0] for d in planned.doubts]
    if theirs:  # the flow the book has named by its reference, as the investment's page shows it
        assert [m.key for m in said] == ["same_flow_ref"] and f"（凭证号 {theirs}）" in said[0]
        assert f"(reference {theirs})" in said[0].shown("en")
    else:
        assert [m.key for m in said] == ["same_flow_unreferenced"] and "（未填凭证号）" in said[0]


def test_no_copy_is_asked_of_two_references_or_a_reimported_export(book):
    from tests.conftest import booked_cash_flow

    booked_cash_flow(book, {**SCREEN_FLOW, "ref": "CALL-3"})
    booked_cash_flow(book, {**SCREEN_FLOW, "date": "2025-12-02"})  # typed, no reference
    data = exported(book)
    # two notices of their own: two payments
    two = edited(data, "cash_flows", {}, append=["QY-SF1", "2025-12-01", "contribution", 1000, "", "CALL-4"])
    planned = plan_import(book, io.BytesIO(two), username="u", filename="b.xlsx")
    book.rollback()
    assert planned.ok and planned.doubts == [] and planned.counts["cash_flows"]["new"] == 1
    # the export again: every flow matches (by reference, else by date, type and amount)
    again = plan_import(book, io.BytesIO(data), username="u", filename="b.xlsx")
    book.rollback()
    assert again.ok and again.doubts == [] and again.counts["cash_flows"]["new"] == 0


def test_no_copy_is_asked_of_a_book_imported_into_an_empty_database(db, tmp_path):
    """Nothing in force to be a copy of: the book's own rows are not weighed against each other
    (the same payment with and without its reference, and two alike without)."""
    folder = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, folder)
    lines = (folder / "cash_flows.csv").read_text(encoding="utf-8").splitlines()
    rows = [lines[0] + ",ref"] + [line + "," for line in lines[1:]]
    rows += ["QY-SF1,2025-12-01,contribution,1000,第四期,CALL-4", "QY-SF1,2025-12-01,contribution,1000,第四期,",
             "QY-SF1,2025-12-02,contribution,1000,,", "QY-SF1,2025-12-02,contribution,1000,,"]
    (folder / "cash_flows.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    planned = plan_import(db.session, folder, username="u")
    db.session.rollback()
    assert planned.ok and planned.doubts == [] and planned.counts["cash_flows"]["new"] == len(rows) - 1


def test_a_flow_the_book_corrects_into_a_copy_is_asked_about_and_a_note_is_not(book):
    """As the form asks of a correction: a flow matched by its reference whose amount the book
    changes to that of a flow typed without one, the same day, is a copy; a flow whose note
    alone the book changes was answered when it came in."""
    from tests.conftest import booked_cash_flow

    booked_cash_flow(book, {**SCREEN_FLOW, "amount_cny": "2000", "ref": "CALL-3"})
    booked_cash_flow(book, SCREEN_FLOW)
    booked_cash_flow(book, {**SCREEN_FLOW, "note": "同一笔", "confirm_reason": "两笔"})
    data = exported(book)
    corrected = edited(data, "cash_flows", {"ref": "CALL-3"}, {"amount_cny": 1000})
    planned = plan_import(book, io.BytesIO(corrected), username="u", filename="b.xlsx")
    book.rollback()
    assert [d["doubts"][0].key for d in planned.doubts] == ["same_flow_unreferenced"]
    noted = edited(data, "cash_flows", {"note": "同一笔"}, {"note": "同一笔，已核对"})
    planned = plan_import(book, io.BytesIO(noted), username="u", filename="b.xlsx")
    book.rollback()
    assert planned.ok and planned.counts["cash_flows"]["changed"] == 1 and planned.doubts == []


# the column of interchange.md each doubt of DOUBTED_ROWS is about
DOUBTED_COLUMNS = ["date", "amount_cny", "amount_cny", "as_of"]


@pytest.mark.parametrize("row, column", list(zip(DOUBTED_ROWS, DOUBTED_COLUMNS)),
                         ids=["future-flow", "beyond-commitment", "above-nav", "future-nav"])
def test_a_doubt_names_the_column_it_is_about_planned_and_staged(app, db, book, row, column):
    """Anything said about input names its sheet, row and column: a date after today its date's
    column, contributions beyond the commitment and a distribution beyond the NAV the amount's.
    They had named the sheet and row only: the change-set screen had no column."""
    sheet = row[0]
    data = _with(exported(book), row)
    planned = plan_import(book, io.BytesIO(data), username="u", filename="b.xlsx")
    book.rollback()
    assert [d["columns"] for d in planned.doubts] == [[column]]
    change_set = stage_book(book, io.BytesIO(data), username="manager1", filename="b.xlsx").change_set
    assert doubts_of(change_set)[0]["columns"] == [column]
    make_user(db, "manager2", "manager")
    checker = app.test_client()
    login(checker, "manager2")
    header = {"date": ("日期", "Date"), "amount_cny": ("金额", "Amount (CNY)"), "as_of": ("估值基准日", "As of")}[column]
    for lang, name in zip(("zh", "en"), header):
        checker.get(f"/lang/{lang}")
        page = checker.get(f"/book/change-sets/{change_set.id}").get_data(as_text=True)
        cells = page.split('id="doubts"', 1)[1].split("</section>", 1)[0]
        assert f'data-doubt="{sheet}-' in cells and f'<td class="doubt-columns">{name}<br></td>' in cells, (lang, cells)


def test_a_copy_names_the_amount_column(book):
    from tests.conftest import booked_cash_flow

    booked_cash_flow(book, SCREEN_FLOW)
    data = edited(exported(book), "cash_flows", {}, append=["QY-SF1", "2025-12-01", "contribution", 1000, "", "CALL-4"])
    planned = plan_import(book, io.BytesIO(data), username="u", filename="b.xlsx")
    book.rollback()
    assert [(d["doubts"][0].key, d["columns"]) for d in planned.doubts] == [("same_flow_unreferenced", ["amount_cny"])]


def test_the_command_line_names_each_doubts_column_listed_and_refused(book, runner, tmp_path):
    """import-book lists a doubted row by sheet, row and column (in words, as the change-set
    screen names it: its header in Chinese, its English name in English), one line for each
    column its doubts are about; --strict refuses it with the column filled in and the cell's
    value (it had been empty, the value the row's key with the flow type's code; then its code in
    English: 'amount_cny')."""
    en = {"PORTFOLIO_LANG": "en"}
    folder = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, folder)
    with open(folder / "cash_flows.csv", "a", encoding="utf-8") as fh:
        # after today, and beyond QY-D1's commitment (fully paid): the date's doubt and the amount's
        fh.write(f"QY-D1,{FUTURE},contribution,5000,提前出资\n")
    refused = runner.invoke(args=["import-book", str(folder), "--user", "ops", "--strict"])
    assert refused.exit_code == 1
    assert f"现金流 第9行 日期: {FUTURE} — 请核对：日期 {FUTURE} 晚于今天" in refused.output, refused.output
    assert "现金流 第9行 金额: 5000.00 — 请核对：出资合计" in refused.output, refused.output
    assert "contribution" not in refused.output
    english = runner.invoke(args=["import-book", str(folder), "--user", "ops", "--strict"], env=en)
    assert f"Cash flow row 9 Date: {FUTURE} — " in english.output, english.output
    assert "Cash flow row 9 Amount (CNY): 5000.00 — " in english.output, english.output
    assert "amount_cny" not in english.output and " date:" not in english.output

    done = runner.invoke(args=["import-book", str(folder), "--user", "ops"])
    assert done.exit_code == 0, done.output
    assert f"核对提示 现金流 第9行 日期（QY-D1 · {FUTURE} · 出资 · 5,000.00 元）：" in done.output, done.output
    assert f"核对提示 现金流 第9行 金额（QY-D1 · {FUTURE} · 出资 · 5,000.00 元）：出资合计" in done.output
    assert "1 行核对提示已记入审计" in done.output


def test_the_staged_change_set_and_its_refusal_name_the_column_and_one_kept_without_it_is_shown(app, db, book, runner,
                                                                                                 tmp_path):
    """The stage's list and the apply's refusal name the column; a change set staged before the
    columns were kept (its stored doubts without them) is listed as before, without one, and its
    screen shows a dash."""
    path = tmp_path / "b.xlsx"
    path.write_bytes(_with(exported(book), DOUBTED_ROWS[1]))
    staged = runner.invoke(args=["import-book", str(path), "--stage", "--user", "manager1"])
    assert staged.exit_code == 0 and "待核对 现金流 第" in staged.output and " 金额（QY-D1 · " in staged.output, \
        staged.output
    cs_id = book.scalar(select(ChangeSet.id))
    refused = runner.invoke(args=["apply-change-set", str(cs_id), "--user", "manager2"],
                            env={"PORTFOLIO_LANG": "en"})
    assert refused.exit_code != 0 and " Amount (CNY) (QY-D1 · " in refused.output, refused.output

    change_set = book.get(ChangeSet, cs_id)
    preview = json.loads(json.dumps(change_set.preview))
    for kept in preview["cash_flows"]["doubts"]:
        del kept["columns"]
    change_set.preview = preview
    book.commit()
    from portfolio.interchange.doubts import described

    lines = [line.shown("zh") for d in doubts_of(book.get(ChangeSet, cs_id)) for line in described(d)]
    assert len(lines) == 1 and lines[0].startswith("现金流 第9行（QY-D1 · "), lines
    # the apply checks the book again now: its refusal names the column all the same
    again = runner.invoke(args=["apply-change-set", str(cs_id), "--user", "manager2"])
    assert again.exit_code != 0 and "现金流 第9行 金额（QY-D1 · " in again.output, again.output
    make_user(db, "manager2", "manager")
    checker = app.test_client()
    login(checker, "manager2")
    response = checker.get(f"/book/change-sets/{cs_id}")
    assert response.status_code == 200
    assert '<td class="doubt-columns">—</td>' in response.get_data(as_text=True)


def test_the_change_sets_words_on_its_doubts_name_a_copy_too(app, db, book):
    """The change-set screen says what its doubted rows are; it named a date after today,
    contributions beyond the commitment and a distribution beyond the NAV, not a copy of a flow
    the book has (same_flow), which it lists among them."""
    from tests.conftest import booked_cash_flow

    booked_cash_flow(book, SCREEN_FLOW)
    data = edited(exported(book), "cash_flows", {}, append=["QY-SF1", "2025-12-01", "contribution", 1000, "", "CALL-4"])
    change_set = stage_book(book, io.BytesIO(data), username="manager1", filename="b.xlsx").change_set
    make_user(db, "manager2", "manager")
    checker = app.test_client()
    login(checker, "manager2")
    for lang, words in (("zh", "或与台账中已有的现金流同日、同类型、同金额（其中一笔没有凭证号）"),
                        ("en", "or have the same date, type and amount as a cash flow the book already has")):
        checker.get(f"/lang/{lang}")
        page = checker.get(f"/book/change-sets/{change_set.id}").get_data(as_text=True)
        assert words in page.split('id="doubts"', 1)[1].split("</section>", 1)[0], lang


def test_doubted_rows_are_listed_in_the_workbooks_order(book):
    """A copy of a flow in force (a new row the book matched by its reference first) was listed
    before the rows above it: the change set, the command line and the apply's question list
    the doubted rows of a sheet by their row in the workbook."""
    from tests.conftest import booked_cash_flow

    booked_cash_flow(book, SCREEN_FLOW)
    data = exported(book)
    data = edited(data, "cash_flows", {}, append=["QY-SF1", FUTURE, "distribution", 1000, "提前记账", None])
    data = edited(data, "cash_flows", {}, append=["QY-SF1", "2025-12-01", "contribution", 1000, "", "CALL-4"])
    planned = plan_import(book, io.BytesIO(data), username="u", filename="b.xlsx")
    book.rollback()
    rows = [d["row"] for d in planned.doubts]
    assert len(rows) == 2 and rows == sorted(rows), [(d["row"], d["doubts"][0].key) for d in planned.doubts]


def test_the_change_sets_rows_write_an_amount_with_its_unit(app, db, book):
    """The preview lists a new row field by field ('金额：5,000.00'), and a changed row's fields
    before and after: an amount stood without its unit. Now '金额：5,000.00 元' / 'Amount (CNY):
    5,000.00 CNY', as the record beside it and the command line write it."""
    data = _with(exported(book), DOUBTED_ROWS[1])
    data = edited(data, "valuations", {"investment_id": "QY-D1", "as_of": "2025-12-31"}, {"fair_value_cny": 165000000})
    change_set = stage_book(book, io.BytesIO(data), username="manager1", filename="b.xlsx").change_set
    make_user(db, "manager2", "manager")
    checker = app.test_client()
    login(checker, "manager2")
    for lang, new, before, after in (("zh", "金额：5,000.00 元；", "160,000,000.00 元", "165,000,000.00 元"),
                                     ("en", "Amount (CNY): 5,000.00 CNY; ", "160,000,000.00 CNY", "165,000,000.00 CNY")):
        checker.get(f"/lang/{lang}")
        page = checker.get(f"/book/change-sets/{change_set.id}").get_data(as_text=True)
        assert new in page.split('class="grid new-rows"', 1)[1].split("</table>", 1)[0], lang
        changed = page.split('class="grid changed-rows"', 1)[1].split("</table>", 1)[0]
        assert f"{before}<br>" in changed and f"{after}<br>" in changed, (lang, changed)


def test_the_change_sets_new_rows_are_listed_in_the_workbooks_order(app, db, book):
    """A new row matched by its reference (flows are matched by reference first) was listed
    before the new rows above it in the workbook; the change-set screen lists them in order."""
    data = exported(book)
    data = edited(data, "cash_flows", {}, append=["QY-SF1", "2025-11-01", "contribution", 500, "上一行无凭证号", None])
    data = edited(data, "cash_flows", {}, append=["QY-SF1", "2025-11-02", "contribution", 700, "下一行有凭证号",
                                                   "CALL-7"])
    change_set = stage_book(book, io.BytesIO(data), username="manager1", filename="b.xlsx").change_set
    make_user(db, "manager2", "manager")
    checker = app.test_client()
    login(checker, "manager2")
    page = checker.get(f"/book/change-sets/{change_set.id}").get_data(as_text=True)
    listed = page.split('class="grid new-rows"')
    flows = next(part for part in listed if "上一行无凭证号" in part)
    assert "下一行有凭证号" in flows and flows.index("上一行无凭证号") < flows.index("下一行有凭证号")


def test_the_change_sets_count_of_rows_to_check_says_rows_in_english_too(app, db, book):
    """The heading read 「须核对：2 行」 in Chinese but "To check: 2" in English; it now says
    "To check: 2 rows", and "1 row" in the singular."""
    one = edited(exported(book), "cash_flows", {}, append=["QY-SF1", FUTURE, "distribution", 1000, "提前记账", None])
    two = edited(one, "cash_flows", {}, append=["QY-SF1", FUTURE, "contribution", 800, "提前出资", None])
    make_user(db, "manager2", "manager")
    checker = app.test_client()
    login(checker, "manager2")
    for data, zh, en in ((one, "须核对：1 行", "To check: 1 row<"), (two, "须核对：2 行", "To check: 2 rows<")):
        change_set = stage_book(book, io.BytesIO(data), username="manager1", filename="b.xlsx").change_set
        for lang, words in (("zh", zh), ("en", en)):
            checker.get(f"/lang/{lang}")
            page = checker.get(f"/book/change-sets/{change_set.id}").get_data(as_text=True)
            assert words in page.split('id="doubts"', 1)[1].split("</h2>", 1)[0] + "<", (lang, words)
        book.get(ChangeSet, change_set.id).status = "rejected"
        book.commit()


def test_a_doubts_column_is_named_in_words_on_the_command_line_and_in_the_history(app, db, book, runner, tmp_path):
    """An import's doubted row names its column as the change-set screen's 列 does (金额 /
    Amount (CNY)): the stage's list on the command line and the apply's confirmed doubts in the
    history, in English too; they had written its code there (amount_cny)."""
    path = tmp_path / "b.xlsx"
    path.write_bytes(_with(exported(book), DOUBTED_ROWS[1]))
    staged = runner.invoke(args=["import-book", str(path), "--stage", "--user", "manager1"],
                           env={"PORTFOLIO_LANG": "en"})
    assert staged.exit_code == 0 and "Cash flow row 9 Amount (CNY) (QY-D1 · " in staged.output, staged.output
    assert "amount_cny" not in staged.output
    cs_id = book.scalar(select(ChangeSet.id))
    apply_change_set(book, cs_id, username="manager2", confirm_reason="增资协议已签")
    make_user(db, "manager2", "manager")
    checker = app.test_client()
    login(checker, "manager2")
    for lang, words in (("zh", "现金流 第9行 金额（QY-D1 · "), ("en", "Cash flow row 9 Amount (CNY) (QY-D1 · ")):
        checker.get(f"/lang/{lang}")
        history = checker.get(f"/history?change_set={cs_id}").get_data(as_text=True)
        assert words in history and "amount_cny" not in history, (lang, history)


def test_a_doubted_rows_own_audit_entry_keeps_the_column_of_each_doubt(app, db, book, runner, tmp_path):
    """Each doubted row's own entry keeps each of its doubts under the column it is about, named
    as the change-set screen's 列 names it (日期, 金额 / Date, Amount (CNY)), directly imported or
    applied; it had kept them without one, only the apply's list naming it. An entry kept before
    (its doubts without a column) is shown as it was."""
    folder = tmp_path / "book"
    shutil.copytree(EXAMPLE_BOOK, folder)
    with open(folder / "cash_flows.csv", "a", encoding="utf-8") as fh:
        # after today, and beyond QY-D1's commitment (fully paid): the date's doubt and the amount's
        fh.write(f"QY-D1,{FUTURE},contribution,5000,提前出资\n")
    done = runner.invoke(args=["import-book", str(folder), "--user", "ops", "--reason", "付款通知已到"])
    assert done.exit_code == 0, done.output
    entry = book.execute(select(AuditEntry).where(AuditEntry.entity == "cash_flows",
                                                  AuditEntry.username == "ops")).scalar_one()
    kept = entry.after["confirmed_doubts"]
    assert len(kept) == 2 and kept[0].startswith(f"日期：日期 {FUTURE} 晚于今天") and kept[1].startswith("金额：出资合计"), kept
    assert [said["key"] for said in entry.after["confirmed_doubts_said"]] == ["import_doubt_column"] * 2

    change_set = stage_book(book, io.BytesIO(_with(exported(book), DOUBTED_ROWS[3])), username="manager1",
                            filename="b.xlsx").change_set
    apply_change_set(book, change_set.id, username="manager2", confirm_reason="估值报告已到")
    applied = book.execute(select(AuditEntry).where(AuditEntry.entity == "valuations",
                                                    AuditEntry.reason == "估值报告已到")).scalar_one()
    assert [d.split("：")[0] for d in applied.after["confirmed_doubts"]] == ["估值基准日"], applied.after

    make_user(db, "manager3", "manager")
    client = app.test_client()
    login(client, "manager3")
    url = f"/history/cash_flows/{entry.entity_key}"
    for lang, words in (("zh", ["日期：日期 ", "金额：出资合计"]),
                        ("en", ["Date: the date ", "Amount (CNY): contributions would total"])):
        client.get(f"/lang/{lang}")
        page = client.get(url).get_data(as_text=True)
        assert all(w in page for w in words) and "amount_cny" not in page, (lang, page)

    # kept before: the row's doubts themselves, without a column
    after = dict(entry.after)
    after["confirmed_doubts_said"] = [said["args"]["doubts"][0] for said in after["confirmed_doubts_said"]]
    after["confirmed_doubts"] = [text.split("：", 1)[1] for text in after["confirmed_doubts"]]
    entry.after = after
    book.commit()
    for lang, words in (("zh", f"日期 {FUTURE} 晚于今天"), ("en", f"The date {FUTURE} is after today")):
        client.get(f"/lang/{lang}")
        response = client.get(url)
        page = response.get_data(as_text=True)
        assert response.status_code == 200 and words in page and "金额：" not in page and "Date: " not in page, page
