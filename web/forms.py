"""The forms of the book screens (WTForms). Fields are text as typed, so that a form
shown again after an error keeps exactly what was typed; the use cases in
portfolio/records.py parse and check them and answer with FieldErrors."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import PasswordField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from models import FLOW_TYPES, INSTRUMENTS, MODES, ROLES, SECTORS, STAGES, VALUATION_METHODS
from portfolio.vocabulary import label
from web.i18n import current_lang


def choices(vocabulary: str, codes, *, blank: bool = False) -> list[tuple[str, str]]:
    out = [("", "—")] if blank else []
    return out + [(code, label(vocabulary, code, lang=current_lang())) for code in codes]


def apply_errors(form, errors) -> list[str]:
    """Put a use case's FieldErrors beside their fields; return the ones about no field."""
    rest = []
    for field, message in errors.errors:
        if field and field in form:
            form[field].errors = list(form[field].errors) + [message]
        else:
            rest.append(message)
    return rest


def data(form) -> dict:
    """The typed values (without the CSRF token)."""
    return {name: field.data for name, field in form._fields.items() if name != "csrf_token"}


class InvestmentForm(FlaskForm):
    id = StringField(_l("投资编号"), validators=[DataRequired(), Length(max=64)])
    fund_code = SelectField(_l("基金"), validators=[DataRequired()])
    mode = SelectField(_l("投资方式"), validators=[DataRequired()])
    target_code = StringField(_l("投资标的代码"), validators=[DataRequired(), Length(max=64)],
                              description=_l("子基金投资填子基金代码；直投、跟投填企业代码"),
                              render_kw={"list": "targets", "autocomplete": "off"})
    alongside_code = SelectField(_l("跟投子基金"), validators=[Optional()])
    date = StringField(_l("投资日期"), validators=[DataRequired()], render_kw={"type": "date"})
    commitment_cny = StringField(_l("认缴/投资金额（元）"), validators=[DataRequired()])
    round = StringField(_l("轮次"), validators=[Optional(), Length(max=64)])
    ownership_pct = StringField(_l("持股比例（%）"), validators=[Optional()])
    instrument = SelectField(_l("投资工具"), validators=[Optional()])
    stage = SelectField(_l("投资阶段"), validators=[Optional()])
    headcount = StringField(_l("员工人数"), validators=[Optional()])
    revenue_cny = StringField(_l("年营业收入（元）"), validators=[Optional()])
    total_assets_cny = StringField(_l("资产总额（元）"), validators=[Optional()])
    lead_amount_cny = StringField(_l("领投金额（元）"), validators=[Optional()])
    override_reason = TextAreaField(_l("未通过合规检查时的登记理由"), validators=[Optional(), Length(max=2000)])

    def set_choices(self, funds, sub_funds):
        self.fund_code.choices = [(f.code, f"{f.code} {f.name}") for f in funds]
        self.mode.choices = choices("mode", MODES)
        self.alongside_code.choices = [("", "—")] + [(s.code, f"{s.code} {s.name}") for s in sub_funds]
        self.instrument.choices = choices("instrument", INSTRUMENTS, blank=True)
        self.stage.choices = choices("stage", STAGES, blank=True)


class CashFlowForm(FlaskForm):
    investment_id = StringField(_l("投资编号"), validators=[DataRequired(), Length(max=64)],
                                render_kw={"list": "investment-ids", "autocomplete": "off"})
    date = StringField(_l("日期"), validators=[DataRequired()], render_kw={"type": "date"})
    type = SelectField(_l("类型"), validators=[DataRequired()])
    amount_cny = StringField(_l("金额（元）"), validators=[DataRequired()])
    ref = StringField(_l("凭证号"), validators=[Optional(), Length(max=64)])
    note = TextAreaField(_l("备注"), validators=[Optional(), Length(max=2000)])

    def set_choices(self):
        self.type.choices = choices("type", FLOW_TYPES)


class ValuationForm(FlaskForm):
    investment_id = StringField(_l("投资编号"), validators=[DataRequired(), Length(max=64)],
                                render_kw={"list": "investment-ids", "autocomplete": "off"})
    as_of = StringField(_l("估值基准日"), validators=[DataRequired()], render_kw={"type": "date"})
    fair_value_cny = StringField(_l("公允价值（元）"), validators=[DataRequired()])
    method = SelectField(_l("估值方法"), validators=[DataRequired()])

    def set_choices(self):
        self.method.choices = choices("method", VALUATION_METHODS)


class VoidForm(FlaskForm):
    reason = TextAreaField(_l("作废理由"), validators=[DataRequired(), Length(max=2000)])


class ConfirmForm(FlaskForm):
    """A button-only form (approve, deactivate): just the CSRF token."""


class CompanyForm(FlaskForm):
    code = StringField(_l("企业代码"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("企业名称"), validators=[DataRequired(), Length(max=200)])
    credit_code = StringField(_l("统一社会信用代码"), validators=[DataRequired(), Length(max=18)])
    sector = SelectField(_l("所属领域"), validators=[DataRequired()])
    region_code = StringField(_l("注册地区划代码"), validators=[DataRequired(), Length(max=6)])
    founded = StringField(_l("成立日期"), validators=[Optional()], render_kw={"type": "date"})

    def set_choices(self):
        self.sector.choices = choices("sector", SECTORS)


class SubFundForm(FlaskForm):
    code = StringField(_l("子基金代码"), validators=[DataRequired(), Length(max=64)])
    name = StringField(_l("子基金名称"), validators=[DataRequired(), Length(max=200)])
    manager = StringField(_l("管理人"), validators=[DataRequired(), Length(max=200)])
    size_cny = StringField(_l("子基金规模（元）"), validators=[DataRequired()])
    vintage_year = StringField(_l("设立年份"), validators=[DataRequired()])
    sector = SelectField(_l("主投领域"), validators=[DataRequired()])
    region_code = StringField(_l("注册地区划代码"), validators=[DataRequired(), Length(max=6)])
    term_years = StringField(_l("存续期（年）"), validators=[Optional()])

    def set_choices(self):
        self.sector.choices = choices("sector", SECTORS)


class UploadForm(FlaskForm):
    book = FileField(_l("台账文件（.xlsx）"), validators=[FileRequired(), FileAllowed(["xlsx"], _l("只接受 .xlsx 文件"))])


class UserForm(FlaskForm):
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=64)])
    display_name = StringField(_l("姓名"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("角色"), validators=[DataRequired()])
    password = PasswordField(_l("初始密码"), validators=[DataRequired(), Length(min=8, max=200)])

    def set_choices(self):
        self.role.choices = choices("role", ROLES)


class RoleForm(FlaskForm):
    role = SelectField(_l("角色"), validators=[DataRequired()])

    def set_choices(self):
        self.role.choices = choices("role", ROLES)
