"""The reasons the application writes in the audit trail, in the reader's language (issue 15,
item 1): kept by key beside their Chinese text (`reason_said`), shown on the history page and
in its export in English in English mode; a reason a person typed stays as typed."""
from __future__ import annotations

import html
import io
import re

from openpyxl import load_workbook
from sqlalchemy import select

from models import AuditEntry
from portfolio.book.audit import audit, reason_shown
from portfolio.interchange.importing import import_book
from portfolio.interchange.staging import apply_change_set, stage_book
from portfolio.messages import Message
from tests.book_files import credit_code
from tests.conftest import EXAMPLE_BOOK, login, make_user
from tests.test_staged_imports import edited, exported

CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def test_a_reason_the_application_writes_is_kept_by_key_and_a_typed_one_as_typed(db):
    written = audit(db.session, "u", "apply", "change_sets", "7",
                    reason=Message("why_change_set_confirmed", id=7, typed="已与托管行核对"))
    typed = audit(db.session, "u", "void", "valuations", "3", reason="估值录错了")
    db.session.commit()
    assert written.reason == "批准导入变更集 #7；确认理由：已与托管行核对"  # the Chinese as before
    assert written.reason_said == {"key": "why_change_set_confirmed", "args": {"id": 7, "typed": "已与托管行核对"}}
    assert reason_shown(written.reason, written.reason_said, "en") == \
        "Import change set #7 approved; reason for confirming: 已与托管行核对"
    assert reason_shown(written.reason, written.reason_said, "zh") == written.reason
    assert typed.reason_said is None and reason_shown(typed.reason, typed.reason_said, "en") == "估值录错了"
    # a key since retired: the text kept
    assert reason_shown("旧的理由", {"key": "no_such_key", "args": {}}, "en") == "旧的理由"


def test_a_change_sets_reasons_on_the_history_page_and_its_export_in_english(app, db):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    data = edited(exported(db.session), "companies", {},
                  append=["C-NEW", "新企业", credit_code(4343), "digital", "330206", None])
    change_set = stage_book(db.session, io.BytesIO(data), username="manager1", filename="b.xlsx").change_set
    make_user(db, "manager1", "manager")
    make_user(db, "manager2", "manager")
    apply_change_set(db.session, change_set.id, username="manager2")
    reasons = {r for (r,) in db.session.execute(select(AuditEntry.reason).where(AuditEntry.username != "loader"))}
    assert {f"导入变更集 #{change_set.id} 待审批", f"导入变更集 #{change_set.id}（上传：manager1）",
            f"批准导入变更集 #{change_set.id}"} <= reasons
    client = app.test_client()
    login(client, "manager2")
    client.get("/lang/en")
    page = html.unescape(client.get("/history").get_data(as_text=True))
    english = [f"Import change set #{change_set.id} awaiting approval",
               f"Import change set #{change_set.id} (uploaded by manager1)",
               f"Import change set #{change_set.id} approved"]
    for sentence in english:
        assert sentence in page
    assert "导入变更集" not in page
    cells = [c.value for row in load_workbook(io.BytesIO(client.get("/history/export.xlsx").data)).active.iter_rows()
             for c in row if isinstance(c.value, str)]
    for sentence in english:
        assert sentence in cells
    assert not any("导入变更集" in c for c in cells)
    # in Chinese, exactly as before
    client.get("/lang/zh")
    page = html.unescape(client.get("/history").get_data(as_text=True))
    assert f"导入变更集 #{change_set.id} 待审批" in page and "awaiting approval" not in page


def test_confirmed_doubts_on_the_history_page_in_the_readers_language(app, db):
    """A doubt the maker confirmed (a distribution above NAV plus contributions) is kept by key
    beside its text; the history shows it in English in English mode, the reason as typed."""
    from portfolio.book import records

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    make_user(db, "mgr", "manager")
    flow = records.record_cash_flow(db.session, {
        "investment_id": "QY-CO1", "date": "2025-07-01", "type": "distribution", "amount_cny": "24000000.01",
        "confirm_reason": "按协议提前分配"}, username="mgr")
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "cash_flows",
                                                        AuditEntry.entity_key == str(flow.id))).scalar_one()
    chinese = "分配 2,400.000001 万元 大于净值加出资 2,400 万元（2025-06-30 的估值加其后出资）"
    assert entry.after["confirmed_doubts"] == [chinese]  # the text as before
    assert [said["key"] for said in entry.after["confirmed_doubts_said"]] == ["distribution_over_nav"]
    client = app.test_client()
    login(client, "mgr")
    client.get("/lang/en")
    page = html.unescape(client.get(f"/history/cash_flows/{flow.id}").get_data(as_text=True))
    assert "大于净值加出资" not in page and "按协议提前分配" in page  # the person's words as typed
    assert "confirmed_doubts_said" not in page and "Confirmed doubts" in page
    client.get("/lang/zh")
    page = html.unescape(client.get(f"/history/cash_flows/{flow.id}").get_data(as_text=True))
    assert chinese in page


def test_sentences_in_one_line_are_separated_as_the_readers_language_separates_them(app):
    """Sentences in one line are separated by one function, messages.clauses (；in Chinese, '; '
    in English): a doubt's several doubts, the confirmed doubts on the history (which had put
    an English '; ' between Chinese sentences) and a command's refusal in a line (create-user,
    restore and apply-change-set, the last of which had written '; ' in Chinese too)."""
    import datetime as dt

    from portfolio.book.audit import confirmed_doubts, doubts_shown
    from portfolio.errors import FieldErrors
    from portfolio.messages import Message, clauses
    from web.cli.language import refusals_in_a_line

    assert clauses(["甲", "乙"]) == "甲；乙" and clauses(["One", "two"], "en") == "One; two"
    doubts = [Message("future", record="date", day=dt.date(2030, 1, 2), today_day=dt.date(2025, 1, 1)),
              Message("future", record="as_of", day=dt.date(2030, 1, 3), today_day=dt.date(2025, 1, 1))]
    kept = confirmed_doubts(doubts)
    shown = doubts_shown(kept["confirmed_doubts"], kept["confirmed_doubts_said"], "zh")
    assert shown == clauses([d.shown("zh") for d in doubts], "zh") and "；" in shown and "; " not in shown
    assert doubts_shown(kept["confirmed_doubts"], kept["confirmed_doubts_said"], "en") == \
        clauses([d.shown("en") for d in doubts], "en")
    two = FieldErrors([("a", Message("username_length")), ("b", Message("user_missing"))])
    with app.app_context():
        app.config["CLI_LANGUAGE"] = "zh"
        assert refusals_in_a_line(two) == "；".join(m for _f, m in two.shown("zh"))


def test_a_change_sets_counts_on_the_history_are_separated_by_the_one_function(app, monkeypatch):
    """The history writes a change set's rows per sheet as clauses in one line (现金流 新增 2 修改 1；估值 …
    / Cash flow New 2 Changed 1; Valuation …) through messages.clauses, not a join of its own."""
    import web.main
    from portfolio.messages import clauses
    from web.i18n import request_in

    joined = []
    monkeypatch.setattr(web.main, "clauses", lambda items, lang="zh": joined.append(lang) or clauses(items, lang))
    counts = {"cash_flows": {"new": 2, "changed": 1}, "valuations": {"new": 0, "changed": 3}}
    for lang, expected in (("zh", "现金流 新增 2 修改 1；估值 新增 0 修改 3"),
                           ("en", "Cash flow New 2 Changed 1; Valuation New 0 Changed 3")):
        with request_in(lang):
            assert web.main.value_shown("counts", counts, lang) == expected
    assert joined == ["zh", "en"]
