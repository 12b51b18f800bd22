"""Uploaded materials (申请材料): safe storage, attachment to a case, and completeness at acceptance.

Storage. The bytes are written under FILE_STORAGE_DIR by their SHA-256 (`ab/cd/abcd…`), atomically (a temp
file in the same folder, fsync, rename), *before* the row is inserted: a crash in between leaves an orphan file,
which is harmless (the same content uploaded again reuses it), never a row without its bytes. The type is sniffed
from the first bytes (PDF, JPEG, PNG, OFD); what the client declares is not believed. A file is fetched only by
its `public_id` (a 256-bit random token), only by staff who can see the uploader's org unit or the case's, and
its hash is checked again on every read.

Which materials a case has, and whether they are complete, is app/cases/materials.py.
"""
from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import secrets
import tempfile
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.catalog.models import PowerItem
from app.errors import Conflict, DomainError, Forbidden, Invalid, NotFound, TooLarge
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User
from app.settings import Settings

from .files_models import CaseFile
from .models import Case

log = logging.getLogger("sunlight.files")

_CHUNK = 1024 * 1024


class UnsupportedFileType(DomainError):
    status, code = 415, "unsupported_file_type"


class FileUnavailable(DomainError):
    """The row exists but its bytes are gone or altered on disk: an operator's problem, never the caller's."""
    status, code = 500, "file_unavailable"


@dataclass(frozen=True)
class FileType:
    content_type: str
    label: str
    extensions: tuple[str, ...]  # the first is the one appended when the name does not fit


PDF = FileType("application/pdf", "PDF", ("pdf",))
JPEG = FileType("image/jpeg", "JPEG image", ("jpg", "jpeg"))
PNG = FileType("image/png", "PNG image", ("png",))
OFD = FileType("application/ofd", "OFD document (GB/T 33190)", ("ofd",))
ALLOWED = (PDF, JPEG, PNG, OFD)


# --- sniffing --------------------------------------------------------------------------------------------------
MAX_UNPACKED = 256 * 1024 * 1024  # an OFD document that unpacks beyond this is a zip bomb, not a document
MAX_ENTRIES = 10_000


def _zip_entries(data: bytes) -> list[zipfile.ZipInfo]:
    try:  # reads the central directory only; nothing is decompressed
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            return zf.infolist()
    except Exception:  # noqa: BLE001 — any malformed archive is simply "not OFD"
        return []


def _unpacks_sanely(entries: list[zipfile.ZipInfo]) -> bool:
    """Whoever opens the document later unpacks it: refuse what would unpack to gigabytes (a zip bomb)."""
    return len(entries) <= MAX_ENTRIES and sum(e.file_size for e in entries) <= MAX_UNPACKED


def sniff(data: bytes) -> FileType | None:
    """The allowed type the bytes are, by their magic numbers; None for anything else."""
    if data.startswith(b"%PDF-"):
        return PDF
    if data.startswith(b"\xff\xd8\xff"):
        return JPEG
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if data.startswith(b"PK\x03\x04"):
        entries = _zip_entries(data)
        if "OFD.xml" in {e.filename for e in entries} and _unpacks_sanely(entries):
            return OFD
    return None


def describe(data: bytes) -> str:
    """A name for a refused file's real type, for the error message."""
    head = data[:512].lstrip().lower()
    if data.startswith(b"MZ"):
        return "a Windows executable"
    if data.startswith(b"\x7fELF"):
        return "an ELF executable"
    if data.startswith((b"\xca\xfe\xba\xbe", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe")):
        return "a Mach-O executable"
    if data.startswith(b"#!"):
        return "a script"
    if head.startswith((b"<!doctype html", b"<html", b"<head", b"<body", b"<script", b"<iframe")) or b"<script" in head:
        return "an HTML document"
    if head.startswith(b"<svg") or (head.startswith(b"<?xml") and b"<svg" in head):
        return "an SVG image"
    if head.startswith(b"<?xml") or head.startswith(b"<"):
        return "an XML/markup document"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "a GIF image"
    if data.startswith(b"PK\x03\x04"):
        entries = _zip_entries(data)
        if not _unpacks_sanely(entries):
            size = sum(e.file_size for e in entries)
            return f"an archive that would unpack to {size:,} bytes in {len(entries):,} entries (a zip bomb)"
        if "[Content_Types].xml" in {e.filename for e in entries}:
            return "an Office (OOXML) document"
        return "a ZIP archive"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Office (OLE) document"
    if data.startswith((b"II*\x00", b"MM\x00*")):
        return "a TIFF image"
    if data.startswith(b"RIFF") and data[8:12] == b"WEBP":
        return "a WebP image"
    return "an unrecognised type"


# --- names -----------------------------------------------------------------------------------------------------
_UNSAFE = re.compile(r'[<>:"/\\|?*;\x00]')


def clean_filename(raw: str | None, kind: FileType) -> str:
    """The last path segment, without control/format characters or shell/Windows-unsafe ones, at most 200
    characters, ending in an extension of the sniffed type (appended when it does not)."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")  # controls, RTL overrides, …
    name = re.sub(r"\s+", " ", _UNSAFE.sub("_", name)).strip(" .")
    stem, dot, ext = name.rpartition(".")
    if not dot or ext.lower() not in kind.extensions:
        stem, ext = name, kind.extensions[0]
    stem = stem.strip(" .")[:200] or "file"
    return f"{stem}.{ext.lower()}"


# --- storage ---------------------------------------------------------------------------------------------------
def _root(settings: Settings) -> Path:
    return Path(settings.file_storage_dir).resolve()


def _key(sha256: str) -> str:
    return f"{sha256[:2]}/{sha256[2:4]}/{sha256}"


def _path(settings: Settings, key: str) -> Path:
    root = _root(settings)
    path = (root / key).resolve()
    if root not in path.parents:  # keys come from hashes; this only guards against a tampered row
        raise FileUnavailable("the stored file's location is not valid")
    return path


def _digest_of(path: Path) -> str | None:
    try:
        h = hashlib.sha256()
        with open(path, "rb") as f:
            for chunk in iter(lambda: f.read(_CHUNK), b""):
                h.update(chunk)
        return h.hexdigest()
    except OSError:
        return None


def _write(settings: Settings, key: str, sha256: str, data: bytes) -> None:
    """Write the bytes at `key` atomically; content-addressed, so an intact copy already there is kept."""
    target = _path(settings, key)
    if target.exists() and _digest_of(target) == sha256:
        _touch(target)  # in use again: prune_orphans leaves recently touched bytes alone
        return
    _root(settings).mkdir(mode=0o700, parents=True, exist_ok=True)
    target.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".upload-")  # 0600, same filesystem as the target
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
        _touch(target)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # make the rename itself durable
        dir_fd = os.open(target.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


def _touch(path: Path) -> None:
    """Stamp the bytes with the service clock (not the filesystem's), the clock prune_orphans compares with."""
    now = clock.now().timestamp()
    os.utime(path, (now, now))


def store_bytes(settings: Settings, data: bytes) -> tuple[str, str]:
    """Keep bytes the system made (a rendered document) exactly as uploads are kept: by their SHA-256, written
    atomically, before any row names them. Returns (sha256, storage key)."""
    sha256 = hashlib.sha256(data).hexdigest()
    key = _key(sha256)
    _write(settings, key, sha256, data)
    return sha256, key


def stored_path(settings: Settings, key: str, sha256: str, what: str) -> Path:
    """Where stored bytes are, after checking they still hash to `sha256` (FileUnavailable otherwise)."""
    path = _path(settings, key)
    if _digest_of(path) != sha256:
        log.error("stored %s %s is missing or altered on disk", what, key)
        raise FileUnavailable(f"the stored {what} is missing or damaged; an operator has been told")
    return path


def store(session: Session, settings: Settings, actor: User, filename: str | None, data: bytes,
          declared_type: str | None) -> CaseFile:
    """Keep an upload: limits, sniffed type, hash, bytes on disk first, then the row (flushed)."""
    if actor.role != "clerk":
        raise Forbidden("only clerks upload materials")
    if len(data) > settings.max_file_bytes:
        raise TooLarge(f"the file is larger than {settings.max_file_bytes} bytes", code="file_too_large",
                       details=[{"field": "file", "limit": settings.max_file_bytes}])
    if not data:
        raise Invalid("the file is empty", details=[{"field": "file", "message": "empty"}])
    _within_quota(session, settings, actor, len(data))
    kind = sniff(data)
    if kind is None:
        found = describe(data)
        allowed = ", ".join(t.label for t in ALLOWED)
        declared = f" (declared as {declared_type})" if declared_type else ""
        raise UnsupportedFileType(f"the file is {found}{declared}; only {allowed} files are accepted",
                                  details=[{"field": "file", "detected": found, "declared": declared_type,
                                            "allowed": [t.content_type for t in ALLOWED]}])
    sha256 = hashlib.sha256(data).hexdigest()
    key = _key(sha256)
    _write(settings, key, sha256, data)  # before the row: a crash leaves an orphan file, never a row without bytes
    row = CaseFile(public_id="f_" + secrets.token_urlsafe(32), org_unit_id=actor.org_unit_id,
                   uploaded_by_id=actor.id, uploaded_at=clock.now(), filename=clean_filename(filename, kind),
                   content_type=kind.content_type, size=len(data), sha256=sha256, storage_key=key)
    session.add(row)
    session.flush()
    return row


QUOTA_WINDOW = timedelta(days=1)


def _within_quota(session: Session, settings: Settings, actor: User, size: int) -> None:
    """One user's uploads in the last day stay within UPLOAD_QUOTA_BYTES: a clerk's token cannot fill the disk.
    The user's row is locked (PostgreSQL), so two uploads at once cannot both slip under the quota."""
    session.scalar(select(User.id).where(User.id == actor.id).with_for_update())
    used = session.scalar(select(func.coalesce(func.sum(CaseFile.size), 0)).where(
        CaseFile.uploaded_by_id == actor.id, CaseFile.uploaded_at > clock.now() - QUOTA_WINDOW)) or 0
    if used + size > settings.upload_quota_bytes:
        raise TooLarge(f"the upload quota is {settings.upload_quota_bytes} bytes a day per user; {used} bytes were "
                       f"uploaded in the last 24 hours and this file is {size}", code="upload_quota",
                       details=[{"field": "file", "quota": settings.upload_quota_bytes, "used": int(used),
                                 "size": size}])


def prune_orphans(db, settings: Settings, older_than, actor_name: str) -> tuple[int, int]:
    """Forget uploads never attached to a case and older than `older_than` (a timedelta); returns (rows
    removed, files removed from disk). The rows go first, in one audited transaction; then the bytes of
    each, unless another row still uses the same content or the file was touched since the cutoff (an
    identical upload reuses the bytes and touches them), so no remaining row is ever left without its bytes."""
    cutoff = clock.now() - older_than
    with db.unit_of_work() as s:
        rows = list(s.scalars(select(CaseFile).where(CaseFile.case_id.is_(None), CaseFile.uploaded_at < cutoff)
                              .order_by(CaseFile.id).with_for_update()))
        keys = {row.storage_key for row in rows}
        for row in rows:
            s.delete(row)
        if rows:
            audit.record(s, orgs.REGISTRY, "uploads_pruned", actor_name,
                         detail={"rows": len(rows), "older_than_days": older_than.days, "cutoff": cutoff.isoformat()})
    if not keys:
        return 0, 0
    with db.unit_of_work() as s:  # bytes another upload still uses stay
        shared = set(s.scalars(select(CaseFile.storage_key).where(CaseFile.storage_key.in_(sorted(keys)))))
    removed = 0
    for key in sorted(keys - shared):
        path = _path(settings, key)
        try:
            if path.stat().st_mtime < cutoff.timestamp():
                path.unlink()
                removed += 1
        except FileNotFoundError:
            pass
    return len(rows), removed


def visible(session: Session, viewer: User, public_id: str) -> CaseFile:
    """The file if the viewer can see its uploader's org unit or its case's; 404 otherwise, as if unknown."""
    row = None
    if isinstance(public_id, str) and 0 < len(public_id) <= 64:
        row = session.scalar(select(CaseFile).where(CaseFile.public_id == public_id))
    if row is not None:
        units = [row.org_unit_id]
        if row.case_id is not None:
            units.append(session.scalar(select(Case.org_unit_id).where(Case.id == row.case_id)))
        if any(orgs.can_see(viewer, session.get(OrgUnit, u)) for u in units):
            return row
    raise NotFound("no such file")


def verified_path(settings: Settings, row: CaseFile) -> Path:
    """Where the file's bytes are, after checking they still hash to what was uploaded."""
    path = _path(settings, row.storage_key)
    if _digest_of(path) != row.sha256:
        log.error("stored file %s (%s) is missing or altered on disk", row.storage_key, row.public_id[:6])
        raise FileUnavailable("the stored file is missing or damaged; an operator has been told")
    return path


def info(row: CaseFile) -> dict:
    return {"file_id": row.public_id, "filename": row.filename, "content_type": row.content_type,
            "size": row.size, "sha256": row.sha256}
