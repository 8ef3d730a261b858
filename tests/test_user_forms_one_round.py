"""The forms that make a user (the admin's new user, the GP invitation) and a user's own new
password say every fault on one submit, in the use cases' words, and the password's rules have
one source (users.password_problems). Before, the new-user form asked at least 8 characters
(WTForms' "字段长度必须介于 8 到 200 个字符之间。") where the policy asks 10, a form its own checks
refused never said the password's faults (they came on the next submit), and a display name
over the column's 100 characters reached the database from the command line. On SQLite and
PostgreSQL (DATABASE_URL)."""
from __future__ import annotations

import html

import pytest
from sqlalchemy import func, select

from models import AuditEntry, User
from portfolio.book import users
from portfolio.errors import FieldErrors
from portfolio.messages import Message
from tests.conftest import PASSWORD, login, make_user
from tests.test_error_texts import _errors
from tests.test_gp_portal import book as book  # noqa: F401  (the fixture: the example book, SF9, gp1, admin1, viewer1)


def _count(db, model) -> int:
    db.session.expire_all()
    return db.session.execute(select(func.count()).select_from(model)).scalar_one()


def _shown(page) -> dict[str, list[str]]:
    assert page.status_code == 200, page.status_code
    return {field: [html.unescape(e) for e in said] for field, said in _errors(page.get_data(as_text=True)).items()}


SHORT = Message("password_short", min_len=users.MIN_PASSWORD_LENGTH)
TOO_LONG_PASSWORD = Message("too_long", max_len=users.MAX_PASSWORD_LENGTH)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_new_user_with_no_name_and_a_short_password_shows_both_at_once_and_writes_nothing(db, as_role, lang):
    client = as_role("admin")
    client.get(f"/lang/{lang}")
    people, entries = _count(db, User), _count(db, AuditEntry)
    errors = _shown(client.post("/admin/users/new", data={"username": "", "role": "viewer", "password": "abc1234"}))
    assert errors == {"username": [Message("required").shown(lang)], "password": [SHORT.shown(lang)]}
    assert (_count(db, User), _count(db, AuditEntry)) == (people, entries)


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("password", ["abc1234", "abcdefgh9"])
def test_a_password_under_the_policy_s_length_reads_the_policy_whichever_check_caught_it(db, as_role, lang, password):
    """7 characters (the form's old minimum refused it in WTForms' words, naming 8) and 9 (the
    form let it through): both read the policy's 10."""
    client = as_role("admin")
    client.get(f"/lang/{lang}")
    page = client.post("/admin/users/new", data={"username": "new1", "role": "viewer", "password": password})
    assert _shown(page) == {"password": [SHORT.shown(lang)]}
    assert "8" not in html.unescape(page.get_data(as_text=True)).split('data-field="password">')[1].split("<")[0]


def test_a_password_over_the_limit_is_refused_by_the_form_and_by_the_use_case(db, as_role):
    client = as_role("admin")
    long = "甬江-晨跑-" + "x" * users.MAX_PASSWORD_LENGTH
    errors = _shown(client.post("/admin/users/new", data={"username": "new1", "role": "viewer", "password": long}))
    assert errors == {"password": [TOO_LONG_PASSWORD.shown("zh")]}
    with pytest.raises(users.UserError) as refused:  # the command's and the API's way in
        users.create_user(db.session, "new1", "viewer", long, by="test")
    assert refused.value.errors == [("password", TOO_LONG_PASSWORD)]
    assert _count(db, User) == 1  # the admin only


def test_a_display_name_over_the_column_is_refused_by_the_use_case_not_the_database(db, runner):
    """The command line has no form: the use case refuses it, in words, and writes nothing (on
    PostgreSQL the database had refused it with an error; SQLite had stored all of it)."""
    result = runner.invoke(args=["create-user", "carol", "--role", "viewer", "--password", "甬江-晨跑-2026-秋",
                                 "--display-name", "张" * (users.DISPLAY_NAME_MAX_LEN + 1)])
    assert result.exit_code != 0
    assert Message("too_long", max_len=users.DISPLAY_NAME_MAX_LEN).shown("zh") in result.output
    assert isinstance(result.exception, SystemExit)  # refused, not failed
    assert db.session.execute(select(User).where(User.username == "carol")).scalar() is None
    done = runner.invoke(args=["create-user", "carol", "--role", "viewer", "--password", "甬江-晨跑-2026-秋",
                               "--display-name", "张" * users.DISPLAY_NAME_MAX_LEN])
    assert done.exit_code == 0, done.output


def test_a_name_taken_and_a_short_password_show_both_at_once(db, as_role):
    make_user(db, "carol", "viewer")
    client = as_role("admin")
    errors = _shown(client.post("/admin/users/new", data={"username": " carol ", "role": "nobody", "password": "short"}))
    assert errors["username"] == [Message("username_taken", name="carol").shown("zh")]
    assert errors["password"] == [SHORT.shown("zh")]
    assert errors["role"]  # the form's own: not one of the choices


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_an_invitation_shows_every_fault_at_once_and_invites_nobody(db, client, book, lang):
    login(client, "admin1")
    client.get(f"/lang/{lang}")
    people, entries = _count(db, User), _count(db, AuditEntry)
    errors = _shown(client.post("/gp/invite", data={"username": "", "password": "short", "sub_funds": []}))
    required = Message("required").shown(lang)
    assert errors == {"username": [required], "sub_funds": [required], "password": [SHORT.shown(lang)]}
    errors = _shown(client.post("/gp/invite", data={"username": "viewer1", "password": "x" * 201,
                                                    "sub_funds": ["SF1"]}))
    assert errors == {"username": [Message("username_not_gp", name="viewer1").shown(lang)],
                      "password": [TOO_LONG_PASSWORD.shown(lang)]}
    assert (_count(db, User), _count(db, AuditEntry)) == (people, entries)


def test_the_invitation_s_use_case_says_every_fault_at_once(db, book):
    from portfolio.gp import packages

    with pytest.raises(FieldErrors) as refused:
        packages.invite_gp(db.session, "viewer1", "short", ["NOPE"], by="test")
    assert sorted(field for field, _ in refused.value.errors) == ["password", "sub_funds", "username"]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_a_new_password_s_faults_show_with_the_form_s_on_one_submit(client, db, lang):
    make_user(db, "carol", "viewer")
    login(client, "carol")
    client.get(f"/lang/{lang}")
    hint = {"zh": f"新密码至少 {users.MIN_PASSWORD_LENGTH} 个字符", "en": f"At least {users.MIN_PASSWORD_LENGTH} characters"}
    assert hint[lang] in client.get("/account/password").get_data(as_text=True)  # the policy's figure, from it
    # the confirmation left empty (the form's) and a new password under the policy (the use case's)
    errors = _shown(client.post("/account/password", data={"current_password": PASSWORD, "new_password": "short",
                                                           "confirm": ""}))
    assert errors == {"confirm": [Message("required").shown(lang)], "new_password": [SHORT.shown(lang)]}
    # the two typings differ and the new one is the user's name: both said, the current one still right
    errors = _shown(client.post("/account/password", data={"current_password": "", "new_password": "carol-carol-1",
                                                           "confirm": "carol-carol-2"}))
    assert set(errors) == {"current_password", "new_password", "confirm"}
    assert errors["new_password"] == [Message("password_has_username").shown(lang)]
    # nothing changed: the old password still logs in
    client.post("/logout")
    assert login(client, "carol").status_code == 302
