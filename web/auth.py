"""Login, logout and roles. Who may do what is decided here, in one place."""
from __future__ import annotations

import hmac
import time
from functools import wraps
from urllib.parse import urlsplit

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import UserMixin, current_user, login_required, login_user, logout_user
from sqlalchemy import Integer, Row, bindparam, select, true
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length

from models import User
from portfolio.book import cache
from portfolio.book.logins import LoginRefused, authenticate
from portfolio.book.tokens import allows, verify_token
from portfolio.book.users import (
    MAX_PASSWORD_LENGTH,
    MIN_PASSWORD_LENGTH,
    USERNAME_MAX_LEN,
    change_own_password,
    end_sessions,
    password_problems,
    sign_out,
)
from portfolio.errors import FieldErrors
from portfolio.messages import error_shown
from web.extensions import db
from web.forms import BaseForm, refuse
from web.i18n import current_lang

bp = Blueprint("auth", __name__)

# What each role may do. `write`: the book (deals, flows, valuations, uploads);
# `approve`: a valuation entered by someone else; `propose`: committee proposals;
# `vote`: in committee meetings; `configure`: fund settings, meetings, users.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"write", "approve", "propose", "configure", "schedule"}),
    "manager": frozenset({"write", "approve", "propose"}),
    "committee": frozenset({"vote"}),
    "viewer": frozenset(),
    # a sub-fund's manager (GP): reports its own sub-funds' quarterly packages, nothing else
    "gp": frozenset({"report"}),
}
# Roles scoped to a portal: they reach only these endpoints (everything else answers 403, the
# API included), and within them only their own sub-funds (sub_fund_scope; 404 otherwise).
SCOPED_ENDPOINTS: dict[str, frozenset[str]] = {
    "gp": frozenset({"gp.portal", "gp.template", "gp.new_package", "gp.upload", "gp.package", "gp.edit_package",
                     "gp.submit", "gp.package_xlsx", "main.home", "auth.logout", "auth.set_language",
                     "auth.change_password"}),
}
# where a scoped role's home page is
LANDING = {"gp": "gp.portal"}
# Endpoints anybody may reach without logging in, and the non-GET ones anybody
# logged in may use whatever the role.
PUBLIC_ENDPOINTS = {"auth.login", "auth.set_language", "static"}  # the login page has a language switch
OPEN_WRITES = {"auth.login", "auth.logout", "auth.set_language", "auth.change_password"}
OPEN_WRITES |= {"reports.start_job", "forecast.start_job"}  # building a report file reads the book only: any role may


class LoginUser(UserMixin):
    def __init__(self, user: User | Row):
        self.id = user.id
        self.username = user.username
        self.display_name = user.display_name or user.username
        self.role = user.role
        self.session_token = user.session_token or ""

    def get_id(self) -> str:
        # the session (and remember-me cookie) names the user *and* the token it was issued
        # under: a new token (logout, password or role change) makes every old one invalid
        return f"{self.id}:{self.session_token}"

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


def load_user(user_id: str) -> LoginUser | None:
    """The user of a session, checked on every request: active, and its token current."""
    number, _sep, token = str(user_id).partition(":")
    if not number.isdigit() or not token:
        return None
    row = db.session.execute(_USER_AND_VERSION, {"user_id": int(number)}).first()
    if row is None:
        return None
    cache.know_version(db.session, row.book_entry_id, row.book_entry_at)  # the page will want it
    if not row.active or not row.session_token or not hmac.compare_digest(row.session_token, token):
        return None
    return LoginUser(row)


# The session's user and the book version, in one query made once (every request asks it).
_USER_AND_VERSION = (
    select(User.id, User.username, User.display_name, User.role, User.active, User.session_token,
           cache.LATEST_ENTRY.c.id.label("book_entry_id"), cache.LATEST_ENTRY.c.at.label("book_entry_at"))
    .outerjoin(cache.LATEST_ENTRY, true()).where(User.id == bindparam("user_id", type_=Integer)))


def current_username() -> str:
    return current_user.username if current_user.is_authenticated else "anonymous"


def require_login_everywhere():
    """Every page needs a login, except the login page; a viewer writes nothing.

    The user is loaded afresh for every request (its session token checked against the
    database): a user remembered on `g` from an earlier request sharing the app context
    (as the test client does) must not stand in for this request's session."""
    g.pop("_login_user", None)
    g.pop("_sub_fund_scope", None)
    if request.endpoint in PUBLIC_ENDPOINTS:
        return None
    if request.path.startswith("/api/"):
        refused = _api_access()
        if refused is not False:
            return refused
    if not current_user.is_authenticated:
        if request.path.startswith("/api/"):
            abort(401)
        return redirect(url_for("auth.login", next=request.full_path))
    if "api_token" not in g and _signed_in_too_long():
        logout_user()
        _fresh_session()
        if request.path.startswith("/api/"):
            abort(401)
        flash(_("登录已满 %(hours)s 小时，请重新登录。", hours=current_app.config["SESSION_ABSOLUTE_HOURS"]), "error")
        return redirect(url_for("auth.login", next=request.full_path))
    if request.routing_exception is not None:
        return None  # no such route or method: the router's own 404 / 405 answers
    if (request.method not in ("GET", "HEAD", "OPTIONS") and request.endpoint not in OPEN_WRITES
            and not PERMISSIONS.get(current_user.role)):
        abort(403)
    if not may_open(request.endpoint):
        abort(403)
    if request.endpoint == "main.home" and current_user.role in LANDING:
        return redirect(url_for(LANDING[current_user.role]))
    return None


def _signed_in_too_long() -> bool:
    """A session ends SESSION_ABSOLUTE_HOURS after its login however busy it is (OWASP's
    absolute timeout: the idle one, PERMANENT_SESSION_LIFETIME, is renewed by every request,
    so a cookie taken and kept in use would otherwise never end). A session from before this
    was kept starts its count now."""
    started = session.get("signed_in_at")
    if not isinstance(started, (int, float)):
        session["signed_in_at"] = int(time.time())
        return False
    return time.time() - started > current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600


def may_open(endpoint: str | None) -> bool:
    """Whether the current user's role reaches an endpoint at all (a scoped role: its portal only)."""
    scoped = SCOPED_ENDPOINTS.get(current_user.role) if current_user.is_authenticated else None
    return scoped is None or endpoint in scoped


def sub_fund_scope() -> list[str] | None:
    """The sub-funds the current user speaks for: a list for a GP (bound by an admin), None
    (every sub-fund) for the fund's own staff. Read afresh for every request."""
    if not current_user.is_authenticated or current_user.role != "gp":
        return None
    if "_sub_fund_scope" not in g:
        from portfolio.gp.packages import sub_funds_of

        g._sub_fund_scope = sub_funds_of(db.session, current_user.id)
    return list(g._sub_fund_scope)


def _api_access():
    """The API's own door. `Authorization: Bearer <token>` (another system): the token must be
    in force and scoped to the fund asked for; reads only. A session cookie (a person's
    browser) is accepted only from this site's own pages, never from a cross-site request.
    Returns None to let the request through, False to go on to the login check."""
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        record = verify_token(db.session, header[7:].strip())
        if record is None:
            abort(401)
        if request.routing_exception is not None:
            return None  # no such route or method: the router's own 404 / 405
        if request.method not in ("GET", "HEAD"):
            abort(403)
        code = (request.view_args or {}).get("code")
        if request.endpoint != "api.openapi" and not allows(record, code):
            abort(403)
        g.api_token = record
        return None
    if request.headers.get("Sec-Fetch-Site") == "cross-site":
        abort(401)
    return False


def requires(*permissions: str):
    """Decorate a view that needs a permission (see PERMISSIONS; any one of several): 403 otherwise."""
    def decorator(view):
        @wraps(view)
        @login_required
        def wrapped(*args, **kwargs):
            if not any(current_user.can(permission) for permission in permissions):
                abort(403)
            return view(*args, **kwargs)
        return wrapped
    return decorator


class LoginForm(BaseForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=USERNAME_MAX_LEN)])
    password = PasswordField(_l("密码"), validators=[DataRequired()])


def safe_next(target: str | None, default: str | None = None) -> str:
    """`target` if it is a path on this site, else `default` (the home page): never another
    site, however written (//host, /\\host, a scheme, control characters)."""
    return target if target and on_this_site(target) else default or url_for("main.home")


def on_this_site(target: str) -> bool:
    """A path on this site, however a hostile one is written (//host, /\\host, a scheme,
    control characters): the one test of safe_next and of the Referer's way back
    (web.security.referrer_on_this_site)."""
    if not target.startswith("/") or target.startswith("//") or "\\" in target \
            or not all(ch.isprintable() for ch in target):
        return False
    parts = urlsplit(target)
    return not parts.netloc and not parts.scheme





@bp.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(db.session, form.username.data, form.password.data, request.remote_addr or "")
        except LoginRefused as refused:
            form.password.errors.append(error_shown(refused.args[0], current_lang()))  # by key
        else:
            if not user.session_token:
                end_sessions(user)
                db.session.commit()
            _fresh_session()  # a fresh session for the new login (no fixation)
            session.permanent = True
            session["signed_in_at"] = int(time.time())
            login_user(LoginUser(user))
            return redirect(safe_next(request.args.get("next")))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    # this browser's session ends first, whatever follows: a book held by an import (BookBusy,
    # a 409 page) must not leave it signed in
    user_id = current_user.id if current_user.is_authenticated else None
    logout_user()
    _fresh_session()
    if user_id is not None:
        sign_out(db.session, user_id)  # every other session of the user too
    return redirect(url_for("auth.login"))


def _fresh_session() -> None:
    """Drop everything the session held but the chosen language (a preference, not a secret)."""
    lang = session.get("lang")
    session.clear()
    if lang:
        session["lang"] = lang


class PasswordForm(BaseForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired()])
    new_password = PasswordField(_l("新密码"), validators=[DataRequired(), Length(max=MAX_PASSWORD_LENGTH)])
    confirm = PasswordField(_l("再次输入新密码"), validators=[DataRequired()])

    def new_password_fits(self) -> bool:
        """The new password, typed twice alike and within the policy (users.password_problems),
        its faults beside its fields whatever else the form refused: one submit says them all.
        (The current password is the use case's to weigh, once the rest is right.)"""
        fits = True
        if self.new_password.data and self.confirm.data and self.new_password.data != self.confirm.data:
            self.confirm.errors = [*self.confirm.errors, _("两次输入的新密码不一致")]
            fits = False
        if not self.new_password.errors:
            problems = password_problems(self.new_password.data or "", current_user.username, field="new_password")
            if problems:
                self.populate_errors(FieldErrors(problems))
                fits = False
        return fits


@bp.route("/account/password", methods=["GET", "POST"])
def change_password():
    """A user changes their own password; their other sessions end, this one goes on."""
    form = PasswordForm()
    if form.is_submitted() and all([form.validate(), form.new_password_fits()]):  # both run: every error at once
        try:
            user = change_own_password(db.session, current_user.id, form.current_password.data,
                                       form.new_password.data)
        except FieldErrors as exc:
            refuse(exc, form)
        else:
            login_user(LoginUser(user))  # this session under the new token
            flash(_("密码已修改；其他设备上的登录已失效。"))
            return redirect(url_for("main.home"))
    return render_template("auth/password.html", form=form, min_len=MIN_PASSWORD_LENGTH)


@bp.route("/lang/<code>")
def set_language(code: str):
    if code in ("zh", "en"):
        session["lang"] = code
    return redirect(safe_next(request.args.get("next") or request.referrer and urlsplit(request.referrer).path))
