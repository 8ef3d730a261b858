"""The committee's proposal and meeting forms show every error there is to fix on one submit:
those of the form's own checks (a required field left empty) together with the use case's (a
negative amount, a multiple below zero, a day that does not exist), each beside its field, and
nothing is written. Before, a form its own checks refused never reached the use case: its errors
appeared only on the next submit. On SQLite and PostgreSQL (DATABASE_URL)."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from models import AuditEntry, Meeting, Proposal
from portfolio.book.audit import snapshot
from portfolio.committee import proposals
from portfolio.messages import Message
from tests.test_committee import DEAL, DEAL_FORM, as_user
from tests.test_committee import book as book  # noqa: F401  (the fixture)
from tests.test_error_texts import _errors


def _count(db, model) -> int:
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _shown(page) -> dict[str, list[str]]:
    assert page.status_code == 200, page.status_code
    return {field: [html.unescape(e) for e in said] for field, said in _errors(page.get_data(as_text=True)).items()}


def _as_expected(errors: dict[str, list[str]], expected: dict[str, Message | None], lang: str) -> None:
    assert set(errors) == set(expected), errors
    for field, message in expected.items():
        if message is None:
            assert errors[field], (field, errors)  # the form's own
        else:
            assert errors[field] == [message.shown(lang)], (field, errors)


# the target's code left empty (the form's own check) and an amount, a multiple and an IRR the
# use case refuses
PROPOSAL = {**DEAL_FORM, "target_code": "", "amount_cny": "-5", "bear_moic": "-1", "bull_irr": "20000"}
PROPOSAL_ERRORS = {"target_code": None, "amount_cny": Message("amount_positive"),
                   "bear_moic": Message("multiple_negative"), "bull_irr": Message("between", low="-100", high="10000")}


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_one_submit_of_a_new_proposal_shows_every_error_and_writes_nothing(client, db, book, lang):
    as_user(client, "mgr")
    client.get(f"/lang/{lang}")
    entries = _count(db, AuditEntry)
    _as_expected(_shown(client.post("/committee/proposals/new", data=PROPOSAL)), PROPOSAL_ERRORS, lang)
    db.session.expire_all()
    assert (_count(db, Proposal), _count(db, AuditEntry)) == (0, entries)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_one_submit_of_a_proposal_edited_shows_every_error_and_writes_nothing(client, db, book, lang):
    pid = proposals.create_proposal(db.session, DEAL, username="mgr").id
    before = snapshot(db.session.get(Proposal, pid))
    as_user(client, "mgr")
    client.get(f"/lang/{lang}")
    entries = _count(db, AuditEntry)
    _as_expected(_shown(client.post(f"/committee/proposals/{pid}/edit", data=PROPOSAL)), PROPOSAL_ERRORS, lang)
    db.session.expire_all()
    assert _count(db, AuditEntry) == entries
    assert snapshot(db.session.get(Proposal, pid)) == before


def test_a_proposal_edited_by_another_than_its_proposer_says_so_on_the_first_submit(client, db, book):
    """The edit refused for who asks it (only the proposer edits a draft) is flashed with the
    form's own errors, not on the next submit (its fields' errors are moot: no edit of theirs is
    taken); nothing written."""
    pid = proposals.create_proposal(db.session, DEAL, username="chair").id
    as_user(client, "mgr")
    entries = _count(db, AuditEntry)
    page = client.post(f"/committee/proposals/{pid}/edit", data=PROPOSAL)
    assert set(_shown(page)) == {"target_code"}
    assert Message("only_proposer_edits").shown("zh") in html.unescape(page.get_data(as_text=True))
    db.session.expire_all()
    assert _count(db, AuditEntry) == entries


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_one_submit_of_a_new_meeting_shows_every_error_and_writes_nothing(client, db, book, lang):
    """The fund left unchosen (the form's own check) and a day that does not exist (the use case's)."""
    as_user(client, "chair")
    client.get(f"/lang/{lang}")
    entries = _count(db, AuditEntry)
    page = client.post("/committee/meetings/new", data={"fund_code": "", "date": "2025-02-30", "title": "第 1 次"})
    _as_expected(_shown(page), {"fund_code": None, "date": Message("date_no_such_day")}, lang)
    db.session.expire_all()
    assert (_count(db, Meeting), _count(db, AuditEntry)) == (0, entries)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_one_submit_of_a_funding_shows_every_error_and_books_nothing(client, db, book, lang):
    """A note over the form's 2,000 characters (its own check) with an amount past the decision
    and a date before the investment (the use case's): all three beside their fields at once.
    Before, the form's refusal flashed 请填写出资日期和金额 whatever it was, and the use case's
    faults came one per submit (the amount's, then the date's)."""
    from models import CashFlow
    from portfolio.committee import decisions, meetings
    from tests.test_committee import MEMBERS, _on_meeting, fresh

    pid, _meeting = _on_meeting(db.session, MEMBERS[:6])
    for member in MEMBERS[:5]:
        meetings.cast_vote(db.session, pid, "approve", None, username=member)
    decisions.decide(db.session, pid, "approved", None, username="chair")
    investment_id = fresh(db.session, pid).investment_id
    as_user(client, "mgr")
    client.get(f"/lang/{lang}")
    page = client.post(f"/committee/proposals/{pid}/fund",
                       data={"date": "2020-01-01", "amount_cny": "999999", "ref": "ZJ-1", "note": "注" * 2001})
    errors = _shown(page)
    assert set(errors) == {"note", "amount_cny", "date"}, errors
    assert errors["note"] == [Message("too_long", max_len=2000).shown(lang)]
    assert "请填写出资日期和金额" not in page.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.execute(select(CashFlow).where(CashFlow.investment_id == investment_id)).first() is None
