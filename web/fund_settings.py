"""Screen: a fund's settings (rule limits, home region, MIRR rates, quorum), admin only."""
from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from wtforms import HiddenField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from models import INSTRUMENTS, Fund
from portfolio.book.fund_settings import settings_version, shown, spec_for, update_fund_settings
from portfolio.errors import FieldErrors
from portfolio.figures.settings import defaults_for, fund_settings
from portfolio.vocabulary import label
from web.auth import current_username, requires
from web.extensions import db
from web.fields import AmountField
from web.forms import BaseForm, refuse
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
            update_fund_settings(db.session, code, values, username=current_username(),
                                 version=form.version.data or None)
        except FieldErrors as exc:
            refuse(exc, form)
        else:
            flash(_("基金设置已保存。"))
            return redirect(url_for(".edit", code=code))
    elif not form.is_submitted():
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
    return render_template("fund_settings/edit.html", fund=fund, form=form, rows=rows)
