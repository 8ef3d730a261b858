"""The JSON API (/api/v1): read-only figures for a logged-in user.

Errors are JSON here (web/errors.py; the rest of the app renders HTML pages): 401 when not logged in
(raised by web.auth before the view), 400 for a bad parameter, 404 for an unknown fund.
"""
from __future__ import annotations

import datetime as dt
import hashlib

from flask import Blueprint, jsonify, request

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, message: str):
    return jsonify({"error": {400: "Bad Request", 404: "Not Found"}.get(status, "Error"), "status": status,
                    "message": message}), status


def _as_of():
    """?as_of of a fund route: the date, the last quarter end when absent, or the 400 to answer."""
    from portfolio.formatting import last_quarter_end, parse_date

    text = request.args.get("as_of")
    if not text:
        return last_quarter_end(dt.date.today())
    try:
        return parse_date(text)
    except ValueError as error:
        return _error(400, f"as_of：{error}")


@bp.get("/funds/<code>/report")
def fund_report(code: str):
    """The metrics.md report of one fund: ?as_of=YYYY-MM-DD (default the last quarter end), ?index=NAME.

    The JSON is made once per (fund, date, index, book version) and kept as bytes in the
    shared report cache (every worker serves it from there; portfolio.book.cache.kept)."""
    from flask import Response, current_app

    from portfolio.book import cache
    from portfolio.figures.pme import PMEError
    from portfolio.figures.report import ReportError, UnknownFund, UnknownIndex, to_json
    from web.extensions import db

    as_of = _as_of()
    if not isinstance(as_of, dt.date):
        return as_of  # the 400 for a date out of range or malformed
    index_name = request.args.get("index") or None

    def compute() -> bytes:
        report = cache.fund_report(db.session, code, as_of)
        if index_name:  # the report with its PME (compute_report's key, before the checks)
            report = {**report, "pme": cache.fund_pme(db.session, code, as_of, index_name)}
        return (current_app.json.dumps(to_json(report), separators=(",", ":")) + "\n").encode()  # as jsonify

    try:
        period = as_of.isoformat() + (f"|{hashlib.sha256(index_name.encode()).hexdigest()[:16]}" if index_name else "")
        body = cache.kept(db.session, "api_report", code, period, compute)
    except (UnknownFund, UnknownIndex) as error:
        return _error(404, str(error))
    except (ReportError, PMEError) as error:
        return _error(400, str(error))
    return Response(body, mimetype="application/json")


@bp.get("/funds/<code>/forecast")
def fund_forecast(code: str):
    """The forecast of one fund (issue 16): ?as_of=YYYY-MM-DD (default the last quarter end),
    ?unit=SUB_FUND_CODE or investment id, ?backtest=1 to add the back-test table."""
    from portfolio.book.forecasting import fund_backtest
    from portfolio.book.forecasting import fund_forecast as compute_forecast
    from portfolio.figures.engine import UnknownFund
    from portfolio.figures.report import to_json
    from web.extensions import db

    as_of = _as_of()
    if not isinstance(as_of, dt.date):
        return as_of  # the 400 for a date out of range or malformed
    unit = (request.args.get("unit") or "").strip()[:64] or None
    try:
        result = compute_forecast(db.session, code, as_of, unit=unit)
        if unit and not result["units"]:
            return _error(404, f"没有 {unit}")
        if request.args.get("backtest") in ("1", "true"):
            result = result | {"backtest": fund_backtest(db.session, code, as_of)}
    except UnknownFund as error:
        return _error(404, str(error))
    return jsonify(to_json(result))


def openapi_document() -> dict:
    """The OpenAPI 3.0 description of this API (what /api/v1/openapi.json serves)."""
    error = {"$ref": "#/components/schemas/Error"}
    errors = {str(code): {"description": text, "content": {"application/json": {"schema": error}}}
              for code, text in ((400, "a bad parameter"), (401, "not logged in"),
                                           (404, "no such fund or index"))}
    # every fund route's path code and as-of date, described once
    fund_and_date = [
        {"name": "code", "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}},
        {"name": "as_of", "in": "query", "required": False,
         "description": "YYYY-MM-DD, 1900-01-01 to 2199-12-31; default the last quarter end",
         "schema": {"type": "string", "format": "date",
                    "pattern": "^(19|20|21)[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"}},
    ]
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
                     "description": "a public-market index for PME", "schema": {"type": "string"}},
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
                     "schema": {"type": "string"}},
                    {"name": "backtest", "in": "query", "required": False,
                     "description": "1 to add the rolling-origin back-test table", "schema": {"type": "string"}},
                ],
                "responses": {"200": {"description": "the forecast", "content": {"application/json": {"schema": {
                    "type": "object", "required": ["fund", "as_of", "forecast", "call_at_risk", "checks"],
                    "properties": {"fund": {"type": "string"}, "as_of": {"type": "string", "format": "date"},
                                   "forecast": {"type": "array"}, "actuals": {"type": "array"},
                                   "call_at_risk": {"type": "object"}, "checks": {"type": "array"},
                                   "units": {"type": "array"}, "policy": {"type": "object"}}}}}},
                              **errors},
            }},
        },
        "components": {"schemas": {"Error": {
            "type": "object", "required": ["error", "status", "message"],
            "properties": {"error": {"type": "string"}, "status": {"type": "integer"},
                           "message": {"type": "string"}}}}},
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(openapi_document())
