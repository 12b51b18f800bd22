"""Supervisors (纪检监察): the board of cards and notices in scope, 督办 orders, and the department overview."""
from __future__ import annotations

from datetime import datetime

from flask import flash, redirect, render_template, request, url_for
from sqlalchemy import select

from app.api import render
from app.cases import service as cases
from app.errors import DomainError, Invalid, NotFound
from app.orgs.models import OrgUnit
from app.supervision import inbox, orders
from app.supervision import service as supervision

from . import web
from .common import db, flash_error, safe_next, settings, signed_in
from .i18n import _

BOARD = ("supervisor", "admin")
NOTICES_SHOWN = 20  # the newest of the scope, with their total; the inbox page (linked) pages through them all
ORDERS_SHOWN = 100
# Carded cases per page of the board. Each row carries its own issue form: fifty of them keep a department
# supervisor's page within its 100 ms at a million cases (the API pages by up to 200 rows of data alone).
BOARD_PAGE = 50


@web.get("/supervision")
def supervision_board():
    department = (request.args.get("department") or "").strip()[:32]
    item_code = (request.args.get("item") or "").strip()[:64]
    raw_page = request.args.get("page") or "1"
    last = -(-cases.BOARD_CAP // BOARD_PAGE)  # the pages the capped total can fill
    page = int(raw_page) if raw_page.isdigit() and 0 < int(raw_page) <= last else 1
    with db().unit_of_work() as s:
        user = signed_in(s, *BOARD)
        departments = list(s.execute(select(OrgUnit.code, OrgUnit.name)
                                     .where(OrgUnit.path.startswith(user.org_unit.path), OrgUnit.kind != "district")
                                     .order_by(OrgUnit.code)))
        rows, cards_total = cases.carded_page(s, user, department or None, item_code or None, page, BOARD_PAGE)
        case_ids = [r.case_id for r in rows]
        steps = cases.ready_steps_of(s, case_ids)
        cards = [r | {"left": r["remaining_days"], "provisional": not r["calendar_complete"]}
                 for r in render.board(s, settings(), rows, steps)]
        # A case under an open order shows that order, not a second "issue" form: looked up for the page's cases
        # (not among the orders listed beside, which are only the first of the scope's).
        ordered = orders.open_on_cases(s, case_ids)
        for c, r in zip(cards, rows):
            found_order = ordered.get(r.case_id)
            c["order"] = {"id": found_order[0], "order_no": found_order[1], "status": found_order[2]} \
                if found_order else None
        rank = {"red": 0, "yellow": 1, "warning": 2, "none": 3}
        cards.sort(key=lambda r: (rank[r["card"]], r["left"] if r["left"] is not None else 0))
        # The newest notices of the scope (filtered in SQL); the inbox page pages through all of them.
        found, notices_total = inbox.notices(s, user, inbox.Filter(
            everything_in_scope=True, department=department or None, item_code=item_code or None,
            per_page=NOTICES_SHOWN))
        notices = [render.notice_line(r) for r in found]
        open_orders = [render.order_line(r) for r in orders.open_followed(s, user, ORDERS_SHOWN)]
        stats = supervision.statistics(s, user, settings().tz)  # with 好差评: the applicants' view beside them
    return render_template("web/supervision.html", cards=cards, cards_total=cards_total, page=page,
                           pages=max(1, -(-min(cards_total, cases.BOARD_CAP) // BOARD_PAGE)), notices=notices,
                           notices_total=notices_total,
                           list_cap=inbox.LIST_CAP, orders=open_orders,
                           departments=departments, department=department, item_code=item_code, stats=stats,
                           can_issue=user.role == "supervisor")


@web.post("/supervision/orders")
def issue_order():
    f = request.form
    try:
        with db().unit_of_work() as s:
            user = signed_in(s, "supervisor")
            case = cases.get_visible(s, user, (f.get("case_no") or "").strip(), for_update=True)
            due = _local_due(f.get("due_at"), required=True)
            notice_id = int(f["notice_id"]) if (f.get("notice_id") or "").isdigit() else None
            order = orders.issue(s, user, case, notice_id, f.get("instruction"), due, tz=settings().tz)
            cases.save(s)
            order_no = order.order_no
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(_("已下发督办单 %(no)s。", no=order_no), "success")
    return redirect(safe_next(request.form.get("back")) or url_for("web.supervision_board"))


def _local_due(raw: str | None, required: bool) -> datetime | None:
    """A datetime-local field: what the supervisor typed is the district's local time."""
    raw = (raw or "").strip()
    if not raw and not required:
        return None
    try:
        due = datetime.fromisoformat(raw)
    except ValueError:
        raise Invalid("due_at", details=[{"field": "due_at"}]) from None
    return due if due.tzinfo else due.replace(tzinfo=settings().tz)


@web.post("/supervision/orders/<int:order_id>/close")
def close_order(order_id: int):
    return _order_step(order_id, "close")


@web.post("/supervision/orders/<int:order_id>/reopen")
def reopen_order(order_id: int):
    return _order_step(order_id, "reopen")


def _order_step(order_id: int, how: str):
    """办结 or 重新督办 from the case page; back to the case, at the order."""
    case_no = None
    try:
        with db().unit_of_work() as s:
            user = signed_in(s, "supervisor")
            order, case = orders.with_case(s, user, order_id)
            case_no = case.case_no
            text = request.form.get("text")
            if how == "close":
                orders.close(s, user, order, case, text)
            else:
                orders.reopen(s, user, order, case, text, _local_due(request.form.get("due_at"), required=False))
            cases.save(s)
    except NotFound:
        raise
    except DomainError as exc:
        flash_error(exc)
    else:
        flash(_("督办已办结。") if how == "close" else _("已重新督办。"), "success")
    if case_no is None:  # refused before the order was found (e.g. not a supervisor)
        return redirect(url_for("web.supervision_board"))
    return redirect(url_for("web.case_page", case_no=case_no, _anchor=f"order-{order_id}"))
