"""Administration (admin only): users and their roles. Passwords are never shown."""
from __future__ import annotations

from pathlib import Path

from flask import Blueprint, current_app, flash, jsonify, make_response, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from models import Fund, User, utcnow
from portfolio.book import records
from portfolio.book import users as users_cases
from portfolio.book.tokens import check_token, issue_token, revoke_token
from portfolio.book.tokens import tokens as list_tokens
from portfolio.book.users import create_user, random_password
from portfolio.book.users import reset_password as reset_user_password
from portfolio.errors import FieldErrors
from portfolio.formatting import file_size
from portfolio.messages import Message
from web import once, queue
from web.auth import current_username, requires
from web.extensions import db
from web.forms import ConfirmForm, RoleForm, TokenForm, UserForm, checked_too, refuse
from web.i18n import fund_name

bp = Blueprint("admin", __name__, url_prefix="/admin")


# A secret (a new password, a token) is shown on the page that answers the form (`shown_once`,
# base.html), never flashed: flashed messages travel in the session cookie, which is signed, not
# encrypted, so anyone who saw the cookie could read them.


@bp.route("/users")
@requires("configure")
def users(shown_once: str | None = None):
    people = db.session.execute(select(User).order_by(User.username)).scalars().all()
    role_forms = {}
    for user in people:
        form = RoleForm(prefix=f"u{user.id}", role=user.role)
        form.set_choices()
        role_forms[user.id] = form
    return render_template("admin/users.html", users=people, role_forms=role_forms, confirm=ConfirmForm(),
                           shown_once=shown_once)


@bp.route("/users/new", methods=["GET", "POST"])
@requires("configure")
def new_user():
    form = UserForm()
    form.set_choices()
    if form.validate_on_submit():
        try:  # a name already taken is the use case's refusal, beside the field
            create_user(db.session, form.username.data.strip(), form.role.data, form.password.data,
                        by=current_username(), display_name=form.display_name.data or None, replace=False)
        except FieldErrors as exc:
            refuse(exc, form)
        else:
            flash(_("用户 %(name)s 已创建。", name=form.username.data.strip()))
            return redirect(url_for(".users"))
    elif form.is_submitted():
        checked_too(form, lambda fields: users_cases.check_user(db.session, fields))
    return render_template("admin/user_form.html", form=form)


def _flash_errors(exc: FieldErrors) -> None:
    refuse(exc)


@bp.route("/users/<int:user_id>/role", methods=["POST"])
@requires("configure")
def change_role(user_id: int):
    form = RoleForm(prefix=f"u{user_id}")
    form.set_choices()
    if form.validate_on_submit():
        try:
            user = records.change_role(db.session, user_id, form.role.data, username=current_username())
        except FieldErrors as exc:
            _flash_errors(exc)
        else:
            flash(_("已将 %(name)s 的角色改为 %(role)s。", name=user.username, role=form.role.data))
    else:
        flash(_("角色无效"), "error")
    return redirect(url_for(".users"))


@bp.route("/users/<int:user_id>/deactivate", methods=["POST"])
@requires("configure")
def deactivate(user_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            user = records.deactivate_user(db.session, user_id, username=current_username())
        except FieldErrors as exc:
            _flash_errors(exc)
        else:
            flash(_("用户 %(name)s 已停用。", name=user.username))
    return redirect(url_for(".users"))


@bp.route("/users/<int:user_id>/password", methods=["POST"])
@requires("configure")
def reset_password(user_id: int):
    """A new random password for a user, shown to the admin once; the user's sessions end."""
    form = ConfirmForm()
    if form.validate_on_submit():
        target = db.session.get(User, user_id)
        password = random_password(target.username if target is not None else "")
        try:  # the form sent again (a reload) does not reset again: the password shown stays the one
            user, again = once.run(form.idempotency_key.data,
                                   lambda: reset_user_password(db.session, user_id, password, by=current_username()))
        except FieldErrors as exc:
            _flash_errors(exc)
        else:
            if not again:
                return _not_stored(users(shown_once=_(
                    "已为 %(name)s 设置新密码：%(password)s（只显示这一次，请当面或另行安全告知）",
                    name=user.username, password=password)))
    return redirect(url_for(".users"))


def _not_stored(page: str):
    """A page that shows a secret: kept by no cache, the browser's included (no-store)."""
    response = make_response(page)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.route("/tokens", methods=["GET", "POST"])
@requires("configure")
def api_tokens():
    """API tokens for other systems: issue one (shown once), see their use, revoke."""
    form, shown_once = TokenForm(), None
    choices = [("", _("全部基金"))] + [
        (f.code, f"{f.code} {fund_name(f)}") for f in db.session.execute(select(Fund).order_by(Fund.code)).scalars()]
    form.fund_code.choices = choices
    if form.validate_on_submit():
        try:
            issued, again = once.run(form.idempotency_key.data, lambda: issue_token(
                db.session, form.name.data, form.fund_code.data or None, form.days.data, by=current_username()))
        except FieldErrors as exc:
            refuse(exc, form)
        else:
            if again:  # the form sent again (a reload): its token is not shown twice, nor issued twice
                return redirect(url_for(".api_tokens"))
            token, record = issued
            shown_once = _("令牌 %(name)s 已签发：%(token)s（只显示这一次，请立即复制保存）", name=record.name, token=token)
            form = TokenForm(formdata=None)
            form.fund_code.choices = choices
    elif form.is_submitted():
        checked_too(form, lambda fields: check_token(db.session, fields))
    page = render_template("admin/tokens.html", form=form, tokens=list_tokens(db.session), confirm=ConfirmForm(),
                           now=utcnow(), shown_once=shown_once)
    return _not_stored(page) if shown_once else page


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@requires("configure")
def revoke_api_token(token_id: int):
    if ConfirmForm().validate_on_submit():
        try:
            record = revoke_token(db.session, token_id, by=current_username())
        except FieldErrors as exc:
            _flash_errors(exc)
        else:
            flash(_("令牌 %(name)s 已吊销。", name=record.name))
    return redirect(url_for(".api_tokens"))


# -- backups as jobs (web/queue.py): started here or by `flask backup`, followed by a bar ------

BACKUPS_FOLDER = "backups"  # under the instance folder: the archives the screens made


def _backups_folder() -> Path:
    return Path(current_app.config.get("BACKUPS_FOLDER") or Path(current_app.instance_path) / BACKUPS_FOLDER)


@queue.handler("backup")
def run_backup(job: queue.JobContext) -> dict:
    """A job: the whole state in one archive (portfolio.book.backup), with its progress (tables
    written). Its file is named by the job (or given by the command line), written under a
    temporary name and renamed when whole: run again, it writes the same file again. Its
    result names the book version the archive holds (its manifest's, read when it ran, not
    the one it was queued at), which the job is then the backup of (jobs.finish)."""
    import zipfile

    from portfolio.book.backup import BackupError, read_manifest, write_backup

    given = job.params.get("path")
    path = Path(given) if given else _backups_folder() / f"backup-{job.id}.zip"
    try:
        counts = write_backup(db.session, path, current_app.config["UPLOAD_FOLDER"], progress=job.progress)
    except BackupError as error:
        # several: one Message of them all, each reader's language separating them (messages.clauses)
        refusal = error.errors[0][1] if len(error.errors) == 1 else Message("backup_refused", errors=error.errors)
        raise queue.JobRefused(refusal) from error  # one Message (by key): each reader reads it in their language
    finally:
        db.session.rollback()  # the reads' transaction: ended, the book is not held
    with zipfile.ZipFile(path) as archive:
        held = read_manifest(archive)["book_version"]
    return {"file": str(path) if given else path.name, "counts": counts, "bytes": path.stat().st_size,
            "book_version": held}


def _backup_status(job) -> dict:
    return queue.status(job, status_url=url_for("admin.backup_job_status", job_id=job.id),
                        result_url=url_for("admin.backup_download", job_id=job.id))


def _backup_job_or_none(job_id: int):
    job = queue.get_job(job_id)
    return job if job is not None and job.kind == "backup" and not (job.params or {}).get("path") else None


@bp.route("/backups", methods=["GET", "POST"])
@requires("configure")
def backups():
    """Backups: start one (a job; the same book already backed up gives that backup), and
    the recent ones with their downloads."""
    from models import Job

    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            flash(_("请从页面上的按钮发起备份。"), "error")
            return redirect(url_for("admin.backups"))
        job = queue.submit("backup", {}, username=current_username())
        if request.accept_mimetypes.best == "application/json":
            return jsonify(_backup_status(queue.get_job(job.id))), 202
        return redirect(url_for("admin.backup_job", job_id=job.id))
    recent = db.session.execute(select(Job).where(Job.kind == "backup").order_by(Job.id.desc()).limit(20)).scalars()
    jobs = [j for j in recent if not (j.params or {}).get("path")]
    return render_template("admin/backups.html", form=form, jobs=jobs, units=queue.UNITS,
                           prune_form=ConfirmForm(), keep=max(1, int(current_app.config.get("BACKUPS_KEEP", 10))),
                           upload_days=int(current_app.config.get("PRUNE_UPLOADS_AFTER_DAYS", 30)))


def prune_now(username: str, *, dry_run: bool = False, days: int | None = None, keep: int | None = None):
    """Prune old uploads given up on and backups beyond the newest kept, by this app's
    settings (PRUNE_UPLOADS_AFTER_DAYS, BACKUPS_KEEP) unless given: portfolio.book.pruning, audited."""
    from portfolio.book.pruning import prune

    config = current_app.config
    return prune(db.session, upload_folder=config["UPLOAD_FOLDER"], backups_folder=_backups_folder(),
                 upload_days=int(config.get("PRUNE_UPLOADS_AFTER_DAYS", 30)) if days is None else days,
                 keep_backups=int(config.get("BACKUPS_KEEP", 10)) if keep is None else keep,
                 username=username, dry_run=dry_run)


@bp.route("/backups/prune", methods=["POST"])
@requires("configure")
def prune_backups():
    """清理: the same pruning as `flask prune` and the daily task, now."""
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash(_("请从页面上的按钮发起清理。"), "error")
        return redirect(url_for("admin.backups"))
    pruned = prune_now(current_username())
    flash(_("已清理 %(count)s 个文件（释放 %(size)s）。", count=pruned.count, size=file_size(pruned.freed)))
    return redirect(url_for("admin.backups"))


@bp.route("/backups/jobs/<int:job_id>")
@requires("configure")
def backup_job(job_id: int):
    job = _backup_job_or_none(job_id)
    if job is None:
        flash(_("没有这个备份任务。"), "error")
        return redirect(url_for("admin.backups"))
    queue.ensure_consumer(current_app._get_current_object())  # type: ignore[attr-defined]
    return render_template("admin/backup_job.html", job=job, status=_backup_status(job), units=queue.UNITS)


@bp.route("/backups/jobs/<int:job_id>.json")
@requires("configure")
def backup_job_status(job_id: int):
    """The backup job's state and progress, polled by static/jobs.js."""
    job = _backup_job_or_none(job_id)
    if job is None:
        return jsonify({"error": _("没有这个备份任务。")}), 404
    queue.ensure_consumer(current_app._get_current_object())  # type: ignore[attr-defined]
    return jsonify(_backup_status(job))


@bp.route("/backups/jobs/<int:job_id>/download")
@requires("configure")
def backup_download(job_id: int):
    job = _backup_job_or_none(job_id)
    path = _backups_folder() / str((job.result or {}).get("file", "")) if job is not None and job.state == "done" \
        else None
    if path is None or not path.is_file() or path.parent != _backups_folder():
        flash(_("该备份尚未完成或文件已不在。"), "error")
        return redirect(url_for("admin.backups"))
    stamp = (job.finished_at or utcnow()).strftime("%Y%m%d-%H%M%S")  # type: ignore[union-attr]
    return send_file(path, mimetype="application/zip", as_attachment=True, download_name=f"backup-{stamp}.zip")
