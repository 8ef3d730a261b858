"""The file types the app reads and writes: their MIME types and the bytes that open them.

One place for both, so that a download's Content-Type, an upload's check of its content
and the committee's attachments all say the same thing; and what a workbook the app writes
holds (`formulas_as_text`), and what one it reads must keep to (`workbook_problem`). Pure."""
from __future__ import annotations

import io
import re
import zipfile
from typing import Any

from portfolio.messages import Message

MIME_PDF = "application/pdf"
MIME_PNG = "image/png"
MIME_JPEG = "image/jpeg"
MIME_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
MIME_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# a stored file's kind (its normalised extension) → the type it is sent as
MIME_TYPES = {"pdf": MIME_PDF, "png": MIME_PNG, "jpg": MIME_JPEG, "docx": MIME_DOCX, "xlsx": MIME_XLSX}

# the first bytes of each kind (an .xlsx or .docx is a zip archive: its members tell which)
PDF_MAGIC = b"%PDF-"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
JPEG_MAGIC = b"\xff\xd8\xff"
ZIP_MAGIC = b"PK\x03\x04"


def formulas_as_text(workbook: Any) -> None:
    """Every cell of an openpyxl workbook that openpyxl took for a formula (text beginning with
    '=', which `append` and `cell.value` make live) written as the text it is. The app's
    workbooks hold data, never formulas: a company named '=HYPERLINK(…)' typed into a form or
    a GP's package must not become a link, or a command, in the workbook someone opens."""
    for sheet in workbook.worksheets:
        for row in sheet.iter_rows():
            for cell in row:
                if cell.data_type == "f":
                    cell.data_type = "s"


# What an uploaded .xlsx must keep to before it is parsed at all: a zip bomb, or a book too
# large to read, refused in milliseconds from the zip's directory alone. Each reader passes
# its own ceilings (a whole book: 512 MB and 500,000 rows a sheet; a GP's package far less).
MAX_MEMBER_RATIO = 100                        # uncompressed / compressed, for members over 1 MB
MAX_MEMBERS = 1000
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')


def workbook_problem(data: bytes, *, max_bytes: int, max_rows: int) -> Message | None:
    """Why an .xlsx must be refused before reading it, or None. Checks the zip directory
    (member count, declared sizes against `max_bytes` all together, compression ratios) and
    each sheet's declared dimension against `max_rows`; sheet XML is never expanded here."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        return Message("book_not_xlsx")
    if len(members) > MAX_MEMBERS:
        return Message("book_too_many_parts", n=len(members), limit_n=MAX_MEMBERS)
    total = sum(m.file_size for m in members)
    if total > max_bytes:
        return Message("book_too_large", mb=f"{total / 1024 ** 2:,.0f}", limit_mb=max_bytes // 1024 ** 2)
    for m in members:
        if m.file_size > 1024 * 1024 and m.file_size > MAX_MEMBER_RATIO * max(m.compress_size, 1):
            return Message("book_ratio", part=m.filename, ratio=m.file_size // max(m.compress_size, 1))
    for m in members:
        if m.filename.startswith("xl/worksheets/") and m.filename.endswith(".xml"):
            with archive.open(m) as sheet:
                head = sheet.read(4096)
            found = _DIMENSION.search(head)
            if found and found.group(1) and int(found.group(1)) > max_rows:
                return Message("book_too_many_rows", rows=f"{int(found.group(1)):,}", limit_rows=f"{max_rows:,}")
    return None
