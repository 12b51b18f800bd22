"""督办 supervision orders: a supervisor instructs, the clerk replies, the supervisor closes or reopens.

An order that passes its rectification deadline while open escalates once: a red notice to the clerks of
the case and the supervisors in scope (and those above). Every step is audited on the case's stream.
"""
from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.cases.clocks import raise_card, schedule
from app.cases.models import Case
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User

from . import service as notices
from .deadlines import clerks_of_open_steps
from .models import OrderMessage, SupervisionNotice, SupervisionOrder
from .reasons import ORDER_OVERDUE, Reason

MAX_TEXT = 5000


def _text(value, field: str) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT:
        raise Invalid(f"{field} is required text (at most {MAX_TEXT} characters)", details=[{"field": field}])
    return value.strip()


def _order_no(session: Session, tz) -> str:
    day = clock.now().astimezone(tz).strftime("%Y%m%d")  # the district's date, like the case numbers
    while True:
        order_no = f"DB{day}-{secrets.randbelow(10**5):05d}"  # 督办编号
        if session.scalar(select(SupervisionOrder.id).where(SupervisionOrder.order_no == order_no)) is None:
            return order_no


def parse_due(raw, required: bool = True) -> datetime | None:
    """A rectification deadline as sent (API body or CLI option): ISO-8601 with its offset."""
    if raw is None and not required:
        return None
    try:
        value = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise Invalid("due_at must be an ISO-8601 time with its offset, e.g. 2026-12-01T17:00:00+08:00",
                      details=[{"field": "due_at"}])
    return value


def with_case(session: Session, viewer: User, order_id: int):
    """An order the viewer may see (locked) and its case, for one step on it (reply, close, reopen)."""
    order = get(session, viewer, order_id)
    return order, session.get(Case, order.case_id)


def refresh_due(session: Session, case) -> None:
    """Keep the case's order_due_at (the earliest open, not yet escalated deadline) for the one sweep."""
    session.flush()
    case.order_due_at = session.scalar(select(func.min(SupervisionOrder.due_at)).where(
        SupervisionOrder.case_id == case.id, SupervisionOrder.status != "closed",
        SupervisionOrder.escalated_at.is_(None)))
    schedule(case)


def unclosed(session: Session, case_id: int, but: int | None = None) -> str | None:
    """The number of the case's order that is not closed yet (apart from `but`), if any."""
    query = select(SupervisionOrder.order_no).where(SupervisionOrder.case_id == case_id,
                                                    SupervisionOrder.status != "closed")
    if but is not None:
        query = query.where(SupervisionOrder.id != but)
    return session.scalar(query.order_by(SupervisionOrder.id).limit(1))


def _one_at_a_time(session: Session, case_id: int, but: int | None = None) -> None:
    """One 督办 per case at a time: a second instruction goes on the open order (reopen it with a new deadline),
    so the clerk answers one thread and the deadline that escalates is never ambiguous."""
    pending = unclosed(session, case_id, but)
    if pending:
        raise Conflict(f"the case has a 督办 order that is not closed ({pending}): continue on that one",
                       code="case_has_open_order", details=[{"order_no": pending}])


def issue(session: Session, supervisor: User, case, notice_id, instruction, due_at: datetime, *,
          tz) -> SupervisionOrder:
    if supervisor.role != "supervisor":
        raise Forbidden("only supervisors issue 督办 orders")
    instruction = _text(instruction, "instruction")
    _one_at_a_time(session, case.id)
    if due_at <= clock.now():
        raise Invalid("due_at must be in the future", details=[{"field": "due_at"}])
    if notice_id is not None:
        notice = session.get(SupervisionNotice, notice_id) if isinstance(notice_id, int) else None
        if notice is None or notice.case_id != case.id:
            raise Invalid("notice_id must be a notice of this case", details=[{"field": "notice_id"}])
    now = clock.now()
    order = SupervisionOrder(order_no=_order_no(session, tz), case_id=case.id, org_unit_id=case.org_unit_id,
                             notice_id=notice_id, instruction=instruction,
                             due_at=due_at, status="open", issued_by_id=supervisor.id, issued_at=now)
    order.messages = [OrderMessage(author_id=supervisor.id, kind="issue", text=instruction, at=now)]
    session.add(order)
    session.flush()
    _record(session, order, "order_issued", supervisor.username, {"instruction": instruction,
                                                                  "due_at": due_at.isoformat()})
    refresh_due(session, case)
    return order


def _record(session: Session, order: SupervisionOrder, action: str, actor: str, detail: dict) -> None:
    audit.record(session, audit.case_stream(order.case_id), action, actor, case_id=order.case_id,
                 detail={"order_id": order.id, "order_no": order.order_no, **detail})


def get(session: Session, viewer: User, order_id: int) -> SupervisionOrder:
    order = session.scalar(select(SupervisionOrder).where(SupervisionOrder.id == order_id).with_for_update(
        of=SupervisionOrder))
    if order is None:
        raise NotFound(f"no order {order_id}")
    case = session.get(Case, order.case_id)
    if not orgs.can_see(viewer, session.get(OrgUnit, case.org_unit_id)):
        raise NotFound(f"no order {order_id}")
    return order


def reply(session: Session, clerk: User, order: SupervisionOrder, case, text) -> SupervisionOrder:
    if clerk.role != "clerk" or clerk.org_unit_id != case.org_unit_id:
        raise Forbidden("only a clerk of the case's department replies to its orders")
    if order.status == "closed":
        raise Conflict("the order is closed", code="order_closed")
    text = _text(text, "text")
    order.messages.append(OrderMessage(author_id=clerk.id, kind="reply", text=text, at=clock.now()))
    order.status = "replied"
    _record(session, order, "order_replied", clerk.username, {"text": text})
    return order


def close(session: Session, supervisor: User, order: SupervisionOrder, case, text) -> SupervisionOrder:
    if supervisor.role != "supervisor":
        raise Forbidden("only supervisors close orders")
    if order.status == "closed":
        raise Conflict("the order is closed already", code="order_closed")
    text = _text(text, "text")
    now = clock.now()
    order.messages.append(OrderMessage(author_id=supervisor.id, kind="close", text=text, at=now))
    order.status, order.closed_at = "closed", now
    _record(session, order, "order_closed", supervisor.username, {"text": text})
    refresh_due(session, case)
    return order


def reopen(session: Session, supervisor: User, order: SupervisionOrder, case, text,
           due_at: datetime | None) -> SupervisionOrder:
    """Back to open (the reply did not satisfy); a new deadline may be set, and it can escalate again."""
    if supervisor.role != "supervisor":
        raise Forbidden("only supervisors reopen orders")
    if order.status == "open":
        raise Conflict("the order is open already", code="order_open")
    text = _text(text, "text")
    _one_at_a_time(session, case.id, but=order.id)
    if due_at is not None:
        if due_at <= clock.now():
            raise Invalid("due_at must be in the future", details=[{"field": "due_at"}])
        order.due_at, order.escalated_at = due_at, None
    order.messages.append(OrderMessage(author_id=supervisor.id, kind="reopen", text=text, at=clock.now()))
    order.status, order.closed_at = "open", None
    _record(session, order, "order_reopened", supervisor.username, {"text": text, "due_at": order.due_at.isoformat()})
    refresh_due(session, case)
    return order


def listing(session: Session, viewer: User, status: str | None, case_id: int | None, *, after: int = 0,
            limit: int | None = None) -> list[SupervisionOrder]:
    """Supervisors see orders in their scope; clerks the orders on cases of their own department. Oldest first
    from just after the order id `after` (a keyset cursor), at most `limit`; the scope is a join on the order's
    own department (kept on the row), never a list of cases."""
    query = select(SupervisionOrder).where(SupervisionOrder.id > after).order_by(SupervisionOrder.id)
    if viewer.role in ("supervisor", "admin"):
        query = query.join(OrgUnit, OrgUnit.id == SupervisionOrder.org_unit_id).where(
            OrgUnit.path.startswith(viewer.org_unit.path))
    else:
        query = query.where(SupervisionOrder.org_unit_id == viewer.org_unit_id)
    if status:
        query = query.where(SupervisionOrder.status == status)
    if case_id is not None:
        query = query.where(SupervisionOrder.case_id == case_id)
    if limit is not None:
        query = query.limit(limit)
    return list(session.scalars(query))


def open_followed(session: Session, viewer: User, limit: int) -> list:
    """The orders not closed yet that the viewer follows (as listing), earliest deadline first, as rows of plain
    columns (id, order_no, status, instruction, due_at, case_no): what a list of them shows, no order objects."""
    query = (select(SupervisionOrder.id, SupervisionOrder.order_no, SupervisionOrder.status,
                    SupervisionOrder.instruction, SupervisionOrder.due_at, Case.case_no)
             .join(Case, Case.id == SupervisionOrder.case_id)
             .where(SupervisionOrder.status != "closed").order_by(SupervisionOrder.due_at, SupervisionOrder.id))
    if viewer.role in ("supervisor", "admin"):
        query = query.join(OrgUnit, OrgUnit.id == SupervisionOrder.org_unit_id).where(
            OrgUnit.path.startswith(viewer.org_unit.path))
    else:
        query = query.where(SupervisionOrder.org_unit_id == viewer.org_unit_id)
    return list(session.execute(query.limit(limit)))


def open_on_cases(session: Session, case_ids: list[int]) -> dict[int, tuple[int, str, str]]:
    """The open (not closed) order of each of a page of cases, by case id: (id, order_no, status); of a case
    with several, the one falling due first. One query for the page, whatever the orders of the scope."""
    if not case_ids:
        return {}
    rows = session.execute(select(SupervisionOrder.case_id, SupervisionOrder.id, SupervisionOrder.order_no,
                                  SupervisionOrder.status)
                           .where(SupervisionOrder.case_id.in_(case_ids), SupervisionOrder.status != "closed")
                           .order_by(SupervisionOrder.due_at.desc(), SupervisionOrder.id.desc()))
    return {case_id: (order_id, no, status) for case_id, order_id, no, status in rows}  # the earliest wins: last


def escalate_overdue(session: Session, case, now: datetime, *, channels: tuple[str, ...]) -> int:
    """Escalate (once) every open order of the case whose deadline has passed. Called by the timer worker."""
    if case.order_due_at is None or case.order_due_at > now:
        return 0
    due = session.scalars(select(SupervisionOrder).where(
        SupervisionOrder.case_id == case.id, SupervisionOrder.status != "closed",
        SupervisionOrder.escalated_at.is_(None), SupervisionOrder.due_at <= now)).all()
    org = session.get(OrgUnit, case.org_unit_id)
    for order in due:
        order.escalated_at = now
        order.messages.append(OrderMessage(author_id=None, kind="escalate", text="督办逾期未办结，已升级", at=now))
        notices.raise_notice(session, case=case, org=org, clerks=clerks_of_open_steps(session, case),
                             task_bpmn_id=None, level="red", reason=Reason(ORDER_OVERDUE, {"order_no": order.order_no}),
                             source_key=f"order:{order.id}:{order.due_at.isoformat()}",
                             detail={"kind": "order_overdue", "order_id": order.id}, channels=channels)
        _record(session, order, "order_escalated", "system", {"due_at": order.due_at.isoformat()})
        raise_card(case, "red")
    refresh_due(session, case)
    return len(due)
