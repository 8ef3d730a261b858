"""Users, their roles and passwords, and the sessions they hold.

Password policy: at least 10 characters and at most 200, not the user name, and not a common
password (common_passwords.txt, also with digits and symbols stripped from around a word). Every
session carries the user's session token (models.User.session_token): changing it — on
logout, a password change or reset, a role change, a deactivation — ends every session
and remember-me cookie the user had, on every worker and host.
"""
from __future__ import annotations

import re
import secrets
from functools import lru_cache
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from models import ROLES, User
from portfolio.book.audit import audit
from portfolio.book.unit import commit, flush
from portfolio.commands import UserCommand
from portfolio.errors import FieldErrors
from portfolio.messages import Message


class UserError(FieldErrors):
    """A user that cannot be saved as asked; the pairs name the form's fields."""


MIN_PASSWORD_LENGTH = 10
# a longer password says nothing more, and hashing one of megabytes (a form's, the API's or a
# command's) would hold a worker; the forms take the limit from here
MAX_PASSWORD_LENGTH = 200
USERNAME_MAX_LEN = 64  # models.User.username
DISPLAY_NAME_MAX_LEN = 100  # models.User.display_name (a command's longer one failed on PostgreSQL, unsaid)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    text = (Path(__file__).with_name("common_passwords.txt")).read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def password_problems(password: str, username: str = "", *, field: str = "password") -> list[tuple[str, Message]]:
    """Why a new password is refused, as (field, message) pairs; [] when it is fine."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return [(field, Message("password_short", min_len=MIN_PASSWORD_LENGTH))]
    if len(password) > MAX_PASSWORD_LENGTH:
        return [(field, Message("too_long", max_len=MAX_PASSWORD_LENGTH))]
    lowered = password.lower()
    core = re.sub(r"^[\d\W_]+|[\d\W_]+$", "", lowered)
    if lowered in common_passwords() or core in common_passwords() or len(set(lowered)) <= 2:
        return [(field, Message("password_common"))]
    if username and username.lower() in lowered:
        return [(field, Message("password_has_username"))]
    return []


def random_password(username: str) -> str:
    """A random password the rules take for this user (one shown once: a reset, the demo's).
    Sixteen random characters hold a short name now and then ('li' in about 1.5 % of them),
    which the rules refuse: drawn again until they take it."""
    while True:
        password = secrets.token_urlsafe(12)
        if not password_problems(password, username):
            return password


def new_session_token() -> str:
    return secrets.token_hex(16)


def end_sessions(user: User) -> None:
    """Every session and remember-me cookie the user holds stops working (uncommitted)."""
    user.session_token = new_session_token()


def sign_out(session: Session, user_id: int) -> None:
    """Logout: the user's sessions end everywhere, not only this browser's cookie."""
    user = session.get(User, user_id)
    if user is not None:
        end_sessions(user)
        commit(session)


def _set_password(session: Session, user: User, password: str, *, by: str, action: str,
                  field: str = "password") -> None:
    problems = password_problems(password, user.username, field=field)
    if problems:
        raise UserError(problems)
    user.password_hash = generate_password_hash(password)
    end_sessions(user)
    audit(session, by, action, "users", user.username, after={"password": "（已更改）"})  # never the password


def change_own_password(session: Session, user_id: int, current: str, new: str) -> User:
    """A user changes their own password: the current one first. Their other sessions end."""
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise UserError([("", Message("user_gone"))])
    if not check_password_hash(user.password_hash, current):
        raise UserError([("current_password", Message("wrong_password"))])
    _set_password(session, user, new, by=user.username, action="password", field="new_password")
    commit(session)
    return user


def reset_password(session: Session, user_id: int, new: str, *, by: str) -> User:
    """An admin sets a user's password (e.g. a forgotten one); the user's sessions end."""
    user = session.get(User, user_id)
    if user is None:
        raise UserError([("", Message("user_missing"))])
    _set_password(session, user, new, by=by, action="password_reset")
    commit(session)
    return user


def create_user(session: Session, username: str, role: str, password: str, *, by: str,
                display_name: str | None = None, replace: bool = True) -> User:
    """Create a user, or reset the role and password of an existing one (`replace`: the
    operator's command; the admin screen's new user is new or refused, even when another
    admin creates the same name at that moment)."""
    user = add_user(session, username, role, password, by=by, display_name=display_name, replace=replace)
    commit(session)
    return user


def user_problems(session: Session, username: str | None, role: str | None, password: str | None, *,
                  display_name: str | None = None, replace: bool = True) -> list[tuple[str, Message]]:
    """Why a user cannot be saved as asked, every reason at once, as (field, message) pairs; []
    when it can. Nothing is written. A value None is one a form has refused already: not
    checked again (web.forms.checked_too). `replace` as add_user's."""
    problems: list[tuple[str, Message]] = []
    if role is not None and role not in ROLES:
        problems.append(("role", Message("role_unknown", role=role, people=list(ROLES))))
    if username is not None:
        if not username or len(username) > USERNAME_MAX_LEN:
            problems.append(("username", Message("username_length")))
        elif not replace and session.execute(select(User.id).where(User.username == username)).first():
            problems.append(("username", Message("username_taken", name=username)))
    if display_name is not None and len(display_name) > DISPLAY_NAME_MAX_LEN:
        problems.append(("display_name", Message("too_long", max_len=DISPLAY_NAME_MAX_LEN)))
    if password is not None:
        problems += password_problems(password, username or "")
    return problems


def typed_username(username: str | None) -> str | None:
    """A login name as a form typed it, as the use cases keep it (without the spaces around it);
    None, a name the form refused already, stays None."""
    return username.strip() if username is not None else None


def check_user(session: Session, fields: UserCommand) -> None:
    """The admin screen's checks of a new user (add_user's, the name new), nothing written."""
    problems = user_problems(session, typed_username(fields.username),
                             fields.role, fields.password, display_name=fields.display_name, replace=False)
    if problems:
        raise UserError(problems)


def add_user(session: Session, username: str, role: str, password: str, *, by: str,
             display_name: str | None = None, replace: bool = True) -> User:
    """create_user's step, flushed and audited but not committed (the GP invitation composes it)."""
    problems = user_problems(session, username, role, password, display_name=display_name, replace=replace)
    if problems:
        raise UserError(problems)
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    if user is not None and not replace:  # made since user_problems looked: another admin's, at once
        raise UserError([("username", Message("username_taken", name=username))])
    before = None
    if user is None:
        user = User(username=username, role=role, password_hash=generate_password_hash(password),
                    display_name=display_name, session_token=new_session_token())
        session.add(user)
    else:
        before = {"role": user.role, "active": user.active}
        user.role, user.active = role, True
        user.password_hash = generate_password_hash(password)
        end_sessions(user)
        if display_name:
            user.display_name = display_name
    audit(session, by, "update" if before else "create", "users", username,
          before=before, after={"role": role, "active": True})  # never the password
    flush(session)  # the same new name at once: the unique key refuses the second, a form error
    return user
