"""The sentences of the use cases' refusals (FieldErrors), by key, in Chinese and English.

Each refusal is a `portfolio.messages.Message(key, **args)`: a str holding the Chinese text
(exactly what the use cases said before they had keys) that also keeps its key and typed
arguments, so a form renders it in the reader's language (`Message.shown(lang)`), each
argument written by its kind (portfolio/messages.py `_arg`). Pure data.

Arguments named here beyond messages.py's kinds: `day`/`*_day` a date, `*_wan` an amount
in yuan shown in 万元 exactly, `record` a key of messages.WHAT (what kind of record),
`unit` a unit of portfolio.money.UNITS, `places` a count of decimal places, `max_whole` a
whole number with separators, `who` a (person, UTC time) pair, `doubts`/`failures` lists of
sentences, `errors` a FieldErrors' (field, sentence) pairs, `*_named` a (code, Chinese name)
pair, `book_error` an imported book's error (messages.book_error_line), `reason` a sentence
inside this one, `*_term` a (vocabulary, code) name of portfolio.vocabulary; any other
argument (a code, an id, what was typed) is shown as it is.
"""
from __future__ import annotations

ERROR_TEXTS: dict[str, tuple[str, str]] = {
    # -- reading typed fields (portfolio.book.records.Fields)
    "required": ("必填", "Required"),
    "too_long": ("不能超过 {max_len} 个字符", "At most {max_len} characters"),
    "invalid_choice": ("无效的取值：{value}", "Not a valid choice: {value}"),
    # a form's choice that is not among those the form offered (a tampered or stale post), beside its field
    "not_offered": ("不在可选范围内，请从列表中选择", "Not one of the choices offered: choose from the list"),
    "amount_positive": ("金额应大于 0", "The amount must be above 0"),
    "amount_negative": ("金额不能为负", "The amount cannot be negative"),
    "integer": ("应为整数", "Must be a whole number"),
    "at_least": ("不能小于 {minimum}", "Must be at least {minimum}"),
    "at_most": ("不能大于 {maximum}", "Must be at most {maximum}"),
    "control_characters": ("含有不可见的控制字符，请删除后重新输入",
                           "Contains invisible control characters; remove them and enter it again"),
    # -- the amount parser (portfolio.money.parse_amount)
    "amount_invalid": ("应为金额（{unit}）", "Must be an amount (in {unit})"),
    "amount_invalid_eg": ("应为金额（{unit}），如 {example}", "Must be an amount (in {unit}), e.g. {example}"),
    "amount_too_large": ("金额过大：不能超过 {max_whole} {unit}", "Amount too large: at most {max_whole} {unit}"),
    "amount_wan_places": ("以万元填写时最多六位小数（精确到分）",
                          "In CNY 10k, at most six decimal places (exact to the fen)"),
    "amount_places": ("金额最多{places}位小数", "At most {places} decimal places"),
    # -- the date parser (portfolio.formatting.parse_date)
    "pacing_no_bureau_share": ("财政出资在本基金中的占比为 0，无法按财政预算规划新增认缴",
                               "The finance bureau has no share in this fund: a budget target cannot be planned through it"),
    "job_failed_internally": ("生成失败：系统内部错误，已记入日志，请联系系统管理员",
                              "It failed: an error inside the app, logged; please tell the administrator"),
    # the API's answers to what no view of the domain refused (web/errors.py)
    "http_401": ("请先登录，或在 Authorization 头中提供有效的访问令牌",
                 "Sign in first, or send a valid token in the Authorization header"),
    "http_403": ("您的角色（或此访问令牌）无权进行此操作", "Your role (or this token) may not do this"),
    "http_404": ("没有这个地址", "There is no such address"),
    "http_405": ("此地址不接受这种请求方法", "This address does not take this request method"),
    "http_413": ("上传的内容太大", "What was sent is too large"),
    "http_500": ("系统内部错误，已记入日志，请联系系统管理员", "An error inside the app, logged; please tell the administrator"),
    "http_other": ("请求无法完成", "The request cannot be completed"),
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
    "maker_is_checker": ("录入人不能审批自己录入的{record}，须由另一人审批",
                         "Whoever entered a {record} cannot approve it: another person must"),
    "voided_not_approved": ("该{record}已作废，不能审批", "This {record} is voided and cannot be approved"),
    "already_approved_by": ("该{record}已由 {person} 审批", "This {record} was already approved by {person}"),
    "approval_raced": ("该{record}刚刚已被他人审批或作废，请刷新页面",
                       "Someone else has just approved or voided this {record}: please reload the page"),
    "void_needs_reason": ("作废须填写理由", "Voiding needs a reason"),
    "correction_pending_by": ("该{record}已有待批准的更正（{who} 申请），请先批准或驳回该申请",
                              "This {record} already has a correction waiting (asked for by {who}): "
                              "approve or decline it first"),
    "correction_not_pending": ("该{record}没有待批准的更正", "This {record} has no correction waiting"),
    "correction_asker_is_checker": ("申请更正的人不能批准自己的申请，须由另一人批准",
                                    "Whoever asked for a correction cannot approve it: another person must"),
    "correction_raced": ("该{record}的更正申请刚刚已被他人提交或处理，请刷新页面",
                         "Someone else has just asked for or dealt with a correction of this {record}: "
                         "please reload the page"),
    "correction_asked_by": ("批准 {person} 的更正申请；更正理由：{typed}",
                            "Approved the correction asked for by {person}; the reason given: {typed}"),
    "investment_request_pending_by": ("投资编号 {id} 已有待批准的新增申请（{who} 申请），请先批准或驳回该申请",
                                      "Investment ID {id} is already waiting to be added (asked for by {who}): "
                                      "approve or decline that first"),
    "investment_request_now_fails": ("此投资按现在的台账未通过合规检查：{failures}。申请时未填写理由，不能批准；"
                                     "请驳回，由申请人填写理由后重新申请。",
                                     "On the book as it is now this investment fails the compliance checks: "
                                     "{failures}. It was asked for without a reason and cannot be approved: "
                                     "decline it, and its asker may ask again with a reason."),
    "investment_request_not_pending": ("没有待批准的新增投资 {id}", "No new investment {id} is waiting"),
    "investment_request_asker_is_checker": ("申请新增投资的人不能批准自己的申请，须由另一人批准",
                                            "Whoever asked to add an investment cannot approve it: another person must"),
    "investment_request_raced": ("新增投资 {id} 的申请刚刚已被他人提交或处理，请刷新页面",
                                 "Someone else has just asked for or dealt with new investment {id}: "
                                 "please reload the page"),
    "void_requested_by": ("{person} 已申请作废该{record}，待另一人批准",
                          "{person} has already asked to void this {record}: another person must approve it"),
    "void_not_requested": ("该{record}没有待批准的作废申请", "Nobody has asked to void this {record}"),
    "void_requester_is_checker": ("申请作废的人不能批准自己的申请，须由另一人批准",
                                  "Whoever asked for a void cannot approve it: another person must"),
    "void_raced": ("该{record}的作废申请刚刚已被他人处理，请刷新页面",
                   "Someone else has just dealt with the request to void this {record}: please reload the page"),
    "void_pending_no_correction": ("该{record}有待批准的作废申请，请先批准或驳回该申请再更正",
                                   "This {record} has a request to void it waiting: approve or decline it before correcting"),
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
    "above_up_to": ("应大于 {low} 且不超过 {high}", "Must be above {low} and at most {high}"),
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
    # -- the unit of work (portfolio.book.unit)
    "conflict": ("未保存：记录与已有数据冲突（可能他人刚刚保存了相同的记录），请刷新后重试",
                 "Not saved: the record conflicts with existing data (someone may have just saved the same "
                 "record); reload and try again"),
    "db_unavailable": ("未保存：数据库暂时无法写入，请稍后重试",
                       "Not saved: the database cannot be written just now; try again later"),
    "book_busy": ("未保存：台账正被其他操作占用（例如正在导入台账），请稍后重新提交",
                  "Not saved: the book is busy (a book import may be running); submit again in a moment"),
    "book_busy_read": ("台账正被其他操作占用（例如正在导入台账），请稍后刷新页面",
                       "The book is busy (a book import may be running); reload the page in a moment"),
    # -- the GP portal's quarterly packages (portfolio.gp.packages)
    "gp_pick_sub_fund": ("至少选择一只子基金", "Choose at least one sub-fund"),
    "gp_no_sub_funds": ("没有子基金：{people}", "No such sub-funds: {people}"),
    "gp_no_reportable": ("没有可报告的投资：{id}", "No investment to report on: {id}"),
    "gp_quarter_end": ("报告期末应为季末日（3-31、6-30、9-30、12-31）",
                       "The period end is a quarter's last day (3-31, 6-30, 9-30, 12-31)"),
    "gp_quarter_window": ("报告期末应在投资日期之后、今天之前",
                          "The period end falls after the investment date and before today"),
    "gp_submitted_locked": ("该季度报告已提交，不能修改（如需修改请由基金经理退回）",
                            "This quarter's report is submitted and cannot be changed (a fund manager can return it)"),
    "gp_not_submittable": ("该报告不在可提交的状态", "This report cannot be submitted in its present state"),
    "gp_blocking_submit": ("还有 {n} 项阻断性问题，改正后才能提交",
                           "{n} blocking problems remain: correct them before submitting"),
    "gp_return_comment": ("退回须写明意见", "Returning a report needs a comment"),
    "gp_only_submitted_return": ("只有已提交的报告可以退回", "Only a submitted report can be returned"),
    "gp_only_submitted_review": ("只有已提交的报告可以复核", "Only a submitted report can be reviewed"),
    "settings_stale": ("未保存：这些设置在您打开页面之后已被他人修改，请刷新页面，核对后重新修改",
                       "Not saved: these settings were changed by someone else after you opened the page; reload it, "
                       "check them and change them again"),
    "settings_pending_by": ("未保存：该基金已有一项设置修改申请待批准（{who} 申请），请待其批准或驳回后再修改",
                            "Not saved: a change of this fund's settings is already waiting for approval (asked for "
                            "by {who}); it must be approved or declined before another is asked for"),
    "settings_not_pending": ("该基金没有待批准的设置修改申请", "This fund has no change of settings waiting"),
    "settings_asker_is_checker": ("申请修改设置的人不能批准自己的申请，须由另一人批准",
                                  "Whoever asked to change the settings cannot approve it: another person must"),
    "settings_request_raced": ("该基金的设置修改申请刚刚已被他人提交或处理，请刷新页面",
                               "Someone else has just asked for or dealt with a change of this fund's settings: "
                               "please reload the page"),
    "settings_request_stale": ("未批准：该基金的设置在申请之后已被修改，此申请已过时，请驳回后重新申请",
                               "Not approved: the fund's settings have changed since this change was asked for; "
                               "decline it and ask again"),
    "settings_request_outdated": ("已过时，不能批准：该基金的设置在申请之后已被修改，请驳回后重新申请",
                                  "Out of date, cannot be approved: the fund's settings have changed since this change "
                                  "was asked for; decline it and ask again"),
    "settings_request_outdated_by": ("已过时，不能批准：该基金的设置在申请之后已被修改（最近一次由 {who}修改），请驳回后重新申请",
                                     "Out of date, cannot be approved: the fund's settings have changed since this "
                                     "change was asked for (last by {who}); decline it and ask again"),
    "correction_request_outdated": ("已过时，不能批准：该投资在申请更正之后已被修改，请驳回后按现行条款重新申请",
                                    "Out of date, cannot be approved: the investment has changed since this correction "
                                    "was asked for; decline it and ask again on its terms as they are now"),
    "correction_request_outdated_by": ("已过时，不能批准：该投资在申请更正之后已被修改（最近一次由 {who}修改），"
                                       "请驳回后按现行条款重新申请",
                                       "Out of date, cannot be approved: the investment has changed since this "
                                       "correction was asked for (last by {who}); decline it and ask again on its "
                                       "terms as they are now"),
    "record_correction_outdated": ("已过时，不能批准：该{record}在申请更正之后已被修改，请驳回后按现行数值重新申请",
                                   "Out of date, cannot be approved: the {record} has changed since this correction "
                                   "was asked for; decline it and ask again on its values as they are now"),
    "record_correction_outdated_by": ("已过时，不能批准：该{record}在申请更正之后已被修改（最近一次由 {who}修改），"
                                      "请驳回后按现行数值重新申请",
                                      "Out of date, cannot be approved: the {record} has changed since this "
                                      "correction was asked for (last by {who}); decline it and ask again on its "
                                      "values as they are now"),
    "record_correction_voided": ("已过时，不能批准：该{record}在申请更正之后已作废，请驳回",
                                 "Out of date, cannot be approved: the {record} has been voided since this "
                                 "correction was asked for; decline it"),
    "investment_request_outdated": ("已过时，不能批准：投资编号 {id} 在申请之后已登记，请驳回",
                                    "Out of date, cannot be approved: investment {id} has been booked since this "
                                    "was asked for; decline it"),
    "investment_request_outdated_by": ("已过时，不能批准：投资编号 {id} 在申请之后已由 {who}登记，请驳回",
                                       "Out of date, cannot be approved: investment {id} has been booked since this "
                                       "was asked for (by {who}); decline it"),
    "settings_asked_by": ("批准 {person} 的设置修改申请", "Approved the change of settings asked for by {person}"),
    "settings_declined": ("驳回 {person} 的设置修改申请：{typed}",
                          "Declined the change of settings asked for by {person}: {typed}"),
    "username_taken": ("用户名 {name} 已存在", "The user name {name} is taken"),
    "no_longer_admin": ("您的管理员权限刚刚已被变更，未执行",
                        "Your administrator rights have just been changed: nothing was done"),
    "username_not_gp": ("用户名 {name} 已属于一位非管理人用户，请另选用户名",
                        "The user name {name} belongs to a user who is not a GP: choose another"),
    "gp_raced": ("该报告刚刚已被他人处理，请刷新页面", "Someone else has just handled this report: please reload the page"),
    "gp_review_first": ("须先由一位基金经理复核，再由另一位接受",
                        "One fund manager reviews the report first, and another accepts it"),
    "gp_reviewer_accepts": ("复核人不能接受自己复核的报告，须由另一人接受",
                            "The reviewer cannot accept the report they reviewed: another person must"),
    "gp_only_submitted_accept": ("只有已提交的报告可以接受", "Only a submitted report can be accepted"),
    "gp_submitter_accepts": ("提交人不能接受自己提交的报告", "Whoever submitted a report cannot accept it"),
    "gp_blocking_accept": ("与台账核对有 {n} 项阻断性问题，不能接受",
                           "The tie-out with the book has {n} blocking problems: it cannot be accepted"),
    "gp_conflict": ("未保存：记录与已有数据冲突，请刷新后重试",
                    "Not saved: the record conflicts with existing data; reload and try again"),
    "gp_package_exists": ("未保存：投资 {investment} {quarter} 的季度报告已存在（#{id}），请打开该报告修改，而不是新建",
                          "Not saved: the report of investment {investment} for {quarter} already exists (#{id}); "
                          "open it to change it instead of starting a new one"),
    "gp_package_fixed": ("未保存：修改报告时不能更改投资和报告期末；其他投资或季度请新建报告",
                         "Not saved: an edited report keeps its investment and period end; for another investment "
                         "or quarter, start a new report"),
    "gp_later_accepted": ("本投资 {quarter} 的报告已接受，不能再接受更早季度（{earlier}）的报告",
                          "The report for {quarter} of this investment is already accepted: one for an earlier "
                          "quarter ({earlier}) can no longer be accepted"),
    # -- reopening an accepted GP package (portfolio.gp.reopening)
    "gp_reopen_not_accepted": ("只有已接受的报告可以重新打开", "Only an accepted report can be reopened"),
    "gp_reopen_later_accepted": ("本投资 {quarter} 的报告已接受，较早季度（{earlier}）的报告不能重新打开："
                                 "请先重新打开较晚季度的报告",
                                 "The report for {quarter} of this investment is already accepted: the one for an "
                                 "earlier quarter ({earlier}) cannot be reopened; reopen the later quarter's first"),
    "gp_reopen_valuation_changed": ("管理人季度报告 #{id} 记入台账的估值此后已被更正，该报告不能再重新打开；"
                                    "更正后的估值继续有效。如需改变该季度的价值，请更正或作废该估值",
                                    "The valuation that GP quarterly package #{id} booked has since been corrected, "
                                    "so the package can no longer be reopened; the corrected valuation stands. "
                                    "To change the quarter's value, correct or void that valuation instead"),
    "gp_reopen_valuation_changed_by": ("管理人季度报告 #{id} 记入台账的估值此后已由 {who}更正，该报告不能再重新打开；"
                                       "更正后的估值继续有效。如需改变该季度的价值，请更正或作废该估值",
                                       "The valuation that GP quarterly package #{id} booked has since been corrected "
                                       "by {who}, so the package can no longer be reopened; the corrected valuation "
                                       "stands. To change the quarter's value, correct or void that valuation instead"),
    "gp_reopen_schedule_changed": ("子基金 {sub_fund} 在 {day} 的投资明细此后已有改动（{company}），不能重新打开",
                                   "The holdings schedule of sub-fund {sub_fund} at {day} has changed since "
                                   "({company}): the report cannot be reopened"),
    "gp_reopen_schedule_shared": ("投资 {investment} 同一季度已接受的报告（#{id}）与本报告记入的投资明细相同，不能重新打开",
                                  "The accepted report of investment {investment} for the same quarter (#{id}) "
                                  "stands on the holdings schedule this report booked: it cannot be reopened"),
    "gp_reopen_pending_by": ("该报告已有待批准的重新打开申请（{who} 申请），请先批准或驳回该申请",
                             "A reopening of this report is already waiting (asked by {who}): approve or "
                             "decline it first"),
    "gp_reopen_not_pending": ("该报告没有待批准的重新打开申请", "No reopening of this report is waiting"),
    "gp_reopen_asker_is_checker": ("申请重新打开的人不能批准自己的申请，须由另一人批准",
                                   "Whoever asked to reopen a report cannot approve it: another person must"),
    "gp_reopen_raced": ("该报告的重新打开申请刚刚已被他人提交或处理，请刷新页面",
                        "A reopening of this report was just asked for or decided by someone else; reload the page"),
    "gp_reopen_outdated": ("已过时，不能批准：报告 #{id} 或其记入台账的数据在申请之后已有变化，请驳回",
                           "Out of date, cannot be approved: report #{id} or what it booked changed since the "
                           "reopening was asked for; decline it"),
    # -- the items of a GP package's tie-out checks (portfolio.figures.tieout): amounts in 元
    "gp_item_line": ("资本账户：{line_term}", "Capital account: {line_term}"),
    "gp_item_company": ("{name}（{credit_code}）", "{name} ({credit_code})"),
    "gp_item_flow": ("{flow_term}：{day} {amount_fen_yuan}{notice_ref}", "{flow_term}: {day} {amount_fen_yuan}{notice_ref}"),
    "gp_item_not_booked": ("台账中没有：{flow_term} {day} {amount_fen_yuan}{notice_ref}",
                           "Not in the ledger: {flow_term} {day} {amount_fen_yuan}{notice_ref}"),
    "gp_item_not_reported": ("报告中没有：{flow_term} {day} {amount_fen_yuan}{notice_ref}",
                             "Not in the report: {flow_term} {day} {amount_fen_yuan}{notice_ref}"),
    "gp_item_notices_total": ("{flow_term}通知书合计 {figure_fen_yuan}，资本账户为 {expected_fen_yuan}",
                              "{flow_term} notices total {figure_fen_yuan}, the capital account {expected_fen_yuan}"),
    "gp_item_later_accepted": ("本投资 {quarter} 的报告已接受，不能再接受更早季度的报告",
                               "The report for {quarter} is already accepted: no earlier quarter's can be accepted now"),
    "gp_item_schedule_extra": ("{name} {credit_code}：已接受的子基金投资明细中没有",
                               "{name} {credit_code}: not in the sub-fund's accepted schedule"),
    "gp_item_schedule_missing": ("{name} {credit_code}：已接受的子基金投资明细中有，本报告没有",
                                 "{name} {credit_code}: in the sub-fund's accepted schedule, not in this report"),
    "gp_item_schedule_differs": ("{name} {credit_code}：投资成本 {cost_fen_yuan}、公允价值 {value_fen_yuan}，"
                                 "已接受的明细为 {booked_cost_fen_yuan}、{booked_value_fen_yuan}",
                                 "{name} {credit_code}: cost {cost_fen_yuan}, fair value {value_fen_yuan}; the "
                                 "accepted schedule has {booked_cost_fen_yuan}, {booked_value_fen_yuan}"),
    # the same, where the book's schedule came in by an import: acceptance replaces it
    "gp_item_booked_extra": ("{name} {credit_code}：台账中（导入）没有，接受后记入",
                             "{name} {credit_code}: not in the schedule the book holds (imported); accepting adds it"),
    "gp_item_booked_missing": ("{name} {credit_code}：台账中（导入）有，本报告没有，接受后删除",
                               "{name} {credit_code}: in the schedule the book holds (imported), not in this "
                               "report; accepting removes it"),
    "gp_item_booked_differs": ("{name} {credit_code}：投资成本 {cost_fen_yuan}、公允价值 {value_fen_yuan}，"
                               "台账中（导入）为 {booked_cost_fen_yuan}、{booked_value_fen_yuan}，接受后以本报告为准",
                               "{name} {credit_code}: cost {cost_fen_yuan}, fair value {value_fen_yuan}; the book "
                               "holds (imported) {booked_cost_fen_yuan}, {booked_value_fen_yuan}, which accepting "
                               "replaces"),
    "gp_item_twice": ("{credit_code} 出现 {n} 次", "{credit_code} appears {n} times"),
    "gp_item_other_code": ("{name} {credit_code}：台账中为 {book_code}", "{name} {credit_code}: {book_code} in the book"),
    "gp_item_renamed": ("{credit_code}：报告为 {name}，台账为 {book_name}",
                        "{credit_code}: reported as {name}, {book_name} in the book"),
    "gp_item_typed": ("{name}：{text}", "{name}: {text}"),
    "gp_item_mark": ("{name}：{amount_fen_yuan}", "{name}: {amount_fen_yuan}"),
    "gp_item_method_change": ("{name}：{from_term} → {to_term}", "{name}: {from_term} → {to_term}"),
    # -- staged imports, change sets (portfolio.interchange.staging)
    "change_set_unknown": ("变更集 {id} 不存在", "Change set {id} does not exist"),
    "change_set_applied": ("变更集 {id} 已应用", "Change set {id} is already applied"),
    "change_set_rejected": ("变更集 {id} 已驳回", "Change set {id} is already rejected"),
    "only_uploader_resolves": ("只有上传人可以处理冲突", "Only the uploader resolves conflicts"),
    "invalid_choice_of": ("无效的选择：{choice}", "Not a valid choice: {choice}"),
    "uploader_cannot_approve": ("上传人不能批准自己上传的变更集，须由另一位有审批权限的用户批准",
                                "The uploader cannot approve their own change set: another user who approves must"),
    "conflicts_unresolved": ("还有 {n} 行冲突未选择处理方式（保留上传值或保留现值）",
                             "{n} conflicting rows still need a choice (keep the uploaded value or the present one)"),
    "preview_stale": ("台账在上传之后已被修改，预览已过时；请驳回此变更集，重新导出、修改后再上传",
                      "The book has changed since the upload and the preview is out of date: reject this change set, "
                      "export again, edit and upload"),
    "change_set_choices_moved": ("未批准：上传人刚刚修改了冲突的选择，请刷新页面，核对后再批准",
                                 "Not approved: the uploader has just changed the choices for its conflicts; "
                                 "reload the page, check them and approve again"),
    "change_set_raced": ("该变更集刚刚已被他人处理，请刷新页面",
                         "Someone else has just handled this change set: please reload the page"),
    "import_refused_by_db": ("数据库拒绝了导入，未写入任何数据：{name}",
                             "The database refused the import and nothing was written: {name}"),
    "reject_needs_reason": ("驳回须填写理由", "Rejecting needs a reason"),
    "withdraw_needs_reason": ("撤回须填写理由", "Withdrawing needs a reason"),
    # -- an imported book (portfolio.interchange): reading the file; a sheet or column is named
    # by its code (`*_named`: the code and, in Chinese, its Chinese name)
    "book_not_utf8": ("文件不是 UTF-8 编码的 CSV", "The file is not a CSV in UTF-8"),
    "book_csv_unreadable": ("CSV 文件无法读取：{detail}", "The CSV file cannot be read: {detail}"),
    "book_no_csv": ("文件夹中没有 CSV 文件", "The folder holds no CSV files"),
    "book_no_file": ("文件不存在", "The file does not exist"),
    "book_not_xlsx": ("不是 Excel 工作簿（.xlsx）", "Not an Excel workbook (.xlsx)"),
    "book_too_many_parts": ("工作簿包含 {n} 个部件，超过上限 {limit_n}，拒绝读取",
                            "The workbook has {n} parts, above the limit of {limit_n}: not read"),
    "book_too_large": ("工作簿解压后为 {mb} MB，超过上限 {limit_mb} MB，拒绝读取（可能是压缩炸弹）",
                       "The workbook is {mb} MB uncompressed, above the limit of {limit_mb} MB: not read "
                       "(it may be a zip bomb)"),
    "book_ratio": ("工作簿部件 {part} 的压缩比异常（{ratio} 倍），拒绝读取",
                   "The workbook's part {part} is compressed abnormally ({ratio} to 1): not read"),
    "book_too_many_rows": ("工作表行数 {rows} 超过上限 {limit_rows}，请拆分后分批导入（或用命令 flask import-book 导入）",
                           "A sheet has {rows} rows, above the limit of {limit_rows}: split it and import the parts "
                           "(or import it with the command flask import-book)"),
    "sheet_duplicated": ("工作表重复", "The sheet appears twice"),
    "sheet_unknown": ("未知的工作表（应为 {sheets}）", "Unknown sheet (expected one of {sheets})"),
    "sheet_missing": ("缺少必需的工作表 {sheet_named}", "The required sheet {sheet_named} is missing"),
    "no_header_row": ("缺少表头行（第 1 行应为列名）", "No header row (row 1 names the columns)"),
    "column_unknown": ("未知的列", "Unknown column"),
    "column_unnamed": ("没有列名的列", "A column without a name"),
    "column_duplicated": ("列 {column} 重复", "The column {column} appears twice"),
    "column_missing": ("缺少必需的列 {column_named}", "The required column {column_named} is missing"),
    # -- an imported book: its cells
    "cell_required": ("必填，不能为空", "Required: cannot be blank"),
    "unknown_code": ("未知的代码，应为 {codes}", "Unknown code: expected {codes}"),  # kept: errors stored before
    # a coded column's values by name and code (the import takes either; Chinese names only)
    "unknown_choice": ("未知的取值，应为以下之一：{choices}", "Unknown value: expected one of {choices}"),
    # a code written in other letters' case (Distribution): codes are case-sensitive (interchange.md)
    "unknown_choice_case": ("未知的取值：代码区分大小写，应写作 {code}（可选：{choices}）",
                            "Unknown value: codes are case-sensitive, write {code} (expected one of {choices})"),
    "money_not_number": ("不是数字金额", "Not an amount in figures"),
    "money_negative": ("金额不能为负数", "An amount cannot be negative"),
    "money_two_places": ("金额最多两位小数", "At most two decimal places in an amount"),
    "money_too_large": ("金额过大", "The amount is too large"),
    "date_unknown_day": ("不存在的日期", "No such date"),
    "year_implausible": ("年份不合理", "Not a plausible year"),
    "cannot_be_negative": ("不能为负数", "Cannot be negative"),
    "pct_not_number": ("不是数字", "Not a number"),
    "pct_places": ("百分比最多 {places} 位小数", "A percentage has at most {places} decimal places"),
    # -- an imported book: keys unique, references known
    "dup_fund_code": ("基金代码重复（与第{first}行重复）", "Fund code repeated (as in row {first})"),
    "dup_sub_fund_code": ("子基金代码重复（与第{first}行重复）", "Sub-fund code repeated (as in row {first})"),
    "dup_company_code": ("企业代码重复（与第{first}行重复）", "Company code repeated (as in row {first})"),
    "dup_credit_code": ("统一社会信用代码重复（与第{first}行重复）",
                        "Unified social credit code repeated (as in row {first})"),
    "dup_investment_id": ("投资编号重复（与第{first}行重复）", "Investment ID repeated (as in row {first})"),
    "dup_valuation": ("同一投资同一基准日的估值重复（与第{first}行重复）",
                      "A second valuation of the same investment on the same date (as in row {first})"),
    "dup_holding": ("同一子基金同一基准日同一企业的明细重复（与第{first}行重复）",
                    "A second holding of the same company by the same sub-fund on the same date (as in row {first})"),
    "dup_ref": ("凭证号在同一投资内重复（与第{first}行重复）",
                "Voucher number repeated within the same investment (as in row {first})"),
    "parent_unknown": ("未知的上级基金", "Unknown parent fund"),
    "parent_self": ("上级基金不能是自身", "A fund cannot be its own parent"),
    "parent_cycle": ("上级基金关系成环：{chain}", "The parent funds go round in a circle: {chain}"),
    "fund_code_unknown": ("未知的基金", "Unknown fund"),
    "target_is_company": ("投资方式为子基金时投资标的应为子基金代码（此为企业代码）",
                          "A sub-fund investment's target is a sub-fund code (this is a company code)"),
    "target_is_sub_fund": ("直投/跟投的投资标的应为企业代码（此为子基金代码）",
                           "A direct or co-investment's target is a company code (this is a sub-fund code)"),
    "sub_fund_code_unknown": ("未知的子基金", "Unknown sub-fund"),
    "company_code_unknown": ("未知的企业", "Unknown company"),
    "investment_id_unknown": ("未知的投资编号", "Unknown investment ID"),
    "flow_before_investment": ("现金流日期早于投资日期", "The cash flow is dated before the investment"),
    "flow_amount_zero": ("现金流金额必须大于 0", "A cash flow's amount must be above 0"),
    "size_zero": ("规模必须大于 0", "The size must be above 0"),
    # -- an import as a whole (portfolio.interchange.importing, staging)
    "import_doubts_unconfirmed": ("请核对：{doubts}。如确认无误，请说明理由（--reason）后再次导入",
                                  "Please check: {doubts}. If it is right, give a reason (--reason) and import again"),
    "import_own_draft": ("录入人不能审批自己录入的估值：导入与其草稿相同的行即为审批，须由另一人导入或在页面上审批",
                         "Whoever entered a valuation cannot approve it, and importing a row the same as their "
                         "draft approves it: another person imports it, or approves it on its page"),
    "backup_refused": ("无法备份：{errors}", "Cannot back up: {errors}"),  # a backup job's several refusals
    "import_void_waiting": ("该记录有待批准的作废申请（{person} 提出），批准或驳回之前不能用导入修改",
                            "This record has a void waiting for approval (asked for by {person}): an import "
                            "cannot change it until the void is approved or declined"),
    "import_db_refused": ("数据库拒绝了导入：{name}: {detail}", "The database refused the import: {name}: {detail}"),
    "change_set_unimportable": ("该变更集的文件已不能导入（台账已变化）：{book_error}",
                                "This change set's file can no longer be imported (the book has changed): "
                                "{book_error}"),
    "book_unreadable": ("无法读取该文件，请确认是 .xlsx 工作簿", "Cannot read this file; is it an .xlsx workbook?"),
    # -- the GP portal's workbook (portfolio.gp.template); sheet names are the workbook's own
    "gp_unreadable": ("无法读取该文件：请上传本页提供的 .xlsx 模板",
                      "Cannot read this file: upload the .xlsx template this page offers"),
    "gp_missing_sheets": ("缺少工作表：{people}", "Sheets missing: {people}"),
    # where in the workbook (or the portal's form) a value was refused, and why (`reason`, a
    # sentence of its own); the sheet and column are names of portfolio.vocabulary (`*_term`)
    "gp_cell": ("{sheet_term} 第 {row} 行 {column_term}：{reason}", "{sheet_term}, row {row}, {column_term}: {reason}"),
    "gp_cell_amount": ("{sheet_term} 第 {row} 行 {column_term}（{unit}）：{reason}",
                       "{sheet_term}, row {row}, {column_term} (in {unit}): {reason}"),
    "gp_field": ("{sheet_term} {column_term}：{reason}", "{sheet_term}, {column_term}: {reason}"),
    "gp_too_many_rows": ("{sheet_term} 第 {row} 行：超过 {limit_n} 行",
                         "{sheet_term}, row {row}: more than {limit_n} rows"),
    "gp_negative": ("不能为负数", "cannot be negative"),
    "gp_flow_type": ("应为 出资 或 分配", "must be a contribution or a distribution"),
    "gp_unknown_line": ("未知的项目：{text}", "unknown item: {text}"),
    "typed_refused": ("{reason}：{text}", "{reason}: {text}"),
    # -- index series for PME (portfolio.figures.pme, portfolio.book.reading.import_index)
    "no_forecast": ("没有这项预测：{reason}", "There is no such forecast: {reason}"),
    "quarter_format": ("季度格式应为 2025Q4：{text}", "A quarter is written like 2025Q4: {text}"),
    "demo_quarter": ("演示台账讲到 {first} 至 {latest} 之间已结束的某个季度，写法如 {latest}：{text}",
                     "The demo's story runs to a quarter that has ended, from {first} to {latest}, written like "
                     "{latest}: {text}"),
    "quarter_not_ended": ("{quarter} 尚未结束（季末为 {end_day}，今天是 {today_day}）：只能生成已结束季度的报告",
                          "{quarter} has not ended yet (it ends on {end_day}; today is {today_day}): a report is "
                          "made for a quarter that has ended"),
    "fund_unknown_report": ("未知基金：{code}", "Unknown fund: {code}"),
    "index_csv_columns": ("CSV 需要 date 和 level 两列", "The CSV needs the two columns date and level"),
    "index_csv_date": ("第 {row} 行：日期 {text} 不是 YYYY-MM-DD", "Row {row}: the date {text} is not YYYY-MM-DD"),
    "index_csv_level": ("第 {row} 行：指数点位 {text} 须为正数", "Row {row}: the level {text} must be a positive number"),
    "index_csv_level_large": ("第 {row} 行：指数点位 {text} 过大，须小于 1,000,000,000,000",
                              "Row {row}: the level {text} is too large; it must be under 1,000,000,000,000"),
    "index_csv_duplicate": ("第 {row} 行：日期 {day} 重复", "Row {row}: the date {day} is there twice"),
    "index_csv_empty": ("文件中没有数据行", "The file has no data rows"),
    "index_name_length": ("指数名称须为 1–64 个字符", "An index name has 1 to 64 characters"),
    "index_unknown": ("没有指数 {name}", "There is no index {name}"),
    "index_no_levels": ("没有指数 {name} 的数据", "There are no data for the index {name}"),
    "index_before_start": ("现金流日期 {flow_day} 早于指数 {name} 的起始日期 {start_day}",
                           "A cash flow on {flow_day} is before the index {name} starts, on {start_day}"),
    # -- backups (portfolio.book.backup)
    "backup_file_missing": ("附件文件缺失，无法完整备份：{name}",
                            "An attachment's file is missing, so the backup cannot be whole: {name}"),
    "backup_file_checksum": ("附件文件与记录的校验和不符，无法完整备份：{name}",
                             "An attachment's file does not match its recorded checksum, so the backup cannot be "
                             "whole: {name}"),
    "backup_not_ours": ("不是本系统的备份文件（缺少 manifest.json）", "Not a backup of this system (no manifest.json)"),
    "backup_format": ("备份格式不受支持：{format} {version}", "Backup format not supported: {format} {version}"),
    "backup_incomplete": ("备份不完整：缺少 {name}", "The backup is incomplete: {name} is missing"),
    "backup_corrupt_checksum": ("备份已损坏：{name} 的校验和不符", "The backup is damaged: {name} fails its checksum"),
    "backup_unsafe_name": ("备份中的文件名不安全：{name}", "An unsafe file name in the backup: {name}"),
    "backup_unreadable": ("无法读取备份文件：{name}", "Cannot read the backup file: {name}"),
    "backup_schema_unknown": ("备份的数据库结构与本系统当前版本不一致，不能恢复"
                              "（请用相同版本的系统恢复，备份来自 Alembic 版本 {revision}）",
                              "The backup's database structure differs from this version of the system and cannot "
                              "be restored (restore it with the same version; the backup is from Alembic revision "
                              "{revision})"),
    "backup_schema_revision": ("备份的数据库版本 {revision} 与本库 {here} 不一致，不能恢复",
                               "The backup's database revision {revision} differs from this database's, {here}: "
                               "it cannot be restored"),
    "backup_tables_differ": ("备份中的数据表与本系统的不一致，不能恢复",
                             "The backup's tables differ from this system's: it cannot be restored"),
    "backup_not_empty": ("只能恢复到空数据库；这些表已有数据：{tables}",
                         "A backup is restored only into an empty database; these tables have data: {tables}"),
    "backup_rows": ("备份已损坏：数据表「{table}」应有 {rows} 行，读到 {count} 行",
                    "The backup is damaged: the table “{table}” should have {rows} rows, {count} were read"),
    "backup_upload_clash": ("上传目录中已有同名而内容不同的文件：{name}",
                            "The upload folder already holds a different file of the same name: {name}"),
    "backup_restore_failed": ("恢复失败，未写入任何数据：{detail}", "The restore failed and nothing was written: {detail}"),
    # -- logging in (portfolio.book.logins)
    "login_locked": ("登录失败次数过多，账户已临时锁定，请 {wait_seconds}后再试",
                     "Too many failed logins: the account is locked for now; try again in {wait_seconds}"),
    "login_throttled": ("尝试过于频繁，请 {wait_seconds}后再试", "Too many tries: try again in {wait_seconds}"),
    "login_wrong": ("用户名或密码错误", "Wrong user name or password"),
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
    "attendance_decided": ("本次会议已有提案作出决议，出席情况不能再修改",
                           "A decision has been recorded at this meeting: its attendance can no longer be changed"),
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
                  "No quorum: members present and not recused: {n}, at least {limit_n} needed; no decision can be made"),
    "decision_not_allowed": ("按表决结果（同意 {approve_n} 票，需 {needed_n} 票）只能作出：{decisions}",
                             "By the votes ({approve_n} to approve, {needed_n} needed) the only decisions are: {decisions}"),
    "decision_not_saved": ("决议未保存：提案不能登记为投资：{errors}",
                           "The decision is not saved: the proposal cannot be recorded as an investment: {errors}"),
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
    "import_doubt_row": ("{sheet} 第{row}行（{row_key}）：{doubts}", "{sheet} row {row} ({row_key}): {doubts}"),
    "import_doubt_sheet": ("{sheet}（{row_key}）：{doubts}", "{sheet} ({row_key}): {doubts}"),
    "import_doubt_cell": ("{sheet} 第{row}行 {column_header}（{row_key}）：{doubts}",
                          "{sheet} row {row} {column_header} ({row_key}): {doubts}"),
    "import_doubt_sheet_cell": ("{sheet} {column_header}（{row_key}）：{doubts}",
                                "{sheet} {column_header} ({row_key}): {doubts}"),
    # a doubted row's own audit entry: each doubt under the column it is about
    "import_doubt_column": ("{column_header}：{doubts}", "{column_header}: {doubts}"),
    "import_doubts_more": ("等共 {n} 行", "{n} rows in all"),
    "future": ("{record} {day} 晚于今天（{today_day}）", "{record} {day} is after today ({today_day})"),
    "over_commitment": ("出资合计 {total_wan} 将超过认缴额 {commitment_wan}",
                        "contributions would total {total_wan}, above the commitment of {commitment_wan}"),
    "distribution_over_nav": ("分配 {amount_wan} 大于净值加出资 {ceiling_wan}（{nav_day} 的估值加其后出资）",
                              "the distribution of {amount_wan} is more than the NAV plus contributions, "
                              "{ceiling_wan} (the valuation of {nav_day} plus the contributions since)"),
    "same_flow": ("已有同日、同类型、同金额的现金流：{day} {flow_term} {amount_wan}（#{flow_id}），可能重复录入",
                  "a cash flow of the same date, type and amount is already entered: {day}, {flow_term}, {amount_wan} "
                  "(#{flow_id}); this may be the same one entered twice"),  # kept: doubts stored before
    # the other flow named as the investment's page shows it: by its reference, or as without one
    "same_flow_ref": ("已有同日、同类型、同金额的现金流：{day} {flow_term} {amount_wan}（凭证号 {ref}），可能重复录入",
                      "a cash flow of the same date, type and amount is already entered: {day}, {flow_term}, "
                      "{amount_wan} (reference {ref}); this may be the same one entered twice"),
    "same_flow_unreferenced": ("已有同日、同类型、同金额的现金流：{day} {flow_term} {amount_wan}（未填凭证号），可能重复录入",
                               "a cash flow of the same date, type and amount is already entered: {day}, "
                               "{flow_term}, {amount_wan} (entered without a reference); this may be the same one "
                               "entered twice"),
    "distribution_over_no_nav": ("分配 {amount_wan} 大于净值加出资 {ceiling_wan}（尚无估值，累计出资）",
                                 "the distribution of {amount_wan} is more than the NAV plus contributions, "
                                 "{ceiling_wan} (no valuation yet: the contributions to date)"),
    # -- the reasons the application writes in the audit trail (portfolio.book.audit reason_fields)
    "why_proposal_approved": ("投委会提案 #{id} 通过", "Proposal #{id} approved by the investment committee"),
    "why_change_set_staged": ("导入变更集 #{id} 待审批", "Import change set #{id} awaiting approval"),
    "why_change_set_applied": ("导入变更集 #{id}（上传：{person}）", "Import change set #{id} (uploaded by {person})"),
    "why_change_set_approved": ("批准导入变更集 #{id}", "Import change set #{id} approved"),
    "why_change_set_confirmed": ("批准导入变更集 #{id}；确认理由：{typed}",
                                 "Import change set #{id} approved; reason for confirming: {typed}"),
    "why_gp_package": ("管理人季度报告 #{id}", "GP quarterly package #{id}"),
    "why_gp_package_reopened": ("管理人季度报告 #{id} 重新打开（申请人：{person}）：{typed}",
                                "GP quarterly package #{id} reopened (asked by {person}): {typed}"),
    "why_void_withdrawn_reopened": ("管理人季度报告 #{id} 重新打开时该估值已作废，待批准的作废申请随之撤回",
                                    "The valuation was voided as GP quarterly package #{id} was reopened, so the "
                                    "void asked for was withdrawn"),
    "why_replaced_by_gp_package": ("由管理人季度报告 #{id}取代", "Replaced by GP quarterly package #{id}"),
    "why_void_withdrawn_replaced": ("该估值由管理人季度报告 #{id}取代而作废，待批准的作废申请随之撤回",
                                    "The valuation was voided as GP quarterly package #{id} replaced it, so the "
                                    "void asked for was withdrawn"),
    "why_correction_withdrawn_voided": ("该{record}已作废，待批准的更正申请随之撤回",
                                        "The {record} was voided, so the correction asked for was withdrawn"),
    "why_corrected_confirmed": ("{typed}（核对确认：{confirmed}）", "{typed} (checked and confirmed: {confirmed})"),
    "why_command_import": ("命令行直接导入，操作员未另附理由",
                           "Direct import on the command line; the operator gave no reason"),
    "why_demo_exit": ("演示数据：退出当日分配，估值已为零",
                      "Demo data: distributed on the day of exit, the valuation already zero"),
    # what a pruning removed (portfolio.book.pruning)
    "why_pruned_staged_upload": ("暂存导入失败后遗留的上传文件", "An upload left behind by a failed staging"),
    "why_pruned_error_list": ("被拒绝的上传的错误清单", "A refused upload's error list"),
    "why_pruned_change_set_file": ("已驳回的导入变更集的上传文件", "A rejected change set's uploaded file"),
    "why_pruned_backup": ("超出保留的最新 {keep} 份备份", "Older than the newest {keep} backups kept"),
    # -- the JSON API's refusals (web/api.py)
    "api_bad_param": ("{name}：{reason}", "Parameter {name}: {reason}"),
    "api_no_unit": ("没有 {id}", "No sub-fund or investment {id} in this fund"),
    "api_no_job": ("没有作业 {id}", "No job {id}"),
    # -- a form whose CSRF token was refused (web/errors.py)
    "form_not_verified": ("表单已过期（登录已结束）或无法验证，本次提交未保存任何内容。请返回表单所在的页面，重新打开后再提交。",
                          "The form had expired (the session had ended) or could not be verified: nothing was saved. "
                          "Go back to the page the form was on, open it again and send it once more."),
    # -- a GP's workbook uploaded over a draft changed since its page was drawn (portfolio.gp.packages)
    "gp_upload_stale": ("未上传：投资 {investment} {quarter} 的季度报告（#{id}）在您打开本页之后已由 {who}保存，"
                        "上传会覆盖其内容，现未作任何修改。请刷新页面，打开该报告核对后再上传",
                        "Not uploaded: the report of {investment} for {quarter} (#{id}) was saved by {who} after "
                        "you opened this page, and the upload would have written over it; nothing was changed. "
                        "Reload the page, check that report, then upload again"),
}
