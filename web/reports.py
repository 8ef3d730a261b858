"""Screens: the quarterly portfolio report (HTML, printable), and its .xlsx and PDF."""
from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from functools import partial

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    has_request_context,
    jsonify,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from jinja2 import pass_context
from markupsafe import Markup
from sqlalchemy import func, select

from models import Fund, IndexLevel, Investment
from portfolio.errors import QuarterlyError
from portfolio.filetypes import MIME_PDF
from portfolio.filetypes import MIME_XLSX as XLSX
from portfolio.formatting import (
    canonical_quarter,
    last_quarter_end,
    local_today,
    parse_quarter,
    quarter,
    quarters_between,
)
from portfolio.messages import Message, said_by, shown
from portfolio.reports.pdf import listing_head, pad
from web import queue
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
    return quarter(last_quarter_end(as_of or local_today()))


@bp.app_template_filter("report_irr")
@pass_context
def report_irr(_context, value, since=None, as_of=None, short: bool = False) -> str:
    """An IRR in the quarterly report: a percentage, '— 无解' where no rate exists (never a
    bare dash), '— 不足一年' under a year; in the language of the render (a filter taking
    the context, so that Jinja never works it out once at compile time)."""
    from portfolio.reports.words import irr_display
    from web.i18n import current_lang

    return irr_display(value, since, as_of, current_lang(), short=short)


@bp.app_template_test("irr_not_a_rate")
def irr_not_a_rate(value, since=None, as_of=None) -> bool:
    """Whether an IRR is shown in words (no rate, or under a year), not as a number."""
    from portfolio.reports.words import irr_text

    return irr_text(value, since, as_of) is not None


@bp.app_template_filter("with_sign")
def with_sign(shown: str) -> str:
    """A change as printed (already rounded: '0.04x', '-1.00', '2.5'), with '+' when it is a
    rise; one that rounds to nothing has no sign ('-0.00x' → '0.00x'): the sign is the
    printed figure's, not the unrounded value's."""
    text = str(shown)
    if not any(ch in "123456789" for ch in text):
        return text.lstrip("-")
    return text if text.startswith("-") else "+" + text


# In the PDF, tables longer than this become fixed-width listings, in blocks of a page.
LISTING_ROWS = 300
LISTING_BLOCK = 46


# the filter is the function itself: a listing calls it for every cell (~35,000 times)
bp.app_template_filter("pad")(pad)
bp.app_template_global("listing_head")(listing_head)

# The long schedule's columns (display columns, a CJK character two), by the language of
# the render: each as wide as the widest value its vocabulary writes in that language
# (English 'Co-investment', 'GP-reported NAV'; the sector's name its short one,
# vocabulary.SHORT_EN), or its figures need. A header wider than its column goes onto a
# second line (pdf.listing_head: 'Investment' over 'date'). A line, with a space between
# columns and the flag ('Lagging') last, stays within LISTING_COLUMNS: A4 landscape less
# 12 mm margins is 774 pt, a 7 pt monospace column half an em, 3.5 pt (the Chinese widths
# are those the listing always had). tests/test_quarterly.py checks every label fits.
LISTING_COLUMNS = 221
LISTING_WIDTHS = {
    "zh": {"id": 12, "target": 24, "mode": 6, "sector": 16, "region": 7, "date": 10, "round": 8,
           "ownership": 7, "amount": 12, "moic": 7, "irr": 10, "method": 14},
    "en": {"id": 12, "target": 24, "mode": 13, "sector": 20, "region": 7, "date": 10, "round": 8,
           "ownership": 9, "amount": 12, "moic": 7, "irr": 10, "method": 15},
}
# the compliance exceptions' listing: its result and rule columns, by language ('Warning',
# 'Sub-fund single company cap'), and the characters of its explanation, the rest of the line
# (70 Chinese characters take 140 columns, as 140 Latin ones do; Jinja's truncate lets 5 more by)
EXCEPTION_WIDTHS = {"zh": {"status": 6, "rule": 26, "explain": 70}, "en": {"status": 7, "rule": 27, "explain": 140}}

# Inside <style> the browser and WeasyPrint decode no HTML entities, so text put into a CSS
# `content:` string is escaped for CSS, not HTML (else "S&T" would print as "S&amp;T"); `<`
# and `>` as CSS escapes, so that no name can close the style element.
_CSS_STRING = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\a ", "<": "\\3c ", ">": "\\3e "})


@bp.app_template_filter("css_string")
def css_string(text) -> Markup:
    """A quoted CSS string of `text`, for a `content:` in a template's <style>. Text already
    escaped for HTML (Markup: what `~` makes of a name joined to a translated word) is turned
    back into the characters it shows first."""
    plain = text.unescape() if isinstance(text, Markup) else str(text)
    return Markup('"' + plain.translate(_CSS_STRING) + '"')


def not_ended(quarter_text: str) -> Message | None:
    """The refusal of a quarter that has not ended: its last day after today where the fund's
    people are (Asia/Shanghai). Its report would be labelled 截至 a day to come with the book of
    today. None for a quarter that has ended (on its last day it has), and for text that is
    no quarter (build_quarterly says what is wrong with it)."""
    try:
        last = parse_quarter(quarter_text)[1]
    except ValueError:
        return None
    today = local_today()
    return Message("quarter_not_ended", quarter=quarter(last), end_day=last, today_day=today) if last > today else None


def _refuse_not_ended(quarter_text: str) -> None:
    refused = not_ended(quarter_text)
    if refused is not None:
        raise QuarterlyError(refused)


def quarterly_report(fund: str, quarter_text: str, index_name: str | None = None,
                     meanwhile: Callable[[dict], None] | None = None) -> dict:
    """The report object from the book in force (raises QuarterlyError, also for a quarter
    that has not ended). Cached by book version (portfolio.book.cache), so that the page and
    its downloads compute it once; a write to the book changes the key. Renderers never
    modify the report. `meanwhile`: build_quarterly's, called only when the report is
    computed here (not from the cache)."""
    from portfolio.book import cache
    from portfolio.book.forecast_parameters import overrides

    _refuse_not_ended(quarter_text)

    def compute() -> dict:
        from portfolio.book.reading import load_index
        from portfolio.reports.quarterly import build_quarterly

        book = cache.book(db.session)
        if index_name:
            series = load_index(db.session, index_name)
            if series.empty:
                raise QuarterlyError(Message("index_no_levels", name=index_name))
            book = book.with_(indexes={**(book.indexes or {}), index_name: series})
        return build_quarterly(book, fund, quarter_text, index_name=index_name or None,
                               forecast_overrides=overrides(db.session), meanwhile=meanwhile)

    return cache.memo(db.session, ("quarterly", *_report_key(fund, quarter_text, index_name)), compute)


def _report_key(fund: str, quarter_text: str, index_name: str | None) -> tuple:
    """What a quarterly report depends on besides the book version (portfolio.book.cache
    adds it): the forward look reads the forecast overrides, which do not move the version."""
    from portfolio.book.forecasting import overrides_version

    return fund, quarter_text.strip().upper(), index_name or None, overrides_version(db.session)


def report_charts(report: dict, lang: str) -> dict:
    from portfolio.reports.report_charts import quarterly_charts

    return quarterly_charts(report, lang)


def _in_one_language(render: Callable[[str], str]) -> str:
    """render(lang) in the request's language, held for the whole rendering; outside a
    request (the CLI) in a throwaway request context, in the default language."""
    from web.i18n import one_language

    if not has_request_context():
        with current_app.test_request_context("/"):
            return _in_one_language(render)
    with one_language() as lang:
        return render(lang)


def render_document(report: dict, *, forward_look_html: str | None = None) -> str:
    """The standalone printable HTML (also the PDF's source).

    forward_look_html: put in place of the forward look's section (its own template,
    reports/_forward_look.html) instead of rendering it: a report whose forward look is
    still being computed aside is rendered with a mark there (`EarlyDocument`)."""
    extra = {} if forward_look_html is None else {"forward_look_html": Markup(forward_look_html)}
    return _in_one_language(lambda lang: render_template(
        "reports/quarterly_print.html", report=report, charts=report_charts(report, lang),
        listing=LISTING_ROWS, listing_block=LISTING_BLOCK,
        listing_widths=LISTING_WIDTHS["zh" if lang.startswith("zh") else "en"],
        exception_widths=EXCEPTION_WIDTHS["zh" if lang.startswith("zh") else "en"], **extra))


class EarlyDocument:
    """The printable HTML rendered in two steps, the same text as render_document's: every
    part but the forward look while the forward look is computed aside (build_quarterly's
    `meanwhile`: `start`), then its section alone, put in its place (`finish`)."""

    def __init__(self) -> None:
        # an HTML comment no text of the report can hold: its `<` would be escaped, and
        # it is new for each document
        self.mark = f"<!-- forward look {uuid.uuid4().hex} -->"
        self.text: str | None = None

    def start(self, report: dict) -> None:
        self.text = render_document(report, forward_look_html=self.mark)

    def finish(self, report: dict) -> str:
        """The whole document; rendered now in one step if `start` was not called (the
        report came whole from the cache, and `meanwhile` with it)."""
        if self.text is None:
            return render_document(report)
        head, _mark, tail = self.text.partition(self.mark)
        section = _in_one_language(lambda _lang: render_template("reports/_forward_look.html", report=report))
        return head + section + tail


def render_pdf(report: dict, on_pages: Callable[[int], None] | None = None, *,
               document: str | None = None) -> bytes:
    """The PDF of the report (document: its printable HTML, if already rendered)."""
    from portfolio.reports.pdf import html_to_pdf

    return html_to_pdf(document if document is not None else render_document(report),
                       base_url=current_app.root_path, on_pages=on_pages)


# -- the quarterly report as a file: built once per book version, as a job -----------------

FORMATS = {"html": "text/html", "xlsx": XLSX, "pdf": MIME_PDF}
UNITS = queue.UNITS  # what a job's progress counts, as shown beside its bar

Progress = Callable[[int, int, str], None]


def _no_progress(done: int, total: int, unit: str) -> None:
    pass


def _period(quarter_text: str, index_name: str | None, lang: str) -> str:
    """The shared cache's period of a report file: quarter, index, language, and the
    forecast overrides in force (its forward look reads them; they are not the book)."""
    from portfolio.book.forecasting import overrides_version

    return f"{quarter_text.strip().upper()}|{index_name or ''}|{lang}|{overrides_version(db.session)}"


def build_quarterly_file(fund: str, quarter_text: str, fmt: str, index_name: str | None = None,
                         progress: Progress = _no_progress) -> bytes:
    """The report rendered in `fmt`, computed from the book in force (raises QuarterlyError),
    in the language of the request."""
    from portfolio.book import cache

    book = cache.book(db.session)
    rows = sum(len(frame) for frame in (book.funds, book.investments, book.flows, book.valuations, book.holdings)
               if frame is not None)
    progress(rows, rows, "rows_read")
    # while the report's forward look is computed aside (a forked child), this process
    # writes what does not read it: the workbook's sheets before the forward look's; the
    # printable HTML but the forward look's section; for the PDF, WeasyPrint imported too
    workbook = document = None
    if fmt == "xlsx":
        from portfolio.reports.xlsx import QuarterlyWorkbook
        from web.i18n import current_lang

        workbook = QuarterlyWorkbook(lang=current_lang())
        meanwhile = workbook.start
    else:
        document = EarlyDocument()
        meanwhile = document.start if fmt == "html" else partial(_start_pdf, document)
    report = quarterly_report(fund, quarter_text, index_name, meanwhile=meanwhile)
    progress(1, 2, "steps")
    if workbook is not None:
        body = workbook.finish(report)
    else:
        assert document is not None  # made where the workbook is not
        text = document.finish(report)
        if fmt == "pdf":
            pages = [0]

            def laid_out(n: int) -> None:
                pages[0] = n
                progress(0, n, "pages_rendered")

            body = render_pdf(report, on_pages=laid_out, document=text)
            progress(pages[0], pages[0], "pages_rendered")
            return body
        body = text.encode("utf-8")
    progress(2, 2, "steps")
    return body


def _start_pdf(document: EarlyDocument, report: dict) -> None:
    document.start(report)
    import weasyprint  # noqa: F401  (imported now, while the forecast runs aside: 0.5 s)


def quarterly_file(fund: str, quarter_text: str, fmt: str, index_name: str | None = None,
                   progress: Progress = _no_progress) -> tuple[bytes, str]:
    """(the file, the book version it is of): from the shared report cache, or built now and
    stored there for every worker (portfolio.book.cache.shared). A quarter that has not ended:
    QuarterlyError, whatever was stored."""
    from portfolio.book import cache
    from web.i18n import current_lang

    _refuse_not_ended(quarter_text)
    version = cache.book_version(db.session)
    period = _period(quarter_text, index_name, current_lang())
    body = cache.shared_get(db.session, f"quarterly.{fmt}", fund, period, version)
    if body is None:
        body = build_quarterly_file(fund, quarter_text, fmt, index_name, progress)
        cache.shared_put(db.session, f"quarterly.{fmt}", fund, period, version, body)
    return body, version


@queue.handler("quarterly_report")
def quarterly_report_job(job: queue.JobContext) -> dict:
    """A job: the quarterly report in a format, stored in the shared cache; its result names
    the entry to download, and the book version its file is of (the book when it ran, not
    when it was queued), which the job is then the report of (jobs.finish, as a backup's)."""
    from web.i18n import request_in

    p = job.params
    with request_in(p["lang"]):
        try:
            body, version = quarterly_file(p["fund"], p["quarter"], p["format"], p.get("index"), job.progress)
        except QuarterlyError as error:
            raise queue.JobRefused(said_by(error)) from error
    return {"what": f"quarterly.{p['format']}", "fund": p["fund"], "period": _period(p["quarter"], p.get("index"), p["lang"]),
            "version": version, "book_version": version, "bytes": len(body), "mimetype": FORMATS[p["format"]],
            "filename": f"{p['fund']}-{p['quarter'].upper()}.{p['format']}"}


def _query() -> str:
    """The query string carried to a redirect as it came (every key, repeated ones too), never
    handed to url_for as arguments (a key named like one of its own had answered 500)."""
    from urllib.parse import urlencode

    return "?" + urlencode(list(request.args.items(multi=True))) if request.args else ""


def _download(body: bytes, mimetype: str, filename: str):
    response = current_app.response_class(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = content_disposition(filename)
    return response


@bp.route("/")
def index():
    return _index_page()


def _index_page(*, quarter_error: Message | None = None, job_quarter_error: Message | None = None,
                status: int = 200, fund: str | None = None):
    """The reports screen; a refusal of the quarter asked for beside the quarter field of the
    form it came from (the report's, the file job's), in the reader's language, with `status`;
    `fund`, the fund it was asked for, chosen again in both forms (not the first in the list)."""
    from web.i18n import current_lang

    funds = db.session.execute(select(Fund).order_by(Fund.code)).scalars().all()
    indexes = db.session.execute(select(IndexLevel.name).distinct().order_by(IndexLevel.name)).scalars().all()
    last = last_quarter_end(local_today())
    first = db.session.execute(select(func.min(Investment.date))).scalar() or last
    lang = current_lang()
    # the quarters a report can be asked for: from the book's first investment to the last quarter end
    return render_template("reports/index.html", funds=funds, indexes=indexes,
                           quarters=quarters_between(min(first, last), last), default_quarter=quarter(last),
                           chosen_fund=fund,
                           quarter_error=shown(quarter_error, lang) if quarter_error else None,
                           job_quarter_error=shown(job_quarter_error, lang) if job_quarter_error else None), status


@bp.route("/choose")
def choose():
    fund = (request.args.get("fund") or "").strip()
    try:
        quarter_text = canonical_quarter(request.args.get("quarter") or "")
    except ValueError:
        flash(_("季度格式应为 2025Q4"), "error")
        return _index_page(fund=fund, status=400)
    refused = not_ended(quarter_text)
    if refused is not None:
        return _index_page(quarter_error=refused, status=400, fund=fund)
    return redirect(url_for("reports.quarterly", fund=fund, quarter=quarter_text,
                            index=request.args.get("index") or None))


@bp.route("/<fund>/<quarter>")
def quarterly(fund: str, quarter: str):
    from web.i18n import current_lang, one_language

    try:
        if canonical_quarter(quarter) != quarter:  # one address per report: 2025q4 → 2025Q4
            return redirect(url_for("reports.quarterly", fund=fund, quarter=canonical_quarter(quarter)) + _query())
    except ValueError:
        abort(404)
    refused = not_ended(quarter)
    if refused is not None:  # said beside the quarter field, where another can be chosen
        return _index_page(quarter_error=refused, status=400, fund=fund)
    index_name = _index_asked(fund)
    try:
        report = quarterly_report(fund, quarter, index_name)
    except QuarterlyError as error:
        if not index_name:
            abort(404)
        # an index that cannot price the flows: say why, show the report without it
        flash(shown(said_by(error), current_lang()), "error")
        # (without the index asked for; when it was the fund's default, without any)
        return redirect(url_for("reports.quarterly", fund=fund, quarter=quarter,
                                index=None if "index" in request.args else ""))
    from portfolio.book import cache

    with one_language() as lang:
        # the report's body (its tables and charts: 0.7 s for a fund of 2,000 holdings) is the
        # same for every reader in a language, so it is rendered once per book version; the
        # page around it (the menu, the user) for each request
        body = cache.memo(db.session, ("quarterly_body", *_report_key(fund, quarter, index_name), lang),
                          lambda: Markup(render_template("reports/_quarterly_body.html", report=report,
                                                         charts=report_charts(report, lang))))
        return render_template("reports/quarterly.html", report=report, body=body)


def _index_asked(fund_code: str) -> str | None:
    """The PME benchmark: ?index= (blank: none), else the fund's setting (pme_index)."""
    if "index" in request.args:
        return request.args.get("index") or None
    from portfolio.book.fund_settings import pme_index_of

    return pme_index_of(db.session, fund_code)


def _file_or_404(fund: str, quarter_text: str, fmt: str):
    try:
        if canonical_quarter(quarter_text) != quarter_text:  # one file per report: 2025q4 → 2025Q4
            return redirect(url_for(f"reports.quarterly_{fmt}", fund=fund, quarter=canonical_quarter(quarter_text))
                            + _query())
    except ValueError:
        abort(404)
    refused = not_ended(quarter_text)
    if refused is not None:
        return _index_page(quarter_error=refused, status=400, fund=fund)
    try:
        body, _version = quarterly_file(fund, quarter_text, fmt, _index_asked(fund))
    except QuarterlyError:
        abort(404)
    return _download(body, FORMATS[fmt], f"{fund}-{quarter_text.strip().upper()}.{fmt}")


@bp.route("/<fund>/<quarter>.xlsx")
def quarterly_xlsx(fund: str, quarter: str):
    return _file_or_404(fund, quarter, "xlsx")


@bp.route("/<fund>/<quarter>.pdf")
def quarterly_pdf(fund: str, quarter: str):
    return _file_or_404(fund, quarter, "pdf")


# -- report jobs: started from the reports screen, followed by a progress bar ----------------

def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json" or request.is_json


@bp.route("/jobs", methods=["POST"])
def start_job():
    """Start (or find, when the same report of the same book is already asked for) the job
    building a quarterly report file. Any logged-in user may: it reads the book only."""
    from web.auth import current_username
    from web.i18n import current_lang

    fund = (request.form.get("fund") or "").strip()
    fmt = request.form.get("format") or "pdf"
    index_name = request.form.get("index") or None
    try:
        quarter_text = canonical_quarter(request.form.get("quarter") or "")  # the job's key and file name
        known = db.session.get(Fund, fund) is not None
    except ValueError:
        known = False
    if not known or fmt not in FORMATS:
        message = _("请选择基金、格式，季度格式应为 2025Q4")
        if _wants_json():
            return jsonify({"error": message}), 400
        flash(message, "error")
        return redirect(url_for("reports.index"))
    refused = not_ended(quarter_text)
    if refused is not None:
        if _wants_json():
            return jsonify({"error": shown(refused, current_lang())}), 400
        return _index_page(job_quarter_error=refused, status=400, fund=fund)
    from portfolio.book.forecasting import overrides_version

    job = queue.submit("quarterly_report", {"fund": fund, "quarter": quarter_text, "format": fmt,
                                            "index": index_name, "lang": current_lang(),
                                            "forecast_parameters": overrides_version(db.session)},
                       username=current_username())
    if _wants_json():
        return jsonify(_job_status(queue.get_job(job.id))), 202
    return redirect(url_for("reports.job", job_id=job.id))


def _report_job_or_404(job_id: int):
    job = queue.get_job(job_id)
    if job is None or job.kind != "quarterly_report":
        abort(404)
    return job


def _job_status(job) -> dict:
    from web.i18n import current_lang

    done = job.state == "done"
    return {"id": job.id, "state": job.state, "done": job.done, "total": job.total,
            "unit": job.unit, "label": str(UNITS.get(job.unit, "")),
            "error": queue.error_shown(job, current_lang()),
            "started_by": job.started_by,
            "status_url": url_for("reports.job_status", job_id=job.id),
            "download_url": url_for("reports.job_download", job_id=job.id) if done else None}


@bp.route("/jobs/<int:job_id>")
def job(job_id: int):
    job = _report_job_or_404(job_id)
    queue.ensure_consumer(current_app._get_current_object())  # type: ignore[attr-defined]
    fund = db.session.get(Fund, job.params.get("fund")) if isinstance(job.params, dict) and job.params.get("fund") else None
    return render_template("reports/job.html", job=job, status=_job_status(job), units=UNITS, fund=fund)


@bp.route("/jobs/<int:job_id>.json")
def job_status(job_id: int):
    """The job's state and progress, polled by static/jobs.js."""
    job = _report_job_or_404(job_id)
    queue.ensure_consumer(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(_job_status(job))


@bp.route("/jobs/<int:job_id>/download")
def job_download(job_id: int):
    from portfolio.book import cache

    job = _report_job_or_404(job_id)
    if job.state != "done" or not job.result:
        abort(404)
    r = job.result
    body = cache.shared_get(db.session, r["what"], r["fund"], r["period"], r["version"])
    if body is None:  # a newer report replaced it, or the stored file was lost: asked again, it is built (queue.submit)
        flash(_("账簿已更新，报告需重新生成"), "error")
        return redirect(url_for("reports.index"))
    return _download(body, r["mimetype"], r["filename"])
