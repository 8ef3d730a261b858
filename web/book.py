"""Screens that write the book: forms for records, the book upload, the downloads.

Views are thin: validate the form → call the use case (portfolio/records.py,
portfolio/importing.py) → flash → redirect. FieldErrors land beside their fields and
the form keeps what was typed.
"""
from __future__ import annotations

import io
from decimal import Decimal

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import func, or_, select
from wtforms import StringField

from models import CashFlow, Company, Fund, GpPackage, Investment, PendingCorrection, SubFund, Valuation
from portfolio.book import corrections, new_investments, records, todos
from portfolio.book.fund_settings import waiting_settings
from portfolio.errors import FieldErrors
from portfolio.filetypes import MIME_XLSX as XLSX
from portfolio.filetypes import ZIP_MAGIC
from portfolio.gp import reopening
from web import once, queue
from web.auth import current_username, requires, safe_next
from web.correction_forms import CorrectCashFlowForm, CorrectInvestmentForm, CorrectValuationForm
from web.extensions import db
from web.forms import (
    CashFlowForm,
    CompanyForm,
    ConfirmForm,
    InvestmentForm,
    Said,
    SubFundForm,
    UploadForm,
    ValuationForm,
    VoidForm,
    asker_of,
    checked_too,
    decide,
    refuse,
)
from web.gp import ReopenForm
from web.gp import package_page as gp_package_page
from web.security import content_disposition

bp = Blueprint("book", __name__, url_prefix="/book")

MAX_BOOK_BYTES = 32 * 1024 * 1024


def _run(form, use_case):
    """Call a use case with the form's data, at most once per rendered form (web/once.py);
    its FieldErrors go beside the fields. Returns (result or None when it refused, replayed)."""
    try:
        return once.run(form.idempotency_key.data, lambda: use_case(form.to_command()))
    except FieldErrors as exc:
        refuse(exc, form)
        return None, False


# -- records ---------------------------------------------------------------------------------

@bp.route("/investments/new", methods=["GET", "POST"])
@requires("write")
def new_investment():
    form = InvestmentForm()
    form.set_choices(db.session.execute(select(Fund).order_by(Fund.code)).scalars().all(),
                     db.session.execute(select(SubFund).order_by(SubFund.code)).scalars().all())
    if request.method == "GET" and request.args.get("fund"):
        form.fund_code.data = request.args["fund"]
    failures = None
    if form.validate_on_submit():
        try:
            asked, again = once.run(form.idempotency_key.data, lambda: new_investments.ask_investment(
                db.session, form.to_command(), username=current_username()))
        except records.RuleFailures as exc:
            failures = exc.failures
            refuse(exc, form)
        except FieldErrors as exc:
            refuse(exc, form)
        else:
            if not again:
                flash(_("新增投资 %(id)s 已提交，须由另一位有审批权限的用户批准后登记；在此之前不计入任何数字。",
                        id=asked.entity_key))
            if isinstance(asked, Investment):  # sent again after it was approved
                return redirect(url_for("main.investment", inv_id=asked.id))
            # back to the form, its request among those waiting: the pending list needs `approve`,
            # which the asker may not have
            # (the form's fund: a request sent twice at once is answered with the first's result,
            # which may be no request at all when the first is still being written)
            return redirect(url_for("book.new_investment", fund=form.fund_code.data or None,
                                    _anchor="waiting-new-investments"))
    elif form.is_submitted():
        checked_too(form, lambda fields: new_investments.check_investment(db.session, fields))
    targets = db.session.execute(select(SubFund.code, SubFund.name).order_by(SubFund.code)).all() + \
        db.session.execute(select(Company.code, Company.name).order_by(Company.code)).all()
    waiting = new_investments.waiting_investments(db.session)
    return render_template("book/investment_form.html", form=form, failures=failures, targets=targets,
                           waiting=waiting, stale_new_investments=new_investments.stale_requests(db.session, waiting))


def _simple_form(form, use_case, check, template: str, title: str, done):
    """A record's form: `use_case` writes it; `check` makes the same checks, nothing written (a form
    its own checks refused shows the use case's errors with them, web.forms.checked_too)."""
    if form.validate_on_submit():
        record, again = _run(form, lambda fields: use_case(db.session, fields, username=current_username()))
        if record is not None:
            if not again:
                flash(done[0](record))
            return redirect(done[1](record))
        if again:  # applied before, its record gone since (cannot happen to a book record)
            return redirect(url_for("book.index"))
    elif form.is_submitted():
        checked_too(form, lambda fields: check(db.session, fields))
    investment_ids = db.session.execute(select(Investment.id).order_by(Investment.id)).scalars().all() \
        if "investment_id" in form else []
    return render_template(template, form=form, title=title, investment_ids=investment_ids)


def _for_investment(form):
    """A record form with its choices, opened from an investment's page (?investment=ID)."""
    form.set_choices()
    if request.method == "GET" and request.args.get("investment"):
        form.investment_id.data = request.args["investment"]
    return form


@bp.route("/cash-flows/new", methods=["GET", "POST"])
@requires("write")
def new_cash_flow():
    return _simple_form(_for_investment(CashFlowForm()), records.record_cash_flow, records.check_cash_flow,
                        "book/form.html", _("记录现金流"), (
        lambda flow: _("现金流已记录为草稿，须由另一位有审批权限的用户审批后才计入业绩。"),
        lambda flow: url_for("main.investment", inv_id=flow.investment_id)))


@bp.route("/valuations/new", methods=["GET", "POST"])
@requires("write")
def new_valuation():
    return _simple_form(_for_investment(ValuationForm()), records.record_valuation, records.check_valuation,
                        "book/form.html", _("记录估值"), (
        lambda v: _("估值已记录为草稿，须由另一位有审批权限的用户审批后才计入业绩。"),
        lambda v: url_for("main.investment", inv_id=v.investment_id)))


@bp.route("/companies/new", methods=["GET", "POST"])
@requires("write")
def new_company():
    form = CompanyForm()
    form.set_choices()
    return _simple_form(form, records.record_company, records.check_company, "book/form.html", _("新增企业"), (
        lambda c: _("企业 %(code)s 已新增。", code=c.code),
        lambda c: url_for("main.company", code=c.code)))


@bp.route("/sub-funds/new", methods=["GET", "POST"])
@requires("write")
def new_sub_fund():
    form = SubFundForm()
    form.set_choices()
    return _simple_form(form, records.record_sub_fund, records.check_sub_fund, "book/form.html", _("新增子基金"), (
        lambda s: _("子基金 %(code)s 已新增。", code=s.code),
        lambda s: url_for("main.sub_fund", code=s.code)))


# its old address, still served (bookmarks), registered after /book/pending so that url_for never
# builds it (registered first, it had sent every link to 待审批记录 there); served rather than
# redirected, so that the roles, the hostile-query checks and the login come first as anywhere
@bp.route("/valuations/pending")
@bp.route("/pending")
@requires("approve")
def pending():
    """What waits for a checker: cash flows and valuations entered on screen, voids, corrections
    of cash flows, valuations and investments' terms and changes of funds' settings asked for,
    new investments typed in the form, reopenings of accepted GP packages."""
    # everyone's, the viewer's own too (the home page's to-dos: someone else's only)
    flows = db.session.execute(todos.drafts_waiting(CashFlow, CashFlow.date, None)).scalars().all()
    drafts = db.session.execute(todos.drafts_waiting(Valuation, Valuation.as_of, None)).scalars().all()
    asked = [(record, "cash_flow") for record in db.session.execute(todos.voids_waiting(CashFlow, None)).scalars()]
    asked += [(record, "valuation") for record in db.session.execute(todos.voids_waiting(Valuation, None)).scalars()]
    waiting_corrections = corrections.waiting_corrections(db.session)
    waiting_investments = new_investments.waiting_investments(db.session)
    return render_template("book/pending.html", flows=flows, drafts=drafts, voids=asked,
                           corrections=waiting_corrections,
                           stale_corrections=corrections.stale_corrections(db.session, waiting_corrections),
                           record_corrections=corrections.waiting_record_corrections(db.session),
                           settings=waiting_settings(db.session), new_investments=waiting_investments,
                           stale_new_investments=new_investments.stale_requests(db.session, waiting_investments),
                           reopenings=reopening.waiting_reopenings(db.session), form=ConfirmForm())


def _approve(model, record_id: int, use_case, done: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    try:
        use_case(db.session, record_id, username=current_username())
    except FieldErrors as exc:
        refuse(exc)
    else:
        flash(done)
    return redirect(safe_next(request.form.get("next"), url_for("main.investment", inv_id=record.investment_id)))


@bp.route("/valuations/<int:valuation_id>/approve", methods=["POST"])
@requires("approve")
def approve_valuation(valuation_id: int):
    return _approve(Valuation, valuation_id, records.approve_valuation, _("估值已审批，计入业绩。"))


@bp.route("/cash-flows/<int:flow_id>/approve", methods=["POST"])
@requires("approve")
def approve_cash_flow(flow_id: int):
    return _approve(CashFlow, flow_id, records.approve_cash_flow, _("现金流已审批，计入业绩。"))


def _void(model, record_id: int, use_case, what: str):
    record = db.session.get(model, record_id)
    if record is None:
        abort(404)
    form = VoidForm()
    if form.validate_on_submit():
        done, _again = _run(form, lambda fields: use_case(db.session, record_id, fields, username=current_username()))
        if done is not None:
            flash(_("已作废，记录保留在历史中。") if done.voided_at is not None
                  else _("作废申请已提交，须由另一位有审批权限的用户批准后生效；在此之前该记录仍计入业绩。"))
            return redirect(url_for("main.investment", inv_id=record.investment_id))
    return render_template("book/void.html", form=form, record=record, what=what)


def _decide_void(model, what: str, record_id: int, approve: bool):
    """A checker's answer to a void asked for: approve it, or decline it with a reason (its
    asker may withdraw it so)."""
    user = current_username()
    record = db.session.get(model, record_id)
    decide(approve, record is not None, lambda: records.approve_void(db.session, what, record_id, username=user),
           lambda reason: records.reject_void(db.session, what, record_id, {"reason": reason}, username=user),
           asker=record.void_requested_by if record is not None else None,
           said=Said(_("作废已批准，该记录不再计入业绩，保留在历史中。"), _("作废申请已驳回，该记录仍计入业绩。"),
                     _("作废申请已撤回，该记录仍计入业绩。")))
    return redirect(safe_next(request.form.get("next"), url_for("main.investment", inv_id=record.investment_id)))


@bp.route("/cash-flows/<int:flow_id>/void/approve", methods=["POST"])
@requires("approve")
def approve_flow_void(flow_id: int):
    return _decide_void(CashFlow, "cash_flow", flow_id, approve=True)


@bp.route("/cash-flows/<int:flow_id>/void/reject", methods=["POST"])
@requires("approve")
def reject_flow_void(flow_id: int):
    return _decide_void(CashFlow, "cash_flow", flow_id, approve=False)


@bp.route("/valuations/<int:valuation_id>/void/approve", methods=["POST"])
@requires("approve")
def approve_valuation_void(valuation_id: int):
    return _decide_void(Valuation, "valuation", valuation_id, approve=True)


@bp.route("/valuations/<int:valuation_id>/void/reject", methods=["POST"])
@requires("approve")
def reject_valuation_void(valuation_id: int):
    return _decide_void(Valuation, "valuation", valuation_id, approve=False)


@bp.route("/cash-flows/<int:flow_id>/void", methods=["GET", "POST"])
@requires("write")
def void_cash_flow(flow_id: int):
    return _void(CashFlow, flow_id, records.void_cash_flow, _("现金流"))


@bp.route("/valuations/<int:valuation_id>/void", methods=["GET", "POST"])
@requires("write")
def void_valuation(valuation_id: int):
    return _void(Valuation, valuation_id, records.void_valuation, _("估值"))


# -- the whole book: upload and downloads -----------------------------------------------------

@bp.route("/upload", methods=["GET", "POST"])
@requires("write")
def upload():
    from portfolio.interchange.staging import stage_book

    form = UploadForm()
    result = None
    if form.validate_on_submit():
        file = form.book.data
        content = file.read(MAX_BOOK_BYTES + 1)
        if len(content) > MAX_BOOK_BYTES:
            form.book.errors = list(form.book.errors) + [_("文件过大（上限 32 MB）")]
        elif not content.startswith(ZIP_MAGIC):  # an .xlsx is a zip archive
            form.book.errors = list(form.book.errors) + [_("不是有效的 .xlsx 文件")]
        elif len(content) >= current_app.config.get("UPLOAD_JOB_MIN_BYTES", UPLOAD_JOB_MIN_BYTES):
            # a large book: read, checked and staged by a job, followed by its progress bar
            job = _submit_upload(content, file.filename or "upload.xlsx")
            return redirect(url_for("book.upload_job", job_id=job.id))
        else:
            try:
                # checked as an import is, then kept as a change set for a second person to apply;
                # the form sent twice (a double click) stages it once
                result, again = once.run(form.idempotency_key.data, lambda: stage_book(
                    db.session, io.BytesIO(content), username=current_username(), filename=file.filename))
                if again:  # the first one's change set (none: its file was refused, nothing kept)
                    return redirect(url_for("change_sets.show", change_set_id=result.id) if result is not None
                                    else url_for("book.upload"))
            except Exception:  # an unreadable workbook: say so, write nothing
                db.session.rollback()
                current_app.logger.exception("book upload failed")
                form.book.errors = list(form.book.errors) + [_("无法读取该文件，请确认是 .xlsx 工作簿")]
            else:
                if result.errors:
                    _keep_errors(result.errors)
                if result.change_set is not None:
                    flash(_("台账已上传为待审批的变更集，须由另一位有审批权限的用户批准后才写入台账。"))
                    return redirect(url_for("change_sets.show", change_set_id=result.change_set.id))
    return render_template("book/upload.html", form=form, result=result)


ERRORS_FOLDER = "import-errors"
SHOWN_ERRORS = 200  # errors listed on the page; the CSV has them all


def _write_errors(errors) -> str:
    """The whole error list under the upload folder, by a random name: the name. Kept as JSON
    (each message by its key), made a CSV in the reader's language when downloaded."""
    import json
    import secrets
    from pathlib import Path

    from portfolio.interchange.schema import errors_json

    folder = Path(current_app.config["UPLOAD_FOLDER"]) / ERRORS_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    name = secrets.token_hex(16)
    (folder / f"{name}.json").write_text(json.dumps(errors_json(errors), ensure_ascii=False), encoding="utf-8")
    return name


def _keep_errors(errors=None, name: str | None = None) -> None:
    """The whole error list of the user's last refused upload, as a file for 下载全部错误 (the
    page shows the first 200). Kept under the upload folder by a random name that only this
    session knows; the next refused upload replaces it."""
    from pathlib import Path

    from flask import session

    folder = Path(current_app.config["UPLOAD_FOLDER"]) / ERRORS_FOLDER
    old = session.get("import_errors")
    if isinstance(old, str) and old.isalnum() and old != name:
        (folder / f"{old}.json").unlink(missing_ok=True)
        (folder / f"{old}.csv").unlink(missing_ok=True)  # kept as a CSV before
    session["import_errors"] = name or _write_errors(errors)


# -- a large upload as a job (web/queue.py): read, checked and staged with a progress bar -------

UPLOAD_JOB_MIN_BYTES = 512 * 1024  # a smaller book is staged within the request
UPLOADS_FOLDER = "staging-uploads"


def _upload_path(digest: str):
    from pathlib import Path

    return Path(current_app.config["UPLOAD_FOLDER"]) / UPLOADS_FOLDER / f"{digest}.xlsx"


def _submit_upload(content: bytes, filename: str):
    """Keep the file (by its hash) and start, or find, the job staging it. The same file
    uploaded again by the same user on the same book is the same job: one change set."""
    import hashlib

    digest = hashlib.sha256(content).hexdigest()
    path = _upload_path(digest)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.is_file():
        part = path.with_name(path.name + ".part")
        part.write_bytes(content)
        part.replace(path)
    return queue.submit("stage_upload", {"file": digest, "filename": filename[:255], "by": current_username()},
                        username=current_username())


@queue.handler("stage_upload")
def stage_upload_job(job: queue.JobContext) -> dict:
    """A job: stage an uploaded book (portfolio.interchange.staging.stage_book) with its
    progress (rows read, sheets checked). Run again after a worker died, it gives the change
    set it staged (noted on the job's row in the same transaction), never a second one."""
    from portfolio.interchange.staging import stage_book

    path = _upload_path(job.params["file"])
    content = path.read_bytes() if path.is_file() else b""  # gone: staged by an earlier attempt
    try:
        result = stage_book(db.session, io.BytesIO(content), username=job.started_by,
                            filename=job.params.get("filename"), progress=job.progress, job_id=job.id)
    except FieldErrors:
        raise
    except Exception as error:  # an unreadable workbook: say so, write nothing
        db.session.rollback()
        current_app.logger.exception("book upload job %s failed", job.id)
        from portfolio.messages import Message  # the refusal by key: each reader reads it in their language

        raise queue.JobRefused(Message("book_unreadable")) from error
    path.unlink(missing_ok=True)
    if result.errors:
        return {"error_count": len(result.errors), "errors_file": _write_errors(result.errors),
                "errors": [e.as_json() for e in result.errors[:SHOWN_ERRORS]]}
    return {"change_set": result.change_set.id if result.change_set is not None else None,
            "counts": result.counts}


def _upload_job_or_back(job_id: int):
    job = queue.get_job(job_id)
    if job is None or job.kind != "stage_upload":
        flash(_("没有这个上传任务。"), "error")
        return None
    return job


@bp.route("/upload/jobs/<int:job_id>")
@requires("write")
def upload_job(job_id: int):
    """The upload's job: its progress bar while it runs; done, the change set's preview (or
    the errors, or the word that the book already matches the file)."""
    from types import SimpleNamespace

    from portfolio.interchange.schema import BookError

    job = _upload_job_or_back(job_id)
    if job is None:
        return redirect(url_for("book.upload"))
    queue.ensure_consumer(current_app._get_current_object())  # type: ignore[attr-defined]
    outcome = job.result or {}
    if job.state == "done" and outcome.get("change_set"):
        flash(_("台账已上传为待审批的变更集，须由另一位有审批权限的用户批准后才写入台账。"))
        return redirect(url_for("change_sets.show", change_set_id=outcome["change_set"]))
    if job.state == "done":
        errors = [BookError.from_json(e) for e in outcome.get("errors", [])]
        if errors and job.started_by == current_username() and str(outcome.get("errors_file", "")).isalnum():
            _keep_errors(name=outcome["errors_file"])
        result = SimpleNamespace(ok=not errors, errors=errors, error_count=outcome.get("error_count", 0),
                                 counts=outcome.get("counts") or {})
        return render_template("book/upload.html", form=UploadForm(), result=result)
    return render_template("book/upload_job.html", job=job, status=queue.page_status(job, "book.upload_job"), units=queue.UNITS)


@bp.route("/upload/jobs/<int:job_id>.json")
@requires("write")
def upload_job_status(job_id: int):
    """The upload job's state and progress, polled by static/jobs.js."""
    from flask import jsonify

    job = _upload_job_or_back(job_id)
    if job is None:
        return jsonify({"error": _("没有这个上传任务。")}), 404
    queue.ensure_consumer(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(queue.page_status(job, "book.upload_job"))


@bp.route("/upload/errors.csv")
@requires("write")
def upload_errors():
    """The whole error list of this session's last refused upload, as a CSV in the reader's
    language."""
    import json
    from pathlib import Path

    from flask import session

    from portfolio.interchange.schema import errors_csv, errors_from_json
    from web.i18n import current_lang

    name = session.get("import_errors")
    folder = Path(current_app.config["UPLOAD_FOLDER"]) / ERRORS_FOLDER
    kept, old = folder / f"{name}.json", folder / f"{name}.csv"
    if not isinstance(name, str) or not name.isalnum() or not (kept.is_file() or old.is_file()):
        flash(_("没有可下载的错误清单：它属于上传出错的那次会话，且只保留最近一次。"), "error")
        return redirect(url_for("book.upload"))
    download_name = _("导入错误清单.csv")
    if not kept.is_file():  # written as a CSV before the errors were kept by key
        return send_file(old, mimetype="text/csv", as_attachment=True, download_name=download_name)
    errors = errors_from_json(json.loads(kept.read_text(encoding="utf-8")))
    return send_file(io.BytesIO(errors_csv(errors, current_lang())), mimetype="text/csv",
                     as_attachment=True, download_name=download_name)


def book_file_name(fund: Fund | None) -> str:
    """The download's name: what (the fund's book, or every fund's) and the day (Asia/Shanghai),
    e.g. 宁波千亿科技创新基金台账_2026-12-02.xlsx, 全部基金台账_2026-12-02.xlsx."""
    from portfolio.formatting import local_today
    from web.i18n import fund_name

    what = _("%(fund)s台账", fund=fund_name(fund)) if fund is not None else _("全部基金台账")
    what = "".join("_" if c in '/\\:*?"<>|' or not c.isprintable() else c for c in what)
    return f"{what}_{local_today().isoformat()}.xlsx"


def _xlsx_download(data: bytes, name: str):
    response = send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name=name)
    response.headers["Content-Disposition"] = content_disposition(name)
    return response


@bp.route("/download")
def download():
    from portfolio.interchange.exporting import export_book

    code = request.args.get("fund") or None
    fund = db.session.get(Fund, code) if code is not None else None
    if code is not None and fund is None:
        abort(404)
    buffer = io.BytesIO()
    export_book(db.session, buffer, chinese_headers=request.args.get("headers") == "zh", fund_code=code)
    return _xlsx_download(buffer.getvalue(), book_file_name(fund))


@bp.route("/template")
def template():
    from portfolio.interchange.exporting import template_workbook
    from web.i18n import current_lang

    # the headers in the reader's language: Chinese, or the English names (interchange.md takes either)
    return _xlsx_download(template_workbook(chinese_headers=current_lang().startswith("zh")), _("台账空白模板") + ".xlsx")


@bp.route("/")
def index():
    """The book's page: upload, downloads, forms."""
    funds = db.session.execute(select(Fund).order_by(Fund.code)).scalars().all()
    drafts = sum(db.session.execute(select(func.count()).select_from(model).where(
        or_(model.approved_at.is_(None), model.void_requested_at.is_not(None)), model.voided_at.is_(None)))
        .scalar_one() for model in (CashFlow, Valuation))
    drafts += db.session.execute(select(func.count()).select_from(PendingCorrection)).scalar_one()
    return render_template("book/index.html", funds=funds, draft_count=drafts)



# -- corrections (portfolio/book/corrections.py) ---------------------------------------------

def _correction_checks(form, kind: str, record_id):
    """The checks of a correction of the record `record_id` of `kind` (corrections.check_correction),
    for a form its own checks refused (web.forms.checked_too). A value the form refused is not
    known to the use case, so neither is whether the correction changes anything: its "nothing to
    correct" is left unsaid then."""
    def check(fields):
        try:
            corrections.check_correction(db.session, kind, record_id, fields)
        except FieldErrors as exc:
            if not any(field.errors for field in form if field.name != "correction_reason"):
                raise
            kept = [(name, message) for name, message in exc.errors
                    if getattr(message, "key", None) != "nothing_to_correct"]
            if kept:
                raise FieldErrors(kept) from exc
    return check


def _correct(kind: str, record_id, form, use_case, title: str, done_message, investment_id, *,
             waiting_shown: bool = True):
    """The form of a record of `kind` (corrections.KINDS) shown filled in, with the version it was
    shown at; a correction of a record changed meanwhile is refused by the use case. A correction
    of it waiting is shown above its form (`waiting_shown`: a cash flow's or valuation's). A form
    its own checks refused shows the use case's errors with them."""
    record = db.session.get(corrections.KINDS[kind].model, record_id)
    if record is None or getattr(record, "voided_at", None) is not None:
        abort(404)
    waiting = []
    if waiting_shown:
        asked = corrections.pending_correction(db.session, str(record_id), kind)
        waiting = corrections.asked_corrections(db.session, [asked]) if asked is not None else []
    if request.method == "GET":
        form.process(obj=record)
        for field in form:  # a stored ratio (15.0000) is shown as typed (15)
            if type(field) is StringField and isinstance(field.data, Decimal):
                field.data = format(field.data.normalize(), "f")
        form.version.data = corrections.version_of(record)
    elif form.validate_on_submit():
        corrected, _again = _run(form, lambda fields: use_case(db.session, record_id, fields,
                                                               username=current_username()))
        if corrected is not None:
            flash(done_message(corrected) if callable(done_message) else done_message)
            return redirect(url_for("main.investment", inv_id=investment_id(corrected)))
    elif form.is_submitted():
        checked_too(form, _correction_checks(form, kind, record_id))
    return render_template("book/form.html", form=form, title=title, investment_ids=[], waiting=waiting)


def _record_corrected(record) -> str:
    """What a correction of a cash flow or valuation did: asked for (it was approved), or a draft corrected."""
    if record.approved_at is not None:
        return _("更正申请已提交，须由另一位有审批权限的用户批准后生效；在此之前该记录仍按原值计入业绩。")
    return _("草稿已更正，仍须由另一位有审批权限的用户审批后才计入业绩。")


@bp.route("/cash-flows/<int:flow_id>/correct", methods=["GET", "POST"])
@requires("write")
def correct_cash_flow(flow_id: int):
    form = CorrectCashFlowForm()
    form.set_choices()
    return _correct("cash_flows", flow_id, form, corrections.correct_cash_flow, _("更正现金流"),
                    _record_corrected, lambda r: r.investment_id)


@bp.route("/valuations/<int:valuation_id>/correct", methods=["GET", "POST"])
@requires("write")
def correct_valuation(valuation_id: int):
    form = CorrectValuationForm()
    form.set_choices()
    return _correct("valuations", valuation_id, form, corrections.correct_valuation, _("更正估值"),
                    _record_corrected, lambda r: r.investment_id)


@bp.route("/investments/<inv_id>/correct", methods=["GET", "POST"])
@requires("write")
def correct_investment(inv_id: str):
    form = CorrectInvestmentForm()
    form.set_choices()
    return _correct("investments", inv_id, form, corrections.correct_investment, _("更正投资"),
                    _("更正申请已提交，须由另一位有审批权限的用户批准后生效；在此之前仍按原条款计算。"), lambda r: r.id,
                    waiting_shown=False)


def _decide_correction(inv_id: str, approve: bool):
    """A checker's answer to a correction of an investment's terms: approve it (applied now), or
    decline it with a reason."""
    user = current_username()
    decide(approve, db.session.get(Investment, inv_id) is not None,
           lambda: corrections.approve_correction(db.session, inv_id, username=user),
           lambda reason: corrections.decline_correction(db.session, inv_id, {"reason": reason}, username=user),
           asker=asker_of("investments", inv_id),
           said=Said(_("更正已批准并生效。"), _("更正申请已驳回，投资条款不变。"), _("更正申请已撤回，投资条款不变。")))
    return redirect(safe_next(request.form.get("next"), url_for("main.investment", inv_id=inv_id)))


@bp.route("/investments/<inv_id>/correction/approve", methods=["POST"])
@requires("approve")
def approve_correction(inv_id: str):
    return _decide_correction(inv_id, approve=True)


@bp.route("/investments/<inv_id>/correction/reject", methods=["POST"])
@requires("approve")
def reject_correction(inv_id: str):
    return _decide_correction(inv_id, approve=False)


def _decide_record_correction(model, entity: str, record_id: int, approve: bool):
    """A checker's answer to a correction of a cash flow or valuation: approve it (applied now,
    the record staying approved), or decline it with a reason (the record as it was)."""
    user = current_username()
    record = db.session.get(model, record_id)
    decide(approve, record is not None,
           lambda: corrections.approve_correction(db.session, record_id, username=user, entity=entity),
           lambda reason: corrections.decline_correction(db.session, record_id, {"reason": reason},
                                                         username=user, entity=entity),
           asker=asker_of(entity, record_id),
           said=Said(_("更正已批准并生效。"), _("更正申请已驳回，该记录不变。"), _("更正申请已撤回，该记录不变。")))
    return redirect(safe_next(request.form.get("next"), url_for("main.investment", inv_id=record.investment_id)))


@bp.route("/cash-flows/<int:flow_id>/correction/approve", methods=["POST"])
@requires("approve")
def approve_flow_correction(flow_id: int):
    return _decide_record_correction(CashFlow, "cash_flows", flow_id, approve=True)


@bp.route("/cash-flows/<int:flow_id>/correction/reject", methods=["POST"])
@requires("approve")
def reject_flow_correction(flow_id: int):
    return _decide_record_correction(CashFlow, "cash_flows", flow_id, approve=False)


@bp.route("/valuations/<int:valuation_id>/correction/approve", methods=["POST"])
@requires("approve")
def approve_valuation_correction(valuation_id: int):
    return _decide_record_correction(Valuation, "valuations", valuation_id, approve=True)


@bp.route("/valuations/<int:valuation_id>/correction/reject", methods=["POST"])
@requires("approve")
def reject_valuation_correction(valuation_id: int):
    return _decide_record_correction(Valuation, "valuations", valuation_id, approve=False)


# -- a new investment asked for (portfolio/book/new_investments.py) -------------------------------

def _decide_new_investment(inv_id: str, approve: bool):
    """A checker's answer to a new investment typed in the form: approve it (booked now), or
    decline it with a reason (its asker may withdraw it so)."""
    user = current_username()
    asker = asker_of(new_investments.ENTITY, inv_id)
    found = asker is not None or db.session.get(Investment, inv_id) is not None
    if decide(approve, found, lambda: new_investments.approve_investment(db.session, inv_id, username=user),
              lambda reason: new_investments.decline_investment(db.session, inv_id, {"reason": reason}, username=user),
              asker=asker, said=Said(_("新增投资 %(id)s 已批准并登记。", id=inv_id),
                                     _("新增投资 %(id)s 的申请已驳回，未登记。", id=inv_id),
                                     _("新增投资 %(id)s 的申请已撤回，未登记。", id=inv_id))) and approve:
        return redirect(safe_next(request.form.get("next"), url_for("main.investment", inv_id=inv_id)))
    return redirect(safe_next(request.form.get("next"), url_for("book.pending", _anchor="new-investments")))


@bp.route("/investment-requests/<inv_id>/approve", methods=["POST"])
@requires("approve")
def approve_new_investment(inv_id: str):
    return _decide_new_investment(inv_id, approve=True)


@bp.route("/investment-requests/<inv_id>/reject", methods=["POST"])
@requires("approve")
def reject_new_investment(inv_id: str):
    return _decide_new_investment(inv_id, approve=False)


# -- reopening an accepted GP package (portfolio/gp/reopening.py) ----------------------------------

@bp.route("/gp-packages/<int:package_id>/reopen", methods=["POST"])
@requires("approve")
def reopen_gp_package(package_id: int):
    """A fund manager asks to reopen an accepted package, with a reason: another person approves it."""
    record = db.session.get(GpPackage, package_id)
    if record is None:
        abort(404)
    form = ReopenForm()
    if form.validate_on_submit():
        try:
            reopening.ask_reopen(db.session, package_id, {"reason": form.reason.data}, username=current_username())
        except FieldErrors as exc:
            refuse(exc, form)
        else:
            flash(_("重新打开的申请已提交，须由另一位有审批权限的用户批准后生效；在此之前该报告仍按已接受计入台账。"))
            return redirect(url_for("gp.package", package_id=package_id))
    # refused (no reason, one too long, not the interest's latest quarter, …): the package's page
    # again, the reason as typed and what is wrong beside it (the rest flashed)
    return gp_package_page(record, reopen_form=form)  # (after a rollback, read again as it is used)


def _decide_reopening(package_id: int, approve: bool):
    """A checker's answer to a reopening: approve it (the package back to the GP now), or
    decline it with a reason (its asker may withdraw it so)."""
    user = current_username()
    decide(approve, db.session.get(GpPackage, package_id) is not None,
           lambda: reopening.approve_reopen(db.session, package_id, username=user),
           lambda reason: reopening.decline_reopen(db.session, package_id, {"reason": reason}, username=user),
           asker=asker_of(reopening.ENTITY, package_id),
           said=Said(_("已重新打开：该报告的估值已作废，投资明细已恢复为接受前的状态，报告已退回管理人修改。"),
                     _("重新打开的申请已驳回，该报告仍为已接受。"), _("重新打开的申请已撤回，该报告仍为已接受。")))
    return redirect(safe_next(request.form.get("next"), url_for("gp.package", package_id=package_id)))


@bp.route("/gp-packages/<int:package_id>/reopen/approve", methods=["POST"])
@requires("approve")
def approve_gp_reopening(package_id: int):
    return _decide_reopening(package_id, approve=True)


@bp.route("/gp-packages/<int:package_id>/reopen/reject", methods=["POST"])
@requires("approve")
def reject_gp_reopening(package_id: int):
    return _decide_reopening(package_id, approve=False)
