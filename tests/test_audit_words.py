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


@pytest.mark.parametrize("table", sorted({e for _a, e in _audited()} & set(Base.metadata.tables)))
def test_every_field_of_an_audited_record_has_its_words(table):
    sheet = {c.name for c in SHEETS.get(table, [])}
    for column in Base.metadata.tables[table].columns:
        if column.name in SECRETS or column.name in sheet:
            continue
        assert column.name in LABELS["field"], (table, column.name)


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
