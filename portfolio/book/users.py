"""Users and their roles."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from models import ROLES, User
from portfolio.book.audit import audit
from portfolio.book.unit import commit
from portfolio.errors import FieldErrors


class UserError(FieldErrors):
    """A user that cannot be saved as asked; the pairs name the form's fields."""


def create_user(session: Session, username: str, role: str, password: str, *, by: str,
                display_name: str | None = None) -> User:
    """Create a user, or reset the role and password of an existing one."""
    if role not in ROLES:
        raise UserError([("role", f"未知的角色：{role}（可选：{'、'.join(ROLES)}）")])
    if not username or len(username) > 64:
        raise UserError([("username", "用户名须为 1–64 个字符")])
    if len(password) < 8:
        raise UserError([("password", "密码至少 8 个字符")])
    user = session.execute(select(User).where(User.username == username)).scalar_one_or_none()
    before = None
    if user is None:
        user = User(username=username, role=role, password_hash=generate_password_hash(password),
                    display_name=display_name)
        session.add(user)
    else:
        before = {"role": user.role, "active": user.active}
        user.role, user.active = role, True
        user.password_hash = generate_password_hash(password)
        if display_name:
            user.display_name = display_name
    audit(session, by, "update" if before else "create", "users", username,
          before=before, after={"role": role, "active": True})  # never the password
    commit(session)
    return user
