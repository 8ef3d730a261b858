"""The forms of the book screens (WTForms), on one base form.

Amounts and dates are typed fields (web/fields.py): the use cases get Decimal and date
values, and a form shown again keeps exactly what was typed. The use cases
(portfolio/book/records.py) check the business rules and answer with FieldErrors, which
`BaseForm.populate_errors` puts beside their fields — the one way every screen does it."""
from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import replace
from typing import NamedTuple

from flask import abort, flash, request
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from flask_wtf.form import _Auto, _is_submitted
from werkzeug.datastructures import ImmutableMultiDict
from wtforms import HiddenField, PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from models import FLOW_TYPES, INSTRUMENTS, MODES, ROLES, SECTORS, STAGES, VALUATION_METHODS
from portfolio import record_rules
from portfolio.book import tokens, users
from portfolio.commands import (
    CashFlowCommand,
    Command,
    CompanyCommand,
    InvestmentCommand,
    SubFundCommand,
    TokenCommand,
    UserCommand,
    ValuationCommand,
    VoidCommand,
)
from portfolio.errors import FieldErrors
from portfolio.messages import Message, error_shown
from portfolio.record_rules import CODE_LENGTH, CREDIT_CODE_LENGTH, NAME_LENGTH, NOTE_LENGTH, REGION_CODE_LENGTH
from portfolio.vocabulary import label
from web.extensions import db
from web.fields import AmountField, DayField
from web.i18n import PUNCTUATION, current_lang, fund_name


def choices(vocabulary: str, codes, *, blank: bool = False) -> list[tuple[str, str]]:
    out = [("", "—")] if blank else []
    return out + [(code, label(vocabulary, code, lang=current_lang())) for code in codes]


def new_form_key() -> str:
    return secrets.token_urlsafe(24)


# WTForms' own sentences for a choice the form did not offer (a select or check boxes posted
# with a value changed by hand, or one gone since the page was drawn): the multiple select's
# ("'X' is not a valid choice for this field.") has no Chinese in WTForms' catalogue, and
# each echoes what was posted. Every form says the app's sentence instead, in the reader's
# language (ChoiceWords).
NOT_OFFERED = frozenset({
    "Not a valid choice.", "Invalid Choice: could not coerce.",
    "'%(value)s' is not a valid choice for this field.", "'%(value)s' are not valid choices for this field.",
    "Invalid choice(s): one or more data inputs could not be coerced.",
})


# WTForms' sentences the use cases also say, for the same fault, in words of their own: a form
# says the use case's (error_texts), so that a text too long reads the same whichever caught it
# (a form's Length, or the use case behind a form without one). WTForms puts the limit in
# after (`% dict(max=…)`), so the app's sentence keeps its place for it.
APP_SAYS = {
    "This field is required.": Message("required"),
    "Field cannot be longer than %(max)d character.": Message("too_long", max_len="%(max)d"),
}


class ChoiceWords:
    """The translations a form's fields say their sentences with (WTForms' `gettext` and
    `ngettext`): WTForms' own (Flask-WTF's, in the request's language), but a choice not
    offered, a field required and a text too long are the app's sentences (error_texts
    `not_offered`, `required`, `too_long`), as the use cases say them."""

    def __init__(self, inner):
        self.inner = inner

    @staticmethod
    def not_offered() -> str:
        """The app's sentence for a choice not offered, in the reader's language."""
        return Message("not_offered").shown(current_lang())

    def gettext(self, string: str) -> str:
        if string in NOT_OFFERED:
            return self.not_offered()
        if string in APP_SAYS:
            return APP_SAYS[string].shown(current_lang())
        return string if self.inner is None else self.inner.gettext(string)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if singular in NOT_OFFERED:
            return self.not_offered()
        if singular in APP_SAYS:
            return APP_SAYS[singular].shown(current_lang())
        if self.inner is None:
            return singular if n == 1 else plural
        return self.inner.ngettext(singular, plural, n)


class BaseForm(FlaskForm):
    """Every form of the app: typed values out, the use case's errors back in."""

    class Meta:
        def get_translations(self, form):
            """WTForms' sentences, but a choice not offered said as the app says it (ChoiceWords)."""
            return ChoiceWords(super().get_translations(form))

        def wrap_formdata(self, form, formdata):
            """A form's data is what a form sends (url-encoded or multipart), never a JSON body:
            Flask-WTF would read one as the fields, and a number, a list or an object where a
            field takes text had answered 500. A JSON body leaves the form empty: refused as
            missing fields, as any empty post is. (The API reads JSON itself, web/api.py.)"""
            if formdata is _Auto and _is_submitted() and request.is_json and not request.files and not request.form:
                return ImmutableMultiDict()
            return super().wrap_formdata(form, formdata)

    # rendered once, applied at most once (web/once.py, portfolio/book/idempotency.py); not
    # part of any command: the key goes to once.run, never to the use case
    idempotency_key = HiddenField(default=new_form_key)

    # the use case's command (portfolio/commands.py); its fields are the form's, by name
    command: type[Command] | None = None

    def validate(self, extra_validators=None) -> bool:
        """The fields' own checks, and for every field: no control characters typed or pasted
        (record_rules.text_ok: XML cannot hold them, PostgreSQL's text refuses \x00)."""
        ok = super().validate(extra_validators)
        for field in self:
            if not all(record_rules.text_ok(raw) for raw in (field.raw_data or ())):
                field.errors = [*field.errors, record_rules.CONTROL_MESSAGE.shown(current_lang())]
                ok = False
        return ok

    def to_command(self) -> Command:
        """The typed command for the use case (Decimal amounts, dates; no CSRF token)."""
        if self.command is None:
            raise TypeError(f"{type(self).__name__} hands no command to a use case")
        return self.command(**{name: self[name].data for name in self.command.names()})

    def populate_errors(self, errors: FieldErrors) -> list[str]:
        """Put a use case's (field, message) pairs beside their fields; return the messages
        that belong to no field of this form (the caller flashes them)."""
        rest = []
        for field, message in errors.shown(current_lang()):
            if field and field in self:
                self[field].errors = list(self[field].errors) + [message]
            else:
                rest.append(message)
        return rest


def refuse(errors: FieldErrors, form: BaseForm | None = None) -> None:
    """A use case refused: roll the request's session back, show its errors beside the
    form's fields and flash the rest."""
    db.session.rollback()
    rest = form.populate_errors(errors) if form is not None else [m for _f, m in errors.shown(current_lang())]
    for message in rest:
        flash(message, "error")


def checked_too(form: BaseForm, check: Callable[[Command], object]) -> None:
    """A form its own checks refused (a required field left empty, a control character, …): its
    use case's checks as well (`check`: they only, nothing written), so that one submit shows every
    error there is to fix, not the use case's on the next. The use case reads what the form
    accepted (a field it refused as empty); its errors go beside the fields the form left without
    one, and those of no field are flashed."""
    command = form.to_command()
    accepted = replace(command, **{name: None for name in command.names() if form[name].errors})
    refuse_rest(lambda: check(accepted), form)


def refuse_rest(check: Callable[[], object], form: BaseForm) -> None:
    """`check` (a use case's checks, nothing written) on what a form its own checks refused
    accepted: its errors beside the fields the form left without one, those of no field
    flashed (checked_too's step, for a form with no command)."""
    try:
        check()
    except FieldErrors as exc:
        refuse(FieldErrors([(name, message) for name, message in exc.errors
                            if not (name and name in form and form[name].errors)]), form)


class Said(NamedTuple):
    """What a checker's answer flashes once taken: approved, declined, or withdrawn (declined
    by the request's own asker: the same route and use case, and the same audit, as a decline)."""
    approved: str
    declined: str
    withdrawn: str

    def of(self, approve: bool, asker: str | None) -> str:
        if approve:
            return self.approved
        return self.withdrawn if withdrawn_by(asker) else self.declined


def withdrawn_by(asker: str | None) -> bool:
    """A decline by the request's own asker is their withdrawal of it."""
    from web.auth import current_username

    return asker is not None and asker == current_username()


def asker_of(entity: str, key: object) -> str | None:
    """Who asked for the request waiting on `key` of `entity` (a correction, a settings change,
    a new investment, a reopening: pending_corrections), or None when none waits."""
    from portfolio.book.corrections import pending_correction

    waiting = pending_correction(db.session, str(key), entity)
    return waiting.asked_by if waiting is not None else None


def decide(approve: bool, found: bool, approved: Callable[[], object], declined: Callable[[str | None], object], *,
           asker: str | None, said: Said) -> bool:
    """A checker's answer to a request waiting for one (a correction, a change of a fund's
    settings, a new investment, a void, a reopening): `approved()`, or `declined(reason)` with
    the reason typed (its checks are the use case's). `asker`: who asked (read before the
    answer takes the request away), so that their own decline flashes as withdrawn. A missing
    token answers 400, a request for nothing `found` 404; a refusal is flashed, and so is the
    answer taken (`said`). True when the answer was taken."""
    if approve and not ConfirmForm().validate_on_submit():
        abort(400)
    if not found:
        abort(404)
    try:
        if approve:
            approved()
        else:
            declined(request.form.get("reason"))
    except FieldErrors as exc:
        refuse_decline(exc, withdrawing=not approve and withdrawn_by(asker))
        return False
    flash(said.of(approve, asker))
    return True


def refuse_decline(errors: FieldErrors, *, withdrawing: bool = False) -> None:
    """A decline refused (by `decide`, or a void's): like `refuse`, but a reason's error says
    what it is about: one missing (a reason of spaces reads back as none) says a decline needs
    a reason, not a bare 必填; any other names the field (驳回理由：…). `withdrawing`: the
    decline is the asker's own (`withdrawn_by`), and is said as a withdrawal (撤回须填写理由,
    撤回理由：…), as its button and its flash say."""
    db.session.rollback()
    lang = current_lang()
    for field, message in errors.errors:
        key = getattr(message, "key", None)
        if field == "reason" and key in ("required", "reject_needs_reason"):
            needed = Message("withdraw_needs_reason" if withdrawing else "reject_needs_reason")
            flash(error_shown(needed, lang), "error")
        elif field == "reason":
            flash(f"{gettext('撤回理由') if withdrawing else gettext('驳回理由')}{PUNCTUATION['colon']}"
                  f"{error_shown(message, lang)}", "error")
        else:
            flash(error_shown(message, lang), "error")


class InvestmentForm(BaseForm):
    command = InvestmentCommand

    id = StringField(_l("投资编号"), validators=[DataRequired(), Length(max=CODE_LENGTH)])
    fund_code = SelectField(_l("基金"), validators=[DataRequired()])
    mode = SelectField(_l("投资方式"), validators=[DataRequired()])
    target_code = StringField(_l("投资标的代码"), validators=[DataRequired(), Length(max=CODE_LENGTH)],
                              description=_l("子基金投资填子基金代码；直投、跟投填企业代码"),
                              render_kw={"list": "targets", "autocomplete": "off"})
    alongside_code = SelectField(_l("跟投子基金"), validators=[Optional()])
    date = DayField(_l("投资日期"), validators=[InputRequired()])
    commitment_cny = AmountField(_l("认缴/投资金额"), validators=[InputRequired()])
    round = StringField(_l("轮次"), validators=[Optional(), Length(max=CODE_LENGTH)])
    ownership_pct = StringField(_l("持股比例（%）"), validators=[Optional()])
    instrument = SelectField(_l("投资工具"), validators=[Optional()])
    stage = SelectField(_l("投资阶段"), validators=[Optional()])
    headcount = StringField(_l("员工人数"), validators=[Optional()])
    revenue_cny = AmountField(_l("年营业收入"), validators=[Optional()])
    total_assets_cny = AmountField(_l("资产总额"), validators=[Optional()])
    lead_amount_cny = AmountField(_l("领投金额"), validators=[Optional()])
    override_reason = TextAreaField(_l("未通过合规检查时的登记理由"), validators=[Optional(), Length(max=NOTE_LENGTH)])

    def set_choices(self, funds, sub_funds):
        self.fund_code.choices = [(f.code, f"{f.code} {fund_name(f)}") for f in funds]
        self.mode.choices = choices("mode", MODES)
        self.alongside_code.choices = [("", "—")] + [(s.code, f"{s.code} {s.name}") for s in sub_funds]
        self.instrument.choices = choices("instrument", INSTRUMENTS, blank=True)
        self.stage.choices = choices("stage", STAGES, blank=True)


class CashFlowForm(BaseForm):
    command = CashFlowCommand

    investment_id = StringField(_l("投资编号"), validators=[DataRequired(), Length(max=CODE_LENGTH)],
                                render_kw={"list": "investment-ids", "autocomplete": "off"})
    date = DayField(_l("日期"), validators=[InputRequired()])
    type = SelectField(_l("类型"), validators=[DataRequired()])
    amount_cny = AmountField(_l("金额"), validators=[InputRequired()])
    ref = StringField(_l("凭证号"), validators=[Optional(), Length(max=CODE_LENGTH)])
    note = TextAreaField(_l("备注"), validators=[Optional(), Length(max=NOTE_LENGTH)])
    confirm_reason = TextAreaField(_l("确认理由（仅在系统提示核对时填写）"), validators=[Optional(), Length(max=NOTE_LENGTH)])

    def set_choices(self):
        self.type.choices = choices("type", FLOW_TYPES)


class ValuationForm(BaseForm):
    command = ValuationCommand

    investment_id = StringField(_l("投资编号"), validators=[DataRequired(), Length(max=CODE_LENGTH)],
                                render_kw={"list": "investment-ids", "autocomplete": "off"})
    as_of = DayField(_l("估值基准日"), validators=[InputRequired()])
    fair_value_cny = AmountField(_l("公允价值"), validators=[InputRequired()])
    method = SelectField(_l("估值方法"), validators=[DataRequired()])
    confirm_reason = TextAreaField(_l("确认理由（仅在系统提示核对时填写）"), validators=[Optional(), Length(max=NOTE_LENGTH)])

    def set_choices(self):
        self.method.choices = choices("method", VALUATION_METHODS)


class VoidForm(BaseForm):
    command = VoidCommand

    reason = TextAreaField(_l("作废理由"), validators=[DataRequired(), Length(max=NOTE_LENGTH)])


class ConfirmForm(BaseForm):
    """A button-only form (approve, deactivate): just the CSRF token."""


class CompanyForm(BaseForm):
    command = CompanyCommand

    code = StringField(_l("企业代码"), validators=[DataRequired(), Length(max=CODE_LENGTH)])
    name = StringField(_l("企业名称"), validators=[DataRequired(), Length(max=NAME_LENGTH)])
    credit_code = StringField(_l("统一社会信用代码"), validators=[DataRequired(), Length(max=CREDIT_CODE_LENGTH)])
    sector = SelectField(_l("所属领域"), validators=[DataRequired()])
    region_code = StringField(_l("注册地区划代码"), validators=[DataRequired(), Length(max=REGION_CODE_LENGTH)])
    founded = DayField(_l("成立日期"), validators=[Optional()])

    def set_choices(self):
        self.sector.choices = choices("sector", SECTORS)


class SubFundForm(BaseForm):
    command = SubFundCommand

    code = StringField(_l("子基金代码"), validators=[DataRequired(), Length(max=CODE_LENGTH)])
    name = StringField(_l("子基金名称"), validators=[DataRequired(), Length(max=NAME_LENGTH)])
    manager = StringField(_l("管理人"), validators=[DataRequired(), Length(max=NAME_LENGTH)])
    size_cny = AmountField(_l("子基金规模"), validators=[InputRequired()])
    vintage_year = StringField(_l("设立年份"), validators=[DataRequired()])
    sector = SelectField(_l("主投领域"), validators=[DataRequired()])
    region_code = StringField(_l("注册地区划代码"), validators=[DataRequired(), Length(max=REGION_CODE_LENGTH)])
    term_years = StringField(_l("存续期（年）"), validators=[Optional()])

    def set_choices(self):
        self.sector.choices = choices("sector", SECTORS)


class UploadForm(BaseForm):
    book = FileField(_l("台账文件（.xlsx）"), validators=[FileRequired(), FileAllowed(["xlsx"], _l("只接受 .xlsx 文件"))])


class UserForm(BaseForm):
    # a password's other rules (at least 10 characters, not common, not the name) are the use
    # case's, users.password_problems: said with the form's errors on the same submit
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=users.USERNAME_MAX_LEN)])
    display_name = StringField(_l("姓名"), validators=[Optional(), Length(max=users.DISPLAY_NAME_MAX_LEN)])
    role = SelectField(_l("角色"), validators=[DataRequired()])
    password = PasswordField(_l("初始密码"), validators=[DataRequired(), Length(max=users.MAX_PASSWORD_LENGTH)])

    command = UserCommand

    def set_choices(self):
        self.role.choices = choices("role", ROLES)


class RoleForm(BaseForm):
    role = SelectField(_l("角色"), validators=[DataRequired()])

    def set_choices(self):
        self.role.choices = choices("role", ROLES)


class TokenForm(BaseForm):
    name = StringField(_l("用途（调用方系统）"), validators=[DataRequired(), Length(max=tokens.NAME_MAX_LEN)])
    fund_code = SelectField(_l("可读取的基金"), validators=[Optional()])
    # a whole number of days, 1 to tokens.MAX_DAYS: the use case's check (tokens.token_problems)
    days = StringField(_l("有效期（天）"), validators=[DataRequired(), Length(max=20)], default="90")

    command = TokenCommand
