"""Running-case migration to another version of the flow (admin). Thin: parse, call, render."""
from __future__ import annotations

from flask import Blueprint

from app.cases import migration
from app.errors import Invalid

from . import openapi as doc
from .common import caller, db, json_body, settings

migrations = Blueprint("migrations", __name__, url_prefix="/api/v1")


@migrations.post("/definitions/<int:definition_id>/migrations")
def migrate(definition_id: int):
    body = json_body(required=False)
    case_nos = body.get("case_nos")
    if case_nos is not None and (not isinstance(case_nos, list) or not all(isinstance(c, str) for c in case_nos)
                                 or len(case_nos) > 100000):
        raise Invalid("case_nos must be a list of case numbers (or left out for every running case of the item)",
                      details=[{"field": "case_nos"}])
    dry_run = body.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise Invalid("dry_run must be true or false", details=[{"field": "dry_run"}])
    with db().unit_of_work() as s:
        actor = caller(s, "admin")
        s.expunge(actor)  # used across the per-case transactions below
    return migration.migrate(db(), settings(), actor, definition_id, case_nos, dry_run).as_dict()


doc.document({"/api/v1/definitions/{definition_id}/migrations": {"post": doc.op(
    "Move running cases to this version (check only with dry_run); one transaction per case (admin)",
    out="MigrationReport", body="MigrationIn", errors=(400, 404, 409, 415, 422),
    params=[doc.path_param("definition_id", {"type": "integer"})])}}, {
    "MigrationIn": {"type": "object", "properties": {"case_nos": {"type": "array", "items": {"type": "string"}},
                                                      "dry_run": {"type": "boolean"}}},
    "MigrationReport": {"type": "object", "properties": {
        "definition_id": {"type": "integer"}, "dry_run": {"type": "boolean"},
        "moved": {"type": "array", "items": {"type": "string"}},
        "refused": {"type": "array", "items": {"type": "object", "properties": {
            "case_no": {"type": "string"}, "reason": {"type": "string"}}}}}},
})
