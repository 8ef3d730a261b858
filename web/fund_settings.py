"""Screen: a fund's settings (rule limits, home region, MIRR rates, quorum), admin only. A change
is asked for and applied once another user with `approve` approves it (maker-checker)."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from models import INSTRUMENTS, Fund
from portfolio.book.fund_settings import (
    approve_fund_settings,
    check_fund_settings,
    decline_fund_settings,
    request_fund_settings,
    settings_version,
    shown,
    spec_for,
    waiting_settings,
)
from portfolio.errors import FieldErrors
from portfolio.figures.settings import defaults_for, fund_settings
from portfolio.vocabulary import label
from web.auth import current_username, requires, safe_next
from web.extensions import db
from web.fields import AmountField
from web.forms import BaseForm, Said, asker_of, decide, refuse, refuse_rest
from web.i18n import current_lang

bp = Blueprint("fund_settings", __name__, url_prefix="/funds/<code>/settings")


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def _settings_form(kind: str):
    """A form with one field per setting of portfolio.figures.settings, in its order."""
    fields = {}
    for key in defaults_for(kind):
        spec = spec_for(key)
        if spec.kind == "amount":  # typed in 万元 (or 元), like every amount of every form
            fields[key] = AmountField(_(spec.label), validators=[Optional()])
        elif spec.kind == "instruments":
            fields[key] = MultiCheckboxField(_(spec.label), choices=[
                SelectChoice(code, label("instrument", code, lang=current_lang())) for code in INSTRUMENTS])
        else:
            fields[key] = StringField(_(spec.label), validators=[Optional(), Length(max=40)])
    fields["version"] = HiddenField()  # the settings as shown: a save never writes over a later one
    # why the change is asked for, shown to the checker (required: the use case's check, beside the field)
    fields["change_reason"] = TextAreaField(_("修改理由"), render_kw={"maxlength": 2000, "rows": 3})
    return type("FundSettingsForm", (BaseForm,), fields)


@bp.route("", methods=["GET", "POST"])
@requires("configure")
def edit(code: str):
    fund = db.session.get(Fund, code)
    if fund is None:
        abort(404)
    lang = current_lang()
    defaults = defaults_for(fund.kind)
    in_force = fund_settings(fund.kind, fund.settings)
    form_class = _settings_form(fund.kind)
    form = form_class()
    if form.validate_on_submit():
        values = {key: form[key].data for key in defaults}
        try:
            asked = request_fund_settings(db.session, code, values, username=current_username(),
                                          reason=form.change_reason.data, version=form.version.data or None)
        except FieldErrors as exc:
            refuse(exc, form)
        else:
            flash(_("设置修改申请已提交，须由另一位有审批权限的用户批准后生效；在此之前仍按现行设置。") if asked is not None
                  else _("设置没有变化。"))
            return redirect(url_for(".edit", code=code))
    elif form.is_submitted():  # the form's refusals and the use case's checks of the rest, on one submit
        refused = {key for key in defaults if form[key].errors}
        refuse_rest(lambda: check_fund_settings(db.session, code, {key: None if key in refused else form[key].data
                                                                   for key in defaults},
                                                reason=form.change_reason.data), form)
    else:
        form.version.data = settings_version(fund.settings)
        for key in defaults:
            value = in_force[key]
            amount = spec_for(key).kind == "amount"  # its field writes it in 万元 itself
            # as the history writes it (35%, not the stored 0.35), and read back the same
            form[key].data = value if isinstance(value, list) or amount else shown(key, value, lang)
    # the defaults as the history writes a setting: one function for both (fund_settings.shown)
    rows = [(form[key], shown(key, defaults[key], lang), _(spec_for(key).hint) if spec_for(key).hint else "",
             key in (fund.settings or {}))
            for key in defaults]
    return render_template("fund_settings/edit.html", fund=fund, form=form, rows=rows,
                           waiting=waiting_settings(db.session, code))


@bp.app_template_filter("setting_rows")
def setting_rows(asked) -> list[tuple[str, str, str]]:
    """(setting, in force now, as asked) of a change waiting, in the settings page's words."""
    lang = current_lang()
    return [(_(spec_for(key).label), shown(key, now, lang), shown(key, then, lang)) for key, now, then in asked.rows]


def _decide(code: str, approve: bool):
    """A checker's answer to a change of settings asked for: approve it (applied now), or
    decline it with a reason."""
    user = current_username()
    decide(approve, db.session.get(Fund, code) is not None,
           lambda: approve_fund_settings(db.session, code, username=user),
           lambda reason: decline_fund_settings(db.session, code, {"reason": reason}, username=user),
           asker=asker_of("funds", code),
           said=Said(_("设置修改已批准并生效。"), _("设置修改申请已驳回，现行设置不变。"),
                     _("设置修改申请已撤回，现行设置不变。")))
    return redirect(safe_next(request.form.get("next"), url_for("main.fund", code=code)))


@bp.route("/approve", methods=["POST"])
@requires("approve")
def approve(code: str):
    return _decide(code, approve=True)


@bp.route("/reject", methods=["POST"])
@requires("approve")
def reject(code: str):
    return _decide(code, approve=False)
