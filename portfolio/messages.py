"""The domain's sentences, by key, in Chinese and English.

A rule check (rules.md) explains itself in a sentence a committee member understands.
The sentence is a `Message`: a `str` (its Chinese text, exactly what the JSON report and
rules.md carry, `missing: FIELD` included) that also keeps its key and its arguments, so
a screen or a report renders it again in the reader's language from the same key, with
each figure written by its kind: `Message.render(lang)`. Nothing is translated by
post-processing the Chinese text.

The arguments are typed values, named by what they hold:
`*_pct` a ratio shown as a percentage, `*_x` a multiple, `*_fen` an amount in fen (shown in
万元), `*_fen_yuan` an amount in fen shown in 元, `notice_ref` a notice's reference (or none),
`years`/`limit_years` years, `n`/`limit_n`/`period` counts, `what` a key of WHAT,
`whats` a list of keys of WHAT, `fields` a list of field codes (the `missing:` part),
`instrument` an instrument code, `over` a list of (key of WHAT, fen) pairs, `choices` a
coded column's (vocabulary, codes), `sheet` a workbook sheet's code (shown by its name:
现金流, Cash flow), `column_header` a workbook column's (code, Chinese header) (shown in words
as the change-set screen names it, interchange.schema.column_named: by its header in Chinese,
by its English name in English, Amount (CNY)), `table` a table's
code, `tables` a list of them (each by its name: 审计日志、用户 / Audit log, User), `row_key` the
key of a row of that sheet (shown as formatting.row_named names it: a cash flow's type by its name, its amount in 元).
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal
from functools import lru_cache
from typing import Any

from portfolio.error_texts import ERROR_TEXTS

# What a check measures or misses, by key: (Chinese, English).
WHAT: dict[str, tuple[str, str]] = {
    "subfund_share": ("基金认缴占子基金规模", "The fund's commitment as a share of the sub-fund"),
    "direct_share": ("直投和跟投金额合计占基金规模", "Direct and co-investment commitments as a share of the fund"),
    "single_company": ("基金对该企业实缴出资占基金规模", "The fund's paid-in to this company as a share of the fund"),
    "subfund_single_company": ("子基金投资单一企业成本占子基金规模",
                               "The sub-fund's largest cost in one company as a share of the sub-fund"),
    "sub_fund_size": ("子基金规模", "the sub-fund's size"),
    "ownership": ("持股比例", "the ownership"),
    "lead_amount": ("领投金额", "the lead amount"),
    "founded": ("企业成立日期", "the company's founding date"),
    "headcount": ("员工人数", "the headcount"),
    "holdings_report": ("子基金投资明细报告", "the sub-fund's holdings report"),
    "paid_in": ("本基金对子基金的实缴出资", "the fund's paid-in to the sub-fund"),
    "revenue": ("年营业收入", "annual revenue"),
    "total_assets": ("资产总额", "total assets"),
    "vintage_year": ("子基金设立年份", "the sub-fund's vintage year"),
    # what kind of record a refusal is about (portfolio/error_texts.py `record`)
    "cash_flow": ("现金流", "cash flow"),
    "valuation": ("估值", "valuation"),
    "date": ("日期", "the date"),
    "as_of": ("估值基准日", "the valuation date"),
    "proposal": ("提案", "proposal"),
    "investment": ("投资", "investment"),
    "meeting": ("会议", "meeting"),
    "sub_fund": ("子基金", "sub-fund"),
    "company": ("企业", "company"),
}

# what a proposal cannot have done to it (portfolio.committee.workflow.ACTION_NAMES), in English
ACTIONS_EN = {"submit": "submitted", "schedule": "scheduled", "decide": "decided", "withdraw": "withdrawn",
              "edit": "edited", "vote": "voted on", "recuse": "recused from", "attach": "given attachments"}

# key: (Chinese, English); {name} placeholders are the arguments, written by kind.
TEXTS: dict[str, tuple[str, str]] = {
    "cap_over": ("{what} {value_pct}，超过上限 {limit_pct}", "{what}: {value_pct}, above the cap of {limit_pct}"),
    "cap_within": ("{what} {value_pct}，未超过上限 {limit_pct}", "{what}: {value_pct}, within the cap of {limit_pct}"),
    "missing": ("缺少{what}数据，无法判断{missing}", "No data on {what}: cannot be checked{missing}"),
    "prohibited_fail": ("投资工具为{instrument}，属于禁止的投资方式（名股实债、对外担保）",
                        "Instrument: {instrument}, a prohibited form (disguised debt, guarantees)"),
    "prohibited_pass": ("投资工具为{instrument}，不属于禁止的投资方式",
                        "Instrument: {instrument}, not a prohibited form"),
    "ownership_over": ("持股比例 {value_pct}，超过上限 {limit_pct}（不得成为控股股东）",
                       "Ownership {value_pct}, above the cap of {limit_pct} (not a controlling holder)"),
    "ownership_within": ("持股比例 {value_pct}，未超过上限 {limit_pct}",
                         "Ownership {value_pct}, within the cap of {limit_pct}"),
    "coinvest_over": ("跟投金额为子基金领投金额的 {value_x}，超过上限 {limit_x}",
                      "The co-investment is {value_x} the sub-fund's lead amount, above the cap of {limit_x}"),
    "coinvest_within": ("跟投金额为子基金领投金额的 {value_x}，未超过上限 {limit_x}",
                        "The co-investment is {value_x} the sub-fund's lead amount, within the cap of {limit_x}"),
    "age_over": ("投资时企业成立 {years} 年，超过天使投资上限 {limit_years} 年",
                 "The company was {years} years old at investment, above the angel limit of {limit_years} years"),
    "age_within": ("投资时企业成立 {years} 年，未超过天使投资上限 {limit_years} 年",
                   "The company was {years} years old at investment, within the angel limit of {limit_years} years"),
    "headcount_over": ("员工人数 {n} 人，超过天使投资上限 {limit_n} 人",
                       "Headcount {n}, above the angel limit of {limit_n}"),
    "headcount_within": ("员工人数 {n} 人，未超过天使投资上限 {limit_n} 人",
                         "Headcount {n}, within the angel limit of {limit_n}"),
    "size_over": ("{over}，超过天使投资上限 {limit_fen}", "{over}: above the angel limit of {limit_fen}"),
    "size_missing": ("缺少{whats}数据，无法完整判断{missing}", "No data on {whats}: cannot be fully checked{missing}"),
    "size_within": ("年营业收入和资产总额均未超过天使投资上限 {limit_fen}",
                    "Annual revenue and total assets are both within the angel limit of {limit_fen}"),
    "reinvest_missing": ("缺少{whats}数据，无法计算返投倍数{missing}",
                         "No data on {whats}: the reinvestment multiple cannot be computed{missing}"),
    "reinvest_met": ("本地返投 {local_fen}，为本基金实缴 {paid_fen}的 {value_x}，达到要求 {limit_x}",
                     "Local reinvestment {local_fen} is {value_x} the fund's paid-in of {paid_fen}, "
                     "meeting the required {limit_x}"),
    "reinvest_below_no_vintage": ("本地返投 {local_fen}，为本基金实缴 {paid_fen}的 {value_x}，低于要求 {limit_x}；"
                                  "缺少子基金设立年份数据，无法判断{missing}",
                                  "Local reinvestment {local_fen} is {value_x} the fund's paid-in of {paid_fen}, "
                                  "below the required {limit_x}; no data on the sub-fund's vintage year{missing}"),
    "reinvest_below_in_period": ("本地返投 {local_fen}，为本基金实缴 {paid_fen}的 {value_x}，低于要求 {limit_x}，"
                                 "子基金仍在 {period} 年投资期内",
                                 "Local reinvestment {local_fen} is {value_x} the fund's paid-in of {paid_fen}, "
                                 "below the required {limit_x}; the sub-fund is still in its {period}-year "
                                 "investment period"),
    "reinvest_below_after_period": ("本地返投 {local_fen}，为本基金实缴 {paid_fen}的 {value_x}，低于要求 {limit_x}，"
                                    "且子基金 {period} 年投资期已过",
                                    "Local reinvestment {local_fen} is {value_x} the fund's paid-in of {paid_fen}, "
                                    "below the required {limit_x}, and the sub-fund's {period}-year investment "
                                    "period is over"),
}

# the use cases' refusals (FieldErrors), by the same mechanism
if set(TEXTS) & set(ERROR_TEXTS):  # pragma: no cover - one key, one sentence
    raise ValueError(f"keys in both TEXTS and ERROR_TEXTS: {sorted(set(TEXTS) & set(ERROR_TEXTS))}")
TEXTS.update(ERROR_TEXTS)

# the units an amount is typed in (portfolio.money.UNITS), by language
UNIT_NAMES = {"wan": ("万元", "CNY 10k"), "yuan": ("元", "CNY")}
PLACES_WORDS = {2: "两", 6: "六"}


def listed(items: Iterable[Any], lang: str = "zh") -> str:
    """Names one after another as the reader's language lists them: 债权、担保 / Debt, Guarantee
    (a list whose last two are joined by a word, 或 / or, 和 / and, is the sentence's own)."""
    return ("、" if str(lang or "zh").startswith("zh") else ", ").join(str(item) for item in items)


def clauses(items: Iterable[Any], lang: str = "zh") -> str:
    """Sentences one after another in one line, as the reader's language separates them:
    日期晚于今天；出资将超过认缴额 / The date is after today; contributions would exceed…"""
    return ("；" if str(lang or "zh").startswith("zh") else "; ").join(str(item) for item in items)


@lru_cache(maxsize=8192)  # the limits, and many shares, recur in every check
def _pct(ratio) -> str:
    value = float(ratio)
    places = 2 if 0 < abs(value) < 0.01 else 1
    return f"{value * 100:.{places}f}%"


def _refusal_arg(name: str, value: Any, zh: bool, *, codes: bool) -> str | None:
    """The kinds of argument of the use cases' refusals (portfolio/error_texts.py); None
    for any other kind."""
    if name == "state":  # (vocabulary, code)
        from portfolio.vocabulary import label

        return label(value[0], value[1], lang="zh" if zh else "en")
    if name == "decisions":
        from portfolio.vocabulary import label

        return ("、" if zh else " or ").join(label("decision", d, lang="zh" if zh else "en") for d in value)
    if name == "action":  # (code, Chinese name)
        return value[1] if zh else ACTIONS_EN.get(value[0], value[0])
    if name in ("who", "people", "wait_seconds"):
        return _people_arg(name, value, zh)
    if name.endswith("_in_wan"):  # as the form takes it, exactly, without separators
        from portfolio.money import in_unit

        return f"{in_unit(value)} 万元" if zh else f"{in_unit(value)} (CNY 10k)"
    if name == "day" or name.endswith("_day"):
        return value.isoformat() if hasattr(value, "isoformat") else str(value)
    if name.endswith("_wan"):  # exactly, to the fen, with separators: 30,000,000.01 元 → 3,000.000001
        shown = format(Decimal(value).scaleb(-4).normalize(), ",f")
        return f"{shown} 万元" if zh else f"{shown} (CNY 10k)"
    if name == "record":
        return WHAT[value][0 if zh else 1]
    if name == "column_header":  # (code, Chinese header) of a workbook column: in words, as the change-set
        from portfolio.vocabulary import english_field_name  # screen's 列 (interchange.schema.column_named)

        return str(value[1] or value[0]) if zh else english_field_name(str(value[0]))
    if name == "sheet":  # a workbook sheet's code (a doubted row's): by its name, never the code
        from portfolio.vocabulary import label

        return label("entity", str(value), lang="zh" if zh else "en")
    if name in ("table", "tables"):  # a table's code, or a list of them (a restore's refusals): by name, never code
        from portfolio.vocabulary import label

        named = [label("entity", str(table), lang="zh" if zh else "en")
                 for table in ([value] if name == "table" else value)]
        return listed(named, "zh" if zh else "en")
    if name == "unit":
        return UNIT_NAMES[value][0 if zh else 1]
    if name == "places":
        return PLACES_WORDS.get(int(value), str(value)) if zh else str(value)
    if name == "max_whole":
        return f"{Decimal(value):,.0f}"
    return _sentence_arg(name, value, zh, codes=codes)


def _sentence_arg(name: str, value: Any, zh: bool, *, codes: bool) -> str | None:
    """The arguments that are sentences, or names, of their own, in the same language; None
    for any other kind."""
    if name == "choices":  # (vocabulary, codes): the values a coded column takes, each by its name and code
        return _choices(value[0], value[1], zh)
    if name.endswith("_term"):  # (vocabulary, code): a name of portfolio.vocabulary, e.g. a workbook's sheet
        from portfolio.vocabulary import label

        return label(value[0], value[1], lang="zh" if zh else "en")
    if name == "reason":  # a sentence inside another (after a colon): a Message in the same language
        if isinstance(value, Message) and not (zh and codes):
            out = render(value.key, value.args, "zh" if zh else "en", capital=False)
            return out[:1].lower() + out[1:] if not zh and (out[1:2].islower() or out[1:2] == " ") else out
        return str(value)
    if name == "errors":  # (field, sentence) pairs: in Chinese as str(FieldErrors) writes them
        if zh and codes:
            return "; ".join(f"{f}: {m}" if f else m for f, m in value)
        return clauses((render(m.key, m.args, "zh" if zh else "en", capital=False) if isinstance(m, Message)
                        else str(m) for _f, m in value), "zh" if zh else "en")
    if name == "book_error" or name.endswith("_named"):
        return _book_arg(name, value, zh)
    if name in ("doubts", "failures"):  # sentences, each in the same language
        parts = [str(v) if zh and codes else
                 render(v.key, v.args, "zh" if zh else "en", capital=False) if isinstance(v, Message) else str(v)
                 for v in value]
        return clauses(parts, "zh" if zh else "en")
    return None


def _choices(vocabulary: str, codes: Any, zh: bool) -> str:
    """A coded column's values: in Chinese each by its name with its code, as the import takes
    either (科技创新基金（innovation_fund）、天使投资引导基金（angel_guidance）); in English by
    the code, which is what may be typed, with its name (innovation_fund (S&T innovation
    fund), angel_guidance (Angel guidance fund)). A code without a name (CNY): the code."""
    from portfolio.vocabulary import label

    lang = "zh" if zh else "en"
    named = [(str(code), label(vocabulary, str(code), lang=lang)) for code in codes]
    if zh:
        return listed((f"{name}（{code}）" if name != code else code for code, name in named), lang)
    return listed((f"{code} ({name})" if name != code else code for code, name in named), lang)


def _people_arg(name: str, value: Any, zh: bool) -> str:
    """Who and how long: `who` (person, UTC time), `people` a list, `wait_seconds` a wait."""
    if name == "who":  # who wrote a record, and when, in Beijing time
        from portfolio.formatting import local_time

        who, at = value
        shown_at = local_time(at, seconds=False)
        return f"{who} 于 {shown_at}（北京时间）" if zh else f"{who} at {shown_at} (Beijing time)"
    if name == "people":
        return listed(value, "zh" if zh else "en")
    seconds = int(value)  # a wait: seconds, or whole minutes from two on
    if seconds < 120:
        return f"{seconds} 秒" if zh else f"{seconds} seconds"
    return f"{(seconds + 59) // 60} 分钟" if zh else f"{(seconds + 59) // 60} minutes"


def _book_arg(name: str, value: Any, zh: bool) -> str:
    """The kinds of argument of an imported book's errors (portfolio/error_texts.py)."""
    if name == "book_error":  # an error of the book, located (book_error_line)
        return book_error_line(value, "zh" if zh else "en")
    # `*_named`: (name as the workbook writes it, Chinese name): "companies（被投企业）" in
    # Chinese, "companies" in English; a workbook that writes the Chinese name itself: it alone
    if zh and value[1] and value[1] != value[0]:
        return f"{value[0]}（{value[1]}）"
    return str(value[0])


# the rule checks' own arguments, which no refusal's kind takes (`_refusal_arg`, `_sentence_arg`):
# written by their name alone, without going down every kind first (thousands in a report)
_BY_NAME: dict[str, Any] = {
    "value_pct": lambda value, zh: _pct(value),
    "limit_pct": lambda value, zh: _pct(value),
    "value_x": lambda value, zh: f"{float(value):.2f} 倍" if zh else f"{float(value):.2f}x",
    "limit_x": lambda value, zh: f"{float(value):.2f} 倍" if zh else f"{float(value):.2f}x",
    "what": lambda value, zh: WHAT[value][0 if zh else 1],
}


def _arg(name: str, value: Any, zh: bool, *, codes: bool) -> str:
    """One argument written by its kind (the Chinese forms are rules.md's)."""
    by_name = _BY_NAME.get(name)
    if by_name is not None:
        return by_name(value, zh)
    return _arg_by_kind(name, value, zh, codes=codes)


def _arg_by_kind(name: str, value: Any, zh: bool, *, codes: bool) -> str:
    refusal = _refusal_arg(name, value, zh, codes=codes)
    if refusal is not None:
        return refusal
    if name == "missing":  # the field codes: in the JSON's text (rules.md), never on screen
        if not codes or not value:
            return ""
        if zh:
            return "（" + "，".join(f"missing: {f}" for f in value) + "）"
        return " (" + ", ".join(f"missing: {f}" for f in value) + ")"
    if name.endswith("_pct"):
        return _pct(value)
    if name.endswith("_x"):
        return f"{float(value):.2f} 倍" if zh else f"{float(value):.2f}x"
    if name.endswith("_fen_yuan"):  # fen in 元, to the fen, with separators (the GP portal's figures)
        shown = f"{Decimal(int(value)) / Decimal(100):,.2f}"
        return f"{shown} 元" if zh else f"CNY {shown}"
    if name == "notice_ref":  # a call or distribution notice's reference, where it has one
        return "" if not value else (f"，编号 {value}" if zh else f", ref. {value}")
    if name.endswith("_fen"):
        shown = f"{Decimal(int(value)) / Decimal(1_000_000):,.2f}"
        return f"{shown} 万元" if zh else f"{shown} (CNY 10k)"
    if name == "years":
        return f"{float(value):.2f}" if zh else f"{float(value):.1f}"
    if name == "limit_years":
        return f"{Decimal(value):f}"
    if name in ("n", "limit_n", "period"):
        return f"{int(value)}" if zh else f"{int(value):,}"
    if name == "what":
        return WHAT[value][0 if zh else 1]
    if name == "whats":
        return ("、" if zh else " and ").join(WHAT[v][0 if zh else 1] for v in value)
    if name == "over":
        return ("、" if zh else "; ").join(f"{WHAT[k][0 if zh else 1]} {_arg('x_fen', fen, zh, codes=codes)}"
                                          for k, fen in value)
    if name == "instrument":
        from portfolio.vocabulary import label

        return label("instrument", value, lang="zh" if zh else "en")
    return str(value)


# a figure and the limit it is weighed against, by argument name: (value, limit, ×, places zh, places en)
LIMIT_PAIRS = (("value_pct", "limit_pct", 100, 1, 1), ("value_x", "limit_x", 1, 2, 2), ("years", "limit_years", 1, 2, 1))
_UNIT_OF = {"value_pct": ("{}%", "{}%"), "value_x": ("{} 倍", "{}x"), "years": ("{}", "{}")}


def _finer(value: Any, limit: Any, scale: int, places: int) -> str | None:
    """The figure (× scale) with as many more places, up to 8, as make it differ from its limit,
    where at `places` the two read the same but are not ("30.0%，超过上限 30.0%" of 30.05 %);
    None when they read apart already, or are the same to 8 places. Written as `_arg` writes
    them (a float's own rounding), so what is compared is what is read."""
    if (value == limit if type(value) is Decimal and type(limit) is Decimal  # (exactly, as below)
            else Decimal(str(value)) == Decimal(str(limit))):
        return None

    def read(number: Any, n: int) -> str:
        return f"{float(number) * scale:.{n}f}"

    if read(value, places) != read(limit, places):
        return None
    more = next((n for n in range(places + 1, 9) if read(value, n) != read(limit, n)), None)
    return None if more is None else read(value, more)  # the same to 8 places: a float's noise


def _apart_from_limits(shown: dict[str, str], args: dict[str, Any], zh: bool) -> None:
    """A figure over (or within) its limit never reads the same as the limit: more places where
    the usual ones would hide the difference (a committee member reads the sentence, rules.md)."""
    for value_name, limit_name, scale, places_zh, places_en in LIMIT_PAIRS:
        if value_name in args and limit_name in args:
            places = places_zh if zh else places_en
            if value_name == "value_pct" and 0 < abs(float(args[value_name])) < 0.01:
                places = 2  # as _pct writes a share under 1 %
            finer = _finer(args[value_name], args[limit_name], scale, places)
            if finer is not None:
                shown[value_name] = _UNIT_OF[value_name][0 if zh else 1].format(finer)
    if "over" in args and "limit_fen" in args:  # amounts: to the fen where 万元 to two places hide it
        limit = int(args["limit_fen"])
        limit_read = _arg("x_fen", limit, zh, codes=False)
        def read(fen: int) -> str:  # to the fen (`*_wan`, exact yuan) where two places read as the limit
            usual = _arg("x_fen", fen, zh, codes=False)
            return _arg("x_wan", Decimal(fen) / 100, zh, codes=False) if fen != limit and usual == limit_read else usual

        shown["over"] = ("、" if zh else "; ").join(f"{WHAT[k][0 if zh else 1]} {read(fen)}" for k, fen in args["over"])


# the arguments whose Chinese text differs with `codes` (_arg): a Message without any of them
# is shown in Chinese as it was made (a compliance listing shows thousands)
CODED = frozenset({"missing", "reason", "errors", "doubts", "failures"})


def render(key: str, args: dict[str, Any], lang: str = "zh", *, codes: bool = False, capital: bool = True) -> str:
    """The sentence `key` in `lang`; `codes` keeps the `missing: FIELD` part (the JSON's);
    `capital`: an English sentence starts with a capital (not one inside another)."""
    zh = str(lang).startswith("zh")
    text = TEXTS[key][0 if zh else 1]
    shown = {name: _arg(name, value, zh, codes=codes) for name, value in args.items()}
    _apart_from_limits(shown, args, zh)
    if "row_key" in args:  # an import's row by its key, named as the change-set screen names it
        from portfolio.formatting import row_named

        shown["row_key"] = row_named(args["row_key"], str(args.get("sheet", "")), "zh" if zh else "en")
    if "missing" in text and "missing" not in shown:
        shown["missing"] = ""
    out = text.format(**shown)
    return out[:1].upper() + out[1:] if not zh and capital else out


def _chinese(key: str, args: dict[str, Any]) -> str:
    """A Message's own text, `render(key, args, "zh", codes=True)`, kept by its key and
    arguments where these are plain values: a report's thousands of checks repeat many of the
    same sentences (every instrument that is not prohibited, every missing field)."""
    frozen = _frozen(args)
    if frozen is None:
        return render(key, args, "zh", codes=True)
    text = _CHINESE.get((key, frozen))
    if text is None:
        text = render(key, args, "zh", codes=True)
        if len(_CHINESE) >= _CHINESE_KEPT:
            _CHINESE.clear()
        _CHINESE[(key, frozen)] = text
    return text


_CHINESE: dict[tuple, str] = {}
_CHINESE_KEPT = 20_000
_PLAIN = frozenset({str, int, bool, type(None), dt.date})


def _frozen(args: dict[str, Any]) -> tuple | None:
    """The arguments as a key that tells apart any two that could be written differently:
    each value with its type (1, 1.0, True and Decimal 1 are equal, and hash alike, but are
    not written alike), a Decimal by its text (5.0 and 5.00: `limit_years`), a float by its
    bits (-0.0); None for any other kind of value (a Message, a mapping, a time)."""
    out: list[tuple] = []
    for name, value in args.items():
        kind = type(value)
        if kind is str or kind is Decimal:  # most of them: a rule check's what, shares, limits
            out.append((name, kind, value if kind is str else str(value)))
            continue
        exact = _exact(value)
        if exact is None:
            return None
        out.append((name, exact))
    return tuple(out)


def _exact(value: Any) -> tuple | None:
    kind = type(value)
    if kind in _PLAIN:
        return (kind, value)
    if kind is Decimal:
        return (kind, str(value))
    if kind is float:
        return (kind, value.hex())
    if kind is list or kind is tuple:
        parts = tuple(_exact(v) for v in value)
        return None if None in parts else (kind, parts)
    return None


class Message(str):
    """A sentence of the domain: its Chinese text (with `missing: FIELD`, as rules.md
    says) as a str, plus the key and arguments it was made from."""

    key: str
    args: dict[str, Any]

    def __new__(cls, key: str, **args: Any) -> Message:
        made = super().__new__(cls, _chinese(key, args))
        made.key, made.args = key, args
        return made

    def __reduce__(self):
        return (_rebuild, (self.key, self.args))

    def shown(self, lang: str = "zh") -> str:
        """For people: in their language, without the field codes."""
        if str(lang).startswith("zh") and CODED.isdisjoint(self.args):
            return str.__str__(self)  # the Chinese text it was made with: no field codes in it to leave out
        return render(self.key, self.args, lang)


def _rebuild(key: str, args: dict[str, Any]) -> Message:
    return Message(key, **args)


def said_by(error: BaseException) -> str:
    """The sentence an exception carries: the Message it was raised with (its key kept, so
    that it can be shown in any language), else its text."""
    if error.args and isinstance(error.args[0], str):
        return error.args[0]
    return str(error)


def error_shown(message: Any, lang: str = "zh") -> str:
    """A refusal beside a form's field: in Chinese exactly as the use case said it; in
    another language rendered from its key (text that has none stays as it is)."""
    if isinstance(message, Message) and not str(lang).startswith("zh"):
        return message.shown(lang)
    return "" if message is None else str(message)


def shown(message: Any, lang: str = "zh") -> str:
    """Any message as people read it: a Message in `lang`; other text as it is."""
    if isinstance(message, Message):
        return message.shown(lang)
    return "" if message is None else str(message)


def book_error_line(error: Mapping[str, Any], lang: str = "zh") -> str:
    """An error of an imported book in a line (portfolio.interchange.schema.BookError):
    '投资 第3行 投资日期: 2025-13-01 — 不存在的日期', '投资 row 3 投资日期: 2025-13-01 — No such
    date'. `error`: its sheet, row, column, value and message, and the sheet and column as the
    person reads them in each language (`sheet_zh`, `column_zh`, `sheet_en`, `column_en`:
    BookError.located, as the workbook writes them); without those, its sheet and column."""
    zh = str(lang).startswith("zh")
    suffix = "_zh" if zh else "_en"
    sheet = error.get("sheet" + suffix) or error.get("sheet") or ""
    column = error.get("column" + suffix) or error.get("column") or ""
    where = sheet or ("工作簿" if zh else "book")
    if error.get("row"):
        where += f" 第{error['row']}行" if zh else f" row {error['row']}"
    if column:
        where += f" {column}"
    message = error.get("message")
    text = error_shown(message, "zh" if zh else lang)
    value = "" if error.get("value") is None else str(error.get("value"))
    return f"{where}: {value} — {text}" if value != "" else f"{where}: — {text}"


# -- kept as JSON (a staged change set's doubts, a refused upload's errors) and read back --------

def as_json(value: Any) -> Any:
    """A message, or an argument of one, as JSON holds it: a Message as {"key", "args"}, a date
    as ISO text, an amount (Decimal) as text, a tuple as a list; other text as it is."""
    if isinstance(value, Message):
        return {"key": value.key, "args": {name: as_json(v) for name, v in value.args.items()}}
    if isinstance(value, (list, tuple)):
        return [as_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): as_json(v) for k, v in value.items()}
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def from_json(data: Any, text: str | None = None) -> Any:
    """Back from `as_json`: a Message again (its Chinese rendered anew from its key). What has
    no key (text kept before the keys, or a key since retired) is `text`, or as it is."""
    if isinstance(data, Mapping) and set(data) == {"key", "args"}:
        try:
            return Message(str(data["key"]), **{str(n): _from_json_arg(v) for n, v in dict(data["args"]).items()})
        except Exception:  # a key or arguments no longer rendered: the text kept
            return text if text is not None else ""
    if text is not None:
        return text
    return data


def _from_json_arg(value: Any) -> Any:
    if isinstance(value, Mapping) and set(value) == {"key", "args"}:
        return from_json(value)
    if isinstance(value, list):
        return [_from_json_arg(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _from_json_arg(v) for k, v in value.items()}
    return value
