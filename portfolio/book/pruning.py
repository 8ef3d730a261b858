"""Pruning: what the application kept for a while and need not keep for ever.

- Uploads given up on, older than `upload_days` days (by the file's time, or the change
  set's decision): a large upload's file under `staging-uploads/` left behind because its
  staging job failed (a staged one removes its file; one still queued or running is never
  touched), the error lists of refused uploads under `import-errors/` (a session's
  下载全部错误, long since moot), and the uploaded workbook kept in a *rejected* change set
  (its preview, counts and decision stay; only the file's bytes go).
- Backups the screens made (`backup-<job>.zip` in the backups folder): the newest
  `keep_backups` are kept, never fewer than one; a backup written by `flask backup PATH` to a
  path of the user's choosing is the user's, never ours to delete.

Every deletion is audited (action `prune`: entity `upload`, `backup` or `change_sets`, with
the file's name, size and time, and why as a Message the history shows in the reader's
language), in one transaction with the change sets' bytes; a file is removed only after that
transaction committed, so the trail never misses one.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models import ChangeSet, Job, utcnow
from portfolio.book.audit import audit
from portfolio.messages import Message

STAGING_UPLOADS = "staging-uploads"   # web/book.py's UPLOADS_FOLDER
IMPORT_ERRORS = "import-errors"       # web/book.py's ERRORS_FOLDER
BACKUP_PATTERN = "backup-*.zip"       # web/admin.py names the screens' backups so


@dataclass
class Pruned:
    """What one pruning removed (names relative to their folder) and the bytes it freed."""

    uploads: list[str] = field(default_factory=list)
    change_sets: list[int] = field(default_factory=list)
    backups: list[str] = field(default_factory=list)
    kept_backups: list[str] = field(default_factory=list)
    freed: int = 0

    @property
    def count(self) -> int:
        return len(self.uploads) + len(self.change_sets) + len(self.backups)


def _mtime(path: Path) -> dt.datetime:
    return dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC).replace(tzinfo=None)


def _staging_in_hand(session: Session) -> set[str]:
    """The uploaded files a staging job still needs (queued or running)."""
    params = session.execute(select(Job.params).where(Job.kind == "stage_upload",
                                                      Job.state.in_(("queued", "running")))).scalars()
    return {str(p.get("file")) for p in params if isinstance(p, dict)}


def _old_files(folder: Path, pattern: str, before: dt.datetime) -> list[Path]:
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob(pattern) if p.is_file() and _mtime(p) < before)


def prune(session: Session, *, upload_folder: str | Path, backups_folder: str | Path, upload_days: int,
          keep_backups: int, username: str, now: dt.datetime | None = None, dry_run: bool = False) -> Pruned:
    """Remove what is given up on and old (see the module); returns what went (or, `dry_run`,
    what would go, nothing removed and nothing audited)."""
    now = now or utcnow()
    before = now - dt.timedelta(days=max(0, upload_days))
    uploads = Path(upload_folder)
    pruned = Pruned()
    doomed: list[Path] = []
    entries: list[tuple[str, str, Message, dict]] = []  # (entity, key, reason, before)

    # uploads: staged files left by a failed job, refused uploads' error lists
    in_hand = _staging_in_hand(session)
    for path in _old_files(uploads / STAGING_UPLOADS, "*.xlsx*", before):
        if path.name.split(".")[0] in in_hand:
            continue
        doomed.append(path)
        pruned.uploads.append(f"{STAGING_UPLOADS}/{path.name}")
        entries.append(("upload", f"{STAGING_UPLOADS}/{path.name}", Message("why_pruned_staged_upload"),
                        {"bytes": path.stat().st_size, "modified": _mtime(path).isoformat(timespec="seconds")}))
    for path in _old_files(uploads / IMPORT_ERRORS, "*.csv", before):
        doomed.append(path)
        pruned.uploads.append(f"{IMPORT_ERRORS}/{path.name}")
        entries.append(("upload", f"{IMPORT_ERRORS}/{path.name}", Message("why_pruned_error_list"),
                        {"bytes": path.stat().st_size, "modified": _mtime(path).isoformat(timespec="seconds")}))

    # rejected change sets: the uploaded workbook's bytes
    rejected = session.execute(select(ChangeSet.id, ChangeSet.filename, ChangeSet.decided_at)
                               .where(ChangeSet.status == "rejected", ChangeSet.decided_at < before)
                               .order_by(ChangeSet.id)).all()
    sizes = {}
    for row in rejected:
        size = session.execute(select(ChangeSet.content).where(ChangeSet.id == row.id)).scalar() or b""
        if not size:
            continue  # pruned already
        sizes[row.id] = len(size)
        pruned.change_sets.append(row.id)
        entries.append(("change_sets", str(row.id), Message("why_pruned_change_set_file"),
                        {"filename": row.filename, "bytes": len(size),
                         "decided_at": row.decided_at.isoformat(timespec="seconds") if row.decided_at else None}))

    # backups: the newest `keep_backups` (at least one) stay
    folder = Path(backups_folder)
    backups = sorted((p for p in folder.glob(BACKUP_PATTERN) if p.is_file()) if folder.is_dir() else [],
                     key=lambda p: (p.stat().st_mtime, p.name), reverse=True)
    keep = max(1, keep_backups)
    pruned.kept_backups = [p.name for p in backups[:keep]]
    for path in reversed(backups[keep:]):  # the oldest first
        doomed.append(path)
        pruned.backups.append(path.name)
        entries.append(("backup", path.name, Message("why_pruned_backup", keep=keep),
                        {"bytes": path.stat().st_size, "modified": _mtime(path).isoformat(timespec="seconds")}))

    pruned.freed = sum(p.stat().st_size for p in doomed) + sum(sizes.values())
    if dry_run or not entries:
        return pruned
    batch = f"prune-{now:%Y%m%d%H%M%S%f}"
    if sizes:
        session.execute(update(ChangeSet).where(ChangeSet.id.in_(sizes), ChangeSet.status == "rejected")
                        .values(content=b"").execution_options(synchronize_session=False))
    for entity, key, reason, before_values in entries:
        audit(session, username, "prune", entity, key, before=before_values, after=None, reason=reason,
              batch=batch)
    session.commit()
    for path in doomed:  # after the trail is written: a file is never gone unrecorded
        path.unlink(missing_ok=True)
    return pruned
