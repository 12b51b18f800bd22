"""Clerks (经办): the worklist, a case, accepting a case, completing a step, stopping and restarting the clock."""
from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, send_file, url_for
from sqlalchemy import select

from app.api import render
from app.audit import service as audit
from app.cases import clock_stops, decisions, endings, external
from app.cases import files as case_files
from app.cases import search as case_search
from app.cases import service as cases
from app.cases.models import OPEN_STATUSES, SUSPENSION_KINDS, Case
from app.catalog import service as catalog
from app.definitions import service as definitions
from app.disclosure import service as disclosure
from app.documents import service as documents
from app.errors import DomainError, Invalid, NotFound
from app.orgs.models import User
from app.orgs.service import can_see
from app.supervision import orders
from app.supervision import service as supervision

from . import web
from .common import db, flash_error, safe_next, settings, signed_in
from .decisions import fields_for, parse_values
from .i18n import _, current_lang

STAFF = ("admin", "designer", "legal", "clerk", "supervisor")
CARD_RANK = {"red": 0, "yellow": 1, "warning": 2, "none": 3}


def _sep() -> str:
    return ", " if current_lang() == "en" else "、"


@web.get("/work")
def worklist():
    page = _page_arg()
    with db().unit_of_work() as s:
        user = signed_in(s, "clerk")
        rows, total = cases.worklist_page(s, user, page, WORK_PAGE)
        mine = cases.open_cases(s, user, OPEN_SHOWN)
        clocks = render.list_clocks(s, settings(), [*rows, *mine])  # one read for the whole page
        tasks = [{"case_no": r.case_no, "item_code": r.item_code, "item_name": r.item_name, "name": r.name or r.bpmn_id,
                  "lane": r.lane, "created_at": r.created_at, "due_at": r.due_at, **clocks[r.case_id],
                  "status": r.status} for r in rows]
        # A case waiting for the applicant (补正) or a hearing cannot be worked: it sinks below the workable ones.
        tasks.sort(key=lambda r: (r["status"] != "running", r["left"] is None,
                                  r["left"] if r["left"] is not None else 0, CARD_RANK[r["card"]]))
        open_cases = [{"case_no": c.case_no, "item_name": c.item_name, "status": c.status, **clocks[c.case_id],
                       "promised_due_at": c.promised_due_at} for c in mine]
        open_cases.sort(key=lambda r: (CARD_RANK[r["card"]], r["left"] is None, r["left"] or 0))
        items = [{"code": code, "name": name} for code, name in case_search.items_to_accept(s, user)]
    return render_template("web/worklist.html", tasks=tasks, open_cases=open_cases, items=items, total=total,
                           page=page, pages=max(1, -(-total // WORK_PAGE)))


# Ready steps per page of the worklist, and the department's open cases shown beside them (the most urgent; the
# search lists them all). A page is rendered row by row: fifty steps keep it well within the worklist's 50 ms at
# a clerk's ten thousand, and are what a clerk works through before paging on.
WORK_PAGE = 50
OPEN_SHOWN = 20


def _page_arg() -> int:
    raw = request.args.get("page") or "1"
    return int(raw) if raw.isdigit() and 0 < int(raw) <= 100000 else 1


def _history(s, case: Case) -> list[dict]:
    users = {t.completed_by_id for t in case.tasks if t.completed_by_id}
    names = dict(s.execute(select(User.id, User.username).where(User.id.in_(users))).tuples().all()) if users else {}
    work = external.of_case(s, case.id) if any(t.kind == "external" for t in case.tasks) else {}
    return [{"name": t.name or t.bpmn_id, "lane": t.lane, "state": t.state, "created_at": t.created_at,
             "completed_at": t.completed_at, "by": names.get(t.completed_by_id), "opinion": t.opinion, "kind": t.kind,
             "assignee": t.assignee, "topic": work[t.id].topic if t.id in work else None,
             "builtin": t.id in work and work[t.id].topic in external.BUILTIN_TOPICS,
             "incident": t.id in work and work[t.id].incident_at is not None and work[t.id].state == "open"}
            for t in case.tasks]


@web.get("/cases/<case_no>")
def case_page(case_no: str):
    with db().unit_of_work() as s:
        user = signed_in(s, *STAFF)
        case = cases.get_visible(s, user, case_no)
        view = render.case(s, settings(), case, user)
        d = definitions.get(s, case.definition_id)
        workable = []
        if user.role == "clerk" and case.status == "running":
            for t in case.tasks:
                if _workable_by(t, user):
                    workable.append({"id": t.id, "name": t.name or t.bpmn_id, "lane": t.lane,
                                     "supplement": t.bpmn_id == case.item.supplement_step,
                                     "decides": t.bpmn_id == case.item.decision_step,
                                     "fields": fields_for(d.xml, t.bpmn_id, settings().max_bpmn_bytes)})
        found = orders.listing(s, user, None, case.id) if user.role in ("clerk", "supervisor", "admin") else []
        order_list = [render.order(o, case.case_no) for o in found]
        stop = clock_stops.open_stop(s, case)
        stop_view = ({"kind": stop.kind, "reason": stop.reason, "started_at": stop.started_at,
                      "missing_materials": stop.missing_materials} if stop else None)
        states = {}
        for t in case.tasks:  # the diagram's marks: what is open now wins over what was done before
            if t.state in ("ready", "waiting"):
                states[t.bpmn_id] = "current"
            elif t.state == "completed":
                states.setdefault(t.bpmn_id, "done")
        events = [{"at": e.at, "actor": e.actor, "action": e.action} for e in audit.events_of_case(s, case.id)]
        is_clerk = user.role == "clerk" and user.org_unit_id == case.org_unit_id
        history = _history(s, case)
        is_open = case.status in OPEN_STATUSES
        can_end = {"refuse": is_open and is_clerk and case.accepted_at is None, "withdraw": is_open and is_clerk,
                   "terminate": is_open and (is_clerk or user.role == "admin")
                   and clock_stops.is_leader(user, settings())}
        pub = disclosure.of_case(s, case.id)
        publication = render.publication(pub) if pub is not None else None
        can_publish = bool(pub and pub.status == "held" and (is_clerk or user.role == "admin"))
        can_withdraw = bool(pub and pub.status == "published" and clock_stops.is_leader(user, settings())
                            and (is_clerk or user.role == "admin"))
        item_basis = case.item.legal_basis
    return render_template("web/case.html", case=view, workable=workable, orders=order_list, stop=stop_view,
                           states=states, history=history, events=events, is_clerk=is_clerk, can_end=can_end,
                           kinds=SUSPENSION_KINDS, definition_id=case.definition_id, publication=publication,
                           can_publish=can_publish, can_withdraw=can_withdraw, item_basis=item_basis,
                           outcomes=list(decisions.OUTCOME_LABELS), supervises=user.role == "supervisor",
                           may_issue=user.role == "supervisor" and all(o["status"] == "closed" for o in order_list))


@web.get("/cases/<case_no>/documents/<int:document_id>")
def case_document(case_no: str, document_id: int):
    """A document's PDF for staff who can see the case (shown in the browser, printable)."""
    with db().unit_of_work() as s:
        user = signed_in(s, *STAFF)
        case = cases.get_visible(s, user, case_no)
        d = documents.visible(s, user, document_id)
        if d.case_id != case.id:
            raise NotFound(f"no document {document_id}")
        number, path = d.number, documents.path(s, settings(), d)
    resp = send_file(path, mimetype="application/pdf", download_name=f"{number}.pdf", conditional=False,
                     etag=False, max_age=0)
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _decision_from(form) -> dict | None:
    """The decision fields of the deciding step's form (None when the form has none)."""
    if "decision_outcome" not in form:
        return None
    raw_amount = (form.get("decision_amount") or "").strip()
    try:
        amount = float(raw_amount) if raw_amount else None
    except ValueError:
        raise Invalid("not a number", details=[{"field": "decision.amount"}]) from None
    if amount is not None and amount.is_integer():
        amount = int(amount)
    return {"outcome": form.get("decision_outcome"), "summary": form.get("decision_summary", ""),
            "legal_basis": form.get("decision_legal_basis", ""), "amount": amount}


@web.post("/cases/<case_no>/decision/publish")
def publish_decision(case_no: str):
    return _clerk_action(case_no, lambda s, u: disclosure.publish(s, settings(), u, case_no),
                         _("决定已公示。"), roles=("clerk", "admin"))


@web.post("/cases/<case_no>/decision/withdraw")
def withdraw_decision(case_no: str):
    body = {"reason": request.form.get("reason", "")}
    return _clerk_action(case_no, lambda s, u: disclosure.withdraw(s, settings(), u, case_no, body),
                         _("已撤销该决定的公示，并标注为已撤销。"), roles=("clerk", "admin"))


@web.get("/definitions/<int:definition_id>/xml")
def definition_xml(definition_id: int):
    """A definition's diagram for the page's viewer, for staff who can see its item's department."""
    with db().unit_of_work() as s:
        user = signed_in(s, *STAFF)
        d = definitions.get(s, definition_id)
        if not can_see(user, d.item.org_unit):
            raise NotFound(f"no definition {definition_id}")
        xml = d.xml
    return Response(xml, mimetype="application/xml", headers={"Cache-Control": "private, no-store"})


@web.post("/cases/<case_no>/tasks/<task_id>/complete")
def complete_task(case_no: str, task_id: str):
    back = redirect(url_for("web.case_page", case_no=case_no))
    try:
        with db().unit_of_work() as s:
            user = signed_in(s, "clerk")
            case = cases.get_visible(s, user, case_no)
            row = next((t for t in case.tasks if t.id == task_id), None)
            if row is None:
                raise NotFound(f"no task {task_id}")
            fields = fields_for(definitions.get(s, case.definition_id).xml, row.bpmn_id, settings().max_bpmn_bytes)
            try:
                data = parse_values(fields, request.form)
            except ValueError as exc:
                raise Invalid("not a number", details=[{"field": str(exc)}]) from None
            missing = [f.name for f in fields if f.kind == "bool" and f.name not in data]
            if missing:
                raise Invalid("answer every decision", details=[{"field": n} for n in missing])
            cases.complete_task(s, settings(), user, case_no, task_id, data,
                                (request.form.get("opinion") or "").strip(),
                                _lines(request.form.get("missing_materials")) or None, _decision_from(request.form))
            status = case.status
            mine_next = any(_workable_by(t, user) for t in case.tasks)
    except NotFound:
        raise
    except decisions.LegalReviewRequired:
        flash(_("该决定属于重大执法决定，已提交法制审核；审核通过后请以同一决定再次提交。"), "info")
        return back
    except DomainError as exc:
        flash_error(exc)
        return back
    if status == "running" and mine_next:  # the next step is this clerk's too: stay on the case
        flash(_("已提交；下一环节仍由您办理。"), "success")
        return back
    if status == "running":
        flash(_("已提交，流程进入下一环节。"), "success")
        return redirect(url_for("web.worklist"))
    flash({"completed": _("已办结该办件。"), "suspended": _("已一次性告知补正，计时暂停，待申请人补齐材料后恢复计时。")}
          .get(status, _("已提交。")), "success")
    return back


@web.post("/cases/<case_no>/suspend")
def suspend(case_no: str):
    f = request.form
    try:
        expected = int(f["expected_days"]) if (f.get("expected_days") or "").strip() else None
    except ValueError:
        expected = -1  # the service refuses it with its own message
    body = {"kind": f.get("kind"), "reason": f.get("reason", ""), "legal_basis": f.get("legal_basis", ""),
            "expected_days": expected,
            "missing_materials": _lines(f.get("missing_materials"))}
    return _clerk_action(case_no, lambda s, u: clock_stops.suspend(s, settings(), u, case_no, body),
                         _("已暂停计时。"))


def _workable_by(t, user) -> bool:
    """A ready user step this clerk may work: assigned to them (会签), or unassigned in a lane they hold."""
    mine = t.assignee == user.username if t.assignee else (not t.lane or t.lane in user.post_names)
    return t.state == "ready" and t.kind == "user" and t.org_unit_id == user.org_unit_id and mine


def _lines(text: str | None) -> list[str]:
    """One entry per line of a textarea (e.g. the materials to supplement), blank lines dropped."""
    return [line.strip() for line in (text or "").splitlines() if line.strip()]


@web.post("/cases/<case_no>/refuse", defaults={"how": "refuse"})
@web.post("/cases/<case_no>/withdraw", defaults={"how": "withdraw"})
@web.post("/cases/<case_no>/terminate", defaults={"how": "terminate"})
def end_case(case_no: str, how: str):
    """不予受理, 撤回, 终止 from the case page: the same service as the API."""
    body = {"reason": request.form.get("reason", ""), "legal_basis": request.form.get("legal_basis", "")}
    done = {"refuse": _("已作出不予受理决定，办件已结束。"), "withdraw": _("申请人已撤回，办件已结束。"),
            "terminate": _("办件已终止。")}[how]
    return _clerk_action(case_no, lambda s, u: endings.end(s, settings(), u, case_no, how, body), done,
                         roles=("clerk", "admin") if how == "terminate" else ("clerk",))


@web.post("/cases/<case_no>/resume")
def resume(case_no: str):
    body = {"note": request.form.get("note", "")}
    return _clerk_action(case_no, lambda s, u: clock_stops.resume(s, settings(), u, case_no, body),
                         _("已恢复计时，期限已顺延。"))


def _clerk_action(case_no: str, act, done: str, roles: tuple[str, ...] = ("clerk",)):
    """A clerk's form on a case page: run `act(session, clerk)`, flash the outcome, back to the case."""
    try:
        with db().unit_of_work() as s:
            act(s, signed_in(s, *roles))
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(done, "success")
    return redirect(url_for("web.case_page", case_no=case_no))


@web.post("/cases/<case_no>/orders/<int:order_id>/reply")
def reply_order(case_no: str, order_id: int):
    def reply(s, user):
        case = cases.get_visible(s, user, case_no)
        order = orders.get(s, user, order_id)
        if order.case_id != case.id:
            raise NotFound(f"no order {order_id}")
        orders.reply(s, user, order, case, request.form.get("text"))
        cases.save(s)

    return _clerk_action(case_no, reply, _("已回复督办。"))


@web.post("/notices/<int:notice_id>/ack")
def ack_notice(notice_id: int):
    back = request.form.get("back") or ""
    try:
        with db().unit_of_work() as s:
            supervision.acknowledge(s, signed_in(s, *STAFF), notice_id)
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(_("已确认收到。"), "success")
    return redirect(safe_next(back) or url_for("web.hall"))


@web.route("/cases/new", methods=["GET", "POST"])
def new_case():
    # The picker sends "CODE name" (a searchable list) or the code alone.
    code = ((request.values.get("item") or "").split() or [""])[0][:64]
    try:
        with db().unit_of_work() as s:
            user = signed_in(s, "clerk")
            item = catalog.item_by_code(s, code)
            if not can_see(user, item.org_unit):
                raise NotFound(f"no item {code}")
            item_view = render.item(item)
    except NotFound:  # a name typed into the picker that matches no item of this unit: say so on the worklist
        flash(_("找不到该事项，请从列表中选择。"), "error")
        return redirect(url_for("web.worklist"))
    form = request.form
    if request.method == "GET":
        return render_template("web/new_case.html", item=item_view, form={}, missing=[])
    applicant = {k: (form.get(k) or "").strip() for k in ("name", "id_number", "phone")}
    if form.get("kind") in ("person", "organisation"):
        applicant["kind"] = form["kind"]
    uploads = {m["name"]: request.files.get(f"file_{i}") for i, m in enumerate(item_view["materials"])}
    uploads = {n: f for n, f in uploads.items() if f is not None and f.filename}
    try:
        with db().unit_of_work() as s:
            user = signed_in(s, "clerk")
            materials = []  # each material as the window had it: uploaded, on paper, owed (容缺) or pledged
            for i, m in enumerate(item_view["materials"]):
                part = uploads.get(m["name"])
                if part is not None:
                    row = case_files.store(s, settings(), user, part.filename,
                                           part.stream.read(settings().max_file_bytes + 1), part.mimetype or None)
                    materials.append({"name": m["name"], "file_id": row.public_id})
                elif form.get(f"paper_{i}"):
                    materials.append({"name": m["name"], "paper": True})
                elif (form.get(f"deferred_{i}") or "").strip():
                    materials.append({"name": m["name"], "deferred_until": form[f"deferred_{i}"].strip()})
                elif form.get(f"pledged_{i}"):
                    materials.append({"name": m["name"], "pledged": True})
            # The service checks completeness: every missing material is told at once (一次性告知).
            body = {"item_code": code, "applicant": applicant, "data": {}, "materials": materials}
            case, query_code = cases.create_case(s, settings(), user, body)
            case_no = case.case_no
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
        missing = [d.get("material") for d in exc.details if isinstance(d, dict) and d.get("material")]
        return render_template("web/new_case.html", item=item_view, form=form, missing=missing), exc.status
    flash(_("受理成功。办件编号 %(no)s，查询码 %(code)s —— 请告知申请人，查询码只显示这一次。",
            no=case_no, code=query_code), "success")
    # The receipt (办件回执) the clerk prints and hands over: the only paper that carries the query code, shown
    # on the next page only (the code is never stored in clear; the 受理通知书 says where to find it).
    flash(query_code, "receipt")
    return redirect(url_for("web.case_page", case_no=case_no))
