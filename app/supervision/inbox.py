"""What waits for a person: their notices (paged, newest first), the unread count and the open 督办 orders.

Everything here is one indexed SQL query with a LIMIT: the header asks for the counts on every page, and a
district supervisor's scope holds every notice of a million cases. Counts are capped (the header shows "99+",
a list "10000+") so that asking never costs more than reading that many index entries.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import Session

from app.cases.models import Case
from app.catalog.models import PowerItem
from app.orgs.models import OrgUnit, User

from . import service
from .models import NoticeRecipient, SupervisionNotice, SupervisionOrder

BADGE_CAP = 99  # the header's counts: "99+" beyond
LIST_CAP = 10_000  # a list's total: "10000+" beyond
SCOPE_ROLES = ("supervisor", "admin")


def _capped(session: Session, query, cap: int) -> int:
    return session.scalar(select(func.count()).select_from(query.limit(cap + 1).subquery()))


def unread_count(session: Session, viewer: User) -> int:
    """Notices addressed to the viewer and not yet acknowledged (at most BADGE_CAP + 1)."""
    query = select(NoticeRecipient.id).where(NoticeRecipient.user_id == viewer.id,
                                             NoticeRecipient.acknowledged_at.is_(None))
    return _capped(session, query, BADGE_CAP)


def _orders_in_view(viewer: User):
    """Orders the viewer follows: a supervisor's scope, a clerk's own department (as orders.listing)."""
    query = select(SupervisionOrder.id)
    if viewer.role in SCOPE_ROLES:
        return query.join(OrgUnit, OrgUnit.id == SupervisionOrder.org_unit_id).where(
            OrgUnit.path.startswith(viewer.org_unit.path))
    return query.where(SupervisionOrder.org_unit_id == viewer.org_unit_id)


def open_orders_count(session: Session, viewer: User) -> int:
    """督办 orders not closed yet that the viewer follows (at most BADGE_CAP + 1)."""
    if viewer.role not in (*SCOPE_ROLES, "clerk"):
        return 0
    return _capped(session, _orders_in_view(viewer).where(SupervisionOrder.status != "closed"), BADGE_CAP)


@dataclass(frozen=True)
class Filter:
    everything_in_scope: bool = False  # a supervisor's board: every notice of the scope, not only those to them
    unread: bool = False  # only those the viewer has not acknowledged (their own inbox)
    department: str | None = None  # an org unit's code
    item_code: str | None = None
    page: int = 1
    per_page: int = 50


def notices(session: Session, viewer: User, f: Filter) -> tuple[list[tuple[SupervisionNotice, str | None]], int]:
    """One page of notices, newest first, each with its case number; and the total (at most LIST_CAP + 1)."""
    base, parts = _seen_by(viewer, f)
    total = min(sum(_capped(session, _narrowed(base.where(part), f), LIST_CAP) for part in parts), LIST_CAP + 1)
    query = _narrowed(base.where(or_(*parts)), f)
    ids = list(session.scalars(query.order_by(SupervisionNotice.id.desc())
                               .offset((f.page - 1) * f.per_page).limit(f.per_page)))
    if not ids:
        return [], total
    rows = session.execute(select(SupervisionNotice, Case.case_no)
                           .outerjoin(Case, Case.id == SupervisionNotice.case_id)
                           .where(SupervisionNotice.id.in_(ids)).order_by(SupervisionNotice.id.desc()))
    return [(n, case_no) for n, case_no in rows], total


def _seen_by(viewer: User, f: Filter):
    """The notices the viewer may list: a query and its disjoint conditions, counted one by one (a count over
    their OR would visit every notice): a supervisor's scope by the notice's department, and the district-wide
    notices (no department) addressed to them; anyone else's own inbox."""
    query = select(SupervisionNotice.id)
    if f.everything_in_scope and viewer.role in SCOPE_ROLES:
        units = select(OrgUnit.id).where(OrgUnit.path.startswith(viewer.org_unit.path)).scalar_subquery()
        return query, [SupervisionNotice.org_unit_id.in_(units),
                       SupervisionNotice.id.in_(service.district_wide_to(viewer))]
    mine = and_(NoticeRecipient.notice_id == SupervisionNotice.id, NoticeRecipient.user_id == viewer.id)
    query = query.join(NoticeRecipient, mine)
    return query, [NoticeRecipient.acknowledged_at.is_(None) if f.unread else true()]


def _narrowed(query, f: Filter):
    if f.department:
        query = query.where(SupervisionNotice.org_unit_id == select(OrgUnit.id).where(
            OrgUnit.code == f.department).scalar_subquery())
    if f.item_code:
        query = query.join(Case, Case.id == SupervisionNotice.case_id).join(
            PowerItem, PowerItem.id == Case.item_id).where(PowerItem.code == f.item_code)
    return query
