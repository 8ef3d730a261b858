"""The sentences of the use cases' refusals (FieldErrors), by key, in Chinese and English.

Each refusal is a `portfolio.messages.Message(key, **args)`: a str holding the Chinese text
(exactly what the use cases said before they had keys) that also keeps its key and typed
arguments, so a form renders it in the reader's language (`Message.shown(lang)`), each
argument written by its kind (portfolio/messages.py `_arg`). Pure data.

Arguments named here beyond messages.py's kinds: `day`/`*_day` a date, `*_wan` an amount
in yuan shown in 万元 exactly, `record` a key of messages.WHAT (what kind of record),
`unit` a unit of portfolio.money.UNITS, `places` a count of decimal places, `max_whole` a
whole number with separators, `doubts`/`failures` lists of sentences; any other argument
(a code, an id, what was typed) is shown as it is.
"""
from __future__ import annotations

ERROR_TEXTS: dict[str, tuple[str, str]] = {
    # -- reading typed fields (portfolio.book.records.Fields)
    "required": ("必填", "Required"),
    "too_long": ("不能超过 {max_len} 个字符", "At most {max_len} characters"),
    "invalid_choice": ("无效的取值：{value}", "Not a valid choice: {value}"),
    "amount_positive": ("金额应大于 0", "The amount must be above 0"),
    "amount_negative": ("金额不能为负", "The amount cannot be negative"),
    "integer": ("应为整数", "Must be a whole number"),
    "at_least": ("不能小于 {minimum}", "Must be at least {minimum}"),
    # -- the amount parser (portfolio.money.parse_amount)
    "amount_invalid": ("应为金额（{unit}）", "Must be an amount (in {unit})"),
    "amount_invalid_eg": ("应为金额（{unit}），如 {example}", "Must be an amount (in {unit}), e.g. {example}"),
    "amount_too_large": ("金额过大：不能超过 {max_whole} {unit}", "Amount too large: at most {max_whole} {unit}"),
    "amount_wan_places": ("以万元填写时最多六位小数（精确到分）",
                          "In CNY 10k, at most six decimal places (exact to the fen)"),
    "amount_places": ("金额最多{places}位小数", "At most {places} decimal places"),
    # -- the date parser (portfolio.formatting.parse_date)
    "date_format": ("日期格式应为 YYYY-MM-DD", "The date must be written YYYY-MM-DD"),
    "date_no_such_day": ("不存在的日期（格式 YYYY-MM-DD）", "No such date (format YYYY-MM-DD)"),
    "date_range": ("日期应在 {min_day} 至 {max_day} 之间", "The date must be between {min_day} and {max_day}"),
    # -- the record-level rules (portfolio.record_rules)
    "region_code": ("应为 6 位行政区划代码", "Must be a 6-digit administrative region code"),
    "ownership_range": ("持股比例应在 0–100 之间", "The ownership must be between 0 and 100"),
    "credit_code_invalid": ("统一社会信用代码无效（18 位，校验位不符）",
                            "Not a valid unified social credit code (18 characters, the check character is wrong)"),
    "credit_code_taken": ("该统一社会信用代码已登记", "This unified social credit code is already registered"),
    "coinvest_needs_alongside": ("跟投须填写所跟投的子基金", "A co-investment names the sub-fund it goes alongside"),
    "alongside_only_coinvest": ("只有跟投才填写跟投子基金", "Only a co-investment names a sub-fund to go alongside"),
    "coinvest_not_held": ("同一基金没有投资该子基金，不能跟投（跟投须有同一基金对该子基金的投资）",
                          "The same fund has not invested in this sub-fund, so it cannot co-invest alongside it "
                          "(a co-investment needs the same fund's investment in the sub-fund)"),
    # -- the records (portfolio.book.records)
    "rule_failures": ("此投资未通过合规检查：{failures}。如仍要登记，请填写理由。",
                      "This investment fails the compliance checks: {failures}. To record it anyway, give a reason."),
    "investment_exists": ("投资编号 {id} 已存在", "Investment ID {id} already exists"),
    "fund_unknown": ("基金 {code} 不存在", "Fund {code} does not exist"),
    "target_sub_fund_unknown": ("子基金 {code} 不存在（子基金投资的标的应为子基金）",
                                "Sub-fund {code} does not exist (a sub-fund investment's target is a sub-fund)"),
    "target_company_unknown": ("企业 {code} 不存在（直投、跟投的标的应为企业）",
                               "Company {code} does not exist (a direct or co-investment's target is a company)"),
    "investment_unknown": ("投资 {id} 不存在", "Investment {id} does not exist"),
    "before_investment": ("不能早于投资日期 {day}", "Cannot be before the investment date {day}"),
    "ref_used": ("凭证号 {ref} 在本投资中已使用", "Voucher number {ref} is already used in this investment"),
    "valuation_exists": ("该投资在 {day} 已有估值（如有误请先作废）",
                         "This investment already has a valuation on {day} (void it first if it is wrong)"),
    "record_unknown": ("{record} {id} 不存在", "{record} {id} does not exist"),
    "maker_is_checker": ("录入人不能审批自己录入的估值，须由另一人审批",
                         "Whoever entered a valuation cannot approve it: another person must"),
    "valuation_voided": ("该估值已作废，不能审批", "This valuation is voided and cannot be approved"),
    "valuation_approved_by": ("该估值已由 {person} 审批", "This valuation was already approved by {person}"),
    "valuation_raced": ("该估值刚刚已被他人审批或作废，请刷新页面",
                        "Someone else has just approved or voided this valuation: please reload the page"),
    "void_needs_reason": ("作废须填写理由", "Voiding needs a reason"),
    "already_voided": ("该{record}已作废", "This {record} is already voided"),
    "company_exists": ("企业代码 {code} 已存在", "Company code {code} already exists"),
    "sub_fund_exists": ("子基金代码 {code} 已存在", "Sub-fund code {code} already exists"),
    "user_unknown": ("用户 {id} 不存在", "User {id} does not exist"),
    "role_invalid": ("无效的角色：{role}", "Not a valid role: {role}"),
    "own_admin_role": ("不能取消自己的管理员角色", "You cannot take away your own administrator role"),
    "own_account": ("不能停用自己的账号", "You cannot deactivate your own account"),
    "user_inactive": ("用户 {name} 已停用", "User {name} is already deactivated"),
    # -- corrections (portfolio.book.corrections)
    "stale": ("未保存：这条记录在您打开更正表单之后已被修改，请刷新页面，核对最新内容后重新更正",
              "Not saved: this record was changed after you opened the correction form; reload the page, "
              "check the latest content and correct it again"),
    "stale_by": ("未保存：这条记录在您打开更正表单之后已被修改（最近一次由 {who}修改），请刷新页面，核对最新内容后重新更正",
                 "Not saved: this record was changed after you opened the correction form (last by {who}); "
                 "reload the page, check the latest content and correct it again"),
    "voided_no_correct": ("该{record}已作废，不能更正", "This {record} is voided and cannot be corrected"),
    "nothing_to_correct": ("没有需要更正的内容", "There is nothing to correct"),
    "after_first_flow": ("不能晚于其第一笔现金流的日期 {day}", "Cannot be after the date of its first cash flow, {day}"),
    # -- users (portfolio.book.users)
    "user_gone": ("用户不存在或已停用", "The user does not exist or is deactivated"),
    "wrong_password": ("当前密码不正确", "The current password is wrong"),
    "user_missing": ("用户不存在", "The user does not exist"),
    "role_unknown": ("未知的角色：{role}（可选：{people}）", "Unknown role: {role} (choose from: {people})"),
    "username_length": ("用户名须为 1–64 个字符", "A user name has 1 to 64 characters"),
    "password_short": ("密码至少 {min_len} 个字符", "A password has at least {min_len} characters"),
    "password_common": ("密码过于常见，请换一个不易猜到的密码", "This password is too common: choose one that is hard to guess"),
    "password_has_username": ("密码不能包含用户名", "A password cannot contain the user name"),
    # -- a fund's settings (portfolio.book.fund_settings)
    "unknown_instruments": ("未知的投资工具：{people}", "Unknown instruments: {people}"),
    "region_prefix": ("请输入 2 到 6 位数字的行政区划代码前缀", "Enter a region code prefix of 2 to 6 digits"),
    "enter_number": ("请输入数字", "Enter a number"),
    "enter_integer": ("请输入整数", "Enter a whole number"),
    "between": ("应在 {low} 到 {high} 之间", "Must be between {low} and {high}"),
    "above_zero": ("应大于 0", "Must be above 0"),
    "no_such_setting": ("没有这项设置", "There is no such setting"),
    "no_index_data": ("没有指数 {index} 的数据，请先导入", "There are no data for the index {index}: import them first"),
    # -- API tokens, forecast parameters, forms drawn at a book version
    "token_name_length": ("名称须为 1–100 个字符", "A name has 1 to 100 characters"),
    "token_days": ("有效期须为 1–{max_days} 天", "A token is valid for 1 to {max_days} days"),
    "no_token": ("没有该令牌", "There is no such token"),
    "no_investment": ("没有投资 {id}", "There is no investment {id}"),
    "no_such_parameter": ("没有这项参数", "There is no such parameter"),
    "stale_form": ("该记录在您打开表单之后已由 {who}修改，请刷新页面查看最新内容后再提交",
                   "{who} changed this record after you opened the form: reload the page, check the latest "
                   "content and submit again"),
    # -- the committee (portfolio/committee/)
    "not_a_number": ("应为数字", "Must be a number"),
    "multiple_negative": ("倍数不能为负", "A multiple cannot be negative"),
    "post_below_pre": ("投后估值不能低于投前估值", "The post-money valuation cannot be below the pre-money"),
    "first_call_over": ("首期出资不能超过投资金额", "The first call cannot be more than the amount invested"),
    "lead_amount_needed": ("跟投须填写领投金额", "A co-investment needs the lead amount"),
    "target_exists": ("{record}代码 {code} 已存在，请选择已有标的",
                      "{record} code {code} already exists: choose the existing target"),
    "target_unknown_new": ("{record} {code} 不存在（新标的请勾选“新标的”并填写其信息）",
                           "{record} {code} does not exist (for a new target, tick “New target” and fill in its details)"),
    "founded_differs": ("与已登记的成立日期 {day} 不一致", "Differs from the founding date in the book, {day}"),
    "only_proposer_edits": ("只有提案人可以修改草稿", "Only the proposer can edit a draft"),
    "proposal_raced": ("提案状态刚刚已被他人更改，请刷新页面后再操作",
                       "Someone else has just changed the proposal's status: please reload the page and try again"),
    "no_fund": ("没有基金 {code}", "There is no fund {code}"),
    "illegal_transition": ("提案 #{id} 当前状态为「{state}」，不能{action}",
                           "Proposal #{id} is “{state}”: it cannot be {action}"),
    "meeting_other_fund": ("会议属于基金 {meeting_fund}，提案属于基金 {proposal_fund}",
                           "The meeting belongs to fund {meeting_fund}, the proposal to fund {proposal_fund}"),
    "deferred_later_meeting": ("暂缓的提案须列入之后的另一次会议", "A deferred proposal goes on another, later meeting"),
    "not_members": ("不是投委会委员：{people}", "Not members of the investment committee: {people}"),
    "voted_not_absent": ("已表决的委员不能记为缺席：{people}", "Members who have voted cannot be marked absent: {people}"),
    "recusal_needs_reason": ("回避须说明理由（利益冲突的情况）", "A recusal needs a reason (the conflict of interest)"),
    "not_member": ("{member} 不是投委会委员", "{member} is not a member of the investment committee"),
    "already_recused": ("{member} 已就本提案申报回避", "{member} has already recused from this proposal"),
    "voted_cannot_recuse": ("{member} 已对本提案表决，不能再申报回避",
                            "{member} has already voted on this proposal and cannot recuse now"),
    "choose_vote": ("请选择 同意、反对 或 弃权", "Choose Approve, Reject or Abstain"),
    "only_members_vote": ("只有投委会委员可以表决", "Only members of the investment committee vote"),
    "proposer_cannot_vote": ("提案人不能对自己的提案表决", "A proposer cannot vote on their own proposal"),
    "recused_cannot_vote": ("您已就本提案申报回避，不能表决", "You have recused from this proposal and cannot vote"),
    "absent_cannot_vote": ("您未登记出席本次会议，不能表决", "You are not recorded as present at this meeting and cannot vote"),
    "already_voted": ("您已对本提案表决，不能重复表决", "You have already voted on this proposal"),
    "credit_code_elsewhere": ("统一社会信用代码 {code} 已被其他企业登记",
                              "The unified social credit code {code} is registered to another company"),
    "no_quorum": ("未达法定人数：出席且未回避的委员 {n} 人，至少需 {limit_n} 人，不能作出决议",
                  "No quorum: {n} members present and not recused, at least {limit_n} needed; no decision can be made"),
    "decision_not_allowed": ("按表决结果（同意 {approve_n} 票，需 {needed_n} 票）只能作出：{decisions}",
                             "By the votes ({approve_n} to approve, {needed_n} needed) the only decisions are: {decisions}"),
    "conditions_needed": ("附条件通过须写明条件", "An approval with conditions states the conditions"),
    "not_approved": ("提案 #{id}（{state}）未获通过，不能出资", "Proposal #{id} ({state}) was not approved: nothing can be paid"),
    "funding_over": ("出资合计不能超过决议金额 {limit_in_wan}（已出资 {paid_in_wan}，本次最多 {most_in_wan}）",
                     "Payments cannot total more than the decided amount of {limit_in_wan} "
                     "({paid_in_wan} paid, at most {most_in_wan} now)"),
    "attach_only_proposer": ("只有提案人（或管理员）可以为提案上传附件",
                             "Only the proposer (or an administrator) attaches files to a proposal"),
    "file_empty": ("文件为空", "The file is empty"),
    "file_too_large": ("文件超过 {mb} MB 上限", "The file is over the limit of {mb} MB"),
    "file_types": ("只接受 pdf、docx、xlsx、png、jpg 文件", "Only pdf, docx, xlsx, png and jpg files are accepted"),
    "file_mismatch": ("文件内容与扩展名 .{ext} 不符", "The file's content does not match its extension .{ext}"),
    # -- the doubts that ask for a reason (portfolio.book.sanity)
    "unconfirmed": ("请核对：{doubts}。如确认无误，请填写理由后再次提交（理由记入修改历史）。",
                    "Please check: {doubts}. If it is right, give a reason and submit again "
                    "(the reason is kept in the change history)."),
    "future": ("{record} {day} 晚于今天（{today_day}）", "{record} {day} is after today ({today_day})"),
    "over_commitment": ("出资合计 {total_wan} 将超过认缴额 {commitment_wan}",
                        "contributions would total {total_wan}, above the commitment of {commitment_wan}"),
    "distribution_over_nav": ("分配 {amount_wan} 大于净值加出资 {ceiling_wan}（{nav_day} 的估值加其后出资）",
                              "the distribution of {amount_wan} is more than the NAV plus contributions, "
                              "{ceiling_wan} (the valuation of {nav_day} plus the contributions since)"),
    "distribution_over_no_nav": ("分配 {amount_wan} 大于净值加出资 {ceiling_wan}（尚无估值，累计出资）",
                                 "the distribution of {amount_wan} is more than the NAV plus contributions, "
                                 "{ceiling_wan} (no valuation yet: the contributions to date)"),
}
