"""The use cases' refusals by key (issue 15 item 1): every sentence in Chinese and English
with the same arguments, the Chinese exactly as before, and the forms showing them in the
reader's language — no Chinese left beside an English form's fields."""
from __future__ import annotations

import datetime as dt
import re
import string
from decimal import Decimal

import pytest

from portfolio.error_texts import ERROR_TEXTS
from portfolio.messages import TEXTS, Message, error_shown, said_by
from portfolio.money import AmountError, parse_amount
from tests.visible_text import visible_text

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _placeholders(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None}


@pytest.mark.parametrize("key", sorted(TEXTS))
def test_every_key_has_both_texts_with_the_same_placeholders(key):
    zh, en = TEXTS[key]
    assert zh.strip() and en.strip(), key
    assert _placeholders(zh) == _placeholders(en), key
    assert CJK.search(zh), key  # Chinese first
    assert not CJK.search(en.replace("“", "").replace("”", "")), key


def _sample(name: str):
    """A value of the kind the argument `name` holds (portfolio/messages.py `_arg`)."""
    if name == "day" or name.endswith("_day"):
        return dt.date(2030, 1, 2)
    if name.endswith("_wan"):
        return Decimal("30000000.01")
    if name.endswith("_fen_yuan"):  # fen, shown in 元
        return 123_456_789
    if name.endswith("_named"):
        return ("investments", "投资")
    if name == "book_error":
        return {"sheet": "投资", "sheet_en": "investments", "row": 3, "column": "投资日期", "column_en": "date",
                "value": "2025-13-01", "message": Message("date_unknown_day")}
    if name.endswith("_term"):  # a (vocabulary, code) name: the GP workbook's, e.g.
        return ("gp_sheet", "account") if name.startswith("sheet") else ("gp_column", "amount")
    if name == "reason":  # a sentence inside the sentence
        return Message("date_format")
    samples = {"record": "cash_flow", "unit": "wan", "places": 2, "max_whole": Decimal("1e11"),
               "doubts": [Message("future", record="date", day=dt.date(2030, 1, 2), today_day=dt.date(2025, 1, 1))],
               "failures": [Message("cap_over", what="single_company", value_pct=0.3, limit_pct=0.2)],
               "state": ("proposal_status", "draft"), "decisions": ["rejected", "deferred"],
               "action": ("vote", "表决"),
               "errors": [("id", Message("investment_exists", id="QY-D1"))], "people": ["王经理", "李审核"], "n": 2, "limit_n": 3,
               "wait_seconds": 61, "who": ("王经理", dt.datetime(2025, 12, 31, 20, 30)),
               "choices": ("mode", ["sub_fund", "direct", "co_invest"])}
    return samples.get(name, "X1")


@pytest.mark.parametrize("key", sorted(ERROR_TEXTS))
def test_every_refusal_renders_in_english_without_chinese(key):
    args = {name: _sample(name) for name in _placeholders(ERROR_TEXTS[key][0])}
    message = Message(key, **args)
    english = message.shown("en")
    assert "{" not in english and english[:1] == english[:1].upper()
    # the only Chinese an English refusal may carry is what a person typed or is called
    typed = "".join(str(v) for v in args.get("people", [])) + (args["who"][0] if "who" in args else "")
    assert not CJK.search(re.sub(f"[{typed}]", "", english) if typed else english), english
    assert error_shown(message, "zh") == str(message) and error_shown(message, "en") == english


def test_the_chinese_is_as_it_was():
    """The raise sites keep their exact Chinese (tests, the audit, the API's JSON quote it)."""
    assert Message("investment_exists", id="QY-D1") == "投资编号 QY-D1 已存在"
    assert Message("before_investment", day=dt.date(2025, 3, 1)) == "不能早于投资日期 2025-03-01"
    assert Message("over_commitment", total_wan=Decimal("30000000.01"), commitment_wan=Decimal("2E7")) == \
        "出资合计 3,000.000001 万元 将超过认缴额 2,000 万元"
    assert Message("funding_over", limit_in_wan=Decimal("30000000"), paid_in_wan=Decimal(0),
                   most_in_wan=Decimal("30000000")) == "出资合计不能超过决议金额 3000 万元（已出资 0 万元，本次最多 3000 万元）"
    from portfolio.errors import FieldErrors
    inner = FieldErrors([("id", Message("investment_exists", id="QY-D1")), ("", Message("required"))])
    assert Message("decision_not_saved", errors=inner.errors) == "决议未保存：提案不能登记为投资：" + str(inner)
    assert Message("decision_not_saved", errors=inner.errors).shown("en") == (
        "The decision is not saved: the proposal cannot be recorded as an investment: "
        "Investment ID QY-D1 already exists; Required")
    # shown in Chinese: the sentences separated as Chinese separates them (messages.clauses)
    zh = Message("decision_not_saved", errors=inner.errors).shown("zh")
    assert zh.startswith("决议未保存：提案不能登记为投资：投资编号 QY-D1 已存在；") and "; " not in zh, zh
    several = Message("backup_refused", errors=inner.errors)  # a backup job's several refusals (web/admin)
    assert "已存在；" in several.shown("zh") and "already exists; " in several.shown("en")
    with pytest.raises(AmountError) as refused:
        parse_amount("1,5", unit="wan")
    assert str(refused.value) == "应为金额（万元），如 1,234.5"
    assert refused.value.args[0].shown("en") == "Must be an amount (in CNY 10k), e.g. 1,234.5"


def _errors(html: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for field, text in re.findall(r'<span class="error" data-field="([\w-]+)">([^<]*)</span>', html):
        out.setdefault(field, []).append(text)
    return out


@pytest.fixture
def book(db):
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    return db.session


def test_a_bad_cash_flow_form_in_english_shows_english_errors(db, book, as_role):
    client = as_role("manager")
    client.get("/lang/en")
    page = client.post("/book/cash-flows/new", data={
        "investment_id": "NOPE-1", "date": "2025-02-30", "type": "contribution", "amount_cny": "1,5"})
    assert page.status_code == 200
    errors = _errors(page.get_data(as_text=True))
    assert errors["amount_cny"] == ["Must be an amount (in CNY 10k), e.g. 1,234.5"]
    assert errors["investment_id"] == ["Investment NOPE-1 does not exist"]
    assert errors["date"] == ["No such date (format YYYY-MM-DD)"]
    # a date in the future asks for a reason, in English too
    future = (dt.date.today() + dt.timedelta(days=400)).isoformat()
    page = client.post("/book/cash-flows/new", data={
        "investment_id": "QY-CO1", "date": future, "type": "distribution", "amount_cny": "1"})
    html = page.get_data(as_text=True)
    doubt = _errors(html)["confirm_reason"]
    assert len(doubt) == 1 and doubt[0].startswith(f"Please check: the date {future} is after today ("), doubt
    for text in (*errors.values(), doubt):
        assert not CJK.search(" ".join(text)), text
    assert not CJK.search(" ".join(sum(_errors(html).values(), []))), html
    # and the same form in Chinese says it as it always did
    client.get("/lang/zh")
    page = client.post("/book/cash-flows/new", data={
        "investment_id": "NOPE-1", "date": "2025-01-01", "type": "contribution", "amount_cny": "1,5"})
    errors = _errors(page.get_data(as_text=True))
    assert errors["amount_cny"] == ["应为金额（万元），如 1,234.5"] and errors["investment_id"] == ["投资 NOPE-1 不存在"]


def test_a_committee_form_error_in_english(db, book, as_role):
    client = as_role("manager")
    client.get("/lang/en")
    page = client.post("/committee/proposals/new", data={
        "title": "T", "fund_code": "QY", "mode": "direct", "target_code": "NO-SUCH-CO", "planned_date": "2025-12-15",
        "amount_cny": "3000", "pre_money_cny": "5000", "post_money_cny": "4000", "base_moic": "-1"})
    html = page.get_data(as_text=True)
    errors = _errors(html)
    assert errors["post_money_cny"] == ["The post-money valuation cannot be below the pre-money"], errors
    assert errors["target_code"] == ["Company NO-SUCH-CO does not exist (for a new target, tick “New target” "
                                     "and fill in its details)"], errors
    assert errors["base_moic"] == ["A multiple cannot be negative"], errors
    assert not CJK.search(" ".join(sum(errors.values(), []))), errors
    assert "投后估值" not in visible_text(html)



def test_a_fund_settings_form_error_in_english(db, book, as_role):
    """A setting's refusals (portfolio.book.fund_settings) beside their fields, in English."""
    client = as_role("admin")
    client.get("/lang/en")
    page = client.post("/funds/QY/settings", data={"subfund_share_cap": "1.5", "home_region_prefix": "宁波",
                                                   "angel_company_size_cny": "0.0000001",
                                                   "prohibited_instruments": ["debt"]})
    assert page.status_code == 200
    errors = _errors(page.get_data(as_text=True))
    assert errors["subfund_share_cap"] == ["Must be between 0% and 100%"], errors  # as the field shows a share
    assert errors["home_region_prefix"] == ["Enter a region code prefix of 2 to 6 digits"], errors
    assert errors["angel_company_size_cny"] == ["In CNY 10k, at most six decimal places (exact to the fen)"], errors
    assert not CJK.search(" ".join(sum(errors.values(), []))), errors


def test_a_refused_login_in_english(db, client):
    from tests.conftest import make_user

    make_user(db, "mgr", "manager")
    client.get("/lang/en")
    page = client.post("/login", data={"username": "mgr", "password": "not-the-password"}).get_data(as_text=True)
    assert _errors(page)["password"] == ["Wrong user name or password"]
    assert Message("login_locked", wait_seconds=61) == "登录失败次数过多，账户已临时锁定，请 61 秒后再试"
    assert Message("login_throttled", wait_seconds=600).shown("en") == "Too many tries: try again in 10 minutes"


@pytest.mark.parametrize("present", [0, 1, 2])
def test_a_count_reads_right_in_english_whatever_it_is(present):
    """English puts a count that may be one after its noun ("members present …: 1"), where
    "1 members" would otherwise be printed."""
    english = Message("no_quorum", n=present, limit_n=3).shown("en")
    assert english.startswith(f"No quorum: members present and not recused: {present}, at least 3 needed")
    chinese = f"未达法定人数：出席且未回避的委员 {present} 人，至少需 3 人，不能作出决议"
    assert Message("no_quorum", n=present, limit_n=3) == chinese


def test_a_sentence_inside_another_and_a_vocabulary_name_render_in_each_language():
    inner = Message("amount_invalid", unit="yuan")
    cell = Message("gp_cell_amount", sheet_term=("gp_sheet", "holdings"), row=3, column_term=("gp_column", "cost"),
                   unit="wan", reason=inner)
    assert str(cell) == "投资明细 第 3 行 投资成本（万元）：应为金额（元）"
    assert cell.shown("en") == "Holdings, row 3, Cost (in CNY 10k): must be an amount (in CNY)"
    assert Message("gp_field", sheet_term=("gp_sheet", "account"), column_term=("gp_account", "closing_nav"),
                   reason="x").shown("en") == "Capital account, Closing NAV: x"


@pytest.mark.parametrize(("error", "said"), [
    (ValueError(Message("quarter_format", text="2025Q5")), Message("quarter_format", text="2025Q5")),
    (ValueError("纯文本"), "纯文本"),
    (ValueError(), ""),
    (ValueError(42), "42"),
    (ValueError("甲", "乙"), "甲"),
])
def test_said_by_gives_the_sentence_an_exception_carries_with_its_key(error, said):
    """One helper for 'the sentence an exception carries': the Message it was raised with
    (its key kept, so the reader's language can be rendered), else its text."""
    got = said_by(error)
    assert got == said
    assert isinstance(got, Message) == isinstance(said, Message)
    if isinstance(said, Message):
        assert got.key == "quarter_format" and got.shown("en") != str(got)


def _any_sample(name: str):
    """_sample, and the kinds of argument of the rule checks' sentences (portfolio/messages.py)."""
    from portfolio.messages import WHAT

    if name.endswith("_pct"):
        return 0.253
    if name.endswith("_x"):
        return 1.5
    if name.endswith("_fen"):
        return 123_456_789
    if name in ("years", "limit_years"):
        return Decimal("2.5")
    if name == "period":
        return 5
    if name == "what":
        return next(iter(WHAT))
    if name == "whats":
        return list(WHAT)[:2]
    if name == "over":
        return [(next(iter(WHAT)), 100_000_000)]
    if name == "instrument":
        return "equity"
    return _sample(name)


@pytest.mark.parametrize("key", sorted(TEXTS))
@pytest.mark.parametrize("missing", [False, True])
def test_a_message_shown_in_chinese_is_rendered_without_its_field_codes(key, missing):
    """Message.shown("zh") takes the text the message was made with when no argument of it
    depends on the field codes (CODED): always the sentence render gives without them."""
    from portfolio.messages import CODED, render

    args = {name: _any_sample(name) for name in _placeholders(TEXTS[key][0])}
    if missing and "missing" in args:
        args["missing"] = ["commitment", "paid_in"]
    elif "missing" in args:
        del args["missing"]
    message = Message(key, **args)
    assert message.shown("zh") == render(key, args, "zh")
    assert message.shown("en") == render(key, args, "en")
    if CODED.isdisjoint(args):
        assert message.shown("zh") == str(message)
    if missing and "missing" in args:
        assert "missing: commitment" in str(message) and "missing" not in message.shown("zh")


@pytest.mark.parametrize("path,data,field", [
    ("/book/investments/new", {"id": "QY-NEW9", "fund_code": "QY", "mode": "direct", "target_code": "C1",
                               "date": "2025-06-30", "commitment_cny": "100", "ownership_pct": "1", "round": "A轮",
                               "headcount": "99999999999999999999"}, "headcount"),
    ("/book/sub-funds/new", {"code": "SFX", "name": "子基金", "manager": "管理人", "size_cny": "1000",
                             "vintage_year": "2024", "sector": "materials", "region_code": "330200",
                             "term_years": "2147483648"}, "term_years"),
])
def test_a_count_past_what_the_database_holds_is_refused_beside_its_field(db, book, as_role, path, data, field):
    """A headcount or a term typed past what the integer columns hold was a 500 on PostgreSQL
    (the database refused the row at flush); now the field says so, nothing written."""
    client = as_role("manager")
    page = client.post(path, data=data)
    assert page.status_code == 200
    assert _errors(page.get_data(as_text=True))[field] == ["不能大于 2147483647"]
    client.get("/lang/en")
    page = client.post(path, data=data)
    assert _errors(page.get_data(as_text=True))[field] == ["Must be at most 2147483647"]


def test_a_list_of_names_is_written_by_one_function_in_each_language():
    """Names listed in the reader's language (债权、担保 / Debt, Guarantee) are joined in one place,
    messages.listed: the instruments, a sentence's people and a coded column's choices, the
    trend charts' titles and export-book's counts had each written the same join by hand."""
    import datetime as dt

    from portfolio import formatting
    from portfolio.messages import listed
    from portfolio.reports.trend_charts import flows_chart

    assert listed(["债权", "担保"]) == "债权、担保" and listed(["Debt", "Guarantee"], "en") == "Debt, Guarantee"
    assert listed([]) == "" and listed(["甲"]) == "甲" and listed([1, 2], None) == "1、2"
    assert formatting.instruments(["debt", "guarantee"], "en") == listed(["Debt", "Guarantee"], "en")
    unknown = Message("unknown_instruments", people=["债权", "担保"])
    assert unknown.shown("zh") == "未知的投资工具：债权、担保" and unknown.shown("en").endswith("债权, 担保")
    choices = Message("unknown_choice", choices=("mode", ["sub_fund", "direct"]))
    assert choices.shown("zh").endswith("子基金（sub_fund）、直投（direct）")
    assert choices.shown("en").endswith("sub_fund (Sub-fund), direct (Direct)")
    points = [{"as_of": dt.date(2025, 9, 30), "calls": 1_000_000, "distributions": 500_000},
              {"as_of": dt.date(2025, 12, 31), "calls": 100_000, "distributions": 50_000}]
    for lang, names in (("zh", ["出资", "分配", "累计净现金流"]),
                        ("en", ["Calls", "Distributions", "Cumulative net cash flow"])):
        assert listed(names, lang) in (flows_chart(points, lang) or "")
