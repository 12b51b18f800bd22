"""The OpenAPI 3 document served at /api/v1/openapi.json, built with apispec.

A test compares it with the app's URL map both ways (every route documented, every documented path
served) and validates it with openapi-spec-validator, so it cannot drift from what the app does.
"""
from __future__ import annotations

from functools import lru_cache

from apispec import APISpec

from app.cases.models import CASE_STATUSES
from app.cases.search import CARDS, MAX_Q
from app.messages.texts import KINDS as MESSAGE_KINDS

S = {"type": "string"}
I = {"type": "integer"}
TEXT = {"type": "string", "minLength": 1, "maxLength": 5000, "pattern": r"\S",
        "description": "required text: not blank, at most 5000 characters"}
OBJ = {"type": "object", "additionalProperties": True}
DT = {"type": "string", "format": "date-time", "nullable": True}
UNIT = {"type": "string", "enum": ["working", "natural"], "description": (
    "工作日 | 自然日; default by category: working for licensing, levy, other; natural for penalty and enforcement "
    "limits over ten days (行政处罚法 Art. 60/85, 行政强制法 Art. 25/69)")}
ERRORS = {400: "Malformed request", 401: "No or bad token", 403: "Not allowed", 404: "Unknown or not visible",
          409: "Conflict (stale, not ready, duplicate, wrong status)", 413: "Body too large",
          415: "Wrong content type", 422: "Invalid (the details name the problem)", 429: "Rate limited",
          503: "Busy: the database or the rate-limit store did not answer; try again"}

SCHEMAS = {
    "Error": {"type": "object", "required": ["error"], "properties": {"error": {
        "type": "object", "required": ["code", "message", "details"],
        "properties": {"code": S, "message": S, "details": {"type": "array", "items": {}, "description": (
            "for invalid_bpmn, engine_error and too_expensive: Problem objects {element_id, line, message, "
            "message_zh}")}}}}},
    "Problem": {"type": "object", "properties": {"element_id": {"type": "string", "nullable": True},
                                                 "line": {"type": "integer", "nullable": True}, "message": S,
                                                 "message_zh": {"type": "string", "description": (
                                                     "the message in Simplified Chinese (the designer's words); "
                                                     "`message` stays English")}}},
    "Material": {"type": "object", "required": ["name"], "properties": {
        "name": S, "required": {"type": "boolean"}, "copies": I}},
    "ItemIn": {"type": "object", "required": ["name", "category", "department", "promised_days",
                                             "statutory_days"], "properties": {
        "code": {"type": "string", "pattern": "^[A-Za-z0-9._-]{1,64}$",
                 "description": "left out: numbered by ITEM_CODE_SCHEME"},
        "kind": {"type": "string", "enum": ["promised", "immediate"]}, "warn_days": I,
        "special_procedures": {"type": "array", "items": {"type": "object", "properties": {
            "name": S, "legal_basis": S, "days": I, "counted": {"type": "boolean"}}}}, "name": {"type": "string", "maxLength": 300}, "category": {"type": "string", "enum": ["licensing", "penalty", "enforcement", "levy",
                                                                      "other"]},
        "department": {"type": "string", "maxLength": 64}, "promised_days": I, "statutory_days": I,
        "accepting_authority": {"type": "string", "maxLength": 300}, "implementing_body": {"type": "string", "maxLength": 300},
        "supervision_phone": {"type": "string", "maxLength": 64}, "fee": S, "legal_basis": S,
        "materials": {"type": "array", "items": {"$ref": "#/components/schemas/Material"}},
        "promised_unit": UNIT, "statutory_unit": UNIT,
        "clock_start_step": {"type": "string", "nullable": True, "description": (
            "BPMN id of the 受理/立案 user task: the clocks start when it completes (null: at creation)")},
        "max_extensions": {**I, "description": "default by category (licensing 1, 行政许可法 Art. 42)"},
        "max_extension_days": {**I, "description": "in statutory_unit, all extensions together (licensing 10)"},
        "supplement_step": {"type": "string", "nullable": True, "description": (
            "BPMN id of the 一次性告知补正 user task: completing it needs missing_materials and stops the clock")},
        "min_step_seconds": {"type": "object", "additionalProperties": {"type": "integer", "nullable": True},
                             "description": "rule R01 (too fast) looks only at these steps: {bpmn_id: seconds}"},
        "allows_deferred": {"type": "boolean", "description": "容缺受理: materials may be owed until a date"},
        "decision_step": {"type": "string", "nullable": True, "description": (
            "BPMN id of the user task that decides: completing it needs a decision {outcome, summary, legal_basis, "
            "amount?}")},
        "major_decision": {"type": "object", "nullable": True, "description": (
            "重大执法决定 (needs 法制审核 first): the outcome is among `outcomes` (any when empty) and, when "
            "min_amount or keywords are set, the amount reaches min_amount or the summary names a keyword"),
            "properties": {"min_amount": {"type": "number", "nullable": True},
                           "outcomes": {"type": "array", "items": {"type": "string", "enum": [
                               "granted", "denied", "penalty", "no_penalty", "other"]}},
                           "keywords": {"type": "array", "items": S}}},
        "decision_publication": {"type": "string", "enum": ["auto", "clerk"], "description": (
            "双公示: auto publishes a licensing or penalty decision when made; clerk holds it for a clerk to publish "
            "(within 7 working days, else a red notice)")},
        "pledge_verify_days": {"type": "integer", "nullable": True, "description": (
            "告知承诺: pledges accepted, verified within this many working days of acceptance")}}},
    "ItemPatch": None,  # filled in below from ItemIn
    "Item": {"allOf": [{"$ref": "#/components/schemas/ItemIn"}, {"type": "object", "properties": {
        "status": {"type": "string", "enum": ["draft", "active", "suspended", "abolished"]},
        "status_reason": {"type": "string", "nullable": True}, "department_name": S}}]},
    "Reason": {"type": "object", "required": ["reason"], "properties": {"reason": TEXT}},
    "PublicItem": {"allOf": [{"$ref": "#/components/schemas/ItemIn"}, {"type": "object", "properties": {
        "department_name": S, "flow_url": S}}]},
    "Definition": {"type": "object", "properties": {
        "id": I, "item_code": S, "version": I, "process_id": S, "sha256": S,
        "status": {"type": "string", "enum": ["draft", "in_review", "published", "rejected", "retired"]},
        "warnings": {"type": "array", "items": S}, "uploaded_at": DT, "submitted_at": DT, "reviewed_at": DT,
        "review_comment": {"type": "string", "nullable": True}, "published_at": DT,
        "element_comments": {"type": "array", "items": {"$ref": "#/components/schemas/ElementComment"}},
        "calls": {"type": "array", "description": "shared flows its call activities call, pinned to these versions",
                  "items": {"type": "object", "properties": {"process_id": S, "definition_id": I, "item_code": S,
                                                             "version": I}}},
        "dmn": {"type": "array", "description": "the DMN files uploaded with this version", "items": {
            "type": "object", "properties": {"id": I, "file": S, "sha256": S, "tables": {"type": "array", "items": {
                "type": "object", "properties": {"id": S, "name": S, "hit_policy": S, "inputs": {"type": "array",
                "items": S}, "outputs": {"type": "array", "items": S}, "rules": {"type": "array", "items": OBJ}}}}}}}}},
    "ElementComment": {"type": "object", "required": ["element_id", "comment"], "properties": {
        "element_id": S, "comment": S}},
    "Review": {"type": "object", "required": ["decision"], "properties": {
        "decision": {"type": "string", "enum": ["approve", "reject"]}, "comment": S,
        "element_comments": {"type": "array", "items": {"$ref": "#/components/schemas/ElementComment"}}}},
    "Task": {"type": "object", "properties": {
        "id": S, "bpmn_id": S, "name": {"type": "string", "nullable": True}, "lane": {"type": "string", "nullable": True},
        "kind": {"type": "string", "enum": ["user", "event", "external"], "description": (
            "user: a step for a clerk; event: a catch event, receive task or event-based gateway; external: a "
            "service task's work, done by another system (see /external-tasks)")},
        "state": {"type": "string", "enum": ["ready", "waiting", "completed", "cancelled", "error"]},
        "created_at": DT, "due_at": DT, "completed_at": DT, "opinion": {"type": "string", "nullable": True},
        "assignee": {"type": "string", "nullable": True, "description": (
            "会签: the only user who may complete this instance of a multi-instance step over `assignee`")},
        "topic": {"type": "string", "description": "external work only"},
        "served_by": {"type": "string", "enum": ["worker", "sunlight"], "description": (
            "external work only: sunlight for a built-in topic Sunlight completes itself")},
        "org_unit": {"type": "string", "nullable": True, "description": (
            "the org unit that holds the step: the case's, or the ORG of an ORG:POST lane (`lane` is then its POST)")},
        "worker_id": {"type": "string", "nullable": True}, "locked_until": DT,
        "retries": {"type": "integer", "nullable": True}, "error_message": {"type": "string", "nullable": True},
        "incident": {"type": "boolean", "description": "external work that failed with no retries left"}}},
    "WorkItem": {"allOf": [{"$ref": "#/components/schemas/Task"}, {"type": "object", "properties": {
        "case_no": S, "task_id": S, "item_code": S, "item_name": S}}]},
    "Deadlines": {"type": "object", "properties": {
        "started": {"type": "boolean", "description": "false (and the due dates null) until the clock_start_step "
                                                      "completes"},
        "accepted_at": DT, "clock_start_step": {"type": "string", "nullable": True},
        "promised_due_at": DT, "statutory_due_at": DT, "warn_at": DT,
        "promised_unit": UNIT, "statutory_unit": UNIT,
        "remaining_working_days": {"type": "integer", "nullable": True},
        "remaining_days": {"type": "integer", "nullable": True, "description": "in the promised clock's unit"},
        "extension_days": I, "suspended_days": I, "suspended_natural_days": I, "clock_stopped": {"type": "boolean"},
        "card": {"type": "string", "enum": ["none", "warning", "yellow", "red"]},
        "card_reason": {"type": "string", "nullable": True,
                        "description": "why the case carries its card (staff case view only)"},
        "card_reason_message": {"allOf": [{"$ref": "#/components/schemas/Message"}], "nullable": True},
        "calendar_complete": {"type": "boolean"}, "calendar_note": S}},
    "Message": {"type": "object", "description": (
        "the reason as a message key (the Chinese sentence with %(name)s placeholders) and its parameters, "
        "for a client that shows it in another language"),
        "properties": {"key": S, "params": {"type": "object", "additionalProperties": True}}},
    "Notice": {"type": "object", "properties": {
        "id": I, "case_no": {"type": "string", "nullable": True, "description": "null for a district-wide notice"},
        "task_bpmn_id": {"type": "string", "nullable": True},
        "level": {"type": "string", "enum": ["warning", "yellow", "red"]}, "reason": S,
        "message": {"$ref": "#/components/schemas/Message"}, "created_at": DT,
        "source_key": {"type": "string", "description": "what raised it (e.g. timer:<task>:<n>, deadline:red:<case>); "
                                                        "notice_created audit events name the notice by it"},
        "resolved_at": {**DT, "description": "when its condition went away by itself (a missing calendar year entered)"},
        "recipients": {"type": "array", "items": {"type": "object", "properties": {
            "username": S, "as": S, "acknowledged_at": DT}}}, "acknowledged_at": DT}},
    "Applicant": {"type": "object", "required": ["name"], "properties": {
        "name": S, "id_number": {"type": "string", "description": (
            "a resident ID number, or an 18-character unified social credit code for an organisation")}, "phone": S,
        "kind": {"type": "string", "enum": ["person", "organisation"], "description": (
            "optional; decides whether the party's name is masked in the public decisions (双公示); when left "
            "out, a unified social credit code or an organisation's name means organisation, anything else person")}}},
    "CaseIn": {"type": "object", "required": ["item_code", "applicant"], "properties": {
        "item_code": S, "applicant": {"$ref": "#/components/schemas/Applicant"},
        "data": {"type": "object", "additionalProperties": True},
        "materials": {"type": "array", "items": {"$ref": "#/components/schemas/MaterialRef"}, "description": (
            "optional; when sent, every required material of the item must be listed, else 422 "
            "materials_incomplete naming all the missing ones (一次性告知)")}}},
    "Case": {"type": "object", "properties": {
        "case_no": S, "query_code": {"type": "string", "description": "only in the answer to POST /cases"},
        "item_code": S, "item_name": S, "definition_id": I,
        "status": {"type": "string", "enum": list(CASE_STATUSES)},
        "clock_stop": {**OBJ, "nullable": True, "description": "the open clock stop (补正 with its missing list…)"},
        "ended": {**OBJ, "nullable": True, "description": "{status, at, reason, legal_basis} once refused, withdrawn "
                                                          "or terminated"},
        "applicant": {"$ref": "#/components/schemas/Applicant"}, "created_at": DT, "completed_at": DT,
        "next_timer_due_at": DT, "tasks": {"type": "array", "items": {"$ref": "#/components/schemas/Task"}},
        "waiting_for": {"type": "array", "items": S, "description": "names of the messages and signals it waits for"},
        "stuck": {"type": "boolean", "description": (
            "running, yet no step is open and nothing (message, signal, timer) is awaited: the flow cannot move "
            "on by itself (e.g. a parallel join whose other branch ended); audited case_stuck when it happens")},
        "incidents": {"type": "array", "items": {"$ref": "#/components/schemas/ExternalTask"},
                      "description": "external work that failed with no retries left"},
        "deadlines": {"$ref": "#/components/schemas/Deadlines"},
        "notices": {"type": "array", "items": {"$ref": "#/components/schemas/Notice"}},
        "materials": {"type": "array", "items": {"$ref": "#/components/schemas/CaseMaterial"}},
        "decision": {"allOf": [{"$ref": "#/components/schemas/Decision"}], "nullable": True,
                     "description": "the current decision record (made, or waiting for / back from 法制审核)"},
        "documents": {"type": "array", "items": {"$ref": "#/components/schemas/Document"}}}},
    "Completion": {"type": "object", "properties": {
        "decision": {"allOf": [{"$ref": "#/components/schemas/DecisionIn"}], "description": (
            "required at the item's decision_step (422 without it), refused elsewhere; a major decision answers 409 "
            "legal_review_required until the legal office approved exactly this decision")},
        "data": {"type": "object", "additionalProperties": True}, "opinion": S,
        "missing_materials": {"type": "array", "items": S, "description": (
            "required at the item's supplement_step (一次性告知 the whole list); refused elsewhere")}}},
    "MaterialSettled": {"type": "object", "required": ["name"], "properties": {
        "name": S, "file_id": S, "paper": {"type": "boolean"}, "verified": {"type": "boolean"}, "note": S}},
    "Ending": {"type": "object", "required": ["reason", "legal_basis"], "properties": {"reason": TEXT,
                                                                                     "legal_basis": TEXT}},
    "Event": {"type": "object", "properties": {
        "seq": I, "at": DT, "actor": S, "action": S, "task_bpmn_id": {"type": "string", "nullable": True},
        "detail": {"type": "object", "additionalProperties": True}, "hash": S}},
    "PublicCase": {"type": "object", "properties": {
        "case_no": S, "item_name": S, "status": S, "current_steps": {"type": "array", "items": S},
        "next_steps": {"type": "array", "items": S}, "remaining_working_days": {"type": "integer", "nullable": True},
        "remaining_days": {"type": "integer", "nullable": True}, "promised_unit": UNIT,
        "started": {"type": "boolean"}, "calendar_complete": {"type": "boolean"},
        "promised_due_at": DT, "received_at": DT, "accepted_at": DT, "completed_at": DT,
        "clock_stop": {**OBJ, "nullable": True, "description": "{kind, missing_materials (补正: the one-time list), "
                                                               "expected_days, started_at}"},
        "ended": {**OBJ, "nullable": True},
        "rating": {"type": "integer", "nullable": True},
        "messages": {"type": "array", "items": {"$ref": "#/components/schemas/ApplicantMessage"},
                     "description": "what the applicant was told (告知记录), oldest first, at most the latest 50"}}},
    "ApplicantMessage": {"type": "object", "properties": {
        "kind": {"type": "string", "enum": list(MESSAGE_KINDS)},
        "text": {"type": "string", "description": "Simplified Chinese, as in the SMS (the query code masked)"},
        "text_en": S, "created_at": DT,
        "sent": {"type": "boolean", "description": "the SMS gateway took it (false: waiting, failing, or no "
                                                   "gateway or phone: shown here only)"}}},
    "RatingIn": {"type": "object", "required": ["code", "score"], "properties": {
        "code": S, "score": {"type": "integer", "minimum": 1, "maximum": 5}, "comment": S}},
    "CasePage": {"type": "object", "properties": {"total": I, "page": I, "per_page": I, "cases": {
        "type": "array", "items": {"type": "object", "properties": {
            "case_no": S, "item_code": S, "item_name": S, "status": {"type": "string", "enum": list(CASE_STATUSES)},
            "card": {"type": "string", "enum": list(CARDS)}, "created_at": DT, "applicant_name": S}}}}},
    "ItemPage": {"type": "object", "properties": {
        "items": {"type": "array", "items": {"$ref": "#/components/schemas/PublicItem"}}, "total": I}},
}

SCHEMAS["ItemPatch"] = {"type": "object", "description": "any of ItemIn's fields except code, category and department",
                        "additionalProperties": True, "properties": {
                            k: v for k, v in SCHEMAS["ItemIn"]["properties"].items()
                            if k not in ("code", "category", "department")}}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict) -> dict:
    return {"application/json": {"schema": schema}}


def _op(summary: str, ok: int = 200, out: str | dict | None = None, *, body: str | None = None, auth: bool = True,
        errors: tuple[int, ...] = (), params: list | None = None, media: dict | None = None, tag: str = "staff") -> dict:
    schema = _ref(out) if isinstance(out, str) else out
    responses = {ok: {"description": "OK", "content": media or _json(schema or {"type": "object"})}}
    for status in ((401, 403) if auth else ()) + errors:
        responses[status] = {"description": ERRORS[status], "content": _json(_ref("Error"))}
    op = {"summary": summary, "tags": [tag], "responses": responses, "parameters": params or []}
    if auth:
        op["security"] = [{"bearer": []}]
    if body:
        op["requestBody"] = {"required": True, "content": _json(_ref(body))}
    return op


LINK = {"description": 'the next page\'s address, `<…>; rel="next"` (absent on the last page)', "schema": S}
TOTAL = {"description": "how many rows the list holds", "schema": I}
CURSOR_DOC = ("oldest first, at most `limit` (1–200, default 200) rows after the id `after`; the next page's "
              "address in the `Link` header; out-of-range paging → 422")


def _paged(op: dict, **headers) -> dict:
    """An operation of a paged list: its answer's paging headers (`Link`, and `X-Total-Count` where counted)."""
    op["responses"][200]["headers"] = {"Link": LINK, **({"X-Total-Count": TOTAL} if headers.get("total") else {})}
    return op


MAX_ID = 2**31 - 1  # the largest integer a column holds: every integer a request carries fits in one
MAX_TEXT = 5000  # the longest text a request may carry where its field states no shorter limit
NO_NUL = r"^[^\u0000]*$"  # no text may hold a NUL character (PostgreSQL can neither store nor compare it)
PARAM_TEXT = {"type": "string", "maxLength": 200, "pattern": NO_NUL}


def _path(name: str, schema=None) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": schema or PARAM_TEXT}


def _query(name: str, schema=None, required=False) -> dict:
    return {"name": name, "in": "query", "required": required, "schema": schema or PARAM_TEXT}


CODE, DEF, CASE_NO = _path("code"), _path("definition_id", I), _path("case_no")
PAGE_PARAMS = [_query("page", {"type": "integer", "minimum": 1, "maximum": 100000}),
               _query("per_page", {"type": "integer", "minimum": 1, "maximum": 200})]
CURSOR_PARAMS = [_query("after", {"type": "integer", "minimum": 0}),
                 _query("limit", {"type": "integer", "minimum": 1, "maximum": 200})]
ENDINGS = (("refuse", "不予受理: refuse before acceptance (clerk of the case's department); after the clock_start_step "
                      "completed 409", "Ending"),
           ("withdraw", "撤回: the applicant withdraws (clerk of the case's department)", "Reason"),
           ("terminate", "终止: terminate (a clerk holding a leader post, or admin)", "Ending"))
XML = {"application/xml": {"schema": {"type": "string"}}}


def _paths() -> dict[str, dict]:
    arr = lambda name: {"type": "array", "items": _ref(name)}  # noqa: E731
    return {
        "/healthz": {"get": _op("Liveness", out={"type": "object", "properties": {"status": S}}, auth=False,
                                tag="ops")},
        "/api/v1/openapi.json": {"get": _op("This document", auth=False, tag="ops")},
        "/api/v1/items": {"post": _op("Register a power item (admin, designer)", 201, "Item", body="ItemIn",
                                      errors=(400, 404, 409, 415, 422))},
        "/api/v1/items/{code}": {
            "get": _op("An item with its public elements and status", out="Item", errors=(404,), params=[CODE]),
            "patch": _op("Change some of an item's fields (admin, or a designer of its department; audited); a "
                         "change of limits or units recomputes its running cases' deadlines", out="Item",
                         body="ItemPatch", errors=(400, 404, 415, 422), params=[CODE])},
        "/api/v1/items/{code}/{action}": {"post": _op(
            "Suspend (暂停行使), resume or abolish an item, with a reason (admin)", out="Item", body="Reason",
            errors=(400, 404, 409, 415, 422),
            params=[CODE, _path("action", {"type": "string", "enum": ["suspend", "resume", "abolish"]})])},
        "/api/v1/items/{code}/definitions": {"post": {
            **_op("Upload a BPMN diagram as a new draft version (designer): the XML as the body, or multipart with "
                  "one `bpmn` file and any `dmn` files (decision tables for its business-rule tasks); 422 names the "
                  "element, or the DMN file, decision, rule and cell, and the line", 201, "Definition",
                  errors=(400, 404, 413, 415, 422), params=[CODE]),
            "requestBody": {"required": True, "content": {**XML, "multipart/form-data": {"schema": {
                "type": "object", "required": ["bpmn"], "properties": {
                    "bpmn": {"type": "string", "format": "binary"},
                    "dmn": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}}},
        "/api/v1/definitions/{definition_id}/dmn/{file_id}": {"get": _op(
            "A DMN file uploaded with the definition", media=XML, errors=(404,), params=[DEF, _path("file_id", I)])},
        "/api/v1/definitions/{definition_id}": {"get": _op("A definition version", out="Definition",
                                                           errors=(404,), params=[DEF])},
        "/api/v1/definitions/{definition_id}/bpmn": {"get": _op("The definition's BPMN XML", media=XML,
                                                                errors=(404,), params=[DEF])},
        "/api/v1/definitions/{definition_id}/submit": {"post": _op("Submit for legal review (designer)",
                                                                   out="Definition", errors=(404, 409), params=[DEF])},
        "/api/v1/definitions/{definition_id}/review": {"post": _op(
            "Legal review: approve publishes, reject sends back (legal; never one's own upload)", out="Definition",
            body="Review", errors=(400, 404, 409, 415, 422), params=[DEF])},
        "/api/v1/cases": {
            "post": _op("Open a case on the item's published definition (clerk)", 201, "Case", body="CaseIn",
                        errors=(400, 404, 409, 415, 422)),
            "get": _op("Staff case search: q is a case number, or an applicant's name (its beginning), ID number or "
                       "phone; newest first; only cases in the caller's scope", out="CasePage", errors=(422,),
                       params=[_query("q", {**PARAM_TEXT, "maxLength": MAX_Q}),
                               _query("status", {"type": "string", "enum": list(CASE_STATUSES)}),
                               _query("item_code"), _query("card", {"type": "string", "enum": list(CARDS)}),
                               _query("from", {"type": "string", "format": "date"}),
                               _query("to", {"type": "string", "format": "date"}), *PAGE_PARAMS])},
        "/api/v1/cases/{case_no}": {"get": _op("A case in the caller's scope", out="Case", errors=(404,),
                                               params=[CASE_NO])},
        "/api/v1/cases/{case_no}/tasks/{task_id}/complete": {"post": _op(
            "Complete a READY task (clerk holding the lane's post)", out="Case", body="Completion",
            errors=(400, 404, 409, 415, 422), params=[CASE_NO, _path("task_id")])},
        **{f"/api/v1/cases/{{case_no}}/{how}": {"post": _op(summary, out="Case", body=body,
                                                           errors=(400, 403, 404, 409, 415, 422), params=[CASE_NO])}
           for how, summary, body in ENDINGS},
        "/api/v1/cases/{case_no}/materials": {"post": _op(
            "A material owed by the case arrives (容缺: {name, file_id} or {name, paper: true}) or a pledge is "
            "verified (告知承诺: {name, verified: true, note}); clerk of the case's department", out="Case",
            body="MaterialSettled", errors=(400, 404, 409, 415, 422), params=[CASE_NO])},
        "/api/v1/tasks": {"get": _paged(_op(
            "The caller's worklist (clerk), soonest due first, a page at a time (per_page 1–200, default 200); "
            "out-of-range paging → 422", out=arr("WorkItem"), errors=(422,), params=PAGE_PARAMS), total=True)},
        "/api/v1/cases/{case_no}/events": {"get": _op("The case's audit trail, oldest first", out=arr("Event"),
                                                      errors=(404,), params=[CASE_NO])},
        "/api/v1/notices": {"get": _paged(_op(
            "Supervision notices (supervisors: scope; others: their own), " + CURSOR_DOC, out=arr("Notice"),
            errors=(404, 422), params=[_query("case_no"), *CURSOR_PARAMS]))},
        "/api/v1/notices/{notice_id}/ack": {"post": _op("Acknowledge a notice (a recipient)", out="Notice",
                                                        errors=(404,), params=[_path("notice_id", I)])},
        "/public/api/v1/items": {"get": _op(
            "Active items with their nine public elements", out="ItemPage", auth=False, tag="public",
            errors=(400, 422), params=[_query("q"), _query("category"), _query("department"),
                                       PAGE_PARAMS[0], _query("per_page", {"type": "integer", "minimum": 1,
                                                                           "maximum": 1000})])},
        "/public/api/v1/items.json": {"get": _op("The whole public catalogue (open data, JSON)", out="ItemPage",
                                                 auth=False, tag="public")},
        "/public/api/v1/items.csv": {"get": _op("The whole public catalogue (open data, CSV)", auth=False,
                                                tag="public", media={"text/csv": {"schema": S}})},
        "/public/api/v1/items/{code}": {"get": _op("One active item's public elements", out="PublicItem",
                                                   auth=False, tag="public", errors=(404,), params=[CODE])},
        "/public/api/v1/items/{code}/bpmn": {"get": _op("The item's published flow (BPMN XML)", auth=False,
                                                        tag="public", media=XML, errors=(404,), params=[CODE])},
        "/public/api/v1/cases/{case_no}/rating": {"post": _op(
            "好差评: rate a completed case once (5 非常满意 … 1 非常不满意), with its query code", 201,
            {"type": "object", "properties": {"case_no": S, "score": I, "level": S, "created_at": DT}},
            body="RatingIn", auth=False, tag="public", errors=(400, 404, 409, 415, 422, 429), params=[CASE_NO])},
        "/public/api/v1/cases/{case_no}": {"get": _op(
            "Case progress by number and query code; a wrong code answers 404 like an unknown case",
            out="PublicCase", auth=False, tag="public", errors=(404, 429),
            params=[CASE_NO, _query("code", required=True)])},
    }


_EXTRA_PATHS: dict[str, dict] = {}
_EXTRA_SCHEMAS: dict[str, dict] = {}


def document(paths: dict[str, dict], schemas: dict[str, dict] | None = None) -> None:
    """Endpoint modules describe their own paths here, next to their code (called at import time)."""
    _EXTRA_PATHS.update(paths)
    _EXTRA_SCHEMAS.update(schemas or {})


op, ref, json_content, path_param, query_param = _op, _ref, _json, _path, _query  # for endpoint modules
paged = _paged
SCHEMA_DT = DT


@lru_cache(maxsize=1)
def openapi_document() -> dict:
    spec = APISpec(title="Sunlight (阳光运行) API", version="1.0.0", openapi_version="3.0.3",
                   info={"description": INFO})
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, schema in {**SCHEMAS, **_EXTRA_SCHEMAS}.items():
        spec.components.schema(name, schema)
    for path, operations in {**_paths(), **_EXTRA_PATHS}.items():
        spec.path(path=path, operations={method: _with_common_errors(path, op) for method, op in operations.items()})
    return _bounded_requests(spec.to_dict())


INFO = ("Administrative powers run online, in the open. See CONTRACT.md.\n\n"
        "Every request is validated against this document before its endpoint runs (app/api/validation.py): a value "
        "that does not parse as stated (a word for an integer, a number for a text, JSON that is not JSON or nests "
        "more than 32 levels deep) answers 400 `malformed`, a value that breaks a stated limit 422 `invalid`, each "
        "naming the field(s) in `details`. No text anywhere in a request may hold a NUL character (U+0000): 400 "
        "`malformed` in the address or query, 422 `invalid` in the JSON body (free-form `data` included). Where a request's integer states no "
        f"range it is within ±{MAX_ID} (a column's), and where its text states no length it is at most {MAX_TEXT} "
        "characters.")


def _bounded_requests(document: dict) -> dict:
    """Every integer a request carries (parameter or JSON body, through $refs) gets the columns' range and every
    text a length where the definition states none: the limits are in the document, not only in the code."""
    schemas = document.get("components", {}).get("schemas", {})
    todo: list[str] = []

    def bound(schema):
        if not isinstance(schema, dict):
            return schema
        if "$ref" in schema:
            todo.append(schema["$ref"].rsplit("/", 1)[-1])
            return schema
        out = dict(schema)
        if out.get("type") == "integer":
            out.setdefault("maximum", MAX_ID)
            out.setdefault("minimum", -MAX_ID - 1)
        elif out.get("type") == "string" and out.get("format") != "binary" and "enum" not in out:
            out.setdefault("maxLength", MAX_TEXT)
        for key in ("items", "additionalProperties", "not"):
            if isinstance(out.get(key), dict):
                out[key] = bound(out[key])
        if "properties" in out:
            out["properties"] = {k: bound(v) for k, v in out["properties"].items()}
        for key in ("allOf", "anyOf", "oneOf"):
            if key in out:
                out[key] = [bound(s) for s in out[key]]
        return out

    for operations in document.get("paths", {}).values():
        for op in operations.values():
            if not isinstance(op, dict):
                continue
            op["parameters"] = [{**p, "schema": bound(p["schema"])} if "schema" in p else p
                                for p in op.get("parameters", [])]
            for mimetype, media in op.get("requestBody", {}).get("content", {}).items():
                if "schema" in media and mimetype == "application/json":
                    media["schema"] = bound(media["schema"])
    done: set[str] = set()
    while todo:
        name = todo.pop()
        if name not in done and name in schemas:
            done.add(name)
            schemas[name] = bound(schemas[name])
    return document


def _with_common_errors(path: str, op: dict) -> dict:
    """What any operation may answer besides its own: 400 (a NUL character or a malformed value in the address),
    503 (the database busy), 404 when the address names something, 413 and 415 when it takes a body, and 422 when
    it takes parameters or a body (the validation layer refuses a value breaking a limit stated here)."""
    takes = bool(op.get("parameters")) or "requestBody" in op
    common = ([400, 503] + ([404] if "{" in path else []) + ([413, 415] if "requestBody" in op else [])
              + ([422] if takes else []))
    responses = dict(op["responses"])
    for status in common:
        responses.setdefault(status, {"description": ERRORS[status], "content": _json(_ref("Error"))})
    return {**op, "responses": responses}
