"""Screens: the investment committee (投委会) — proposals, review, meetings, votes, 决议.

Views are thin: validate the form → call the use case (portfolio/committee.py) → flash →
redirect. FieldErrors land beside their fields (or as a flash for the whole record).
"""
from __future__ import annotations

import datetime as dt
from decimal import Decimal

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_from_directory,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from models import Fund, Meeting, Proposal, ProposalAttachment, SubFund
from portfolio.committee import attachments, decisions, meetings, proposals, voting, workflow
from portfolio.committee.review import review
from portfolio.committee.voting import allowed_decisions
from portfolio.errors import FieldErrors
from portfolio.filetypes import MIME_PDF, MIME_TYPES
from portfolio.formatting import local_today
from web import once
from web.auth import current_username, requires
from web.committee_forms import (
    AttachmentForm,
    AttendanceForm,
    ConfirmForm,
    DecisionForm,
    FundingForm,
    MeetingForm,
    ProposalForm,
    RecusalForm,
    ScheduleForm,
    VoteForm,
)
from web.extensions import db
from web.fields import AmountField
from web.forms import checked_too, new_form_key, refuse
from web.i18n import current_lang, fund_name
from web.security import content_disposition

bp = Blueprint("committee", __name__, url_prefix="/committee")


def _refused(exc: FieldErrors, form=None) -> None:
    refuse(exc, form)


def _proposal_or_404(proposal_id: int) -> Proposal:
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None:
        abort(404)
    return proposal


def _back(proposal_id: int):
    return redirect(url_for("committee.proposal", proposal_id=proposal_id))


def _funds():
    return db.session.execute(select(Fund).order_by(Fund.code)).scalars().all()


# -- lists -----------------------------------------------------------------------------------

@bp.route("/")
def index():
    status = request.args.get("status") or None
    stmt = select(Proposal).order_by(Proposal.id.desc())
    if status:
        stmt = stmt.where(Proposal.status == status)
    proposal_rows = db.session.execute(stmt).scalars().all()
    meeting_rows = db.session.execute(select(Meeting).order_by(Meeting.date.desc(), Meeting.id.desc())).scalars().all()
    return render_template("committee/index.html", proposals=proposal_rows, meetings=meeting_rows, status=status)


# -- proposals -------------------------------------------------------------------------------

def _proposal_form(proposal: Proposal | None = None) -> ProposalForm:
    form = ProposalForm()
    form.set_choices(_funds(), db.session.execute(select(SubFund).order_by(SubFund.code)).scalars().all())
    if request.method == "GET" and proposal is not None:
        _fill(form, proposal)
    return form


def _fill(form: ProposalForm, proposal: Proposal) -> None:
    """A stored draft back into the form: as text, amounts as Decimal yuan (each amount
    field writes it in its unit, 万元, exactly)."""
    def typed(field, value):
        if isinstance(field, AmountField):
            return None if value is None or value == "" else Decimal(str(value))
        return "" if value is None else str(value)

    for name, field in form._fields.items():
        if hasattr(proposal, name) and name != "new_target":
            value = getattr(proposal, name)
            if name.endswith("_irr") and value is not None:
                value = f"{value * 100:g}"
            field.data = typed(field, value)
    target = proposal.new_target or {}
    form.new_target.data = bool(proposal.new_target)
    for key, value in target.items():
        if f"target_{key}" in form:
            form[f"target_{key}"].data = typed(form[f"target_{key}"], value)


@bp.route("/proposals/new", methods=["GET", "POST"])
@requires("propose")
def new_proposal():
    form = _proposal_form()
    if request.method == "GET" and request.args.get("fund"):
        form.fund_code.data = request.args["fund"]
    if form.validate_on_submit():
        try:  # rendered once, saved at most once (web/once.py): a double submit is one draft
            proposal, again = once.run(form.idempotency_key.data, lambda: proposals.create_proposal(
                db.session, form.to_command(), username=current_username()))
        except FieldErrors as exc:
            _refused(exc, form)
        else:
            if proposal is None:
                return redirect(url_for("committee.index"))
            if not again:
                flash(_("提案 #%(id)s 已保存为草稿。", id=proposal.id))
            return _back(proposal.id)
    elif form.is_submitted():  # the form's own checks refused: the use case's too, on one submit
        checked_too(form, lambda fields: proposals.check_proposal(db.session, fields))
    return render_template("committee/proposal_form.html", form=form, proposal=None)


@bp.route("/proposals/<int:proposal_id>/edit", methods=["GET", "POST"])
@requires("propose")
def edit_proposal(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    form = _proposal_form(proposal)
    if form.validate_on_submit():
        try:
            proposals.update_proposal(db.session, proposal_id, form.to_command(), username=current_username())
        except FieldErrors as exc:
            _refused(exc, form)
        else:
            flash(_("提案已修改。"))
            return _back(proposal_id)
    elif form.is_submitted():
        checked_too(form, lambda fields: proposals.check_proposal_edit(db.session, proposal, fields,
                                                                       username=current_username()))
    return render_template("committee/proposal_form.html", form=form, proposal=proposal)


@bp.route("/proposals/<int:proposal_id>")
def proposal(proposal_id: int):
    """The review screen: the proposal beside its pro-forma effect on the fund."""
    return _proposal_page(proposal_id)


def _proposal_page(proposal_id: int, *, funding_form: FundingForm | None = None, vote_form: VoteForm | None = None,
                   decision_form: DecisionForm | None = None):
    """The review screen; `funding_form`, `vote_form`, `decision_form`: a funding, a vote or a
    decision refused, shown again as it was typed (its errors beside its fields), where a
    redirect had emptied it."""
    from portfolio.reports.committee_charts import before_after_sector_chart

    proposal = _proposal_or_404(proposal_id)
    effect = review(db.session, proposal)
    chart = before_after_sector_chart(effect["sectors"], current_lang())
    tally = meetings.tally(db.session, proposal) if proposal.meeting_id else None
    meeting = db.session.get(Meeting, proposal.meeting_id) if proposal.meeting_id else None
    files = db.session.execute(select(ProposalAttachment).where(ProposalAttachment.proposal_id == proposal.id)
                                     .order_by(ProposalAttachment.id)).scalars().all()
    schedule_form = ScheduleForm()
    schedule_form.meeting_id.choices = [
        (str(m.id), f"{m.date.isoformat()} {m.title or ''}") for m in db.session.execute(
            select(Meeting).where(Meeting.fund_code == proposal.fund_code).order_by(Meeting.date)).scalars()]
    vote_form = vote_form or VoteForm()
    vote_form.set_choices()
    decision_form = decision_form or DecisionForm()
    decision_form.set_choices(allowed_decisions(tally) if tally else ())
    recusal_form = RecusalForm()
    recusal_form.member.choices = [(m.username, m.display_name or m.username) for m in workflow.committee_members(db.session)]
    me = current_username()
    return render_template(
        "committee/proposal.html", vote_barrier=_vote_barrier(proposal, meeting, tally, me),
        proposal=proposal, target_name=proposals.target_name(db.session, proposal), review=effect, chart=chart,
        tally=tally, meeting=meeting,
        attachments=files, votes=meetings.votes(db.session, proposal.id, proposal.meeting_id or -1),
        earlier_votes=[v for v in meetings.votes(db.session, proposal.id) if v.meeting_id != proposal.meeting_id],
        meetings={m.id: m for m in db.session.execute(select(Meeting).where(
            Meeting.fund_code == proposal.fund_code)).scalars()},
        recusals=meetings.recusals(db.session, proposal.id), schedule_form=schedule_form, vote_form=vote_form,
        resolutions=meetings.resolutions(db.session, proposal.id),
        decision_form=decision_form, recusal_form=recusal_form, attachment_form=AttachmentForm(),
        recusal_keys=(new_form_key(), new_form_key()),  # the member's own and the secretary's form
        funding_form=funding_form or FundingForm(), confirm=ConfirmForm(), funded=decisions.is_funded(db.session, proposal),
        show_all_checks=request.args.get("checks") == "all",
        my_vote=next((v for v in meetings.votes(db.session, proposal.id, proposal.meeting_id or -1) if v.member == me),
                     None))


def _today() -> dt.date:
    """Today where the committee sits (Asia/Shanghai), whatever the server's zone."""
    return local_today()


def _vote_barrier(proposal, meeting, tally, me: str) -> str | None:
    """Why `me` may not vote on this proposal now (the reason shown instead of the vote
    form, and given when a vote is refused), or None: a member who may not vote is not
    shown a form that would refuse them."""
    if proposal.status != "scheduled" or meeting is None:
        return _("提案尚未列入会议议程。")
    if _today() < meeting.date:
        return _("表决在会议当日（%(date)s）开始。", date=meeting.date.isoformat())
    if me == proposal.proposer:
        return _("提案人不参与本提案的表决。")
    if tally is not None and me in tally.recused:
        return _("您已就本提案申报回避，不参与表决。")
    if tally is not None and me not in tally.eligible:
        return _("您未登记出席本次会议，不能表决。")
    return None


def _action(proposal_id: int, call, done: str):
    _proposal_or_404(proposal_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        call()
    except FieldErrors as exc:
        _refused(exc)
    else:
        flash(done)
    return _back(proposal_id)


def _own_or_admin(proposal_id: int) -> None:
    proposal = _proposal_or_404(proposal_id)
    if proposal.proposer != current_username() and not current_user.can("configure"):
        abort(403)


@bp.route("/proposals/<int:proposal_id>/submit", methods=["POST"])
@requires("propose")
def submit(proposal_id: int):
    _own_or_admin(proposal_id)
    return _action(proposal_id, lambda: proposals.submit_proposal(db.session, proposal_id, username=current_username()),
                   _("提案已提交投委会。"))


@bp.route("/proposals/<int:proposal_id>/withdraw", methods=["POST"])
@requires("propose")
def withdraw(proposal_id: int):
    _own_or_admin(proposal_id)
    return _action(proposal_id, lambda: proposals.withdraw_proposal(db.session, proposal_id, username=current_username()),
                   _("提案已撤回。"))


@bp.route("/proposals/<int:proposal_id>/attachments", methods=["POST"])
@requires("propose")
def upload(proposal_id: int):
    _proposal_or_404(proposal_id)
    form = AttachmentForm()
    if not form.validate_on_submit():
        for message in form.file.errors or [_("请选择文件")]:
            flash(message, "error")
        return _back(proposal_id)
    upload = form.file.data
    try:
        attachments.add_attachment(db.session, proposal_id, upload.filename or "", upload.read(),
                          folder=current_app.config["UPLOAD_FOLDER"], username=current_username(),
                          is_admin=current_user.role == "admin")
    except FieldErrors as exc:
        _refused(exc)
    else:
        flash(_("附件已上传。"))
    return _back(proposal_id)


@bp.route("/attachments/<int:attachment_id>")
def attachment(attachment_id: int):
    """Download a due-diligence file (login required, like every page)."""
    record = db.session.get(ProposalAttachment, attachment_id)
    if record is None:
        abort(404)
    response = send_from_directory(current_app.config["UPLOAD_FOLDER"], record.stored_name, as_attachment=True,
                                   download_name=record.original_name, mimetype=MIME_TYPES.get(record.kind))
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


@bp.route("/proposals/<int:proposal_id>/schedule", methods=["POST"])
@requires("schedule")
def schedule(proposal_id: int):
    _proposal_or_404(proposal_id)
    try:
        meetings.schedule_proposal(db.session, proposal_id, request.form.get("meeting_id"), username=current_username())
    except FieldErrors as exc:
        _refused(exc)
    else:
        flash(_("提案已列入会议议程。"))
    return _back(proposal_id)


@bp.route("/proposals/<int:proposal_id>/recuse", methods=["POST"])
@requires("vote")
def recuse(proposal_id: int):
    """A member declares their own conflict of interest."""
    _proposal_or_404(proposal_id)
    try:
        _recusal, again = once.run(request.form.get("idempotency_key"), lambda: meetings.declare_recusal(
            db.session, proposal_id, current_username(), request.form.get("reason"), username=current_username()))
    except FieldErrors as exc:
        _refused(exc)
    else:
        if not again:
            flash(_("已登记回避，您不参与本提案的表决。"))
    return _back(proposal_id)


@bp.route("/proposals/<int:proposal_id>/recusals", methods=["POST"])
@requires("schedule")
def record_recusal(proposal_id: int):
    """The secretary records a member's declared conflict."""
    _proposal_or_404(proposal_id)
    try:
        _recusal, again = once.run(request.form.get("idempotency_key"), lambda: meetings.declare_recusal(
            db.session, proposal_id, request.form.get("member", ""), request.form.get("reason"),
            username=current_username()))
    except FieldErrors as exc:
        _refused(exc)
    else:
        if not again:
            flash(_("回避已登记。"))
    return _back(proposal_id)


@bp.route("/proposals/<int:proposal_id>/vote", methods=["POST"])
@requires("vote")
def vote(proposal_id: int):
    proposal = _proposal_or_404(proposal_id)
    meeting = db.session.get(Meeting, proposal.meeting_id) if proposal.meeting_id else None
    if meeting is not None and _today() < meeting.date:  # votes are cast at the meeting, not before
        flash(_("表决在会议当日（%(date)s）开始。", date=meeting.date.isoformat()), "error")
        return _back(proposal_id)
    try:
        _vote, again = once.run(request.form.get("idempotency_key"), lambda: meetings.cast_vote(
            db.session, proposal_id, request.form.get("choice", ""), request.form.get("comment"),
            username=current_username()))
    except FieldErrors as exc:
        form = VoteForm()  # the vote as typed, its comment kept, the errors beside its fields
        _refused(exc, form)
        return _proposal_page(proposal_id, vote_form=form)
    if not again:
        flash(_("表决已记录。"))
    return _back(proposal_id)


@bp.route("/proposals/<int:proposal_id>/decide", methods=["POST"])
@requires("schedule")
def decide(proposal_id: int):
    _proposal_or_404(proposal_id)
    try:
        decided, again = once.run(request.form.get("idempotency_key"), lambda: decisions.decide(
            db.session, proposal_id, request.form.get("decision", ""), request.form.get("conditions"),
            username=current_username()))
    except FieldErrors as exc:
        form = DecisionForm()  # the decision as typed, its conditions kept, the errors beside its fields
        _refused(exc, form)
        return _proposal_page(proposal_id, decision_form=form)
    if again:
        pass  # the first decision's answer was flashed by once.run
    elif decided.investment_id:
        flash(_("决议已记录；投资 %(id)s 已登记入账。", id=decided.investment_id))
    else:
        flash(_("决议已记录。"))
    return _back(proposal_id)


@bp.route("/proposals/<int:proposal_id>/fund", methods=["POST"])
@requires("write")
def fund(proposal_id: int):
    """Record the funding (the first contribution) when the money moves."""
    _proposal_or_404(proposal_id)
    form = FundingForm()
    if not form.validate_on_submit():  # the form's faults and the use case's, beside the fields at once
        checked_too(form, lambda fields: decisions.check_funding(db.session, proposal_id, fields))
        if decisions.is_funded(db.session, _proposal_or_404(proposal_id)):  # the form is not shown then
            for message in (m for errors in form.errors.values() for m in errors):
                flash(message, "error")
        return _proposal_page(proposal_id, funding_form=form)
    try:
        flow, again = once.run(form.idempotency_key.data, lambda: decisions.record_funding(
            db.session, proposal_id, form.to_command(), username=current_username()))
    except FieldErrors as exc:
        # beside the form's fields (a doubt beside the box that confirms it, book/sanity.py); all
        # flashed once a payment is on record, for the form is not shown then
        db.session.rollback()
        _refused(exc, None if decisions.is_funded(db.session, _proposal_or_404(proposal_id)) else form)
        return _proposal_page(proposal_id, funding_form=form)
    if not again:
        flash(_("出资已记录为草稿，须由另一位有审批权限的用户审批后才计入业绩。"))
    if flow is not None:
        return redirect(url_for("main.investment", inv_id=flow.investment_id))
    return _back(proposal_id)


@bp.route("/by-investment/<inv_id>")
def by_investment(inv_id: str):
    """From an investment to the proposal it came from."""
    found = decisions.proposal_for_investment(db.session, inv_id)
    if found is None:
        abort(404)
    return _back(found.id)


# -- the decision record (决议) --------------------------------------------------------------

def _resolution_context(proposal: Proposal, meeting_id: int | None) -> dict:
    """The decision recorded at a meeting (without one, the latest), as it was made: its count
    and attendance as kept with it, the votes cast at that meeting."""
    kept = meetings.resolution(db.session, proposal.id, meeting_id)
    if kept is None:
        abort(404)
    recused = set(kept.tally["recused"])
    return {"proposal": proposal, "target_name": proposals.target_name(db.session, proposal),
            "resolution": kept, "meeting": db.session.get(Meeting, kept.meeting_id),
            "tally": voting.tally_from_json(kept.tally), "attendance": kept.attendance,
            "votes": meetings.votes(db.session, proposal.id, kept.meeting_id),
            "recusals": [r for r in meetings.recusals(db.session, proposal.id) if r.member in recused],
            "investment_id": proposal.investment_id if kept.decision in ("approved", "approved_with_conditions") else None,
            "fund": db.session.get(Fund, proposal.fund_code)}


@bp.route("/proposals/<int:proposal_id>/resolution")
@bp.route("/proposals/<int:proposal_id>/resolution/<int:meeting_id>")
def resolution(proposal_id: int, meeting_id: int | None = None):
    return render_template("committee/resolution.html",
                           **_resolution_context(_proposal_or_404(proposal_id), meeting_id))


@bp.route("/proposals/<int:proposal_id>/resolution.pdf")
@bp.route("/proposals/<int:proposal_id>/resolution/<int:meeting_id>.pdf")
def resolution_pdf(proposal_id: int, meeting_id: int | None = None):
    from portfolio.reports.pdf import html_to_pdf

    html = render_template("committee/resolution.html", pdf=True,
                           **_resolution_context(_proposal_or_404(proposal_id), meeting_id))
    response = make_response(html_to_pdf(html, base_url=current_app.root_path))
    response.headers["Content-Type"] = MIME_PDF
    name = f"resolution-{proposal_id}" + (f"-{meeting_id}" if meeting_id is not None else "")
    response.headers["Content-Disposition"] = content_disposition(f"{name}.pdf")
    return response


# -- meetings --------------------------------------------------------------------------------

@bp.route("/meetings/new", methods=["GET", "POST"])
@requires("schedule")
def new_meeting():
    form = MeetingForm()
    form.fund_code.choices = [(f.code, f"{f.code} {fund_name(f)}") for f in _funds()]
    if form.validate_on_submit():
        try:  # rendered once, created at most once (web/once.py)
            meeting, again = once.run(form.idempotency_key.data, lambda: meetings.create_meeting(
                db.session, form.to_command(), username=current_username()))
        except FieldErrors as exc:
            _refused(exc, form)
        else:
            if meeting is None:
                return redirect(url_for("committee.index"))
            if not again:
                flash(_("会议已创建。"))
            return redirect(url_for("committee.meeting", meeting_id=meeting.id))
    elif form.is_submitted():  # the form's own checks refused: the use case's too, on one submit
        checked_too(form, lambda fields: meetings.check_meeting(db.session, fields))
    return render_template("committee/meeting_form.html", form=form)


@bp.route("/meetings/<int:meeting_id>")
def meeting(meeting_id: int):
    record = db.session.get(Meeting, meeting_id)
    if record is None:
        abort(404)
    members = workflow.committee_members(db.session)
    present = meetings.attendance(db.session, meeting_id)
    form = AttendanceForm()
    form.present.choices = [(m.username, m.display_name or m.username) for m in members]
    form.present.data = [m for m, p in present.items() if p]
    decided = meetings.decided_here(db.session, meeting_id)
    return render_template("committee/meeting.html", meeting=record, agenda=meetings.agenda(db.session, meeting_id),
                           members=members, present=present, form=form, decided=decided,
                           waiting=[p for p in db.session.execute(select(Proposal).where(
                               Proposal.status.in_(("submitted", "decided")), Proposal.fund_code == record.fund_code)
                               .order_by(Proposal.id)).scalars()
                               if p.status == "submitted" or (meetings.is_deferred(p) and p.meeting_id != record.id)],
                           confirm=ConfirmForm())


@bp.route("/meetings/<int:meeting_id>/attendance", methods=["POST"])
@requires("schedule")
def attendance(meeting_id: int):
    if db.session.get(Meeting, meeting_id) is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        meetings.record_attendance(db.session, meeting_id, request.form.getlist("present"), username=current_username())
    except FieldErrors as exc:
        _refused(exc)
    else:
        flash(_("出席情况已记录。"))
    return redirect(url_for("committee.meeting", meeting_id=meeting_id))


@bp.app_template_global("committee_proposal_for")
def committee_proposal_for(inv_id: str) -> Proposal | None:
    """For the investment screens: the proposal an investment came from (None if none)."""
    return decisions.proposal_for_investment(db.session, inv_id)
