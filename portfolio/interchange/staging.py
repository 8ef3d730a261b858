"""Staged imports: an uploaded book becomes a change set that a second person applies.

`stage_book` checks the book as an import does and, when it is good, keeps the file with a
preview (per sheet: the new rows, the changed rows with each field before and after, the
unchanged rows) and writes nothing to the book. A book exported from this application
carries the version it was taken at (`_meta`); a row it would change that someone changed
in the database since is a *conflict* (the uploaded value, the value now, who changed it
when), and the uploader chooses for each one: mine or theirs (`choose`). Nothing applies
until every conflict is chosen.

`apply_change_set` is the checker's step: someone with approval rights other than the
uploader. It runs the same import (portfolio.interchange.importing) on the same bytes, under
the import lock, in one transaction; the valuations it writes count as entered by the
uploader (or, for a draft whose value and method the book keeps, by the draft's maker) and
approved by the applier, who is neither (records.maker_is_checker, the form's rule). If the
book has moved since the preview, it refuses: the approver must see what they approve.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import tempfile
import zipfile
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from itertools import islice
from pathlib import Path
from typing import IO, Any

from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from models import AuditEntry, ChangeSet, utcnow
from portfolio.book import jobs, records
from portfolio.book.audit import audit, confirmed_doubts, digest
from portfolio.book.unit import claim, commit, take
from portfolio.book.versions import WRITES, latest_writes, write_mark
from portfolio.errors import FieldErrors
from portfolio.interchange.doubts import described, unconfirmed
from portfolio.interchange.importing import (
    ImportResult,
    confirm_doubts,
    new_ident,
    plan_import,
    serialise_imports,
    write_import,
)
from portfolio.interchange.schema import META_SHEET, BookError, Progress, read_version
from portfolio.memory import collections_paused
from portfolio.messages import Message, as_json, from_json

CHOICES = ("mine", "theirs")  # a conflicting row: the uploaded value, or the value now
CONFIRMED_LISTED = 100  # confirmed doubts listed in an apply's own audit entry (the count is whole)


@dataclass
class StageResult:
    errors: list[BookError] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    change_set: ChangeSet | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


# -- the file kept with the change set -------------------------------------------------------

def _content(source: str | Path | IO[bytes]) -> tuple[str, bytes]:
    """("xlsx", the workbook) or ("csv-zip", the folder's CSV files zipped)."""
    if isinstance(source, (str, Path)):
        path = Path(source)
        if path.is_dir():
            out = io.BytesIO()
            with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
                for csv in sorted(path.glob("*.csv")):
                    archive.write(csv, csv.name)
            return "csv-zip", out.getvalue()
        return "xlsx", path.read_bytes()
    return "xlsx", source.read()


def _plan(session: Session, change_set: ChangeSet, **options: Any) -> ImportResult:
    """The import's plan for the change set's file, as of the book now."""
    if change_set.kind == "csv-zip":
        with tempfile.TemporaryDirectory() as folder:
            with zipfile.ZipFile(io.BytesIO(change_set.content)) as archive:
                for name in archive.namelist():
                    if name.endswith(".csv") and "/" not in name and "\\" not in name:
                        (Path(folder) / name).write_bytes(archive.read(name))
            return plan_import(session, Path(folder), filename=change_set.filename, **options)
    return plan_import(session, io.BytesIO(change_set.content), filename=change_set.filename, **options)


# -- the preview -----------------------------------------------------------------------------------

def preview_of(result: ImportResult) -> dict[str, Any]:
    """Per sheet: new rows, changed rows (field by field, before → after), unchanged keys."""
    sheets: dict[str, Any] = {}
    for plan in result.plan:
        changed = []
        for ident, entry in zip(plan.idents, plan.update_audits):
            before, after = entry["before"] or {}, entry["after"] or {}
            fields = [name for name in after if before.get(name) != after.get(name)]
            row = {"id": ident, "key": entry["entity_key"], "before": before, "after": after, "fields": fields}
            if ident in plan.drafts_of:
                row["draft_of"] = plan.drafts_of[ident]
            changed.append(row)
        sheets[plan.sheet] = {"new": [{"key": e["entity_key"], "after": e["after"]} for e in plan.new_audits],
                              "changed": changed, "unchanged": list(plan.unchanged)}
    # through JSON once, so that it compares equal with what the database gives back
    return json.loads(json.dumps(sheets, ensure_ascii=False, default=str))


def with_doubts(preview: dict[str, Any], doubts: list[dict[str, Any]]) -> dict[str, Any]:
    """The preview with each sheet's doubted rows (interchange/doubts.py) under "doubts": each
    row's sentences as Chinese text ("doubts") and by key and arguments ("said"), so that a
    screen shows them in the reader's language, and the column each is about ("columns"; a
    change set staged before they were kept has none, and is shown without)."""
    for doubt in doubts:
        kept = json.loads(json.dumps(doubt, ensure_ascii=False, default=str))
        kept["said"] = [as_json(d) if isinstance(d, Message) else None for d in doubt["doubts"]]
        preview.setdefault(doubt["sheet"], {"new": [], "changed": [], "unchanged": []}).setdefault(
            "doubts", []).append(kept)
    return preview


KEPT = 500  # rows kept per sheet and kind in a stored preview (the screens list as many)
_LISTS = ("new", "changed", "unchanged", "doubts")


def kept(preview: dict[str, Any]) -> dict[str, Any]:
    """The preview as a change set keeps it: per sheet the first KEPT rows of each kind, how
    many there are of each (`counts`), and a digest of the whole sheet without its doubts
    (`digest`), which the apply compares with its own plan's. A heavy book's whole preview
    was 54 MB of JSON in one row, read by every page and apply of the change set."""
    out: dict[str, Any] = {}
    for sheet, rows in preview.items():
        out[sheet] = {**{k: v[:KEPT] if k in _LISTS else v for k, v in rows.items()},
                      "counts": {k: len(rows.get(k, [])) for k in _LISTS}, "digest": _digest(rows)}
    return out


def _digest(rows: dict[str, Any]) -> str:
    """A sheet of a preview, its doubts left out (they depend on the day), as one sha256."""
    whole = {k: v for k, v in rows.items() if k not in ("doubts", "counts", "digest")}
    return hashlib.sha256(json.dumps(whole, ensure_ascii=False, sort_keys=True, default=str).encode()).hexdigest()


def _still_staged(planned: dict[str, Any], staged: dict[str, Any]) -> bool:
    """Whether a plan's preview is still the one staged: sheet by sheet, by digest (a change
    set staged before digests were kept: the whole preview)."""
    staged = staged or {}
    if not all("digest" in rows for rows in staged.values()):
        return planned == _without_doubts(staged)
    return planned.keys() == staged.keys() and all(_digest(planned[sheet]) == staged[sheet]["digest"] for sheet in planned)


def count_of(rows: dict[str, Any], kind: str) -> int:
    """How many rows of a kind (new, changed, unchanged, doubts) a stored preview's sheet had."""
    counts = rows.get("counts")
    return int(counts[kind]) if isinstance(counts, dict) and kind in counts else len(rows.get(kind, []))


def doubts_of(change_set: ChangeSet, limit: int | None = None) -> list[dict[str, Any]]:
    """The doubted rows found when the change set was staged, every sheet's (the first `limit`
    of them; a change set keeps each sheet's first KEPT, doubt_count says how many); each row's
    sentences ("doubts") Messages again where their keys were kept (a change set staged
    before that: the Chinese text)."""
    rows = (d for sheet in (change_set.preview or {}).values() for d in sheet.get("doubts", []))
    return [_said(d) for d in islice(rows, limit)]


def doubt_count(change_set: ChangeSet) -> int:
    """How many rows of the change set were doubted when it was staged."""
    return sum(count_of(sheet, "doubts") for sheet in (change_set.preview or {}).values())


def _said(doubt: dict[str, Any]) -> dict[str, Any]:
    said = doubt.get("said")
    if not isinstance(said, list) or len(said) != len(doubt.get("doubts", [])):
        return doubt
    return {**doubt, "doubts": [from_json(key, text) if key else text for key, text in zip(said, doubt["doubts"])]}


def _without_doubts(preview: dict[str, Any]) -> dict[str, Any]:
    """The preview to compare with the book's: the doubts (which depend on the day) left out."""
    return {sheet: {k: v for k, v in rows.items() if k != "doubts"} for sheet, rows in (preview or {}).items()}


def _conflicts(session: Session, result: ImportResult, since: int) -> list[dict[str, Any]]:
    """The changed rows whose record someone wrote after `since` (the export's book version):
    what the upload has, what the book has now, and the latest write's author and time."""
    conflicts: list[dict[str, Any]] = []
    for plan in result.plan:
        if not plan.idents:
            continue
        table = plan.update_audits[0]["entity"]
        # a row's audit entries name it by its id (forms) or by its natural key (imports)
        names: dict[str, str] = {}
        for ident, planned in zip(plan.idents, plan.update_audits):
            names[ident.split(":", 1)[1]] = ident
            names.setdefault(planned["entity_key"], ident)
            if table == "sub_fund_holdings":  # a GP's accepted schedule names its rows SF:date:company
                names.setdefault(planned["entity_key"].replace("/", ":"), ident)
        latest: dict[str, AuditEntry] = {}
        for key, written in latest_writes(session, table, names, since).items():
            if names[key] not in latest or latest[names[key]].id < written.id:  # the newer of its two names
                latest[names[key]] = written
        for ident, planned in zip(plan.idents, plan.update_audits):
            entry = latest.get(ident)
            if entry is None:
                continue
            before, after = planned["before"] or {}, planned["after"] or {}
            conflicts.append({"id": ident, "sheet": plan.sheet, "key": planned["entity_key"],
                              "fields": [n for n in after if before.get(n) != after.get(n)],
                              "mine": after, "now": before, "by": entry.username,
                              "at": entry.at.strftime("%Y-%m-%dT%H:%M:%S"), "action": entry.action})
    conflicts += _gone_since(session, result, since)
    return json.loads(json.dumps(conflicts, ensure_ascii=False, default=str))


# a new row of an old export may be a record the book has since voided, deleted (a GP's
# schedule replaced) or changed so that it no longer matches: by these columns
GONE_KEYS = {"cash_flows": ("investment_id", "date", "type", "amount_cny"),
             "valuations": ("investment_id", "as_of"),
             "sub_fund_holdings": ("sub_fund_code", "as_of", "company_code")}
GONE = ("void", "delete")


def _cell(value: Any) -> Any:
    """A value of an audit entry or a planned row, comparable whatever wrote it (amounts
    "1000" and "1000.00" alike)."""
    if value is None or value == "":
        return None
    try:
        return Decimal(str(value)) if not isinstance(value, bool) else value
    except InvalidOperation:
        return str(value)


def _void_asked_at(session: Session, void: AuditEntry) -> dt.datetime | None:
    """When the void that `void` (its approval's audit entry) approved was asked for: its asking's
    audit entry (`request_void`, the latest before it, however long before the export); None
    where there is none (a draft's void, in force at once, is its own asking)."""
    return session.execute(select(AuditEntry.at).where(
        AuditEntry.entity == void.entity, AuditEntry.entity_key == void.entity_key,
        AuditEntry.action == "request_void", AuditEntry.id < void.id)
        .order_by(AuditEntry.id.desc()).limit(1)).scalar()


def _gone_since(session: Session, result: ImportResult, since: int) -> list[dict[str, Any]]:
    """New rows of the upload that were records of the book when the file was exported and
    have been voided, deleted or changed (their key moved) after it: the old file would bring
    back a cancelled or superseded record as a second one (a flow twice: money doubled).

    The record as it was at the export is the `before` of its first write after `since`; as
    it is now, the `after` of its latest (none when voided or deleted)."""
    conflicts: list[dict[str, Any]] = []
    for plan in result.plan:
        columns = GONE_KEYS.get(plan.sheet)
        if columns is None or not plan.new_audits:
            continue
        mine: dict[tuple, dict[str, Any]] = {}
        for entry in plan.new_audits:
            mine.setdefault(tuple(_cell(entry["after"].get(c)) for c in columns), entry)
        first: dict[str, AuditEntry] = {}
        last: dict[str, AuditEntry] = {}
        for written in session.execute(select(AuditEntry).where(
                AuditEntry.id > since, AuditEntry.entity == plan.sheet, AuditEntry.action.in_(WRITES + GONE))
                .order_by(AuditEntry.id)).scalars():
            first.setdefault(written.entity_key, written)
            last[written.entity_key] = written
        for name, written in first.items():
            if not written.before:
                continue  # created after the export: not in the old file
            was = tuple(_cell(written.before.get(c)) for c in columns)
            planned = mine.get(was)
            latest = last[name]
            now = None if latest.action in GONE or (latest.after or {}).get("voided_at") else latest.after
            if planned is None or (now is not None and tuple(_cell(now.get(c)) for c in columns) == was):
                continue
            row_key = planned["entity_key"]
            after = planned["after"]
            shown = {n: (now or {}).get(n) for n in after}
            fields = [n for n in after if _cell(after[n]) != _cell(shown[n])]
            # a void is its asker's (their reason is the note), approved by the entry's writer: shown
            # with the time it was asked for (the asking's entry), not the approval's
            asker = ((latest.after or {}).get("void_requested_by") or (latest.before or {}).get("void_requested_by")
                     if latest.action == "void" else None)
            asked_at = _void_asked_at(session, latest) if asker else None
            conflicts.append({"id": new_ident(plan.sheet, row_key), "sheet": plan.sheet, "key": row_key,
                              "fields": fields, "mine": after, "now": shown, "by": asker or latest.username,
                              "approved_by": latest.username if asker else None,
                              "at": (asked_at or latest.at).strftime("%Y-%m-%dT%H:%M:%S"),
                              "action": "void" if now is None else latest.action,
                              "note": latest.reason if now is None else None})
    # one conflict per row, however many records it once was
    return list({c["id"]: c for c in conflicts}.values())


# -- the use cases -----------------------------------------------------------------------------------

@collections_paused()  # bulk work (portfolio.memory)
def stage_book(session: Session, source: str | Path | IO[bytes], *, username: str,
               filename: str | None = None, progress: Progress | None = None,
               job_id: int | None = None) -> StageResult:
    """Check an uploaded book and keep it as a pending change set (nothing written to the book).

    A book that changes nothing gives its counts and no change set. Staged by a job
    (`job_id`): the change set is noted on the job's row in the same transaction, and the
    job run again (a retry) gives that change set instead of staging a second one."""
    if job_id is not None:
        done = jobs.outcome(session, job_id)
        if done and done.get("change_set"):
            earlier = session.get(ChangeSet, int(done["change_set"]))
            if earlier is not None:
                return StageResult(counts=dict(earlier.counts or {}), change_set=earlier)
    kind, content = _content(source)
    name = filename or (Path(source).name if isinstance(source, (str, Path)) else "upload.xlsx")
    staging = ChangeSet(kind=kind, content=content, filename=name[:255])
    result = _plan(session, staging, username=username, progress=progress)
    if not result.ok:
        session.rollback()
        return StageResult(errors=result.errors)
    since = read_version(Path(str(source)) if kind == "csv-zip" else content)
    conflicts = _conflicts(session, result, since) if since is not None else []
    if not any(c["new"] or c["changed"] for c in result.counts.values()):
        session.rollback()
        return StageResult(counts=result.counts)
    staging.uploaded_by, staging.uploaded_at = username, utcnow()
    staging.base_version, staging.staged_version = since, write_mark(session)
    staging.counts, staging.preview = result.counts, kept(with_doubts(preview_of(result), result.doubts))
    staging.conflicts, staging.choices, staging.status = conflicts, {}, "pending"
    session.add(staging)
    session.flush()
    audit(session, username, "stage", "change_sets", str(staging.id),
          after={"filename": staging.filename, "counts": result.counts, "conflicts": len(conflicts),
                 "base_version": since, "doubts": len(result.doubts)}, reason=Message("why_change_set_staged", id=staging.id))
    if job_id is not None:
        jobs.record_outcome(session, job_id, {"change_set": staging.id, "counts": result.counts})
    commit(session)
    return StageResult(counts=result.counts, change_set=staging)


def _pending(session: Session, change_set_id: int) -> ChangeSet:
    change_set = session.get(ChangeSet, change_set_id)
    if change_set is None:
        raise FieldErrors([("", Message("change_set_unknown", id=change_set_id))])
    if change_set.status != "pending":
        raise FieldErrors([("", Message("change_set_applied" if change_set.status == "applied" else "change_set_rejected",
                                         id=change_set_id))])
    return change_set


def choose(session: Session, change_set_id: int, choices: dict[str, str], *, username: str) -> ChangeSet:
    """The uploader's choice for conflicting rows: keep the uploaded value (mine) or the
    value the book has now (theirs). The change set's row is taken first: a choice made while
    the checker's apply runs waits for it, and then finds the change set applied."""
    take(session, _pending(session, change_set_id))
    change_set = _pending(session, change_set_id)  # as it is now, read again under the lock
    if change_set.uploaded_by != username:
        raise FieldErrors([("", Message("only_uploader_resolves"))])
    conflicting = {c["id"] for c in change_set.conflicts}
    errors = [(ident, Message("invalid_choice_of", choice=choice)) for ident, choice in choices.items()
              if ident not in conflicting or choice not in CHOICES]
    if errors:
        raise FieldErrors(errors)
    before = dict(change_set.choices or {})
    change_set.choices = {**before, **choices}
    audit(session, username, "update", "change_sets", str(change_set.id), before={"choices": before},
          after={"choices": change_set.choices})
    commit(session)
    return change_set


def unresolved(change_set: ChangeSet) -> list[str]:
    return [c["id"] for c in change_set.conflicts if (change_set.choices or {}).get(c["id"]) not in CHOICES]


def may_apply(session: Session, change_set_id: int, username: str) -> ChangeSet:
    """The pending change set, if `username` may apply it now, else FieldErrors: the checks
    that need no plan (still pending, not its uploader, every conflict chosen). The screen
    asks them before it queues a large change set's apply; apply_change_set asks again."""
    change_set = _pending(session, change_set_id)
    if records.maker_is_checker(change_set.uploaded_by, username):
        raise FieldErrors([("", Message("uploader_cannot_approve"))])
    if unresolved(change_set):
        raise FieldErrors([("", Message("conflicts_unresolved", n=len(unresolved(change_set))))])
    return change_set


@collections_paused()
def choices_version(change_set: ChangeSet) -> str:
    """The version of the uploader's choices an apply form carries (what the checker saw)."""
    return digest(dict(change_set.choices or {}))


def apply_change_set(session: Session, change_set_id: int, *, username: str,
                     confirm_reason: str | None = None, progress: Progress | None = None,
                     seen_choices: str | None = None) -> ChangeSet:
    """The checker applies a pending change set: the import, in one transaction, or nothing.
    `seen_choices`: the choices' version the checker's page showed (choices_version); choices
    made since are refused, never applied unseen.

    Rows that trip a sanity check (doubts.py, the form's rules, checked again now) apply only
    with the checker's reason (`confirm_reason`), kept in the apply's audit entry and in each
    doubted row's. `progress` is told the rows read and the sheets checked (a job's bar)."""
    sqlite = session.get_bind().dialect.name == "sqlite"
    if not sqlite:
        serialise_imports(session)  # before reading anything: the book cannot move under us
    try:
        change_set = may_apply(session, change_set_id, username)
        if not sqlite:
            take(session, change_set)  # a choice of the uploader's waits for the apply (choose)
        choices_seen = dict(change_set.choices or {})
        if seen_choices is not None and seen_choices != choices_version(change_set):
            raise FieldErrors([("", Message("change_set_choices_moved"))])
        batch = f"cs{change_set.id}-{utcnow():%Y%m%d%H%M%S}"

        def plan(progress: Progress | None) -> tuple[ImportResult, frozenset[str], str | None, dict[str, Any]]:
            """The plan, checked: importable, still the preview approved, no maker approving
            their own valuation, any doubt confirmed (the reason on each doubted row's audit
            entry); with the rows left out, the reason and the confirmed doubts' list."""
            # the conflicting rows the uploader left as the book has them: not written, so not refused
            # for a void waiting (plan_import)
            leave_out = frozenset(i for i, choice in (change_set.choices or {}).items() if choice == "theirs")
            result = _plan(session, change_set, username=username, entered_by=change_set.uploaded_by,
                           approved_by=username, batch=batch, progress=progress, leave_out=leave_out,
                           reason=Message("why_change_set_applied", id=change_set.id, person=change_set.uploaded_by))
            if not result.ok:
                raise FieldErrors([("", Message("change_set_unimportable", book_error=result.errors[0].located()))])
            if not _still_staged(preview_of(result), change_set.preview):
                raise FieldErrors([("", Message("preview_stale"))])
            # nobody approves valuation content they made: the uploader's rows, a kept draft's maker
            makers = set().union(*(p.makers(change_set.uploaded_by, leave_out) for p in result.plan
                                   if p.sheet == "valuations"))
            if any(records.maker_is_checker(maker, username) for maker in makers):
                raise FieldErrors([("", records.MAKER_IS_CHECKER)])
            reason = ((confirm_reason or "").strip()[:2000] or None) if result.doubts else None
            if result.doubts and not reason:
                raise unconfirmed(result.doubts)
            confirm_doubts(result, reason)
            # the apply's own entry lists the first of them: each doubted row's entry has its own
            # doubts and the reason (a heavy book's 77,000 made one entry of 35 MB)
            confirmed = {**confirmed_doubts([line for d in result.doubts[:CONFIRMED_LISTED] for line in described(d)]),
                         "confirmed_doubts_count": len(result.doubts)} if reason else {}
            return result, leave_out, reason, confirmed

        if sqlite:
            # SQLite's lock is its write lock: while it is held every other writer waits, a job's
            # bar and heartbeat too (a long apply would look like a dead worker's). So the plan
            # and its checks, the long part and reads only, are made before it; under it, made
            # again if the book moved meanwhile. Every write leaves an audit entry, and SQLite
            # commits one writer at a time, so the latest entry's id is a true mark of "moved".
            mark = write_mark(session)
            result, leave_out, reason, confirmed = plan(progress)
            serialise_imports(session)
            if write_mark(session) != mark:
                session.expire_all()  # the change set too: decided or chosen again meanwhile
                change_set = may_apply(session, change_set_id, username)
                if dict(change_set.choices or {}) != choices_seen:  # not what the checker approved
                    raise FieldErrors([("", Message("change_set_choices_moved"))])
                result, leave_out, reason, confirmed = plan(None)
        else:
            result, leave_out, reason, confirmed = plan(progress)
        if not claim(session, change_set, ChangeSet.status == "pending", status="applied", decided_by=username,
                     decided_at=utcnow(), batch=batch):
            raise FieldErrors([("", Message("change_set_raced"))])
        try:
            write_import(session, result, leave_out)
        except SQLAlchemyError as error:  # a constraint the checks missed: nothing written
            raise FieldErrors([("", Message("import_refused_by_db", name=error.__class__.__name__))]) from error
        after: dict[str, Any] = {"counts": result.counts, "uploaded_by": change_set.uploaded_by,
                                 "approved_by": username, "kept": sorted(leave_out)}
        after.update(confirmed)
        audit(session, username, "apply", "change_sets", str(change_set.id), batch=batch, after=after,
              reason=Message("why_change_set_confirmed", id=change_set.id, typed=reason) if reason
              else Message("why_change_set_approved", id=change_set.id))
        change_set.counts = result.counts
    except FieldErrors:
        session.rollback()  # releases the import lock
        raise
    commit(session)
    return change_set


def reject_change_set(session: Session, change_set_id: int, reason: str, *, username: str) -> ChangeSet:
    """Reject (or, by its uploader, withdraw) a pending change set, with a reason."""
    reason = (reason or "").strip()
    if not reason:
        raise FieldErrors([("reason", Message("reject_needs_reason"))])
    change_set = _pending(session, change_set_id)
    if not claim(session, change_set, ChangeSet.status == "pending", status="rejected", decided_by=username,
                 decided_at=utcnow(), reason=reason[:2000]):
        session.rollback()
        raise FieldErrors([("", Message("change_set_raced"))])
    audit(session, username, "reject", "change_sets", str(change_set.id), after={"status": "rejected"},
          reason=reason)
    commit(session)
    return change_set


def history_filter(change_set: Any):
    """The audit entries of a change set (a ChangeSet, or a row of its id and batch): its own,
    and every row it applied."""
    own = (AuditEntry.entity == "change_sets") & (AuditEntry.entity_key == str(change_set.id))
    return or_(own, AuditEntry.batch == change_set.batch) if change_set.batch else own


__all__ = ["META_SHEET", "StageResult", "apply_change_set", "choose", "doubt_count", "doubts_of", "history_filter", "may_apply",
           "reject_change_set", "stage_book", "unresolved"]
