"""Supervision notices (电子监察): the clerk is warned and the supervisors are told at the same moment."""
from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.db_batch import insert_after_flush
from app.audit import service as audit
from app.cases.models import Case
from app.errors import Forbidden, NotFound
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User

from . import outbox
from .models import NoticeRecipient, SupervisionNotice


def raise_notice(session: Session, *, case, org: OrgUnit, clerks: list[User], task_bpmn_id: str | None,
                 level: str, reason: str, source_key: str, detail: dict,
                 channels: tuple[str, ...]) -> SupervisionNotice | None:
    """One notice to the clerks and the supervisors in scope at the same moment; None if already raised.

    The unique source_key makes every signal notify once, even if two workers raced to raise it; the audit
    event names the notice by that key, so nothing here needs the row's id and the notice is written with
    the rest of the action at its flush (the worker writes a whole batch of cases in one flush).
    `channels` are the outbox channels beyond the inbox (Settings.notice_channels); required, so that no
    caller can silently skip the mail.
    """
    if _already_raised(session, source_key, case.id):
        return None
    supervisors = orgs.users_in_scope(session, org, "supervisor")
    notice = SupervisionNotice(case_id=case.id, org_unit_id=case.org_unit_id, task_bpmn_id=task_bpmn_id, level=level,
                               reason=reason,
                               source_key=source_key, created_at=clock.now())
    session.add(notice)
    _address(session, notice, [(u, "clerk") for u in clerks] + [(u, "supervisor") for u in supervisors])
    outbox.enqueue(session, notice, clerks + supervisors, channels)
    audit.record(session, audit.case_stream(case.id), "notice_created", "system", case_id=case.id,
                 task_bpmn_id=task_bpmn_id,
                 detail={**detail, "source_key": source_key, "level": level, "reason": reason,
                         "recipients": [u.username for u in clerks + supervisors]})
    return notice


def _address(session: Session, notice: SupervisionNotice, recipients: list[tuple[User, str]]) -> None:
    """The notice's inbox entries, written right after the notice itself (they need its id)."""
    for user, as_role in recipients:
        insert_after_flush(session, NoticeRecipient.__table__,
                           lambda user_id=user.id, as_role=as_role: {"notice_id": notice.id, "user_id": user_id,
                                                                     "as_role": as_role, "acknowledged_at": None})


def remember_raised(session: Session, case_ids: list[int]) -> None:
    """Read the source keys of every notice of these (locked) cases in one query, so raising a batch's
    notices asks nothing more. Complete for them: a case's notices are only ever raised under its lock."""
    raised = session.info.setdefault("notice_keys", set())
    known = session.info.setdefault("notice_keys_of_cases", set())
    wanted = set(case_ids) - known
    if wanted:
        raised.update(session.scalars(select(SupervisionNotice.source_key)
                                      .where(SupervisionNotice.case_id.in_(sorted(wanted)))))
        known.update(wanted)


def _already_raised(session: Session, source_key: str, case_id: int | None = None) -> bool:
    """Raised before (committed, or earlier in this transaction and maybe not flushed yet)."""
    raised = session.info.setdefault("notice_keys", set())
    if source_key in raised:
        return True
    raised.add(source_key)
    if case_id is not None and case_id in session.info.get("notice_keys_of_cases", ()):
        return False  # every committed key of this case is in `raised` already (remember_raised)
    return session.scalar(select(SupervisionNotice.id).where(SupervisionNotice.source_key == source_key)) is not None


def raise_system_notice(session: Session, *, level: str, reason: str, source_key: str, recipients: list[User],
                        detail: dict, channels: tuple[str, ...]) -> SupervisionNotice | None:
    """A district-wide notice (no case), e.g. to the admins; None if already raised.

    Raised from inside ordinary case actions (accepting a case, resuming it), so a second transaction that
    raced to raise the same one must not fail the clerk's action: the insert runs in a savepoint.
    """
    if _already_raised(session, source_key):
        return None
    notice = SupervisionNotice(case_id=None, task_bpmn_id=None, level=level, reason=reason, source_key=source_key,
                               created_at=clock.now())
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:
        return None
    _address(session, notice, [(u, u.role) for u in recipients])
    outbox.enqueue(session, notice, recipients, channels)
    audit.record(session, orgs.REGISTRY, "notice_created", "system",
                 detail={**detail, "source_key": source_key, "level": level, "reason": reason,
                         "recipients": [u.username for u in recipients]})
    return notice


def resolve(session: Session, source_key: str, actor_name: str, why: str) -> bool:
    """Mark a district-wide notice resolved once its condition went away (audited); False if none is open."""
    notice = session.scalar(select(SupervisionNotice).where(SupervisionNotice.source_key == source_key,
                                                            SupervisionNotice.resolved_at.is_(None)))
    if notice is None:
        return False
    notice.resolved_at = clock.now()
    audit.record(session, orgs.REGISTRY, "notice_resolved", actor_name,
                 detail={"source_key": source_key, "notice_id": notice.id, "why": why})
    return True


def notices_for(session: Session, viewer: User, case_id: int | None = None) -> list[SupervisionNotice]:
    """Supervisors (and admins) see notices of cases in their scope; everyone else sees their own."""
    query = select(SupervisionNotice).order_by(SupervisionNotice.id)
    if case_id is not None:
        query = query.where(SupervisionNotice.case_id == case_id)
    if viewer.role in ("supervisor", "admin"):  # plus district-wide notices (no case) addressed to them
        mine = select(NoticeRecipient.notice_id).where(NoticeRecipient.user_id == viewer.id)
        query = query.outerjoin(Case, Case.id == SupervisionNotice.case_id) \
            .outerjoin(OrgUnit, OrgUnit.id == Case.org_unit_id) \
            .where(or_(OrgUnit.path.startswith(viewer.org_unit.path), SupervisionNotice.id.in_(mine)))
    else:
        query = query.join(NoticeRecipient, NoticeRecipient.notice_id == SupervisionNotice.id) \
            .where(NoticeRecipient.user_id == viewer.id)
    return list(session.scalars(query).unique())


def acknowledge(session: Session, viewer: User, notice_id: int) -> SupervisionNotice:
    notice = session.get(SupervisionNotice, notice_id)
    if notice is None:
        raise NotFound(f"no notice {notice_id}")
    mine = next((r for r in notice.recipients if r.user_id == viewer.id), None)
    if mine is None:
        raise Forbidden("only a recipient can acknowledge a notice")
    if mine.acknowledged_at is None:
        mine.acknowledged_at = clock.now()
        stream = audit.case_stream(notice.case_id) if notice.case_id else orgs.REGISTRY  # district-wide: no case
        audit.record(session, stream, "notice_acknowledged", viewer.username,
                     case_id=notice.case_id, task_bpmn_id=notice.task_bpmn_id, detail={"notice_id": notice.id})
    return notice


def overview(session: Session, viewer: User, tz, months: int = 6) -> dict:
    """Per department in the viewer's scope: cases, completed, completed on time (by the promised limit), open
    cards; and notices raised per month (by level) over the last `months` months, in `tz`."""
    in_scope = OrgUnit.path.startswith(viewer.org_unit.path)
    depts: dict[int, dict] = {}
    rows = session.execute(select(OrgUnit.id, OrgUnit.code, OrgUnit.name, Case.status, Case.card, Case.completed_at,
                                  Case.promised_due_at).join(OrgUnit, OrgUnit.id == Case.org_unit_id).where(in_scope))
    for org_id, code, name, status, card, completed_at, promised in rows:
        d = depts.setdefault(org_id, {"org_id": org_id, "code": code, "name": name, "cases": 0, "completed": 0,
                                      "on_time": 0, "cards": 0})
        d["cases"] += 1
        if status == "completed":
            d["completed"] += 1
            d["on_time"] += int(promised is None or (completed_at is not None and completed_at <= promised))
        elif card != "none":
            d["cards"] += 1
    for d in depts.values():
        d["on_time_rate"] = round(100 * d["on_time"] / d["completed"]) if d["completed"] else None
    now = clock.now().astimezone(tz)
    keys, y, m = [], now.year, now.month
    for _ in range(months):
        keys.append(f"{y:04d}-{m:02d}")
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    keys.reverse()
    per_month = {k: {"warning": 0, "yellow": 0, "red": 0} for k in keys}
    notices = session.execute(select(SupervisionNotice.created_at, SupervisionNotice.level)
                              .join(Case, Case.id == SupervisionNotice.case_id)
                              .join(OrgUnit, OrgUnit.id == Case.org_unit_id).where(in_scope))
    for created_at, level in notices:
        key = created_at.astimezone(tz).strftime("%Y-%m")
        if key in per_month and level in per_month[key]:
            per_month[key][level] += 1
    return {"departments": sorted(depts.values(), key=lambda d: d["code"]),
            "months": [{"month": k, **per_month[k]} for k in keys]}
