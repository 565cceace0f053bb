"""Uploaded files: checked by size and by content (never by name), hashed, stored under a generated name."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _


@dataclass(frozen=True)
class Inspected:
    content_type: str
    size: int
    sha256: str


def _kind(head: bytes, file) -> str | None:
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"PK\x03\x04"):
        file.seek(0)
        try:
            with zipfile.ZipFile(file) as archive:
                names = set(archive.namelist())
        except zipfile.BadZipFile:
            return None
        finally:
            file.seek(0)
        if "[Content_Types].xml" in names:
            if any(n.startswith("word/") for n in names):
                return "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
            if any(n.startswith("xl/") for n in names):
                return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        return "application/zip"
    return None


ALLOWED_DESCRIPTION = "PDF, Word (.docx), Excel (.xlsx), PNG, JPEG, ZIP"


def inspect_upload(file) -> Inspected:
    """Refuse files that are empty, too large or not of an allowed kind; return their type, size and hash."""
    size = file.size
    if not size:
        raise ValidationError(_("The file is empty."), code="empty")
    limit = settings.UPLOAD_MAX_BYTES
    if size > limit:
        raise ValidationError(
            _("The file is %(size)s MB; the largest accepted is %(limit)s MB.")
            % {"size": f"{size / 1048576:.1f}", "limit": f"{limit / 1048576:.0f}"},
            code="too_large",
        )
    file.seek(0)
    head = file.read(8)
    file.seek(0)
    content_type = _kind(head, file)
    if content_type is None:
        raise ValidationError(
            _("This kind of file is not accepted. Accepted: %(kinds)s.") % {"kinds": ALLOWED_DESCRIPTION},
            code="type",
        )
    digest = hashlib.sha256()
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return Inspected(content_type=content_type, size=size, sha256=digest.hexdigest())


def sha256_of_handle(handle) -> str:
    """The SHA-256 of what an open binary file reads from its start to its end; the file is rewound after."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: handle.read(1 << 20), b""):
        digest.update(chunk)
    handle.seek(0)
    return digest.hexdigest()


def sha256_of_stored(field_file) -> str:
    with field_file.open("rb") as handle:
        return sha256_of_handle(handle)


def open_hashed(field_file):
    """A stored file opened once, with the SHA-256 of what that handle reads, rewound to be served from: the bytes
    sent are the bytes hashed, even if the file in the store is replaced in between. ``(None, None)`` when the
    file is missing or cannot be read."""
    try:
        handle = field_file.storage.open(field_file.name, "rb")
    except (OSError, ValueError):
        return None, None
    try:
        return handle, sha256_of_handle(handle)
    except (OSError, ValueError):
        handle.close()
        return None, None
