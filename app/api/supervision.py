"""Supervision endpoints (电子监察): clock stops, extensions and 督办 orders. Thin: parse, call, render."""
from __future__ import annotations

from datetime import datetime

from flask import Blueprint, request

from app.cases import clock_stops
from app.cases import service as cases
from app.cases.models import Case
from app.errors import Invalid
from app.supervision import orders
from app.supervision import service as supervision_service
from app.supervision.models import ORDER_STATUSES

from . import openapi as doc
from . import render
from .common import PAGE_MAX, caller, db, json_body, next_link, page_args, settings, whole_arg

supervision = Blueprint("supervision", __name__, url_prefix="/api/v1")
STAFF = ("admin", "designer", "legal", "clerk", "supervisor")


@supervision.post("/cases/<case_no>/suspend")
def suspend(case_no: str):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "clerk")
        case = clock_stops.suspend(s, settings(), user, case_no, body)
        return render.case(s, settings(), case, user)


@supervision.post("/cases/<case_no>/resume")
def resume(case_no: str):
    body = json_body(required=False)
    with db().unit_of_work() as s:
        user = caller(s, "clerk")
        case = clock_stops.resume(s, settings(), user, case_no, body)
        return render.case(s, settings(), case, user)


@supervision.post("/cases/<case_no>/extensions")
def extend(case_no: str):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "clerk", "admin")
        ext = clock_stops.extend(s, settings(), user, case_no, body)
        case = s.get(Case, ext.case_id)
        return {"id": ext.id, "case_no": case.case_no, "days": ext.days, "unit": ext.unit,
                "working_days": ext.days if ext.unit == "working" else None, "reason": ext.reason,
                "approved_by": user.username, "created_at": render.iso(ext.created_at),
                "deadlines": render.deadlines(s, settings(), case)}, 201


def _due_at(body: dict, required: bool = True) -> datetime | None:
    return orders.parse_due(body.get("due_at"), required)


@supervision.post("/orders")
def issue_order():
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "supervisor")
        if not isinstance(body.get("case_no"), str):
            raise Invalid("case_no is required", details=[{"field": "case_no"}])
        case = cases.get_visible(s, user, body["case_no"], for_update=True)
        order = orders.issue(s, user, case, body.get("notice_id"), body.get("instruction"), _due_at(body),
                             tz=settings().tz)
        cases.save(s)
        return render.order(order, case.case_no), 201


@supervision.get("/orders")
def list_orders():
    """Orders oldest first, a page at a time: `limit` (1…200, default 200) after the order id `after`; the next
    page's address in `Link` when more follow."""
    status = request.args.get("status") or None
    if status and status not in ORDER_STATUSES:
        raise Invalid(f"status must be one of {', '.join(ORDER_STATUSES)}")
    after, limit = whole_arg("after", 0, 0, 2**62), whole_arg("limit", PAGE_MAX, 1, PAGE_MAX)
    with db().unit_of_work() as s:
        user = caller(s, "supervisor", "clerk", "admin")
        case_id = cases.get_visible(s, user, request.args["case_no"]).id if request.args.get("case_no") else None
        found = orders.listing(s, user, status, case_id, after=after, limit=limit + 1)
        numbers = cases.numbers_of(s, {o.case_id for o in found[:limit]})
        out = [render.order(o, numbers[o.case_id]) for o in found[:limit]]
    headers = {"Link": next_link(after=out[-1]["id"], limit=limit)} if len(found) > limit else {}
    return out, 200, headers


BOARD_ROLES = ("supervisor", "admin")


@supervision.get("/board")
def board():
    """The supervision board as JSON: carded cases in scope, soonest promised limit first, a page at a time."""
    page, per_page = page_args(default_per_page=100)
    department = (request.args.get("department") or "").strip()[:32] or None
    item_code = (request.args.get("item_code") or "").strip()[:64] or None
    with db().unit_of_work() as s:
        user = caller(s, *BOARD_ROLES)
        rows, total = cases.carded_page(s, user, department, item_code, page, per_page)
        steps = cases.ready_steps_of(s, [r.case_id for r in rows])
        out = {"cases": render.board(s, settings(), rows, steps), "total": min(total, cases.BOARD_CAP),
               "total_capped": total > cases.BOARD_CAP, "page": page, "per_page": per_page}
    return out


@supervision.get("/statistics")
def statistics():
    """Per department in scope: cases, completed, on time, open cards, 好差评; notices per month by level."""
    months = whole_arg("months", 6, 1, 24)
    with db().unit_of_work() as s:
        user = caller(s, *BOARD_ROLES)
        return render.jsonable(supervision_service.statistics(s, user, settings().tz, months))


@supervision.get("/orders/<int:order_id>")
def get_order(order_id: int):
    with db().unit_of_work() as s:
        user = caller(s, *STAFF)
        order = orders.get(s, user, order_id)
        return render.order(order, cases.numbers_of(s, {order.case_id})[order.case_id])


def _order_action(order_id: int, roles: tuple[str, ...], act):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, *roles)
        order, case = orders.with_case(s, user, order_id)
        act(s, user, order, case, body)
        cases.save(s)
        return render.order(order, case.case_no)


@supervision.post("/orders/<int:order_id>/reply")
def reply_order(order_id: int):
    return _order_action(order_id, ("clerk",), lambda s, u, o, c, b: orders.reply(s, u, o, c, b.get("text")))


@supervision.post("/orders/<int:order_id>/close")
def close_order(order_id: int):
    return _order_action(order_id, ("supervisor",), lambda s, u, o, c, b: orders.close(s, u, o, c, b.get("text")))


@supervision.post("/orders/<int:order_id>/reopen")
def reopen_order(order_id: int):
    return _order_action(order_id, ("supervisor",),
                         lambda s, u, o, c, b: orders.reopen(s, u, o, c, b.get("text"), _due_at(b, required=False)))


_CASE, _ORDER = doc.path_param("case_no"), doc.path_param("order_id", {"type": "integer"})
_S, _I = {"type": "string"}, {"type": "integer"}
doc.document({
    "/api/v1/cases/{case_no}/suspend": {"post": doc.op(
        "Stop the case's clock (补正, hearing, testing…; clerk of the case's department)", out="Case", body="Suspension",
        errors=(400, 404, 409, 415, 422), params=[_CASE])},
    "/api/v1/cases/{case_no}/resume": {"post": doc.op(
        "Restart the clock; each deadline moves by the days spent stopped, in its own unit", out="Case", body="Resumption",
        errors=(400, 404, 409, 415, 422), params=[_CASE])},
    "/api/v1/cases/{case_no}/extensions": {"post": doc.op(
        "Extend the statutory limit (延期; a leader post or admin)", 201, "Extension", body="ExtensionIn",
        errors=(400, 404, 409, 415, 422), params=[_CASE])},
    "/api/v1/orders": {
        "post": doc.op("Issue a 督办 order (supervisor in scope)", 201, "Order", body="OrderIn",
                       errors=(400, 404, 415, 422)),
        "get": doc.paged(doc.op("Orders: supervisors in scope, clerks of their department; " + doc.CURSOR_DOC, out={
            "type": "array", "items": doc.ref("Order")}, errors=(404, 422),
            params=[doc.query_param("status"), doc.query_param("case_no"), *doc.CURSOR_PARAMS]))},
    "/api/v1/board": {"get": doc.op(
        "The supervision board (supervisor, admin): open cases in scope carrying a card or past their pre-warning "
        "time, soonest promised limit first, a page at a time (per_page 1–200, default 100); `total` counts up to "
        "10000 (`total_capped` beyond)", out="Board", errors=(422,),
        params=[doc.query_param("department"), doc.query_param("item_code"), *doc.PAGE_PARAMS])},
    "/api/v1/statistics": {"get": doc.op(
        "District statistics of the caller's scope (supervisor, admin): per department cases, completed, on time, "
        "open cards and 好差评; notices per month by level over the last `months` (1–24, default 6)",
        out="Statistics", errors=(422,), params=[doc.query_param("months", {"type": "integer", "minimum": 1, "maximum": 24})])},
    "/api/v1/orders/{order_id}": {"get": doc.op("One order with its messages", out="Order", errors=(404,),
                                                params=[_ORDER])},
    "/api/v1/orders/{order_id}/reply": {"post": doc.op("The clerk's reply", out="Order", body="OrderText",
                                                       errors=(400, 404, 409, 415, 422), params=[_ORDER])},
    "/api/v1/orders/{order_id}/close": {"post": doc.op("Close the order (supervisor)", out="Order", body="OrderText",
                                                       errors=(400, 404, 409, 415, 422), params=[_ORDER])},
    "/api/v1/orders/{order_id}/reopen": {"post": doc.op(
        "Reopen the order, optionally with a new deadline (supervisor)", out="Order", body="OrderText",
        errors=(400, 404, 409, 415, 422), params=[_ORDER])},
}, {
    "Board": {"type": "object", "properties": {
        "total": _I, "total_capped": {"type": "boolean"}, "page": _I, "per_page": _I,
        "cases": {"type": "array", "items": {"type": "object", "properties": {
            "case_no": _S, "item_code": _S, "item_name": _S, "department": _S, "status": _S,
            "card": {"type": "string", "enum": ["none", "warning", "yellow", "red"]},
            "remaining_days": {"type": "integer", "nullable": True}, "unit": _S, "started": {"type": "boolean"},
            "calendar_complete": {"type": "boolean"}, "promised_due_at": doc.SCHEMA_DT,
            "statutory_due_at": doc.SCHEMA_DT, "steps": {"type": "array", "items": _S}}}}}},
    "Statistics": {"type": "object", "properties": {
        "departments": {"type": "array", "items": {"type": "object", "properties": {
            "org_id": _I, "code": _S, "name": _S, "cases": _I, "completed": _I, "on_time": _I, "cards": _I,
            "on_time_rate": {"type": "integer", "nullable": True},
            "rating": {"type": "array", "nullable": True, "items": {"type": "number"},
                       "description": "[average score, number of ratings]"}}}},
        "months": {"type": "array", "items": {"type": "object", "properties": {
            "month": _S, "warning": _I, "yellow": _I, "red": _I}}},
        "as_of": {"type": "string", "format": "date-time", "description": "when these figures were counted (a "
                  "large district's are kept for a minute)"}}},
    "Suspension": {"type": "object", "required": ["kind", "reason"], "properties": {
        "kind": {"type": "string", "enum": ["supplement", "hearing", "testing", "inspection", "appraisal",
                                            "expert_review", "other"]},
        "reason": _S, "legal_basis": _S, "expected_days": _I,
        "missing_materials": {"type": "array", "items": _S}}},
    "Resumption": {"type": "object", "properties": {"note": _S}},
    "ExtensionIn": {"type": "object", "required": ["reason"], "properties": {
        "days": {**_I, "description": "in the statutory clock's unit; past the item's max_extensions or "
                                      "max_extension_days 422 extension_limit"},
        "working_days": {**_I, "description": "the old name of days (still accepted)"}, "reason": _S}},
    "Extension": {"type": "object", "properties": {
        "id": _I, "case_no": _S, "days": _I, "unit": {"type": "string", "enum": ["working", "natural"]},
        "working_days": {"type": "integer", "nullable": True}, "reason": _S, "approved_by": _S,
        "created_at": {"type": "string", "format": "date-time"}, "deadlines": doc.ref("Deadlines")}},
    "OrderIn": {"type": "object", "required": ["case_no", "instruction", "due_at"], "properties": {
        "case_no": _S, "notice_id": _I, "instruction": _S, "due_at": {"type": "string", "format": "date-time"}}},
    "OrderText": {"type": "object", "required": ["text"], "properties": {
        "text": _S, "due_at": {"type": "string", "format": "date-time"}}},
    "Order": {"type": "object", "properties": {
        "id": _I, "order_no": _S, "case_no": _S, "notice_id": {"type": "integer", "nullable": True},
        "instruction": _S, "due_at": {"type": "string", "format": "date-time"},
        "status": {"type": "string", "enum": list(ORDER_STATUSES)}, "overdue": {"type": "boolean"},
        "issued_at": {"type": "string", "format": "date-time"},
        "closed_at": {"type": "string", "format": "date-time", "nullable": True},
        "escalated_at": {"type": "string", "format": "date-time", "nullable": True},
        "messages": {"type": "array", "items": {"type": "object", "properties": {
            "kind": _S, "text": _S, "author": {"type": "string", "nullable": True},
            "at": {"type": "string", "format": "date-time"}}}}}},
})
