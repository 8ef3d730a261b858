"""Import a fund book (interchange.md): all or nothing, idempotent, audited, set-based.

The book is read and checked as a whole first (portfolio.interchange.schema); if anything is wrong
nothing is written and every error is returned. Otherwise each sheet is matched against
the records in force by its natural key (one SELECT per table), and the new rows are
bulk-inserted, the changed ones bulk-updated, each with an audit entry of the same batch,
and the session is committed once.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import IO, Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import BigInteger, Table, select, type_coerce
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import AuditEntry, CashFlow, Company, Fund, Investment, SubFund, SubFundHolding, Valuation, utcnow
from models.types import Money
from portfolio.book.audit import confirmed_doubts, person, reason_fields
from portfolio.book.unit import BookBusy, serialise_imports
from portfolio.interchange.bulk import bulk_insert, bulk_update
from portfolio.interchange.doubts import by_column, cell_value, column_said, plan_doubts
from portfolio.interchange.schema import SHEETS, BookError, Known, Progress, read_book
from portfolio.memory import collections_paused
from portfolio.messages import Message
from portfolio.money import yuan

TABLES = {"funds": Fund, "sub_funds": SubFund, "companies": Company, "investments": Investment,
          "cash_flows": CashFlow, "valuations": Valuation, "sub_fund_holdings": SubFundHolding}
KEYS = {"funds": ["code"], "sub_funds": ["code"], "companies": ["code"], "investments": ["id"],
        "valuations": ["investment_id", "as_of"],
        "sub_fund_holdings": ["sub_fund_code", "as_of", "company_code"]}
MONEY = {c.name for cols in SHEETS.values() for c in cols if c.kind == "money"}
DATES = {c.name for cols in SHEETS.values() for c in cols if c.kind == "date"}


@dataclass
class ImportResult:
    errors: list[BookError] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    batch: str | None = None
    plan: list[SheetPlan] = field(default_factory=list)
    # the new and changed rows a form would ask about (interchange/doubts.py): {sheet, row, key, doubts}
    doubts: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors


def _fen(column, name: str):
    return type_coerce(column, BigInteger).label(name)


def _existing(session: Session) -> dict[str, pd.DataFrame]:
    """The records in force, in the same shape as the book's typed sheets (+ `_id` for rows)."""
    def frame(stmt, names, dates=(), ints=()):
        df = pd.DataFrame.from_records(session.execute(stmt).all(), columns=names)
        for n in dates:
            df[n] = pd.to_datetime(df[n]).astype("datetime64[ns]")
        for n in ints:
            df[n] = df[n].astype("Int64")
        for n in df.columns:
            if df[n].dtype == object:
                df[n] = df[n].astype(object).where(df[n].notna(), None)
        return df

    out = {
        "funds": frame(select(Fund.code, Fund.name, Fund.name_en, Fund.kind, Fund.parent_code,
                              _fen(Fund.size_cny, "s"), Fund.vintage_year, Fund.currency),
                       [c.name for c in SHEETS["funds"]], ints=["size_cny", "vintage_year"]),
        "sub_funds": frame(select(SubFund.code, SubFund.name, SubFund.manager, _fen(SubFund.size_cny, "s"),
                                  SubFund.vintage_year, SubFund.sector, SubFund.region_code, SubFund.term_years),
                           [c.name for c in SHEETS["sub_funds"]], ints=["size_cny", "vintage_year", "term_years"]),
        "companies": frame(select(Company.code, Company.name, Company.credit_code, Company.sector,
                                  Company.region_code, Company.founded),
                           [c.name for c in SHEETS["companies"]], dates=["founded"]),
        "cash_flows": frame(select(CashFlow.investment_id, CashFlow.date, CashFlow.type,
                                   _fen(CashFlow.amount_cny, "a"), CashFlow.note, CashFlow.ref, CashFlow.id,
                                   CashFlow.approved_at.is_not(None), CashFlow.void_requested_by)
                            .where(CashFlow.voided_at.is_(None)).order_by(CashFlow.id),
                            [c.name for c in SHEETS["cash_flows"]] + ["_id", "_flow_approved", "_void_asker"],
                            dates=["date"],
                            ints=["amount_cny"]),
        "valuations": frame(select(Valuation.investment_id, Valuation.as_of, _fen(Valuation.fair_value_cny, "f"),
                                   Valuation.method, Valuation.id, Valuation.approved_at.is_not(None),
                                   Valuation.entered_by, Valuation.void_requested_by)
                            .where(Valuation.voided_at.is_(None)),
                            [c.name for c in SHEETS["valuations"]] + ["_id", "_approved", "_entered", "_void_asker"],
                            dates=["as_of"],
                            ints=["fair_value_cny"]),
        "sub_fund_holdings": frame(select(SubFundHolding.sub_fund_code, SubFundHolding.as_of,
                                          SubFundHolding.company_code, _fen(SubFundHolding.cost_cny, "c"),
                                          _fen(SubFundHolding.fair_value_cny, "f"), SubFundHolding.id),
                                   [c.name for c in SHEETS["sub_fund_holdings"]] + ["_id"], dates=["as_of"],
                                   ints=["cost_cny", "fair_value_cny"]),
    }
    inv = frame(select(Investment.id, Investment.fund_code, Investment.mode, Investment.sub_fund_code,
                       Investment.company_code, Investment.alongside_code, Investment.date,
                       _fen(Investment.commitment_cny, "c"), Investment.round, Investment.ownership_pct,
                       Investment.instrument, Investment.stage, Investment.headcount,
                       _fen(Investment.revenue_cny, "r"), _fen(Investment.total_assets_cny, "t"),
                       _fen(Investment.lead_amount_cny, "l")),
                ["id", "fund_code", "mode", "sub_fund_code", "company_code", "alongside_code", "date",
                 "commitment_cny", "round", "ownership_pct", "instrument", "stage", "headcount", "revenue_cny",
                 "total_assets_cny", "lead_amount_cny"], dates=["date"],
                ints=["commitment_cny", "headcount", "revenue_cny", "total_assets_cny", "lead_amount_cny"])
    inv["target_code"] = inv["sub_fund_code"].where(inv["mode"] == "sub_fund", inv["company_code"])
    out["investments"] = inv[[c.name for c in SHEETS["investments"]]]
    return out


def _known(existing: dict[str, pd.DataFrame]) -> Known:
    inv = existing["investments"]
    return Known(funds=set(existing["funds"]["code"]), sub_funds=set(existing["sub_funds"]["code"]),
                 companies=dict(zip(existing["companies"]["code"], existing["companies"]["credit_code"])),
                 investments=inv[["id", "fund_code", "mode", "target_code", "date"]].copy())


def _same(a: pd.Series, b: pd.Series) -> np.ndarray:
    """Element-wise equality where missing equals missing."""
    a_na, b_na = a.isna().to_numpy(), b.isna().to_numpy()
    av, bv = a.to_numpy(dtype=object), b.to_numpy(dtype=object)
    eq = np.fromiter((x == y for x, y in zip(av, bv)), dtype=bool, count=len(av)) if len(av) else \
        np.zeros(0, dtype=bool)
    return (a_na & b_na) | (~a_na & ~b_na & eq)


def _same_fast(a: pd.Series, b: pd.Series) -> np.ndarray:
    if a.dtype.kind in "iuMf" or str(a.dtype) == "Int64":
        a_na, b_na = a.isna().to_numpy(), b.isna().to_numpy()
        eq = (a.fillna(0) == b.fillna(0)).to_numpy(dtype=bool) if str(a.dtype) == "Int64" or a.dtype.kind in "iuf" \
            else (a.fillna(pd.Timestamp(0)) == b.fillna(pd.Timestamp(0))).to_numpy(dtype=bool)
        return (a_na & b_na) | (~a_na & ~b_na & eq)
    return _same(a, b)


def _classify(book: pd.DataFrame, existing: pd.DataFrame, keys: list[str], compare: list[str]
              ) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(new rows, changed rows with the existing values as `<col>_old` and `_id`, unchanged rows)."""
    ex = existing.rename(columns={c: c + "_old" for c in existing.columns if c not in keys})
    merged = book.merge(ex, on=keys, how="left", indicator=True, sort=False)
    found = merged["_merge"] == "both"
    new = merged[~found]
    matched = merged[found]
    same = np.ones(len(matched), dtype=bool)
    for c in compare:
        same &= _same_fast(matched[c].astype(book[c].dtype) if len(matched) else matched[c],
                           matched[c + "_old"].astype(book[c].dtype) if len(matched) else matched[c + "_old"])
    if "_approved_old" in matched:
        same &= matched["_approved_old"].fillna(False).to_numpy(dtype=bool)
    return new[book.columns], matched[~same], matched[same]


# ---------------------------------------------------------------- values for the database and the audit

def _yuan(fen) -> Decimal | None:
    return None if fen is None or fen is pd.NA or (isinstance(fen, float) and np.isnan(fen)) \
        else yuan(fen)


def _db_values(frame: pd.DataFrame, names: list[str], fen: bool = False) -> dict[str, list]:
    cols: dict[str, list] = {}
    for n in names:
        s = frame[n]
        if n in MONEY and fen:  # integer fen, written as stored (portfolio.interchange.bulk)
            cols[n] = [None if v is pd.NA else int(v) for v in s.to_numpy(dtype=object)]
        elif n in MONEY:
            cols[n] = [_yuan(v) for v in s.to_numpy(dtype=object)]
        elif s.dtype.kind == "M":  # datetime.date objects made in one pass, NaT → None
            missing = s.isna().to_numpy()
            days = s.dt.date.to_numpy(dtype=object)
            cols[n] = [None if m else d for d, m in zip(days, missing)] if missing.any() else list(days)
        elif str(s.dtype) == "Int64":
            cols[n] = [None if v is pd.NA else int(v) for v in s.to_numpy(dtype=object)]
        else:
            cols[n] = _nulled(s)
    return cols


def _nulled(s: pd.Series) -> list:
    """The column's values, a missing one (None, NaN, NA) as None."""
    values = s.to_numpy(dtype=object)
    missing = s.isna().to_numpy()
    return [None if m else v for v, m in zip(values, missing)] if missing.any() else list(values)


def _fen_text(fen: int) -> str:
    """str(yuan(fen)) without Decimal arithmetic: 12345 → '123.45', -5 → '-0.05'."""
    sign, whole = ("-", -fen) if fen < 0 else ("", fen)
    return f"{sign}{whole // 100}.{whole % 100:02d}"


def _plain(frame: pd.DataFrame, names: list[str]) -> list[dict[str, Any]]:
    """JSON-friendly rows for the audit trail (amounts as exact decimal text, dates ISO)."""
    cols: dict[str, list] = {}
    for n in names:
        s = frame[n]
        if n in MONEY:
            cols[n] = [None if v is pd.NA else _fen_text(int(v)) for v in s.to_numpy(dtype=object)]
        elif s.dtype.kind == "M":
            text = s.dt.strftime("%Y-%m-%d")
            cols[n] = [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v)) else v
                       for v in text.to_numpy(dtype=object)]
        elif str(s.dtype) == "Int64":
            cols[n] = [None if v is pd.NA else int(v) for v in s.to_numpy(dtype=object)]
        elif s.dtype.kind != "O" or pd.api.types.infer_dtype(s, skipna=True) in ("string", "empty"):
            cols[n] = _nulled(s)  # NaN and NA (an absent or blank optional cell) are JSON null, never NaN
        else:
            cols[n] = [None if v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))
                       else (str(v) if isinstance(v, Decimal) else v) for v in s.to_numpy(dtype=object)]
    return [dict(zip(names, values)) for values in zip(*(cols[n] for n in names))] if len(frame) else []


def _records(frame: pd.DataFrame, mapping: dict[str, str], extra: dict[str, Any] | None = None,
             fen: bool = False) -> list[dict]:
    """Rows for `insert(Model)`: {model attribute: value}, from {model attribute: frame column}."""
    values = _db_values(frame, list(dict.fromkeys(mapping.values())), fen)
    keys, columns = list(mapping), [values[c] for c in mapping.values()]
    if extra:
        keys += list(extra)
        columns += [[value] * len(frame) for value in extra.values()]
    return [dict(zip(keys, row)) for row in zip(*columns)] if len(frame) else []


def _investment_columns(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.copy()
    sf = frame["mode"] == "sub_fund"
    frame["sub_fund_code"] = frame["target_code"].where(sf, None)
    frame["company_code"] = frame["target_code"].where(~sf, None)
    return frame


def _fund_order(frame: pd.DataFrame) -> pd.DataFrame:
    """Parents before children, so that the self-reference holds at every insert."""
    codes = set(frame["code"])
    parent = dict(zip(frame["code"], frame["parent_code"]))
    depth: dict[str, int] = {}

    def d(code, seen=()):
        if code in depth:
            return depth[code]
        p = parent.get(code)
        depth[code] = 0 if p not in codes or p in seen else d(p, seen + (code,)) + 1
        return depth[code]

    order = frame["code"].map(lambda c: d(c))
    return frame.assign(_depth=order.to_numpy()).sort_values("_depth", kind="stable").drop(columns="_depth")


MODEL_COLUMNS = {
    "funds": {c.name: c.name for c in SHEETS["funds"]},
    "sub_funds": {c.name: c.name for c in SHEETS["sub_funds"]},
    "companies": {c.name: c.name for c in SHEETS["companies"]},
    "investments": {**{c.name: c.name for c in SHEETS["investments"] if c.name != "target_code"},
                    "sub_fund_code": "sub_fund_code", "company_code": "company_code"},
    "cash_flows": {c.name: c.name for c in SHEETS["cash_flows"]},
    "valuations": {c.name: c.name for c in SHEETS["valuations"]},
    "sub_fund_holdings": {c.name: c.name for c in SHEETS["sub_fund_holdings"]},
}


def _key_text(frame: pd.DataFrame, keys: list[str]) -> list[str]:
    parts = []
    for k in keys:
        s = frame[k]
        text = s.dt.strftime("%Y-%m-%d") if s.dtype.kind == "M" else s
        parts.append(["" if v is None else str(v) for v in _nulled(text)])
    return ["/".join(p).rstrip("/") for p in zip(*parts)]


VOIDABLE = ("cash_flows", "valuations")  # a record in force may have a void waiting (void_requested_by)


def _matched(sheet: str, book: pd.DataFrame, existing: pd.DataFrame, names: list[str]):
    """A sheet against the records in force: (new, changed, unchanged, the keys, the changed rows'
    numbers in the workbook when the book brought them (`_row`), else None, and the new rows')."""
    if sheet == "cash_flows":
        new, changed, unchanged = _match_flows(book, existing)
        keys = ["investment_id", "date", "type", "amount_cny", "ref"]
    else:
        keys = KEYS[sheet]
        new, changed, unchanged = _classify(book, existing, keys, [n for n in names if n not in keys])
    if "_row" not in book:
        return new, changed, unchanged, keys, None, None
    # the new rows in the workbook's order (the flows a reference matched came first): so the
    # change-set screen lists them, and they are written
    new = new.sort_values("_row", kind="stable", ignore_index=True)
    rows, new_rows = changed["_row"], new["_row"]
    new, changed, unchanged = (f.drop(columns="_row") for f in (new, changed, unchanged))
    return new, changed, unchanged, keys, rows, new_rows


def _void_waiting(session: Session, sheet: str, changed: pd.DataFrame, rows: pd.Series | None, idents: list[str],
                  existing: pd.DataFrame, names: list[str], leave_out: frozenset[str]) -> list[BookError]:
    """The changed rows whose record has a void asked for and not yet decided: the void's
    approver would cancel content nobody saw when it was asked for. One error each, at the
    row's first changed column (the uploaded value), naming who asked."""
    if sheet not in VOIDABLE or rows is None or not len(changed):
        return []
    waiting = existing[existing["_void_asker"].notna()]
    if not len(waiting):  # the usual case: no void asked for anywhere, nothing per row
        return []
    asker = dict(zip(waiting["_id"], waiting["_void_asker"]))
    errors = []
    for i, (ident, record_id) in enumerate(zip(idents, changed["_id"].to_numpy(dtype=object))):
        who = asker.get(record_id)
        if who is None or ident in leave_out:
            continue
        row = changed.iloc[i]
        column = next((n for n in names if n + "_old" in changed
                       and not _same(pd.Series([row[n]]), pd.Series([row[n + "_old"]]))[0]), names[0])
        value = row[column]
        if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
            text = ""
        elif column in MONEY:
            text = _fen_text(int(value))
        elif column in DATES:
            text = pd.Timestamp(value).strftime("%Y-%m-%d")
        else:
            text = str(value)
        errors.append(BookError(sheet, int(rows.iloc[i]), column, text,
                                Message("import_void_waiting", person=person(session, str(who)))))
    return errors


# ---------------------------------------------------------------- the use case

@dataclass
class SheetPlan:
    """What an import would write to one sheet's table. The changed rows' updates and audit
    entries are aligned with `idents` (the row in the database: `<sheet>:<id or code>`), so
    that a staged import can leave out the rows its uploader chose to keep as they are."""
    sheet: str
    inserts: list[dict] = field(default_factory=list)
    new_audits: list[dict] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    update_audits: list[dict] = field(default_factory=list)
    idents: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    drafts_of: dict[str, str | None] = field(default_factory=dict)  # valuations: ident → draft's maker
    drafts_kept: set[str] = field(default_factory=set)  # the drafts whose value and method the book keeps

    def makers(self, uploader: str, leave_out: frozenset[str] = frozenset()) -> set[str]:
        """Who made the valuation content this plan would approve: the uploader (new rows and
        changed content) and the maker of each draft whose content it keeps."""
        makers = {self.drafts_of[i] or "" for i in self.drafts_kept if i not in leave_out} - {""}
        fresh = bool(self.inserts) or any(i not in leave_out and i not in self.drafts_kept for i in self.idents)
        return makers | ({uploader} if fresh else set())


@collections_paused()  # the whole import: its plan stays alive until written (portfolio.memory)
def import_book(session: Session, source: str | Path | IO[bytes], *, username: str,
                filename: str | None = None, ask: bool = False, confirm_reason: str | None = None,
                progress: Progress | None = None) -> ImportResult:
    """Import a book (a .xlsx path, a folder of CSVs, or an uploaded xlsx file object) at once.

    The direct way in, for an operator at the command line (an empty book, the demo, the
    tests); uploads on the screens are staged (portfolio.interchange.staging) and applied
    by a second person. Imports run one at a time (serialise_imports).

    Rows that trip a sanity check (doubts.py) are refused, one error each, when `ask` (the
    command line) and no `confirm_reason` is given; with a reason they go in, and their
    audit entries keep the reason and the doubts it answered."""
    try:
        serialise_imports(session)
    except BookBusy as busy:  # another import held the book past the wait (SQLite's busy timeout)
        return ImportResult(errors=[BookError("", None, "", "", message) for _field, message in busy.errors])
    result = plan_import(session, source, username=username, filename=filename, progress=progress)
    if result.ok and result.doubts and ask and not (confirm_reason or "").strip():
        result = ImportResult(errors=[BookError(d["sheet"], d["row"], column, cell_value(d, column) if column else d["key"],
                                                Message("import_doubts_unconfirmed", doubts=said))
                                      for d in result.doubts for column, said in by_column(d)])
    own = sorted({p.drafts_of[i] or "" for p in result.plan for i in p.drafts_kept} & {username})
    if result.ok and own:  # the importer would approve a draft they entered: maker-checker
        result = ImportResult(errors=[BookError("valuations", None, "", username, Message("import_own_draft"))])
    if not result.ok:
        session.rollback()  # releases the lock
        return result
    confirm_doubts(result, confirm_reason if isinstance(confirm_reason, Message)  # the application's words
                   else (confirm_reason or "").strip()[:2000] or None)
    try:
        write_import(session, result)
        session.commit()
    except SQLAlchemyError as exc:  # a constraint the checks missed: still nothing written
        session.rollback()
        detail = str(exc.orig if hasattr(exc, "orig") else exc)[:300]
        return ImportResult(errors=[BookError("", None, "", "", Message("import_db_refused", name=exc.__class__.__name__,
                                                                        detail=detail))])
    return result


@collections_paused()  # its rows and audit entries are ~10^6 objects alive at once (portfolio.memory)
def plan_import(session: Session, source: str | Path | IO[bytes], *, username: str,
                filename: str | None = None, entered_by: str | None = None, approved_by: str | None = None,
                reason: str = "import", batch: str | None = None, progress: Progress | None = None,
                leave_out: frozenset[str] = frozenset()) -> ImportResult:
    """Read and check the book, match it against the records in force, and work out what to
    write (result.plan) without writing anything. Valuations are stored as entered by
    `entered_by` and approved by `approved_by` (both the importing user by default).
    `progress` is told the rows read and the sheets checked (schema.read_book).

    A row that would change a cash flow or valuation with a void waiting (asked for, not yet
    approved or declined) is an error: the void would then apply to content its asker never
    saw. `leave_out`: changed rows a staged apply leaves as they are (write_import), not refused."""
    existing = _existing(session)
    frames, errors = read_book(source, filename=filename, known=_known(existing), progress=progress)
    if errors:
        return ImportResult(errors=errors)

    batch = batch or uuid.uuid4().hex
    now = utcnow()
    counts: dict[str, dict[str, int]] = {}
    plans: list[SheetPlan] = []
    touched: dict[str, tuple[pd.DataFrame, pd.DataFrame]] = {}  # cash flows, valuations: (new, changed)
    waiting: list[BookError] = []  # rows changing a record with a void waiting
    # imported flows and valuations count as entered by the uploader and approved by the
    # importing user (a staged upload's applier); a draft flow the book changes stays a draft,
    # now of the uploader's making, for another person to approve on screen
    approved_extra = {"entered_by": entered_by or username, "approved_by": approved_by or username,
                       "approved_at": now}
    draft_extra = {"entered_by": entered_by or username, "approved_by": None, "approved_at": None}

    why = reason_fields(reason)  # the reason's text, and its key when the application wrote it

    def audit_rows(sheet, frame, names, key_cols, action, before=None):
        after = _plain(frame, names)
        keys = _key_text(frame, key_cols)
        return [{"at": now, "username": username, "action": action, "entity": sheet,
                 "entity_key": k, "before": before[i] if before is not None else None,
                 "after": a, **why, "batch": batch} for i, (k, a) in enumerate(zip(keys, after))]

    for sheet in SHEETS:
        # the row numbers go along with the voidable sheets' matching, for their errors
        book = frames[sheet] if sheet in VOIDABLE else frames[sheet].drop(columns="_row")
        names = [c.name for c in SHEETS[sheet]]
        mapping = MODEL_COLUMNS[sheet]
        # an optional column left out (or blank) takes the table's default (funds.currency: CNY),
        # as interchange.md allows, instead of a NULL the database refuses
        for attribute, column in mapping.items():
            default = TABLES[sheet].__table__.columns[attribute].default \
                if attribute in TABLES[sheet].__table__.columns else None
            if column in book and default is not None and getattr(default, "is_scalar", False):
                book[column] = book[column].astype(object).where(book[column].notna(), default.arg)
        new, changed, unchanged, keys, rows, new_rows = _matched(sheet, book, existing[sheet], names)
        counts[sheet] = {"new": len(new), "unchanged": len(unchanged), "changed": len(changed)}
        # with their rows in the workbook, for the doubts (doubts.py): the row that is new, not
        # the first of the book's with the same key (the flow in force it may be a copy of)
        touched[sheet] = (new, changed) if rows is None or new_rows is None else \
            (new.assign(_row=new_rows.to_numpy()), changed.assign(_row=rows.to_numpy()))
        if sheet == "funds":
            new = _fund_order(new)
        if sheet == "investments":
            new, changed = _investment_columns(new), _investment_columns(changed)
        extra = approved_extra if sheet in ("valuations", "cash_flows") else None
        plan = SheetPlan(sheet, unchanged=_key_text(unchanged, keys))
        plan.inserts = _records(new, mapping, extra, fen=True)
        if "_id_old" in changed and "_id" not in changed:
            changed = changed.assign(_id=changed["_id_old"])
        old = changed[[n + "_old" if n + "_old" in changed else n for n in names]].set_axis(names, axis=1)
        pk = {"funds": "code", "sub_funds": "code", "companies": "code", "investments": "id"}.get(sheet)
        plan.updates = _records(changed, {**mapping, **({"id": "_id"} if pk is None else {})}, extra)
        if sheet == "cash_flows" and len(changed):
            approved_flows = existing[sheet].set_index("_id")["_flow_approved"]
            for update, flow_id in zip(plan.updates, changed["_id"].to_numpy(dtype=object)):
                if not bool(approved_flows.get(flow_id, True)):
                    update.update(draft_extra)
        plan.idents = [f"{sheet}:{v}" for v in (changed[pk] if pk else changed["_id"]).to_numpy(dtype=object)]
        waiting += _void_waiting(session, sheet, changed, rows, plan.idents, existing[sheet], names, leave_out)
        if sheet == "valuations" and len(changed):
            # a draft the book matches: who entered it. Whose content is in the row after the
            # import is its maker, whom the checker must not be: the draft's maker where the
            # book keeps the draft's value and method (the import only confirms it), else the
            # uploader (the draft's content is replaced)
            approved = changed["_approved_old"].fillna(False).to_numpy(dtype=bool)
            makers = changed["_entered_old"].to_numpy(dtype=object)
            kept = np.ones(len(changed), dtype=bool)
            for c in ("fair_value_cny", "method"):
                kept &= _same_fast(changed[c], changed[c + "_old"].astype(changed[c].dtype))
            plan.drafts_of = {i: (None if m is None or m is pd.NA else str(m))
                              for i, a, m in zip(plan.idents, approved, makers) if not a}
            for i, (ident, a, k) in enumerate(zip(plan.idents, approved, kept)):
                if not a and k and plan.drafts_of[ident]:
                    plan.drafts_kept.add(ident)
                    plan.updates[i]["entered_by"] = plan.drafts_of[ident]
        table = TABLES[sheet].__tablename__
        plan.new_audits = audit_rows(table, new, names, keys, "import")
        if len(changed):
            plan.update_audits = audit_rows(table, changed, names, keys, "import_update", before=_plain(old, names))
        plans.append(plan)
    if waiting:
        return ImportResult(errors=waiting)
    flows_new, flows_changed = touched["cash_flows"]
    valuations = pd.concat([f[["investment_id", "as_of"]] for f in touched["valuations"]], ignore_index=True)
    doubts = plan_doubts(existing, frames, flows_new, flows_changed, valuations)
    return ImportResult(errors=[], counts=counts, batch=batch, plan=plans, doubts=doubts)


def confirm_doubts(result: ImportResult, reason: str | None) -> None:
    """Mark the audit entries of the doubted rows with the doubts and the reason that confirmed
    them (nothing without a reason), each doubt under the column it is about (column_said)."""
    if not reason or not result.doubts:
        return
    doubted: dict[tuple[str, str], list[str]] = {}
    for doubt in result.doubts:
        doubted.setdefault((doubt["sheet"], doubt["match"]), []).extend(column_said(doubt))
    for plan in result.plan:
        for entry in plan.new_audits + plan.update_audits:
            key = entry["entity_key"]
            if plan.sheet == "cash_flows":  # its key ends with the ref, which the doubt does not name
                key = "/".join(key.split("/")[:4])
            found = doubted.get((plan.sheet, key))
            if found:
                entry["after"] = {**(entry["after"] or {}), **confirmed_doubts(found)}
                entry.update(reason_fields(reason))  # a person's words


def new_ident(sheet: str, key: str) -> str:
    """A new row's name for `leave_out` (it has no id yet): its sheet and natural key."""
    return f"{sheet}:+{key}"


@collections_paused()
def write_import(session: Session, result: ImportResult, leave_out: frozenset[str] = frozenset()) -> None:
    """Write a planned import (uncommitted): bulk inserts and updates, and their audit
    entries; the changed rows named in `leave_out` are left as they are."""
    audits: list[dict] = []
    for plan in result.plan:
        model = TABLES[plan.sheet]
        keep = [i for i, ident in enumerate(plan.idents) if ident not in leave_out]
        updates = [plan.updates[i] for i in keep]
        # a new row left out: one the book voided since the file was exported (staging)
        fresh = [i for i, e in enumerate(plan.new_audits) if new_ident(plan.sheet, e["entity_key"]) not in leave_out]
        inserts = plan.inserts if len(fresh) == len(plan.inserts) else [plan.inserts[i] for i in fresh]
        if inserts:
            # the database's bulk path (COPY, or one prepared INSERT stepped per row), money as fen
            bulk_insert(session, cast(Table, model.__table__), inserts,
                        stored=[c.name for c in model.__table__.columns if isinstance(c.type, Money)])
        if updates:  # set-wise: one prepared UPDATE stepped per row, or COPY + UPDATE … FROM
            bulk_update(session, model, updates)
        if len(fresh) < len(plan.inserts):
            result.counts[plan.sheet]["kept"] = len(plan.inserts) - len(fresh)
            result.counts[plan.sheet]["new"] = len(fresh)
        audits += [plan.new_audits[i] for i in fresh] + [plan.update_audits[i] for i in keep]
        if plan.sheet in result.counts and len(keep) < len(plan.idents):
            counts = result.counts[plan.sheet]
            counts["kept"] = counts.get("kept", 0) + len(plan.idents) - len(keep)
            counts["changed"] = len(keep)
    if audits:  # set-wise, in the same transaction as the rows they record
        bulk_insert(session, cast(Table, AuditEntry.__table__), audits)


def _match_flows(book: pd.DataFrame, existing: pd.DataFrame):
    """Cash flows: by (investment_id, ref) where ref is given, else by (investment_id, date, type,
    amount) as a multiset (the k-th identical row of the book is the k-th existing one)."""
    compare = ["date", "type", "amount_cny", "note"]
    with_ref = book[book["ref"].notna()]
    ex_ref = existing[existing["ref"].notna()]
    new_r, changed_r, same_r = _classify(with_ref, ex_ref, ["investment_id", "ref"], compare)
    claimed = set(changed_r["_id_old"]) | set(same_r["_id_old"])
    # existing rows without a ref are matched first, then those with a ref the book did not claim
    pool = existing[~existing["_id"].isin(claimed)].copy()
    pool["_has_ref"] = pool["ref"].notna()
    pool = pool.sort_values(["_has_ref", "_id"], kind="stable").drop(columns="_has_ref")
    keys = ["investment_id", "date", "type", "amount_cny"]
    pool["_k"] = pool.groupby(keys, sort=False).cumcount()
    plain = book[book["ref"].isna()].copy()
    plain["_k"] = plain.groupby(keys, sort=False).cumcount()
    new_p, changed_p, same_p = _classify(plain, pool[keys + ["_k", "note", "_id"]], keys + ["_k"], ["note"])
    # an unnamed flow that matches a named one keeps its ref
    changed_p = changed_p.assign(ref=changed_p["ref_old"] if "ref_old" in changed_p else changed_p["ref"])
    if len(changed_p):
        ref_of = dict(zip(existing["_id"], existing["ref"]))
        changed_p["ref"] = changed_p["_id_old"].map(ref_of)
    cols = list(book.columns)
    new = pd.concat([new_r[cols], new_p[cols]], ignore_index=True)
    changed = pd.concat([_with_old(changed_r, cols, existing), _with_old(changed_p, cols, existing)],
                        ignore_index=True)
    unchanged = pd.concat([same_r[cols], same_p[cols]], ignore_index=True)
    return new, changed, unchanged


def _with_old(changed: pd.DataFrame, cols: list[str], existing: pd.DataFrame) -> pd.DataFrame:
    """The changed rows with every column's existing value as `<col>_old` and the row id as `_id`."""
    out = changed[cols].copy()
    ids = changed["_id_old"].to_numpy() if len(changed) else np.array([], dtype=int)
    ex = existing.set_index("_id").loc[ids] if len(ids) else existing.iloc[0:0].set_index("_id")
    for c in cols:
        if c not in existing:  # the book's own (its row number)
            continue
        out[c + "_old"] = ex[c].to_numpy() if len(ids) else pd.Series(dtype=existing[c].dtype)
    out["_id"] = ids
    return out
