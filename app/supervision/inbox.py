"""What waits for a person: their notices (paged, newest first), the unread count and the open 督办 orders.

Everything here is one indexed SQL query with a LIMIT: the header asks for the counts on every page, and a
district supervisor's scope holds every notice of a million cases. Counts are capped (the header shows "99+",
a list "10000+") so that asking never costs more than reading that many index entries.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, bindparam, func, or_, select, true
from sqlalchemy.orm import Session, aliased

from app.cases.models import Case
from app.catalog.models import PowerItem
from app.orgs.models import OrgUnit, User

from . import service
from .models import NoticeRecipient, SupervisionNotice, SupervisionOrder

BADGE_CAP = 99  # the header's counts: "99+" beyond
LIST_CAP = 10_000  # a list's total: "10000+" beyond
SCOPE_ROLES = ("supervisor", "admin")


def _capped_count(query, cap: int):
    """`query`'s rows counted up to cap + 1, as a scalar subquery (several counts go in one statement)."""
    return select(func.count()).select_from(query.limit(cap + 1).subquery()).scalar_subquery()


def badge_counts(session: Session, user_id: int, role: str, org_unit_id: int, org_path: str) -> tuple[int, int]:
    """The header's two counts (at most BADGE_CAP + 1 each) in one statement: notices addressed to the user and
    not yet acknowledged, and the 督办 orders not closed yet that they follow (a supervisor's or admin's scope,
    a clerk's own department; nobody else follows orders). Given as ids, so the header never loads the user the
    page has just checked."""
    unread = _capped_count(select(NoticeRecipient.id).where(NoticeRecipient.user_id == user_id,
                                                            NoticeRecipient.acknowledged_at.is_(None)), BADGE_CAP)
    if role not in (*SCOPE_ROLES, "clerk"):
        return session.scalar(select(unread)), 0
    orders = _capped_count(_orders_in_view(role, org_unit_id, org_path)
                           .where(SupervisionOrder.status != "closed"), BADGE_CAP)
    notices, followed = session.execute(select(unread, orders)).one()
    return notices, followed


def _orders_in_view(role: str, org_unit_id: int, org_path: str):
    """Orders the viewer follows: a supervisor's scope, a clerk's own department (as orders.listing)."""
    query = select(SupervisionOrder.id)
    if role in SCOPE_ROLES:
        return query.join(OrgUnit, OrgUnit.id == SupervisionOrder.org_unit_id).where(OrgUnit.path.startswith(org_path))
    return query.where(SupervisionOrder.org_unit_id == org_unit_id)


@dataclass(frozen=True)
class Filter:
    everything_in_scope: bool = False  # a supervisor's board: every notice of the scope, not only those to them
    unread: bool = False  # only those the viewer has not acknowledged (their own inbox)
    department: str | None = None  # an org unit's code
    item_code: str | None = None
    page: int = 1
    per_page: int = 50


def notices(session: Session, viewer: User, f: Filter) -> tuple[list, int]:
    """One page of notices, newest first, as rows of plain columns (id, level, reason, reason_key, reason_params,
    created_at, resolved_at, case_no, and the viewer's own inbox entry: my_entry, my_ack, None when not addressed
    to them); and the total (at most LIST_CAP + 1)."""
    base, parts, key = _seen_by(viewer, f)
    counts = session.execute(select(*(_capped_count(_narrowed(base.where(part), f), LIST_CAP) for part in parts))).one()
    total = min(sum(counts), LIST_CAP + 1)  # each part counted on its own index, all in one statement
    query = _narrowed(base.where(or_(*parts)), f)
    ids = list(session.scalars(query.order_by(key.desc()).offset((f.page - 1) * f.per_page).limit(f.per_page)))
    if not ids:
        return [], total
    return list(session.execute(_ROWS, {"ids": ids, "viewer": viewer.id})), total


_MINE = aliased(NoticeRecipient)
_ROWS = (select(SupervisionNotice.id, SupervisionNotice.level, SupervisionNotice.reason, SupervisionNotice.reason_key,
                SupervisionNotice.reason_params, SupervisionNotice.created_at, SupervisionNotice.resolved_at,
                Case.case_no, _MINE.id.label("my_entry"), _MINE.acknowledged_at.label("my_ack"))
         .outerjoin(Case, Case.id == SupervisionNotice.case_id)
         .outerjoin(_MINE, and_(_MINE.notice_id == SupervisionNotice.id, _MINE.user_id == bindparam("viewer")))
         .where(SupervisionNotice.id.in_(bindparam("ids", expanding=True))).order_by(SupervisionNotice.id.desc()))


def _seen_by(viewer: User, f: Filter):
    """The notices the viewer may list: a query of their ids, its disjoint conditions, counted one by one (a
    count over their OR would visit every notice), and the id column to order by: a supervisor's scope by the
    notice's department, and the district-wide notices (no department) addressed to them; anyone else's own
    inbox — read from the inbox index alone unless a filter needs the notice (joined to it, the planner read
    every notice to count a supervisor's seven thousand)."""
    if f.everything_in_scope and viewer.role in SCOPE_ROLES:
        units = select(OrgUnit.id).where(OrgUnit.path.startswith(viewer.org_unit.path)).scalar_subquery()
        return select(SupervisionNotice.id), [SupervisionNotice.org_unit_id.in_(units),
                                              SupervisionNotice.id.in_(service.district_wide_to(viewer))], \
            SupervisionNotice.id
    state = NoticeRecipient.acknowledged_at.is_(None) if f.unread else true()
    if not f.department and not f.item_code:
        return select(NoticeRecipient.notice_id).where(NoticeRecipient.user_id == viewer.id), [state], \
            NoticeRecipient.notice_id
    mine = and_(NoticeRecipient.notice_id == SupervisionNotice.id, NoticeRecipient.user_id == viewer.id)
    return select(SupervisionNotice.id).join(NoticeRecipient, mine), [state], SupervisionNotice.id


def _narrowed(query, f: Filter):
    if f.department:
        query = query.where(SupervisionNotice.org_unit_id == select(OrgUnit.id).where(
            OrgUnit.code == f.department).scalar_subquery())
    if f.item_code:
        query = query.join(Case, Case.id == SupervisionNotice.case_id).join(
            PowerItem, PowerItem.id == Case.item_id).where(PowerItem.code == f.item_code)
    return query
