"""提醒与督办: every staff member's notices (paged, unread first to act on) and the 督办 orders they follow,
and the counts the header shows on every page."""
from __future__ import annotations

from flask import g, render_template, request
from sqlalchemy.exc import SQLAlchemyError

from app.api import render
from app.orgs.models import User
from app.supervision import inbox, orders

from . import web
from .common import db, log, signed_in, viewer

STAFF = ("admin", "designer", "legal", "clerk", "supervisor")
PER_PAGE = 50
ORDERS_SHOWN = 100


def header_counts() -> dict | None:
    """Unread notices and open orders of the signed-in person, once per request; None when signed out.
    A failure here only hides the counts: the header never breaks the page it sits on. On a page that checked
    its user (signed_in), counted from that user's ids without loading it again."""
    if "inbox_counts" not in g:
        g.inbox_counts = None
        uid = viewer().get("uid")  # only while the session is alive (app/web/common.py)
        if uid is not None and viewer().get("role") in STAFF:
            try:
                with db().unit_of_work() as s:
                    scope = g.get("viewer_scope")
                    if scope is None or scope[0] != uid:
                        user = s.get(User, uid)
                        scope = None if user is None else (user.id, user.role, user.org_unit_id, user.org_unit.path)
                    if scope is not None:
                        notices, orders = inbox.badge_counts(s, *scope)
                        g.inbox_counts = {"notices": notices, "orders": orders, "cap": inbox.BADGE_CAP}
            except SQLAlchemyError as exc:
                log.warning("header counts unavailable: %s", exc)
    return g.inbox_counts


@web.context_processor
def _header():
    return {"header_counts": header_counts}


def _filter(user) -> inbox.Filter:
    a = request.args
    last = -(-inbox.LIST_CAP // PER_PAGE)  # the pages the capped total can fill: deeper would skip that many rows
    page = int(a["page"]) if (a.get("page") or "").isdigit() and 0 < int(a["page"]) <= last else 1
    scope_all = a.get("scope") == "all" and user.role in inbox.SCOPE_ROLES
    return inbox.Filter(everything_in_scope=scope_all, unread=a.get("unread") == "1" and not scope_all,
                        department=(a.get("department") or "").strip()[:32] or None,
                        item_code=(a.get("item") or "").strip()[:64] or None, page=page, per_page=PER_PAGE)


@web.get("/notices")
def notices_page():
    with db().unit_of_work() as s:
        user = signed_in(s, *STAFF)
        f = _filter(user)
        found, total = inbox.notices(s, user, f)
        rows = [render.notice_line(r) for r in found]
        followed = orders.open_followed(s, user, ORDERS_SHOWN) if user.role in (*inbox.SCOPE_ROLES, "clerk") else []
        order_rows = [render.order_line(r) for r in followed]
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("web/notices.html", rows=rows, total=total, cap=inbox.LIST_CAP, f=f, args=args,
                           pages=max(1, -(-min(total, inbox.LIST_CAP) // PER_PAGE)), orders=order_rows,
                           can_scope=user.role in inbox.SCOPE_ROLES)
