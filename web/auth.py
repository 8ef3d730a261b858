"""Login, logout and roles. Who may do what is decided here, in one place."""
from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.security import check_password_hash
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models import User
from web.extensions import db
from web.forms import BaseForm

bp = Blueprint("auth", __name__)

# What each role may do. `write`: the book (deals, flows, valuations, uploads);
# `approve`: a valuation entered by someone else; `propose`: committee proposals;
# `vote`: in committee meetings; `configure`: fund settings, meetings, users.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"write", "approve", "propose", "configure", "schedule"}),
    "manager": frozenset({"write", "approve", "propose"}),
    "committee": frozenset({"vote"}),
    "viewer": frozenset(),
}
# Endpoints anybody may reach without logging in, and the non-GET ones anybody
# logged in may use whatever the role.
PUBLIC_ENDPOINTS = {"auth.login", "static"}
OPEN_WRITES = {"auth.login", "auth.logout", "auth.set_language"}


class LoginUser(UserMixin):
    def __init__(self, user: User):
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name or user.username
        self.role = user.role

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def load_user(user_id: str) -> LoginUser | None:
    user = db.session.get(User, int(user_id))
    return LoginUser(user) if user is not None and user.active else None


def current_username() -> str:
    return current_user.username if current_user.is_authenticated else "anonymous"


def require_login_everywhere():
    """Every page needs a login, except the login page; a viewer writes nothing."""
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path))
    if (request.method not in ("GET", "HEAD", "OPTIONS") and request.endpoint not in OPEN_WRITES
            and not PERMISSIONS.get(current_user.role)):
        abort(403)
    return None


def requires(permission: str):
    """Decorate a view that needs a permission (see PERMISSIONS): 403 otherwise."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not current_user.can(permission):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


class LoginForm(BaseForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("密码"), validators=[DataRequired()])


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("main.home")


@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = db.session.execute(select(User).where(User.username == form.username.data)).scalar_one_or_none()
        if user is not None and user.active and check_password_hash(user.password_hash, form.password.data):
            login_user(LoginUser(user))
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append(_("用户名或密码错误"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    logout_user()
    return redirect(url_for("auth.login"))


@bp.route("/lang/<code>")
def set_language(code: str):
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(_safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))
