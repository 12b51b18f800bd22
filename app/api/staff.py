"""Staff endpoints (/api/v1): thin — parse, call a service, render. No business rules here."""
from __future__ import annotations

from flask import Blueprint, Response, request

from app import engine
from app.audit import service as audit
from app.cases import clocks, endings, materials, search
from app.cases import service as cases
from app.catalog import limits
from app.catalog import service as catalog
from app.definitions import service as definitions
from app.errors import Forbidden, NotFound
from app.orgs.service import can_see
from app.supervision import service as supervision

from . import render
from .common import (PAGE_MAX, BadRequest, UnsupportedMediaType, caller, db, json_body, next_link, page_args,
                     settings, whole_arg)
from .openapi import openapi_document

staff = Blueprint("api", __name__, url_prefix="/api/v1")
STAFF = ("admin", "designer", "legal", "clerk", "supervisor")


@staff.get("/openapi.json")
def openapi():
    return openapi_document()


@staff.post("/items")
def create_item():
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "admin", "designer")
        out = render.item(catalog.create_item(s, user, body, settings().item_code_scheme))
    return out, 201


@staff.post("/items/<code>/<any(suspend, resume, abolish):action>")
def change_item_status(code: str, action: str):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "admin")
        return render.item(catalog.change_status(s, user, code, action, body.get("reason")))


@staff.patch("/items/<code>")
def update_item(code: str):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "admin", "designer")
        item, changed = catalog.update_item(s, user, code, body)
        definitions.check_item_steps(s, item, settings().tz)
        out = render.item(item)
        out["recomputed_cases"] = (clocks.recompute_item_cases(s, settings(), item.id, user.username)
                                   if set(changed) & set(limits.RECOUNTED) else 0)
        return out


@staff.get("/items/<code>")
def get_item(code: str):
    with db().unit_of_work() as s:
        caller(s, *STAFF)
        return render.item(catalog.item_by_code(s, code))


@staff.post("/items/<code>/definitions")
def upload_definition(code: str):
    """The BPMN XML as the body, or multipart/form-data with one `bpmn` file and any `dmn` files (决策表)."""
    if request.mimetype == "multipart/form-data":
        xml, dmn = _multipart_diagram(settings().max_bpmn_bytes)
    elif request.mimetype in ("application/xml", "text/xml", "application/bpmn+xml"):
        xml, dmn = request.get_data(cache=False), []
    else:
        raise UnsupportedMediaType("send the BPMN XML with Content-Type: application/xml, or multipart/form-data "
                                   "with one 'bpmn' file and any 'dmn' files")
    with db().unit_of_work() as s:
        user = caller(s, "designer")
        item = catalog.item_by_code(s, code)
        if not can_see(user, item.org_unit):
            raise Forbidden("this item belongs to another department")
        out = render.definition(definitions.upload(s, user, code, xml, limit=settings().max_bpmn_bytes,
                                                   tz=settings().tz, decisions=dmn,
                                                   limits=engine.limits_of(settings())))
    return out, 201


def _multipart_diagram(limit: int) -> tuple[bytes, list[tuple[str, bytes]]]:
    """One `bpmn` part and any `dmn` parts, each read to one byte past the limit (the engine says 413)."""
    unknown = sorted(set(request.files) - {"bpmn", "dmn"})
    diagrams = request.files.getlist("bpmn")
    if len(diagrams) != 1 or unknown:
        raise BadRequest("send exactly one file in the field 'bpmn' and any DMN files in the field 'dmn'"
                         + (f" (unknown fields: {', '.join(unknown)})" if unknown else ""), details=[{"field": "bpmn"}])
    dmn = []
    for n, part in enumerate(request.files.getlist("dmn"), 1):
        name = (part.filename or "").replace("\\", "/").rsplit("/", 1)[-1].strip()[:200] or f"decision-{n}.dmn"
        dmn.append((name, part.stream.read(limit + 1)))
    return diagrams[0].stream.read(limit + 1), dmn


@staff.get("/definitions/<int:definition_id>")
def get_definition(definition_id: int):
    with db().unit_of_work() as s:
        _check_definition_scope(s, caller(s, *STAFF), definition_id)  # drafts and review remarks stay in-house
        return render.definition(definitions.get(s, definition_id))


@staff.get("/definitions/<int:definition_id>/bpmn")
def get_definition_xml(definition_id: int):
    with db().unit_of_work() as s:
        _check_definition_scope(s, caller(s, *STAFF), definition_id)
        xml = definitions.get(s, definition_id).xml
    return Response(xml, mimetype="application/xml")


@staff.get("/definitions/<int:definition_id>/dmn/<int:file_id>")
def get_definition_dmn(definition_id: int, file_id: int):
    """A DMN file uploaded with the definition (as stored, pinned to this version)."""
    with db().unit_of_work() as s:
        caller(s, *STAFF)
        found = next((f for f in definitions.get(s, definition_id).decision_files if f.id == file_id), None)
        if found is None:
            raise NotFound(f"no DMN file {file_id} in definition {definition_id}")
        xml = found.xml
    return Response(xml, mimetype="application/xml")


@staff.post("/definitions/<int:definition_id>/submit")
def submit_definition(definition_id: int):
    json_body(required=False)
    with db().unit_of_work() as s:
        user = caller(s, "designer")
        _check_definition_scope(s, user, definition_id)
        d = definitions.submit(s, user, definition_id, settings().tz)
        return render.definition(d)


@staff.post("/definitions/<int:definition_id>/review")
def review_definition(definition_id: int):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "legal")
        _check_definition_scope(s, user, definition_id)
        d = definitions.review(s, user, definition_id, body.get("decision"), body.get("comment", ""),
                               body.get("element_comments"))
        return render.definition(d)


def _check_definition_scope(s, user, definition_id: int) -> None:
    if not can_see(user, definitions.get(s, definition_id).item.org_unit):
        raise NotFound(f"no definition {definition_id}")


@staff.post("/cases")
def create_case():
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "clerk")
        case, code = cases.create_case(s, settings(), user, body)
        out = render.case(s, settings(), case, user)
    out["query_code"] = code
    return out, 201


@staff.get("/cases")
def search_cases():
    """Staff case search (CONTRACT.md): q = a case number, or an applicant's name (its beginning), ID number or
    phone; filters; newest first; only the caller's scope."""
    query = search.parse(request.args)
    with db().unit_of_work() as s:
        user = caller(s, *STAFF)
        rows, total = search.find(s, user, query, settings().tz)
        return {"cases": [{"case_no": r.case_no, "item_code": r.code, "item_name": r.name, "status": r.status,
                           "card": r.card, "created_at": render.iso(r.created_at), "applicant_name": r.applicant_name}
                          for r in rows], "total": total, "page": query.page, "per_page": query.per_page}


@staff.get("/cases/<case_no>")
def get_case(case_no: str):
    with db().unit_of_work() as s:
        user = caller(s, *STAFF, "system")  # another system may read the cases in its org scope
        return render.case(s, settings(), cases.get_visible(s, user, case_no), user)


@staff.post("/cases/<case_no>/tasks/<task_id>/complete")
def complete_task(case_no: str, task_id: str):
    body = json_body(required=False)
    with db().unit_of_work() as s:
        user = caller(s, "clerk")
        case = cases.complete_task(s, settings(), user, case_no, task_id, body.get("data") or {},
                                   body.get("opinion", ""), body.get("missing_materials"), body.get("decision"))
        return render.case(s, settings(), case, user)


@staff.post("/cases/<case_no>/refuse", defaults={"how": "refuse"})
@staff.post("/cases/<case_no>/withdraw", defaults={"how": "withdraw"})
@staff.post("/cases/<case_no>/terminate", defaults={"how": "terminate"})
def end_case(case_no: str, how: str):
    """不予受理, 撤回, 终止: each ends the case for good (see app/cases/endings.py)."""
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "clerk", "admin")
        case = endings.end(s, settings(), user, case_no, how, body)
        return render.case(s, settings(), case, user)


@staff.post("/cases/<case_no>/materials")
def settle_material(case_no: str):
    """A 容缺 material brought later, or a 告知承诺 pledge verified."""
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "clerk")
        return render.case(s, settings(), materials.settle(s, settings(), user, case_no, body), user)


@staff.get("/tasks")
def worklist():
    """The caller's worklist, a page at a time (`page`, `per_page` ≤ 200; the next page in `Link`, the count in
    `X-Total-Count`)."""
    page, per_page = page_args()
    with db().unit_of_work() as s:
        user = caller(s, "clerk")
        rows, total = cases.worklist(s, user, page, per_page)
        out = [dict(render.task(t), case_no=case_no, task_id=t.id, item_code=code, item_name=name)
               for t, case_no, code, name in rows]
    headers = {"X-Total-Count": str(total)}
    if page * per_page < total:
        headers["Link"] = next_link(page=page + 1, per_page=per_page)
    return out, 200, headers


@staff.get("/cases/<case_no>/events")
def case_events(case_no: str):
    with db().unit_of_work() as s:
        user = caller(s, *STAFF)
        case = cases.get_visible(s, user, case_no)
        return [{"seq": e.seq, "at": render.iso(e.at), "actor": e.actor, "action": e.action,
                 "task_bpmn_id": e.task_bpmn_id, "detail": e.detail, "hash": e.hash}
                for e in audit.events_of_case(s, case.id)]


@staff.get("/notices")
def notices():
    """Notices oldest first, a page at a time: `limit` (1…200, default 200) after the notice id `after` (a
    cursor); the next page's address in `Link` when more follow."""
    after, limit = whole_arg("after", 0, 0, 2**62), whole_arg("limit", PAGE_MAX, 1, PAGE_MAX)
    with db().unit_of_work() as s:
        user = caller(s, *STAFF)
        case_id, case_no = None, request.args.get("case_no")
        if case_no:
            case_id = cases.get_visible(s, user, case_no).id
        found, recipients, more = supervision.notices_page(s, user, case_id=case_id, after=after, limit=limit)
        out = [render.notice_of(r, r.case_no, recipients[r.id], user.id) for r in found]
    headers = {"Link": next_link(after=out[-1]["id"], limit=limit)} if more else {}
    return out, 200, headers


@staff.post("/notices/<int:notice_id>/ack")
def acknowledge_notice(notice_id: int):
    with db().unit_of_work() as s:
        user = caller(s, *STAFF)
        n = supervision.acknowledge(s, user, notice_id)
        return render.notice(n, cases.numbers_of(s, {n.case_id}).get(n.case_id), user.id)
