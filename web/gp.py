"""The GP portal: a sub-fund's manager enters or uploads its quarterly package, sees every
tie-out check with its figure, fixes and submits; the fund's managers review, return or
accept; an admin invites a sub-fund's manager. Who reaches what is decided in web/auth.py
(PERMISSIONS, SCOPED_ENDPOINTS, sub_fund_scope); views only call portfolio/gp/packages.py."""
from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import dataclass

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField, FileRequired
from sqlalchemy import select
from wtforms import HiddenField, PasswordField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from models import AuditEntry, GpPackage, Investment, SubFund
from portfolio import formatting
from portfolio.book import cache, users
from portfolio.commands import InviteCommand
from portfolio.errors import FieldErrors
from portfolio.figures import tieout
from portfolio.formatting import last_quarter_end, parse_date
from portfolio.gp import packages, reopening
from portfolio.gp import template as gp_template
from portfolio.messages import from_json, shown
from portfolio.money import UNITS, in_unit, yuan
from portfolio.record_rules import LONG_TEXT_LENGTH
from web import once
from web.auth import current_username, requires, sub_fund_scope
from web.extensions import db
from web.fields import DayField
from web.forms import BaseForm, ConfirmForm, checked_too, refuse
from web.i18n import PUNCTUATION, current_lang

bp = Blueprint("gp", __name__, url_prefix="/gp")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MAX_PACKAGE_BYTES = 8 * 1024 * 1024


class PackageForm(BaseForm):
    investment_id = SelectField(_l("投资（基金在子基金中的份额）"), validators=[DataRequired()])
    quarter_end = DayField(_l("报告期末"), validators=[DataRequired()])
    narrative = TextAreaField(_l("情况说明（可选）"), validators=[Optional(), Length(max=LONG_TEXT_LENGTH)])
    # the package as the edit form showed it (packages.package_version): a save never writes over a later one
    version = HiddenField()


class UploadPackageForm(BaseForm):
    file = FileField(_l("季度报告（.xlsx 模板）"), validators=[FileRequired()])
    # the drafts the page showed, each as `id:version` (packages.package_version): an upload
    # replaces a draft only as the page showed it (the workbook names which)
    versions = HiddenField(validators=[Optional(), Length(max=200_000)])


class ReturnForm(BaseForm):
    # one left empty is refused by the use case (portfolio/gp/packages.py), in its words, beside the field
    comment = TextAreaField(_l("退回意见"), validators=[Length(max=packages.RETURN_COMMENT_MAX_LEN)])


class ReopenForm(BaseForm):
    # its length (at most reopening.REASON_MAX_LEN characters) checked by the use case (portfolio/gp/reopening.py)
    reason = TextAreaField(_l("重新打开的理由"))


class InviteForm(BaseForm):
    # the password's other rules are the use case's (users.password_problems), said on the same submit
    username = StringField(_l("用户名"), validators=[DataRequired(), Length(max=users.USERNAME_MAX_LEN)])
    display_name = StringField(_l("姓名"), validators=[Optional(), Length(max=users.DISPLAY_NAME_MAX_LEN)])
    password = PasswordField(_l("初始密码"), validators=[DataRequired(), Length(max=users.MAX_PASSWORD_LENGTH)])
    sub_funds = SelectMultipleField(_l("子基金"), validators=[DataRequired()])

    command = InviteCommand


lp, rp = PUNCTUATION["lp"], PUNCTUATION["rp"]  # （） in Chinese, ( ) in English, chosen when shown


def _scope() -> list[str] | None:
    return sub_fund_scope()


def _interests() -> list[Investment]:
    scope = _scope()
    if scope is None:
        codes = list(db.session.execute(select(SubFund.code)).scalars())
        return packages.interests(db.session, codes)
    return packages.interests(db.session, scope)


def _package_or_404(package_id: int) -> GpPackage:
    try:
        return packages.get_package(db.session, package_id, _scope())
    except LookupError:
        abort(404)


def _today() -> dt.date:
    return formatting.local_today()


@bp.route("/")
@requires("report")
def portal():
    return _portal_page(UploadPackageForm())


def _portal_page(upload: UploadPackageForm):
    """The GP's page: its sub-funds, what the fund asks of it, its packages and their history;
    the upload form carrying the versions of the drafts shown (kept as sent when it answers a
    refused upload: the page must be drawn again for an upload to replace a draft)."""
    scope = _scope() or []
    interests = packages.interests(db.session, scope)
    sub_funds = [db.session.get(SubFund, code) for code in scope]
    listed = packages.packages_of(db.session, scope)
    if request.method == "GET":
        upload.versions.data = " ".join(f"{p.id}:{packages.package_version(p)}" for p in listed
                                        if p.status in packages.EDITABLE)
    return render_template("gp/portal.html", sub_funds=sub_funds, interests=interests,
                           requests=packages.requests(db.session, interests, _today()),
                           packages=listed, upload=upload)


_DRAWN = re.compile(r"([0-9]{1,18}):([0-9a-f]{16})")


def _drawn_versions(text: str | None) -> dict[int, str]:
    """The upload form's `versions` as {package id: version}; anything else in it is ignored
    (an upload whose draft is not among them is refused as stale)."""
    return {int(m.group(1)): m.group(2) for m in map(_DRAWN.fullmatch, (text or "").split()[:10_000]) if m}


@bp.route("/template.xlsx")
@requires("report", "approve")
def template():
    """The blank template (its headers in the reader's language), filled with the interest and
    quarter when given."""
    investment_id = request.args.get("investment", "")
    allowed = {i.id for i in _interests()}
    quarter = None
    try:
        quarter = parse_date(request.args.get("quarter_end", "")) if request.args.get("quarter_end") else None
    except ValueError:
        quarter = None
    data = gp_template.workbook(investment_id=investment_id if investment_id in allowed else "",
                                quarter_end=quarter, lang=current_lang())
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True, download_name="gp-package-template.xlsx")


@bp.route("/upload", methods=["POST"])
@requires("report")
def upload():
    form = UploadPackageForm()
    if form.validate_on_submit():
        data = form.file.data.read(MAX_PACKAGE_BYTES + 1)
        if len(data) > MAX_PACKAGE_BYTES or not data.startswith(b"PK\x03\x04"):
            flash(_("不是有效的 .xlsx 文件（上限 8 MB）"), "error")
            return redirect(url_for(".portal"))
        try:
            content, investment_id, quarter_end = gp_template.read_workbook(data)
            package = packages.save_package(db.session, investment_id, quarter_end, content,
                                            username=current_username(), allowed=_scope(), action="upload",
                                            drawn=_drawn_versions(form.versions.data))
        except packages.StaleUpload as exc:
            refuse(exc, form)  # beside the file, on the page as it is now
            return _portal_page(form)
        except FieldErrors as exc:
            refuse(exc)
            return redirect(url_for(".portal"))
        flash(_("已上传并完成核对：%(b)s 项阻断，%(w)s 项提示。", b=package.blocking, w=package.warnings))
        return redirect(url_for(".package", package_id=package.id))
    flash(_("请选择要上传的 .xlsx 文件"), "error")
    return redirect(url_for(".portal"))


# The unit the portal's form takes amounts in unless the manager chooses the other: 元, as the
# GP's screens (the package page, the tie-out) and the workbook template show them; 万元 beside it.
FORM_UNIT = "yuan"


def _form_unit() -> str:
    chosen = request.form.get("unit") if request.method == "POST" else request.args.get("unit")
    return chosen if chosen in UNITS else FORM_UNIT


def _drawn(form: PackageForm, package: GpPackage | None) -> None:
    """The form as first drawn: the package's interest, quarter end, narrative and version, or
    the interest and quarter asked for."""
    if package is not None:
        form.investment_id.data, form.quarter_end.data = package.investment_id, package.quarter_end
        form.narrative.data = package.content.get("narrative", "")
        form.version.data = packages.package_version(package)
        return
    form.investment_id.data = request.args.get("investment", "")
    try:
        form.quarter_end.data = parse_date(request.args.get("quarter_end", ""))
    except ValueError:
        form.quarter_end.data = last_quarter_end(_today(), strictly=True)


def _save(form: PackageForm, package: GpPackage | None, unit: str) -> GpPackage | None:
    """The form's package saved, at most once per rendered form (web/once.py): the new-package
    form creates one (refused where the quarter has one); the edit form saves its package while
    it is as the form showed it (the version it carries)."""
    typed = gp_template.read_form(request.form.to_dict(), unit=unit)
    saved, again = once.run(form.idempotency_key.data, lambda: packages.save_package(
        db.session, form.investment_id.data, form.quarter_end.data, typed, username=current_username(),
        allowed=_scope(), new=package is None, package_id=package.id if package is not None else None,
        version=(form.version.data or "") if package is not None else None))
    if not again and saved is not None:
        flash(_("已保存并完成核对：%(b)s 项阻断，%(w)s 项提示。", b=saved.blocking, w=saved.warnings))
    return saved


def _form_page(package: GpPackage | None):
    interests = _interests()
    unit = _form_unit()
    form = PackageForm(obj=None)
    form.investment_id.choices = [(i.id, f"{i.id}{lp}{i.fund_code} → {i.sub_fund_code}{rp}") for i in interests]
    content = package.content if package is not None else gp_template.empty_content()
    existing = None  # the package a new one for its interest and quarter was refused for
    if request.method == "GET":
        _drawn(form, package)
    if form.validate_on_submit():
        try:
            saved = _save(form, package, unit)
        except FieldErrors as exc:
            refuse(exc, form)
            content = _typed_back(request.form.to_dict())
            existing = getattr(exc, "package_id", None)
        else:
            if saved is not None:
                return redirect(url_for(".package", package_id=saved.id))
            return redirect(url_for(".portal"))
    elif request.method == "POST":
        content = _typed_back(request.form.to_dict())
    values = content["raw"] if "raw" in content else _values(content, unit)
    count = lambda prefix: len({k.split("-")[1] for k in values if k.startswith(prefix)})  # noqa: E731
    return render_template("gp/package_form.html", form=form, package=package, existing=existing,
                           values=values, unit=unit, units=UNITS,
                           fields=gp_template.ACCOUNT_FIELDS, labels=gp_template.ACCOUNT_LABELS,
                           holding_columns=gp_template.HOLDING_COLUMNS, notice_columns=gp_template.NOTICE_COLUMNS,
                           projection_columns=gp_template.PROJECTION_COLUMNS,
                           holding_rows=max(gp_template.FORM_HOLDING_ROWS, count("h-") + 3),
                           notice_rows=max(gp_template.FORM_NOTICE_ROWS, count("n-") + 2),
                           projection_rows=max(gp_template.FORM_PROJECTION_ROWS, count("p-")))


def _typed_back(form: dict) -> dict:
    """What was typed, to show the form again unchanged (raw text, not parsed)."""
    return {"raw": form}


def _values(content: dict, unit: str) -> dict[str, str]:
    """The form's fields filled from a saved package (amounts in the form's unit, exact)."""
    money = lambda value: in_unit(yuan(int(value)), unit)  # noqa: E731
    values = {f"acc-{name}": money(content.get("account", {}).get(name, 0)) for name in gp_template.ACCOUNT_FIELDS}
    for i, h in enumerate(content.get("holdings", [])):
        values.update({f"h-{i}-{k}": (money(h[k]) if k in ("cost", "fair_value") else str(h.get(k, "")))
                       for k, _l in gp_template.HOLDING_COLUMNS})
    for i, n in enumerate(content.get("notices", [])):
        values.update({f"n-{i}-date": n["date"], f"n-{i}-type": n["type"], f"n-{i}-amount": money(n["amount"]),
                       f"n-{i}-ref": n.get("ref", "")})
    for i, p in enumerate(content.get("projection", [])):
        values.update({f"p-{i}-quarter": p["quarter"], f"p-{i}-calls": money(p["calls"]),
                       f"p-{i}-distributions": money(p["distributions"])})
    return values


@bp.app_template_filter("check_item")
def check_item(item) -> str:
    """One item of a tie-out check (a Message kept as JSON: its key and typed arguments) in the
    reader's language; text kept before items had keys, as it is."""
    return shown(from_json(item), current_lang())


def _check_unit(check: dict) -> str:
    """What a check's figures count: its own `unit`; for checks kept before they had one, a count
    where there is no expected figure (a listing), but for the opening figures' first quarter."""
    if check.get("unit"):
        return str(check["unit"])
    amounts = check.get("expected") is not None or check.get("key") in ("opening_nav", "opening_unfunded")
    return tieout.FEN if amounts else tieout.COUNT


@bp.app_template_filter("fen")
def fen_filter(value) -> str:
    """Integer fen shown as yuan with thousands separators, exact to the fen."""
    return "—" if value is None else formatting.yuan(yuan(int(value)))


@bp.route("/packages/new", methods=["GET", "POST"])
@requires("report")
def new_package():
    return _form_page(None)


@bp.route("/packages/<int:package_id>/edit", methods=["GET", "POST"])
@requires("report")
def edit_package(package_id: int):
    package = _package_or_404(package_id)
    if package.status not in packages.EDITABLE:
        flash(_("该报告已提交，不能修改"), "error")
        return redirect(url_for(".package", package_id=package.id))
    return _form_page(package)


@bp.route("/packages/<int:package_id>")
@requires("report", "approve")
def package(package_id: int):
    return package_page(_package_or_404(package_id))


def package_page(record: GpPackage, *, return_form: ReturnForm | None = None, reopen_form: ReopenForm | None = None):
    """A package's page; `return_form` / `reopen_form`: a return or a reopening refused, shown
    again with what was typed and its errors beside the comment or the reason."""
    investment = db.session.get(Investment, record.investment_id)
    order = {tieout.BLOCKING: 0, tieout.WARNING: 1, tieout.PASSED: 2}
    checks = sorted(({**c, "unit": _check_unit(c)} for c in record.checks or []),
                    key=lambda c: (order.get(c.get("status"), 3),
                                   tieout.CHECKS.index(c["key"]) if c.get("key") in tieout.CHECKS else 99))
    # what acceptance books the holdings as, where the book already has the company: managers only
    matches = packages.book_matches(db.session, record) if current_user.can("approve") else []
    # reopening an accepted package (maker-checker): the request waiting, else why it cannot be asked
    waiting = reopening.waiting_reopenings(db.session, record.id) if current_user.can("approve") else []
    cannot_reopen = (reopening.refusal(db.session, record)
                     if current_user.can("approve") and record.status == "accepted" and not waiting else None)
    return render_template("gp/package.html", package=record, investment=investment, checks=checks,
                           matches=matches, history=packages.history(db.session, record.id), confirm=ConfirmForm(),
                           reopenings=waiting, cannot_reopen=cannot_reopen, reopen_form=reopen_form or ReopenForm(),
                           reopen_max=reopening.REASON_MAX_LEN, return_form=return_form or ReturnForm(),
                           labels=gp_template.ACCOUNT_LABELS, fields=gp_template.ACCOUNT_FIELDS,
                           quarter=tieout.quarter_label(record.quarter_end))


@bp.route("/packages/<int:package_id>/xlsx")
@requires("report", "approve")
def package_xlsx(package_id: int):
    record = _package_or_404(package_id)
    data = gp_template.workbook(record.content, investment_id=record.investment_id, quarter_end=record.quarter_end,
                                lang=current_lang())
    return send_file(io.BytesIO(data), mimetype=XLSX, as_attachment=True,
                     download_name=f"gp-package-{record.id}.xlsx")


def _act(package_id: int, action, message: str):
    if not ConfirmForm().validate_on_submit():
        abort(400)
    try:
        action()
    except FieldErrors as exc:
        refuse(exc)
    except LookupError:
        abort(404)
    else:
        flash(message)
    return redirect(url_for(".package", package_id=package_id))


@bp.route("/packages/<int:package_id>/submit", methods=["POST"])
@requires("report")
def submit(package_id: int):
    _package_or_404(package_id)
    return _act(package_id, lambda: packages.submit(db.session, package_id, username=current_username(),
                                                    allowed=_scope()), _("已提交，等待基金经理审核。"))


@bp.route("/packages/<int:package_id>/return", methods=["POST"])
@requires("approve")
def return_package(package_id: int):
    _package_or_404(package_id)
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            packages.return_package(db.session, package_id, form.comment.data, username=current_username())
        except FieldErrors as exc:
            refuse(exc, form)
        else:
            flash(_("已退回管理人修改。"))
            return redirect(url_for(".package", package_id=package_id))
    # refused (empty, too long, …): the page again, the comment as typed and what is wrong beside it
    return package_page(_package_or_404(package_id), return_form=form)


@bp.route("/packages/<int:package_id>/review", methods=["POST"])
@requires("approve")
def review_package(package_id: int):
    _package_or_404(package_id)
    return _act(package_id, lambda: packages.review(db.session, package_id, username=current_username()),
                _("已复核，等待另一位基金经理接受。"))


@bp.route("/packages/<int:package_id>/accept", methods=["POST"])
@requires("approve")
def accept(package_id: int):
    _package_or_404(package_id)
    return _act(package_id, lambda: packages.accept(db.session, package_id, username=current_username()),
                _("已接受：净值、投资明细和新企业已记入台账。"))


@bp.route("/review")
@requires("approve")
def review():
    """The fund managers' list: packages waiting, overdue ones, recently accepted."""
    waiting = packages.packages_of(db.session, None, statuses=("submitted", "reviewed"))
    recent = packages.packages_of(db.session, None, statuses=("accepted", "returned", "draft"))[:50]
    return render_template("gp/review.html", waiting=waiting, recent=recent,
                           overdue=packages.overdue(db.session, _today()))


@bp.route("/invite", methods=["GET", "POST"])
@requires("configure")
def invite():
    """An admin invites a sub-fund's manager as a GP user bound to its sub-funds."""
    form = InviteForm()
    funds = db.session.execute(select(SubFund).order_by(SubFund.code)).scalars().all()
    form.sub_funds.choices = [(s.code, f"{s.code} {s.name}{lp}{s.manager}{rp}") for s in funds]
    if form.validate_on_submit():
        try:
            packages.invite_gp(db.session, form.username.data.strip(), form.password.data, form.sub_funds.data,
                               by=current_username(), display_name=form.display_name.data or None)
        except FieldErrors as exc:
            refuse(exc, form)
        else:
            flash(_("已邀请管理人用户 %(name)s。", name=form.username.data.strip()))
            return redirect(url_for("admin.users"))
    elif form.is_submitted():
        checked_too(form, lambda fields: packages.check_invite(db.session, fields))
    return render_template("gp/invite.html", form=form)


@dataclass(frozen=True)
class Late:
    """A package past its deadline, as the home page lists it (plain values: kept beyond the
    request's session)."""
    investment_id: str
    quarter_end: dt.date


# the latest change of any package's state (made once: the home page asks it of every checker's visit)
_LATEST_PACKAGE_EVENT = (select(AuditEntry.id, AuditEntry.at).where(AuditEntry.entity == "gp_packages")
                         .order_by(AuditEntry.id.desc()).limit(1))


def overdue_listed() -> list[Late]:
    """`packages.overdue` today, kept while neither the book (its interests, the funds'
    deadlines) nor any package (every change of a package's state is audited as `gp_packages`)
    changed: the home page asks it of every checker's visit."""
    today = _today()
    latest = db.session.execute(_LATEST_PACKAGE_EVENT).first()
    return cache.memo(db.session, ("gp_overdue", today, tuple(latest or ())), lambda: [
        Late(r.investment.id, r.quarter_end) for r in packages.overdue(db.session, today)])


@bp.app_context_processor
def gp_helpers():
    return {"gp_overdue": overdue_listed}
