"""The investment committee (投委会): proposals, meetings, votes, decisions.

Pure part (portfolio.committee.voting): `count_votes` (exact fractions) and `allowed_decisions`.
Use cases (one per action, Session in, commit in one place, every step audited):
create/update/submit/withdraw a proposal, attach a due-diligence file, create a meeting,
schedule a proposal for it, record attendance, declare a recusal, cast a vote, decide,
record the funding. `review` gives the pro-forma effect of a proposal on its fund, from
portfolio.figures.report / portfolio.figures.rules run on `proforma.with_investment(...)`'s book.

The workflow: draft → submitted → scheduled → decided (approved,
approved_with_conditions, rejected, deferred), or withdrawn before a decision. A
decision is only ever one the votes allow; an approved proposal becomes an investment
in the book (records.record_investment), linked both ways (proposals.investment_id).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import secrets
import zipfile
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import (
    INSTRUMENTS,
    MODES,
    SECTORS,
    STAGES,
    CashFlow,
    Company,
    Fund,
    Investment,
    Meeting,
    MeetingAttendance,
    Proposal,
    ProposalAttachment,
    Recusal,
    SubFund,
    User,
    Vote,
    utcnow,
)
from portfolio.book.audit import audit, snapshot
from portfolio.book.records import Fields, check_alongside, check_credit_code, check_ownership, check_region
from portfolio.book.unit import claim, commit, serialise
from portfolio.committee.voting import Tally, allowed_decisions, count_votes
from portfolio.errors import FieldErrors
from portfolio.figures.scope import FundTree
from portfolio.figures.settings import fund_settings
from portfolio.vocabulary import label

MEMBER_ROLE = "committee"
PROPOSAL_ENTITY = "proposals"


# =============================================================== helpers

def _proposal(session: Session, proposal_id) -> Proposal:
    try:
        proposal = session.get(Proposal, int(proposal_id))
    except (TypeError, ValueError):
        proposal = None
    if proposal is None:
        raise FieldErrors([("", f"提案 {proposal_id} 不存在")])
    return proposal


def _meeting(session: Session, meeting_id, field_name: str = "") -> Meeting:
    try:
        meeting = session.get(Meeting, int(meeting_id))
    except (TypeError, ValueError):
        meeting = None
    if meeting is None:
        raise FieldErrors([(field_name, f"会议 {meeting_id} 不存在")])
    return meeting


# Which action may start from which status, and where it leads.
TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": (("draft",), "submitted"),
    "schedule": (("submitted", "decided"), "scheduled"),  # decided: only when deferred (暂缓)
    "decide": (("scheduled",), "decided"),
    "withdraw": (("draft", "submitted", "scheduled"), "withdrawn"),
}
ACTION_NAMES = {"submit": "提交", "schedule": "排会", "decide": "作出决议", "withdraw": "撤回", "edit": "修改",
                "vote": "表决", "recuse": "回避", "attach": "上传附件"}


class IllegalTransition(FieldErrors):
    def __init__(self, proposal: Proposal, action: str):
        super().__init__([("", f"提案 #{proposal.id} 当前状态为「{label('proposal_status', proposal.status)}」，"
                               f"不能{ACTION_NAMES.get(action, action)}")])


def _move(session: Session, proposal: Proposal, action: str, username: str, **changes) -> None:
    sources, target = TRANSITIONS[action]
    if proposal.status not in sources:
        raise IllegalTransition(proposal, action)
    before = snapshot(proposal)
    # one UPDATE that holds only while the proposal is still where it was: a second request
    # doing the same at the same moment (a double-submitted decision) finds it moved on
    if not claim(session, proposal, Proposal.status.in_(sources), status=target, **changes):
        session.rollback()
        raise FieldErrors([("", "提案状态刚刚已被他人更改，请刷新页面后再操作")])
    audit(session, username, action, PROPOSAL_ENTITY, str(proposal.id), before=before, after=snapshot(proposal))


def _members(session: Session) -> dict[str, User]:
    rows = session.execute(select(User).where(User.role == MEMBER_ROLE, User.active.is_(True))
                           .order_by(User.username)).scalars().all()
    return {u.username: u for u in rows}


def committee_members(session: Session) -> list[User]:
    return list(_members(session).values())


def fund_committee_settings(session: Session, fund_code: str) -> dict[str, Any]:
    fund = session.get(Fund, fund_code)
    if fund is None:
        raise FieldErrors([("fund_code", f"没有基金 {fund_code}")])
    settings = fund_settings(fund.kind, fund.settings or {})
    return {"quorum": int(settings["committee_quorum"]), "pass_ratio": settings["committee_pass_ratio"]}


# =============================================================== proposals

TEXT_FIELDS = ("thesis", "market", "team", "risks", "valuation_method", "comparables",
               "bear_case", "base_case", "bull_case")
CASES = ("bear", "base", "bull")


def _ratio(f: Fields, name: str, *, percent: bool = False) -> float | None:
    """A MOIC (times) or an IRR typed in % (stored as a fraction): ratios are floats."""
    value = f.raw(name)
    if value is None:
        return None
    try:
        number = float(str(value).replace("%", "").replace("x", "").replace("X", ""))
    except ValueError:
        f.errors.append((name, "应为数字"))
        return None
    if number != number or number in (float("inf"), float("-inf")):
        f.errors.append((name, "应为数字"))
        return None
    if not percent and number < 0:
        f.errors.append((name, "倍数不能为负"))
    return number / 100 if percent else number


def _proposal_values(session: Session, fields: dict) -> dict[str, Any]:
    f = Fields(fields)
    fund_code = f.text("fund_code", required=True, max_len=64)
    mode = f.choice("mode", MODES, required=True)
    target_code = f.text("target_code", required=True, max_len=64)
    new_target = bool(fields.get("new_target")) and str(fields.get("new_target")).lower() not in ("0", "false", "")
    values: dict[str, Any] = {
        "fund_code": fund_code, "mode": mode, "target_code": target_code,
        "title": f.text("title", max_len=200),
        "alongside_code": f.text("alongside_code", max_len=64),
        "planned_date": f.date("planned_date", required=True),
        "amount_cny": f.amount("amount_cny", required=True, positive=True),
        "first_call_cny": f.amount("first_call_cny"),
        "pre_money_cny": f.amount("pre_money_cny"),
        "post_money_cny": f.amount("post_money_cny"),
        "instrument": f.choice("instrument", INSTRUMENTS),
        "round": f.text("round", max_len=64),
        "stage": f.choice("stage", STAGES),
        "ownership_pct": f.amount("ownership_pct"),
        "lead_name": f.text("lead_name", max_len=200),
        "lead_amount_cny": f.amount("lead_amount_cny"),
    }
    for name in TEXT_FIELDS:
        values[name] = f.text(name, max_len=20000)
    for case in CASES:
        values[f"{case}_moic"] = _ratio(f, f"{case}_moic")
        values[f"{case}_irr"] = _ratio(f, f"{case}_irr", percent=True)
    check_ownership(f, "ownership_pct", values["ownership_pct"])
    pre, post, amount = values["pre_money_cny"], values["post_money_cny"], values["amount_cny"]
    if pre is not None and post is not None and post < pre:
        f.errors.append(("post_money_cny", "投后估值不能低于投前估值"))
    if values["first_call_cny"] is not None and amount is not None and values["first_call_cny"] > amount:
        f.errors.append(("first_call_cny", "首期出资不能超过投资金额"))
    if fund_code and session.get(Fund, fund_code) is None:
        f.errors.append(("fund_code", f"基金 {fund_code} 不存在"))
    alongside = values["alongside_code"]
    check_alongside(session, f, "alongside_code", mode=mode, fund_code=fund_code, alongside=alongside)
    if mode == "co_invest" and values["lead_amount_cny"] is None:
        f.errors.append(("lead_amount_cny", "跟投须填写领投金额"))
    values["new_target"] = None
    if mode and target_code:
        model, what = (SubFund, "子基金") if mode == "sub_fund" else (Company, "企业")
        exists = session.get(model, target_code) is not None
        if new_target:
            if exists:
                f.errors.append(("target_code", f"{what}代码 {target_code} 已存在，请选择已有标的"))
            values["new_target"] = _new_target(session, f, mode)
        elif not exists:
            f.errors.append(("target_code", f"{what} {target_code} 不存在（新标的请勾选“新标的”并填写其信息）"))
    if not values["title"] and target_code:
        values["title"] = target_code
    f.check()
    return values


def _new_target(session: Session, f: Fields, mode: str) -> dict[str, Any]:
    """The fields of a target new to the book, checked now, created on approval."""
    region = check_region(f, "target_region_code")
    target: dict[str, Any] = {"name": f.text("target_name", required=True),
              "sector": f.choice("target_sector", SECTORS, required=True), "region_code": region}
    if mode == "sub_fund":
        size = f.amount("target_size_cny", required=True, positive=True)
        target.update({"manager": f.text("target_manager", required=True),
                       "size_cny": None if size is None else str(size),
                       "vintage_year": f.integer("target_vintage_year", required=True, minimum=1900)})
    else:
        credit = check_credit_code(session, f, "target_credit_code")
        founded = f.date("target_founded")
        target.update({"credit_code": credit, "founded": None if founded is None else founded.isoformat()})
    return target


def create_proposal(session: Session, fields: dict, *, username: str) -> Proposal:
    """立项: a draft proposal by its proposer."""
    values = _proposal_values(session, fields)
    proposal = Proposal(status="draft", proposer=username, **values)
    session.add(proposal)
    session.flush()
    audit(session, username, "create", PROPOSAL_ENTITY, str(proposal.id), after=snapshot(proposal))
    commit(session)
    return proposal


def update_proposal(session: Session, proposal_id, fields: dict, *, username: str) -> Proposal:
    """A draft is changed by its proposer (a submitted one is frozen for the committee)."""
    proposal = _proposal(session, proposal_id)
    if proposal.status != "draft":
        raise IllegalTransition(proposal, "edit")
    if proposal.proposer != username:
        raise FieldErrors([("", "只有提案人可以修改草稿")])
    values = _proposal_values(session, fields)
    before = snapshot(proposal)
    for name, value in values.items():
        setattr(proposal, name, value)
    session.flush()
    audit(session, username, "update", PROPOSAL_ENTITY, str(proposal.id), before=before, after=snapshot(proposal))
    commit(session)
    return proposal


def submit_proposal(session: Session, proposal_id, *, username: str) -> Proposal:
    proposal = _proposal(session, proposal_id)
    _move(session, proposal, "submit", username, submitted_at=utcnow())
    commit(session)
    return proposal


def withdraw_proposal(session: Session, proposal_id, *, username: str) -> Proposal:
    proposal = _proposal(session, proposal_id)
    _move(session, proposal, "withdraw", username, withdrawn_by=username, withdrawn_at=utcnow())
    commit(session)
    return proposal


# =============================================================== attachments

EXTENSIONS = {"pdf": "pdf", "docx": "docx", "xlsx": "xlsx", "png": "png", "jpg": "jpg", "jpeg": "jpg"}
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024
MIME_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg",
              "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
              "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


def sniff_kind(data: bytes) -> str | None:
    """The file's type from its content (magic bytes; docx/xlsx by their zip members)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if data.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                names = set(archive.namelist())
        except (zipfile.BadZipFile, ValueError):
            return None
        if "word/document.xml" in names:
            return "docx"
        if "xl/workbook.xml" in names:
            return "xlsx"
    return None


def _display_name(filename: str) -> str:
    # only the last part of whatever path the browser sent, for display; never used on disk
    name = str(filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip().replace("\x00", "")
    return name[:255] or "file"


def add_attachment(session: Session, proposal_id, filename: str, data: bytes, *, folder: str,
                   username: str, max_bytes: int = MAX_ATTACHMENT_BYTES,
                   is_admin: bool = False) -> ProposalAttachment:
    """Store a due-diligence file under a random name in `folder`; size and type checked
    (the extension and the content must agree). Only the proposer (or an admin) attaches."""
    proposal = _proposal(session, proposal_id)
    if proposal.status in ("decided", "withdrawn"):
        raise IllegalTransition(proposal, "attach")
    if proposal.proposer != username and not is_admin:
        raise FieldErrors([("file", "只有提案人（或管理员）可以为提案上传附件")])
    name = _display_name(filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    errors = []
    if not data:
        errors.append(("file", "文件为空"))
    elif len(data) > max_bytes:
        errors.append(("file", f"文件超过 {max_bytes // (1024 * 1024)} MB 上限"))
    kind = EXTENSIONS.get(ext)
    if kind is None:
        errors.append(("file", "只接受 pdf、docx、xlsx、png、jpg 文件"))
    elif data and sniff_kind(data) != kind:
        errors.append(("file", f"文件内容与扩展名 .{ext} 不符"))
    if errors:
        raise FieldErrors(errors)
    stored = f"{secrets.token_hex(16)}.{kind}"
    path = Path(folder)
    path.mkdir(parents=True, exist_ok=True)
    (path / stored).write_bytes(data)
    try:
        attachment = ProposalAttachment(proposal_id=proposal.id, original_name=name, stored_name=stored,
                                        kind=kind, size_bytes=len(data), sha256=hashlib.sha256(data).hexdigest(),
                                        uploaded_by=username)
        session.add(attachment)
        session.flush()
        audit(session, username, "attach", "proposal_attachments", str(attachment.id), after=snapshot(attachment))
        commit(session)
    except Exception:
        (path / stored).unlink(missing_ok=True)
        raise
    return attachment


# =============================================================== meetings

def create_meeting(session: Session, fields: dict, *, username: str) -> Meeting:
    f = Fields(fields)
    fund_code = f.text("fund_code", required=True, max_len=64)
    date = f.date("date", required=True)
    title = f.text("title", max_len=200)
    if fund_code and session.get(Fund, fund_code) is None:
        f.errors.append(("fund_code", f"基金 {fund_code} 不存在"))
    f.check()
    meeting = Meeting(fund_code=fund_code, date=date, title=title, created_by=username)
    session.add(meeting)
    session.flush()
    audit(session, username, "create", "meetings", str(meeting.id), after=snapshot(meeting))
    commit(session)
    return meeting


def schedule_proposal(session: Session, proposal_id, meeting_id, *, username: str) -> Proposal:
    """Put a submitted proposal on a meeting's agenda (same fund), or a deferred one (暂缓)
    on a later meeting's: it is voted on afresh there (the earlier votes stay on record,
    with their meeting), and its deferral is cleared, audited like every move."""
    proposal = _proposal(session, proposal_id)
    meeting = _meeting(session, meeting_id, "meeting_id")
    if meeting.fund_code != proposal.fund_code:
        raise FieldErrors([("meeting_id", f"会议属于基金 {meeting.fund_code}，提案属于基金 {proposal.fund_code}")])
    changes: dict[str, Any] = {"meeting_id": meeting.id}
    if proposal.status == "decided":
        if proposal.decision != "deferred":
            raise IllegalTransition(proposal, "schedule")
        deferred_at = session.get(Meeting, proposal.meeting_id)
        if meeting.id == proposal.meeting_id or (deferred_at is not None and meeting.date < deferred_at.date):
            raise FieldErrors([("meeting_id", "暂缓的提案须列入之后的另一次会议")])
        changes.update(decision=None, conditions=None, decided_by=None, decided_at=None)
    _move(session, proposal, "schedule", username, **changes)
    commit(session)
    return proposal


def is_deferred(proposal: Proposal) -> bool:
    """Deferred (暂缓): decided so, and waiting for a later meeting."""
    return proposal.status == "decided" and proposal.decision == "deferred"


def agenda(session: Session, meeting_id) -> list[Proposal]:
    """The proposals on a meeting's agenda: those it holds now, and those voted on there
    and deferred to a later meeting since."""
    voted_here = select(Vote.proposal_id).where(Vote.meeting_id == int(meeting_id))
    return list(session.execute(select(Proposal).where(
        (Proposal.meeting_id == int(meeting_id)) | Proposal.id.in_(voted_here)).order_by(Proposal.id)).scalars())


def attendance(session: Session, meeting_id) -> dict[str, bool]:
    rows = session.execute(select(MeetingAttendance.member, MeetingAttendance.present)
                           .where(MeetingAttendance.meeting_id == int(meeting_id))).all()
    return {m: bool(p) for m, p in rows}


def record_attendance(session: Session, meeting_id, present: Iterable[str], *, username: str) -> dict[str, bool]:
    """Who of the committee's members attend (the others are recorded absent).

    A member who has voted at this meeting cannot be marked absent afterwards."""
    meeting = _meeting(session, meeting_id)
    members = _members(session)
    present_set = set(present)
    unknown = sorted(present_set - set(members))
    if unknown:
        raise FieldErrors([("present", f"不是投委会委员：{'、'.join(unknown)}")])
    voted = set(session.execute(select(Vote.member).where(Vote.meeting_id == meeting.id)).scalars())
    leaving = sorted(voted - present_set)
    if leaving:
        raise FieldErrors([("present", f"已表决的委员不能记为缺席：{'、'.join(leaving)}")])
    before = attendance(session, meeting.id)
    rows = {r.member: r for r in session.execute(select(MeetingAttendance)
                                                 .where(MeetingAttendance.meeting_id == meeting.id)).scalars()}
    for member in members:
        row = rows.get(member)
        if row is None:
            session.add(MeetingAttendance(meeting_id=meeting.id, member=member, present=member in present_set,
                                          recorded_by=username))
        elif row.present != (member in present_set):
            row.present, row.recorded_by, row.recorded_at = member in present_set, username, utcnow()
    session.flush()
    after = attendance(session, meeting.id)
    audit(session, username, "attendance", "meetings", str(meeting.id), before=before, after=after)
    commit(session)
    return after


# =============================================================== recusals and votes

def recusals(session: Session, proposal_id) -> list[Recusal]:
    return list(session.execute(select(Recusal).where(Recusal.proposal_id == int(proposal_id))
                                .order_by(Recusal.id)).scalars())


def votes(session: Session, proposal_id, meeting_id=None) -> list[Vote]:
    """A proposal's votes: at one meeting when given (a deferred proposal is voted on again
    at a later meeting), else at every meeting."""
    stmt = select(Vote).where(Vote.proposal_id == int(proposal_id))
    if meeting_id is not None:
        stmt = stmt.where(Vote.meeting_id == int(meeting_id))
    return list(session.execute(stmt.order_by(Vote.id)).scalars())


def declare_recusal(session: Session, proposal_id, member: str, reason: str | None, *,
                    username: str) -> Recusal:
    """A member's conflict of interest on a proposal: recorded; they cannot vote on it."""
    proposal = _proposal(session, proposal_id)
    if proposal.status not in ("submitted", "scheduled"):
        raise IllegalTransition(proposal, "recuse")
    errors = []
    reason = (reason or "").strip()
    if not reason:
        errors.append(("reason", "回避须说明理由（利益冲突的情况）"))
    elif len(reason) > 2000:
        errors.append(("reason", "不能超过 2000 个字符"))
    if member not in _members(session):
        errors.append(("member", f"{member} 不是投委会委员"))
    if session.execute(select(Recusal.id).where(Recusal.proposal_id == proposal.id,
                                                Recusal.member == member)).first():
        errors.append(("member", f"{member} 已就本提案申报回避"))
    if session.execute(select(Vote.id).where(Vote.proposal_id == proposal.id, Vote.member == member,
                                             Vote.meeting_id == proposal.meeting_id)).first():
        errors.append(("member", f"{member} 已对本提案表决，不能再申报回避"))
    if errors:
        raise FieldErrors(errors)
    recusal = Recusal(proposal_id=proposal.id, member=member, reason=reason, declared_by=username)
    session.add(recusal)
    session.flush()
    audit(session, username, "recuse", "recusals", str(recusal.id), after=snapshot(recusal))
    commit(session)
    return recusal


def cast_vote(session: Session, proposal_id, choice: str, comment: str | None, *, username: str) -> Vote:
    """A member's vote (同意/反对/弃权) on a scheduled proposal, at its meeting, once."""
    proposal = _proposal(session, proposal_id)
    if proposal.status != "scheduled":
        raise IllegalTransition(proposal, "vote")
    errors = []
    if choice not in ("approve", "reject", "abstain"):
        errors.append(("choice", "请选择 同意、反对 或 弃权"))
    comment = (comment or "").strip() or None
    if comment and len(comment) > 4000:
        errors.append(("comment", "不能超过 4000 个字符"))
    if username not in _members(session):
        errors.append(("", "只有投委会委员可以表决"))
    elif username == proposal.proposer:
        errors.append(("", "提案人不能对自己的提案表决"))
    elif session.execute(select(Recusal.id).where(Recusal.proposal_id == proposal.id,
                                                  Recusal.member == username)).first():
        errors.append(("", "您已就本提案申报回避，不能表决"))
    elif not attendance(session, proposal.meeting_id).get(username):
        errors.append(("", "您未登记出席本次会议，不能表决"))
    elif session.execute(select(Vote.id).where(Vote.proposal_id == proposal.id, Vote.member == username,
                                               Vote.meeting_id == proposal.meeting_id)).first():
        errors.append(("", "您已对本提案表决，不能重复表决"))
    if errors:
        raise FieldErrors(errors)
    vote = Vote(proposal_id=proposal.id, meeting_id=proposal.meeting_id, member=username, choice=choice,
                comment=comment)
    session.add(vote)
    try:
        session.flush()
    except IntegrityError:  # a second vote racing the first: the unique key refuses it
        session.rollback()
        raise FieldErrors([("", "您已对本提案表决，不能重复表决")]) from None
    audit(session, username, "vote", "votes", str(vote.id), after=snapshot(vote))
    commit(session)
    return vote


def tally(session: Session, proposal: Proposal) -> Tally:
    """The count of a proposal's votes at its meeting, under its fund's settings."""
    settings = fund_committee_settings(session, proposal.fund_code)
    present = [m for m, p in attendance(session, proposal.meeting_id).items() if p] if proposal.meeting_id else []
    return count_votes(present, [r.member for r in recusals(session, proposal.id)],
                       {v.member: v.choice for v in votes(session, proposal.id, proposal.meeting_id)},
                       quorum=settings["quorum"], pass_ratio=settings["pass_ratio"], proposer=proposal.proposer)


# =============================================================== decision → investment

def _investment_id(session: Session, proposal: Proposal) -> str:
    base = f"{proposal.fund_code}-P{proposal.id}"
    candidate, n = base, 1
    while session.get(Investment, candidate) is not None:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def _create_target(session: Session, proposal: Proposal, username: str) -> None:
    """The new company / sub-fund of an approved proposal, in the same transaction."""
    target = dict(proposal.new_target or {})
    if proposal.mode == "sub_fund":
        if session.get(SubFund, proposal.target_code) is not None:
            return
        record: SubFund | Company = SubFund(code=proposal.target_code, name=target["name"], manager=target["manager"],
                         size_cny=Decimal(target["size_cny"]), vintage_year=int(target["vintage_year"]),
                         sector=target["sector"], region_code=target["region_code"])
        entity = "sub_funds"
    else:
        if session.get(Company, proposal.target_code) is not None:
            return
        if session.execute(select(Company.code).where(Company.credit_code == target["credit_code"])).first():
            raise FieldErrors([("", f"统一社会信用代码 {target['credit_code']} 已被其他企业登记")])
        founded = target.get("founded")
        record = Company(code=proposal.target_code, name=target["name"], credit_code=target["credit_code"],
                         sector=target["sector"], region_code=target["region_code"],
                         founded=dt.date.fromisoformat(founded) if founded else None)
        entity = "companies"
    session.add(record)
    session.flush()
    audit(session, username, "create", entity, proposal.target_code, after=snapshot(record),
          reason=f"投委会提案 #{proposal.id} 通过")


def investment_fields(proposal: Proposal, investment_id: str) -> dict[str, Any]:
    """The proposal as the fields of an investment (records.record_investment's dict)."""
    return {"id": investment_id, "fund_code": proposal.fund_code, "mode": proposal.mode,
            "target_code": proposal.target_code,
            "alongside_code": proposal.alongside_code if proposal.mode == "co_invest" else None,
            "date": proposal.planned_date, "commitment_cny": proposal.amount_cny, "round": proposal.round,
            "ownership_pct": proposal.ownership_pct, "instrument": proposal.instrument, "stage": proposal.stage,
            "lead_amount_cny": proposal.lead_amount_cny if proposal.mode == "co_invest" else None}


def decide(session: Session, proposal_id, decision: str, conditions: str | None, *, username: str) -> Proposal:
    """Record the decision the votes allow; an approval becomes an investment in the book.

    The decision, a new target, the investment and the link are written in one
    transaction, committed once at the end; a failure leaves none of them."""
    from portfolio.book import records
    proposal = _proposal(session, proposal_id)
    if proposal.status != "scheduled":
        raise IllegalTransition(proposal, "decide")
    count = tally(session, proposal)
    allowed = allowed_decisions(count)
    if not allowed:
        raise FieldErrors([("decision", f"未达法定人数：出席且未回避的委员 {len(count.eligible)} 人，"
                                        f"至少需 {count.quorum} 人，不能作出决议")])
    if decision not in allowed:
        names = "、".join(label("decision", d) for d in allowed)
        raise FieldErrors([("decision", f"按表决结果（同意 {count.approve} 票，需 {count.needed} 票）"
                                        f"只能作出：{names}")])
    conditions = (conditions or "").strip() or None
    if decision == "approved_with_conditions" and not conditions:
        raise FieldErrors([("conditions", "附条件通过须写明条件")])
    if decision != "approved_with_conditions":
        conditions = None
    _move(session, proposal, "decide", username, decision=decision, conditions=conditions,
          decided_by=username, decided_at=utcnow())
    if decision not in ("approved", "approved_with_conditions"):
        commit(session)
        return proposal
    try:
        if proposal.new_target:
            _create_target(session, proposal, username)
        investment_id = _investment_id(session, proposal)
        # The committee's approval is the written reason for any check the deal fails;
        # those failures were shown on the review screen before the vote.
        reason = f"投委会决议通过（提案 #{proposal.id}，会议 #{proposal.meeting_id}）"
        if conditions:
            reason += f"；条件：{conditions}"
        records.add_investment(session, investment_fields(proposal, investment_id), username=username,
                               override_reason=reason)
    except FieldErrors as exc:
        session.rollback()
        raise FieldErrors([("", "决议未保存：提案不能登记为投资：" + str(exc))]) from exc
    before = snapshot(proposal)
    proposal.investment_id = investment_id
    audit(session, username, "link", PROPOSAL_ENTITY, str(proposal.id), before=before, after=snapshot(proposal))
    commit(session)
    return proposal


def proposal_for_investment(session: Session, investment_id: str) -> Proposal | None:
    """The committee proposal an investment came from, if any."""
    return session.execute(select(Proposal).where(Proposal.investment_id == investment_id)).scalar_one_or_none()


def is_funded(session: Session, proposal: Proposal) -> bool:
    if not proposal.investment_id:
        return False
    return session.execute(select(CashFlow.id).where(
        CashFlow.investment_id == proposal.investment_id, CashFlow.type == "contribution",
        CashFlow.voided_at.is_(None)).limit(1)).first() is not None


def record_funding(session: Session, proposal_id, fields: dict, *, username: str):
    """When the money moves: the investment's first contribution (records.record_cash_flow).
    Only an approved proposal that became an investment can be funded."""
    from portfolio.book import records
    proposal = _proposal(session, proposal_id)
    if proposal.decision not in ("approved", "approved_with_conditions") or not proposal.investment_id:
        state = label("decision", proposal.decision) if proposal.decision else \
            label("proposal_status", proposal.status)
        raise FieldErrors([("", f"提案 #{proposal.id}（{state}）未获通过，不能出资")])
    f = Fields(fields)
    amount = f.amount("amount_cny", required=True, positive=True)
    if amount is not None:
        serialise(session, proposal)  # two payments at once: the second sees the first
        paid = session.scalar(select(func.sum(CashFlow.amount_cny)).where(
            CashFlow.investment_id == proposal.investment_id, CashFlow.type == "contribution",
            CashFlow.voided_at.is_(None))) or Decimal(0)
        if paid + amount > proposal.amount_cny:
            f.errors.append(("amount_cny", f"出资合计不能超过决议金额 {proposal.amount_cny} 元"
                                           f"（已出资 {paid} 元，本次最多 {max(proposal.amount_cny - paid, 0)} 元）"))
    f.check()
    return records.record_cash_flow(session, {
        "investment_id": proposal.investment_id, "date": fields.get("date"), "type": "contribution",
        "amount_cny": amount, "ref": fields.get("ref"),
        "note": fields.get("note") or f"投委会提案 #{proposal.id} 出资"}, username=username)


# =============================================================== the review (pro forma)

PRO_FORMA_ID = "本提案"


def _pro_forma_targets(proposal: Proposal) -> dict[str, Any]:
    target = dict(proposal.new_target or {})
    if not proposal.new_target:
        return {}
    if proposal.mode == "sub_fund":
        return {"sub_fund": {"code": proposal.target_code, "name": target.get("name"),
                             "manager": target.get("manager"), "size_cny": target.get("size_cny"),
                             "vintage_year": int(target["vintage_year"]), "sector": target.get("sector"),
                             "region_code": target.get("region_code"), "term_years": None}}
    return {"company": {"code": proposal.target_code, "name": target.get("name"),
                        "credit_code": target.get("credit_code"), "sector": target.get("sector"),
                        "region_code": target.get("region_code"), "founded": target.get("founded")}}


def pro_forma_book(book, proposal: Proposal):
    """The book as it would be after the deal, at the proposal's planned date."""
    from portfolio.figures.proforma import with_investment

    fields = investment_fields(proposal, PRO_FORMA_ID)
    first_call = proposal.first_call_cny
    if first_call is None and proposal.mode != "sub_fund":
        first_call = proposal.amount_cny  # a direct deal is paid at closing
    contribution_fen = int(first_call * 100) if first_call else None
    return with_investment(book, fields, contribution_fen=contribution_fen, **_pro_forma_targets(proposal))


def _without_investment(book, investment_id: str):
    return book.with_(investments=book.investments[book.investments["id"] != investment_id],
                      flows=book.flows[book.flows["investment_id"] != investment_id],
                      valuations=book.valuations[book.valuations["investment_id"] != investment_id])


def review(session: Session, proposal: Proposal) -> dict[str, Any]:
    """The proposal's effect on its fund: report and checks before and after (pro forma)."""
    from portfolio.book.reading import load_book
    from portfolio.figures.proforma import failures_introduced
    from portfolio.figures.report import compute_report
    from portfolio.figures.rules import check

    book = load_book(session)
    if proposal.investment_id:
        # already in the book: show the effect as the committee saw it, from the book without it
        book = _without_investment(book, proposal.investment_id)
    after_book = pro_forma_book(book, proposal)
    as_of = proposal.planned_date
    before = compute_report(book, proposal.fund_code, as_of)
    after = compute_report(after_book, proposal.fund_code, as_of)

    sectors = sorted(set(before["by_sector"]) | set(after["by_sector"]), key=lambda s: (
        SECTORS.index(s) if s in SECTORS else len(SECTORS), str(s)))
    sector_rows = [{"sector": s, "before": before["by_sector"].get(s), "after": after["by_sector"].get(s)}
                   for s in sectors]

    # the fund's own checks come with its reports; the funds it rolls up into are checked too
    checks = []
    fund_checks: dict[str, tuple[dict, dict]] = {}
    for code in FundTree.of_book(book).ancestors(proposal.fund_code):
        if code == proposal.fund_code:
            b, a = before["compliance"], after["compliance"]
        else:
            b, a = check(book, code, as_of), check(after_book, code, as_of)
        new = {(r["rule"], r["subject"]) for r in failures_introduced(b, a)}
        by_key = {(r["rule"], r["subject"]): r for r in b}
        fund_checks[code] = (by_key, {(r["rule"], r["subject"]): r for r in a})
        for r in a:
            old = by_key.get((r["rule"], r["subject"]))
            checks.append({**r, "fund": code, "new_failure": (r["rule"], r["subject"]) in new, "before": old,
                           # what the committee needs to see: what the deal changes, and what is not passing
                           "relevant": old is None or r["status"] != "pass" or old.get("value") != r.get("value")
                           or old["status"] != r["status"]})
    fund_checks_before, fund_checks_after = fund_checks[proposal.fund_code]

    def both(rule: str, subject: str) -> dict:
        return {"before": fund_checks_before.get((rule, subject)), "after": fund_checks_after.get((rule, subject))}

    effect: dict[str, Any] = {"direct_share": both("direct_share_cap", proposal.fund_code)}
    if proposal.mode == "sub_fund":
        effect["sub_fund_share"] = both("subfund_share_cap", PRO_FORMA_ID)
    else:
        effect["company_share"] = both("single_company_cap", proposal.target_code)
        effect["ownership"] = both("ownership_cap", PRO_FORMA_ID)
        if proposal.mode == "co_invest":
            effect["lead_ratio"] = both("coinvest_lead_ratio", PRO_FORMA_ID)
    nav_share = {}
    for label_, report in (("before", before), ("after", after)):
        top = {t["code"]: t for t in report["concentration"]["top"]}
        nav_share[label_] = top.get(proposal.target_code)
    effect["target_nav_share"] = nav_share

    # local reinvestment of the sub-fund concerned (the target, or the one co-invested alongside)
    concerned = proposal.target_code if proposal.mode == "sub_fund" else proposal.alongside_code
    reinvestment = []
    before_sf = {s["code"]: s for s in before["sub_funds"]}
    for s in after["sub_funds"]:
        old = before_sf.get(s["code"])
        changed = old is None or old.get("local_reinvestment_cost") != s.get("local_reinvestment_cost") or \
            old.get("reinvestment_multiple") != s.get("reinvestment_multiple")
        if s["code"] == concerned or changed:
            reinvestment.append({"code": s["code"], "name": s.get("name"), "before": old, "after": s,
                                 "check_before": fund_checks_before.get(("reinvestment_multiple", s["code"])),
                                 "check_after": fund_checks_after.get(("reinvestment_multiple", s["code"]))})
    return {"as_of": as_of, "before": before, "after": after, "sectors": sector_rows, "checks": checks,
            "new_failures": [c for c in checks if c["new_failure"]], "effect": effect,
            "reinvestment": reinvestment, "pro_forma_id": PRO_FORMA_ID}
