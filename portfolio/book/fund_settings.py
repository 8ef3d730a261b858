"""Use case: an administrator changes a fund's settings (rule limits and the like), asked for
and applied once another person approves it (maker-checker: one person could otherwise loosen
a limit to hide a breach).

The settings in force are the fund kind's defaults (portfolio.figures.settings) overridden per
fund; only the overrides are stored, in funds.settings (JSON, Decimals as strings, so
that limits stay exact). A value equal to the default is not stored, and a blank one
goes back to the default. Every change is audited with before and after.
"""
from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import INSTRUMENTS, Fund, IndexLevel, PendingCorrection
from portfolio.book.audit import audit, digest, person
from portfolio.book.corrections import decided, held, last_written
from portfolio.book.records import Fields, maker_is_checker
from portfolio.book.unit import commit, take
from portfolio.errors import FieldErrors
from portfolio.figures.settings import defaults_for, fund_settings
from portfolio.formatting import by_kind, fraction
from portfolio.messages import Message, said_by
from portfolio.money import AmountError
from portfolio.record_rules import NOTE_LENGTH, PLAIN_NUMBER


@dataclass(frozen=True)
class SettingSpec:
    label: str
    kind: str              # share | ratio | decimal | count | amount | rate | prefix | instruments
    low: Decimal | None = None
    high: Decimal | None = None
    hint: str = ""


_SHARE_HINT = "百分比，如 30%（也可写作小数 0.30）"
_RATE_HINT = "百分比，如 8%（也可写作小数 0.08）"
# a share or a rate is shown as a percentage (35%, as the history writes it) and typed either
# way: 35% or 0.35
PERCENT_KINDS = ("share", "rate")
SPECS: dict[str, SettingSpec] = {
    "home_region_prefix": SettingSpec("本地区划代码前缀", "prefix", hint="2 到 6 位数字，宁波为 3302"),
    "investment_period_years": SettingSpec("子基金投资期（年）", "count", Decimal(1), Decimal(30)),
    "subfund_share_cap": SettingSpec("认缴占子基金规模上限", "share", Decimal(0), Decimal(1), _SHARE_HINT),
    "direct_share_cap": SettingSpec("直投和跟投占基金规模上限", "share", Decimal(0), Decimal(1), _SHARE_HINT),
    "single_company_cap": SettingSpec("单一企业实缴占基金规模上限", "share", Decimal(0), Decimal(1), _SHARE_HINT),
    "ownership_cap": SettingSpec("持股比例上限", "share", Decimal(0), Decimal(1), _SHARE_HINT),
    "subfund_single_company_cap": SettingSpec("子基金投资单一企业占其规模上限", "share", Decimal(0), Decimal(1),
                                              _SHARE_HINT),
    "reinvestment_multiple": SettingSpec("返投倍数要求（不低于）", "ratio", Decimal(0), Decimal(100),
                                         "本地返投 ÷ 本基金实缴，如 1.5"),
    "angel_company_age_years": SettingSpec("天使投资：企业成立年限上限（年）", "decimal", Decimal(0), Decimal(100)),
    "angel_headcount": SettingSpec("天使投资：员工人数上限", "count", Decimal(0), Decimal(1_000_000)),
    "angel_company_size_cny": SettingSpec("天使投资：营业收入和资产总额上限", "amount", Decimal(0),
                                          Decimal("1e15")),
    "coinvest_lead_ratio": SettingSpec("跟投金额 ÷ 领投金额上限", "ratio", Decimal(0), Decimal(100)),
    "prohibited_instruments": SettingSpec("禁止的投资工具", "instruments"),
    "mirr_finance_rate": SettingSpec("MIRR 融资利率（年）", "rate", Decimal(-1), Decimal(1), _RATE_HINT),
    "mirr_reinvest_rate": SettingSpec("MIRR 再投资利率（年）", "rate", Decimal(-1), Decimal(1), _RATE_HINT),
    "committee_quorum": SettingSpec("投委会法定出席人数", "count", Decimal(1), Decimal(100)),
    "committee_pass_ratio": SettingSpec("投委会通过比例（不低于）", "fraction", Decimal(0), Decimal(1),
                                        "分数或小数，如 2/3 表示三分之二"),
    "valuation_change_threshold": SettingSpec("季报列示估值变动阈值", "share", Decimal(0), Decimal(1), _SHARE_HINT),
    "finance_bureau_share": SettingSpec("财政出资占基金出资比例（预测）", "share", Decimal(0), Decimal(1), _SHARE_HINT),
    "gp_deadline_days": SettingSpec("管理人季度报告期限（季末后天数）", "count", Decimal(1), Decimal(365)),
    "gp_nav_tolerance": SettingSpec("管理人报告：持仓公允价值与净资产的容差", "share", Decimal(0), Decimal(1),
                                    _SHARE_HINT),
    "gp_four_eyes": SettingSpec("管理人报告须由复核人以外的另一人接受（1 是，0 否）", "count", Decimal(0),
                                Decimal(1)),
    "pme_index": SettingSpec("PME 比较指数（默认）", "index", hint="已导入的指数名称，如 CSI300；留空则不比较"),
}


def spec_for(key: str) -> SettingSpec:
    """The spec of a setting; a setting added to portfolio.figures.settings without one is still editable
    in the type of its default."""
    if key in SPECS:
        return SPECS[key]
    default = defaults_for("innovation_fund")[key]
    kind = ("instruments" if isinstance(default, list) else "count" if isinstance(default, int)
            else "rate" if isinstance(default, float) else "ratio" if isinstance(default, Decimal) else "text")
    return SettingSpec(key, kind)


def _parse(key: str, raw: Any) -> Any:
    """The typed value of one setting, or ValueError with the message to show beside the field."""
    spec = spec_for(key)
    if isinstance(raw, AmountError):  # an amount the form's field refused, in the unit it was typed in
        raise ValueError(raw.args[0])
    if spec.kind == "instruments":
        items = raw.split(",") if isinstance(raw, str) else list(raw or [])
        items = [str(i).strip() for i in items if str(i).strip()]
        unknown = [i for i in items if i not in INSTRUMENTS]
        if unknown:
            raise ValueError(Message("unknown_instruments", people=unknown))
        return [i for i in INSTRUMENTS if i in items]  # canonical order, no duplicates
    text = str(raw).strip().replace(",", "")
    if spec.kind == "prefix":
        if not (text.isascii() and text.isdigit() and 2 <= len(text) <= 6):
            raise ValueError(Message("region_prefix"))
        return text
    if spec.kind in ("text", "index"):
        return text
    number = _typed_number(spec, text)
    if spec.kind == "count" and number != number.to_integral_value():
        raise ValueError(Message("enter_integer"))
    if spec.kind == "amount" and number != number.quantize(Decimal("0.01")):
        raise ValueError(Message("amount_places", places=2))
    if spec.low is not None and number < spec.low or spec.high is not None and number > spec.high:
        if spec.kind in PERCENT_KINDS:  # the limits as the field shows its value: 0% to 100%
            raise ValueError(Message("between", low=percent_of(spec.low), high=percent_of(spec.high)))
        if spec.kind == "ratio":  # as a multiple, as the field shows it: 0.00x to 100.00x
            raise ValueError(Message("between", low=multiple_of(spec.low), high=multiple_of(spec.high)))
        raise ValueError(Message("between", low=spec.low, high=spec.high))
    if spec.kind in ("share", "ratio", "decimal", "fraction") and number <= 0 and spec.low == 0 and key != "direct_share_cap":
        # a zero limit would forbid every deal; direct_share_cap 0 means "no direct investing", allowed
        raise ValueError(Message("above_zero"))
    if spec.kind == "count":
        return int(number)
    if spec.kind == "rate":
        return float(number)
    return number


# what may follow a multiple typed for a ratio: the 'x' the app writes it with (1.50x), and
# 倍, × and X as people type it
MULTIPLE_MARKS = ("x", "X", "×", "倍")


def _typed_number(spec: SettingSpec, text: str) -> Decimal:
    """The number typed for a numeric setting: a fraction (2/3) where the setting is one, a
    percentage (35%) where it is a share or a rate, a multiple (1.50x, 1.5 倍) where it is a
    ratio; else ValueError."""
    text = unicodedata.normalize("NFKC", text)  # ２／３ typed on a Chinese keyboard is 2/3, ３５％ 35%
    percent = spec.kind in PERCENT_KINDS and text.endswith("%")
    if percent:
        text = text[:-1].strip()
    if spec.kind == "ratio" and text[-1:] in MULTIPLE_MARKS:  # 1.50x, as the form shows it, or 1.5 倍
        text = text[:-1].strip()
    try:
        if spec.kind == "fraction" and "/" in text:  # 2/3 kept as the exact quotient the default is
            numerator, denominator = (_plain_number(part) for part in text.split("/", 1))
            number = numerator / denominator
        else:
            number = _plain_number(text)
    except (InvalidOperation, ZeroDivisionError):
        raise ValueError(Message("enter_number")) from None
    if not number.is_finite():
        raise ValueError(Message("enter_number"))
    return number.scaleb(-2) if percent else number  # exact: 35% is 0.35, 12.3456789% 0.123456789


NUMBER_LENGTH = 40  # a limit's digits as typed, and more: 1e-999999999 had hung the page that shows it


def _plain_number(text: str) -> Decimal:
    """A number as people write one (digits, a point, a sign; `_parse` has read full-width
    characters as theirs already): no exponent, no more than NUMBER_LENGTH characters; else
    InvalidOperation."""
    cleaned = text.strip()
    if len(cleaned) > NUMBER_LENGTH or not PLAIN_NUMBER.fullmatch(cleaned):
        raise InvalidOperation(text)
    return Decimal(cleaned)


def _stored(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


def _same(stored: Any, value: Any) -> bool:
    """Whether a stored setting is the value read from the form: a number the same number
    whatever its digits ('1.5' and 1.50, '50005000' and 50005000.00)."""
    if isinstance(value, Decimal) and isinstance(stored, str):
        try:
            return Decimal(stored) == value
        except InvalidOperation:
            return False
    return bool(stored == value)


def _planned(session: Session, fund: Fund, values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the stored overrides now, the overrides `values` would leave): every value checked,
    FieldErrors (one per bad field, all of them) otherwise."""
    defaults = defaults_for(fund.kind)
    errors: list[tuple[str, str]] = []
    parsed: dict[str, Any] = {}
    for key, raw in values.items():
        if key not in defaults:
            errors.append((key, Message("no_such_setting")))
            continue
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            parsed[key] = None  # back to the default
            continue
        try:
            parsed[key] = _parse(key, raw)
        except ValueError as exc:  # its sentence, by key where it has one
            errors.append((key, said_by(exc)))
    index = parsed.get("pme_index")
    if index and session.execute(select(IndexLevel.name).where(IndexLevel.name == index).limit(1)).first() is None:
        errors.append(("pme_index", Message("no_index_data", index=index)))
    if errors:
        raise FieldErrors(errors)

    before = dict(fund.settings or {})
    after = dict(before)
    for key, value in parsed.items():
        if value is None or value == defaults[key]:
            after.pop(key, None)
        elif not _same(before.get(key), value):  # the stored text kept for the same number:
            after[key] = _stored(value)          # 1.50x read back is the stored 1.5, not a change
    return before, after


def _taken(session: Session, fund_code: str, version: str | None) -> Fund:
    """The fund's row taken, its settings read again (two saving at once had each written back
    the whole settings as read, the first one's change lost); refused if they are no longer
    those of `version` (the settings as the form showed them)."""
    fund = session.get(Fund, fund_code)
    if fund is None:
        raise FieldErrors([("", Message("no_fund", code=fund_code))])
    take(session, fund)
    if version is not None and version != settings_version(fund.settings):
        raise FieldErrors([("", Message("settings_stale"))])
    return fund


def update_fund_settings(session: Session, fund_code: str, values: dict[str, Any], *,
                         username: str, version: str | None = None) -> dict[str, Any]:
    """Validate and store the given settings of one fund at once; returns the settings in force.

    The step an approved request applies (`approve_fund_settings`), and what loads a book
    (the demo): a person's change on the settings page is asked for (`request_fund_settings`)
    and applied only once another person approves it.

    `values` maps setting keys to typed values or the text typed in a form; a blank
    value (None or "") puts the setting back to its default. Raises FieldErrors (one per
    bad field, all of them) and then changes nothing. `version`: the settings' digest as the
    form showed them (settings_version); stored settings changed since are not written over.
    """
    fund = _taken(session, fund_code, version)
    after = _write(session, fund, values, username)
    commit(session)
    return fund_settings(fund.kind, after)


def _write(session: Session, fund: Fund, values: dict[str, Any], username: str,
           reason: Message | None = None) -> dict[str, Any]:
    """Check and write `values` on the taken fund, audited when anything changes; no commit."""
    before, after = _planned(session, fund, values)
    if after != before:
        fund.settings = after  # a new dict, so that the JSON column sees the change
        audit(session, username, "update", "funds.settings", fund.code, before=before, after=after, reason=reason)
    return after


# -- maker-checker: a change asked for, applied once another person approves it ----------------

def pending_settings(session: Session, fund_code: str) -> PendingCorrection | None:
    """The change of a fund's settings waiting for a checker, if any (one per fund)."""
    return session.execute(select(PendingCorrection).where(PendingCorrection.entity == "funds",
                                                           PendingCorrection.entity_key == fund_code)).scalar()


@dataclass(frozen=True)
class SettingsRequest:
    pending: PendingCorrection
    fund: Fund
    rows: list[tuple[str, Any, Any]]  # (setting, in force now, as asked)
    stale: Message | None = None  # why it can no longer be approved: the settings changed since it was asked for


def waiting_settings(session: Session, fund_code: str | None = None) -> list[SettingsRequest]:
    """The changes of settings waiting (of one fund, or all), oldest first, each with the
    settings it changes as they are in force now and as asked (typed values)."""
    stmt = select(PendingCorrection, Fund).join(Fund, Fund.code == PendingCorrection.entity_key).where(
        PendingCorrection.entity == "funds")
    if fund_code is not None:
        stmt = stmt.where(PendingCorrection.entity_key == fund_code)
    out = []
    for waiting, fund in session.execute(stmt.order_by(PendingCorrection.asked_at, PendingCorrection.id)).all():
        now = fund_settings(fund.kind, fund.settings)
        asked = fund_settings(fund.kind, _asked_overrides(fund.settings, waiting.fields))
        out.append(SettingsRequest(waiting, fund, [(key, now[key], asked[key]) for key in now
                                                   if key in waiting.fields], _stale(session, waiting, fund)))
    return out


def stale_settings(session: Session, waiting: list[PendingCorrection]) -> dict[str, Message]:
    """Why each change of settings waiting (of `waiting`) can no longer be approved, by fund code."""
    out: dict[str, Message] = {}
    for pending in waiting:
        fund = session.get(Fund, pending.entity_key)
        why = _stale(session, pending, fund) if fund is not None else None
        if why is not None:
            out[pending.entity_key] = why
    return out


def _stale(session: Session, waiting: PendingCorrection, fund: Fund) -> Message | None:
    """Why a change waiting can no longer be approved, as its approval would refuse it
    (settings_request_stale): the fund's settings changed since it was asked for; else None."""
    if waiting.version == settings_version(fund.settings):
        return None
    who = last_written(session, "funds.settings", fund.code, "update")
    return Message("settings_request_outdated_by", who=who) if who else Message("settings_request_outdated")


def _asked_overrides(stored: dict[str, Any] | None, fields: dict[str, Any]) -> dict[str, Any]:
    """The overrides a request would leave: `fields` the changed settings (None: the default)."""
    after = dict(stored or {})
    for key, value in fields.items():
        if value is None:
            after.pop(key, None)
        else:
            after[key] = value
    return after


def _with_reason(session: Session, fund: Fund, values: dict[str, Any], reason: str | None):
    """(before, after) as _planned gives them, the reason read (Fields: its errors not yet
    raised) and its text; the values' errors and the reason's raised together."""
    f = Fields({"change_reason": reason})
    typed = f.text("change_reason", required=True, max_len=NOTE_LENGTH)
    try:
        before, after = _planned(session, fund, values)
    except FieldErrors as refused:
        raise FieldErrors([*refused.errors, *f.errors]) from None
    return before, after, f, typed


def check_fund_settings(session: Session, fund_code: str, values: dict[str, Any], *, reason: str | None) -> None:
    """request_fund_settings' checks of the values and of the reason, nothing written: for a
    form its own checks refused (a value it could not read is a change asked for, so the
    reason is asked for too). A value None is one the form refused: not checked again."""
    fund = session.get(Fund, fund_code)
    if fund is None:
        raise FieldErrors([("", Message("no_fund", code=fund_code))])
    _before, _after, f, _typed = _with_reason(session, fund, {k: v for k, v in values.items() if v is not None}, reason)
    f.check()


def request_fund_settings(session: Session, fund_code: str, values: dict[str, Any], *,
                          username: str, reason: str | None, version: str | None = None) -> PendingCorrection | None:
    """A change of a fund's settings, asked for (maker-checker): checked as it would be applied
    (every value, the settings as the form showed them), with the asker's reason (required,
    at most 2,000 characters, as a correction's: field `change_reason`, refused with the bad
    values at once), then held until another person with `approve` approves it
    (`approve_fund_settings`); the settings in force stay as they are meanwhile, in every
    figure and rule check. None when nothing would change (no reason needed). One request
    waits per fund: a second is refused."""
    fund = _taken(session, fund_code, version)
    before, after, f, typed = _with_reason(session, fund, values, reason)
    if after == before:
        return None
    f.check()
    assert typed is not None  # f.check() raised otherwise
    waiting = pending_settings(session, fund.code)
    if waiting is not None:
        raise FieldErrors([("", Message("settings_pending_by", who=(person(session, waiting.asked_by),
                                                                    waiting.asked_at)))])
    changed = {key: after.get(key) for key in dict.fromkeys([*before, *after]) if before.get(key) != after.get(key)}
    request = held(session, PendingCorrection(entity="funds", entity_key=fund.code, fields=changed,
                                              version=settings_version(fund.settings), reason=typed, asked_by=username),
                   Message("settings_request_raced"))
    now = fund_settings(fund.kind, before)
    asked = fund_settings(fund.kind, after)
    audit(session, username, "request_correction", "funds.settings", fund.code,
          before={key: _stored(now[key]) for key in changed}, after={key: _stored(asked[key]) for key in changed},
          reason=typed)
    commit(session)
    return request


def approve_fund_settings(session: Session, fund_code: str, *, username: str) -> dict[str, Any]:
    """The checker's approval of a change asked for: not by whoever asked; refused if the
    settings changed since it was asked for (it stays waiting, to be declined); applied as
    `update_fund_settings` applies a change, audited as the approver's with the asker named.
    Returns the settings in force."""
    if session.get(Fund, fund_code) is None:
        raise FieldErrors([("", Message("no_fund", code=fund_code))])
    waiting = pending_settings(session, fund_code)
    if waiting is None:
        raise FieldErrors([("", Message("settings_not_pending"))])
    if maker_is_checker(waiting.asked_by, username):
        raise FieldErrors([("", Message("settings_asker_is_checker"))])
    asker, version, fields = waiting.asked_by, waiting.version, dict(waiting.fields)
    if not decided(session, waiting):
        raise FieldErrors([("", Message("settings_request_raced"))])
    try:
        fund = _taken(session, fund_code, None)
        if version != settings_version(fund.settings):
            raise FieldErrors([("", Message("settings_request_stale"))])
        after = _write(session, fund, {key: _as_typed(key, value) for key, value in fields.items()}, username,
                       reason=Message("settings_asked_by", person=person(session, asker)))
    except FieldErrors:
        session.rollback()  # refused: the request stays waiting
        raise
    commit(session)
    return fund_settings(fund.kind, after)


NUMBER_KINDS = ("share", "ratio", "decimal", "count", "amount", "rate", "fraction")


def _as_typed(key: str, value: Any) -> Any:
    """A setting as a request keeps it, written as the form would take it again: a number in
    plain digits (a rate kept as the float 1e-05, a share as the text 1E-7, read back as 0.00001
    and 0.0000001, never refused for their exponent)."""
    if spec_for(key).kind not in NUMBER_KINDS or isinstance(value, (bool, int, list)) or value is None:
        return value
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return value
    return format(number, "f") if number.is_finite() else value


def decline_fund_settings(session: Session, fund_code: str, fields: Mapping[str, Any], *, username: str) -> None:
    """A change asked for, declined with a reason (by a checker, or withdrawn by its asker):
    the settings stay as they are."""
    f = Fields(fields)
    reason = f.text("reason", required=True, max_len=NOTE_LENGTH)
    if reason is not None and not reason.strip():
        f.errors.append(("reason", Message("reject_needs_reason")))
    f.check()
    fund = session.get(Fund, fund_code)
    if fund is None:
        raise FieldErrors([("", Message("no_fund", code=fund_code))])
    waiting = pending_settings(session, fund_code)
    if waiting is None:
        raise FieldErrors([("", Message("settings_not_pending"))])
    asked = fund_settings(fund.kind, _asked_overrides(fund.settings, waiting.fields))
    now = fund_settings(fund.kind, fund.settings)
    changed = list(waiting.fields)
    if not decided(session, waiting):
        raise FieldErrors([("", Message("settings_request_raced"))])
    audit(session, username, "reject_correction", "funds.settings", fund_code,
          before={key: _stored(now[key]) for key in changed}, after={key: _stored(asked[key]) for key in changed},
          reason=Message("settings_declined", person=person(session, waiting.asked_by), typed=reason))
    commit(session)


def display(value: Any, key: str | None = None) -> str:
    """A setting's value as shown in the form (exact; lists as comma-separated codes;
    a fraction as one: 2/3)."""
    if key is not None and spec_for(key).kind == "fraction" and isinstance(value, Decimal):
        return fraction(value)
    if isinstance(value, list):
        return ",".join(value)
    if isinstance(value, Decimal):
        if not value.is_finite() or value and abs(value.adjusted()) > NUMBER_LENGTH:
            return format(value, "E")  # stored before NUMBER_LENGTH: never a billion digits
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return str(value)


# how a setting of each kind is written for a reader (portfolio.formatting.by_kind); the kinds
# not here (a number of years, a region prefix, an index) as the form shows them, a share or
# a rate as its exact percentage (percent_of), a ratio as its exact multiple (multiple_of)
SHOWN_AS = {"fraction": "fraction", "instruments": "instruments", "amount": "amount", "count": "count"}


def _stored_number(value: Any) -> Decimal | str:
    """A stored setting as a finite Decimal, or the text to show as it is (not a number, or
    not a finite one)."""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    return number if number.is_finite() else str(number)


def percent_of(value: Any) -> str:
    """A share as its percentage, exactly (0.35 → 35%, 0.123456789 → 12.3456789%): what the
    settings form shows is saved back unchanged. A value stored before NUMBER_LENGTH (1E-999999999)
    in E notation, never a billion digits."""
    number = _stored_number(value)
    if isinstance(number, str):
        return number
    sign, digits, exponent = number.as_tuple()
    hundredfold = Decimal((sign, digits, int(exponent) + 2))  # exact, whatever its exponent
    if number and abs(hundredfold.adjusted()) > NUMBER_LENGTH:
        return f"{hundredfold:E}%"
    return f"{hundredfold.normalize():f}%"


def multiple_of(value: Any) -> str:
    """A ratio as a multiple, as the report and the compliance checks write its limit
    (formatting.multiple: 1.5 → 1.50x), but exactly (1.234 → 1.234x, never 1.23x): what
    the settings form shows is saved back unchanged. A value stored before NUMBER_LENGTH in
    E notation."""
    number = _stored_number(value)
    if isinstance(number, str):
        return number
    if number and abs(number.adjusted()) > NUMBER_LENGTH:
        return f"{number:E}x"
    with localcontext() as context:  # room for the digits of any number up to NUMBER_LENGTH long
        context.prec = 2 * NUMBER_LENGTH + 2
        two_places = number.quantize(Decimal("0.01"))
    return f"{two_places:f}x" if two_places == number else f"{number.normalize():f}x"


def shown(key: str, value: Any, lang: str = "zh") -> str:
    """A setting's value as people read it, the one way the history and the settings page
    (its defaults and the values in force) write it: a share or a rate as a percentage
    (0.35 → 35%), a ratio as a multiple (1.5 → 1.50x), a fraction as one (5/7), instruments
    by their names, an amount in 万元 with separators, a count with separators; the rest
    (a number of years: 5) as typed."""
    kind = SPECS[key].kind if key in SPECS else ""
    if kind in PERCENT_KINDS:
        return percent_of(value)
    if kind == "ratio":
        return multiple_of(value)
    if kind not in SHOWN_AS:
        return display(value, key if key in SPECS else None)
    return by_kind(value, SHOWN_AS[kind], lang)


def settings_version(settings: dict[str, Any] | None) -> str:
    """The digest a settings form carries of the overrides it showed (corrections.digest)."""
    return digest(settings or {})


def pme_index_of(session: Session, fund_code: str) -> str | None:
    """The fund's PME benchmark when none is asked for: its pme_index setting (None: none set,
    or no such fund). The screens and the command's quarterly report both start from it."""
    fund = session.get(Fund, fund_code)
    return (str(fund_settings(fund.kind, fund.settings)["pme_index"]) or None) if fund is not None else None
