"""The history (修改历史) names every action, record and field in words, in both languages: never
the code the application stores (forecast_parameters, api_tokens, delete, yield_floor had been
shown as they are)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from models import Base
from portfolio.interchange.schema import SHEETS
from portfolio.vocabulary import LABELS, LABELS_EN

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {"password_hash", "session_token", "token_hash"}  # never in an audit entry


def _audited() -> set[tuple[str, str]]:
    """(action, entity) of every audit(session, who, "action", "entity", …) written with literals."""
    found = set()
    for path in [*ROOT.joinpath("portfolio").rglob("*.py"), *ROOT.joinpath("web").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "audit" and len(node.args) >= 4:
                action, entity = node.args[2], node.args[3]
                if isinstance(action, ast.Constant) and isinstance(entity, ast.Constant):
                    found.add((action.value, entity.value))
    return found


def test_every_audited_action_and_record_has_its_words_in_both_languages():
    audited = _audited()
    assert ("delete", "forecast_parameters") in audited and ("revoke", "api_tokens") in audited
    for action, entity in audited:
        for words in (LABELS, LABELS_EN):
            assert action in words["audit_action"], action
            assert entity in words["entity"], entity


def test_every_field_named_in_chinese_is_named_in_english():
    assert sorted(set(LABELS["field"]) - set(LABELS_EN["field"])) == []


@pytest.mark.parametrize("table", sorted({e for _a, e in _audited()} & set(Base.metadata.tables)))
def test_every_field_of_an_audited_record_has_its_words(table):
    sheet = {c.name for c in SHEETS.get(table, [])}
    for column in Base.metadata.tables[table].columns:
        if column.name in SECRETS or column.name in sheet:
            continue
        assert column.name in LABELS["field"], (table, column.name)
        assert column.name in LABELS_EN["field"], (table, column.name)  # not a name made up from the code


def test_the_history_of_forecast_parameters_reads_in_words(db, as_role):
    from portfolio.book.forecast_parameters import set_forecast_parameters
    from portfolio.book.users import create_user
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    create_user(db.session, "manager1", "manager", "correct-horse-9", by="test", display_name="王经理")
    set_forecast_parameters(db.session, "QY-SF1", {"yield": "0.05", "life": "12"}, username="manager1")
    set_forecast_parameters(db.session, "QY-SF1", {"yield": "", "life": ""}, username="manager1")
    from tests.visible_text import visible_text

    client = as_role("viewer")
    page = visible_text(client.get("/history/forecast_parameters/QY-SF1").get_data(as_text=True))
    assert "预测参数" in page and "删除" in page and "最低分配率 Y" in page and "存续期 L（年）" in page
    for code in ("forecast_parameters", "yield_floor", "updated_by", "delete", "manager1"):
        assert code not in page, code
    assert "王经理" in page  # who changed it, by the person's name
    client.get("/lang/en")
    page = visible_text(client.get("/history/forecast_parameters/QY-SF1").get_data(as_text=True))
    assert "Forecast parameters" in page and "Yield floor Y" in page and "Delete" in page


def _history(client, lang: str, entity: str) -> str:
    from tests.visible_text import visible_text

    client.get(f"/lang/{lang}")
    page = visible_text(client.get(f"/history?entity={entity}").get_data(as_text=True))
    return page[page.find("修改后" if lang == "zh" else "After"):]  # the entries, past the filter's choices


def test_a_funds_settings_change_reads_by_the_settings_labels_and_values(db, as_role):
    """A fund settings change in the history: each setting by its label in the reader's language
    and its value as people read it (a share as a percentage, the pass ratio as a fraction, the
    instruments by name), never the key, a Python list or a 28-digit quotient."""
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK, settings_in_force
    from tests.visible_text import problems

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    settings_in_force(db.session, "QY", {"subfund_share_cap": "0.35", "committee_pass_ratio": "5/7",
                                            "prohibited_instruments": ["debt"], "mirr_finance_rate": "0.065",
                                            "angel_company_size_cny": "50005000"}, username="loader",
                      reason="按基金章程调整")
    client = as_role("viewer")
    zh = _history(client, "zh", "funds.settings")
    for words in ("认缴占子基金规模上限 — 35%", "投委会通过比例（不低于） — 5/7", "禁止的投资工具 — 债权",
                  "MIRR 融资利率（年） — 6.5%", "5,000.50 万元"):
        assert words in zh, words
    en = _history(client, "en", "funds.settings")
    for words in ("Cap on commitment / sub-fund size — 35%", "Committee pass ratio (at least) — 5/7",
                  "Prohibited instruments — Debt", "CNY 10k"):
        assert words in en, words
    for page, lang in ((zh, "zh"), (en, "en")):
        for code in ("subfund_share_cap", "prohibited_instruments", "committee_pass_ratio", "['debt']", "0.714285"):
            assert code not in page, (lang, code)
        assert problems(page, lang, ("按基金章程调整",)) == [], lang  # the asker's reason, as typed


def test_every_audited_records_values_read_by_their_kind(db, as_role, tmp_path):
    """Outside the workbook's sheets too: a proposal's ownership as a percentage (not the stored
    2.50000000), an index level with separators to two places, a GP binding's user by name under
    the field's word, a change set's doubts and its status in words."""
    from portfolio.book.audit import audit
    from portfolio.book.reading import import_index
    from portfolio.book.unit import commit
    from portfolio.book.users import create_user
    from tests.visible_text import problems

    create_user(db.session, "gp1", "gp", "correct-horse-9", by="test", display_name="甲管理人")
    csv = tmp_path / "index.csv"
    csv.write_text("date,level\n2026-12-31,8896.594087\n", encoding="utf-8")
    import_index(db.session, "CSI300", csv, username="loader")
    audit(db.session, "loader", "update", "proposals", "1", before={"ownership_pct": "2.50000000", "status": "draft"},
          after={"ownership_pct": "3.25000000", "status": "submitted"})
    audit(db.session, "loader", "link", "gp_sub_funds", "gp1:SF01", after={"user": "gp1", "sub_fund_code": "SF01"})
    audit(db.session, "loader", "stage", "change_sets", "1", after={"filename": "b.xlsx", "conflicts": 0, "doubts": 2})
    audit(db.session, "loader", "reject", "change_sets", "1", after={"status": "rejected"})
    audit(db.session, "loader", "password_reset", "users", "gp1", after={"password": "（已更改）"})  # as users.py keeps it
    audit(db.session, "loader", "decide", "resolutions", "1", after={  # a decision's count and attendance
        "tally": {"eligible": ["gp1", "x"], "recused": [], "approve": 2, "reject": 0, "abstain": 0, "not_voted": 0,
                  "quorum": 2, "pass_ratio": "2/3", "votes": {"gp1": "approve", "x": "approve"}},
        "attendance": {"gp1": True, "x": False}})
    commit(db.session)
    client = as_role("viewer")
    expected_zh = {"proposals": ("投后持股比例 2.5% 3.25%", "草稿 已提交"), "index_levels": ("指数点位 — 8,896.59",),
                   "gp_sub_funds": ("用户 — 甲管理人",), "change_sets": ("核对提示（行数） — 2", "状态 — 已驳回"),
                   "users": ("密码 — 已更改",),
                   "resolutions": ("同意 2，反对 0，弃权 0，未表决 0；可表决 2 人，法定人数 2，通过比例 2/3",
                                   "出席：甲管理人；缺席：x")}
    expected_en = {"proposals": ("Ownership after the deal (%) 2.5% 3.25%", "Draft Submitted"),
                   "index_levels": ("Index level — 8,896.59",),
                   "gp_sub_funds": ("User — 甲管理人",), "change_sets": ("Doubts (rows) — 2", "Status — Rejected"),
                   "users": ("Password — changed",),
                   "resolutions": ("Approve 2, reject 0, abstain 0, not voted 0; 2 eligible, quorum 2, pass ratio 2/3",
                                   "Present: 甲管理人; absent: x")}
    for lang, words in (("zh", expected_zh), ("en", expected_en)):
        for entity, expected in words.items():
            page = _history(client, lang, entity)
            for text in expected:
                assert text in page, (lang, entity, text)
            for raw in ("2.50000000", "8896.594087", "doubts", "rejected", "— gp1", "（已更改）", "{'", "not_voted"):
                assert raw not in page, (lang, entity, raw)
            if lang == "zh":
                assert " user " not in page, entity
            assert problems(page.replace("甲管理人", ""), lang) == [], (lang, entity)


def test_the_formatters_the_history_takes_its_kinds_from():
    from decimal import Decimal

    from portfolio import formatting

    assert formatting.typed_percent("2.50000000") == "2.5%" and formatting.typed_percent(Decimal(25)) == "25%"
    assert formatting.typed_percent("1e-999999999") == "0%" and formatting.typed_percent("x") == "—"
    assert formatting.share("0.35") == "35%" and formatting.share(0.065) == "6.5%" and formatting.share("1") == "100%"
    assert formatting.instruments(["debt", "guarantee"]) == "债权、担保"
    assert formatting.instruments(["debt", "guarantee"], "en") == "Debt, Guarantee"
    assert formatting.by_kind("8896.594087", "level") == "8,896.59"


def test_a_gp_binding_reads_as_the_person_and_the_sub_fund(db, as_role):
    """A GP bound to a sub-fund is kept under the key gp1:SF1 (user name : code); the history
    names it as people know them, the person's name and the sub-fund's name with its code, in
    both languages, on the list, on the record's own history and in its Excel export."""
    import io

    from openpyxl import load_workbook

    from portfolio.gp.packages import invite_gp
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK
    from tests.visible_text import visible_text

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    invite_gp(db.session, "gp1", "correct-horse-9", ["SF1"], by="admin", display_name="甲管理人")
    fund = "宁波甬新新材料创业投资合伙企业（有限合伙）"
    client = as_role("viewer")
    for lang, named in (("zh", f"甲管理人 — {fund}（SF1）"), ("en", f"甲管理人 — {fund} (SF1)")):
        client.get(f"/lang/{lang}")
        page = visible_text(client.get("/history?entity=gp_sub_funds").get_data(as_text=True))
        assert named in page, (lang, page)
        assert "gp1:SF1" not in page and "gp1" not in page, lang
        own = visible_text(client.get("/history/gp_sub_funds/gp1:SF1").get_data(as_text=True))
        assert named in own and "gp1" not in own, (lang, own)
        workbook = load_workbook(io.BytesIO(client.get("/history/export.xlsx?entity=gp_sub_funds").data))
        cells = [str(c.value) for row in workbook.active.iter_rows() for c in row if c.value is not None]
        assert named in cells and "gp1:SF1" not in cells, (lang, cells)


def test_a_gp_binding_s_sub_fund_is_labelled_as_what_it_holds(db, as_role):
    """A GP's binding keeps the sub-fund's code, which the history shows as the sub-fund's name
    with its code; its field was still labelled 子基金代码 / Sub-fund code above the name. It
    is labelled 子基金 / Sub-fund, on the list, on the record's own history and in the export;
    a GP package's sub_fund_code, shown as the code, keeps its label."""
    import io

    from openpyxl import load_workbook

    from portfolio.gp.packages import invite_gp
    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK
    from tests.visible_text import visible_text

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    invite_gp(db.session, "gp1", "correct-horse-9", ["SF1"], by="admin", display_name="甲管理人")
    fund = "宁波甬新新材料创业投资合伙企业（有限合伙）"
    client = as_role("viewer")
    for lang, label, code_label, named in (("zh", "子基金", "子基金代码", f"{fund}（SF1）"),
                                           ("en", "Sub-fund", "Sub-fund code", f"{fund} (SF1)")):
        page = _history(client, lang, "gp_sub_funds")
        own = visible_text(client.get("/history/gp_sub_funds/gp1:SF1").get_data(as_text=True))
        for text in (page, own):
            assert f"{label} — {named}" in text, (lang, text)
            assert code_label not in text, (lang, text)
        workbook = load_workbook(io.BytesIO(client.get("/history/export.xlsx?entity=gp_sub_funds").data))
        cells = " ".join(str(c.value) for row in workbook.active.iter_rows() for c in row if c.value is not None)
        assert label in cells and code_label not in cells, (lang, cells)
    from portfolio.vocabulary import LABELS, LABELS_EN

    assert (LABELS["field"]["sub_fund_code"], LABELS_EN["field"]["sub_fund_code"]) == ("子基金代码", "Sub-fund code")


def test_the_history_writes_amounts_in_wan_with_the_unit_and_a_proposals_cases_as_ratios(db, as_role):
    """A proposal's amount read '投资金额 15,000,000.00' (元, with no unit, beside screens in 万元)
    and its base case 'IRR 0.2', 'MOIC 2.5': now 1,500.00 万元, 20.0% and 2.50x; an amount two
    places of 万元 would round says its 元 beside (a few 元 changed must not round away); a new
    target's size, year and manager are named in words."""
    from portfolio.book.audit import audit
    from portfolio.book.unit import commit
    from portfolio.formatting import amount_wan_exact
    from tests.visible_text import problems

    audit(db.session, "loader", "update", "proposals", "7",
          before={"amount_cny": "15000000.00", "base_irr": 0.18, "base_moic": 2.2},
          after={"amount_cny": "12345.67", "base_irr": 0.2, "base_moic": 2.5,
                 "new_target": {"name": "甬新基金", "size_cny": "500000000.00"}})
    commit(db.session)
    client = as_role("viewer")
    zh = _history(client, "zh", "proposals")
    for words in ("投资金额 1,500.00 万元 1.23 万元（12,345.67 元）", "18.0% 20.0%", "2.20x 2.50x",
                  "子基金规模：50,000.00 万元"):
        assert words in zh, words
    en = _history(client, "en", "proposals")
    for words in ("Amount 1,500.00 (CNY 10k) 1.23 (CNY 10k; CNY 12,345.67)", "18.0% 20.0%", "Sub-fund size: 50,000.00"):
        assert words in en, words
    for page, lang in ((zh, "zh"), (en, "en")):
        assert "15,000,000.00" not in page and " 0.2 " not in page, lang
        assert problems(page.replace("甬新基金", ""), lang) == [], lang
    assert amount_wan_exact("0.01") == "0.00 万元（0.01 元）" and amount_wan_exact(None) == "—"


def test_an_imported_rows_key_reads_in_words_not_codes_and_fen(db, as_role):
    """An imported cash flow is audited under its import key (QY-SF1/2023-03-31/contribution/
    15000000000/, the type's code and the amount in fen); the history named it so, on the list,
    on its own history and in the Excel export. It now reads as the change-set screen names the
    row: the type by its name, the amount in 元; a valuation and a holdings row by their parts."""
    import io

    from openpyxl import load_workbook

    from portfolio.interchange.importing import import_book
    from tests.conftest import EXAMPLE_BOOK
    from tests.visible_text import visible_text

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    client = as_role("viewer")
    key = db.session.scalar(select_key("cash_flows", "QY-SF1/2023-03-31/%"))
    assert key.startswith("QY-SF1/2023-03-31/contribution/15000000000")
    for lang, flow, valuation in (("zh", "QY-SF1 · 2023-03-31 · 出资 · 150,000,000.00 元", "QY-SF1 · 2024-12-31"),
                                  ("en", "QY-SF1 · 2023-03-31 · Contribution · 150,000,000.00 CNY",
                                   "QY-SF1 · 2024-12-31")):
        client.get(f"/lang/{lang}")
        page = visible_text(client.get("/history?entity=cash_flows").get_data(as_text=True))
        assert flow in page and "/contribution/" not in page and "15000000000" not in page, (lang, page)
        own = client.get(f"/history/cash_flows/{key}")
        assert own.status_code == 200 and flow in visible_text(own.get_data(as_text=True)), lang
        values = visible_text(client.get("/history?entity=valuations").get_data(as_text=True))
        assert valuation in values and "QY-SF1/2024-12-31" not in values, lang
        workbook = load_workbook(io.BytesIO(client.get("/history/export.xlsx?entity=cash_flows").data))
        cells = [str(c.value) for row in workbook.active.iter_rows() for c in row if c.value is not None]
        assert flow in cells and not any("/contribution/" in c for c in cells), (lang, cells)


def select_key(entity: str, like: str):
    from sqlalchemy import select

    from models import AuditEntry

    return select(AuditEntry.entity_key).where(AuditEntry.entity == entity, AuditEntry.entity_key.like(like)).limit(1)


def test_an_applys_rows_kept_as_the_book_had_them_read_in_words(app, db, as_role):
    """An apply's audit entry keeps the rows it left as the book had them (`kept`: the import's
    names, cash_flows:12, valuations:+QY-D1/2025-12-31). The history wrote the stored list as
    it is: '[]' for none, ['cash_flows:12'] for some. Now a dash, or each row in words."""
    import io

    from portfolio.interchange.importing import import_book
    from portfolio.interchange.staging import apply_change_set, stage_book
    from tests.conftest import EXAMPLE_BOOK
    from tests.test_staged_imports import edited, exported
    from tests.visible_text import visible_text
    from web.main import field_kind, value_shown

    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    data = edited(exported(db.session), "cash_flows", {}, append=["QY-SF1", "2025-12-01", "contribution", 1000, "", ""])
    change_set = stage_book(db.session, io.BytesIO(data), username="manager1", filename="b.xlsx").change_set
    apply_change_set(db.session, change_set.id, username="manager2")
    client = as_role("viewer")
    for lang, kept in (("zh", "保留现值的行 — —"), ("en", "Rows kept as they were — —")):
        client.get(f"/lang/{lang}")
        page = visible_text(client.get(f"/history?change_set={change_set.id}").get_data(as_text=True))
        assert kept in page and "[]" not in page, (lang, page)
    with app.test_request_context():
        kind = field_kind("change_sets", "kept")
        assert value_shown(kind, ["cash_flows:12", "valuations:+QY-D1/2025-12-31"], "zh", "kept") == \
            "现金流 12；估值 QY-D1 · 2025-12-31"
