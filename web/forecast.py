"""Screens of the forecast (issue 16): a fund's (or one sub-fund's) forecast with its fan
chart and tables, the back-test (预测准确度), the xlsx, and the form that sets a unit's
parameters by hand (admins). The figures come from portfolio.book.forecasting."""
from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import HiddenField, StringField
from wtforms.validators import Length, Optional

from models import Fund, Investment
from portfolio.book.forecast_parameters import FIELDS, check_parameters, overrides, set_forecast_parameters, version_of
from portfolio.book.forecasting import fund_backtest, fund_forecast
from portfolio.errors import FieldErrors
from portfolio.figures.scope import UnknownFund
from portfolio.messages import Message, said_by
from web import queue
from web.auth import current_username, requires
from web.extensions import db
from web.forms import BaseForm
from web.i18n import PUNCTUATION, current_lang
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
    version = HiddenField()  # the unit's overrides as shown (each unit's form writes its own)


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
    # each unit's form shows its stored overrides filled in, with their version: a save that
    # changes one parameter keeps the others (blank had put them back to calibrated)
    every = overrides(db.session) if unit else {}  # one read, not one per unit
    stored = {u["id"]: every.get(u["id"], {}) for u in result["units"]} if unit else {}
    versions = {inv: version_of(values) for inv, values in stored.items()}
    plan, plan_error = _pacing(result) if not unit else (None, None)
    # how the bands have done, beside them, where the back-test of this book version is done (it is a
    # job, started from 预测准确度: not run for this page)
    backtest = None if unit else cached_backtest(backtest_params(code, current_as_of()))
    return render_template("forecast/forecast.html", fund=fund, result=result, chart=chart, unit=unit, form=form,
                           fields=FIELDS, plan=plan, plan_error=plan_error, stored=stored, versions=versions,
                           record=_band_record(backtest))


def _band_record(backtest: dict | None) -> dict | None:
    """How the bands have done (forecast_backtest.band_record), where a back-test with a track
    record is at hand."""
    track = (backtest or {}).get("track")
    if not track:
        return None
    from portfolio.figures.forecast_backtest import band_record

    return band_record(track)


def _pacing(result: dict) -> tuple[dict | None, str | None]:
    """The pacing planner, when the page is asked for it (?pacing=万元 a year, ?pacing_kind=budget)."""
    text = (request.args.get("pacing") or "").strip()
    if not text:
        return None, None
    from portfolio.figures.forecast_book import pacing_plan
    from portfolio.messages import error_shown
    from portfolio.money import AmountError, parse_amount

    try:
        target = parse_amount(text[:40], unit="wan")  # typed in 万元, as labelled; exact yuan
    except AmountError as error:  # the parser's reason, in the reader's language
        return None, error_shown(error.args[0], current_lang())
    if target <= 0 or target > 10**12:
        return None, _("年度目标应为正数（万元）")
    try:
        return pacing_plan(result, yearly_target=float(target),
                           target_is_budget=request.args.get("pacing_kind") == "budget"), None
    except ValueError as error:  # a budget through a fund the bureau has no share in
        return None, error_shown(error.args[0], current_lang())


# -- long runs as jobs (web/queue.py): the back-test and the workbook, with a progress bar -----

# what a forecast job's progress counts, as shown beside its bar
UNITS = {"origins": _l("个回测起点"), "steps": _l("步骤")}
JOB_KINDS = ("forecast_backtest", "forecast_xlsx")


def _xlsx_period(unit: str | None, as_of: dt.date, parameters: int, lang: str) -> str:
    """The shared cache's period of a forecast workbook: a Chinese and an English workbook
    are separate entries."""
    return f"{as_of.isoformat()}|{unit or ''}|{parameters}|{lang}"


def _xlsx_name(code: str, unit: str | None, as_of: dt.date, lang: str) -> str:
    """The workbook's file name in its language (QY-现金流预测-2025-12-31.xlsx, QY-forecast-…),
    from the catalogue by `lang`: the job names it away from any request. Sent as every
    download's (web.security.content_disposition: RFC 5987 filename* for the Chinese)."""
    from portfolio.reports.words import word

    what = word("现金流预测", lang, context="file")
    return f"{code}{'-' + unit if unit else ''}-{what}-{as_of.isoformat()}.xlsx"


def forecast_xlsx_file(code: str, unit: str | None, as_of: dt.date,
                       progress: Callable[[int, int, str], None] | None = None,
                       lang: str | None = None) -> tuple[bytes, str]:
    """(the forecast workbook in `lang`, by default the reader's, and the book version it is
    of): from the shared report cache, or built now (forecast, then workbook) and stored there
    for every worker. Raises UnknownFund; LookupError for a unit the fund does not have."""
    from portfolio.book import cache
    from portfolio.book.forecasting import overrides_version
    from portfolio.reports.forecast_xlsx import forecast_workbook

    step = progress or (lambda done, total, unit_name: None)
    version = cache.book_version(db.session)
    lang = lang or current_lang()
    period = _xlsx_period(unit, as_of, overrides_version(db.session), lang)
    body = cache.shared_get(db.session, "forecast.xlsx", code, period, version)
    if body is None:
        step(0, 2, "steps")
        result = fund_forecast(db.session, code, as_of, unit=unit)
        if unit and not result["units"]:
            raise LookupError(unit)
        step(1, 2, "steps")
        fund = db.session.get(Fund, code)
        body = forecast_workbook(result, _fund_name_in(fund, lang) if fund else code, lang=lang)
        cache.shared_put(db.session, "forecast.xlsx", code, period, version, body)
    step(2, 2, "steps")
    return body, version


def _fund_name_in(fund: Fund, lang: str) -> str:
    """The fund's name in `lang` (name_en in English where the book has one), as the screens."""
    return str((None if lang.startswith("zh") else fund.name_en) or fund.name)


@queue.handler("forecast_xlsx")
def forecast_xlsx_job(job: queue.JobContext) -> dict:
    """A job: the forecast workbook, stored in the shared cache; its result names the entry."""
    p = job.params
    as_of = dt.date.fromisoformat(p["as_of"])
    try:
        body, version = forecast_xlsx_file(p["fund"], p.get("unit"), as_of, job.progress, p.get("lang") or "zh")
    except (UnknownFund, LookupError) as error:
        reason = said_by(error)
        raise queue.JobRefused(Message("no_forecast", reason=reason)) from error  # by key, as the report jobs
    return {"what": "forecast.xlsx", "fund": p["fund"],
            "period": _xlsx_period(p.get("unit"), as_of, p["forecast_parameters"], p.get("lang") or "zh"),
            "version": version,
            "bytes": len(body), "mimetype": XLSX, "filename": _xlsx_name(p["fund"], p.get("unit"), as_of, p.get("lang") or "zh")}


@queue.handler("forecast_backtest")
def forecast_backtest_job(job: queue.JobContext) -> dict:
    """A job: the rolling-origin back-test (预测准确度); its result is the table itself."""
    from portfolio.figures.report import to_json

    p = job.params
    try:
        result = fund_backtest(db.session, p["fund"], dt.date.fromisoformat(p["as_of"]), paths=p["paths"],
                               progress=lambda done, total: job.progress(done, total, "origins"))
    except UnknownFund as error:
        raise queue.JobRefused(said_by(error)) from error
    table = to_json(result)
    # kept in the shared cache too: the next asker (the API, another worker) is answered at once
    from portfolio.book import cache

    cache.shared_put(db.session, BACKTEST_CACHE, p["fund"], backtest_period(p), cache.book_version(db.session),
                     json.dumps(table, ensure_ascii=False).encode())
    return table


# the shared cache's name for a finished back-test table (its second form: with the track record)
BACKTEST_CACHE = "forecast.backtest.2"


def backtest_params(code: str, as_of: dt.date) -> dict:
    from portfolio.book.forecasting import BACKTEST_PATHS, overrides_version

    # "form": the result's shape; a job of an earlier one (without the track record) is not reused
    return {"fund": code, "as_of": as_of.isoformat(), "paths": BACKTEST_PATHS,
            "forecast_parameters": overrides_version(db.session), "form": 2}


def backtest_period(params: dict) -> str:
    """The shared cache's period of a back-test: its date, paths and forecast parameters."""
    return f"{params['as_of']}|{params['paths']}|{params['forecast_parameters']}"


def cached_backtest(params: dict) -> dict | None:
    """The back-test table for these params on the book version in force, if a job has
    finished it (from the shared cache); else None."""
    from portfolio.book import cache

    body = cache.shared_get(db.session, BACKTEST_CACHE, params["fund"], backtest_period(params))
    return None if body is None else json.loads(body)


def _job_status(code: str, job) -> dict:
    done = job.state == "done"
    return {"id": job.id, "kind": job.kind, "state": job.state, "done": job.done, "total": job.total,
            "unit": job.unit, "label": str(UNITS.get(job.unit, "")),
            "error": queue.error_shown(job, current_lang()), "started_by": job.started_by,
            "status_url": url_for("forecast.job_status", code=code, job_id=job.id),
            "download_url": (url_for("forecast.job_download", code=code, job_id=job.id)
                             if done and job.kind == "forecast_xlsx" else None)}


def _job_or_404(code: str, job_id: int):
    job = queue.get_job(job_id)
    if job is None or job.kind not in JOB_KINDS or not isinstance(job.params, dict) or job.params.get("fund") != code:
        abort(404)
    return job


@bp.route("/funds/<code>/forecast.xlsx")
def fund_forecast_xlsx(code: str):
    """The workbook at once (the plain link; with script, static/jobs.js asks for it as a job)."""
    _fund(code)
    unit = _unit()
    as_of = current_as_of()
    try:
        body, _version = forecast_xlsx_file(code, unit, as_of)
    except (UnknownFund, LookupError):
        abort(404)
    response = current_app.response_class(body, mimetype=XLSX)
    response.headers["Content-Disposition"] = content_disposition(_xlsx_name(code, unit, as_of, current_lang()))
    return response


@bp.route("/funds/<code>/forecast/jobs", methods=["POST"])
def start_job(code: str):
    """Start (or find, for the same workbook of the same book) the job building the forecast
    workbook. Any logged-in user may: it reads the book only."""
    from portfolio.book.forecasting import overrides_version

    _fund(code)
    unit = (request.form.get("unit") or "").strip()[:64] or None
    job = queue.submit("forecast_xlsx", {"fund": code, "unit": unit, "as_of": current_as_of().isoformat(),
                                         "lang": current_lang(), "forecast_parameters": overrides_version(db.session)},
                       username=current_username())
    status = _job_status(code, queue.get_job(job.id))
    if request.accept_mimetypes.best == "application/json":
        return jsonify(status), 202
    return redirect(url_for(".fund_forecast_page", code=code, unit=unit))


@bp.route("/funds/<code>/forecast/jobs/<int:job_id>.json")
def job_status(code: str, job_id: int):
    """A forecast job's state and progress, polled by static/jobs.js."""
    job = _job_or_404(code, job_id)
    queue.ensure_consumer(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(_job_status(code, job))


@bp.route("/funds/<code>/forecast/jobs/<int:job_id>/download")
def job_download(code: str, job_id: int):
    from portfolio.book import cache

    job = _job_or_404(code, job_id)
    if job.kind != "forecast_xlsx" or job.state != "done" or not job.result:
        abort(404)
    r = job.result
    body = cache.shared_get(db.session, r["what"], r["fund"], r["period"], r["version"])
    if body is None:  # a newer workbook replaced it, or the stored file was lost: asked again, it is built
        flash(_("账簿已更新，预测需重新生成"), "error")
        return redirect(url_for(".fund_forecast_page", code=code))
    response = current_app.response_class(body, mimetype=r["mimetype"])
    response.headers["Content-Disposition"] = content_disposition(r["filename"])
    return response


@bp.route("/funds/<code>/forecast/accuracy")
def fund_forecast_accuracy(code: str):
    """预测准确度: the back-test is a job (a few seconds on the demo book, longer on a large
    one); the page shows its progress and reloads itself when it is done."""
    fund = _fund(code)
    job = queue.submit("forecast_backtest", backtest_params(code, current_as_of()), username=current_username())
    job = queue.get_job(job.id)
    queue.ensure_consumer(current_app._get_current_object())  # type: ignore[attr-defined]
    result = job.result if job.state == "done" else None
    return render_template("forecast/accuracy.html", fund=fund, result=result, record=_band_record(result), job=job,
                           job_error=queue.error_shown(job, current_lang()),
                           status=_job_status(code, job), units=UNITS)


@bp.route("/funds/<code>/forecast/parameters/<inv_id>", methods=["POST"])
@requires("configure")
def set_parameters(code: str, inv_id: str):
    _fund(code)
    investment = db.session.get(Investment, inv_id)
    if investment is None:
        abort(404)
    form = ParametersForm()
    unit = investment.sub_fund_code if investment.mode == "sub_fund" else inv_id
    values = {key: _field(form, key).data for key in FIELDS}
    if form.validate_on_submit():
        try:
            set_forecast_parameters(db.session, inv_id, values, username=current_username(),
                                    version=form.version.data or None)
        except FieldErrors as exc:
            db.session.rollback()
            _flash_named(form, exc.shown(current_lang()))
        else:
            flash(_("预测参数已保存。"))
    else:  # the form's refusals and the use case's checks of the rest, on one submit
        said = [(key, str(message)) for key in FIELDS for message in _field(form, key).errors]
        said += [("", str(message)) for name, errors in form.errors.items()  # the CSRF token's, say
                 if name not in {_field(form, key).name for key in FIELDS} for message in errors]
        try:
            check_parameters({key: None if _field(form, key).errors else value for key, value in values.items()})
        except FieldErrors as exc:
            said += exc.shown(current_lang())
        order = list(FIELDS)  # the form's order, whichever check said it
        _flash_named(form, sorted(said, key=lambda pair: order.index(pair[0]) + 1 if pair[0] in FIELDS else 0))
    return redirect(url_for(".fund_forecast_page", code=code, unit=unit))


def _field(form: ParametersForm, key: str):
    """A parameter's field (`yield` is a Python word: its field is `yield_`)."""
    return form["yield_" if key == "yield" else key]


def _flash_named(form: ParametersForm, said) -> None:
    """A unit's parameters refused: each fault flashed named by its parameter (the page the
    flash lands on has a form for every unit, so a fault beside a field would not say whose)."""
    colon = str(PUNCTUATION["colon"])
    for key, message in said:
        name = _field(form, key).label.text if key in FIELDS else ""
        flash(f"{name}{colon}{message}" if name else message, "error")
