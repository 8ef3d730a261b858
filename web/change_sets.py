"""Staged imports on the screens (导入变更集): the list, the preview with its conflicts, the
uploader's choices, and the second person's apply or reject. The upload itself is
web.book.upload, which stages the book here.
"""
from __future__ import annotations

import datetime as dt

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, select
from wtforms import BooleanField, HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from models import ChangeSet
from portfolio.errors import FieldErrors
from portfolio.formatting import row_named
from portfolio.messages import Message
from portfolio.record_rules import NOTE_LENGTH
from web import queue
from web.auth import current_username, requires
from web.extensions import db
from web.forms import BaseForm, ConfirmForm, refuse, refuse_decline, withdrawn_by
from web.i18n import current_lang
from web.main import cell_shown, local_time

bp = Blueprint("change_sets", __name__, url_prefix="/book/change-sets")

SHOWN = 500  # rows listed per sheet and kind on the preview (the counts are always whole)


class RejectForm(BaseForm):
    reason = TextAreaField(_l("驳回理由"), validators=[DataRequired(), Length(max=NOTE_LENGTH)])


class ApplyForm(BaseForm):
    """The checker's apply; a change set with doubted rows needs the box ticked and a reason."""

    confirmed = BooleanField(_l("我已核对上述提示，确认无误"))
    confirm_reason = TextAreaField(_l("确认理由"), validators=[Optional(), Length(max=NOTE_LENGTH)])
    choices = HiddenField()  # the version of the uploader's choices the page showed (staging.choices_version)


def _column(sheet: str, name: str):
    """The workbook's column by sheet and name, or None (the schema, and pandas with it, is
    imported when a preview is shown, not when the app starts)."""
    from portfolio.interchange.schema import SHEETS

    return next((c for c in SHEETS.get(sheet, []) if c.name == name), None)


def column_named(name: str, sheet: str, lang: str) -> str:
    """A column of the workbook by its header in `lang`: Chinese, or the English name
    (portfolio.interchange.schema.column_named, imported when it is asked for)."""
    from portfolio.interchange.schema import column_named as named

    return named(name, sheet, lang)


def column_written(value, name: str, sheet: str, lang: str, *, unit: bool = False) -> str:
    """A workbook cell as the screens write it in `lang`: amounts in 元 with separators, codes
    by their label, none as a dash; `unit`: an amount followed by 元 / CNY (where no column
    header stands above it: the command line)."""
    if value is None or value == "":
        return "—"
    column = _column(sheet, name)
    cell = cell_shown(column, value, lang)
    if cell is None:
        return str(value)
    if unit and column is not None and column.kind == "money":
        from portfolio.messages import UNIT_NAMES

        return f"{cell} {UNIT_NAMES['yuan'][0 if lang.startswith('zh') else 1]}"
    return str(cell)


@bp.app_template_filter("column_name")
def column_name(name: str, sheet: str) -> str:
    """A column of the workbook by its header: Chinese, or the English name."""
    return column_named(name, sheet, current_lang())


@bp.app_template_filter("column_value")
def column_value(value, name: str, sheet: str) -> str:
    """A workbook cell of the preview as the screens write it (column_written), an amount with
    its unit: each stands beside its field's name, under no header that gives one."""
    return column_written(value, name, sheet, current_lang(), unit=True)


@bp.app_template_filter("row_key")
def row_key(key: str, sheet: str) -> str:
    """A row of the preview as a reader names it (formatting.row_named): its key's parts joined
    by " · ", a cash flow's type by its label and its amount in 元."""
    return row_named(key, sheet, current_lang())


@bp.app_template_filter("local_time_text")
def local_time_text(value: str | None) -> str:
    """An ISO UTC time kept as text (a conflict's) in Beijing time."""
    try:
        return local_time(dt.datetime.fromisoformat(value)) if value else ""
    except ValueError:
        return str(value)


@bp.app_template_filter("count_of")
def count_of(rows: dict, kind: str) -> int:
    """How many rows of a kind a stored preview's sheet had (it keeps the first few hundred)."""
    from portfolio.interchange.staging import count_of as counted

    return counted(rows, kind)


def _change_set(change_set_id: int) -> ChangeSet:
    change_set = db.session.get(ChangeSet, change_set_id)
    if change_set is None:
        abort(404)
    return change_set


@bp.route("/")
def index():
    pending_first = case((ChangeSet.status == "pending", 0), else_=1)
    change_sets = db.session.execute(
        select(ChangeSet.id, ChangeSet.status, ChangeSet.filename, ChangeSet.uploaded_by, ChangeSet.uploaded_at,
               ChangeSet.counts, ChangeSet.decided_by, ChangeSet.decided_at, ChangeSet.conflicts)
        .order_by(pending_first, ChangeSet.id.desc()).limit(200)).all()
    return render_template("change_sets/index.html", change_sets=change_sets)


@bp.route("/<int:change_set_id>")
def show(change_set_id: int):
    from portfolio.interchange import staging  # here: it imports the whole import path

    change_set = _change_set(change_set_id)
    reject_form = RejectForm()
    if withdrawn_by(change_set.uploaded_by):  # its uploader's rejection is their withdrawal (the button says 撤回)
        reject_form.reason.label.text = _("撤回理由")
    return render_template("change_sets/show.html", cs=change_set, form=ConfirmForm(), reject_form=reject_form,
                           apply_form=ApplyForm(choices=staging.choices_version(change_set)),
                           doubts=staging.doubts_of(change_set, limit=SHOWN),
                           doubt_count=staging.doubt_count(change_set),
                           unresolved=staging.unresolved(change_set), shown=SHOWN,
                           conflict_ids={c["id"] for c in change_set.conflicts})


@bp.route("/<int:change_set_id>/choices", methods=["POST"])
@requires("write")
def choose(change_set_id: int):
    from portfolio.interchange import staging  # here: it imports the whole import path

    _change_set(change_set_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    choices = {key[len("choice-"):]: value for key, value in request.form.items() if key.startswith("choice-")}
    try:
        staging.choose(db.session, change_set_id, choices, username=current_username())
    except FieldErrors as exc:
        refuse(exc)
    else:
        flash(_("已保存对冲突行的选择。"))
    return redirect(url_for("change_sets.show", change_set_id=change_set_id))


@bp.route("/<int:change_set_id>/apply", methods=["POST"])
@requires("approve")
def apply(change_set_id: int):
    from portfolio.interchange import staging  # here: it imports the whole import path

    change_set = _change_set(change_set_id)
    form = ApplyForm()
    if not form.validate_on_submit():
        abort(400)
    reason = (form.confirm_reason.data or "").strip()
    if staging.doubt_count(change_set) and not (form.confirmed.data and reason):
        flash(_("此变更集有须核对的行：请勾选确认并填写理由后再批准。"), "error")
        return redirect(url_for("change_sets.show", change_set_id=change_set_id))
    confirm_reason = reason if form.confirmed.data else None
    try:
        if _rows_in(change_set) >= current_app.config.get("APPLY_JOB_MIN_ROWS", APPLY_JOB_MIN_ROWS):
            staging.may_apply(db.session, change_set_id, current_username())  # said now, not by the job
            if form.choices.data and form.choices.data != staging.choices_version(change_set):
                raise FieldErrors([("", Message("change_set_choices_moved"))])
            job = queue.submit("apply_change_set", {"change_set": change_set_id, "reason": confirm_reason,
                                                    "choices": form.choices.data or None},
                               username=current_username())
            return redirect(url_for("change_sets.apply_job", job_id=job.id))
        staging.apply_change_set(db.session, change_set_id, username=current_username(),
                                 confirm_reason=confirm_reason, seen_choices=form.choices.data or None)
    except FieldErrors as exc:
        refuse(exc)
    else:
        flash(_("变更集已批准并导入台账。"))
    return redirect(url_for("change_sets.show", change_set_id=change_set_id))


APPLY_JOB_MIN_ROWS = 5_000  # rows added or changed; a smaller change set is applied within the request


def _rows_in(change_set: ChangeSet) -> int:
    return sum(int(c.get("new", 0)) + int(c.get("changed", 0)) for c in (change_set.counts or {}).values())


@queue.handler("apply_change_set")
def apply_change_set_job(job: queue.JobContext) -> dict:
    """A job: a large change set applied (staging.apply_change_set: the same checks, the same
    one transaction) with its progress (rows read, sheets checked). Run again after its worker
    died once it had applied the change set, it gives that apply, never a second one."""
    from portfolio.interchange import staging

    change_set_id = int(job.params["change_set"])
    done = db.session.get(ChangeSet, change_set_id)
    if done is not None and done.status == "applied" and done.decided_by == job.started_by:
        return {"change_set": change_set_id}
    try:
        staging.apply_change_set(db.session, change_set_id, username=job.started_by,
                                 confirm_reason=job.params.get("reason"), progress=job.progress,
                                 seen_choices=job.params.get("choices"))
    except FieldErrors as error:
        raise queue.JobRefused(error.errors[0][1]) from error
    return {"change_set": change_set_id}


def _apply_job(job_id: int):
    """The apply job (404 for any other), its worker running: its page and status follow it."""
    return queue.followed(job_id, "apply_change_set")


@bp.route("/apply-jobs/<int:job_id>")
@requires("approve")
def apply_job(job_id: int):
    """A large change set's apply: its progress bar while it runs; done, the change set."""
    job = _apply_job(job_id)
    if job.state == "done":
        flash(_("变更集已批准并导入台账。"))
        return redirect(url_for("change_sets.show", change_set_id=job.params["change_set"]))
    return render_template("change_sets/apply_job.html", job=job, status=queue.page_status(job, "change_sets.apply_job"),
                           units=queue.UNITS)


@bp.route("/apply-jobs/<int:job_id>.json")
@requires("approve")
def apply_job_status(job_id: int):
    """The apply job's state and progress, polled by static/jobs.js."""
    return jsonify(queue.page_status(_apply_job(job_id), "change_sets.apply_job"))


@bp.route("/<int:change_set_id>/reject", methods=["POST"])
@requires("approve")
def reject(change_set_id: int):
    from portfolio.interchange import staging  # here: it imports the whole import path

    uploader = _change_set(change_set_id).uploaded_by
    form = RejectForm()
    if not form.validate_on_submit() and (form.reason.data or "").strip():
        # a reason typed but refused (too long, a control character): named, as a decline's are
        refuse_decline(FieldErrors([("reason", message) for message in form.reason.errors]),
                       withdrawing=withdrawn_by(uploader))
        return redirect(url_for("change_sets.show", change_set_id=change_set_id))
    try:  # none typed: the use case's refusal, said as every other kind's (refuse_decline)
        staging.reject_change_set(db.session, change_set_id, form.reason.data or "", username=current_username())
    except FieldErrors as exc:
        refuse_decline(exc, withdrawing=withdrawn_by(uploader))
    else:  # its uploader's own rejection withdraws it (the page's button says 撤回)
        flash(_("变更集已撤回，台账未作任何修改。") if withdrawn_by(uploader) else _("变更集已驳回，台账未作任何修改。"))
    return redirect(url_for("change_sets.show", change_set_id=change_set_id))
