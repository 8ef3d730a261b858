"""The committee screens' forms, on the app's BaseForm (web/forms.py): amounts and dates
typed (web/fields.py), everything else text the use cases (portfolio/committee/) check."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from models import DECISIONS, INSTRUMENTS, MODES, SECTORS, STAGES, VOTE_CHOICES
from portfolio.commands import FundingCommand, MeetingCommand, ProposalCommand
from portfolio.committee.decisions import CONDITIONS_MAX_LEN
from portfolio.committee.meetings import RECUSAL_REASON_MAX_LEN, VOTE_COMMENT_MAX_LEN
from portfolio.record_rules import CODE_LENGTH, CREDIT_CODE_LENGTH, LONG_TEXT_LENGTH, NAME_LENGTH, NOTE_LENGTH, REGION_CODE_LENGTH
from web.fields import AmountField, DayField
from web.forms import BaseForm, choices
from web.i18n import fund_name

TEXT = [Optional(), Length(max=LONG_TEXT_LENGTH)]


class ProposalForm(BaseForm):
    command = ProposalCommand

    title = StringField(_l("项目名称"), validators=[Optional(), Length(max=NAME_LENGTH)])
    fund_code = SelectField(_l("基金"), validators=[DataRequired()])
    mode = SelectField(_l("投资方式"), validators=[DataRequired()])
    target_code = StringField(_l("投资标的代码"), validators=[DataRequired(), Length(max=CODE_LENGTH)],
                              description=_l("子基金投资填子基金代码；直投、跟投填企业代码"))
    new_target = BooleanField(_l("新标的（尚未登记）"))
    target_name = StringField(_l("标的名称"), validators=[Optional(), Length(max=NAME_LENGTH)])
    target_credit_code = StringField(_l("统一社会信用代码"), validators=[Optional(), Length(max=CREDIT_CODE_LENGTH)])
    target_sector = SelectField(_l("行业"), validators=[Optional()])
    target_region_code = StringField(_l("行政区划代码"), validators=[Optional(), Length(max=REGION_CODE_LENGTH)])
    target_founded = DayField(_l("成立日期"), validators=[Optional()])
    target_manager = StringField(_l("管理人"), validators=[Optional(), Length(max=NAME_LENGTH)])
    target_size_cny = AmountField(_l("子基金规模"), validators=[Optional()])
    target_vintage_year = StringField(_l("设立年份"), validators=[Optional()])
    alongside_code = SelectField(_l("跟投子基金"), validators=[Optional()])
    planned_date = DayField(_l("计划投资日期"), validators=[InputRequired()])
    amount_cny = AmountField(_l("投资金额"), validators=[InputRequired()])
    first_call_cny = AmountField(_l("首期出资"), validators=[Optional()],
                                 description=_l("敞口与合规的模拟按投资金额全额计算；出资预测从首期出资起算（留空：直投、跟投按全额，子基金按模型）"))
    pre_money_cny = AmountField(_l("投前估值"), validators=[Optional()])
    post_money_cny = AmountField(_l("投后估值"), validators=[Optional()])
    instrument = SelectField(_l("投资工具"), validators=[Optional()])
    round = StringField(_l("轮次"), validators=[Optional(), Length(max=CODE_LENGTH)])
    stage = SelectField(_l("投资阶段"), validators=[Optional()])
    ownership_pct = StringField(_l("投后持股比例（%）"), validators=[Optional()])
    lead_name = StringField(_l("领投方"), validators=[Optional(), Length(max=NAME_LENGTH)])
    lead_amount_cny = AmountField(_l("领投金额"), validators=[Optional()])
    headcount = StringField(_l("员工人数"), validators=[Optional()])
    revenue_cny = AmountField(_l("年营业收入"), validators=[Optional()])
    total_assets_cny = AmountField(_l("资产总额"), validators=[Optional()])
    thesis = TextAreaField(_l("投资逻辑"), validators=TEXT)
    market = TextAreaField(_l("市场分析"), validators=TEXT)
    team = TextAreaField(_l("团队"), validators=TEXT)
    risks = TextAreaField(_l("主要风险"), validators=TEXT)
    valuation_method = TextAreaField(_l("估值方法"), validators=TEXT)
    comparables = TextAreaField(_l("可比公司/可比交易"), validators=TEXT)
    bear_case = TextAreaField(_l("悲观情形"), validators=TEXT)
    bear_moic = StringField(_l("悲观 MOIC（倍）"), validators=[Optional()])
    bear_irr = StringField(_l("悲观 IRR（%）"), validators=[Optional()])
    base_case = TextAreaField(_l("基准情形"), validators=TEXT)
    base_moic = StringField(_l("基准 MOIC（倍）"), validators=[Optional()])
    base_irr = StringField(_l("基准 IRR（%）"), validators=[Optional()])
    bull_case = TextAreaField(_l("乐观情形"), validators=TEXT)
    bull_moic = StringField(_l("乐观 MOIC（倍）"), validators=[Optional()])
    bull_irr = StringField(_l("乐观 IRR（%）"), validators=[Optional()])

    def set_choices(self, funds, sub_funds):
        self.fund_code.choices = [(f.code, f"{f.code} {fund_name(f)}") for f in funds]
        self.mode.choices = choices("mode", MODES)
        self.alongside_code.choices = [("", "—")] + [(s.code, f"{s.code} {s.name}") for s in sub_funds]
        self.instrument.choices = choices("instrument", INSTRUMENTS, blank=True)
        self.stage.choices = choices("stage", STAGES, blank=True)
        self.target_sector.choices = choices("sector", SECTORS, blank=True)


class ConfirmForm(BaseForm):
    """A button that changes state (CSRF-protected)."""


class AttachmentForm(BaseForm):
    file = FileField(_l("尽调文件（pdf、docx、xlsx、png、jpg）"), validators=[FileRequired()])


class ScheduleForm(BaseForm):
    meeting_id = SelectField(_l("会议"), validators=[DataRequired()])


class MeetingForm(BaseForm):
    command = MeetingCommand

    fund_code = SelectField(_l("基金"), validators=[DataRequired()])
    date = DayField(_l("会议日期"), validators=[InputRequired()])
    title = StringField(_l("会议名称"), validators=[Optional(), Length(max=NAME_LENGTH)])


class AttendanceForm(BaseForm):
    present = SelectMultipleField(_l("出席委员"), validators=[Optional()], widget=ListWidget(prefix_label=False),
                                  option_widget=CheckboxInput())


class VoteForm(BaseForm):
    choice = SelectField(_l("表决意见"), validators=[DataRequired()])
    comment = TextAreaField(_l("意见说明"), validators=[Optional(), Length(max=VOTE_COMMENT_MAX_LEN)])

    def set_choices(self):
        self.choice.choices = choices("vote", VOTE_CHOICES)


class RecusalForm(BaseForm):
    member = SelectField(_l("委员"), validators=[Optional()])
    reason = TextAreaField(_l("利益冲突说明"), validators=[DataRequired(), Length(max=RECUSAL_REASON_MAX_LEN)])


class DecisionForm(BaseForm):
    decision = SelectField(_l("决议"), validators=[DataRequired()])
    conditions = TextAreaField(_l("通过条件"), validators=[Optional(), Length(max=CONDITIONS_MAX_LEN)])

    def set_choices(self, allowed):
        self.decision.choices = choices("decision", [d for d in DECISIONS if d in allowed])


class FundingForm(BaseForm):
    command = FundingCommand

    date = DayField(_l("出资日期"), validators=[InputRequired()])
    amount_cny = AmountField(_l("出资金额"), validators=[InputRequired()])
    ref = StringField(_l("凭证号"), validators=[Optional(), Length(max=CODE_LENGTH)])
    note = TextAreaField(_l("备注"), validators=[Optional(), Length(max=NOTE_LENGTH)])
    confirm_reason = TextAreaField(_l("确认理由（仅在系统提示核对时填写）"), validators=[Optional(), Length(max=NOTE_LENGTH)])
