"""The small marks every list row shows (a card, a status, the days left, the clock's state, a case's address),
built in Python once per row.

The long lists (the worklist, the board) show them on every one of a hundred rows; a Jinja macro call costs
several times a Python call, and url_for a route lookup per row, which was a third of such a page's time. The
macros of the same names in templates/web/macros.html call these, so the markup has one source.
"""
from __future__ import annotations

from urllib.parse import quote

from flask import g, url_for
from markupsafe import Markup, escape

from .i18n import _, label


def card_badge(card: str) -> Markup:
    return Markup(f'<span class="badge card-{escape(card)}">{escape(label("card", card))}</span>')


def status_badge(status: str) -> Markup:
    return Markup(f'<span class="badge st-{escape(status)}">{escape(label("status", status))}</span>')


def days(n: int, unit: str = "working") -> str:
    return _("%(n)s 个工作日", n=n) if unit == "working" else _("%(n)s 日", n=n)


def days_left(n: int | None, unit: str = "working") -> Markup:
    if n is None:
        return Markup("—")
    if n < 0:
        return Markup(f'<span class="overdue">{escape(_("已超期"))}</span>')
    return escape(days(n, unit))


def clock_marks(row) -> Markup:
    """A stopped clock, a clock not started yet (before 受理), a provisional deadline: what a row's days mean."""
    out = []
    if row.get("status") == "suspended":
        out.append(f'<span class="badge st-suspended">{escape(_("暂停计时中"))}</span>')
    if "started" in row and not row["started"]:
        out.append(f'<span class="badge st-waiting" title="{escape(_("受理（立案）后开始计时"))}">'
                   f'{escape(_("未起算"))}</span>')
    if row.get("provisional"):
        out.append(f'<span class="badge provisional" title="{escape(_("期限延伸到尚未录入工作日历的年份，暂按周末推算"))}">'
                   f'{escape(_("临时期限"))}</span>')
    return Markup(" ".join(out))


def case_url(case_no: str) -> str:
    """url_for("web.case_page", case_no=…), the route looked up once per request: the rest is the number, quoted
    as the route's converter quotes it."""
    base = g.get("case_url_base")
    if base is None:
        base = g.case_url_base = url_for("web.case_page", case_no="~")[:-1]
    return base + quote(str(case_no), safe="!$&'()*+,/:;=@")


GLOBALS = {"card_badge_html": card_badge, "status_badge_html": status_badge, "days_text": days,
           "days_left_html": days_left, "clock_marks_html": clock_marks, "case_url": case_url}
