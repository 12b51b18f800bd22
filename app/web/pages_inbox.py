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
    A failure here only hides the counts: the header never breaks the page it sits on."""
    if "inbox_counts" not in g:
        g.inbox_counts = None
        uid = viewer().get("uid")  # only while the session is alive (app/web/common.py)
        if uid is not None and viewer().get("role") in STAFF:
            try:
                with db().unit_of_work() as s:
                    user = s.get(User, uid)
                    if user is not None:
                        g.inbox_counts = {"notices": inbox.unread_count(s, user),
                                          "orders": inbox.open_orders_count(s, user), "cap": inbox.BADGE_CAP}
            except SQLAlchemyError as exc:
                log.warning("header counts unavailable: %s", exc)
    return g.inbox_counts


@web.context_processor
def _header():
    return {"header_counts": header_counts}


def _filter(user) -> inbox.Filter:
    a = request.args
    page = int(a["page"]) if (a.get("page") or "").isdigit() and 0 < int(a["page"]) <= 10_000 else 1
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
        rows = [render.notice(n, case_no, user.id) | {"mine": any(r.user_id == user.id for r in n.recipients),
                                                      "mine_acked": any(r.user_id == user.id and r.acknowledged_at
                                                                        for r in n.recipients)}
                for n, case_no in found]
        followed = orders.open_followed(s, user, ORDERS_SHOWN) if user.role in (*inbox.SCOPE_ROLES, "clerk") else []
        order_rows = [render.order(o, case_no) for o, case_no in followed]
    args = {k: v for k, v in request.args.items() if k != "page"}
    return render_template("web/notices.html", rows=rows, total=total, cap=inbox.LIST_CAP, f=f, args=args,
                           pages=max(1, -(-min(total, inbox.LIST_CAP) // PER_PAGE)), orders=order_rows,
                           can_scope=user.role in inbox.SCOPE_ROLES)
