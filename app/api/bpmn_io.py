"""What other systems send to and take from the flows: BPMN messages and external work (thin: parse, call, render).

`POST /cases/{no}/messages` (staff in scope, or a system token), `POST /messages` (system): a message to one case,
or by name and correlation. `/external-tasks…` (system; retries by an admin): service tasks done outside.
"""
from __future__ import annotations

from flask import Blueprint, request

from app.cases import external, inbound

from . import openapi as doc
from . import render
from .common import BadRequest, caller, db, int_arg, json_body, settings

bpmn_io = Blueprint("bpmn_io", __name__, url_prefix="/api/v1")
STAFF = ("admin", "designer", "legal", "clerk", "supervisor")
EXTERNAL_STATES = ("open", "incident", "completed", "cancelled")


@bpmn_io.post("/cases/<case_no>/messages")
def message_to_case(case_no: str):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, *STAFF, "system")
        case = inbound.deliver_to_case(s, settings(), user, case_no, body)
        return render.case(s, settings(), case, user)


@bpmn_io.post("/messages")
def correlate_message():
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "system")
        return inbound.correlate(s, settings(), user, body)


@bpmn_io.get("/external-tasks")
def list_external_tasks():
    state = request.args.get("state", "open")
    if state not in EXTERNAL_STATES:
        raise BadRequest(f"state must be one of {', '.join(EXTERNAL_STATES)}", details=[{"field": "state"}])
    page, per_page = int_arg("page", 1, 1, 100000), int_arg("per_page", 50, 1, 200)
    with db().unit_of_work() as s:
        user = caller(s, "system", "admin")
        rows, total = external.listing(s, user, topic=request.args.get("topic") or None, state=state, page=page,
                                       per_page=per_page)
        return {"external_tasks": [render.external_task(t, case_no) for t, case_no in rows], "total": total}


@bpmn_io.post("/external-tasks/fetch-and-lock")
def fetch_and_lock():
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "system")
        taken = external.fetch_and_lock(s, settings(), user, body, db().is_postgres)
        return {"external_tasks": [dict(render.external_task(t["task"], t["case_no"]), variables=t["variables"])
                                   for t in taken]}


@bpmn_io.post("/external-tasks/<task_id>/complete")
def complete_external_task(task_id: str):
    body = json_body(required=False)
    with db().unit_of_work() as s:
        user = caller(s, "system")
        case = external.complete(s, settings(), user, task_id, body)
        return render.case(s, settings(), case, user)


@bpmn_io.post("/external-tasks/<task_id>/fail")
def fail_external_task(task_id: str):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "system")
        task = external.fail(s, user, task_id, body)
        return render.external_task(task, external_case_no(s, task))


@bpmn_io.post("/external-tasks/<task_id>/retries")
def set_external_retries(task_id: str):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "admin")
        task = external.set_retries(s, user, task_id, body)
        return render.external_task(task, external_case_no(s, task))


def external_case_no(s, task) -> str:
    from app.cases import service as cases

    return cases.numbers_of(s, {task.case_id})[task.case_id]


_TASK_ID = doc.path_param("task_id")
_CASE = doc.path_param("case_no")
doc.document({
    "/api/v1/cases/{case_no}/messages": {"post": doc.op(
        "Deliver a BPMN message to a case waiting for it (message catch event, receive task, event-based gateway, "
        "message boundary or start event); the payload joins the case data. Staff in scope or a system token; "
        "409 no_waiting_catch when nothing waits for that name", out="Case", body="MessageIn",
        errors=(400, 404, 409, 415, 422), params=[_CASE])},
    "/api/v1/messages": {"post": doc.op(
        "A message from another system (system): delivered to every running case in scope waiting for it whose "
        "data match every correlation key; when none matched, each published process that starts with it opens "
        "a case", out="MessageResult", body="CorrelatedMessageIn", errors=(400, 409, 415, 422))},
    "/api/v1/external-tasks": {"get": doc.op(
        "External work in scope (system, admin): open service tasks (or state=incident|completed|cancelled), "
        "oldest first", out="ExternalTaskPage", errors=(400,),
        params=[doc.query_param("topic"), doc.query_param("state", {"type": "string", "enum": list(EXTERNAL_STATES)}),
                *doc.PAGE_PARAMS])},
    "/api/v1/external-tasks/fetch-and-lock": {"post": doc.op(
        "Lock up to max_tasks open tasks of the topics for this worker for lock_seconds (system); two workers "
        "never hold the same task; each comes with the data at its task", out="ExternalTaskBatch",
        body="FetchAndLockIn", errors=(400, 415, 422))},
    "/api/v1/external-tasks/{task_id}/complete": {"post": doc.op(
        "Complete open external work with its result data (system); 409 task_not_open when it is not open, "
        "task_locked when another worker holds it", out="Case", body="ExternalCompleteIn",
        errors=(400, 404, 409, 415, 422), params=[_TASK_ID])},
    "/api/v1/external-tasks/{task_id}/fail": {"post": doc.op(
        "Report a failure and the retries left (system); at 0 retries the task is an incident on the case",
        out="ExternalTask", body="ExternalFailIn", errors=(400, 404, 409, 415, 422), params=[_TASK_ID])},
    "/api/v1/external-tasks/{task_id}/retries": {"post": doc.op(
        "Give external work new retries, resolving its incident (admin)", out="ExternalTask", body="RetriesIn",
        errors=(400, 404, 409, 415, 422), params=[_TASK_ID])},
}, {
    "MessageIn": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S",
                 "description": "the BPMN message's name (its id when it has none)"},
        "payload": {"type": "object", "additionalProperties": True, "description": "merged into the case data"}}},
    "CorrelatedMessageIn": {"type": "object", "required": ["name"], "properties": {
        "name": {"type": "string", "minLength": 1, "maxLength": 200, "pattern": r"\S"},
        "payload": {"type": "object", "additionalProperties": True},
        "correlation": {"type": "object", "additionalProperties": True, "description": (
            "{field: value}: only cases whose data at the waiting task hold every value receive it")},
        "applicant": {"type": "object", "description": "for a case the message starts: {name, id_number, phone}"}}},
    "MessageResult": {"type": "object", "required": ["delivered"], "properties": {
        "delivered": {"type": "array", "items": {"type": "string"}, "description": "case numbers"},
        "created": {"type": "array", "items": {"type": "object", "properties": {
            "case_no": {"type": "string"}, "query_code": {"type": "string"}, "item_code": {"type": "string"}}}}}},
    "ExternalTask": {"type": "object", "properties": {
        "id": {"type": "string"}, "case_no": {"type": "string"}, "bpmn_id": {"type": "string"},
        "name": {"type": "string", "nullable": True}, "topic": {"type": "string"},
        "served_by": {"type": "string", "enum": ["worker", "sunlight"], "description": (
            "sunlight: a built-in topic (sunlight.tell-applicant, sunlight.publish-decision) that Sunlight's own "
            "worker completes; fetch-and-lock never hands those out")},
        "state": {"type": "string", "enum": ["open", "completed", "cancelled"]},
        "created_at": doc.SCHEMA_DT, "finished_at": doc.SCHEMA_DT, "worker_id": {"type": "string", "nullable": True},
        "locked_until": doc.SCHEMA_DT, "retries": {"type": "integer", "nullable": True},
        "error_message": {"type": "string", "nullable": True}, "incident": {"type": "boolean"},
        "incident_at": doc.SCHEMA_DT,
        "variables": {"type": "object", "additionalProperties": True, "description": "fetch-and-lock only"}}},
    "ExternalTaskPage": {"type": "object", "properties": {
        "external_tasks": {"type": "array", "items": doc.ref("ExternalTask")}, "total": {"type": "integer"}}},
    "ExternalTaskBatch": {"type": "object", "properties": {
        "external_tasks": {"type": "array", "items": doc.ref("ExternalTask")}}},
    "FetchAndLockIn": {"type": "object", "required": ["worker_id", "topics"], "properties": {
        "worker_id": {"type": "string"}, "topics": {"type": "array", "items": {"type": "string"}, "description": (
            "built-in topics (sunlight.*) are served by Sunlight itself and never handed out")},
        "max_tasks": {"type": "integer", "minimum": 1, "maximum": 100},
        "lock_seconds": {"type": "integer", "minimum": 1, "maximum": 86400}}},
    "ExternalCompleteIn": {"type": "object", "properties": {
        "worker_id": {"type": "string"}, "data": {"type": "object", "additionalProperties": True}}},
    "ExternalFailIn": {"type": "object", "required": ["error", "retries"], "properties": {
        "worker_id": {"type": "string"}, "error": {"type": "string"}, "retries": {"type": "integer", "minimum": 0},
        "retry_seconds": {"type": "integer", "minimum": 0, "description": "not fetched again before then"}}},
    "RetriesIn": {"type": "object", "required": ["retries"], "properties": {
        "retries": {"type": "integer", "minimum": 1, "maximum": 1000}}},
})
