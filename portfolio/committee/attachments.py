"""A proposal's due-diligence files: size, extension and content checked (magic bytes),
stored under a random name, audited; only the proposer (or an admin) attaches."""
from __future__ import annotations

import hashlib
import io
import secrets
import zipfile
from pathlib import Path

from sqlalchemy.orm import Session

from models import (
    ProposalAttachment,
)
from portfolio.book.audit import audit, snapshot
from portfolio.book.unit import commit
from portfolio.committee.workflow import (
    IllegalTransition,
    take_proposal,
)
from portfolio.errors import FieldErrors
from portfolio.filetypes import JPEG_MAGIC, PDF_MAGIC, PNG_MAGIC, ZIP_MAGIC
from portfolio.messages import Message

# =============================================================== attachments

EXTENSIONS = {"pdf": "pdf", "docx": "docx", "xlsx": "xlsx", "png": "png", "jpg": "jpg", "jpeg": "jpg"}
MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024


def sniff_kind(data: bytes) -> str | None:
    """The file's type from its content (magic bytes; docx/xlsx by their zip members)."""
    if data.startswith(PDF_MAGIC):
        return "pdf"
    if data.startswith(PNG_MAGIC):
        return "png"
    if data.startswith(JPEG_MAGIC):
        return "jpg"
    if data.startswith(ZIP_MAGIC):
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
    proposal = take_proposal(session, proposal_id)
    if proposal.status in ("decided", "withdrawn"):
        raise IllegalTransition(proposal, "attach")
    if proposal.proposer != username and not is_admin:
        raise FieldErrors([("file", Message("attach_only_proposer"))])
    name = _display_name(filename)
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    errors = []
    if not data:
        errors.append(("file", Message("file_empty")))
    elif len(data) > max_bytes:
        errors.append(("file", Message("file_too_large", mb=max_bytes // (1024 * 1024))))
    kind = EXTENSIONS.get(ext)
    if kind is None:
        errors.append(("file", Message("file_types")))
    elif data and sniff_kind(data) != kind:
        errors.append(("file", Message("file_mismatch", ext=ext)))
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
