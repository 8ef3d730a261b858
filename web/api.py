"""The JSON API (/api/v1): read-only figures for a logged-in user.

Errors are JSON here (web/errors.py; the rest of the app renders HTML pages): 401 when not logged in
(raised by web.auth before the view), 400 for a bad parameter, 404 for an unknown fund.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, jsonify, request

bp = Blueprint("api", __name__, url_prefix="/api/v1")


def _error(status: int, message: str):
    return jsonify({"error": {400: "Bad Request", 404: "Not Found"}.get(status, "Error"), "status": status,
                    "message": message}), status


@bp.get("/funds/<code>/report")
def fund_report(code: str):
    """The metrics.md report of one fund: ?as_of=YYYY-MM-DD (default the last quarter end), ?index=NAME."""
    from portfolio.book.reading import build_report
    from portfolio.figures.pme import PMEError
    from portfolio.figures.report import ReportError, UnknownFund, to_json
    from portfolio.formatting import last_quarter_end, parse_date
    from web.extensions import db

    text = request.args.get("as_of")
    if text:
        try:
            as_of = parse_date(text)
        except ValueError as error:
            return _error(400, f"as_of：{error}")
    else:
        as_of = last_quarter_end(dt.date.today())
    index_name = request.args.get("index") or None
    try:
        report = build_report(db.session, code, as_of, index_name=index_name)
    except UnknownFund as error:
        return _error(404, str(error))
    except (ReportError, PMEError) as error:
        return _error(400, str(error))
    response = jsonify(to_json(report))
    return response
