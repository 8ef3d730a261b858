"""Pruning (portfolio/book/pruning.py; `flask prune`, 立即清理 on /admin/backups, and the job
queue's daily task): old uploads given up on and backups beyond the newest kept go, each
removal audited; what is still in hand, recent, or the only backup stays. Real files in
temporary folders."""
from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest
from sqlalchemy import select

from models import AuditEntry, ChangeSet, utcnow
from portfolio.book import jobs as job_records
from portfolio.book.audit import reason_shown
from portfolio.book.pruning import prune
from tests.conftest import login, make_user

OLD = 40  # days: past the default 30


def _file(path: Path, days_old: float, body: bytes = b"x" * 100) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(body)
    when = (dt.datetime.now() - dt.timedelta(days=days_old)).timestamp()
    os.utime(path, (when, when))
    return path


def _change_set(db, status: str, decided_days_ago: float | None, content: bytes = b"PK-workbook") -> int:
    now = utcnow()
    record = ChangeSet(status=status, filename="book.xlsx", kind="xlsx", content=content, uploaded_by="u1",
                       uploaded_at=now - dt.timedelta(days=60), staged_version=0, counts={}, preview={},
                       conflicts=[], choices={}, decided_by="u2" if decided_days_ago is not None else None,
                       decided_at=now - dt.timedelta(days=decided_days_ago) if decided_days_ago is not None else None)
    db.session.add(record)
    db.session.commit()
    return record.id


def _prune_entries(db) -> list[tuple[str, str, str]]:
    db.session.expire_all()
    return [(e.entity, e.entity_key, e.username) for e in db.session.execute(
        select(AuditEntry).where(AuditEntry.action == "prune").order_by(AuditEntry.id)).scalars()]


@pytest.fixture
def folders(app, tmp_path):
    app.config["BACKUPS_FOLDER"] = str(tmp_path / "backups")
    return Path(app.config["UPLOAD_FOLDER"]), tmp_path / "backups"


def test_old_uploads_given_up_on_go_audited_and_the_rest_stays(app, db, folders, runner):
    uploads, _backups = folders
    failed = _file(uploads / "staging-uploads" / ("a" * 64 + ".xlsx"), OLD)
    half = _file(uploads / "staging-uploads" / ("c" * 64 + ".xlsx.part"), OLD)
    in_hand = _file(uploads / "staging-uploads" / ("b" * 64 + ".xlsx"), OLD)
    recent = _file(uploads / "staging-uploads" / ("d" * 64 + ".xlsx"), 2)
    old_errors = _file(uploads / "import-errors" / "0f0f.csv", OLD)
    new_errors = _file(uploads / "import-errors" / "1e1e.csv", 1)
    other = _file(uploads / "attachments-elsewhere.pdf", OLD)  # not ours to judge
    job, _created = job_records.find_or_create(db.session, "stage_upload", {"file": "b" * 64}, username="u1",
                                               version="v")
    job_records.claim(db.session, job.id)  # running: its file is still needed
    failed_job, _created = job_records.find_or_create(db.session, "stage_upload", {"file": "a" * 64},
                                                      username="u1", version="v")
    job_records.fail(db.session, failed_job.id, "bad", final=True)
    rejected_old = _change_set(db, "rejected", OLD)
    rejected_new = _change_set(db, "rejected", 3)
    pending = _change_set(db, "pending", None)
    applied = _change_set(db, "applied", OLD)

    dry = runner.invoke(args=["prune", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "将删除 4 个文件" in dry.output and failed.name in dry.output and f"#{rejected_old}（其文件）" in dry.output
    assert "would remove" not in dry.output and "upload " not in dry.output  # Chinese, the CLI's language
    assert failed.is_file() and old_errors.is_file() and _prune_entries(db) == []

    done = runner.invoke(args=["prune"])
    assert done.exit_code == 0, done.output
    assert "已删除 4 个文件（" in done.output and " B）" in done.output
    assert not failed.exists() and not half.exists() and not old_errors.exists()
    assert in_hand.is_file() and recent.is_file() and new_errors.is_file() and other.is_file()
    db.session.expire_all()
    contents = {n: db.session.get(ChangeSet, n).content for n in (rejected_old, rejected_new, pending, applied)}
    assert contents == {rejected_old: b"", rejected_new: b"PK-workbook", pending: b"PK-workbook",
                        applied: b"PK-workbook"}
    assert db.session.get(ChangeSet, rejected_old).status == "rejected"  # its decision stays
    assert sorted(_prune_entries(db)) == sorted([
        ("upload", f"staging-uploads/{failed.name}", "cli"), ("upload", f"staging-uploads/{half.name}", "cli"),
        ("upload", "import-errors/0f0f.csv", "cli"), ("change_sets", str(rejected_old), "cli")])
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity == "change_sets",
                                                        AuditEntry.action == "prune")).scalar_one()
    assert entry.before["bytes"] == len(b"PK-workbook") and entry.before["filename"] == "book.xlsx"
    # once more: nothing left to remove, nothing audited again
    again = runner.invoke(args=["prune"])
    assert "已删除 0 个文件（0 B）" in again.output and len(_prune_entries(db)) == 4
    english = runner.invoke(args=["prune", "--dry-run"], env={"PORTFOLIO_LANG": "en"})
    assert "Prune: files to remove: 0 (0 B); backups kept:" in english.output, english.output
    # the running job ends: its file, old, goes the next time
    job_records.fail(db.session, job.id, "bad", final=True)
    assert prune(db.session, upload_folder=uploads, backups_folder=folders[1], upload_days=30, keep_backups=10,
                 username="system").uploads == [f"staging-uploads/{in_hand.name}"]
    assert not in_hand.exists() and _prune_entries(db)[-1] == ("upload", f"staging-uploads/{in_hand.name}", "system")
    # --days 0: everything given up on goes, however recent
    runner.invoke(args=["prune", "--days", "0"])
    assert not recent.exists() and not new_errors.exists()
    db.session.expire_all()
    assert db.session.get(ChangeSet, rejected_new).content == b""


def test_backups_beyond_the_newest_kept_go_and_never_the_only_one(app, db, folders, runner):
    _uploads, backups = folders
    made = [_file(backups / f"backup-{n}.zip", days_old=10 - n, body=b"PK" * (n + 1)) for n in range(1, 6)]
    mine = _file(backups / "my-own-copy.zip", 30)  # not a backup the screens made
    result = runner.invoke(args=["prune", "--keep", "2"])
    assert result.exit_code == 0, result.output
    assert [p.exists() for p in made] == [False, False, False, True, True] and mine.is_file()
    assert [(e, k) for e, k, _u in _prune_entries(db)] == [("backup", "backup-1.zip"), ("backup", "backup-2.zip"),
                                                           ("backup", "backup-3.zip")]
    entry = db.session.execute(select(AuditEntry).where(AuditEntry.entity_key == "backup-1.zip")).scalar_one()
    assert entry.before["bytes"] == 4 and entry.batch and entry.reason == "超出保留的最新 2 份备份"
    assert reason_shown(entry.reason, entry.reason_said, "en") == "Older than the newest 2 backups kept"
    # keep 0 is refused by the command; the function keeps one whatever it is asked
    assert runner.invoke(args=["prune", "--keep", "0"]).exit_code != 0
    pruned = prune(db.session, upload_folder=_uploads, backups_folder=backups, upload_days=30, keep_backups=0,
                   username="system")
    assert pruned.backups == ["backup-4.zip"] and pruned.kept_backups == ["backup-5.zip"] and made[4].is_file()
    only = prune(db.session, upload_folder=_uploads, backups_folder=backups, upload_days=30, keep_backups=0,
                 username="system")
    assert only.count == 0 and made[4].is_file()
    # a missing folder: nothing to do, no error
    assert prune(db.session, upload_folder=_uploads / "none", backups_folder=backups / "none", upload_days=1,
                 keep_backups=1, username="system").count == 0


def test_the_button_on_the_backups_page_and_who_may_press_it(app, db, folders, client):
    _uploads, backups = folders
    app.config["BACKUPS_KEEP"] = 1
    made = [_file(backups / f"backup-{n}.zip", days_old=5 - n) for n in range(1, 4)]
    make_user(db, "viewer7", "viewer")
    login(client, "viewer7")
    assert client.post("/admin/backups/prune").status_code == 403
    assert all(p.is_file() for p in made)
    client.post("/logout")
    make_user(db, "root", "admin")
    login(client, "root")
    page = client.get("/admin/backups").get_data(as_text=True)
    assert 'id="prune-form"' in page and "保留最新的 1 份备份" in page and "30 天前" in page
    response = client.post("/admin/backups/prune", follow_redirects=True)
    assert response.status_code == 200 and "已清理 2 个文件" in response.get_data(as_text=True)
    assert [p.exists() for p in made] == [False, False, True]
    assert [u for _e, _k, u in _prune_entries(db)] == ["root", "root"]


REASONS = {  # what each pruning's audit entry says, as the history shows it in each language
    "zh": ["暂存导入失败后遗留的上传文件", "被拒绝的上传的错误清单", "已驳回的导入变更集的上传文件", "超出保留的最新 1 份备份"],
    "en": ["An upload left behind by a failed staging", "A refused upload&#39;s error list",
           "A rejected change set&#39;s uploaded file", "Older than the newest 1 backups kept"],
}


@pytest.mark.parametrize("lang, flashed", [("zh", "已清理 5 个文件（释放 5.0 KB）。"),
                                           ("en", "Pruned: 5 file(s), 5.0 KB freed.")])
def test_the_button_says_what_it_freed_and_the_history_why_in_the_readers_language(app, db, folders, client,
                                                                                    lang, flashed):
    uploads, backups = folders
    app.config["BACKUPS_KEEP"] = 1
    _file(uploads / "staging-uploads" / ("a" * 64 + ".xlsx"), OLD, body=b"x" * 1024)
    _file(uploads / "import-errors" / "0f0f.csv", OLD, body=b"x" * 1024)
    _change_set(db, "rejected", OLD, content=b"P" * 1024)
    for n in range(1, 4):
        _file(backups / f"backup-{n}.zip", days_old=5 - n, body=b"x" * 1024)
    make_user(db, "root", "admin")
    login(client, "root")
    client.get(f"/lang/{lang}")
    page = client.post("/admin/backups/prune", follow_redirects=True).get_data(as_text=True)
    assert flashed in page and " MB" not in page, page
    history = client.get("/history?action=prune").get_data(as_text=True)
    assert all(reason in history for reason in REASONS[lang]), history
    other = REASONS["en" if lang == "zh" else "zh"]
    assert not any(reason in history for reason in other)
    assert "older than the newest" not in history and "given up" not in history


def test_the_daily_task(app, db, folders):
    from web import queue

    app.config["PRUNE_HOUR"] = 3
    assert queue._prune_due(dt.datetime(2026, 1, 5, 3, 0)) and not queue._prune_due(dt.datetime(2026, 1, 5, 3, 1))
    assert not queue._prune_due(dt.datetime(2026, 1, 5, 4, 0))
    huey = queue.get_huey()
    task = next(t for t in huey._registry.periodic_tasks if t.name == "prune")
    _uploads, backups = folders
    made = [_file(backups / f"backup-{n}.zip", days_old=30 - n) for n in range(1, 13)]
    task.execute()  # what the consumer runs at PRUNE_HOUR: the default keeps the newest 10
    assert [p.exists() for p in made] == [False, False] + [True] * 10
    assert [(k, u) for _e, k, u in _prune_entries(db)] == [("backup-1.zip", "system"), ("backup-2.zip", "system")]


def test_a_file_size_is_written_for_a_person():
    from portfolio.formatting import file_size

    assert [file_size(n) for n in (0, 812, 1024, 3_500, 1_258_291, 2 * 1024 ** 3)] == \
        ["0 B", "812 B", "1.0 KB", "3.4 KB", "1.2 MB", "2.0 GB"]
