"""A request's own asker declining it withdraws it: the page's button says 撤回 / Withdraw (驳回 /
Reject to anyone else), and the flash says withdrawn, for every kind of request a checker
answers (web.forms.decide, and a change set's rejection). The route, the use case and the
audit are a decline's: only the words follow who answers. Before, only a GP reopening said so;
a correction, a settings change, a new investment, a void and a change set withdrawn by their
asker flashed 驳回 / declined."""
from __future__ import annotations

import html
import io
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import select

from models import CashFlow, Investment
from portfolio.book import corrections, fund_settings, new_investments, records
from portfolio.interchange.importing import import_book
from portfolio.interchange.staging import stage_book
from tests.book_files import credit_code
from tests.conftest import EXAMPLE_BOOK, login, make_user
from tests.test_staged_imports import edited, exported

ASKER, CHECKER = "m1", "m2"


@dataclass(frozen=True)
class Kind:
    ask: Callable  # (session) -> the reject URL of the request it made, asked by ASKER
    page: str  # where its decline button is (None: the reject URL's own record page)
    withdrawn: tuple[str, str]  # (zh, en)
    declined: tuple[str, str]


def _flow(session) -> CashFlow:
    return session.execute(select(CashFlow).where(CashFlow.investment_id == "QY-D1", CashFlow.type == "distribution")
                           .order_by(CashFlow.id)).scalars().first()


def _investment_correction(session) -> str:
    investment = session.get(Investment, "QY-D1")
    corrections.correct_investment(session, "QY-D1", {
        "date": investment.date.isoformat(), "commitment_cny": "130000000", "round": investment.round,
        "ownership_pct": str(investment.ownership_pct), "version": corrections.version_of(investment),
        "correction_reason": "补充协议增资"}, username=ASKER)
    return "/book/investments/QY-D1/correction/reject"


def _flow_correction(session) -> str:
    flow = _flow(session)
    corrections.correct_cash_flow(session, flow.id, {
        "date": flow.date.isoformat(), "type": "distribution", "amount_cny": "4000000", "note": flow.note,
        "version": corrections.version_of(flow), "correction_reason": "改为 400 万"}, username=ASKER)
    return f"/book/cash-flows/{flow.id}/correction/reject"


def _settings(session) -> str:
    fund_settings.request_fund_settings(session, "QY", {"ownership_cap": "25%"}, reason="按章程调整", username=ASKER)
    return "/funds/QY/settings/reject"


def _new_investment(session) -> str:
    new_investments.ask_investment(session, {"id": "QY-D9", "fund_code": "QY", "mode": "direct", "target_code": "C3",
                                             "date": "2025-10-01", "commitment_cny": "1000000", "ownership_pct": "2"},
                                   username=ASKER)
    return "/book/investment-requests/QY-D9/reject"


def _void(session) -> str:
    flow = _flow(session)
    records.void_cash_flow(session, flow.id, {"reason": "重复录入"}, username=ASKER)
    return f"/book/cash-flows/{flow.id}/void/reject"


def _change_set(session) -> str:
    data = edited(exported(session), "companies", {},
                  append=["C-NEW", "新企业", credit_code(4343), "digital", "330206", None])
    change_set = stage_book(session, io.BytesIO(data), username=ASKER, filename="b.xlsx").change_set
    return f"/book/change-sets/{change_set.id}/reject"


KINDS = {
    "investment correction": Kind(_investment_correction, "/book/pending",
                                  ("更正申请已撤回，投资条款不变。",
                                   "Correction withdrawn: the investment's terms are as they were."),
                                  ("更正申请已驳回，投资条款不变。",
                                   "Correction declined: the investment's terms are as they were.")),
    "cash flow correction": Kind(_flow_correction, "/book/pending",
                                 ("更正申请已撤回，该记录不变。", "Correction withdrawn: the record stays as it was."),
                                 ("更正申请已驳回，该记录不变。", "Correction declined: the record stays as it was.")),
    "settings change": Kind(_settings, "/book/pending",
                            ("设置修改申请已撤回，现行设置不变。",
                             "The change of settings is withdrawn; the settings in force stay as they are."),
                            ("设置修改申请已驳回，现行设置不变。",
                             "The change of settings is declined; the settings in force stay as they are.")),
    "new investment": Kind(_new_investment, "/book/pending",
                           ("新增投资 QY-D9 的申请已撤回，未登记。", "New investment QY-D9 withdrawn: not booked."),
                           ("新增投资 QY-D9 的申请已驳回，未登记。", "New investment QY-D9 declined: not booked.")),
    "void": Kind(_void, "/book/pending",
                 ("作废申请已撤回，该记录仍计入业绩。", "Void withdrawn: the record still counts."),
                 ("作废申请已驳回，该记录仍计入业绩。", "Void declined: the record still counts.")),
    "change set": Kind(_change_set, "",
                       ("变更集已撤回，台账未作任何修改。", "The change set was withdrawn; the book was not changed."),
                       ("变更集已驳回，台账未作任何修改。", "The change set was rejected; the book was not changed.")),
}


@pytest.fixture
def managers(db):
    """The example book, with the asker and the checker: two managers."""
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    for name in (ASKER, CHECKER):
        make_user(db, name, "manager")


@pytest.fixture
def spec(kind, managers) -> Kind:
    """The kind of request the test is parametrized with (`kind`), on the example book with its two managers."""
    return KINDS[kind]


def _flashes(page: str) -> str:
    return html.unescape(" ".join(re.findall(r'<div class="flash[^"]*"[^>]*>(.*?)</div>', page, re.S)))


def _button(page: str, url: str) -> str:
    """The words on the button of the form posting to `url`."""
    form = re.search(r'<form[^>]*action="' + re.escape(url) + r'".*?</form>', page, re.S)
    assert form, f"no form posting to {url}"
    return re.findall(r"<button[^>]*>(.*?)</button>", form.group(0))[-1]


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_the_asker_withdraws_and_anyone_else_declines(kind, spec, db, client):
    for lang, withdrawn, declined, reason in zip(("zh", "en"), spec.withdrawn, spec.declined,
                                                 ("不需要了", "no longer needed"), strict=True):
        for who, said, unsaid, word in ((ASKER, withdrawn, declined, ("撤回", "Withdraw")),
                                        (CHECKER, declined, withdrawn, ("驳回", "Reject"))):
            url = spec.ask(db.session)
            login(client, who)
            client.get(f"/lang/{lang}")
            shown = client.get(spec.page or url.rsplit("/", 1)[0]).get_data(as_text=True)
            assert _button(shown, url) == word[lang == "en"], (kind, who, lang)
            page = client.post(url, data={"reason": reason}, follow_redirects=True)
            assert page.status_code == 200
            flashes = _flashes(page.get_data(as_text=True))
            assert said in flashes and unsaid not in flashes, (kind, who, lang, flashes)
            db.session.expire_all()


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_a_decline_without_a_reason_is_refused_in_the_same_words_for_every_kind(kind, spec, db, client):
    """A decline with no reason, or one of spaces, is refused alike for every kind, and the
    request still waits: to a checker 驳回须填写理由 / Rejecting needs a reason
    (reject_needs_reason, through refuse_decline), to its own asker, whose button reads 撤回,
    撤回须填写理由 / Withdrawing needs a reason (withdraw_needs_reason). Before, a change set's
    reject form said it in its own words ('A rejection needs a reason' in English), and every
    kind told its asker that *rejecting* needed a reason."""
    needs = {(CHECKER, "zh"): "驳回须填写理由", (CHECKER, "en"): "Rejecting needs a reason",
             (ASKER, "zh"): "撤回须填写理由", (ASKER, "en"): "Withdrawing needs a reason"}
    for lang, reason in (("zh", "不需要了"), ("en", "no longer needed")):
        for who, said in ((ASKER, spec.withdrawn), (CHECKER, spec.declined)):
            needed = needs[who, lang]
            unsaid = needs[CHECKER if who == ASKER else ASKER, lang]
            url = spec.ask(db.session)
            login(client, who)
            client.get(f"/lang/{lang}")
            for blank in ("", "   "):
                page = client.post(url, data={"reason": blank}, follow_redirects=True)
                assert page.status_code == 200
                flashes = _flashes(page.get_data(as_text=True))
                assert needed in flashes and unsaid not in flashes, (kind, who, lang, blank, flashes)
            db.session.expire_all()
            page = client.post(url, data={"reason": reason}, follow_redirects=True)  # it was still waiting
            assert said[lang == "en"] in _flashes(page.get_data(as_text=True)), (kind, who, lang)
            db.session.expire_all()


@pytest.mark.parametrize("kind", KINDS, ids=str)
def test_a_reason_refused_is_named_as_a_withdrawal_to_its_asker(kind, spec, db, client):
    """A reason typed but refused (one far too long) is named by what it is: to a checker
    驳回理由：… / Reason for rejecting: …, to the request's own asker 撤回理由：… / Reason for
    withdrawing: …, as the button they pressed reads; the request still waits."""
    named = {(CHECKER, "zh"): "驳回理由：", (CHECKER, "en"): "Reason for rejecting: ",
             (ASKER, "zh"): "撤回理由：", (ASKER, "en"): "Reason for withdrawing: "}
    for lang in ("zh", "en"):
        for who, said in ((ASKER, spec.withdrawn), (CHECKER, spec.declined)):
            url = spec.ask(db.session)
            login(client, who)
            client.get(f"/lang/{lang}")
            page = client.post(url, data={"reason": "理由" * 5000}, follow_redirects=True)
            assert page.status_code == 200
            flashes = _flashes(page.get_data(as_text=True))
            assert named[who, lang] in flashes, (kind, who, lang, flashes)
            assert named[CHECKER if who == ASKER else ASKER, lang] not in flashes, (kind, who, lang, flashes)
            assert said[lang == "en"] not in flashes, (kind, who, lang, flashes)
            db.session.expire_all()
            page = client.post(url, data={"reason": "不需要了"}, follow_redirects=True)  # it was still waiting
            assert said[lang == "en"] in _flashes(page.get_data(as_text=True)), (kind, who, lang)
            db.session.expire_all()


def test_a_change_sets_reason_box_and_kept_reason_say_withdrawal_to_and_of_its_uploader(managers, db, client):
    """A staged import's uploader sees its reason box labelled 撤回理由 / Reason for withdrawing, as
    the button beside it reads 撤回, and once withdrawn the change set's facts keep that reason as
    撤回理由; a checker's box and a rejected one's read 驳回理由. Before, both always read 驳回理由."""
    for who, lang, label, other in ((ASKER, "zh", "撤回理由", "驳回理由"), (CHECKER, "zh", "驳回理由", "撤回理由"),
                                    (ASKER, "en", "Reason for withdrawing", "Reason for rejecting"),
                                    (CHECKER, "en", "Reason for rejecting", "Reason for withdrawing")):
        url = _change_set(db.session)
        login(client, who)
        client.get(f"/lang/{lang}")
        page = client.get(url.rsplit("/", 1)[0]).get_data(as_text=True)
        box = html.unescape(re.search(r'<form[^>]*id="reject-form".*?</form>', page, re.S).group(0))
        assert label in box and other not in box, (who, lang, box)
        client.post(url, data={"reason": "另行上传"}, follow_redirects=True)
        facts = html.unescape(re.search(r'<dl class="facts">.*?</dl>', client.get(url.rsplit("/", 1)[0])
                                        .get_data(as_text=True), re.S).group(0))
        assert f"<dt>{label}</dt><dd>另行上传</dd>" in facts, (who, lang, facts)
        db.session.expire_all()
