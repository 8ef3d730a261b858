"""Screens for reading the book: home, fund dashboard, lists, detail pages, history.

Every figure comes from the engine (portfolio.figures.report / portfolio.figures.engine, through the
cache in portfolio.book.cache); these views only pick, sort and page what it returns.
"""
from __future__ import annotations

import datetime as dt
import math
import re
from decimal import Decimal, InvalidOperation

from flask import Blueprint, abort, current_app, flash, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import func, select

from models import AuditEntry, CashFlow, Company, Fund, Investment, SubFund, SubFundHolding, User, Valuation
from portfolio.book import cache, listing
from portfolio.book.audit import doubts_shown, reason_shown
from portfolio.figures.scope import UnknownFund
from portfolio.formatting import (
    amount_wan,
    by_kind,
    iso_date,
    last_quarter_end,
    local_today,
    parse_date,
    row_named,
    since_by,
)
from portfolio.formatting import local_time as formatting_local_time
from portfolio.messages import clauses, said_by, shown
from portfolio.vocabulary import LABELS_EN, SECTORS, english_field_name, label
from web.extensions import db
from web.i18n import PUNCTUATION, current_lang, refusal

bp = Blueprint("main", __name__)

PAGE_SIZE = 50


# -- the as-of date every screen honours ---------------------------------------------------

@bp.before_app_request
def remember_as_of():
    """`?as_of=YYYY-MM-DD` on any screen sets the date, kept in the session; a date that is
    malformed or out of range is refused with the reason and never remembered."""
    value = request.args.get("as_of")
    if value and not request.path.startswith("/api/"):
        try:
            session["as_of"] = parse_date(value).isoformat()
        except ValueError as error:
            flash(_("基准日无效：%(reason)s", reason=refusal(error)), "error")


def current_as_of() -> dt.date:
    value = session.get("as_of")
    if value:
        try:
            return parse_date(value)
        except ValueError:
            session.pop("as_of", None)
    return last_quarter_end(local_today())


@bp.app_context_processor
def as_of_context():
    return {"as_of": current_as_of() if current_user and current_user.is_authenticated else None}


# -- small helpers for lists ---------------------------------------------------------------------

MAX_PAGE = 10**9  # ?page= past it is read as it: an offset the databases hold (a larger one was a 500)


def _page() -> int:
    try:
        return min(max(1, int(request.args.get("page", 1))), MAX_PAGE)
    except ValueError:
        return 1


def paged(rows: list, page: int, size: int = PAGE_SIZE) -> dict:
    pages = max(1, math.ceil(len(rows) / size))
    page = min(page, pages)
    return {"rows": rows[(page - 1) * size: page * size], "page": page, "pages": pages, "total": len(rows)}


def sort_rows(rows: list[dict], key: str, allowed: set[str], default: str) -> tuple[list[dict], str, bool]:
    """Sort by ?sort=key (prefix '-' for descending); missing values last."""
    desc = key.startswith("-")
    name = key.lstrip("-")
    if name not in allowed:
        name, desc = default.lstrip("-"), default.startswith("-")
    present = [r for r in rows if r.get(name) is not None]
    missing = [r for r in rows if r.get(name) is None]
    present.sort(key=lambda r: r[name], reverse=desc)
    return present + missing, name, desc


def _funds() -> list[Fund]:
    return db.session.execute(select(Fund).order_by(Fund.code)).scalars().all()


def _root_funds(funds: list[Fund]) -> list[Fund]:
    return [f for f in funds if not f.parent_code]


def _report(code: str, as_of: dt.date | None = None) -> dict:
    try:
        return cache.fund_report(db.session, code, as_of or current_as_of())
    except UnknownFund:
        abort(404)


# -- home and dashboard --------------------------------------------------------------------------

@bp.route("/")
def home():
    """The home page: what waits for this user (by role), what needs attention, and each fund's
    figures by quarter. What waits (and the late GP packages) is read for each request; the
    funds' table, alerts and trends are rendered once per (book version, date, language) and
    kept as HTML (cache.fragment): the figures and charts under them are computed only then."""
    from portfolio.book.todos import todos
    from web.auth import PERMISSIONS, current_username

    as_of = current_as_of()
    lang = current_lang()
    can_write = current_user.can("write")
    period = f"{as_of.isoformat()}|{lang}"
    state: dict = {}

    def figures() -> dict:  # once per rendering of the fragments below, and only if one is rendered
        if not state:
            funds = _funds()
            state["rows"] = [(fund, cache.fund_report(db.session, fund.code, as_of)["summary"]) for fund in funds]
            state["trends"] = [_home_trend(fund.code, fund, as_of, lang) for fund in _root_funds(funds)]
        return state

    def part(name: str, template: str, key: str = period) -> Markup:
        return Markup(cache.fragment(db.session, name, "", key, lambda: render_template(
            template, as_of=as_of, can_write=can_write, **figures())).strip())

    alerts = part("home_alerts", "main/_home_alerts.html")
    # the table says "upload a book" to a writer when there is no fund: who may write is in the key
    funds = part("home_funds", "main/_home_funds.html", f"{period}|{'w' if can_write else 'r'}")
    trend_sections = part("home_trends", "main/_home_trends.html")
    todo = todos(db.session, current_username(), PERMISSIONS.get(current_user.role, frozenset()), local_today())
    people = dict(db.session.execute(select(User.username, User.display_name)
                                     .where(User.display_name.is_not(None))).all()) if todo.total else {}
    if todo.settings:  # a change gone stale has no approve button: the checker declines it
        from portfolio.book.fund_settings import stale_settings

        stale = stale_settings(db.session, todo.settings)
    else:
        stale = {}
    record_corrections = []
    if todo.record_corrections:
        from portfolio.book.corrections import asked_corrections

        record_corrections = asked_corrections(db.session, todo.record_corrections)
    return render_template("main/home.html", alerts=alerts, funds=funds, trend_sections=trend_sections, todo=todo,
                           people=people, stale_settings=stale, record_corrections=record_corrections)


def _home_trend(code: str, fund: Fund, as_of: dt.date, lang: str) -> dict:
    points = cache.fund_trend(db.session, code, as_of)
    charts = cache.memo(db.session, ("home_charts", code, as_of, lang),
                        lambda: _trend_charts(code, as_of, points, lang))
    return {"fund": fund, "points": points, "charts": charts, "alerts": cache.fund_alerts(db.session, code, as_of)}


def _trend_charts(code: str, as_of: dt.date, points: list[dict], lang: str) -> dict:
    """The home page's charts of a fund, drawn once for every worker and kept while the trend
    they show is the same (portfolio.book.cache.drawn: drawing costs most of a page's first visit)."""
    def drawn(what: str) -> str | None:
        def draw() -> str:
            from portfolio.reports import trend_charts

            chart = trend_charts.trend_chart if what == "trend" else trend_charts.flows_chart
            return chart(points, lang) or ""
        return cache.drawn(db.session, f"home_{what}_svg", code, f"{as_of.isoformat()}|{lang}", (points, lang),
                           draw)

    return {"trend": drawn("trend"), "flows": drawn("flows")}


def _charts():
    # the charts module is light now (SVG written directly); imported where a page draws
    from portfolio.reports import charts
    return charts


def _report_charts():
    from portfolio.reports import report_charts
    return report_charts


def _quarter_bridge(code: str, as_of: dt.date, report: dict) -> dict:
    """The NAV bridge of the quarter to as-of (opening NAV, flows, change, closing NAV)."""
    from portfolio.reports.quarterly import quarter_opening, quarter_to_date_bridge

    opening_date = quarter_opening(as_of)
    return quarter_to_date_bridge(cache.fund_report(db.session, code, opening_date), report, opening_date)


@bp.route("/funds/<code>")
def fund(code: str):
    """The fund's dashboard. Its figures, charts, checks and latest activity are rendered once
    per (book version, fund, date, language) and kept as HTML (cache.fragment); the heading
    (what the user may do), the PME panel (the query's index) and the page around are the request's."""
    fund = db.session.get(Fund, code)
    if fund is None:
        abort(404)
    as_of = current_as_of()
    lang = current_lang()
    period = f"{as_of.isoformat()}|{lang}"
    state: dict = {}

    def figures() -> dict:  # computed only when a fragment is rendered
        if not state:
            state.update(_fund_figures(fund, code, as_of, lang))
        return state

    summary, body = (Markup(cache.fragment(db.session, name, code, period, lambda template=template: render_template(
        template, fund=fund, fund_code=code, as_of=as_of, **figures())))
        for name, template in (("fund_summary", "main/_fund_summary.html"),
                               ("fund_figures", "main/_fund_figures.html")))
    return render_template("main/fund.html", fund=fund, fund_code=code, summary=summary, figures=body,
                           **_pme_panel(fund, as_of))


def _fund_figures(fund: Fund, code: str, as_of: dt.date, lang: str) -> dict:
    """What the dashboard's fragments show: the report and what is made of it."""
    report = _report(code, as_of)  # the date the fragments are keyed on, not whatever the session holds
    checks = report.get("compliance") or []
    compliance = cache.memo(db.session, ("compliance_panel", code, as_of), lambda: compliance_panel(checks))
    try:
        indicators = cache.fund_indicators(db.session, code, as_of, checks=report.get("compliance"))
    except Exception:  # the indicators must not take the dashboard down with them
        current_app.logger.exception("performance indicators failed for %s", code)
        indicators = None
    bridge = _quarter_bridge(code, as_of, report)
    figures_charts = cache.memo(db.session, ("fund_charts", code, as_of, lang),
                                lambda: _fund_charts(code, as_of, lang, report, bridge))
    family = sorted({i["fund"] for i in report["investments"]} | {code})
    flows, valuations = cache.memo(db.session, ("activity", code, as_of),
                                   lambda: latest_activity(family, as_of))
    since = {"total": since_by(report["investments"]), "by_mode": since_by(report["investments"], "mode"),
             "by_vintage": since_by(report["investments"], "vintage")}
    return {"report": report, "compliance": compliance, "indicators": indicators, "charts": figures_charts,
            "flows": flows, "valuations": valuations, "since": since, "bridge": bridge}


def _fund_charts(code: str, as_of: dt.date, lang: str, report: dict, bridge: dict) -> dict:
    """The dashboard's charts, each kept while what it shows is the same (cache.drawn)."""
    lookthrough = report.get("lookthrough_by_sector") or {}
    charts = {
        "bridge": (bridge, lambda: _report_charts().bridge_chart(bridge, lang)),
        "by_mode": (report["by_mode"], lambda: _charts().mode_chart(report["by_mode"], lang)),
        "by_sector": (report["by_sector"], lambda: _charts().sector_chart(report["by_sector"], lang)),
        "lookthrough": (lookthrough, lambda: _charts().sector_chart(lookthrough, lang, lookthrough=True)),
    }
    return {name: cache.drawn(db.session, f"fund_{name}_svg", code, f"{as_of.isoformat()}|{lang}",
                              (inputs, lang), draw) for name, (inputs, draw) in charts.items()}


def _pme_panel(fund: Fund, as_of: dt.date) -> dict:
    """The PME benchmark: ?index= (blank: none) or the fund's setting, among the book's index
    series; its figures, or why there are none."""
    from portfolio.figures.pme import PMEError
    from portfolio.figures.report import ReportError
    from portfolio.figures.settings import fund_settings

    indexes = cache.index_names(db.session)
    default = str(fund_settings(fund.kind, fund.settings)["pme_index"] or "")
    chosen = request.args.get("index", default).strip()
    pme, pme_error = None, None
    if chosen and chosen not in indexes:
        pme_error = _("没有指数 %(name)s 的数据", name=chosen)
    elif chosen:
        try:
            pme = cache.fund_pme(db.session, fund.code, as_of, chosen)
        except (PMEError, ReportError) as error:
            pme_error = shown(said_by(error), current_lang())
    return {"indexes": indexes, "pme_index": chosen, "pme_default": default, "pme": pme, "pme_error": pme_error}


DASHBOARD_CHECKS = 30  # failures and warnings shown on the dashboard; the full list is a page of its own


def _failures_first(checks: list[dict]) -> list[dict]:
    """The checks, failures first, then warnings, then passes (each kind in its order)."""
    from portfolio.figures.rules import STATUS_ORDER

    return sorted(checks, key=lambda r: STATUS_ORDER.get(r["status"], 3))


def compliance_panel(checks: list[dict]) -> dict:
    """The dashboard's compliance panel: failures first, then warnings (the first few, each
    with figure and limit), and the passes counted by rule."""
    from portfolio.figures.rules import STATUS_ORDER

    ordered = _failures_first(checks)
    counts = {status: sum(1 for r in checks if r["status"] == status) for status in STATUS_ORDER}
    passes: dict[str, int] = {}
    for r in checks:
        if r["status"] == "pass":
            passes[r["rule"]] = passes.get(r["rule"], 0) + 1
    shown = [r for r in ordered if r["status"] != "pass"][:DASHBOARD_CHECKS]
    if not shown:  # nothing wrong: show the passes themselves (a short list on a small book)
        shown = ordered[:DASHBOARD_CHECKS]
    return {"rows": shown, "counts": counts, "total": len(checks), "passes": passes}


def compliance_rows(code: str) -> tuple[list[dict], list[str]]:
    """The fund's checks as of D the page's filter (?status, rule) selects, failures first;
    and every rule checked (for the filter)."""
    checks = _failures_first(_report(code).get("compliance") or [])
    status, rule = request.args.get("status", ""), request.args.get("rule", "")
    rules = sorted({r["rule"] for r in checks})
    if status:
        checks = [r for r in checks if r["status"] == status]
    if rule:
        checks = [r for r in checks if r["rule"] == rule]
    return checks, rules


@bp.route("/funds/<code>/compliance")
def fund_compliance(code: str):
    """Every compliance check of the fund as of D, filterable by status and rule."""
    fund = db.session.get(Fund, code)
    if fund is None:
        abort(404)
    checks, rules = compliance_rows(code)
    return render_template("main/compliance.html", fund=fund, page=paged(checks, _page()), rules=rules)


def latest_activity(fund_codes: list[str], as_of: dt.date, n: int = 10) -> tuple[list[dict], list[dict]]:
    """The latest cash flows and valuations of the funds' investments on or before D, as
    plain dicts (they are cached beyond this request's session)."""
    flows = db.session.execute(
        select(CashFlow.id, CashFlow.date, CashFlow.investment_id, CashFlow.type, CashFlow.amount_cny,
               CashFlow.approved_at, CashFlow.voided_at)
        .join(Investment, CashFlow.investment_id == Investment.id)
        .where(Investment.fund_code.in_(fund_codes), CashFlow.date <= as_of)
        .order_by(CashFlow.date.desc(), CashFlow.id.desc()).limit(n)).mappings().all()
    valuations = db.session.execute(
        select(Valuation.id, Valuation.as_of, Valuation.investment_id, Valuation.method, Valuation.fair_value_cny,
               Valuation.approved_at, Valuation.voided_at)
        .join(Investment, Valuation.investment_id == Investment.id)
        .where(Investment.fund_code.in_(fund_codes), Valuation.as_of <= as_of)
        .order_by(Valuation.as_of.desc(), Valuation.id.desc()).limit(n)).mappings().all()
    return [dict(r) for r in flows], [dict(r) for r in valuations]


# -- lists ---------------------------------------------------------------------------------------

def _fund_filter(funds: list[Fund]) -> list[str]:
    chosen = request.args.get("fund") or ""
    if chosen:
        if chosen not in {f.code for f in funds}:
            abort(404)
        return [chosen]
    return [f.code for f in _root_funds(funds)]


INVESTMENT_SORTS = {"id", "fund", "mode", "target", "sector", "date", "commitment", "paid_in", "unfunded", "nav",
                    "tvpi", "irr"}


def investment_rows(funds: list[Fund]) -> tuple[list[dict], str, bool]:
    """Every investment the page's filter (?fund, mode, sector, q) selects, sorted (?sort)."""
    rows = []
    for code in _fund_filter(funds):
        rows += [dict(item, reporting_fund=code) for item in _report(code)["investments"]]
    mode, sector, q = request.args.get("mode", ""), request.args.get("sector", ""), request.args.get("q", "").strip()
    if mode:
        rows = [r for r in rows if r["mode"] == mode]
    if sector:
        rows = [r for r in rows if r["sector"] == sector]
    if q:
        ql = q.lower()
        rows = [r for r in rows if ql in (r["id"] or "").lower() or ql in (r["target"] or "").lower()
                or ql in (r.get("target_name") or "").lower()]
    return sort_rows(rows, request.args.get("sort", "date"), INVESTMENT_SORTS, "date")


@bp.route("/investments")
def investments():
    funds = _funds()
    rows, sort, desc = investment_rows(funds)
    return render_template("main/investments.html", funds=funds, page=paged(rows, _page()), sort=sort, desc=desc,
                           sectors=SECTORS)


SUB_FUND_SORTS = {"code", "name", "manager", "fund", "commitment", "paid_in", "unfunded", "nav",
                  "latest_report_as_of", "reinvestment_multiple"}


def sub_fund_rows(funds: list[Fund]) -> tuple[list[dict], str, bool]:
    """Every sub-fund the page's filter (?fund, q) selects, sorted (?sort)."""
    rows = []
    for code in _fund_filter(funds):
        rows += [dict(item, fund=code) for item in _report(code).get("sub_funds") or []]
    # sub-funds no fund has committed to yet are listed too (without figures)
    listed = {r["code"] for r in rows}
    if not request.args.get("fund"):
        for sf in db.session.execute(select(SubFund).order_by(SubFund.code)).scalars():
            if sf.code not in listed:
                rows.append({"code": sf.code, "name": sf.name, "manager": sf.manager, "size": sf.size_cny,
                             "fund": None, "commitment": None, "paid_in": None, "unfunded": None, "nav": None,
                             "latest_report_as_of": None, "reinvestment_multiple": None})
    q = request.args.get("q", "").strip().lower()
    if q:
        rows = [r for r in rows if q in r["code"].lower() or q in (r.get("name") or "").lower()
                or q in (r.get("manager") or "").lower()]
    return sort_rows(rows, request.args.get("sort", "code"), SUB_FUND_SORTS, "code")


@bp.route("/sub-funds")
def sub_funds():
    funds = _funds()
    rows, sort, desc = sub_fund_rows(funds)
    return render_template("main/sub_funds.html", funds=funds, page=paged(rows, _page()), sort=sort, desc=desc)


def company_filter() -> dict:
    """The companies page's filter and order (?q, sector, region, sort) for listing.companies_query."""
    key = request.args.get("sort", "code")
    sort = key.lstrip("-") if key.lstrip("-") in listing.COMPANY_SORTS else "code"
    return {"q": request.args.get("q", "").strip(), "sector": request.args.get("sector", ""),
            "region": request.args.get("region", "").strip(), "sort": sort, "desc": key.startswith("-")}


@bp.route("/companies")
def companies():
    filters = company_filter()
    stmt = listing.companies_query(**filters)
    total = db.session.execute(select(func.count()).select_from(stmt.order_by(None).subquery())).scalar()
    pages = max(1, math.ceil(total / PAGE_SIZE))
    page = min(_page(), pages)
    records = db.session.execute(stmt.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).scalars().all()
    counts = listing.investment_counts(db.session, [c.code for c in records])
    return render_template("main/companies.html", page={"rows": records, "page": page, "pages": pages,
                                                        "total": total},
                           counts=counts, sort=filters["sort"], desc=filters["desc"], sectors=SECTORS)


# -- detail pages -------------------------------------------------------------------------------

def _figures(ids: list[str]) -> dict | None:
    if not ids:
        return None
    from portfolio.figures.engine import group_figures

    book = cache.book(db.session)
    return group_figures(book, ids, current_as_of())


@bp.route("/investments/<inv_id>")
def investment(inv_id: str):
    inv = db.session.get(Investment, inv_id)
    if inv is None:
        abort(404)
    flows = db.session.execute(select(CashFlow).where(CashFlow.investment_id == inv_id)
                               .order_by(CashFlow.date, CashFlow.id)).scalars().all()
    valuations = db.session.execute(select(Valuation).where(Valuation.investment_id == inv_id)
                                    .order_by(Valuation.as_of, Valuation.id)).scalars().all()
    chart = _charts().valuation_history_chart(
        [(v.as_of, v.fair_value_cny, v.approved_at is not None and v.voided_at is None) for v in valuations],
        current_lang())
    target = db.session.get(SubFund, inv.sub_fund_code) if inv.mode == "sub_fund" else \
        db.session.get(Company, inv.company_code)
    from portfolio.book.corrections import stale_corrections, waiting_corrections, waiting_record_corrections

    corrections = waiting_corrections(db.session, inv_id)
    record_corrections = waiting_record_corrections(db.session, inv_id)
    return render_template("main/investment.html", inv=inv, flows=flows, valuations=valuations, chart=chart,
                           target=target, figures=_figures([inv_id]),
                           corrections=corrections, stale_corrections=stale_corrections(db.session, corrections),
                           record_corrections=record_corrections,
                           correcting={(a.pending.entity, a.record.id) for a in record_corrections},
                           void_reasons={"cash_flows": _void_reasons("cash_flows", flows),
                                         "valuations": _void_reasons("valuations", valuations)})


def _void_reasons(entity: str, records: list) -> dict[int, str]:
    """The voided records' reasons in the reader's language: the application's (a GP package
    replacing a valuation) by the key its void's audit entry kept, a person's as typed."""
    voided = {str(r.id): r for r in records if r.voided_at is not None}
    if not voided:
        return {}
    said = dict(db.session.execute(select(AuditEntry.entity_key, AuditEntry.reason_said).where(
        AuditEntry.entity == entity, AuditEntry.action == "void", AuditEntry.entity_key.in_(voided),
        AuditEntry.reason_said.is_not(None))).all())
    return {r.id: reason_shown(r.void_reason, said.get(key), current_lang()) for key, r in voided.items()}


@bp.route("/companies/<code>")
def company(code: str):
    record = db.session.get(Company, code)
    if record is None:
        abort(404)
    holdings = db.session.execute(select(Investment).where(Investment.company_code == code)
                                  .order_by(Investment.date, Investment.id)).scalars().all()
    via_sub_funds = db.session.execute(select(SubFundHolding).where(SubFundHolding.company_code == code)
                                       .order_by(SubFundHolding.as_of.desc())).scalars().all()
    return render_template("main/company.html", company=record, holdings=holdings, via_sub_funds=via_sub_funds,
                           figures=_figures([i.id for i in holdings]))


@bp.route("/sub-funds/<code>")
def sub_fund(code: str):
    record = db.session.get(SubFund, code)
    if record is None:
        abort(404)
    commitments = db.session.execute(select(Investment).where(Investment.sub_fund_code == code)
                                     .order_by(Investment.date, Investment.id)).scalars().all()
    alongside = db.session.execute(select(Investment).where(Investment.alongside_code == code)
                                   .order_by(Investment.date, Investment.id)).scalars().all()
    as_of = current_as_of()
    latest = db.session.execute(select(func.max(SubFundHolding.as_of)).where(
        SubFundHolding.sub_fund_code == code, SubFundHolding.as_of <= as_of)).scalar()
    holdings = db.session.execute(select(SubFundHolding, Company).join(Company)
                                  .where(SubFundHolding.sub_fund_code == code, SubFundHolding.as_of == latest)
                                  .order_by(SubFundHolding.cost_cny.desc())).all() if latest else []
    return render_template("main/sub_fund.html", sub_fund=record, commitments=commitments, alongside=alongside,
                           latest=latest, holdings=holdings, figures=_figures([i.id for i in commitments]))


# -- history -----------------------------------------------------------------------------------

ENTITIES = ("investments", "cash_flows", "valuations", "companies", "sub_funds", "funds", "users",
            "sub_fund_holdings", "change_sets")
ACTIONS = ("create", "request_create", "reject_create", "update", "request_void", "void", "reject_void",
           "request_correction", "reject_correction", "approve",
           "import", "deactivate", "stage", "apply", "reject", "request_reopen", "reject_reopen", "reopen")


def history_filter() -> tuple[dict, listing.HistoryFilter]:
    """The history page's filter (?user, entity, action, key, since, until, change_set): as
    typed (for the form) and parsed (a malformed date is flashed and left out)."""
    filters = {k: request.args.get(k, "").strip() for k in ("user", "entity", "action", "key", "since", "until")}
    days: dict[str, dt.date | None] = {"since": None, "until": None}
    for name in days:
        if filters[name]:
            try:
                days[name] = parse_date(filters[name])
            except ValueError as error:
                flash(refusal(error), "error")
    return filters, listing.HistoryFilter(
        user=filters["user"], entity=filters["entity"], action=filters["action"], key=filters["key"],
        since=days["since"], until=days["until"], change_set=request.args.get("change_set", "").strip())


@bp.route("/history")
def history():
    filters, parsed = history_filter()
    page = _page()
    entries, total = listing.history_page(db.session, parsed, page, PAGE_SIZE)
    pages = max(1, math.ceil(total / PAGE_SIZE))
    if page > pages:  # past the last page (the history is shorter than the link): the last
        page = pages
        entries, total = listing.history_page(db.session, parsed, page, PAGE_SIZE)
    people = db.session.execute(select(User.username, User.display_name).order_by(User.username)).all()
    return render_template("main/history.html", entries=entries, filters=filters, entities=ENTITIES, actions=ACTIONS,
                           page={"page": page, "pages": pages, "total": total}, title_key=None,
                           people=[name or username for username, name in people])


@bp.route("/history/<entity>/<path:key>")
def entity_history(entity: str, key: str):
    entries = db.session.execute(select(AuditEntry).where(AuditEntry.entity == entity, AuditEntry.entity_key == key)
                                 .order_by(AuditEntry.id.desc())).scalars().all()
    return render_template("main/history.html", entries=entries, filters=None, entities=ENTITIES,
                           page=None, title_key=(entity, key))


# the coded fields of the tables outside the workbook (committee, users): their vocabularies
VALUE_VOCABULARIES = {"mode": "mode", "status": "proposal_status", "role": "role", "decision": "decision",
                      "choice": "vote", "instrument": "instrument", "stage": "stage", "sector": "sector",
                      "valuation_method": "method", "kind": "kind"}
# the fields of audited records that name a user: shown by the person's name, as everywhere
PEOPLE_FIELDS = {"entered_by", "approved_by", "voided_by", "proposer", "decided_by", "declared_by", "member",
                 "uploaded_by", "created_by", "recorded_by", "submitted_by", "accepted_by", "reviewed_by", "by",
                 "started_by", "cast_by", "updated_by", "asked_by"}
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?$")
# How the value of an audited field is written, by its kind (a workbook column's kind is its
# column's, portfolio.interchange.schema.SHEETS; a fund setting's its spec's): "yuan" (an
# amount in 元 with separators), "pct" (a percentage as typed: 2.5%), "level" (an index level),
# "count", "person" (by the display name), "doubts" (sentences by their keys), "counts" (a
# change set's rows per sheet), "label:<vocabulary>" (a code by its name). A field ending in
# _cny is an amount; a stored time (UTC) is shown in Beijing time; the rest as stored.
FIELD_KINDS: dict[str, str] = {
    **{field: "person" for field in PEOPLE_FIELDS}, **{f: f"label:{v}" for f, v in VALUE_VOCABULARIES.items()},
    "user": "person", "ownership_pct": "pct", "level": "level", "confirmed_doubts": "doubts", "counts": "counts",
    "doubts": "count", "conflicts": "count", "confirmed_doubts_count": "count", "rows": "count", "files": "count",
    "failures": "count", "blocking": "count", "warnings": "count", "headcount": "count", "size_bytes": "count",
    "uses": "count", "password": "secret", "tally": "tally", "attendance": "attendance",
    # a proposal's cases: a MOIC as a multiple, an IRR (stored as a fraction) as a percentage
    **{f"{case}_moic": "multiple" for case in ("bear", "base", "bull")},
    **{f"{case}_irr": "percent" for case in ("bear", "base", "bull")},
}
# a field whose codes depend on the record it is of
ENTITY_FIELD_KINDS: dict[tuple[str, str], str] = {
    ("change_sets", "status"): "label:change_set_status", ("change_sets", "kept"): "kept_rows",
    ("gp_packages", "status"): "label:gp_status",
    ("gp_sub_funds", "sub_fund_code"): "sub_fund",
    ("gp_packages", "content"): "gp_content", ("gp_packages", "checks"): "gp_checks",
    ("proposals", "new_target"): "new_target",
}
# a field written as something else than its code is named as what it shows: a GP binding's
# sub_fund_code, written as the sub-fund's name with its code, is 子基金 / Sub-fund (not 子基金代码)
FIELD_NAMES_BY_KIND = {"sub_fund": "sub_fund"}
# the column kinds of the workbook written as a kind of their own (portfolio.interchange.schema.Column.kind)
COLUMN_KINDS = {"money": "yuan", "pct": "pct"}


def column_kind(column) -> str | None:
    """A workbook column's kind as FIELD_KINDS names it (None: shown as it is)."""
    if column is None:
        return None
    if column.kind in COLUMN_KINDS:
        return COLUMN_KINDS[column.kind]
    return f"label:{column.label_vocab}" if column.label_vocab else None


def field_kind(entity: str, field: str, column=None) -> str | None:
    """How an audited field of `entity` is written (FIELD_KINDS): a fund's settings by their
    specs, a workbook column by its kind, the other records' fields by the table above."""
    if entity == "funds.settings":
        return "setting"
    kind = column_kind(column) or ENTITY_FIELD_KINDS.get((entity, field)) or FIELD_KINDS.get(field)
    if kind is None and field.endswith("_cny"):
        return "yuan"
    return kind


def value_shown(kind: str | None, value, lang: str, field: str = "", said=None):
    """One stored value written as its kind says (field_kind): the history's and the change
    sets' preview's one way of writing a value. None stays None (shown as a dash)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if kind == "setting":  # a fund's setting as its kind reads (a share as a percentage, instruments by name)
        from portfolio.book.fund_settings import shown as setting_shown

        return setting_shown(field, value, lang)
    if kind == "secret":  # never the value (none is kept): that it changed, in the reader's words
        return _("已更改")
    if kind == "tally" and isinstance(value, dict):  # a resolution's count, as it was made on
        return _("同意 %(approve)s，反对 %(reject)s，弃权 %(abstain)s，未表决 %(not_voted)s；可表决 %(eligible)s 人，"
                 "法定人数 %(quorum)s，通过比例 %(ratio)s",
                 approve=value.get("approve", 0), reject=value.get("reject", 0), abstain=value.get("abstain", 0),
                 not_voted=value.get("not_voted", 0), eligible=len(value.get("eligible") or ()),
                 quorum=value.get("quorum", "—"), ratio=value.get("pass_ratio", "—"))
    if kind == "attendance" and isinstance(value, dict):  # a meeting's attendance: member → present
        names = {flag: str(PUNCTUATION["list"]).join(person(member) for member, here in value.items()
                                                     if bool(here) is flag) or "—" for flag in (True, False)}
        return _("出席：%(present)s；缺席：%(absent)s", present=names[True], absent=names[False])
    if kind == "person" and isinstance(value, str):
        return person(value)
    if kind == "sub_fund" and isinstance(value, str):
        return sub_fund_named(value)
    if kind is not None and kind.startswith("label:"):
        return label(kind.removeprefix("label:"), str(value), lang=lang)
    if kind in ("yuan", "wan", "wan_exact", "pct", "level", "count", "percent", "multiple"):
        try:
            number = Decimal(str(value))
        except InvalidOperation:  # not a number: as stored
            return str(value)
        return by_kind(number, kind, lang) if number.is_finite() else str(value)
    if kind == "doubts":  # sentences: by their keys, in the reader's language
        return doubts_shown(value, said, lang)
    if kind == "counts" and isinstance(value, dict):  # a change set's rows per sheet
        return clauses((f"{label('entity', str(sheet), lang=lang)} {_('新增')} {c.get('new', 0)} {_('修改')} "
                        f"{c.get('changed', 0)}" for sheet, c in value.items() if isinstance(c, dict)), lang)
    if kind == "new_target" and isinstance(value, dict):  # a proposal's target new to the book: field by field
        return clauses((f"{_unit_off(field_named(name, lang), field_kind('proposals', name))}{PUNCTUATION['colon']}"
                        f"{value_shown(_history_kind(field_kind('proposals', name)), one, lang, name)}"
                        for name, one in value.items() if one is not None), lang)
    if kind == "gp_content" and isinstance(value, dict):
        return gp_content_shown(value, lang)
    if kind in ("gp_checks", "kept_rows") and isinstance(value, list):  # a package's checks; an apply's rows left
        return (gp_checks_shown if kind == "gp_checks" else kept_rows_shown)(value, lang)
    if isinstance(value, str) and TIMESTAMP.match(value):  # stored UTC: shown in Beijing time
        return local_time(dt.datetime.fromisoformat(value[:26]))
    return value


def field_named(field: str, lang: str) -> str:
    """A record's field by its name in words, where no workbook column names it."""
    if lang.startswith("zh"):
        return label("field", field)
    return LABELS_EN.get("field", {}).get(field) or english_field_name(field)


def gp_content_shown(content: dict, lang: str) -> str:
    """A GP package's content (amounts in fen) as the history reads it: the capital account's
    lines by their labels in 万元, how many rows each other sheet holds, and the narrative."""
    from portfolio.figures.tieout import ACCOUNT_FIELDS

    account = content.get("account") or {}
    lines = [f"{label('gp_account', name, lang=lang)} {amount_wan(Decimal(account[name]) / 100, lang)}"
             for name in ACCOUNT_FIELDS if isinstance(account.get(name), int)]
    parts = [f"{label('gp_sheet', 'account', lang=lang)}{PUNCTUATION['colon']}{str(PUNCTUATION['comma']).join(lines)}"
             ] if lines else []
    parts += [_("%(sheet)s %(n)s 行", sheet=label("gp_sheet", sheet, lang=lang), n=len(content[sheet]))
              for sheet in ("holdings", "notices", "projection") if isinstance(content.get(sheet), list)]
    if content.get("narrative"):
        parts.append(f"{label('gp_column', 'narrative', lang=lang)}{PUNCTUATION['colon']}{content['narrative']}")
    return clauses(parts, lang)


def gp_checks_shown(checks: list, lang: str) -> str:
    """A GP package's tie-out checks as the history reads them: counted by outcome, the ones not
    passed named."""
    from portfolio.figures.tieout import BLOCKING, PASSED, WARNING

    by_status: dict[str, list[str]] = {BLOCKING: [], WARNING: [], PASSED: []}
    for check in checks:
        if isinstance(check, dict) and check.get("status") in by_status:
            by_status[check["status"]].append(label("gp_check", str(check.get("key")), lang=lang))
    parts = [_("校验结果：通过 %(passed)s 项，提示 %(warning)s 项，阻断 %(blocking)s 项", passed=len(by_status[PASSED]),
               warning=len(by_status[WARNING]), blocking=len(by_status[BLOCKING]))]
    parts += [f"{label('gp_check_status', status, lang=lang)}{PUNCTUATION['colon']}"
              f"{str(PUNCTUATION['list']).join(dict.fromkeys(by_status[status]))}"
              for status in (BLOCKING, WARNING) if by_status[status]]
    return clauses(parts, lang)


def cell_shown(column, value, lang: str) -> str | None:
    """A workbook column's value as the screens write it (None: not a kind of its own): an
    amount in 元 with separators, a code by its label, a percentage as typed (2.5%, not the
    stored 2.50000000). The history and the change sets' preview show cells alike."""
    kind = column_kind(column)
    return None if kind is None else value_shown(kind, value, lang)


def _history_kind(kind: str | None) -> str | None:
    """An amount in the history is written in 万元 with its unit, to the fen (the screens'
    unit: a bare 15,000,000.00 beside them read as 万元); any other kind as it is."""
    return "wan_exact" if kind == "yuan" else kind


def _unit_off(name: str, kind: str | None) -> str:
    """An amount's field named without the unit its English name carries ('Amount (CNY)'):
    the value written in the history says its unit."""
    return name.replace(" (CNY)", "") if kind == "yuan" else name


@bp.app_template_filter("audit_rows")
def audit_rows(entry: AuditEntry, amounts: str = "wan_exact") -> list[tuple[str, object, object]]:
    """(field name, before, after) for the side-by-side view, changed fields first: each
    field by its name in words and its value as its kind is written (field_kind); an amount
    in 万元 with its unit to the fen, or in 万元 to two places with `amounts="wan"` (a card
    that says so under its table)."""
    before, after = entry.before or {}, entry.after or {}
    # a field's keys (`*_said`) are how it is shown, not a field of its own
    names = [n for n in dict.fromkeys([*after.keys(), *before.keys()]) if not n.endswith("_said")]
    changed = [n for n in names if before.get(n) != after.get(n)]
    same = [n for n in names if before.get(n) == after.get(n)]
    from portfolio.book.fund_settings import SPECS
    from portfolio.interchange.schema import SHEETS, column_named

    columns = {c.name: c for c in SHEETS.get(entry.entity, [])}
    lang = current_lang()

    def name(field: str) -> str:
        named = words(field)
        return _unit_off(named, field_kind(entry.entity, field, columns.get(field))) if amounts != "yuan" else named

    def words(field: str) -> str:
        if entry.action == "attendance":  # a meeting's attendance: one row per member
            return person(field)
        if entry.entity == "funds.settings" and field in SPECS:  # a setting by its label
            return _(SPECS[field].label)
        field = FIELD_NAMES_BY_KIND.get(field_kind(entry.entity, field, columns.get(field)) or "", field)
        if field not in columns:
            return field_named(field, lang)
        return column_named(field, entry.entity, lang)

    def shown(field: str, record: dict):  # its sentences' keys (`*_said`) kept beside it in the same record
        kind = field_kind(entry.entity, field, columns.get(field))
        return value_shown(amounts if kind == "yuan" else kind, record.get(field), lang, field,
                           record.get(f"{field}_said"))

    return [(name(n), shown(n, before), shown(n, after)) for n in changed + same]


def sub_fund_named(code: str) -> str:
    """A sub-fund as people know it: its name with its code (甬新基金（SF1）), or the code alone
    where the book no longer holds it. The names are read once per request."""
    from flask import has_request_context

    names = getattr(request, "_sub_funds", None) if has_request_context() else None
    if names is None:
        names = dict(db.session.execute(select(SubFund.code, SubFund.name)).all())
        if has_request_context():
            request._sub_funds = names  # type: ignore[attr-defined]
    name = names.get(code)
    return f"{name}{PUNCTUATION['lp']}{code}{PUNCTUATION['rp']}" if name else code


@bp.app_template_global("key_shown")
def key_shown(entity: str, key: str) -> str:
    """An audited record's key as people read it: a GP's binding to a sub-fund (kept as
    `username:code`) as the person's name and the sub-fund's; a row an import wrote (kept
    under its import key, `QY-SF1/2023-03-31/contribution/15000000000/`: the type's code, the
    amount in fen) as the change-set screen names it (formatting.row_named: 'QY-SF1 · 2023-03-31
    · 出资 · 150,000,000.00 元'); every other key as it is (a fund's, an investment's code, a
    record's number)."""
    if entity == "gp_sub_funds" and ":" in key:
        username, code = key.rsplit(":", 1)
        return f"{person(username)} — {sub_fund_named(code)}"
    if entity in IMPORT_KEYED and "/" in key:
        return row_named(key, entity, current_lang())
    return key


def kept_rows_shown(idents: list, lang: str) -> str | None:
    """The rows an apply left as the book had them (the conflicts resolved 'theirs'), kept as
    the import names them (`cash_flows:12`, a new row's `valuations:+QY-D1/2025-12-31`): each by
    its sheet's name and its record, in words (key_shown); none, a dash (it read '[]')."""
    named = []
    for ident in idents:
        sheet, _sep, key = str(ident).partition(":")
        named.append(f"{label('entity', sheet, lang=lang)} {key_shown(sheet, key.removeprefix('+'))}")
    return clauses(named, lang) if named else None


IMPORT_KEYED = frozenset({"cash_flows", "valuations", "sub_fund_holdings"})  # audited by an import under its row's key


@bp.app_template_filter("entity_key")
def entity_key(entry: AuditEntry) -> str:
    return key_shown(entry.entity, entry.entity_key)


@bp.app_template_filter("audit_reason")
def audit_reason(entry: AuditEntry) -> str:
    """An audit entry's reason in the reader's language: the application's by its key, a
    person's as typed, an import's default reason (a code) by its name."""
    if entry.reason_said:
        return reason_shown(entry.reason, entry.reason_said, current_lang())
    return label("audit_action", entry.reason, lang=current_lang()) if entry.reason else ""


@bp.app_template_filter("local_time")
def local_time(value: dt.datetime | None) -> str:
    """A stored time (UTC, naive) as the fund's people read it: Asia/Shanghai, to the second."""
    return formatting_local_time(value)


@bp.app_template_filter("person")
def person(username: str | None) -> str:
    """A user as people know them: the display name (姓名) where the user has one, else the
    user name; the user name itself only where it is what is managed (the admin's user list).
    The names are read once per request."""
    if not username:
        return ""
    from flask import has_request_context

    names = getattr(request, "_people", None) if has_request_context() else None
    if names is None:
        names = {u: n for u, n in db.session.execute(select(User.username, User.display_name)) if n}
        if has_request_context():
            request._people = names  # type: ignore[attr-defined]
    return names.get(username) or username


@bp.app_template_filter("local_date")
def local_date(value: dt.datetime | None) -> str:
    """The day of a stored time (UTC, naive) in Asia/Shanghai, as YYYY-MM-DD: 2025-12-31 20:00
    UTC is 2026-01-01 in Ningbo."""
    return local_time(value)[:10]


@bp.app_template_global("page_url")
def page_url(**changes) -> str:
    """This page's address with some query parameters changed (paging, sorting): its path
    parameters (e.g. a fund's code) and the other query parameters kept."""
    args = {**request.args.to_dict(), **changes}
    return url_for(request.endpoint or "main.home", **{**args, **(request.view_args or {})})


@bp.app_template_global("iso")
def iso(value) -> str:
    return iso_date(value)
