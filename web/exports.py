"""Every list screen as an Excel workbook: exactly the rows its filter selects (every page),
as the screen shows them, in the reader's language (portfolio/reports/list_xlsx.py writes it).

Each export is the list's address with `/export.xlsx`; the page's link keeps the filter
(`export_url`). The file is named by what it is and the day it was taken (Asia/Shanghai).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from itertools import islice

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    g,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_babel import pgettext  # a column or a filter naming one fund: "Fund", not the menu's "Funds"

from models import Fund
from portfolio.book import listing
from portfolio.filetypes import MIME_XLSX
from portfolio.formatting import LOCAL_TZ, RULE_KINDS, local_today, parse_date
from portfolio.reports.list_xlsx import ListColumn, list_workbook
from portfolio.vocabulary import label
from web import main, queue
from web.auth import current_username
from web.extensions import db
from web.i18n import PUNCTUATION, current_lang, fund_name, one_language, refusal, request_in
from web.security import content_disposition

bp = Blueprint("exports", __name__)


@bp.app_template_global("export_url")
def export_url(endpoint: str, **values) -> str:
    """The export of this page: its filter and order kept, its page number dropped."""
    args = {k: v for k, v in request.args.items() if k != "page"}
    return url_for(endpoint, **{**args, **(request.view_args or {}), **values})


def _p(name: str) -> str:
    return str(PUNCTUATION[name])


def _wan(header: str) -> str:
    """A header of an amount column: the unit beside it, as the screens write it."""
    return f"{header}{_p('lp')}{_('万元')}{_p('rp')}"


def _lang() -> str:
    return current_lang()


def _words(vocabulary: str) -> Callable[[object], str]:
    return lambda code: label(vocabulary, None if code is None else str(code), lang=_lang())


def _filter_text(pairs: Iterable[tuple[str, str]]) -> str:
    chosen = [f"{name} {value}" for name, value in pairs if value]
    return _("筛选条件：%(filters)s", filters=_p("semicolon").join(chosen) if chosen else _("无（全部记录）"))


def _fund_words(code: str) -> str:
    fund = db.session.get(Fund, code) if code else None
    return f"{code} {fund_name(fund)}" if fund is not None else code


EXPORT_JOB_MIN_ROWS = 10_000  # rows from which a list's workbook is written by a job (100,000 flows took 10 s)


def _send(what: str, title: str, filters: str, columns: Sequence[ListColumn], rows: Iterable[Mapping],
          scope: str = "", *, total: int | None = None) -> Response:
    """The workbook as a download named `<what>[_<scope>]_<today>.xlsx`; a list of
    EXPORT_JOB_MIN_ROWS rows or more is written by a job (`list_export`), whose page shows
    the bar and then the download. `total`: how many rows there are (`_total`: counted by the
    database, so a long list is queued before any row is read), where the list has a count;
    else its first rows are read to decide. The rows are read and written in one language
    (`one_language`: each cell's words and punctuation would otherwise ask Flask-Babel again)."""
    with one_language():
        return _written(what, title, filters, columns, rows, scope, total)


def _written(what: str, title: str, filters: str, columns: Sequence[ListColumn], rows: Iterable[Mapping],
             scope: str, total: int | None) -> Response:
    job = g.get("export_job")
    if job is None:
        limit = current_app.config.get("EXPORT_JOB_MIN_ROWS", EXPORT_JOB_MIN_ROWS)
        if total is not None and total >= limit:
            return _queued()
        rows = list(islice(rows, limit))  # the list's first rows: reading them is cheap, writing them is not
        if len(rows) == limit:
            return _queued()
    else:
        rows = list(rows)
    day = local_today().isoformat()
    progress = None if job is None else (lambda done: job.progress(done, len(rows), "rows_written"))
    data = list_workbook(title, filters, columns, rows, sheet=what, progress=progress)
    name = "_".join(p for p in (what, scope, day) if p) + ".xlsx"
    if job is not None:
        g.export_product = (data, name)
    return _attachment(data, name)


def _total(query) -> int | None:
    """How many rows the list's select gives, for `_send` to decide before reading any (a
    job, which writes them whatever their number, does not count)."""
    return None if g.get("export_job") else listing.count(db.session, query)


def _attachment(data: bytes, name: str) -> Response:
    response = send_file(io.BytesIO(data), mimetype=MIME_XLSX, as_attachment=True, download_name=name)
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


# -- a long list's workbook, written by a job ---------------------------------------------------------

def _queued() -> Response:
    """This export, queued as a job (the same address, language and as-of date, at the book
    as it is now); its page follows it."""
    from portfolio.book.versions import write_mark

    params = {"path": request.full_path, "lang": current_lang(), "as_of": session.get("as_of"),
              "mark": write_mark(db.session)}  # any write since (the history's too): written again
    job = queue.submit("list_export", params, username=current_username())
    return redirect(url_for("exports.export_job", job_id=job.id))


@queue.handler("list_export")
def list_export_job(job: queue.JobContext) -> dict:
    """A job: the list's own export view run for its address, in its asker's language and
    as-of date; the workbook stored in the shared cache, its result naming the entry."""
    from portfolio.book import cache

    p = job.params
    with request_in(p["lang"], p["path"], as_of=p.get("as_of")):
        g.export_job = job
        endpoint = request.endpoint or ""  # an export's own: the address is the one it was asked at
        current_app.view_functions[endpoint](**(request.view_args or {}))
        data, name = g.export_product
    period = hashlib.sha256(f"{p['path']}|{p['lang']}|{p.get('as_of')}".encode()).hexdigest()[:32]
    version = str(p["mark"])
    cache.shared_put(db.session, "list_export", endpoint, period, version, data)
    return {"what": "list_export", "fund": endpoint, "period": period, "version": version, "bytes": len(data),
            "filename": name}


def _export_job(job_id: int):
    """An export job (404 for any other job), its worker running: the list is anyone's to export."""
    return queue.followed(job_id, "list_export")


def _export_status(job) -> dict:
    return queue.status(job, status_url=url_for("exports.export_job_status", job_id=job.id),
                        result_url=url_for("exports.export_download", job_id=job.id))


@bp.route("/exports/jobs/<int:job_id>")
def export_job(job_id: int):
    """A long list's export: its progress bar while the workbook is written; then the download."""
    job = _export_job(job_id)
    return render_template("exports/job.html", job=job, status=_export_status(job), units=queue.UNITS)


@bp.route("/exports/jobs/<int:job_id>.json")
def export_job_status(job_id: int):
    """The job's state and progress, polled by static/jobs.js."""
    return jsonify(_export_status(_export_job(job_id)))


@bp.route("/exports/jobs/<int:job_id>/download")
def export_download(job_id: int):
    from portfolio.book import cache

    job = _export_job(job_id)
    r = job.result if job.state == "done" and isinstance(job.result, dict) else None
    body = cache.shared_get(db.session, r["what"], r["fund"], r["period"], r["version"]) if r else None
    if r is None or body is None:  # not done, or the stored file was lost: asked again, it is written again
        flash(_("导出文件已不在，请重新导出"), "error")
        return redirect(url_for("main.home"))
    return _attachment(body, r["filename"])


def _as_of_title(what: str) -> str:
    return f"{what}{_p('lp')}{_('截至 %(date)s；金额单位：万元', date=main.current_as_of().isoformat())}{_p('rp')}"


def _labelled(rows: Iterable[Mapping], **vocabularies: str) -> list[dict]:
    """Rows with their coded fields as words."""
    out = []
    for row in rows:
        item = dict(row)
        for key, vocabulary in vocabularies.items():
            item[key] = _words(vocabulary)(row.get(key)) if row.get(key) is not None else None
        out.append(item)
    return out


# -- the lists ---------------------------------------------------------------------------------

@bp.route("/investments/export.xlsx")
def investments():
    funds = main._funds()
    rows, _sort, _desc = main.investment_rows(funds)
    columns = [ListColumn("id", _("投资编号")), ListColumn("fund", pgettext("one", "基金")), ListColumn("mode", _("方式")),
               ListColumn("target", _("标的")), ListColumn("target_name", _("标的名称")),
               ListColumn("sector", _("领域")), ListColumn("date", _("投资日期"), "date"),
               ListColumn("commitment", _wan(_("认缴")), "amount"), ListColumn("paid_in", _wan(_("实缴")), "amount"),
               ListColumn("unfunded", _wan(_("未实缴")), "amount"), ListColumn("nav", _wan(_("剩余价值")), "amount"),
               ListColumn("tvpi", "TVPI", "multiple"), ListColumn("irr", "IRR", "percent")]
    args = request.args
    filters = _filter_text([(pgettext("one", "基金"), _fund_words(args.get("fund", ""))),
                            (_("方式"), _words("mode")(args["mode"]) if args.get("mode") else ""),
                            (_("领域"), _words("sector")(args["sector"]) if args.get("sector") else ""),
                            (_("关键词"), args.get("q", "").strip())])
    what = _("投资清单")
    return _send(what, _as_of_title(what), filters, columns, _labelled(rows, mode="mode", sector="sector"),
                 args.get("fund", ""))


@bp.route("/sub-funds/export.xlsx")
def sub_funds():
    funds = main._funds()
    rows, _sort, _desc = main.sub_fund_rows(funds)
    columns = [ListColumn("code", _("子基金代码")), ListColumn("name", _("名称")), ListColumn("manager", _("管理人")),
               ListColumn("fund", pgettext("one", "基金")), ListColumn("commitment", _wan(_("认缴")), "amount"),
               ListColumn("paid_in", _wan(_("已实缴")), "amount"), ListColumn("unfunded", _wan(_("未实缴")), "amount"),
               ListColumn("nav", _wan(_("剩余价值")), "amount"),
               ListColumn("latest_report_as_of", _("最近投资明细"), "date"),
               ListColumn("reinvestment_multiple", _("返投倍数"), "multiple")]
    args = request.args
    filters = _filter_text([(pgettext("one", "基金"), _fund_words(args.get("fund", ""))),
                            (_("关键词"), args.get("q", "").strip())])
    what = _("子基金清单")
    return _send(what, _as_of_title(what), filters, columns, rows, args.get("fund", ""))


@bp.route("/companies/export.xlsx")
def companies():
    chosen = main.company_filter()
    rows = listing.company_rows(db.session, **chosen)
    columns = [ListColumn("code", _("企业代码")), ListColumn("name", _("企业名称")),
               ListColumn("credit_code", _("统一社会信用代码")), ListColumn("sector", _("所属领域")),
               ListColumn("region_code", _("注册地区划代码")), ListColumn("founded", _("成立日期"), "date"),
               ListColumn("investments", _("投资笔数"), "count")]
    filters = _filter_text([(_("关键词"), chosen["q"]),
                            (_("所属领域"), _words("sector")(chosen["sector"]) if chosen["sector"] else ""),
                            (_("注册地区划代码"), chosen["region"])])
    what = _("被投企业清单")
    return _send(what, what, filters, columns, _labelled(rows, sector="sector"))


@bp.route("/funds/<code>/compliance/export.xlsx")
def compliance(code: str):
    fund = db.session.get(Fund, code)
    if fund is None:
        abort(404)
    checks, _rules = main.compliance_rows(code)
    lang = _lang()
    rows = []
    for check in checks:
        kind = RULE_KINDS.get(check["rule"], "percent")
        shown = {"instrument": "text"}.get(kind, kind)
        rows.append({"status": label("check_status", check["status"], lang=lang),
                     "rule": label("rule", check["rule"], lang=lang), "subject": check.get("subject"),
                     "value": label("instrument", str(check["value"]), lang=lang)
                     if kind == "instrument" and check.get("value") is not None else check.get("value"),
                     "limit": label("instrument", str(check["limit"]), lang=lang)
                     if kind == "instrument" and check.get("limit") is not None else check.get("limit"),
                     "kind": shown, "message": _explain(check.get("message"), lang)})
    columns = [ListColumn("status", _("状态")), ListColumn("rule", _("规则")), ListColumn("subject", _("对象")),
               ListColumn("value", _("实际值"), "by_row"), ListColumn("limit", _("限额"), "by_row"),
               ListColumn("message", _("说明"))]
    args = request.args
    filters = _filter_text([(_("状态"), label("check_status", args["status"], lang=lang) if args.get("status") else ""),
                            (_("规则"), label("rule", args["rule"], lang=lang) if args.get("rule") else "")])
    what = _("合规检查")
    title = f"{what}{_p('colon')}{code} {fund_name(fund)}{_p('lp')}" \
            f"{_('截至 %(date)s；金额单位：万元', date=main.current_as_of().isoformat())}{_p('rp')}"
    return _send(what, title, filters, columns, rows, code)


def _explain(message, lang: str) -> str:
    from portfolio.messages import shown

    return "" if message is None else str(shown(message, lang))


def _history_changes(entry) -> str:
    parts = [f"{name}{_p('colon')}{'—' if before is None else before} → {'—' if after is None else after}"
             for name, before, after in main.audit_rows(entry) if before != after]
    return _p("semicolon").join(parts)


@bp.route("/history/export.xlsx")
def history():
    typed, parsed = main.history_filter()
    lang = _lang()

    def rows() -> Iterator[dict]:  # read at the first row asked for, not before
        for e in listing.history_entries(db.session, parsed):
            yield {"at": e.at.replace(tzinfo=e.at.tzinfo or dt.UTC).astimezone(LOCAL_TZ).replace(tzinfo=None),
                   "username": main.person(e.username), "action": label("audit_action", e.action, lang=lang),
                   "entity": label("entity", e.entity, lang=lang), "key": main.key_shown(e.entity, e.entity_key),
                   "reason": main.audit_reason(e), "changes": _history_changes(e)}

    columns = [ListColumn("at", _("时间（北京时间）"), "datetime"), ListColumn("username", _("用户")),
               ListColumn("action", _("操作")), ListColumn("entity", _("对象")), ListColumn("key", _("编号")),
               ListColumn("reason", _("理由")), ListColumn("changes", _("修改前 → 修改后"))]
    filters = _filter_text([(_("用户"), typed["user"]),
                            (_("对象"), label("entity", typed["entity"], lang=lang) if typed["entity"] else ""),
                            (_("操作"), label("audit_action", typed["action"], lang=lang) if typed["action"] else ""),
                            (_("编号"), typed["key"]),
                            (_("自"), parsed.since.isoformat() if parsed.since else ""),
                            (_("至"), parsed.until.isoformat() if parsed.until else ""),
                            (_("导入批次"), parsed.change_set)])
    what = _("修改历史")
    # counted first, before any entry is read (their changes are written out one by one)
    return _send(what, what, filters, columns, rows(), total=_total(listing.history_query(db.session, parsed)))


def _flow_filter() -> listing.FlowFilter:
    args = request.args
    fund = args.get("fund", "")
    if fund and db.session.get(Fund, fund) is None:
        abort(404)
    days: dict[str, dt.date | None] = {"since": None, "until": None}
    for name in days:
        if args.get(name):
            try:
                days[name] = parse_date(args[name])
            except ValueError as error:
                flash(refusal(error), "error")
    return listing.FlowFilter(fund=fund, investment=args.get("investment", "").strip(), type=args.get("type", ""),
                              since=days["since"], until=days["until"])


def _flow_filter_text(f: listing.FlowFilter, type_name: str, vocabulary: str) -> str:
    return _filter_text([(pgettext("one", "基金"), _fund_words(f.fund)), (_("投资编号"), f.investment),
                         (type_name, _words(vocabulary)(f.type) if f.type else ""),
                         (_("自"), f.since.isoformat() if f.since else ""),
                         (_("至"), f.until.isoformat() if f.until else "")])


@bp.route("/cash-flows/export.xlsx")
def cash_flows():
    f = _flow_filter()
    query = listing.cash_flow_query(db.session, f)

    def rows() -> Iterator[dict]:  # read at the first row asked for: not at all when the job is queued
        for row in _labelled(listing.cash_flow_rows(db.session, query), type="type"):
            row["status"] = _record_status(row)
            yield row

    columns = [ListColumn("fund_code", pgettext("one", "基金")), ListColumn("investment_id", _("投资编号")),
               ListColumn("date", _("日期"), "date"), ListColumn("type", _("类型")),
               ListColumn("amount_cny", _wan(_("金额")), "amount"), ListColumn("note", _("备注")),
               ListColumn("ref", _("凭证号")), ListColumn("status", _("状态"))]
    what = _("现金流")
    return _send(what, f"{what}{_p('lp')}{_('金额单位：万元')}{_p('rp')}", _flow_filter_text(f, _("类型"), "type"),
                 columns, rows(), f.fund, total=_total(query))


def _record_status(row: dict) -> str:
    """A cash flow's or valuation's state in words, as the investment's page shows it."""
    if row.get("voided_at"):
        return _("已作废")
    if row.get("void_requested_at"):
        return _("作废待批准")
    return _("已审批") if row.get("approved_at") else _("待审批")


@bp.route("/valuations/export.xlsx")
def valuations():
    f = _flow_filter()
    query = listing.valuation_query(db.session, f)

    def rows() -> Iterator[dict]:
        for row in _labelled(listing.valuation_rows(db.session, query), method="method"):
            row["status"] = _record_status(row)
            yield row

    columns = [ListColumn("fund_code", pgettext("one", "基金")), ListColumn("investment_id", _("投资编号")),
               ListColumn("as_of", _("估值基准日"), "date"), ListColumn("fair_value_cny", _wan(_("公允价值")), "amount"),
               ListColumn("method", _("估值方法")), ListColumn("status", _("状态"))]
    what = _("估值")
    return _send(what, f"{what}{_p('lp')}{_('金额单位：万元')}{_p('rp')}",
                 _flow_filter_text(f, _("估值方法"), "method"), columns, rows(), f.fund, total=_total(query))
