"""Supervisors (纪检监察): the board of cards and notices in scope, 督办 orders, and the department overview."""
from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.api import render
from app.cases import ratings
from app.cases import service as cases
from app.errors import DomainError, Invalid, NotFound
from app.orgs.models import OrgUnit
from app.supervision import orders
from app.supervision import service as supervision

from . import web
from .common import clock_marks, db, flash_error, settings, signed_in
from .i18n import _

BOARD = ("supervisor", "admin")
NOTICES_SHOWN = 200


@web.get("/supervision")
def supervision_board():
    department = (request.args.get("department") or "").strip()[:32]
    item_code = (request.args.get("item") or "").strip()[:64]
    with db().unit_of_work() as s:
        user = signed_in(s, *BOARD)
        departments = list(s.execute(select(OrgUnit.code, OrgUnit.name)
                                     .where(OrgUnit.path.startswith(user.org_unit.path), OrgUnit.kind != "district")
                                     .order_by(OrgUnit.code)))
        cards = []
        for c in cases.carded_cases(s, user, department or None, item_code or None):
            dl = render.deadlines(s, settings(), c)
            cards.append({"case_no": c.case_no, "item_code": c.item.code, "item_name": c.item.name,
                          "department": s.get(OrgUnit, c.org_unit_id).name, "status": c.status, **clock_marks(dl),
                          "promised_due_at": c.promised_due_at,
                          "statutory_due_at": c.statutory_due_at,
                          "steps": [t.name or t.bpmn_id for t in c.tasks if t.state == "ready" and t.kind == "user"]})
        rank = {"red": 0, "yellow": 1, "warning": 2, "none": 3}
        cards.sort(key=lambda r: (rank[r["card"]], r["left"] if r["left"] is not None else 0))
        found = supervision.notices_for(s, user)
        numbers = cases.numbers_of(s, {n.case_id for n in found if n.case_id})
        notices = []
        for n in reversed(found):  # newest first
            case_no = numbers.get(n.case_id)
            if (department or item_code) and case_no is None:
                continue
            if department or item_code:
                case = cases.get_visible(s, user, case_no)
                if (department and s.get(OrgUnit, case.org_unit_id).code != department) or \
                        (item_code and case.item.code != item_code):
                    continue
            notices.append(render.notice(n, case_no, user.id))
            if len(notices) >= NOTICES_SHOWN:
                break
        open_orders = [render.order(o, numbers.get(o.case_id) or cases.numbers_of(s, {o.case_id})[o.case_id])
                       for o in orders.listing(s, user, None, None) if o.status != "closed"]
        stats = supervision.overview(s, user, settings().tz)
        rated = ratings.averages_by_department(s)  # 好差评: the applicants' view beside the timeliness figures
        for d in stats["departments"]:
            d["rating"] = rated.get(d["org_id"])
    return render_template("web/supervision.html", cards=cards, notices=notices, orders=open_orders,
                           departments=departments, department=department, item_code=item_code, stats=stats,
                           can_issue=user.role == "supervisor")


@web.post("/supervision/orders")
def issue_order():
    f = request.form
    try:
        with db().unit_of_work() as s:
            user = signed_in(s, "supervisor")
            case = cases.get_visible(s, user, (f.get("case_no") or "").strip(), for_update=True)
            try:
                due = datetime.fromisoformat((f.get("due_at") or "").strip())
            except ValueError:
                raise Invalid("due_at", details=[{"field": "due_at"}]) from None
            if due.tzinfo is None:
                due = due.replace(tzinfo=settings().tz)  # what the supervisor typed is local time
            notice_id = int(f["notice_id"]) if (f.get("notice_id") or "").isdigit() else None
            order = orders.issue(s, user, case, notice_id, f.get("instruction"), due)
            cases.save(s)
            order_no = order.order_no
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(_("已下发督办单 %(no)s。", no=order_no), "success")
    return redirect(request.form.get("back") if (request.form.get("back") or "").startswith("/supervision")
                    else url_for("web.supervision_board"))
