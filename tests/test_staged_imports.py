"""Staged imports and stale-write protection (issue 12, deliverables 1 and 2), each attack of
the issue's first list replayed against the book, on SQLite and PostgreSQL (DATABASE_URL).

- An upload skips maker-checker: a manager's draft became "approved (manager1)" by uploading
  the same row; a new valuation in an upload was approved by its uploader; an approved
  valuation could be overwritten by an upload.
- An older export silently reverted newer data, and 修改历史's "import" did not show it.
"""
from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from models import AuditEntry, CashFlow, ChangeSet, Valuation
from portfolio.book import records
from portfolio.errors import FieldErrors
from portfolio.interchange import staging
from portfolio.interchange.exporting import export_book
from portfolio.interchange.importing import import_book
from portfolio.interchange.staging import apply_change_set, choose, reject_change_set, stage_book
from tests.conftest import EXAMPLE_BOOK, login, make_user, void_in_force


@pytest.fixture
def book(db):
    assert import_book(db.session, EXAMPLE_BOOK, username="loader").ok
    return db.session


def exported(session) -> bytes:
    out = io.BytesIO()
    export_book(session, out)
    return out.getvalue()


def _as_read(value) -> str:
    """A cell as the import reads it: a date cell (the export writes dates as dates) as YYYY-MM-DD."""
    return value.date().isoformat() if isinstance(value, dt.datetime) else str(value)


def edited(data: bytes, sheet: str, match: dict, changes: dict | None = None, append: list | None = None) -> bytes:
    """The workbook with the row of `sheet` matching `match` changed, or a row appended."""
    workbook = load_workbook(io.BytesIO(data))
    ws = workbook[sheet]
    header = [c.value for c in ws[1]]
    if changes:
        for row in ws.iter_rows(min_row=2):
            values = dict(zip(header, (c.value for c in row)))
            if all(_as_read(values[k]) == str(v) for k, v in match.items()):
                for name, value in changes.items():
                    row[header.index(name)].value = value
                break
        else:
            raise AssertionError(f"no row {match} in {sheet}")
    if append:
        ws.append(append)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def valuation(session, inv: str, as_of: str) -> Valuation:
    session.expire_all()
    day = dt.date.fromisoformat(as_of)
    return session.execute(select(Valuation).where(Valuation.investment_id == inv, Valuation.as_of == day,
                                                   Valuation.voided_at.is_(None))).scalar_one()


def stage(session, data: bytes, username: str):
    result = stage_book(session, io.BytesIO(data), username=username, filename="book.xlsx")
    assert result.ok, [str(e) for e in result.errors]
    return result


def audit_count(session, **where) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry).where(
        *(getattr(AuditEntry, k) == v for k, v in where.items())))


# -- deliverable 1: an upload is a change set, applied by a second person ---------------------------

def test_an_upload_changes_nothing_until_a_second_person_applies_it(book):
    data = edited(exported(book), "valuations", {"investment_id": "QY-D1", "as_of": "2025-12-31"},
                  {"fair_value_cny": 170000000}, append=["QY-D1", "2026-03-31", 180000000, "comparables"])
    before = audit_count(book)
    result = stage(book, data, "manager1")
    change_set = result.change_set
    assert change_set.status == "pending"
    assert result.counts["valuations"] == {"new": 1, "unchanged": 4, "changed": 1}
    # the preview: the changed field, before and after, and the new row
    changed = change_set.preview["valuations"]["changed"]
    assert [(r["key"], r["fields"], r["before"]["fair_value_cny"], r["after"]["fair_value_cny"]) for r in changed] \
        == [("QY-D1/2025-12-31", ["fair_value_cny"], "160000000.00", "170000000.00")]
    assert [r["key"] for r in change_set.preview["valuations"]["new"]] == ["QY-D1/2026-03-31"]
    assert change_set.preview["investments"]["unchanged"] == ["QY-CO1", "QY-D1", "QY-SF1"]
    # nothing in the book moved; the only audit entry is the staging itself
    assert valuation(book, "QY-D1", "2025-12-31").fair_value_cny == Decimal("160000000")
    assert audit_count(book) == before + 1 and audit_count(book, action="stage") == 1

    with pytest.raises(FieldErrors, match="上传人不能批准"):
        apply_change_set(book, change_set.id, username="manager1")
    assert valuation(book, "QY-D1", "2025-12-31").fair_value_cny == Decimal("160000000")

    apply_change_set(book, change_set.id, username="manager2")
    changed_row, new_row = valuation(book, "QY-D1", "2025-12-31"), valuation(book, "QY-D1", "2026-03-31")
    assert changed_row.fair_value_cny == Decimal("170000000") and new_row.fair_value_cny == Decimal("180000000")
    for row in (changed_row, new_row):  # maker: the uploader; checker: the one who applied
        assert (row.entered_by, row.approved_by) == ("manager1", "manager2")
    book.expire_all()
    cs = book.get(ChangeSet, change_set.id)
    assert (cs.status, cs.decided_by) == ("applied", "manager2")
    # the change set, its approver and every row it applied are in the audit trail, under one batch
    rows = book.execute(select(AuditEntry).where(AuditEntry.batch == cs.batch)).scalars().all()
    assert sorted(e.action for e in rows) == ["apply", "import", "import_update"]
    assert all(e.username == "manager2" for e in rows)
    with pytest.raises(FieldErrors, match="已应用"):
        apply_change_set(book, change_set.id, username="admin")


def test_the_uploaders_own_draft_is_not_approved_by_the_upload(book):
    """Attack: manager1's draft became "已审批（manager1）" by uploading a book with the same row."""
    draft = records.record_valuation(book, {"investment_id": "QY-CO1", "as_of": "2026-01-31",
                                            "fair_value_cny": "1000", "method": "cost"}, username="manager1")
    data = edited(exported(book), "valuations", {}, append=["QY-CO1", "2026-01-31", 1000, "cost"])
    change_set = stage(book, data, "manager1").change_set
    assert valuation(book, "QY-CO1", "2026-01-31").approved_at is None  # still a draft
    assert change_set.preview["valuations"]["changed"][0]["draft_of"] == "manager1"
    with pytest.raises(FieldErrors):
        apply_change_set(book, change_set.id, username="manager1")
    assert valuation(book, "QY-CO1", "2026-01-31").approved_at is None
    apply_change_set(book, change_set.id, username="manager2")
    approved = valuation(book, "QY-CO1", "2026-01-31")
    assert approved.id == draft.id and approved.approved_by == "manager2"


def test_someone_elses_draft_cannot_be_approved_by_its_maker_through_an_upload(book):
    """The draft's maker (manager2) applying an upload that confirms it would approve their own."""
    records.record_valuation(book, {"investment_id": "QY-CO1", "as_of": "2026-01-31",
                                    "fair_value_cny": "1000", "method": "cost"}, username="manager2")
    data = edited(exported(book), "valuations", {}, append=["QY-CO1", "2026-01-31", 1000, "cost"])
    change_set = stage(book, data, "manager1").change_set
    with pytest.raises(FieldErrors, match=records.MAKER_IS_CHECKER):
        apply_change_set(book, change_set.id, username="manager2")
    assert valuation(book, "QY-CO1", "2026-01-31").approved_at is None
    apply_change_set(book, change_set.id, username="admin")
    assert valuation(book, "QY-CO1", "2026-01-31").approved_by == "admin"


def test_an_approved_valuation_is_not_overwritten_silently(book):
    """Attack: an approved valuation overwritten by an upload. It is shown, before and after,
    and waits for a second person; a rejection leaves it as it was."""
    approved = valuation(book, "QY-SF1", "2025-09-30")
    data = edited(exported(book), "valuations", {"investment_id": "QY-SF1", "as_of": "2025-09-30"},
                  {"fair_value_cny": 1})
    change_set = stage(book, data, "manager1").change_set
    (row,) = change_set.preview["valuations"]["changed"]
    assert (row["before"]["fair_value_cny"], row["after"]["fair_value_cny"]) == ("310000000.00", "1.00")
    with pytest.raises(FieldErrors, match="理由"):
        reject_change_set(book, change_set.id, "  ", username="manager2")
    reject_change_set(book, change_set.id, "估值有误", username="manager2")
    after = valuation(book, "QY-SF1", "2025-09-30")
    assert (after.id, after.fair_value_cny, after.approved_by) == (approved.id, Decimal("310000000"), "loader")
    with pytest.raises(FieldErrors, match="已驳回"):
        apply_change_set(book, change_set.id, username="admin")
    assert audit_count(book, action="reject", entity="change_sets") == 1


def test_an_unchanged_upload_makes_no_change_set(book):
    result = stage(book, exported(book), "manager1")
    assert result.change_set is None and all(c["new"] == c["changed"] == 0 for c in result.counts.values())
    assert book.scalar(select(func.count()).select_from(ChangeSet)) == 0


def test_a_bad_upload_is_refused_whole_and_stages_nothing(book):
    data = edited(exported(book), "valuations", {"investment_id": "QY-D1", "as_of": "2025-12-31"},
                  {"method": "guess"})
    result = stage_book(book, io.BytesIO(data), username="manager1", filename="book.xlsx")
    assert not result.ok and result.errors[0].column == "method"
    assert book.scalar(select(func.count()).select_from(ChangeSet)) == 0


# -- deliverable 2: an older export does not silently revert newer data ---------------------------

def _newer_value_in_the_app(session) -> Valuation:
    """Change QY-D1's 2025-12-31 valuation in the app: voided, re-entered by manager2 and
    approved by admin (the maker-checker way)."""
    old = valuation(session, "QY-D1", "2025-12-31")
    void_in_force(session, "valuation", old.id, "管理人更新了报告", username="manager2", checker="admin")
    new = records.record_valuation(session, {"investment_id": "QY-D1", "as_of": "2025-12-31",
                                             "fair_value_cny": "165000000", "method": "comparables"},
                                   username="manager2")
    return records.approve_valuation(session, new.id, username="admin")


def test_an_older_export_is_a_conflict_row_by_row_and_applies_nothing_unchosen(book):
    old_export = exported(book)
    newer = _newer_value_in_the_app(book)
    # the old export, with an unrelated edit of its own
    data = edited(old_export, "companies", {"code": "C1"}, {"name": "新名称公司"})
    change_set = stage(book, data, "manager1").change_set
    (conflict,) = change_set.conflicts
    assert conflict["sheet"] == "valuations" and conflict["key"] == "QY-D1/2025-12-31"
    assert conflict["fields"] == ["fair_value_cny"]
    assert (conflict["mine"]["fair_value_cny"], conflict["now"]["fair_value_cny"]) == ("160000000.00", "165000000.00")
    assert conflict["by"] == "admin" and conflict["action"] == "approve" and conflict["at"]
    # nothing applies while a conflict is unchosen
    with pytest.raises(FieldErrors, match="冲突未选择"):
        apply_change_set(book, change_set.id, username="manager2")
    with pytest.raises(FieldErrors, match="只有上传人"):
        choose(book, change_set.id, {conflict["id"]: "theirs"}, username="manager2")
    choose(book, change_set.id, {conflict["id"]: "theirs"}, username="manager1")
    apply_change_set(book, change_set.id, username="manager2")
    kept = valuation(book, "QY-D1", "2025-12-31")
    assert (kept.id, kept.fair_value_cny, kept.approved_by) == (newer.id, Decimal("165000000"), "admin")
    from models import Company
    book.expire_all()
    assert book.get(Company, "C1").name == "新名称公司"  # the rest of the upload applied
    assert book.get(ChangeSet, change_set.id).counts["valuations"]["kept"] == 1


def test_a_conflict_chosen_mine_overwrites_with_a_second_persons_approval(book):
    old_export = exported(book)
    _newer_value_in_the_app(book)
    change_set = stage(book, old_export, "manager1").change_set
    (conflict,) = change_set.conflicts
    choose(book, change_set.id, {conflict["id"]: "mine"}, username="manager1")
    apply_change_set(book, change_set.id, username="admin")
    reverted = valuation(book, "QY-D1", "2025-12-31")
    assert reverted.fair_value_cny == Decimal("160000000")
    assert (reverted.entered_by, reverted.approved_by) == ("manager1", "admin")


def test_a_book_without_a_version_stamp_is_staged_without_conflict_checks(book):
    """The spec's own format (no _meta sheet) stays importable: its changes are previewed."""
    _newer_value_in_the_app(book)
    change_set = stage_book(book, EXAMPLE_BOOK, username="manager1").change_set
    assert change_set.base_version is None and change_set.conflicts == []
    assert change_set.kind == "csv-zip"
    assert change_set.preview["valuations"]["changed"][0]["after"]["fair_value_cny"] == "160000000.00"
    apply_change_set(book, change_set.id, username="manager2")
    assert valuation(book, "QY-D1", "2025-12-31").fair_value_cny == Decimal("160000000")


def test_the_book_moving_after_staging_refuses_the_apply(book):
    data = edited(exported(book), "companies", {"code": "C1"}, {"name": "新名称公司"})
    change_set = stage(book, data, "manager1").change_set
    # a write the upload does not touch (a new flow) leaves the preview true: it still applies
    # (the flow takes the contributions past the commitment: a doubt, confirmed with a reason)
    records.record_cash_flow(book, {"investment_id": "QY-D1", "date": "2026-01-15", "type": "contribution",
                                    "amount_cny": "1000", "ref": "NEW-1", "confirm_reason": "协议约定的超额出资"},
                             username="manager2")
    apply_change_set(book, change_set.id, username="manager2")
    # a write that changes what the upload would do (the row it reverts) makes the preview false
    change_set = stage(book, edited(exported(book), "companies", {"code": "C1"}, {"name": "又改名"}), "manager1")\
        .change_set
    _newer_value_in_the_app(book)
    with pytest.raises(FieldErrors, match="预览已过时"):
        apply_change_set(book, change_set.id, username="admin")
    data = edited(exported(book), "valuations", {"investment_id": "QY-D1", "as_of": "2025-12-31"},
                  {"fair_value_cny": 1})
    change_set = stage(book, data, "manager1").change_set
    v = valuation(book, "QY-D1", "2025-12-31")
    void_in_force(book, "valuation", v.id, "x", username="manager2", checker="admin")
    records.record_valuation(book, {"investment_id": "QY-D1", "as_of": "2025-12-31",
                                    "fair_value_cny": "2", "method": "cost"}, username="manager2")
    with pytest.raises(FieldErrors, match="预览已过时"):
        apply_change_set(book, change_set.id, username="admin")


def test_a_preview_kept_short_still_guards_the_apply(book, monkeypatch):
    """A change set keeps the first rows of each sheet's preview (KEPT), how many there were,
    and the sheet's digest. With none kept at all, the page still counts them, and the apply
    still goes through when the book moved elsewhere and refuses when it moved under it."""
    monkeypatch.setattr("portfolio.interchange.staging.KEPT", 0)
    data = edited(exported(book), "valuations", {"investment_id": "QY-D1", "as_of": "2025-12-31"},
                  {"fair_value_cny": 170000000}, append=["QY-D1", "2026-03-31", 180000000, "comparables"])
    change_set = stage(book, data, "manager1").change_set
    sheet = change_set.preview["valuations"]
    assert sheet["new"] == sheet["changed"] == sheet["unchanged"] == []
    assert sheet["counts"]["new"] == sheet["counts"]["changed"] == 1 and len(sheet["digest"]) == 64
    test_the_book_moving_after_staging_refuses_the_apply(book)


def _as_staged_before_digests(session, change_set) -> None:
    """The change set as one staged before previews were kept short: whole, no counts or digests."""
    change_set.preview = {sheet: {k: v for k, v in rows.items() if k not in ("counts", "digest")}
                          for sheet, rows in change_set.preview.items()}
    session.commit()


def test_a_change_set_staged_before_digests_is_compared_whole(book):
    data = edited(exported(book), "companies", {"code": "C1"}, {"name": "新名称公司"})
    change_set = stage(book, data, "manager1").change_set
    _as_staged_before_digests(book, change_set)
    assert apply_change_set(book, change_set.id, username="manager2").status == "applied"
    change_set = stage(book, edited(exported(book), "companies", {"code": "C1"}, {"name": "又改名"}), "manager1")\
        .change_set
    _as_staged_before_digests(book, change_set)
    _newer_value_in_the_app(book)
    with pytest.raises(FieldErrors, match="预览已过时"):
        apply_change_set(book, change_set.id, username="admin")


def test_a_csv_export_carries_its_version_too(book, tmp_path):
    export_book(book, tmp_path / "csv")
    assert (tmp_path / "csv" / "_meta.csv").exists()
    _newer_value_in_the_app(book)
    change_set = stage_book(book, tmp_path / "csv", username="manager1").change_set
    assert [c["key"] for c in change_set.conflicts] == ["QY-D1/2025-12-31"]


# -- the screens and the history ---------------------------------------------------------------------

def _conflicting_upload(app, db):
    """manager1 uploads an older export that changes QY-SF1's 2025-09-30 value while the app's
    QY-D1 moved meanwhile (a conflict); manager2 is the checker. (uploader, checker, url, id)."""
    make_user(db, "manager1", "manager")
    make_user(db, "manager2", "manager")
    uploader, checker = app.test_client(), app.test_client()
    login(uploader, "manager1")
    login(checker, "manager2")
    old_export = uploader.get("/book/download").data
    _newer_value_in_the_app(db.session)
    data = edited(old_export, "valuations", {"investment_id": "QY-SF1", "as_of": "2025-09-30"},
                  {"fair_value_cny": 300000000})
    response = uploader.post("/book/upload", data={"book": (io.BytesIO(data), "book.xlsx")},
                             content_type="multipart/form-data")
    assert response.status_code == 302
    url = response.headers["Location"]
    return uploader, checker, url, int(url.rstrip("/").split("/")[-1])


def test_upload_preview_apply_and_history_on_the_screens(app, db, book):
    uploader, checker, url, cs_id = _conflicting_upload(app, db)
    make_user(db, "viewer1", "viewer")
    viewer = app.test_client()
    login(viewer, "viewer1")
    page = uploader.get(url).get_data(as_text=True)
    assert 'id="conflicts"' in page and "310,000,000.00" in page and "300,000,000.00" in page  # formatting.yuan
    assert "须由另一位有审批权限的用户批准" in page and 'class="primary approve"' not in page
    assert viewer.get(url).status_code == 200
    assert viewer.post(f"/book/change-sets/{cs_id}/apply").status_code == 403
    # the uploader cannot apply; the checker cannot until the conflict is chosen
    uploader.post(f"/book/change-sets/{cs_id}/apply")
    checker.post(f"/book/change-sets/{cs_id}/apply")
    assert db.session.get(ChangeSet, cs_id).status == "pending"
    conflict = db.session.get(ChangeSet, cs_id).conflicts[0]["id"]
    uploader.post(f"/book/change-sets/{cs_id}/choices", data={f"choice-{conflict}": "theirs"})
    page = checker.get(url).get_data(as_text=True)
    assert 'class="primary approve"' in page
    checker.post(f"/book/change-sets/{cs_id}/apply")
    db.session.expire_all()
    assert db.session.get(ChangeSet, cs_id).status == "applied"
    assert valuation(db.session, "QY-SF1", "2025-09-30").fair_value_cny == Decimal("300000000")
    assert valuation(db.session, "QY-D1", "2025-12-31").fair_value_cny == Decimal("165000000")
    # 修改历史: the filter "import" shows the updated row; the change set's link shows all of it
    history = checker.get("/history?action=import&key=QY-SF1").get_data(as_text=True)
    assert "QY-SF1/2025-09-30" in history and "manager2" in history
    history = checker.get(f"/history?change_set={cs_id}").get_data(as_text=True)
    assert "QY-SF1/2025-09-30" in history and "批准导入" in history and "暂存导入" in history
    assert "QY-D1/2025-12-31" not in history  # the conflicting row kept as it was: not written
    assert checker.get("/history?change_set=nope").status_code == 200
    listing = checker.get("/book/change-sets/").get_data(as_text=True)
    assert f'data-change-set="{cs_id}"' in listing and "已应用" in listing
    assert checker.get("/book/change-sets/999999").status_code == 404


def test_reject_on_the_screens_needs_a_reason(app, db, book):
    make_user(db, "manager1", "manager")
    make_user(db, "manager2", "manager")
    uploader, checker = app.test_client(), app.test_client()
    login(uploader, "manager1")
    login(checker, "manager2")
    data = edited(uploader.get("/book/download").data, "companies", {"code": "C1"}, {"name": "改名"})
    cs_id = int(uploader.post("/book/upload", data={"book": (io.BytesIO(data), "b.xlsx")},
                              content_type="multipart/form-data").headers["Location"].split("/")[-1])
    checker.post(f"/book/change-sets/{cs_id}/reject", data={"reason": ""})
    assert db.session.get(ChangeSet, cs_id).status == "pending"
    checker.post(f"/book/change-sets/{cs_id}/reject", data={"reason": "名称不对"})
    db.session.expire_all()
    cs = db.session.get(ChangeSet, cs_id)
    assert (cs.status, cs.decided_by, cs.reason) == ("rejected", "manager2", "名称不对")


def test_the_command_line_stages_and_applies(runner, book, tmp_path):
    path = tmp_path / "book.xlsx"
    path.write_bytes(edited(exported(book), "companies", {"code": "C1"}, {"name": "命令行改名"}))
    result = runner.invoke(args=["import-book", str(path), "--stage", "--user", "manager1"])
    assert result.exit_code == 0, result.output
    assert "待审批" in result.output
    cs_id = book.scalar(select(ChangeSet.id))
    refused = runner.invoke(args=["apply-change-set", str(cs_id), "--user", "manager1"])
    assert refused.exit_code != 0 and "上传人不能批准" in refused.output
    applied = runner.invoke(args=["apply-change-set", str(cs_id), "--user", "manager2"])
    assert applied.exit_code == 0, applied.output
    from models import Company
    book.expire_all()
    assert book.get(Company, "C1").name == "命令行改名"


@pytest.mark.parametrize("lang, expected", [
    ("zh", ["估值 QY-D1 · 2025-12-31：公允价值 160,000,000.00 元（现为 165,000,000.00 元）", "由 admin 于 "]),
    ("en", ["Valuation QY-D1 · 2025-12-31: Fair value (CNY) 160,000,000.00 CNY (now 165,000,000.00 CNY)",
            "changed by admin at "])])
def test_the_command_line_writes_a_conflict_as_the_change_set_screen(runner, book, tmp_path, lang, expected):
    """import-book --stage names a conflicting row and its fields in the reader's words, as the
    change-set screen does: the sheet and the field by name, the row as formatting.row_named
    names it, amounts in 元 with separators; never a code (valuations, fair_value_cny)."""
    path = tmp_path / "old.xlsx"
    path.write_bytes(exported(book))
    _newer_value_in_the_app(book)
    book.commit()
    result = runner.invoke(args=["import-book", str(path), "--stage", "--user", "manager1"],
                           env={"PORTFOLIO_LANG": lang})
    assert result.exit_code == 0, result.output
    (line,) = [line for line in result.output.splitlines() if "QY-D1" in line]
    assert all(part in line for part in expected), line
    assert "fair_value_cny" not in line and "valuations" not in line and "160000000" not in line
    assert "UTC" not in line  # the time as the screen writes it: Beijing time


def test_the_command_line_writes_a_voided_conflict_as_the_screen(runner, book, tmp_path):
    path = tmp_path / "old.xlsx"
    path.write_bytes(exported(book))
    void_in_force(book, "valuation", valuation(book, "QY-D1", "2025-12-31").id, "重复录入", username="manager2",
                  checker="admin")
    book.commit()
    result = runner.invoke(args=["import-book", str(path), "--stage", "--user", "manager1"])
    (line,) = [line for line in result.output.splitlines() if "QY-D1" in line]
    assert "公允价值 160,000,000.00 元（现为 —）" in line and line.endswith("修改（已作废：重复录入）"), line


def test_a_form_drawn_before_someone_elses_write_is_refused_as_stale(book):
    """The check a correction form makes (portfolio.book.versions): the form carries the book
    version it was drawn at; a write to its record after that refuses it, naming who and when."""
    from portfolio.book.versions import refuse_stale, write_mark

    draft = records.record_valuation(book, {"investment_id": "QY-CO1", "as_of": "2026-01-31",
                                            "fair_value_cny": "1000", "method": "cost"}, username="manager1")
    drawn_at = write_mark(book)
    refuse_stale(book, "valuations", [str(draft.id), "QY-CO1/2026-01-31"], drawn_at)  # nothing since: passes
    records.record_cash_flow(book, {"investment_id": "QY-D1", "date": "2026-01-15", "type": "contribution",
                                    "amount_cny": "1000", "confirm_reason": "协议约定的超额出资"},
                            username="manager2")  # another record: still passes
    refuse_stale(book, "valuations", [str(draft.id), "QY-CO1/2026-01-31"], drawn_at)
    records.approve_valuation(book, draft.id, username="manager2")
    with pytest.raises(FieldErrors, match="manager2"):
        refuse_stale(book, "valuations", [str(draft.id), "QY-CO1/2026-01-31"], drawn_at)


def test_an_older_export_does_not_bring_back_a_voided_valuation_unasked(book):
    old_export = exported(book)
    wrong = valuation(book, "QY-D1", "2025-12-31")
    void_in_force(book, "valuation", wrong.id, "重复录入", username="manager2", checker="admin")
    change_set = stage(book, old_export, "manager1").change_set
    (conflict,) = change_set.conflicts
    # the void's asker, whose reason it is, and who approved it
    assert (conflict["key"], conflict["action"], conflict["by"], conflict["approved_by"], conflict["note"]) == \
        ("QY-D1/2025-12-31", "void", "manager2", "admin", "重复录入")
    assert conflict["mine"]["fair_value_cny"] == "160000000.00" and conflict["now"]["fair_value_cny"] is None
    with pytest.raises(FieldErrors, match="冲突未选择"):
        apply_change_set(book, change_set.id, username="admin")
    choose(book, change_set.id, {conflict["id"]: "theirs"}, username="manager1")
    apply_change_set(book, change_set.id, username="admin")
    book.expire_all()
    assert book.scalar(select(func.count()).select_from(Valuation).where(
        Valuation.investment_id == "QY-D1", Valuation.as_of == dt.date(2025, 12, 31),
        Valuation.voided_at.is_(None))) == 0
    assert book.get(ChangeSet, change_set.id).counts["valuations"]["kept"] == 1


def test_a_voided_rows_conflict_names_its_asker_with_the_time_it_was_asked_for(db, book, client):
    """The line names the void's asker, so its time is theirs: the asking's audit entry (in Beijing
    time on the page), not the approval's a day later."""
    old_export = exported(book)
    wrong = valuation(book, "QY-D1", "2025-12-31")
    records.void_valuation(book, wrong.id, {"reason": "重复录入"}, username="manager2")
    asking = book.execute(select(AuditEntry).where(AuditEntry.action == "request_void")).scalar_one()
    asking.at = dt.datetime(2026, 1, 5, 2, 0, 0)  # UTC: 10:00 in Ningbo
    book.commit()
    records.approve_void(book, "valuation", wrong.id, username="admin")
    approval = book.execute(select(AuditEntry).where(AuditEntry.action == "void")).scalar_one()
    approval.at = dt.datetime(2026, 1, 6, 7, 30, 0)
    book.commit()
    change_set = stage(book, old_export, "manager1").change_set
    (conflict,) = change_set.conflicts
    assert (conflict["by"], conflict["approved_by"], conflict["at"]) == ("manager2", "admin", "2026-01-05T02:00:00")
    make_user(db, "manager1", "manager")
    login(client, "manager1")
    page = client.get(f"/book/change-sets/{change_set.id}").get_data(as_text=True)
    line = page.split(f'data-conflict="{conflict["id"]}"')[1].split("</tr>")[0]
    assert "manager2" in line and "2026-01-05 10:00:00" in line and "2026-01-06" not in line, line


# -- whose content is in a draft the upload touches: its maker, who cannot approve it ----------------

def test_a_draft_confirmed_by_an_upload_keeps_its_maker_who_cannot_approve_it(book):
    """The upload keeps manager3's draft as it is (same value and method): manager3 is still its
    maker, and neither manager3 nor the uploader may apply; a third person does."""
    records.record_valuation(book, {"investment_id": "QY-CO1", "as_of": "2026-01-31",
                                    "fair_value_cny": "1000", "method": "cost"}, username="manager3")
    data = edited(exported(book), "valuations", {}, append=["QY-CO1", "2026-01-31", 1000, "cost"])
    change_set = stage(book, data, "manager1").change_set
    for who in ("manager1", "manager3"):
        with pytest.raises(FieldErrors):
            apply_change_set(book, change_set.id, username=who)
        assert valuation(book, "QY-CO1", "2026-01-31").approved_at is None
    apply_change_set(book, change_set.id, username="manager2")
    row = valuation(book, "QY-CO1", "2026-01-31")
    assert (row.entered_by, row.approved_by) == ("manager3", "manager2")


def test_a_draft_whose_value_an_upload_replaces_is_the_uploaders(book):
    """The upload changes manager3's draft (1000 → 2000): the content is now the uploader's, so
    the uploader is its maker and cannot apply; manager3, whose value is gone, may."""
    records.record_valuation(book, {"investment_id": "QY-CO1", "as_of": "2026-01-31",
                                    "fair_value_cny": "1000", "method": "cost"}, username="manager3")
    data = edited(exported(book), "valuations", {}, append=["QY-CO1", "2026-01-31", 2000, "cost"])
    change_set = stage(book, data, "manager1").change_set
    with pytest.raises(FieldErrors):
        apply_change_set(book, change_set.id, username="manager1")
    apply_change_set(book, change_set.id, username="manager3")
    row = valuation(book, "QY-CO1", "2026-01-31")
    assert (row.fair_value_cny, row.entered_by, row.approved_by) == (Decimal("2000"), "manager1", "manager3")


def test_a_direct_import_does_not_let_a_drafts_maker_approve_it(book, tmp_path):
    """The operator's direct import approves what it brings: not a draft of the operator's own."""
    records.record_valuation(book, {"investment_id": "QY-CO1", "as_of": "2026-01-31",
                                    "fair_value_cny": "1000", "method": "cost"}, username="ops")
    path = tmp_path / "b.xlsx"
    path.write_bytes(edited(exported(book), "valuations", {}, append=["QY-CO1", "2026-01-31", 1000, "cost"]))
    result = import_book(book, path, username="ops")
    assert not result.ok and "录入人不能审批" in str(result.errors[0])
    assert valuation(book, "QY-CO1", "2026-01-31").approved_at is None
    assert import_book(book, path, username="ops2").ok
    row = valuation(book, "QY-CO1", "2026-01-31")
    assert (row.entered_by, row.approved_by) == ("ops", "ops2")


# -- an older export against records voided or changed since: cash flows, holdings, investments ----

def _flow(session, inv: str, day: str, amount: str) -> CashFlow:
    session.expire_all()
    return session.execute(select(CashFlow).where(
        CashFlow.investment_id == inv, CashFlow.date == dt.date.fromisoformat(day),
        CashFlow.amount_cny == Decimal(amount))).scalar_one()


def _live_flows(session, inv: str) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(CashFlow).where(CashFlow.investment_id == inv,
                                                                          CashFlow.voided_at.is_(None)))


def test_an_older_export_does_not_bring_back_a_voided_cash_flow_unasked(book):
    old_export = exported(book)
    flow = _flow(book, "QY-D1", "2025-03-31", "5000000")
    void_in_force(book, "cash_flow", flow.id, "银行退回", username="manager2", checker="admin")
    flows = _live_flows(book, "QY-D1")
    change_set = stage(book, old_export, "manager1").change_set
    (conflict,) = change_set.conflicts
    assert (conflict["sheet"], conflict["action"], conflict["by"], conflict["approved_by"], conflict["note"]) == \
        ("cash_flows", "void", "manager2", "admin", "银行退回")
    assert conflict["mine"]["amount_cny"] == "5000000.00" and conflict["now"]["amount_cny"] is None
    with pytest.raises(FieldErrors, match="冲突未选择"):
        apply_change_set(book, change_set.id, username="admin")
    choose(book, change_set.id, {conflict["id"]: "theirs"}, username="manager1")
    apply_change_set(book, change_set.id, username="admin")
    assert _live_flows(book, "QY-D1") == flows  # not brought back


def test_an_older_export_does_not_double_a_cash_flow_corrected_since(book):
    """A ref-less flow's amount corrected in the app: the old file's row no longer matches it
    and would be a second flow (money doubled). It is a conflict: the old value, the value
    now, who corrected it when."""
    from portfolio.book.corrections import approve_correction, correct_cash_flow, version_of

    old_export = exported(book)
    flow = _flow(book, "QY-D1", "2025-03-31", "5000000")
    correct_cash_flow(book, flow.id, {"date": "2025-03-31", "type": "distribution", "amount_cny": "5000000.50",
                                      "note": flow.note, "version": version_of(flow),
                                      "correction_reason": "银行回单"}, username="admin")
    approve_correction(book, flow.id, username="manager2", entity="cash_flows")  # in force: manager2's
    flows = _live_flows(book, "QY-D1")
    change_set = stage(book, old_export, "manager1").change_set
    (conflict,) = change_set.conflicts
    assert (conflict["sheet"], conflict["action"], conflict["by"]) == ("cash_flows", "correct", "manager2")
    assert (conflict["mine"]["amount_cny"], conflict["now"]["amount_cny"]) == ("5000000.00", "5000000.50")
    assert conflict["fields"] == ["amount_cny"]
    choose(book, change_set.id, {conflict["id"]: "theirs"}, username="manager1")
    apply_change_set(book, change_set.id, username="admin")
    assert _live_flows(book, "QY-D1") == flows  # rows doubled: 0


def test_an_older_export_is_a_conflict_for_an_investment_and_a_holding_changed_since(book, tmp_path):
    """Investments (by id) and holdings (by sub-fund, date, company) changed by someone else
    after the export: each a conflict with who and when, like a valuation."""
    from models import Investment
    from portfolio.book.corrections import correct_investment, version_of

    old_export = exported(book)
    investment = book.get(Investment, "QY-D1")
    correct_investment(book, "QY-D1", {"date": "2023-06-30", "commitment_cny": "120000000", "round": "B轮",
                                       "ownership_pct": "8", "version": version_of(investment),
                                       "correction_reason": "补充协议增资"}, username="manager2")
    from portfolio.book.corrections import approve_correction

    approve_correction(book, "QY-D1", username="chair")  # a second person: the correction is in force
    newer = tmp_path / "newer.xlsx"
    newer.write_bytes(edited(exported(book), "sub_fund_holdings", {"company_code": "C4"}, {"fair_value_cny": 90000000}))
    assert import_book(book, newer, username="manager3").ok
    data = edited(old_export, "investments", {"id": "QY-D1"}, {"round": "B+轮"})
    data = edited(data, "sub_fund_holdings", {"company_code": "C4"}, {"cost_cny": 210000000})
    change_set = stage(book, data, "manager1").change_set
    by_sheet = {c["sheet"]: c for c in change_set.conflicts}
    assert set(by_sheet) == {"investments", "sub_fund_holdings"}
    assert (by_sheet["investments"]["by"], by_sheet["investments"]["now"]["commitment_cny"]) == \
        ("chair", "120000000.00")  # put in force by whoever approved it
    assert (by_sheet["sub_fund_holdings"]["by"], by_sheet["sub_fund_holdings"]["now"]["fair_value_cny"]) == \
        ("manager3", "90000000.00")
    with pytest.raises(FieldErrors, match="冲突未选择"):
        apply_change_set(book, change_set.id, username="admin")
    choose(book, change_set.id, {c["id"]: "theirs" for c in change_set.conflicts}, username="manager1")
    apply_change_set(book, change_set.id, username="admin")
    book.expire_all()
    assert book.get(Investment, "QY-D1").commitment_cny == Decimal("120000000")


def test_a_change_sets_history_pages_newest_first_without_gaps_or_repeats(book):
    """history_page: the ids of a page found first, then their entries; pages run newest first
    and, put together, are the whole filtered history once."""
    from portfolio.book.listing import HistoryFilter, history_page

    data = edited(exported(book), "valuations", {"investment_id": "QY-D1", "as_of": "2025-12-31"},
                  {"fair_value_cny": 170000000}, append=["QY-D1", "2026-03-31", 180000000, "comparables"])
    change_set = stage(book, data, "manager1").change_set
    apply_change_set(book, change_set.id, username="manager2")
    wanted = HistoryFilter(change_set=str(change_set.id))
    every = book.execute(select(AuditEntry.id).where(
        ((AuditEntry.entity == "change_sets") & (AuditEntry.entity_key == str(change_set.id)))
        | (AuditEntry.batch == change_set.batch)).order_by(AuditEntry.id.desc())).scalars().all()
    assert len(every) >= 4
    pages = [history_page(book, wanted, n, 3) for n in (1, 2)]
    assert all(total == len(every) for _entries, total in pages)
    assert [e.id for entries, _total in pages for e in entries] == every[:6]


def test_the_whole_history_reads_in_chunks_in_the_pages_order(book):
    """history_entries: the entries history_query selects, newest first, whatever the chunk."""
    from portfolio.book.listing import HistoryFilter, history_entries, history_query

    wanted = HistoryFilter(entity="valuations")
    every = book.execute(history_query(book, wanted)).scalars().all()
    assert len(every) >= 5
    for chunk in (1, 2, 3, 1_000):
        assert [e.id for e in history_entries(book, wanted, chunk=chunk)] == [e.id for e in every]


def test_a_choice_made_while_the_change_set_is_applied_is_never_applied_unseen(app, db, book, monkeypatch):
    """The uploader switches a conflict to 'mine' while the checker's apply is planning with
    'theirs'. It had ended applied, recording 'mine' but keeping theirs (PostgreSQL), or applied
    with 'mine', which the checker never saw (SQLite). Now on PostgreSQL the choice waits for the
    apply and is refused; on SQLite the apply is refused and the new choice stays for a look."""
    import threading

    from tests.races import race, slowed

    old_export = exported(book)
    _newer_value_in_the_app(book)
    change_set = stage(book, old_export, "manager1").change_set
    (conflict,) = change_set.conflicts
    staging.choose(book, change_set.id, {conflict["id"]: "theirs"}, username="manager1")
    cs_id, conflict_id = change_set.id, conflict["id"]
    db.session.remove()
    started = threading.Event()
    slowed(monkeypatch, staging, "_plan", started, after=True)  # the apply has read the choices and planned
    applied, chosen = race(app, db, lambda s: staging.apply_change_set(s, cs_id, username="admin"),
                           lambda s: staging.choose(s, cs_id, {conflict_id: "mine"}, username="manager1"), started)
    after = db.session.get(ChangeSet, cs_id)
    if db.engine.dialect.name == "postgresql":
        assert after.status == "applied" and after.choices == {conflict_id: "theirs"}
        assert isinstance(chosen, FieldErrors) and not isinstance(applied, FieldErrors)
    else:
        assert after.status == "pending" and after.choices == {conflict_id: "mine"}
        assert isinstance(applied, FieldErrors) and applied.errors[0][1].key == "change_set_choices_moved"


def test_a_changed_cash_flow_is_named_in_words_not_by_its_key(app, db, book):
    """A cash flow's row is known by its key (investment/date/type/amount in fen/ref): the preview
    had shown 'QY-SF1/2023-03-31/contribution/15000000000/' in both languages."""
    make_user(db, "manager1", "manager")
    uploader = app.test_client()
    login(uploader, "manager1")
    data = edited(uploader.get("/book/download").data, "cash_flows",
                  {"investment_id": "QY-SF1", "date": "2023-03-31"}, {"note": "第一期实缴（已核）"})
    url = uploader.post("/book/upload", data={"book": (io.BytesIO(data), "book.xlsx")},
                        content_type="multipart/form-data").headers["Location"]
    page = uploader.get(url).get_data(as_text=True)
    assert "QY-SF1 · 2023-03-31 · 出资 · 150,000,000.00 元" in page, page
    assert "15000000000" not in page and "/contribution/" not in page
    uploader.get("/lang/en")
    page = uploader.get(url).get_data(as_text=True)
    assert "QY-SF1 · 2023-03-31 · Contribution · 150,000,000.00 CNY" in page
    assert "Import change set #" in page and "Rows changed: 1" in page


def test_a_choice_made_after_the_checker_opened_the_page_is_never_applied_unseen(app, db, book):
    """The apply form carries the version of the choices the checker saw: the uploader choosing
    again in between refuses the apply (it had applied the newer choice, unseen)."""
    uploader, checker, url, cs_id = _conflicting_upload(app, db)
    conflict = db.session.get(ChangeSet, cs_id).conflicts[0]["id"]
    uploader.post(f"/book/change-sets/{cs_id}/choices", data={f"choice-{conflict}": "theirs"})
    db.session.expire_all()
    seen = staging.choices_version(db.session.get(ChangeSet, cs_id))
    assert f'value="{seen}"' in checker.get(url).get_data(as_text=True)  # the page the checker reads
    uploader.post(f"/book/change-sets/{cs_id}/choices", data={f"choice-{conflict}": "mine"})  # then, unseen
    refused = checker.post(f"/book/change-sets/{cs_id}/apply", data={"choices": seen}, follow_redirects=True)
    assert "上传人刚刚修改了冲突的选择" in refused.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(ChangeSet, cs_id).status == "pending"
    fresh = staging.choices_version(db.session.get(ChangeSet, cs_id))
    checker.post(f"/book/change-sets/{cs_id}/apply", data={"choices": fresh})
    db.session.expire_all()
    assert db.session.get(ChangeSet, cs_id).status == "applied"


def test_an_upload_sent_twice_stages_one_change_set(app, db, book):
    """A double click on 上传: the same form (its key) sent again answers with the first one's
    change set; nothing is staged twice."""
    from tests.test_idempotency import _key

    make_user(db, "manager1", "manager")
    uploader = app.test_client()
    login(uploader, "manager1")
    data = edited(uploader.get("/book/download").data, "valuations",
                  {"investment_id": "QY-SF1", "as_of": "2025-09-30"}, {"fair_value_cny": 300000000})
    key = _key(uploader, "/book/upload")
    answers = [uploader.post("/book/upload", data={"book": (io.BytesIO(data), "book.xlsx"), "idempotency_key": key},
                             content_type="multipart/form-data") for _ in range(2)]
    assert [a.status_code for a in answers] == [302, 302]
    assert answers[0].headers["Location"] == answers[1].headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(ChangeSet)) == 1


# -- a void waiting: an import does not change its record under it ------------------------------------

def _excel_row(data: bytes, sheet: str, match: dict) -> int:
    ws = load_workbook(io.BytesIO(data))[sheet]
    header = [c.value for c in ws[1]]
    for number, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        values = dict(zip(header, row))
        if all(_as_read(values[k]) == str(v) for k, v in match.items()):
            return number
    raise AssertionError(f"no row {match} in {sheet}")


def test_a_direct_import_does_not_change_a_record_whose_void_is_waiting(book, tmp_path):
    """manager2 asked to void QY-D1's 2025-12-31 valuation and a flow; an import changing either
    would have the void's approver cancel content its asker never saw. Each row is an error, at
    its sheet, row and column, naming the asker; nothing is written."""
    v = valuation(book, "QY-D1", "2025-12-31")
    flow = _flow(book, "QY-D1", "2025-03-31", "5000000")
    records.void_valuation(book, v.id, {"reason": "重复录入"}, username="manager2")
    records.void_cash_flow(book, flow.id, {"reason": "银行退回"}, username="manager2")
    data = edited(exported(book), "valuations", {"investment_id": "QY-D1", "as_of": "2025-12-31"},
                  {"fair_value_cny": 170000000})
    data = edited(data, "cash_flows", {"investment_id": "QY-D1", "date": "2025-03-31"}, {"note": "改了备注"})
    path = tmp_path / "b.xlsx"
    path.write_bytes(data)
    result = import_book(book, path, username="ops")
    assert not result.ok
    found = sorted((e.sheet, e.row, e.column, e.value) for e in result.errors)
    assert found == sorted([
        ("valuations", _excel_row(data, "valuations", {"investment_id": "QY-D1", "as_of": "2025-12-31"}),
         "fair_value_cny", "170000000.00"),
        ("cash_flows", _excel_row(data, "cash_flows", {"investment_id": "QY-D1", "date": "2025-03-31"}),
         "note", "改了备注")])
    assert all("待批准的作废申请" in str(e) and "manager2" in str(e) for e in result.errors)
    assert "void waiting" in result.errors[0].shown("en")
    assert valuation(book, "QY-D1", "2025-12-31").fair_value_cny == Decimal("160000000")
    assert _flow(book, "QY-D1", "2025-03-31", "5000000").note != "改了备注"
    # the void declined: the same file goes in
    records.reject_void(book, "valuation", v.id, {"reason": "不作废"}, username="admin")
    records.reject_void(book, "cash_flow", flow.id, {"reason": "不作废"}, username="admin")
    assert import_book(book, path, username="ops").ok
    assert valuation(book, "QY-D1", "2025-12-31").fair_value_cny == Decimal("170000000")


def test_a_change_sets_apply_does_not_change_a_record_whose_void_is_waiting(book):
    """Staged before the void was asked for, applied after: refused, naming the row; a change
    set staged while the void waits is refused at once."""
    data = edited(exported(book), "valuations", {"investment_id": "QY-D1", "as_of": "2025-12-31"},
                  {"fair_value_cny": 170000000})
    change_set = stage(book, data, "manager1").change_set
    v = valuation(book, "QY-D1", "2025-12-31")
    records.void_valuation(book, v.id, {"reason": "重复录入"}, username="manager2")
    with pytest.raises(FieldErrors, match="待批准的作废申请") as refused:
        apply_change_set(book, change_set.id, username="admin")
    assert "估值" in str(refused.value.errors[0][1]) and "manager2" in str(refused.value.errors[0][1])
    assert valuation(book, "QY-D1", "2025-12-31").fair_value_cny == Decimal("160000000")
    result = stage_book(book, io.BytesIO(data), username="manager3", filename="book.xlsx")
    assert not result.ok and result.errors[0].column == "fair_value_cny"
    records.reject_void(book, "valuation", v.id, {"reason": "不作废"}, username="admin")
    apply_change_set(book, change_set.id, username="admin")
    assert valuation(book, "QY-D1", "2025-12-31").fair_value_cny == Decimal("170000000")


def test_a_conflicting_row_kept_as_the_book_has_it_is_not_refused_for_a_void_waiting(book):
    """The uploader keeps the book's value (theirs) for a row whose void is waiting: the apply
    writes nothing to it, so it goes through and the void still waits; chosen mine, refused."""
    old_export = exported(book)
    newer = _newer_value_in_the_app(book)
    change_set = stage(book, old_export, "manager1").change_set
    (conflict,) = change_set.conflicts
    records.void_valuation(book, newer.id, {"reason": "报告有误"}, username="manager3")
    choose(book, change_set.id, {conflict["id"]: "mine"}, username="manager1")
    with pytest.raises(FieldErrors, match="待批准的作废申请"):
        apply_change_set(book, change_set.id, username="admin")
    choose(book, change_set.id, {conflict["id"]: "theirs"}, username="manager1")
    apply_change_set(book, change_set.id, username="admin")
    kept = valuation(book, "QY-D1", "2025-12-31")
    assert (kept.id, kept.fair_value_cny, kept.void_requested_by) == (newer.id, Decimal("165000000"), "manager3")
