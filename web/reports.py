"""Screens: the quarterly portfolio report (HTML, printable), and its .xlsx and PDF."""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, has_request_context, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from models import Fund, IndexLevel
from portfolio.book.reading import load_index
from portfolio.filetypes import MIME_PDF
from portfolio.filetypes import MIME_XLSX as XLSX
from portfolio.formatting import last_quarter_end, parse_quarter, quarter
from portfolio.reports.quarterly import QuarterlyError, build_quarterly
from web.extensions import db
from web.security import content_disposition

bp = Blueprint("reports", __name__, url_prefix="/reports")



@bp.app_template_filter("report_quarter")
def report_quarter(as_of) -> str:
    """The last complete quarter on or before a date: '2025Q4'."""
    if isinstance(as_of, str):
        as_of = dt.date.fromisoformat(as_of[:10])
    if isinstance(as_of, dt.datetime):
        as_of = as_of.date()
    return quarter(last_quarter_end(as_of or dt.date.today()))


# In the PDF, tables longer than this become fixed-width listings, in blocks of a page.
LISTING_ROWS = 300
LISTING_BLOCK = 46


@bp.app_template_filter("pad")
def pad_filter(value, width: int, align: str = "left") -> str:
    from portfolio.reports.pdf import pad

    return pad(value, width, align)


def quarterly_report(fund: str, quarter_text: str, index_name: str | None = None) -> dict:
    """The report object from the book in force (raises QuarterlyError). Cached by book
    version (portfolio.book.cache), so that the page and its downloads compute it once;
    a write to the book changes the key. Renderers never modify the report."""
    from portfolio.book import cache
    def compute() -> dict:
        book = cache.book(db.session)
        if index_name:
            series = load_index(db.session, index_name)
            if series.empty:
                raise QuarterlyError(f"没有指数 {index_name} 的数据")
            book = book.with_(indexes={**(book.indexes or {}), index_name: series})
        return build_quarterly(book, fund, quarter_text, index_name=index_name or None)

    return cache.memo(db.session, ("quarterly", fund, quarter_text.strip().upper(), index_name or None),
                          compute)


def report_charts(report: dict, lang: str) -> dict:
    from portfolio.reports.report_charts import quarterly_charts

    return quarterly_charts(report, lang)


def render_document(report: dict) -> str:
    """The standalone printable HTML (also the PDF's source). Outside a request (the
    CLI) it renders in a throwaway request context, in the default language."""
    from web.i18n import current_lang

    if not has_request_context():
        with current_app.test_request_context("/"):
            return render_document(report)
    return render_template("reports/quarterly_print.html", report=report,
                           charts=report_charts(report, current_lang()),
                           listing=LISTING_ROWS, listing_block=LISTING_BLOCK)


def render_pdf(report: dict) -> bytes:
    from portfolio.reports.pdf import html_to_pdf

    return html_to_pdf(render_document(report), base_url=current_app.root_path)


def _report_or_404(fund: str, quarter_text: str) -> dict:
    try:
        parse_quarter(quarter_text)
    except ValueError:
        abort(404)
    try:
        return quarterly_report(fund, quarter_text, request.args.get("index"))
    except QuarterlyError:
        abort(404)


def _download(body: bytes, mimetype: str, filename: str):
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response


@bp.route("/")
def index():
    funds = db.session.execute(select(Fund).order_by(Fund.code)).scalars().all()
    indexes = db.session.execute(select(IndexLevel.name).distinct().order_by(IndexLevel.name)).scalars().all()
    return render_template("reports/index.html", funds=funds, indexes=indexes,
                           default_quarter=quarter(last_quarter_end(dt.date.today())))


@bp.route("/choose")
def choose():
    fund = (request.args.get("fund") or "").strip()
    quarter_text = (request.args.get("quarter") or "").strip().upper()
    try:
        parse_quarter(quarter_text)
    except ValueError:
        flash(_("季度格式应为 2025Q4"), "error")
        return redirect(url_for("reports.index"))
    return redirect(url_for("reports.quarterly", fund=fund, quarter=quarter_text,
                            index=request.args.get("index") or None))


@bp.route("/<fund>/<quarter>")
def quarterly(fund: str, quarter: str):
    from web.i18n import current_lang

    try:
        parse_quarter(quarter)
    except ValueError:
        abort(404)
    index_name = request.args.get("index") or None
    try:
        report = quarterly_report(fund, quarter, index_name)
    except QuarterlyError as error:
        if not index_name:
            abort(404)
        # an index that cannot price the flows: say why, show the report without it
        flash(str(error), "error")
        return redirect(url_for("reports.quarterly", fund=fund, quarter=quarter))
    return render_template("reports/quarterly.html", report=report, charts=report_charts(report, current_lang()))


@bp.route("/<fund>/<quarter>.xlsx")
def quarterly_xlsx(fund: str, quarter: str):
    from portfolio.reports.xlsx import write_quarterly_xlsx

    report = _report_or_404(fund, quarter)
    return _download(write_quarterly_xlsx(report), XLSX, f"{fund}-{report['quarter']}.xlsx")


@bp.route("/<fund>/<quarter>.pdf")
def quarterly_pdf(fund: str, quarter: str):
    report = _report_or_404(fund, quarter)
    return _download(render_pdf(report), MIME_PDF, f"{fund}-{report['quarter']}.pdf")
