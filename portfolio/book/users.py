"""Users and their roles."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import generate_password_hash

from models import ROLES, User
from portfolio.book.audit import audit


class UserError(ValueError):
    pass


def create_user(session: Session, username: str, role: str, password: str, *, by: str,
                display_name: str | None = None) -> User:
    """Create a user, or reset the role and password of an existing one."""
    if role not in ROLES:
        raise UserError(f"unknown role {role!r}; one of {', '.join(ROLES)}")
    if not username or len(username) > 64:
        raise UserError("a user name of 1 to 64 characters is needed")
    if len(password) < 8:
        raise UserError("a password of at least 8 characters is needed")
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
    session.commit()
    return user
