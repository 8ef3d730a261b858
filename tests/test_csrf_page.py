"""A form whose CSRF token is refused (its session ended — the 8-hour idle limit — or the form
was altered) is answered by a page on base.html in the reader's language: the form had expired
or could not be verified, nothing was saved, and a link back to the page the form was on (the
Referer when it is this site's, else the home page). A page's script or a JSON body gets JSON
with the sentence's key. Always 400, never 5xx."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from models import ApiToken
from tests.conftest import csrf_token, login, make_user
from tests.visible_text import problems, visible_text

FORM = "/admin/tokens"
SAID_ZH = "表单已过期（登录已结束）或无法验证，本次提交未保存任何内容"
SAID_EN = "The form had expired (the session had ended) or could not be verified: nothing was saved"


@pytest.fixture
def admin(app, db, client):
    make_user(db, "root", "admin")
    login(client, "root")  # CSRF off while logging in
    app.config["WTF_CSRF_ENABLED"] = True
    yield client
    app.config["WTF_CSRF_ENABLED"] = False


def _tokens(db) -> int:
    return db.session.execute(select(func.count()).select_from(ApiToken)).scalar()


def _data(page: str, token: str) -> dict:
    key = re.search(r'name="idempotency_key"[^>]*value="([^"]+)"', page).group(1)
    return {"name": "财政局预算系统", "fund_code": "", "days": "30", "idempotency_key": key, "csrf_token": token}


def _back(html: str) -> str:
    return re.search(r'<a id="back-to-form" href="([^"]+)"', html).group(1)


def test_an_altered_form_is_refused_on_a_page_that_says_so_and_leads_back(admin, db):
    page = admin.get(FORM).get_data(as_text=True)
    answer = admin.post(FORM, data=_data(page, "altered" + csrf_token(page)[7:]),
                        headers={"Referer": "http://localhost/admin/tokens?tab=new"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and answer.mimetype == "text/html"
    assert SAID_ZH in visible_text(html) and "表单已过期或无法验证" in html
    assert _back(html) == "/admin/tokens?tab=new"  # the page the form was on
    assert 'class="topbar"' in html and "root" in visible_text(html)  # base.html, the user still signed in
    assert _tokens(db) == 0  # nothing saved
    # sent again from the page (a fresh token) it goes through
    page = admin.get(FORM).get_data(as_text=True)
    assert admin.post(FORM, data=_data(page, csrf_token(page))).status_code == 200 and _tokens(db) == 1


def test_in_english_the_page_is_english(admin, db):
    admin.get("/lang/en")
    page = admin.get(FORM).get_data(as_text=True)
    answer = admin.post(FORM, data=_data(page, "x"), headers={"Referer": "http://localhost/admin/tokens"})
    text = visible_text(answer.get_data(as_text=True))
    assert answer.status_code == 400 and SAID_EN in text and "The form had expired or could not be verified" in text
    assert "Back to the page the form was on" in text
    assert problems(text, "en", allowed=("'中文'",)) == []  # '中文': the switch back to Chinese
    assert _tokens(db) == 0


def test_a_form_sent_after_the_session_ended_says_it_had_expired(admin, db, monkeypatch):
    """The form opened, then sent nine hours later: the session (8 hours idle) has ended, its
    CSRF secret with it. The page says the form had expired and leads back to it (which asks
    for a login)."""
    import itsdangerous.timed

    page = admin.get(FORM).get_data(as_text=True)
    later = itsdangerous.timed.time.time() + 9 * 3600
    monkeypatch.setattr(itsdangerous.timed.time, "time", lambda: later)
    answer = admin.post(FORM, data=_data(page, csrf_token(page)), headers={"Referer": "http://localhost/admin/tokens"})
    html = answer.get_data(as_text=True)
    assert answer.status_code == 400 and SAID_ZH in visible_text(html) and _back(html) == "/admin/tokens"
    assert _tokens(db) == 0
    assert admin.get(_back(html)).status_code == 302  # back there: the login first


@pytest.mark.parametrize("referrer", [None, "https://evil.example/admin/tokens", "http://localhost.evil.example/x",
                                      "https://localhost/admin/tokens", "//evil.example/", "http://[::1/", "javascript:alert(1)",
                                      "http://localhost//evil.example/", "http://localhost/\\evil.example"])
def test_a_referrer_not_of_this_site_leads_home(admin, db, referrer):
    headers = {"Referer": referrer} if referrer else {}
    answer = admin.post(FORM, data={"name": "x", "days": "30", "csrf_token": "x"}, headers=headers)
    assert answer.status_code == 400 and _back(answer.get_data(as_text=True)) == "/"
    assert _tokens(db) == 0


def test_a_script_or_a_json_body_gets_json(admin, db):
    """static/jobs.js starts a report job with Accept: application/json and shows the answer's
    message; a JSON body is answered in JSON too."""
    answer = admin.post("/reports/jobs", data={"fund": "QY", "csrf_token": "x"}, headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.is_json
    body = answer.get_json()
    assert body["key"] == "form_not_verified" and body["status"] == 400 and SAID_ZH in body["message"]
    answer = admin.post(FORM, json={"name": "x"})
    assert answer.status_code == 400 and answer.get_json()["key"] == "form_not_verified"
    assert _tokens(db) == 0
