"""The JSON API (/api/v1): read-only figures for a logged-in user.

Errors are JSON here (web/errors.py; the rest of the app renders HTML pages): 401 when not logged in
(raised by web.auth before the view), 400 for a bad parameter, 404 for an unknown fund.
"""
from __future__ import annotations

import datetime as dt
import hashlib

from flask import Blueprint, jsonify, request

from portfolio.messages import Message, said_by

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, message):
    """The error's JSON: its sentence in the asker's language (Accept-Language; Chinese by
    default) and, for a sentence of the domain, its key (what a program matches on)."""
    from portfolio.messages import shown
    from web.i18n import current_lang

    if isinstance(message, Exception):
        message = said_by(message)
    body = {"error": {400: "Bad Request", 404: "Not Found"}.get(status, "Error"), "status": status,
            "message": shown(message, current_lang())}
    if isinstance(message, Message):
        body["key"] = message.key
    return jsonify(body), status


def _as_of():
    """?as_of of a fund route: the date, the last quarter end when absent, or the 400 to answer."""
    from portfolio.formatting import last_quarter_end, local_today, parse_date

    text = request.args.get("as_of")
    if not text:
        return last_quarter_end(local_today())
    try:
        return parse_date(text)
    except ValueError as error:
        return _error(400, Message("api_bad_param", name="as_of", reason=said_by(error)))


def report_json(code: str, as_of: dt.date, index_name: str | None = None, *, lang: str = "zh") -> bytes:
    """The metrics.md report of the fund on D (with its PME against `index_name`), as JSON bytes:
    the body the API answers and the `report` command prints, its checks' sentences in `lang`
    (Chinese by default; `report.worded`). Made once per (fund, date, index, language, book
    version) and kept in the shared report cache, where every worker and command finds it
    (portfolio.book.cache.kept): served from there, it costs a version check and one read (and a
    command served so imports neither the figures' code nor pandas).

    Raises UnknownFund, UnknownIndex, ReportError, PMEError (portfolio.errors)."""
    from flask import current_app

    from portfolio.book import cache
    from web.extensions import db

    english = not str(lang).startswith("zh")

    def compute() -> bytes:
        from portfolio.figures.report import to_json, worded

        report = worded(cache.fund_report(db.session, code, as_of, index_name), lang)
        return (current_app.json.dumps(to_json(report), separators=(",", ":")) + "\n").encode()  # as jsonify

    period = as_of.isoformat() + (f"|{hashlib.sha256(index_name.encode()).hexdigest()[:16]}" if index_name else "")
    # the Chinese body's key as before the English one existed: what is already kept still serves
    return cache.kept(db.session, "api_report", code, period + ("|en" if english else ""), compute)


@bp.get("/funds/<code>/report")
def fund_report(code: str):
    """The metrics.md report of one fund: ?as_of=YYYY-MM-DD (default the last quarter end), ?index=NAME.

    The JSON is `report_json`'s, its checks' sentences in the asker's language (the session's,
    else Accept-Language; Chinese by default): made once per (fund, date, index, language, book
    version)."""
    from flask import Response

    from portfolio.errors import PMEError, ReportError, UnknownIndex
    from portfolio.figures.scope import UnknownFund
    from web.i18n import current_lang

    as_of = _as_of()
    if not isinstance(as_of, dt.date):
        return as_of  # the 400 for a date out of range or malformed
    try:
        body = report_json(code, as_of, request.args.get("index") or None, lang=current_lang())
    except (UnknownFund, UnknownIndex) as error:
        return _error(404, error)
    except (ReportError, PMEError) as error:
        return _error(400, error)
    return Response(body, mimetype="application/json")  # Vary: Accept-Language (web.security)


@bp.get("/funds/<code>/forecast")
def fund_forecast(code: str):
    """The forecast of one fund (issue 16): ?as_of=YYYY-MM-DD (default the last quarter end),
    ?unit=SUB_FUND_CODE or investment id, ?backtest=1 to add the back-test table.

    The back-test is long work, never done in the request: when a job has finished it for this
    book version (the shared cache), it is added and the answer is 200; else the back-test job
    is started (or the one already queued or running for the same fund, parameters and book
    version is found) and the answer is 202 with the job's id and its status URL (`Location`)."""
    from portfolio.book.forecasting import fund_forecast as compute_forecast
    from portfolio.figures.engine import UnknownFund
    from portfolio.figures.report import to_json
    from web.extensions import db
    from web.forecast import backtest_params, cached_backtest

    as_of = _as_of()
    if not isinstance(as_of, dt.date):
        return as_of  # the 400 for a date out of range or malformed
    unit = (request.args.get("unit") or "").strip()[:64] or None
    try:
        result = compute_forecast(db.session, code, as_of, unit=unit)
    except UnknownFund as error:
        return _error(404, error)
    if unit and not result["units"]:
        return _error(404, Message("api_no_unit", id=unit))
    if request.args.get("backtest") not in ("1", "true"):
        return jsonify(to_json(result))
    params = backtest_params(code, as_of)
    table = cached_backtest(params)
    if table is None:
        job = _backtest_job(code, params)
        if job.state != "done" or not job.result:
            status = _backtest_status(code, job)
            response = jsonify(status)
            response.status_code = 202
            response.headers["Location"] = status["status_url"]
            return response
        table = job.result  # done, its cache entry since replaced: the job's own copy
    return jsonify(to_json(result) | {"backtest": table})


def _api_username() -> str:
    """Who asks: the logged-in user, or the API token's name (`api:<name>`)."""
    from flask import g

    from web.auth import current_username

    token = g.get("api_token")
    return f"api:{token.name}"[:64] if token is not None else current_username()


def _backtest_job(code: str, params: dict):
    from flask import current_app

    from web import queue

    job = queue.submit("forecast_backtest", params, username=_api_username())
    queue.ensure_consumer(current_app._get_current_object())  # type: ignore[attr-defined]
    return queue.get_job(job.id)


def _backtest_status(code: str, job) -> dict:
    from flask import url_for

    from web import queue
    from web.forecast import UNITS
    from web.i18n import current_lang

    done = job.state == "done"
    params = job.params if isinstance(job.params, dict) else {}
    return {"id": job.id, "kind": job.kind, "state": job.state, "done": job.done, "total": job.total,
            "unit": job.unit, "label": str(UNITS.get(job.unit, "")),
            "error": queue.error_shown(job, current_lang()), "started_by": job.started_by,
            "status_url": url_for("api.forecast_backtest_job", code=code, job_id=job.id),
            "result_url": (url_for("api.fund_forecast", code=code, as_of=params.get("as_of"), backtest=1)
                           if done else None),
            "backtest": job.result if done else None}


@bp.get("/funds/<code>/forecast/backtest/jobs/<int:job_id>")
def forecast_backtest_job(code: str, job_id: int):
    """A back-test job's state and progress (`done` of `total` back-test origins); when done,
    its table (`backtest`) and `result_url`, the forecast with the table (served from the
    shared cache while the book has not changed). 404 for a job not of this fund."""
    from flask import current_app

    from web import queue

    job = queue.get_job(job_id) if 0 < job_id < 2**31 else None
    if job is None or job.kind != "forecast_backtest" or not isinstance(job.params, dict) \
            or job.params.get("fund") != code:
        return _error(404, Message("api_no_job", id=job_id))
    if job.state in ("queued", "running"):
        queue.ensure_consumer(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(_backtest_status(code, job))


def openapi_document() -> dict:
    """The OpenAPI 3.0 description of this API (what /api/v1/openapi.json serves)."""
    error = {"$ref": "#/components/schemas/Error"}
    errors = {str(code): {"description": text, "content": {"application/json": {"schema": error}}}
              for code, text in ((400, "a bad parameter, or a control character in the address"),
                                 (401, "not logged in"), (404, "no such fund or index"))}
    # text in an address: anything but a control character (web.security refuses those, 400)
    text = {"type": "string", "pattern": "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f]*$"}
    # every fund route's path code and as-of date, described once
    fund_and_date = [
        {"name": "code", "in": "path", "required": True, "schema": {**text, "minLength": 1}},
        {"name": "as_of", "in": "query", "required": False,
         "description": "YYYY-MM-DD, 1900-01-01 to 2199-12-31; default the last quarter end",
         "schema": {"type": "string", "format": "date",
                    "pattern": "^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"}},
    ]
    # the language of the sentences (an error's message, a report check's): Chinese by default
    language = {"name": "Accept-Language", "in": "header", "required": False,
                "description": "en for English sentences (errors, the report's checks); Chinese by default",
                "schema": {"type": "string"}}
    job = {"$ref": "#/components/schemas/Job"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "宁波科创基金组合管理 API", "version": "1",
                 "description": "Read-only figures (spec/metrics.md) for logged-in users. Amounts in yuan."},
        "servers": [{"url": "/api/v1"}],
        "paths": {
            "/funds/{code}/report": {"get": {
                "operationId": "fundReport",
                "summary": "The metrics.md report of one fund (with its descendants) as of a date",
                "parameters": [
                    *fund_and_date,
                    {"name": "index", "in": "query", "required": False,
                     "description": "a public-market index for PME", "schema": text},
                    language,
                ],
                "responses": {"200": {"description": "the report", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["fund", "as_of", "currency", "summary", "investments"],
                    "properties": {"fund": {"type": "string"}, "as_of": {"type": "string", "format": "date"},
                                   "currency": {"type": "string"}, "summary": {"type": "object"},
                                   "investments": {"type": "array"}}}}}},
                              **errors},
            }},
            "/funds/{code}/forecast": {"get": {
                "operationId": "fundForecast",
                "summary": "The forecast of one fund (calls, distributions, NAV, bands, CCaR, policy figures)",
                "parameters": [
                    *fund_and_date,
                    {"name": "unit", "in": "query", "required": False,
                     "description": "a sub-fund code or an investment id: that unit's forecast only",
                     "schema": text},
                    {"name": "backtest", "in": "query", "required": False,
                     "description": "1 to add the rolling-origin back-test table: 200 with it when a job has "
                                    "finished it for this book version, else 202 and the job to poll",
                     "schema": text},
                    language,
                ],
                "responses": {"200": {"description": "the forecast", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["fund", "as_of", "forecast", "call_at_risk", "checks"],
                    "properties": {"fund": {"type": "string"}, "as_of": {"type": "string", "format": "date"},
                                   "forecast": {"type": "array"}, "actuals": {"type": "array"},
                                   "call_at_risk": {"type": "object"}, "checks": {"type": "array"},
                                   "units": {"type": "array"}, "policy": {"type": "object"},
                                   "backtest": {"type": "object"}}}}}},
                              "202": {"description": "?backtest=1: the back-test job started (or found); poll the "
                                                     "status URL (also in the Location header)",
                                      "headers": {"Location": {"schema": {"type": "string"}}},
                                      "content": {"application/json": {"schema": job}}},
                              **errors},
            }},
            "/funds/{code}/forecast/backtest/jobs/{job_id}": {"get": {
                "operationId": "forecastBacktestJob",
                "summary": "A back-test job's state and progress; its table once done",
                "parameters": [
                    fund_and_date[0],
                    {"name": "job_id", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}},
                ],
                "responses": {"200": {"description": "the job", "content": {"application/json": {"schema": job}}},
                              **errors},
            }},
        },
        "components": {"schemas": {"Job": {
            "type": "object", "required": ["id", "state", "done", "total", "status_url"],
            "properties": {"id": {"type": "integer"},
                           "state": {"type": "string", "enum": ["queued", "running", "done", "failed"]},
                           "done": {"type": "integer"}, "total": {"type": "integer"},
                           "unit": {"type": "string"}, "error": {"type": "string", "nullable": True},
                           "status_url": {"type": "string"},
                           "result_url": {"type": "string", "nullable": True},
                           "backtest": {"type": "object", "nullable": True}}}, "Error": {
            "type": "object", "required": ["error", "status", "message"],
            "properties": {"error": {"type": "string"}, "status": {"type": "integer"},
                           "message": {"type": "string"}}}}},
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
