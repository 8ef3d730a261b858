"""The book's vocabularies with their Chinese names, and code checks."""
from __future__ import annotations

from codelists import FLOW_TYPES, FUND_KINDS, INSTRUMENTS, MODES, ROLES, SECTORS, STAGES, VALUATION_METHODS

__all__ = [
    "FLOW_TYPES", "FUND_KINDS", "INSTRUMENTS", "MODES", "ROLES", "SECTORS", "STAGES",
    "VALUATION_METHODS", "LABELS", "label", "english_field_name", "credit_code_is_valid",
]

LABELS: dict[str, dict[str, str]] = {
    "sector": {"materials": "先进材料", "life_health": "生命健康", "robotics": "机器人和高端装备",
               "dual_carbon": "双碳科技", "digital": "数字创新", "other": "其他"},
    "mode": {"sub_fund": "子基金", "direct": "直投", "co_invest": "跟投"},
    "kind": {"innovation_fund": "科技创新基金", "angel_guidance": "天使投资引导基金",
             "industry_guidance": "产业引导基金", "other": "其他"},
    "instrument": {"equity": "股权", "convertible": "可转债", "preferred": "优先股",
                   "debt": "债权", "guarantee": "担保"},
    "stage": {"seed": "种子期", "startup": "初创期", "growth": "成长期", "mature": "成熟期"},
    "type": {"contribution": "出资", "distribution": "分配"},
    "method": {"gp_nav": "管理人报告净值", "last_round": "最近融资价格", "comparables": "可比公司法",
               "dcf": "现金流折现", "cost": "成本法", "write_off": "核销", "exited": "已退出"},
    "role": {"admin": "管理员", "manager": "基金经理", "committee": "投委会委员", "viewer": "只读",
             "gp": "子基金管理人"},
    "region": {"local": "本地", "outside": "外地"},
    # the result of a rule check (rules.md): one word each, on every screen and report
    "check_status": {"pass": "通过", "warn": "提示", "fail": "不通过"},
    # the rule checks of rules.md
    "rule": {"subfund_share_cap": "子基金认缴比例上限", "direct_share_cap": "直投跟投比例上限",
             "single_company_cap": "单一企业投资上限", "ownership_cap": "持股比例上限",
             "subfund_single_company_cap": "子基金单一企业上限", "reinvestment_multiple": "返投倍数",
             "angel_company_age": "天使：企业成立年限", "angel_headcount": "天使：员工人数",
             "angel_company_size": "天使：企业规模", "coinvest_lead_ratio": "跟投不超过领投",
             "prohibited_instrument": "禁止的投资工具"},
    # the audit trail (修改历史): what was done, to what, and the fields not in the workbook
    "audit_action": {"create": "新增", "update": "修改", "void": "作废", "approve": "审批", "import": "导入",
                     "request_void": "申请作废", "reject_void": "驳回作废申请",
                     "request_correction": "申请更正", "reject_correction": "驳回更正申请",
                     "import_update": "导入更新", "deactivate": "停用", "link": "关联投资", "vote": "表决",
                     "recuse": "回避", "attach": "上传附件", "attendance": "登记出席", "submit": "提交",
                     "schedule": "排会", "decide": "作出决议", "withdraw": "撤回", "edit": "修改",
                     "password": "修改密码", "password_reset": "重置密码", "lock": "锁定账户",
                     "save": "保存", "upload": "上传", "resubmit": "重新提交", "return": "退回", "review": "复核",
                     "accept": "接受", "request_reopen": "申请重新打开", "reject_reopen": "驳回重新打开申请",
                     "reopen": "重新打开"},
    "entity": {"investments": "投资", "cash_flows": "现金流", "valuations": "估值", "companies": "企业",
               "sub_funds": "子基金", "funds": "基金", "users": "用户", "sub_fund_holdings": "子基金投资明细",
               "funds.settings": "基金设置", "index_levels": "指数点位", "proposals": "投委会提案",
               "meetings": "投委会会议", "votes": "表决", "recusals": "回避", "resolutions": "投委会决议",
               "proposal_attachments": "提案附件",
               "gp_packages": "管理人季度报告", "gp_sub_funds": "管理人子基金"},
    "field": {"voided_at": "作废时间", "voided_by": "作废人", "void_reason": "作废理由", "entered_by": "录入人",
              "void_requested_by": "作废申请人", "void_requested_at": "作废申请时间",
              "approved_by": "审批人", "approved_at": "审批时间", "settings": "基金设置", "username": "用户名",
              "display_name": "姓名", "role": "角色", "active": "启用", "created_at": "创建时间",
              "compliance_failures": "未通过的合规检查", "level": "指数点位", "status": "状态",
              "decision": "决议", "conditions": "通过条件", "choice": "表决意见", "comment": "意见说明",
              "member": "委员", "reason": "理由",
              # the committee's proposals and meetings (tables outside the workbook)
              "title": "标题", "fund_code": "基金代码", "mode": "投资方式", "target_code": "投资标的",
              "alongside_code": "跟投子基金", "amount_cny": "投资金额", "first_call_cny": "首期出资",
              "planned_date": "计划投资日期", "pre_money_cny": "投前估值", "post_money_cny": "投后估值",
              "ownership_pct": "投后持股比例", "lead_name": "领投方", "lead_amount_cny": "领投金额",
              "valuation_method": "估值方法", "comparables": "可比公司", "thesis": "投资逻辑", "market": "市场",
              "team": "团队", "risks": "主要风险", "base_case": "基准情形", "base_moic": "基准情形 MOIC",
              "base_irr": "基准情形 IRR", "bull_case": "乐观情形", "bull_moic": "乐观情形 MOIC",
              "bull_irr": "乐观情形 IRR", "bear_case": "悲观情形", "bear_moic": "悲观情形 MOIC",
              "bear_irr": "悲观情形 IRR", "new_target": "新标的", "proposer": "提案人", "submitted_at": "提交时间",
              "meeting_id": "会议", "decided_at": "决议时间", "decided_by": "决议人", "investment_id": "投资编号",
              "withdrawn_at": "撤回时间", "withdrawn_by": "撤回人", "created_by": "创建人", "date": "日期",
              "proposal_id": "提案", "instrument": "投资工具", "stage": "投资阶段", "sector": "行业",
              "present": "出席", "kind": "类型", "original_name": "文件名", "size_bytes": "大小（字节）",
              "uploaded_by": "上传人", "declared_by": "登记人", "cast_at": "表决时间", "name": "名称",
              "expires_at": "到期时间", "revoked_at": "吊销时间", "uses": "使用次数", "tally": "表决结果",
              "attendance": "出席情况",
              # a proposal's angel-eligibility inputs
              "founded": "成立日期", "headcount": "员工人数", "revenue_cny": "年营业收入",
              "total_assets_cny": "资产总额"},
    # the investment committee (portfolio/committee.py)
    "proposal_status": {"draft": "草稿", "submitted": "已提交", "scheduled": "已排会", "decided": "已决议",
                        "withdrawn": "已撤回"},
    "decision": {"approved": "通过", "approved_with_conditions": "附条件通过", "rejected": "否决",
                 "deferred": "暂缓"},
    "vote": {"approve": "同意", "reject": "反对", "abstain": "弃权"},
    # the GP portal (portfolio/gp): a package's status, its steps and the tie-out's checks
    "gp_status": {"draft": "草稿", "submitted": "已提交", "returned": "已退回", "reviewed": "已复核",
                  "accepted": "已接受"},
    "gp_action": {"save": "保存", "upload": "上传", "submit": "提交", "resubmit": "重新提交", "return": "退回",
                  "review": "复核", "accept": "接受", "reopen": "重新打开"},
    "gp_check_status": {"blocking": "阻断", "warning": "提示", "passed": "通过"},
    "gp_check": {"amounts_sign": "金额正负", "rollforward_nav": "净资产滚动勾稽", "rollforward_unfunded": "未缴出资滚动勾稽",
                 "recallable_vs_distributions": "可召回分配不超过本季度分配",
                 "unfunded_within_commitment": "期末未缴出资不超过认缴出资额",
                 "quarter_order": "未接受过更晚季度的报告", "holdings_vs_schedule": "投资明细与台账中子基金的明细一致",
                 "opening_nav": "期初净资产 = 上期期末", "opening_unfunded": "期初未缴出资 = 上期期末",
                 "commitment": "认缴出资额与台账一致", "notices_vs_account": "通知书合计 = 资本账户",
                 "ledger_contributions": "实缴出资与台账一致", "ledger_distributions": "分配与台账一致",
                 "notices_matched": "通知书逐笔匹配台账", "unfunded_vs_ledger": "未缴出资 = 认缴 − 台账实缴",
                 "holdings_vs_nav": "持仓公允价值与净资产相符", "dates_in_quarter": "日期在本季度内",
                 "credit_codes": "统一社会信用代码有效", "duplicate_in_schedule": "明细中企业不重复",
                 "duplicate_by_name": "企业未以其他代码重复登记", "company_name": "企业名称与台账一致",
                 "sectors": "行业已知", "regions": "行政区划已知", "methods": "估值方法已知",
                 "nav_move": "净资产季度变动合理", "mark_unchanged": "估值连续 4 个季度未变",
                 "method_to_cost": "估值方法改为成本法", "left_without_exit": "企业未退出即移出明细"},
    # the GP quarterly package workbook (portfolio/gp/template.py): its sheets, columns and capital-account lines
    "gp_sheet": {"info": "基本信息", "account": "资本账户", "holdings": "投资明细", "notices": "出资与分配",
                 "projection": "未来预测"},
    "gp_column": {"item": "项目", "amount": "金额", "name": "企业名称", "cost": "投资成本", "fair_value": "公允价值",
                  "date": "日期", "type": "类型", "calls": "预计出资", "distributions": "预计分配",
                  "investment_id": "投资编号", "quarter_end": "报告期末日期", "narrative": "情况说明",
                  "ref": "通知书编号", "credit_code": "统一社会信用代码", "sector": "所属行业",
                  "region_code": "注册地行政区划代码", "method": "估值方法", "quarter": "季度"},
    "gp_account": {"opening_nav": "期初净资产", "contributions": "本期实缴出资", "distributions": "本期分配",
                   "management_fees": "管理费", "other_income_expenses": "其他收入与费用（净额，费用为负）",
                   "realised_gain": "已实现收益", "unrealised_gain": "未实现收益（公允价值变动）",
                   "closing_nav": "期末净资产", "commitment": "认缴出资额", "opening_unfunded": "期初未缴出资",
                   "recallable_distributions": "可循环调用的分配", "closing_unfunded": "期末未缴出资"},
    # the figures whose shape the engine decides (periodic returns, PME): their names
    "figure": {"quarterly_irr": "按季度现金流的 IRR（年化）", "mirr": "修正内部收益率 MIRR（年化）",
               "irr": "内部收益率 IRR", "ks_pme": "KS-PME（倍数）", "ln_pme": "Long–Nickels PME（年化）",
               "ln_pme_nav": "LN-PME 期末净值（万元）", "direct_alpha": "Direct Alpha（年化）",
               "index_start": "指数起始日", "index_level_as_of": "截至日指数点位", "index": "比较指数"},
}

LABELS_EN: dict[str, dict[str, str]] = {
    "sector": {"materials": "Advanced materials", "life_health": "Life & health",
               "robotics": "Robotics & high-end equipment", "dual_carbon": "Dual-carbon tech",
               "digital": "Digital innovation", "other": "Other"},
    "mode": {"sub_fund": "Sub-fund", "direct": "Direct", "co_invest": "Co-investment"},
    "kind": {"innovation_fund": "S&T innovation fund", "angel_guidance": "Angel guidance fund",
             "industry_guidance": "Industry guidance fund", "other": "Other"},
    "instrument": {k: k.capitalize() for k in INSTRUMENTS},
    "stage": {k: k.capitalize() for k in STAGES},
    "type": {"contribution": "Contribution", "distribution": "Distribution"},
    "method": {"gp_nav": "GP-reported NAV", "last_round": "Last round", "comparables": "Comparables",
               "dcf": "DCF", "cost": "Cost", "write_off": "Write-off", "exited": "Exited"},
    "role": {"admin": "Admin", "manager": "Manager", "committee": "Committee member", "viewer": "Viewer",
             "gp": "Sub-fund manager (GP)"},
    "region": {"local": "Local", "outside": "Outside"},
    "check_status": {"pass": "Pass", "warn": "Warning", "fail": "Fail"},
    "rule": {"subfund_share_cap": "Sub-fund share cap", "direct_share_cap": "Direct share cap",
             "single_company_cap": "Single company cap", "ownership_cap": "Ownership cap",
             "subfund_single_company_cap": "Sub-fund single company cap",
             "reinvestment_multiple": "Reinvestment multiple", "angel_company_age": "Angel: company age",
             "angel_headcount": "Angel: headcount", "angel_company_size": "Angel: company size",
             "coinvest_lead_ratio": "Co-investment within lead", "prohibited_instrument": "Prohibited instruments"},
    "audit_action": {"create": "Create", "update": "Update", "void": "Void", "approve": "Approve",
                     "request_void": "Ask to void", "reject_void": "Decline a void",
                     "request_correction": "Ask to correct", "reject_correction": "Decline a correction",
                     "import": "Import", "import_update": "Import (update)", "deactivate": "Deactivate",
                     "link": "Link investment", "vote": "Vote", "recuse": "Recuse", "attach": "Attach file",
                     "attendance": "Attendance", "submit": "Submit", "schedule": "Schedule", "decide": "Decide",
                     "withdraw": "Withdraw", "edit": "Edit", "password": "Change password",
                     "password_reset": "Reset password", "lock": "Lock account",
                     "save": "Save", "upload": "Upload", "resubmit": "Resubmit", "return": "Return",
                     "review": "Review", "accept": "Accept", "request_reopen": "Ask to reopen",
                     "reject_reopen": "Decline a reopening", "reopen": "Reopen"},
    "entity": {"investments": "Investment", "cash_flows": "Cash flow", "valuations": "Valuation",
               "companies": "Company", "sub_funds": "Sub-fund", "funds": "Fund", "users": "User",
               "sub_fund_holdings": "Sub-fund holding", "funds.settings": "Fund settings",
               "index_levels": "Index level", "proposals": "Proposal", "meetings": "Meeting", "votes": "Vote",
               "recusals": "Recusal", "resolutions": "Committee resolution",
               "proposal_attachments": "Proposal attachment",
               "gp_packages": "GP quarterly package", "gp_sub_funds": "GP's sub-fund"},
    "proposal_status": {"draft": "Draft", "submitted": "Submitted", "scheduled": "Scheduled",
                        "decided": "Decided", "withdrawn": "Withdrawn"},
    "decision": {"approved": "Approved", "approved_with_conditions": "Approved with conditions",
                 "rejected": "Rejected", "deferred": "Deferred"},
    "vote": {"approve": "Approve", "reject": "Reject", "abstain": "Abstain"},
    "gp_status": {"draft": "Draft", "submitted": "Submitted", "returned": "Returned", "reviewed": "Reviewed",
                  "accepted": "Accepted"},
    "gp_action": {"save": "Save", "upload": "Upload", "submit": "Submit", "resubmit": "Resubmit", "return": "Return",
                  "review": "Review", "accept": "Accept", "reopen": "Reopen"},
    "gp_check_status": {"blocking": "Blocking", "warning": "Warning", "passed": "Passed"},
    "gp_check": {"amounts_sign": "Signs of amounts", "rollforward_nav": "NAV roll-forward adds up",
                 "rollforward_unfunded": "Unfunded roll-forward adds up",
                 "recallable_vs_distributions": "Recallable ≤ the quarter's distributions",
                 "unfunded_within_commitment": "Closing unfunded ≤ commitment",
                 "quarter_order": "No later quarter accepted already",
                 "holdings_vs_schedule": "Holdings as in the sub-fund's schedule in the book",
                 "opening_nav": "Opening NAV = last closing", "opening_unfunded": "Opening unfunded = last closing",
                 "commitment": "Commitment as booked", "notices_vs_account": "Notices = capital account",
                 "ledger_contributions": "Contributions as booked", "ledger_distributions": "Distributions as booked",
                 "notices_matched": "Each notice matched in the ledger",
                 "unfunded_vs_ledger": "Unfunded = commitment − paid-in per ledger",
                 "holdings_vs_nav": "Holdings consistent with NAV", "dates_in_quarter": "Dates inside the quarter",
                 "credit_codes": "Credit codes valid", "duplicate_in_schedule": "No company twice in the schedule",
                 "duplicate_by_name": "No company duplicated under another code",
                 "company_name": "Company names as in the book", "sectors": "Sectors known",
                 "regions": "Regions known", "methods": "Valuation methods known",
                 "nav_move": "Plausible NAV move", "mark_unchanged": "Mark unchanged for 4 quarters",
                 "method_to_cost": "Method changed to cost", "left_without_exit": "Left the schedule without exit"},
    "gp_sheet": {"info": "General", "account": "Capital account", "holdings": "Holdings",
                 "notices": "Calls and distributions", "projection": "Projection"},
    "gp_column": {"item": "Item", "amount": "Amount", "name": "Company name", "cost": "Cost",
                  "fair_value": "Fair value", "date": "Date", "type": "Type", "calls": "Expected calls",
                  "distributions": "Expected distributions", "investment_id": "Investment ID",
                  "quarter_end": "Period end", "narrative": "Narrative", "ref": "Notice reference",
                  "credit_code": "Unified social credit code", "sector": "Sector", "region_code": "Region code",
                  "method": "Valuation method", "quarter": "Quarter"},
    "gp_account": {"opening_nav": "Opening NAV", "contributions": "Contributions", "distributions": "Distributions",
                   "management_fees": "Management fees",
                   "other_income_expenses": "Other income and expenses (net; expenses negative)",
                   "realised_gain": "Realised gain", "unrealised_gain": "Unrealised gain (change in fair value)",
                   "closing_nav": "Closing NAV", "commitment": "Commitment", "opening_unfunded": "Opening unfunded",
                   "recallable_distributions": "Recallable distributions", "closing_unfunded": "Closing unfunded"},
    "figure": {"quarterly_irr": "IRR of quarterly flows (annualised)", "mirr": "Modified IRR (annualised)",
               "irr": "IRR", "ks_pme": "KS-PME (multiple)", "ln_pme": "Long–Nickels PME (annualised)",
               "ln_pme_nav": "LN-PME ending NAV (CNY 10k)", "direct_alpha": "Direct Alpha (annualised)",
               "index_start": "Index start", "index_level_as_of": "Index level at as-of date", "index": "Index"},
}


# English names shorter than the full ones, for a fixed-width listing with no room for the
# whole (the quarterly PDF's long schedule: web.reports.LISTING_WIDTHS); a code without one
# keeps its name there. The Chinese names all fit.
SHORT_EN: dict[str, dict[str, str]] = {
    "sector": {"robotics": "Robotics & equipment"},
}


def label(vocabulary: str, code: str | None, *, lang: str = "zh", short: bool = False) -> str:
    """The display name of a code, or the code itself when it has none; `short`: its short
    English name (SHORT_EN) where it has one."""
    if code is None:
        return ""
    if lang.startswith("zh"):
        return LABELS.get(vocabulary, {}).get(code, code)
    if short and code in SHORT_EN.get(vocabulary, {}):
        return SHORT_EN[vocabulary][code]
    return LABELS_EN.get(vocabulary, {}).get(code, code)


def english_field_name(field: str) -> str:
    """A field or workbook column named in English from its code, where no label gives it:
    amount_cny → "Amount (CNY)", ownership_pct → "Ownership (%)" (the history, the change-set
    preview and an import's doubts alike: schema.column_named)."""
    text = field.replace("_cny", " (CNY)").replace("_pct", " (%)").replace("_", " ")
    return text[:1].upper() + text[1:]  # (CNY) kept in capitals


# GB 32100-2015: the 31 characters of the code's alphabet (no I, O, S, V, Z) and the
# weights of positions 1–17; the 18th character is the check character.
_CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def credit_code_check_char(first17: str) -> str:
    total = sum(_CREDIT_ALPHABET.index(c) * w for c, w in zip(first17, _CREDIT_WEIGHTS))
    return _CREDIT_ALPHABET[(31 - total % 31) % 31]


def credit_code_is_valid(code: str) -> bool:
    """True for an 18-character 统一社会信用代码 whose check character is right."""
    if not isinstance(code, str) or len(code) != 18:
        return False
    if any(c not in _CREDIT_ALPHABET for c in code):
        return False
    return credit_code_check_char(code[:17]) == code[17]


# staged imports (portfolio/interchange/staging.py): the change set's words, zh and en
LABELS["audit_action"].update({"stage": "暂存导入", "apply": "批准导入", "reject": "驳回"})
LABELS["entity"]["change_sets"] = "导入变更集"
LABELS["change_set_status"] = {"pending": "待审批", "applied": "已应用", "rejected": "已驳回"}
LABELS_EN["audit_action"].update({"stage": "Stage import", "apply": "Apply import", "reject": "Reject"})
LABELS_EN["entity"]["change_sets"] = "Import change set"
LABELS["field"].update({"filename": "文件名", "counts": "各工作表行数", "conflicts": "冲突行数",
                         "base_version": "导出时的台账版本", "choices": "冲突处理", "kept": "保留现值的行"})
LABELS_EN["change_set_status"] = {"pending": "Pending approval", "applied": "Applied", "rejected": "Rejected"}

# backup and restore (portfolio/book/backup.py): the restore's own entry in the audit trail
LABELS["audit_action"]["restore"], LABELS_EN["audit_action"]["restore"] = "恢复备份", "Restore backup"
LABELS["entity"]["backup"], LABELS_EN["entity"]["backup"] = "备份", "Backup"
# pruning (portfolio/book/pruning.py): old uploads given up on, backups beyond the newest kept
LABELS["audit_action"]["prune"], LABELS_EN["audit_action"]["prune"] = "清理", "Prune"
LABELS["entity"]["upload"], LABELS_EN["entity"]["upload"] = "上传文件", "Uploaded file"
# corrections (portfolio/book/corrections.py) and confirmed doubts (portfolio/book/sanity.py)
LABELS["audit_action"]["correct"], LABELS_EN["audit_action"]["correct"] = "更正", "Correct"
# a new holding typed in the form, asked for and approved by another (portfolio/book/new_investments.py)
LABELS["audit_action"]["request_create"], LABELS_EN["audit_action"]["request_create"] = "申请新增", "Ask to add"
LABELS["audit_action"]["reject_create"], LABELS_EN["audit_action"]["reject_create"] = "驳回新增申请", "Decline an addition"
LABELS["field"]["confirmed_doubts"] = "已确认的核对提示"
LABELS_EN.setdefault("field", {})["confirmed_doubts"] = "Confirmed doubts"
LABELS["field"]["confirmed_doubts_count"] = "已确认的核对提示（行数）"
LABELS_EN["field"]["confirmed_doubts_count"] = "Confirmed doubts (rows)"

# the records audited outside the workbook and the committee: forecast parameters (issue 16),
# API tokens, GP packages' workflow, change sets and attachments; (zh, en) each
for _vocabulary, _words in {
    "audit_action": {"delete": ("删除", "Delete"), "revoke": ("吊销", "Revoke")},
    "entity": {"api_tokens": ("API 访问令牌", "API token"), "forecast_parameters": ("预测参数", "Forecast parameters"),
               # the tables a backup counts that no history names (web/cli/backup.py), and its files
               "audit_log": ("审计日志", "Audit log"), "form_submissions": ("表单提交记录", "Form submission"),
               "jobs": ("后台任务", "Background job"), "login_attempts": ("登录尝试", "Login attempt"),
               "report_cache": ("报告缓存", "Report cache"), "meeting_attendance": ("会议出席", "Meeting attendance"),
               "gp_package_events": ("管理人报告流转", "GP package event"), "files": ("附件文件", "Attachment file"),
               "pending_corrections": ("待批准的更正", "Correction waiting")},
    "field": {"id": ("编号", "Number"), "rc_early": ("前两年年度出资比例 RC", "Yearly call rate RC, first two years"),
              "rc_late": ("此后年度出资比例 RC", "Yearly call rate RC, later years"),
              "bow": ("分配曲线弯度 B", "Distribution bow B"), "life": ("存续期 L（年）", "Life L (years)"),
              "growth": ("净值年增长率 G", "Yearly NAV growth G"), "yield_floor": ("最低分配率 Y", "Yield floor Y"),
              "updated_by": ("修改人", "Changed by"), "updated_at": ("修改时间", "Changed at"),
              "last_used_at": ("最近使用时间", "Last used at"), "blocking": ("阻断项", "Blocking checks"),
              "warnings": ("提示项", "Warnings"), "sub_fund_code": ("子基金代码", "Sub-fund code"),
              "company_code": ("企业代码", "Company code"), "quarter_end": ("季度末", "Quarter end"),
              "submitted_by": ("提交人", "Submitted by"), "reviewed_by": ("复核人", "Reviewed by"),
              "accepted_by": ("接受人", "Accepted by"), "accepted_at": ("接受时间", "Accepted at"),
              "valuation_id": ("估值记录", "Valuation record"), "user_id": ("用户", "User"),
              "round": ("轮次", "Round"), "declared_at": ("登记时间", "Declared at"),
              "uploaded_at": ("上传时间", "Uploaded at"), "sha256": ("文件校验值（SHA-256）", "File checksum (SHA-256)"),
              "stored_name": ("存储文件名", "Stored file name"),
              "staged_version": ("暂存时的台账版本", "Book version when staged"),
              "batch": ("批次", "Batch"), "content": ("内容", "Content"), "checks": ("核对结果", "Checks"),
              "preview": ("预览", "Preview"), "user": ("用户", "User"),
              "doubts": ("核对提示（行数）", "Doubts (rows)"), "failures": ("失败次数", "Failed attempts"),
              "address": ("来源地址", "From address"), "until": ("锁定至", "Locked until"),
              "rows": ("行数", "Rows"), "files": ("文件数", "Files"), "password": ("密码", "Password"),
              "sub_fund": ("子基金", "Sub-fund"), "asked_by": ("申请人", "Asked for by"),
              "asked_at": ("申请时间", "Asked for at"),
              # a proposal's target new to the book (its history names each field)
              "size_cny": ("子基金规模", "Sub-fund size"), "vintage_year": ("设立年份", "Vintage year"),
              "manager": ("管理人", "Manager"), "region_code": ("行政区划", "Region"),
              "credit_code": ("统一社会信用代码", "Unified social credit code")},
}.items():
    for _code, (_zh, _en) in _words.items():
        LABELS[_vocabulary].setdefault(_code, _zh)
        LABELS_EN.setdefault(_vocabulary, {}).setdefault(_code, _en)

# a proposal's fields in English (their Chinese is above): the history names each one changed
LABELS_EN["field"] = {**{
    "fund_code": "Fund code", "title": "Title", "mode": "Mode", "target_code": "Target", "new_target": "New target",
    "alongside_code": "Alongside sub-fund", "planned_date": "Planned date", "amount_cny": "Amount (CNY)",
    "first_call_cny": "First call (CNY)", "pre_money_cny": "Pre-money valuation (CNY)",
    "post_money_cny": "Post-money valuation (CNY)", "instrument": "Instrument", "stage": "Stage",
    "ownership_pct": "Ownership after the deal (%)", "lead_name": "Lead investor",
    "lead_amount_cny": "Lead investor's amount (CNY)", "founded": "Founded", "headcount": "Headcount",
    "revenue_cny": "Annual revenue (CNY)", "total_assets_cny": "Total assets (CNY)", "thesis": "Investment thesis",
    "market": "Market", "team": "Team", "risks": "Key risks", "valuation_method": "Valuation method",
    "comparables": "Comparable companies", "bear_case": "Bear case", "bear_moic": "Bear case MOIC",
    "bear_irr": "Bear case IRR", "base_case": "Base case", "base_moic": "Base case MOIC", "base_irr": "Base case IRR",
    "bull_case": "Bull case", "bull_moic": "Bull case MOIC", "bull_irr": "Bull case IRR", "status": "Status",
    "proposer": "Proposer", "created_at": "Created at", "submitted_at": "Submitted at", "meeting_id": "Meeting",
    "decision": "Decision", "conditions": "Conditions", "decided_by": "Decided by", "decided_at": "Decided at",
    "withdrawn_by": "Withdrawn by", "withdrawn_at": "Withdrawn at", "investment_id": "Investment ID",
    # and the other audited records' (users, votes, meetings, change sets, tokens, attachments…)
    "active": "Active", "approved_at": "Approved at", "approved_by": "Approved by", "attendance": "Attendance",
    "base_version": "Book version when exported", "cast_at": "Voted at", "choice": "Vote", "choices": "Conflicts chosen",
    "comment": "Comment", "conflicts": "Conflicting rows", "counts": "Rows by sheet", "created_by": "Created by",
    "date": "Date", "declared_by": "Declared by", "display_name": "Name", "entered_by": "Entered by",
    "expires_at": "Expires at", "filename": "File name", "kind": "Kind", "level": "Index level", "member": "Member",
    "name": "Name", "original_name": "File name", "proposal_id": "Proposal", "reason": "Reason",
    "revoked_at": "Revoked at", "role": "Role", "size_bytes": "Size (bytes)", "tally": "Vote count",
    "uploaded_by": "Uploaded by", "username": "User name", "uses": "Times used", "void_reason": "Reason for voiding",
    "voided_at": "Voided at", "voided_by": "Voided by", "settings": "Fund settings",
    "void_requested_by": "Void asked for by", "void_requested_at": "Void asked for at",
    "compliance_failures": "Compliance checks failed", "sector": "Sector", "present": "Present",
    "kept": "Rows kept as they were",
}, **LABELS_EN["field"]}

# Place names of the administrative division codes (GB/T 2260) the book holds: Ningbo's
# districts and counties, the other cities of Zhejiang, and the provinces (zh, en). A code
# is shown with the most precise name known ("330206 宁波市北仑区"); an unknown code alone.
_PROVINCES = {
    "11": ("北京市", "Beijing"), "12": ("天津市", "Tianjin"), "13": ("河北省", "Hebei"), "14": ("山西省", "Shanxi"),
    "15": ("内蒙古自治区", "Inner Mongolia"), "21": ("辽宁省", "Liaoning"), "22": ("吉林省", "Jilin"),
    "23": ("黑龙江省", "Heilongjiang"), "31": ("上海市", "Shanghai"), "32": ("江苏省", "Jiangsu"),
    "33": ("浙江省", "Zhejiang"), "34": ("安徽省", "Anhui"), "35": ("福建省", "Fujian"), "36": ("江西省", "Jiangxi"),
    "37": ("山东省", "Shandong"), "41": ("河南省", "Henan"), "42": ("湖北省", "Hubei"), "43": ("湖南省", "Hunan"),
    "44": ("广东省", "Guangdong"), "45": ("广西壮族自治区", "Guangxi"), "46": ("海南省", "Hainan"),
    "50": ("重庆市", "Chongqing"), "51": ("四川省", "Sichuan"), "52": ("贵州省", "Guizhou"), "53": ("云南省", "Yunnan"),
    "54": ("西藏自治区", "Tibet"), "61": ("陕西省", "Shaanxi"), "62": ("甘肃省", "Gansu"), "63": ("青海省", "Qinghai"),
    "64": ("宁夏回族自治区", "Ningxia"), "65": ("新疆维吾尔自治区", "Xinjiang"), "71": ("台湾省", "Taiwan"),
    "81": ("香港特别行政区", "Hong Kong"), "82": ("澳门特别行政区", "Macao"),
}
_ZHEJIANG_CITIES = {
    "3301": ("杭州市", "Hangzhou"), "3302": ("宁波市", "Ningbo"), "3303": ("温州市", "Wenzhou"),
    "3304": ("嘉兴市", "Jiaxing"), "3305": ("湖州市", "Huzhou"), "3306": ("绍兴市", "Shaoxing"),
    "3307": ("金华市", "Jinhua"), "3308": ("衢州市", "Quzhou"), "3309": ("舟山市", "Zhoushan"),
    "3310": ("台州市", "Taizhou"), "3311": ("丽水市", "Lishui"),
}
_NINGBO = {
    "330203": ("海曙区", "Haishu District"), "330204": ("江东区", "Jiangdong District"),
    "330205": ("江北区", "Jiangbei District"), "330206": ("北仑区", "Beilun District"),
    "330211": ("镇海区", "Zhenhai District"), "330212": ("鄞州区", "Yinzhou District"),
    "330213": ("奉化区", "Fenghua District"), "330225": ("象山县", "Xiangshan County"),
    "330226": ("宁海县", "Ninghai County"), "330281": ("余姚市", "Yuyao"), "330282": ("慈溪市", "Cixi"),
}


def place(code: str | None, *, lang: str = "zh") -> str:
    """A region code with its place name: '330206 宁波市北仑区' / '330206 Beilun District, Ningbo'."""
    if not code:
        return ""
    code = str(code).strip()
    k = 1 if lang == "en" else 0
    province, city, district = _PROVINCES.get(code[:2]), _ZHEJIANG_CITIES.get(code[:4]), _NINGBO.get(code)
    if district is not None and city is not None:
        name = f"{district[1]}, {city[1]}" if k else city[0] + district[0]
    elif city is not None:
        name = f"{city[1]}, {province[1]}" if k and province else (province[0] if province else "") + city[0]
    elif province is not None:
        name = province[k]
    else:
        return code
    return f"{code} {name}"
