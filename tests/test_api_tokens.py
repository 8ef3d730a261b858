"""API tokens: issued by an admin for one fund (or all), shown once, stored hashed, scoped,
expiring, revocable, audited when issued and revoked, counted on every use; a session
cookie is never accepted from a cross-site request."""
from __future__ import annotations

import datetime as dt
import re

import pytest
from sqlalchemy import select

from models import ApiToken, AuditEntry
from portfolio.book import tokens
from portfolio.interchange.importing import import_book
from tests.conftest import EXAMPLE_BOOK, login, make_user


@pytest.fixture
def book(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    return db.session


def _bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


def test_an_admin_issues_a_token_shown_once_and_stored_hashed(app, db, book, client):
    make_user(db, "root", "admin")
    login(client, "root")
    page = client.post("/admin/tokens", data={"name": "财政局预算系统", "fund_code": "QY", "days": "30"},
                       follow_redirects=True).get_data(as_text=True)
    token = re.search(r"(fbk_[A-Za-z0-9_-]{20,})", page).group(1)
    record = db.session.execute(select(ApiToken)).scalar_one()
    assert record.fund_code == "QY" and token not in (record.token_hash, record.name) and len(record.token_hash) == 64
    assert token not in client.get("/admin/tokens").get_data(as_text=True)  # never shown again
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "api_tokens")).scalar_one()
    assert token not in str(entry.after) and "token_hash" not in (entry.after or {})
    other = app.test_client()  # another system: no cookie, the token only
    response = other.get("/api/v1/funds/QY/report?as_of=2025-12-31", headers=_bearer(token))
    assert response.status_code == 200 and response.get_json()["fund"] == "QY"
    db.session.expire_all()
    assert db.session.get(ApiToken, record.id).uses == 1


def test_a_token_reads_its_fund_only_and_nothing_once_revoked_or_expired(app, db, book):
    token, record = tokens.issue_token(db.session, "甬江系统", "QY", 30, by="root")
    api = app.test_client()
    assert api.get("/api/v1/funds/QY/report", headers=_bearer(token)).status_code == 200
    assert api.get("/api/v1/funds/NOPE/report", headers=_bearer(token)).status_code == 403
    assert api.post("/api/v1/funds/QY/report", headers=_bearer(token)).status_code == 405
    assert api.get("/funds/QY", headers=_bearer(token)).status_code == 302  # the screens want a login
    assert api.get("/api/v1/funds/QY/report", headers=_bearer("fbk_wrong")).status_code == 401
    tokens.revoke_token(db.session, record.id, by="root")
    assert api.get("/api/v1/funds/QY/report", headers=_bearer(token)).status_code == 401
    token2, record2 = tokens.issue_token(db.session, "all", None, 1, by="root")
    assert api.get("/api/v1/funds/QY/report", headers=_bearer(token2)).status_code == 200
    record2.expires_at = dt.datetime(2000, 1, 1)
    db.session.commit()
    assert api.get("/api/v1/funds/QY/report", headers=_bearer(token2)).status_code == 401
    actions = [e.action for e in db.session.execute(select(AuditEntry).where(AuditEntry.entity == "api_tokens"))
               .scalars()]
    assert actions == ["create", "revoke", "create"]


def test_a_session_cookie_is_refused_on_a_cross_site_api_call(db, book, client):
    make_user(db, "viewer9", "viewer")
    login(client, "viewer9")
    assert client.get("/api/v1/funds/QY/report", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200
    response = client.get("/api/v1/funds/QY/report", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 401 and response.is_json


@pytest.mark.parametrize("fields, field", [({"name": "", "fund_code": "", "days": "30"}, "name"),
                                           ({"name": "x", "fund_code": "NOPE", "days": "30"}, "fund_code"),
                                           ({"name": "x", "fund_code": "", "days": "0"}, "days")])
def test_bad_token_requests_are_refused_beside_the_field(db, book, fields, field):
    from portfolio.errors import FieldErrors

    with pytest.raises(FieldErrors) as refused:
        tokens.issue_token(db.session, fields["name"], fields["fund_code"], int(fields["days"]), by="root")
    assert field in {f for f, _m in refused.value.errors}


def _session_data(app, client) -> str:
    """What the browser's session cookie holds, read as anyone who sees the cookie can (it is
    signed, not encrypted)."""
    cookie = client.get_cookie("session")
    return "" if cookie is None else str(app.session_interface.get_signing_serializer(app).loads(cookie.value))


def test_a_secret_is_on_the_answering_page_never_in_the_session_cookie(app, db, book, client):
    """A new token, and a password an admin resets, were flashed: carried in the signed but
    readable session cookie. They are now on the page that answers the form, and only there;
    the token form sent again (a reload) issues no second token and shows none."""
    from sqlalchemy import func

    from models import User
    from tests.test_idempotency import _key

    make_user(db, "root", "admin")
    make_user(db, "bob", "viewer")
    login(client, "root")
    key = _key(client, "/admin/tokens")
    data = {"name": "财政局预算系统", "fund_code": "QY", "days": "30", "idempotency_key": key}
    answer = client.post("/admin/tokens", data=data)
    assert answer.status_code == 200
    token = re.search(r"(fbk_[A-Za-z0-9_-]{20,})", answer.get_data(as_text=True)).group(1)
    assert token not in _session_data(app, client)
    again = client.post("/admin/tokens", data=data, follow_redirects=True).get_data(as_text=True)
    assert token not in again and db.session.execute(select(func.count()).select_from(ApiToken)).scalar() == 1
    bob = db.session.execute(select(User.id).where(User.username == "bob")).scalar()
    assert answer.headers["Cache-Control"] == "no-store"
    key = _key(client, "/admin/users")
    reset = client.post(f"/admin/users/{bob}/password", data={"idempotency_key": key})
    page = reset.get_data(as_text=True)
    assert reset.status_code == 200 and "已为 bob 设置新密码" in page and reset.headers["Cache-Control"] == "no-store"
    password = re.search(r"设置新密码：(\S+?)（", page).group(1)
    assert password not in _session_data(app, client) and password not in client.get("/admin/users").get_data(as_text=True)
    # the reset sent again (a reload) resets nothing: the password shown is still bob's
    resets = lambda: db.session.execute(select(func.count()).select_from(AuditEntry).where(  # noqa: E731
        AuditEntry.action == "password_reset")).scalar()
    before = resets()
    again = client.post(f"/admin/users/{bob}/password", data={"idempotency_key": key}, follow_redirects=True)
    assert again.status_code == 200 and password not in again.get_data(as_text=True) and resets() == before


def test_a_token_revoked_by_another_process_is_refused_on_the_very_next_call(app, db, book, database_url):
    """A revocation made in another process (another gunicorn worker, a command) refuses the
    token's next call here. The token had been read by this session (the test client's calls
    share it): a SELECT of it kept what was read then, and the first call after the
    revocation was still answered."""
    import subprocess
    import sys

    token, record = tokens.issue_token(db.session, "甬江系统", "QY", 30, by="root")
    api = app.test_client()
    assert api.get("/api/v1/funds/QY/report", headers=_bearer(token)).status_code == 200
    revoke = ("import sys; from sqlalchemy import create_engine; from sqlalchemy.orm import Session;"
              "from portfolio.book.tokens import revoke_token;"
              "session = Session(create_engine(sys.argv[1]));"
              "print(revoke_token(session, int(sys.argv[2]), by='root').revoked_at is not None)")
    done = subprocess.run([sys.executable, "-c", revoke, database_url, str(record.id)], capture_output=True,
                          text=True, timeout=120)
    assert done.stdout.strip() == "True", done.stderr
    answers = [api.get("/api/v1/funds/QY/report", headers=_bearer(token)).status_code for _ in range(2)]
    assert answers == [401, 401]
    db.session.expire_all()
    assert db.session.get(ApiToken, record.id).uses == 1  # the refused calls are not counted


def test_a_revocation_landing_between_the_check_and_the_use_refuses_the_call(app, db, book, monkeypatch):
    """A call checked the token, then (the clock read, say) the revocation committed, then the
    call counted its use and was answered: after the revocation. The check and the count are
    now one statement, so the revocation is either before both (refused) or after both."""
    import threading

    from tests.races import race, slowed

    token, record = tokens.issue_token(db.session, "甬江系统", "QY", 30, by="root")
    token_id = record.id
    started = threading.Event()
    slowed(monkeypatch, tokens, "utcnow", started, after=True)  # verify's clock read, then a pause
    used, revoked = race(app, db, lambda s: tokens.verify_token(s, token),
                         lambda s: tokens.revoke_token(s, token_id, by="root").revoked_at, started)
    assert revoked is not None
    assert used is None  # the revocation was committed before this call's use: refused
    assert db.session.get(ApiToken, token_id).uses == 0


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("days", ["abc", "1e9", "0", str(tokens.MAX_DAYS + 1), "2.5"])
def test_a_token_s_faults_show_at_once_beside_their_fields_in_the_use_case_s_words(db, book, client, lang, days):
    """The name left empty and the days not a life a token may have: both beside their
    fields on one submit, the days in the use case's sentence (1 to MAX_DAYS days), and no
    token issued. Before, the form said only the name's fault; days that were not a whole
    number read the view's own 请输入天数 and those out of range the use case's, a submit later."""
    import html

    from portfolio.messages import Message
    from tests.test_error_texts import _errors

    make_user(db, "root", "admin")
    login(client, "root")
    client.get(f"/lang/{lang}")
    page = client.post("/admin/tokens", data={"name": "", "fund_code": "QY", "days": days})
    assert page.status_code == 200
    errors = {f: [html.unescape(m) for m in said] for f, said in _errors(page.get_data(as_text=True)).items()}
    assert errors == {"name": [Message("required").shown(lang)],
                      "days": [Message("token_days", max_days=tokens.MAX_DAYS).shown(lang)]}
    assert db.session.execute(select(ApiToken)).scalar() is None


def test_a_token_s_days_may_be_typed_as_the_form_sends_them(db, book):
    """The use case reads the days as typed (the form's text, a command's number) alike."""
    _token, record = tokens.issue_token(db.session, " 预算系统 ", "QY", " 30 ", by="root")
    assert record.name == "预算系统" and (record.expires_at - record.created_at).days == 30
