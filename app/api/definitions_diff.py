"""GET /api/v1/definitions/{id}/diff?against={other_id}: what the legal office reads before approving a version."""
from __future__ import annotations

from flask import Blueprint, request

from app.definitions import service as definitions
from app.errors import NotFound
from app.orgs.service import can_see

from . import openapi as doc
from .common import BadRequest, caller, db
from .errors import MAX_ID

definitions_diff = Blueprint("definitions_diff", __name__, url_prefix="/api/v1")
STAFF = ("admin", "designer", "legal", "clerk", "supervisor")


@definitions_diff.get("/definitions/<int:definition_id>/diff")
def diff(definition_id: int):
    with db().unit_of_work() as s:
        user = caller(s, *STAFF)  # before the query check: without a token the answer is 401, whatever the query
        against = _against()
        if not 0 <= against <= MAX_ID:  # as for ids in the path (errors.py): no row can have it
            raise NotFound(f"no definition {against}")
        for wanted in (definition_id, against):
            # An invisible version answers like an unknown one, so ids of other departments do not leak.
            if not can_see(user, definitions.get(s, wanted).item.org_unit):
                raise NotFound(f"no definition {wanted}")
        return {"changes": definitions.diff_against(s, definition_id, against)}


def _against() -> int:
    try:
        return int(request.args["against"])
    except (KeyError, ValueError):
        raise BadRequest("against must be the id of the definition version to compare with",
                         details=[{"field": "against"}]) from None


_TEXT = {"type": "string", "nullable": True}
_CHANGE = {"type": "object", "required": ["change", "element_id", "element_type", "field", "old", "new"], "properties": {
    "change": {"type": "string", "enum": ["added", "removed", "changed"]},
    "element_id": {"type": "string"},
    "element_type": {"type": "string", "description": "BPMN tag, e.g. userTask, boundaryEvent, sequenceFlow"},
    "name": _TEXT,
    "field": {"type": "string", "nullable": True, "description": (
        "null for added/removed; else type, name, lane (lane names), parent, source, target (element ids), "
        "default, condition, trigger, timer (e.g. 'timeDuration: PT72H'), interrupting, attached_to, script, "
        "called_element, loop, process, executable or documentation")},
    "old": _TEXT, "new": _TEXT}}
doc.document({
    "/api/v1/definitions/{definition_id}/diff": {"get": doc.op(
        "Semantic diff against another version (staff): old = the `against` version, new = this one",
        out="DefinitionDiff", errors=(400, 404),
        params=[doc.path_param("definition_id", {"type": "integer"}),
                doc.query_param("against", {"type": "integer"}, required=True)])},
}, {
    "DefinitionDiff": {"type": "object", "required": ["changes"], "properties": {
        "changes": {"type": "array", "items": doc.ref("DefinitionChange")}}},
    "DefinitionChange": _CHANGE,
})
