"""Finding a case (staff case search): by its number, or its applicant's name, ID number or phone, with filters,
newest first, paged in SQL — only cases the viewer may see, exactly like the case view (their org unit and below).

`q` matches the case number exactly, the applicant's name by its beginning (张三 finds 张三丰), and an ID number
or phone exactly: each has its own index, so a search at a million cases reads only what matches. An ID number
is never matched by a part of it: a search box must not become a way to enumerate people.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.catalog.models import PowerItem
from app.errors import Invalid
from app.orgs.models import OrgUnit, User
from .clocks import RANK
from .models import CASE_STATUSES, Case

CARDS = tuple(RANK)  # none | warning | yellow | red

MAX_Q = 100
MAX_PER_PAGE = 200
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True)
class Query:
    q: str | None = None
    status: str | None = None
    item_code: str | None = None
    card: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    page: int = 1
    per_page: int = 20


def parse(args, max_per_page: int = MAX_PER_PAGE) -> Query:
    """The search's parameters from a request's args, each checked (422 naming it); `%`, `_` are plain text."""
    q = (args.get("q") or "").strip()
    if len(q) > MAX_Q or "\x00" in q:
        raise Invalid(f"q must be at most {MAX_Q} characters", details=[{"field": "q"}])
    status, card = args.get("status") or None, args.get("card") or None
    if status is not None and status not in CASE_STATUSES:
        raise Invalid(f"status must be one of {', '.join(CASE_STATUSES)}", details=[{"field": "status"}])
    if card is not None and card not in CARDS:
        raise Invalid(f"card must be one of {', '.join(CARDS)}", details=[{"field": "card"}])
    item_code = (args.get("item_code") or "").strip() or None
    if item_code is not None and len(item_code) > 64:
        raise Invalid("item_code is at most 64 characters", details=[{"field": "item_code"}])
    return Query(q or None, status, item_code, card, _day(args, "from"), _day(args, "to"),
                 _whole(args, "page", 1, 100000), _whole(args, "per_page", 20, max_per_page, default=20))


def _day(args, field: str) -> date | None:
    raw = (args.get(field) or "").strip()
    if not raw:
        return None
    try:
        if not _DAY.fullmatch(raw):
            raise ValueError
        return date.fromisoformat(raw)
    except ValueError:
        raise Invalid(f"{field} must be a date (YYYY-MM-DD)", details=[{"field": field}]) from None


def _whole(args, field: str, low: int, high: int, default: int | None = None) -> int:
    raw = args.get(field)
    if raw in (None, ""):
        return default if default is not None else low
    if not str(raw).isdigit() or not 1 <= int(raw) <= high:
        raise Invalid(f"{field} must be a whole number from 1 to {high}", details=[{"field": field}])
    return int(raw)


def _matching(q: str):
    prefix = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return or_(Case.case_no == q, Case.applicant_id_number == q, Case.applicant_phone == q,
               Case.applicant_name.like(prefix, escape="\\"))


def find(session: Session, viewer: User, query: Query, tz) -> tuple[list, int]:
    """(rows, total): rows are (case, item code, item name), newest first; only the viewer's scope."""
    units = select(OrgUnit.id).where(OrgUnit.path.startswith(viewer.org_unit.path)).scalar_subquery()
    where = [Case.org_unit_id.in_(units)]
    if query.q:
        where.append(_matching(query.q))
    if query.status:
        where.append(Case.status == query.status)
    if query.card:
        where.append(Case.card == query.card)
    if query.item_code:
        where.append(PowerItem.code == query.item_code)
    if query.date_from:
        where.append(Case.created_at >= datetime.combine(query.date_from, time(0), tz))
    if query.date_to:
        where.append(Case.created_at < datetime.combine(query.date_to + timedelta(days=1), time(0), tz))
    # Counted on the case rows' indexes alone (ix_cases_org_stats, ix_cases_org_created): the item is joined
    # only when the query names one, so a district's exact total reads index entries, never a case row.
    base = select(Case.id).where(*where)
    if query.item_code:
        base = base.join(PowerItem, PowerItem.id == Case.item_id)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        select(Case.case_no, PowerItem.code, PowerItem.name, Case.status, Case.card, Case.created_at,
               Case.applicant_name)
        .join(PowerItem, PowerItem.id == Case.item_id).where(*where)
        .order_by(Case.created_at.desc(), Case.id.desc())
        .offset((query.page - 1) * query.per_page).limit(query.per_page)).all()
    return rows, total


# --- the acceptance form's item picker ------------------------------------------------------------------------
RECENT_DAYS = 90  # "most used" means by the unit's acceptances of the last three months


def items_to_accept(session: Session, clerk: User, limit: int = 1000) -> list[tuple[str, str]]:
    """(code, name) of the active items a clerk's unit accepts, most accepted there lately first, then by code.
    Counted from the (org unit, created at, item) index alone: no case row is read."""
    since = clock.now() - timedelta(days=RECENT_DAYS)
    used = (select(Case.item_id, func.count().label("n"))
            .where(Case.org_unit_id == clerk.org_unit_id, Case.created_at >= since)
            .group_by(Case.item_id).subquery())
    rows = session.execute(
        select(PowerItem.code, PowerItem.name)
        .outerjoin(used, used.c.item_id == PowerItem.id)
        .where(PowerItem.org_unit_id == clerk.org_unit_id, PowerItem.status == "active")
        .order_by(func.coalesce(used.c.n, 0).desc(), PowerItem.code).limit(limit))
    return [(code, name) for code, name in rows]
