"""The quarterly portfolio report (ILPA-style), as one plain object.

Every figure comes from the figures engine (`portfolio.figures.report.compute_report`), run at
the quarter end, the previous quarter end, the previous year end and, for activity, on
the book's own records. The NAV bridge is built from differences of those reports, so
it equals the JSON report to the fen: contributions and distributions of a period are
the change in paid_in and distributed between its opening and closing reports (flows
dated in (start, end]), and the change in value is the residual.

Pure: takes a BookData, returns a dict; the HTML, .xlsx and PDF writers only format it.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from decimal import Decimal

import pandas as pd

from portfolio.errors import QuarterlyError
from portfolio.figures.alerts import is_stale
from portfolio.figures.aside import aside
from portfolio.figures.bookdata import BookData
from portfolio.figures.indicators import performance_indicators
from portfolio.figures.rules import STATUS_ORDER
from portfolio.figures.scope import UnknownFund, holdings_of, scope_of
from portfolio.formatting import parse_quarter, since_by
from portfolio.messages import Message, said_by
from portfolio.money import CENT, yuan
from portfolio.vocabulary import MODES

ZERO = Decimal("0.00")
SUMMARY_KEYS = ("commitment", "paid_in", "unfunded", "distributed", "nav", "tvpi", "dpi", "rvpi", "irr")


def _compute(book: BookData, fund_code: str, as_of: dt.date, index_name: str | None = None, *,
             figures_only: bool = False) -> dict:
    from portfolio.figures.pme import PMEError
    from portfolio.figures.report import ReportError, UnknownFund, compute_report

    try:
        return compute_report(book, fund_code, as_of, index_name=index_name or None, figures_only=figures_only)
    except (ReportError, UnknownFund, PMEError) as error:
        raise QuarterlyError(said_by(error)) from error  # its Message, when keyed


def as_date(value) -> dt.date | None:
    """The engine's dates may come as date, Timestamp or ISO text; give a date."""
    if value is None or value is pd.NaT:
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, pd.Timestamp):
        return None if pd.isna(value) else value.date()
    if isinstance(value, str):
        return dt.date.fromisoformat(value[:10]) if value else None
    try:
        if pd.isna(value):
            return None
    except (TypeError, ValueError):
        pass
    return None


def _dec(value) -> Decimal:
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value.quantize(CENT)
    return Decimal(str(value)).quantize(CENT)


def _amounts(figures: dict | None) -> dict[str, Decimal]:
    figures = figures or {}
    return {key: _dec(figures.get(key)) for key in ("paid_in", "distributed", "nav")}


def bridge_row(opening: dict | None, closing: dict | None, *, from_zero: bool = False) -> dict[str, Decimal]:
    """opening NAV + contributions − distributions + change in value = closing NAV.

    `opening`/`closing` are engine figures (summary, a mode's, an investment's) at the
    period's opening and closing dates; contributions and distributions are the growth
    of paid_in and distributed between them; the change in value is the residual, so
    the row adds up exactly. From inception the opening is zero.
    """
    close = _amounts(closing)
    start = {key: ZERO for key in close} if from_zero else _amounts(opening)
    contributions = close["paid_in"] - start["paid_in"]
    distributions = close["distributed"] - start["distributed"]
    change = close["nav"] - start["nav"] - contributions + distributions
    return {"opening": start["nav"], "contributions": contributions, "distributions": distributions,
            "change": change, "closing": close["nav"]}


def quarter_opening(as_of: dt.date) -> dt.date:
    """The opening of the quarter as_of falls in: the day before its first day (the
    previous quarter end; for a quarter end, the quarter before it)."""
    return dt.date(as_of.year, ((as_of.month - 1) // 3) * 3 + 1, 1) - dt.timedelta(days=1)


def quarter_to_date_bridge(opening: dict, closing: dict, opening_date: dt.date) -> dict:
    """The fund page's NAV bridge: from the quarter's opening report to as-of's."""
    return {"period": "quarter", "opening_date": opening_date,
            "total": bridge_row(opening.get("summary"), closing.get("summary"))}


def _bridge(label: str, opening_date: dt.date | None, opening: dict | None, closing: dict) -> dict:
    from_zero = opening is None
    opening = opening or {}
    modes = [m for m in MODES if m in closing.get("by_mode", {}) or m in opening.get("by_mode", {})]
    rows = {m: bridge_row(opening.get("by_mode", {}).get(m), closing.get("by_mode", {}).get(m),
                          from_zero=from_zero) for m in modes}
    total = bridge_row(opening.get("summary"), closing.get("summary"), from_zero=from_zero)
    return {"period": label, "opening_date": opening_date, "modes": modes, "rows": rows, "total": total}


def _change(now, before):
    if now is None or before is None:
        return None
    if isinstance(now, Decimal) or isinstance(before, Decimal):
        return _dec(now) - _dec(before)
    return float(now) - float(before)


def _activity(book: BookData, rows: list[dict], rows_open: dict[str, dict], start: dt.date, end: dt.date,
              threshold: Decimal) -> dict:
    """What happened in the quarter, from the book's records in force for the report's
    investments (the engine's list, so a parent fund sees its children's)."""
    by_id = {row["id"]: row for row in rows}
    ids = set(by_id)
    lo, hi = pd.Timestamp(start), pd.Timestamp(end)

    new = [row for row in rows if (d := as_date(row.get("date"))) is not None and start <= d <= end]

    flows = book.flows
    flows = flows[flows["investment_id"].isin(ids) & (flows["date"] >= lo) & (flows["date"] <= hi)]
    flows = flows.sort_values(["date", "investment_id"], kind="stable")

    def flow_list(kind: str) -> list[dict]:
        part = flows[flows["type"] == kind]
        out = []
        for inv_id, date, amount_fen in zip(part["investment_id"], part["date"], part["amount_fen"]):
            row = by_id[inv_id]
            out.append({"id": inv_id, "date": as_date(date), "amount": yuan(amount_fen),
                        "mode": row.get("mode"), "target": row.get("target"),
                        "target_name": row.get("target_name")})
        return out

    contributions = flow_list("contribution")
    distributions = flow_list("distribution")

    vals = book.valuations
    exited = vals[vals["investment_id"].isin(ids) & (vals["method"] == "exited")
                  & (vals["as_of"] >= lo) & (vals["as_of"] <= hi)]
    exit_dates = {inv: as_date(d) for inv, d in zip(exited["investment_id"], exited["as_of"])}
    # An exit: an `exited` valuation in the quarter, or distributions in the quarter
    # that leave nothing held.
    for item in distributions:
        if _dec(by_id[item["id"]].get("nav")) == ZERO:
            exit_dates.setdefault(item["id"], item["date"])
            exit_dates[item["id"]] = max(exit_dates[item["id"]], item["date"])
    exits = []
    for inv_id in sorted(exit_dates, key=lambda i: (exit_dates[i], i)):
        row = by_id[inv_id]
        bridge = bridge_row(rows_open.get(inv_id), row, from_zero=inv_id not in rows_open)
        exits.append({**row, "exit_date": exit_dates[inv_id], "distributed_in_quarter": bridge["distributions"]})

    changes = []
    for row in rows:
        opening = rows_open.get(row["id"])
        bridge = bridge_row(opening, row, from_zero=opening is None)
        base = bridge["opening"] + bridge["contributions"]
        if base <= ZERO or bridge["change"] == ZERO:
            continue
        if abs(bridge["change"]) > threshold * base:  # exact: Decimal against Decimal
            changes.append({**row, "bridge": bridge, "base": base,
                            "change_ratio": float(bridge["change"] / base)})
    changes.sort(key=lambda r: (-abs(r["change_ratio"]), r["id"]))
    return {"new_investments": new, "contributions": contributions, "distributions": distributions,
            "exits": exits, "valuation_changes": changes, "threshold": threshold}


INDICATOR_FORMATS = {"leverage_multiple": "multiple", "local_companies": "count", "compliance_exceptions": "count"}


def _by_rule(compliance: list[dict]) -> list[dict]:
    """How many checks of each rule passed, warned, failed (the report lists every
    exception; the passes are counted here and listed in full in the workbook)."""
    out: dict[str, dict] = {}
    for item in compliance:
        row = out.setdefault(str(item.get("rule")), {"rule": item.get("rule"), "pass": 0, "warn": 0, "fail": 0})
        if item.get("status") in row:
            row[item["status"]] += 1
    return sorted(out.values(), key=lambda r: (-r["fail"], -r["warn"], str(r["rule"])))


def _performance_indicators(book: BookData, fund_code: str, as_of: dt.date, checks: list | None) -> list[dict]:
    """绩效评价 indicators, as a list of {key, label, value, format}."""
    result = performance_indicators(book, fund_code, as_of, checks=checks)
    return [{"key": key, "label": item["label"], "value": item.get("value"),
             "format": INDICATOR_FORMATS.get(key, "percent")}
            for key, item in result.items() if isinstance(item, dict) and "label" in item]


FORWARD_PATHS = 2000
FORWARD_QUARTERS = 8   # next quarter, next year, CCaR over 4 and 8 quarters: 8 quarters are all it reads


def _estimate(value: float) -> Decimal:
    """A forecast amount (a float estimate, yuan) as the report's Decimal yuan, to the fen."""
    return Decimal(str(round(float(value), 2))).quantize(CENT)


def forward_look(book: BookData, fund_code: str, as_of: dt.date, *, overrides: dict | None = None,
                 paths: int = FORWARD_PATHS) -> dict:
    """The report's forward look (issue 16), from the one forecast engine
    (portfolio.figures.forecast_book.forecast, calibrated to the book, overrides applied):
    calls and distributions expected in the next quarter and the next 4 quarters, the TA
    expectation and P10 / P50 / P90 of the simulated totals, and the capital call at risk
    at 95 % over 4 and 8 quarters, for the fund and the finance bureau's share."""
    from portfolio.figures.forecast_book import forecast, quarter_label

    result = forecast(book, fund_code, as_of, overrides=overrides, paths=paths, quarters=FORWARD_QUARTERS,
                      details=False)
    rows = []
    for key in ("calls_next_quarter", "calls_next_year", "distributions_next_quarter", "distributions_next_year"):
        band = result["outlook"][key]
        kind, period = key.split("_", 1)
        rows.append({"key": key, "kind": kind, "period": period,
                     **{k: _estimate(band[k]) for k in ("e", "p10", "p50", "p90")}})
    quarters = [f["quarter"] for f in result["forecast"][:4]]
    car = result["call_at_risk"]
    bureau = result["call_at_risk_bureau"]
    return {"as_of": as_of, "paths": paths, "rows": rows,
            "next_quarter": quarters[0] if quarters else quarter_label(pd.Timestamp(as_of)),
            "next_year": f"{quarters[0]}–{quarters[-1]}" if quarters else "",
            "ccar95": {h: _estimate(car[h]["0.95"]) for h in ("4", "8") if h in car},
            "ccar95_bureau": {h: _estimate(bureau[h]["0.95"]) for h in ("4", "8") if h in bureau},
            "bureau_share": result["bureau_share"],
            "checks_ok": all(c["ok"] for c in result["checks"])}


def build_quarterly(book: BookData, fund_code: str, quarter: str, *, index_name: str | None = None,
                    forecast_overrides: dict | None = None,
                    meanwhile: Callable[[dict], None] | None = None) -> dict:
    """The quarterly report of `fund_code` for `quarter` ('2025Q4'), as of its last day.
    The forward look is the forecast from that day, with the stored parameter overrides
    (`forecast_overrides`, as portfolio.book.forecast_parameters.overrides gives them).

    `meanwhile(report)`, if given, is called with the report complete but for its forward
    look (`report["forward_look"]` still None), while the forecast may still be running
    aside: a writer can write every part before the forward look in that time. It must not
    change the report."""
    try:
        start, end = parse_quarter(quarter)
    except ValueError as error:
        raise QuarterlyError(Message("quarter_format", text=quarter)) from error
    try:
        scope = scope_of(book, fund_code)
    except UnknownFund:
        raise QuarterlyError(Message("fund_unknown_report", code=fund_code)) from None
    # the quarter end's holdings, which the report and the forecast both start from, worked
    # out once, before the fork (kept with the book: the child inherits them)
    holdings_of(book, fund_code, end)
    # the forward look (the forecast: half the report's time) needs only the book: it runs
    # in a forked child beside the rest where that is safe (portfolio.figures.aside), else here
    with aside(forward_look, book, fund_code, end, overrides=forecast_overrides) as ahead:
        report = _report(book, fund_code, quarter, scope, start, end, index_name)
        if meanwhile is not None:
            meanwhile(report)
        report["forward_look"] = ahead.result()
    return report


def _report(book: BookData, fund_code: str, quarter: str, scope, start: dt.date, end: dt.date,
            index_name: str | None) -> dict:
    """build_quarterly's report object but its forward look (None, in its place)."""
    fund, settings = scope.row, scope.settings
    previous_end = start - dt.timedelta(days=1)
    year_open = dt.date(end.year - 1, 12, 31)

    current = _compute(book, fund_code, end, index_name)
    # the openings: their summary, modes and investments are all the report reads of them
    previous = _compute(book, fund_code, previous_end, figures_only=True)
    year_start = previous if year_open == previous_end else _compute(book, fund_code, year_open, figures_only=True)

    rows = list(current.get("investments", []))
    rows_previous = {row["id"]: row for row in previous.get("investments", [])}

    schedule = []
    for row in rows:
        valued = as_date(row.get("valuation_as_of"))
        schedule.append({**row, "date": as_date(row.get("date")), "valuation_as_of": valued,
                         # a GP report that lags: its latest valuation is before the quarter
                         "stale": is_stale(valued, start, row.get("nav")),
                         "unvalued": valued is None})

    summary = current.get("summary", {})
    prev_summary = previous.get("summary", {})
    highlights = [{"key": key, "value": summary.get(key), "previous": prev_summary.get(key),
                   "change": _change(summary.get(key), prev_summary.get(key))} for key in SUMMARY_KEYS]

    compliance = sorted(current.get("compliance", []) or [],
                        key=lambda c: (STATUS_ORDER.get(c.get("status"), 3), c.get("rule", ""),
                                       str(c.get("subject", ""))))
    indicators = _performance_indicators(book, fund_code, end, current.get("compliance"))

    return {
        "fund": fund_code,
        "fund_name": current.get("fund_name") or fund.get("name"),
        "fund_name_en": fund.get("name_en"),
        "fund_kind": fund.get("kind"),
        "quarter": quarter.strip().upper(),
        "as_of": end,
        "period_start": start,
        "previous_as_of": previous_end,
        "year_open_as_of": year_open,
        "currency": "CNY",
        "summary": summary,
        "previous_summary": prev_summary,
        "highlights": highlights,
        "bridge": [
            _bridge("quarter", previous_end, previous, current),
            _bridge("ytd", year_open, year_start, current),
            _bridge("inception", None, None, current),
        ],
        "by_mode": current.get("by_mode", {}),
        "by_sector": current.get("by_sector", {}),
        "lookthrough_by_sector": current.get("lookthrough_by_sector", {}),
        "by_vintage": current.get("by_vintage", {}),
        "by_region": current.get("by_region", {}),
        "periodic": current.get("periodic"),
        "pme": current.get("pme"),
        "index_name": index_name,
        "schedule": schedule,
        # when each group's IRR started running: an IRR under a year is not annualised on
        # screen or paper (display only; the figures keep metrics.md's definition)
        "since": {"total": since_by(schedule), "by_mode": since_by(schedule, "mode"),
                  "by_sector": since_by(schedule, "sector"), "by_vintage": since_by(schedule, "vintage"),
                  "by_region": since_by(schedule, "region")},
        "stale_count": sum(1 for r in schedule if r["stale"]),
        "activity": _activity(book, rows, rows_previous, start, end,
                              Decimal(str(settings.get("valuation_change_threshold", "0.20")))),
        "concentration": current.get("concentration", {}),
        "sub_funds": current.get("sub_funds", []),
        "compliance": compliance,
        "compliance_counts": {s: sum(1 for c in compliance if c.get("status") == s) for s in STATUS_ORDER},
        "compliance_by_rule": _by_rule(compliance),
        "indicators": indicators,
        "forward_look": None,  # build_quarterly's, from the forecast aside
        "settings": {"valuation_change_threshold": settings.get("valuation_change_threshold"),
                     "home_region_prefix": settings.get("home_region_prefix"),
                     "reinvestment_multiple": settings.get("reinvestment_multiple")},
    }
