"""Uploaded materials (/api/v1/files): upload (clerk) and download (staff in scope). Thin: parse, call, send.

The upload is read outside any database transaction (a slow client never holds a lock): the token is checked
in a short unit of work, the body is read, then the bytes are stored and the row inserted in a second one.
"""
from __future__ import annotations

from flask import Blueprint, request, send_file

from app.cases import files

from . import openapi as doc
from .common import BadRequest, UnsupportedMediaType, caller, db, settings

files_api = Blueprint("files", __name__, url_prefix="/api/v1")
STAFF = ("admin", "designer", "legal", "clerk", "supervisor")
MULTIPART_SLACK = 64 * 1024  # the multipart envelope around a file of exactly MAX_FILE_BYTES


@files_api.post("/files")
def upload():
    with db().unit_of_work() as s:
        user = caller(s, "clerk")  # loaded eagerly; used detached below
    limit = settings().max_file_bytes
    # This endpoint's own body limit (MAX_CONTENT_LENGTH guards JSON endpoints; files may be larger).
    request.max_content_length = limit + MULTIPART_SLACK
    if request.mimetype != "multipart/form-data":
        raise UnsupportedMediaType("send the file as multipart/form-data in the field 'file'")
    part = request.files.get("file")  # Werkzeug answers 413 itself beyond max_content_length
    if part is None:
        raise BadRequest("send the file as multipart/form-data in the field 'file'")
    data = part.stream.read(limit + 1)
    with db().unit_of_work() as s:
        row = files.store(s, settings(), user, part.filename, data, part.mimetype or None)
        out = files.info(row)
    return out, 201


@files_api.get("/files/<file_id>")
def download(file_id: str):
    with db().unit_of_work() as s:
        user = caller(s, *STAFF)
        row = files.visible(s, user, file_id)
        name, ctype = row.filename, row.content_type
    path = files.verified_path(settings(), row)
    resp = send_file(path, mimetype=ctype, as_attachment=True, download_name=name, conditional=False,
                     etag=False, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    resp.headers["X-Content-SHA256"] = row.sha256
    return resp


_FILE_OUT = {"type": "object", "properties": {
    "file_id": {"type": "string", "description": "random token; the only way to fetch the file"},
    "filename": doc.S, "content_type": {"type": "string", "enum": [t.content_type for t in files.ALLOWED]},
    "size": doc.I, "sha256": doc.S}}

doc.document({
    "/api/v1/files": {"post": {
        **doc.op("Upload a material (clerk): PDF, JPEG, PNG or OFD, sniffed from the bytes, at most MAX_FILE_BYTES; "
                 "attach it by file_id in POST /api/v1/cases `materials`", 201, "UploadedFile",
                 errors=(400, 413, 415, 422)),
        "requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
            "type": "object", "required": ["file"],
            "properties": {"file": {"type": "string", "format": "binary"}}}}}}}},
    "/api/v1/files/{file_id}": {"get": doc.op(
        "Download a material (staff who can see the uploader's department or the case's): always as an "
        "attachment, with its sniffed type and X-Content-Type-Options: nosniff",
        media={t.content_type: {"schema": {"type": "string", "format": "binary"}} for t in files.ALLOWED},
        errors=(404,), params=[doc.path_param("file_id")])},
}, {
    "UploadedFile": _FILE_OUT,
    "MaterialRef": {"type": "object", "required": ["name"], "description": (
        "exactly one of file_id, paper, deferred_until, pledged; every one counts as provided"), "properties": {
        "name": {"type": "string", "description": "one of the item's material names"},
        "file_id": {"type": "string", "description": "from POST /api/v1/files; each file attaches to one case"},
        "paper": {"type": "boolean", "enum": [True], "description": "checked on paper at the window"},
        "deferred_until": {"type": "string", "format": "date", "description": (
            "容缺受理 (items with allows_deferred): owed until this day; still owed after it, a yellow notice")},
        "pledged": {"type": "boolean", "enum": [True], "description": (
            "告知承诺 (items with pledge_verify_days): verified within that many working days, else a yellow notice")}}},
    "CaseMaterial": {"type": "object", "properties": {
        "name": doc.S, "required": {"type": "boolean"}, "copies": doc.I, "provided": {"type": "boolean"},
        "paper": {"type": "boolean"},
        "how": {"type": "string", "nullable": True, "enum": ["file", "paper", "deferred", "pledge", None]},
        "due_on": {"type": "string", "format": "date", "nullable": True},
        "settled_at": {"type": "string", "format": "date-time", "nullable": True},
        "file_id": doc.S, "files": {"type": "array", "items": doc.ref("UploadedFile")}}},
})
