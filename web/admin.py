"""Administration (admin only): users and their roles. Passwords are never shown."""
from __future__ import annotations

import secrets

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from models import Fund, User, utcnow
from portfolio.book import records
from portfolio.book.tokens import issue_token, revoke_token
from portfolio.book.tokens import tokens as list_tokens
from portfolio.book.users import create_user
from portfolio.book.users import reset_password as reset_user_password
from portfolio.errors import FieldErrors
from web.auth import current_username, requires
from web.extensions import db
from web.forms import ConfirmForm, RoleForm, TokenForm, UserForm, refuse
from web.i18n import fund_name

bp = Blueprint("admin", __name__, url_prefix="/admin")


@bp.route("/users")
@requires("configure")
def users():
    people = db.session.execute(select(User).order_by(User.username)).scalars().all()
    role_forms = {}
    for user in people:
        form = RoleForm(prefix=f"u{user.id}", role=user.role)
        form.set_choices()
        role_forms[user.id] = form
    return render_template("admin/users.html", users=people, role_forms=role_forms, confirm=ConfirmForm())


@bp.route("/users/new", methods=["GET", "POST"])
@requires("configure")
def new_user():
    form = UserForm()
    form.set_choices()
    if form.validate_on_submit():
        taken = db.session.execute(select(User.id).where(User.username == form.username.data.strip())).first()
        if taken:
            form.username.errors = list(form.username.errors) + [_("用户名已存在")]
        else:
            try:
                create_user(db.session, form.username.data.strip(), form.role.data, form.password.data,
                            by=current_username(), display_name=form.display_name.data or None)
            except FieldErrors as exc:
                refuse(exc, form)
            else:
                flash(_("用户 %(name)s 已创建。", name=form.username.data.strip()))
                return redirect(url_for(".users"))
    return render_template("admin/user_form.html", form=form)


def _flash_errors(exc: FieldErrors) -> None:
    refuse(exc)


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@requires("configure")
def change_role(user_id: int):
    form = RoleForm(prefix=f"u{user_id}")
    form.set_choices()
    if form.validate_on_submit():
        try:
            user = records.change_role(db.session, user_id, form.role.data, username=current_username())
        except FieldErrors as exc:
            _flash_errors(exc)
        else:
            flash(_("已将 %(name)s 的角色改为 %(role)s。", name=user.username, role=form.role.data))
    else:
        flash(_("角色无效"), "error")
    return redirect(url_for(".users"))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@requires("configure")
def deactivate(user_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            user = records.deactivate_user(db.session, user_id, username=current_username())
        except FieldErrors as exc:
            _flash_errors(exc)
        else:
            flash(_("用户 %(name)s 已停用。", name=user.username))
    return redirect(url_for(".users"))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@requires("configure")
def reset_password(user_id: int):
    """A new random password for a user, shown to the admin once; the user's sessions end."""
    if ConfirmForm().validate_on_submit():
        password = secrets.token_urlsafe(12)
        try:
            user = reset_user_password(db.session, user_id, password, by=current_username())
        except FieldErrors as exc:
            _flash_errors(exc)
        else:
            flash(_("已为 %(name)s 设置新密码：%(password)s（只显示这一次，请当面或另行安全告知）",
                    name=user.username, password=password))
    return redirect(url_for(".users"))


@bp.route("/tokens", methods=["GET", "POST"])
@requires("configure")
def api_tokens():
    """API tokens for other systems: issue one (shown once), see their use, revoke."""
    form = TokenForm()
    form.fund_code.choices = [("", _("全部基金"))] + [
        (f.code, f"{f.code} {fund_name(f)}") for f in db.session.execute(select(Fund).order_by(Fund.code)).scalars()]
    if form.validate_on_submit():
        try:
            token, record = issue_token(db.session, form.name.data, form.fund_code.data or None,
                                        int(form.days.data or 0), by=current_username())
        except (FieldErrors, ValueError) as exc:
            if isinstance(exc, FieldErrors):
                refuse(exc, form)
            else:
                form.days.errors = [_("请输入天数")]
        else:
            flash(_("令牌 %(name)s 已签发：%(token)s（只显示这一次，请立即复制保存）", name=record.name, token=token))
            return redirect(url_for(".api_tokens"))
    return render_template("admin/tokens.html", form=form, tokens=list_tokens(db.session), confirm=ConfirmForm(),
                           now=utcnow())


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@requires("configure")
def revoke_api_token(token_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            record = revoke_token(db.session, token_id, by=current_username())
        except FieldErrors as exc:
            _flash_errors(exc)
        else:
            flash(_("令牌 %(name)s 已吊销。", name=record.name))
    return redirect(url_for(".api_tokens"))
