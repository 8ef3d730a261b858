"""The file types the app reads and writes: their MIME types and the bytes that open them.

One place for both, so that a download's Content-Type, an upload's check of its content
and the committee's attachments all say the same thing. Pure (no imports)."""
from __future__ import annotations

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
