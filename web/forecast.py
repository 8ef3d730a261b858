"""Screens of the forecast (issue 16): a fund's (or one sub-fund's) forecast with its fan
chart and tables, the back-test (预测准确度), the xlsx, and the form that sets a unit's
parameters by hand (admins). The figures come from portfolio.book.forecasting."""
from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import StringField
from wtforms.validators import Length, Optional

from models import Fund, Investment
from portfolio.book.forecast_parameters import FIELDS, set_forecast_parameters
from portfolio.book.forecasting import fund_backtest, fund_forecast
from portfolio.errors import FieldErrors
from portfolio.figures.engine import UnknownFund
from web.auth import current_username, requires
from web.extensions import db
from web.forms import BaseForm, refuse
from web.i18n import current_lang
from web.main import current_as_of
from web.security import content_disposition

bp = Blueprint("forecast", __name__)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _fund(code: str) -> Fund:
    fund = db.session.get(Fund, code)
    if fund is None:
        abort(404)
    return fund


def _unit() -> str | None:
    unit = (request.args.get("unit") or "").strip()
    return unit[:64] or None


def _forecast(code: str, unit: str | None) -> dict:
    try:
        return fund_forecast(db.session, code, current_as_of(), unit=unit)
    except UnknownFund:
        abort(404)


class ParametersForm(BaseForm):
    # the labels are FIELDS' (portfolio.book.forecast_parameters), translated when shown
    rc_early = StringField(_l(FIELDS["rc_early"][1]), validators=[Optional(), Length(max=20)])
    rc_late = StringField(_l(FIELDS["rc_late"][1]), validators=[Optional(), Length(max=20)])
    bow = StringField(_l(FIELDS["bow"][1]), validators=[Optional(), Length(max=20)])
    life = StringField(_l(FIELDS["life"][1]), validators=[Optional(), Length(max=20)])
    growth = StringField(_l(FIELDS["growth"][1]), validators=[Optional(), Length(max=20)])
    yield_ = StringField(_l(FIELDS["yield"][1]), validators=[Optional(), Length(max=20)])


@bp.route("/funds/<code>/forecast")
def fund_forecast_page(code: str):
    fund = _fund(code)
    unit = _unit()
    result = _forecast(code, unit)
    if unit and not result["units"]:
        abort(404)
    from portfolio.book import cache
    from portfolio.book.forecasting import overrides_version
    from portfolio.reports.forecast_chart import fan_chart

    lang = current_lang()
    chart = cache.memo(db.session, ("forecast_chart", code, current_as_of(), unit, lang, overrides_version(db.session)),
                       lambda: fan_chart(result, lang))
    form = ParametersForm() if unit else None
    plan, plan_error = _pacing(result) if not unit else (None, None)
    return render_template("forecast/forecast.html", fund=fund, result=result, chart=chart, unit=unit, form=form,
                           fields=FIELDS, plan=plan, plan_error=plan_error)


def _pacing(result: dict) -> tuple[dict | None, str | None]:
    """The pacing planner, when the page is asked for it (?pacing=万元 a year, ?pacing_kind=budget)."""
    text = (request.args.get("pacing") or "").strip()
    if not text:
        return None, None
    from portfolio.figures.forecast_book import pacing_plan
    from portfolio.money import AmountError, parse_amount

    try:
        target = parse_amount(text[:40], unit="wan")  # typed in 万元, as labelled; exact yuan
    except AmountError as error:
        return None, str(error)
    if target <= 0 or target > 10**12:
        return None, _("年度目标应为正数（万元）")
    return pacing_plan(result, yearly_target=float(target),
                       target_is_budget=request.args.get("pacing_kind") == "budget"), None


@bp.route("/funds/<code>/forecast.xlsx")
def fund_forecast_xlsx(code: str):
    fund = _fund(code)
    unit = _unit()
    result = _forecast(code, unit)
    from portfolio.reports.forecast_xlsx import forecast_workbook

    response = current_app.response_class(forecast_workbook(result, fund.name), mimetype=XLSX)
    name = f"{code}{'-' + unit if unit else ''}-forecast-{result['as_of'].isoformat()}.xlsx"
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


@bp.route("/funds/<code>/forecast/accuracy")
def fund_forecast_accuracy(code: str):
    fund = _fund(code)
    try:
        result = fund_backtest(db.session, code, current_as_of())
    except UnknownFund:
        abort(404)
    return render_template("forecast/accuracy.html", fund=fund, result=result)


@bp.route("/funds/<code>/forecast/parameters/<inv_id>", methods=["POST"])
@requires("configure")
def set_parameters(code: str, inv_id: str):
    _fund(code)
    investment = db.session.get(Investment, inv_id)
    if investment is None:
        abort(404)
    form = ParametersForm()
    unit = investment.sub_fund_code if investment.mode == "sub_fund" else inv_id
    if form.validate_on_submit():
        values = {key: form["yield_" if key == "yield" else key].data for key in FIELDS}
        try:
            set_forecast_parameters(db.session, inv_id, values, username=current_username())
        except FieldErrors as exc:
            refuse(exc)
        else:
            flash(_("预测参数已保存。"))
    else:
        for errors in form.errors.values():
            for message in errors:
                flash(str(message), "error")
    return redirect(url_for(".fund_forecast_page", code=code, unit=unit))
