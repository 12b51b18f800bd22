"""Supervision notices (电子监察): the clerk is warned and the supervisors are told at the same moment."""
from __future__ import annotations

import time
import weakref
from datetime import datetime

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased, joinedload, lazyload, selectinload

from app import clock
from app.db_batch import insert_after_flush
from app.audit import service as audit
from app.cases import ratings
from app.cases.models import OPEN_STATUSES, Case
from app.errors import Forbidden, NotFound
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User

from . import outbox
from .models import NoticeRecipient, SupervisionNotice
from .reasons import Reason


def raise_notice(session: Session, *, case, org: OrgUnit, clerks: list[User], task_bpmn_id: str | None,
                 level: str, reason: Reason, source_key: str, detail: dict,
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
    supervisors = _supervisors_involved(session, case, org)
    notice = SupervisionNotice(case_id=case.id, org_unit_id=case.org_unit_id, task_bpmn_id=task_bpmn_id, level=level,
                               **_because(reason), source_key=source_key, created_at=clock.now())
    session.add(notice)
    _address(session, notice, [(u, "clerk") for u in clerks] + [(u, "supervisor") for u in supervisors])
    outbox.enqueue(session, notice, clerks + supervisors, channels)
    audit.record(session, audit.case_stream(case.id), "notice_created", "system", case_id=case.id,
                 task_bpmn_id=task_bpmn_id,
                 detail={**detail, "source_key": source_key, "level": level, "reason": reason.text(),
                         "recipients": [u.username for u in clerks + supervisors]})
    return notice


def _supervisors_involved(session: Session, case, org: OrgUnit) -> list[User]:
    """The supervisors in scope of the case's unit and of every unit holding one of its steps (an `ORG:POST`
    lane: a street accepting for a department, 并联审批) — each unit's supervisors watch their own steps.
    The units come from the task rows the action already holds; each unit's supervisors once per transaction."""
    units = {org.id: org}
    for unit_id in {t.org_unit_id for t in case.tasks} - {org.id}:
        unit = session.get(OrgUnit, unit_id)
        if unit is not None:
            units[unit_id] = unit
    found: dict[int, User] = {}
    for unit in units.values():
        for user in orgs.users_in_scope(session, unit, "supervisor"):
            found.setdefault(user.id, user)
    return list(found.values())


def _because(reason: Reason) -> dict:
    """The notice's columns for why it was raised: the Chinese sentence, and its key and parameters."""
    return {"reason": reason.text(), "reason_key": reason.key, "reason_params": reason.params}


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


def raise_system_notice(session: Session, *, level: str, reason: Reason, source_key: str, recipients: list[User],
                        detail: dict, channels: tuple[str, ...]) -> SupervisionNotice | None:
    """A district-wide notice (no case), e.g. to the admins; None if already raised.

    Raised from inside ordinary case actions (accepting a case, resuming it), so a second transaction that
    raced to raise the same one must not fail the clerk's action: the insert runs in a savepoint.
    """
    if _already_raised(session, source_key):
        return None
    notice = SupervisionNotice(case_id=None, task_bpmn_id=None, level=level, **_because(reason),
                               source_key=source_key, created_at=clock.now())
    try:
        with session.begin_nested():
            session.add(notice)
            session.flush()
    except IntegrityError:
        return None
    _address(session, notice, [(u, u.role) for u in recipients])
    outbox.enqueue(session, notice, recipients, channels)
    audit.record(session, orgs.REGISTRY, "notice_created", "system",
                 detail={**detail, "source_key": source_key, "level": level, "reason": reason.text(),
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
    wide = viewer.role in ("supervisor", "admin")
    params = {"viewer": viewer.id, **({"path": viewer.org_unit.path} if wide else {})}
    if case_id is not None:  # every case response asks this: built once (issue 14)
        return list(session.scalars(_CASE_NOTICES[wide], {**params, "case_id": case_id}).unique())
    return list(session.scalars(_NOTICES[wide], params).unique())


# A notice shows its recipients by name: their users come without their posts (one query less per answer).
# A case has few notices, so its list joins their recipients in (one statement for every case response); a
# person's whole list reads them in a second query instead of repeating each notice per recipient.
def _recipients_by_name(loader):
    return loader(SupervisionNotice.recipients).joinedload(NoticeRecipient.user).lazyload(User.posts)


def _notices_seen(wide: bool):
    """The notices a viewer sees, oldest first; a supervisor or admin (`wide`) those of cases under the org unit
    path `:path` plus the district-wide ones (no case) addressed to them, anyone else those addressed to them."""
    query = select(SupervisionNotice).order_by(SupervisionNotice.id)
    if wide:
        mine = select(NoticeRecipient.notice_id).where(NoticeRecipient.user_id == bindparam("viewer"))
        return query.outerjoin(Case, Case.id == SupervisionNotice.case_id) \
            .outerjoin(OrgUnit, OrgUnit.id == Case.org_unit_id) \
            .where(or_(OrgUnit.path.startswith(bindparam("path")), SupervisionNotice.id.in_(mine)))
    return query.join(NoticeRecipient, NoticeRecipient.notice_id == SupervisionNotice.id) \
        .where(NoticeRecipient.user_id == bindparam("viewer"))


_NOTICES = {wide: _notices_seen(wide).options(_recipients_by_name(selectinload)) for wide in (False, True)}
_CASE_NOTICES = {wide: _notices_seen(wide).where(SupervisionNotice.case_id == bindparam("case_id"))
                 .options(_recipients_by_name(joinedload)) for wide in (False, True)}


PAGE_MAX = 200  # rows in one answer of a list, whoever asks


def district_wide_to(viewer: User):
    """The ids of the district-wide notices (no case, so no department) addressed to the viewer: what a
    supervisor sees beyond their scope. Few rows, found through the case_id index (NULL), so a scope that holds
    a million notices is never matched against every notice ever addressed to them."""
    wide = aliased(SupervisionNotice)
    return (select(wide.id).join(NoticeRecipient, and_(NoticeRecipient.notice_id == wide.id,
                                                       NoticeRecipient.user_id == viewer.id))
            .where(wide.case_id.is_(None)))


def notices_page(session: Session, viewer: User, *, case_id: int | None = None, after: int = 0,
                 limit: int = PAGE_MAX) -> tuple[list, dict[int, list[tuple]], bool]:
    """One page of the notices the viewer sees (as notices_for), oldest first from just after the notice id
    `after` (a keyset cursor: the page costs the same however deep it is): rows of the notice's columns and its
    case number (`case_no`); their recipients by notice id as (user id, username, as, acknowledged at) in their
    order; and whether more follow. The scope is a join on the notice's own department, never a list of case
    ids; a page of two hundred is read as plain rows (two queries), not as objects with their relationships."""
    limit = min(limit, PAGE_MAX)
    query = (select(*_PAGE_COLUMNS).outerjoin(Case, Case.id == SupervisionNotice.case_id)
             .where(SupervisionNotice.id > after).order_by(SupervisionNotice.id).limit(limit + 1))
    if case_id is not None:
        query = query.where(SupervisionNotice.case_id == case_id)
    if viewer.role in ("supervisor", "admin"):  # plus district-wide notices (no case) addressed to them
        query = query.outerjoin(OrgUnit, OrgUnit.id == SupervisionNotice.org_unit_id).where(
            or_(OrgUnit.path.startswith(viewer.org_unit.path), SupervisionNotice.id.in_(district_wide_to(viewer))))
    else:
        query = query.join(NoticeRecipient, and_(NoticeRecipient.notice_id == SupervisionNotice.id,
                                                 NoticeRecipient.user_id == viewer.id))
    rows = list(session.execute(query))
    more, rows = len(rows) > limit, rows[:limit]
    recipients: dict[int, list[tuple]] = {r.id: [] for r in rows}
    if rows:
        for notice_id, *entry in session.execute(_RECIPIENTS, {"ids": list(recipients)}):
            recipients[notice_id].append(tuple(entry))
    return rows, recipients, more


_PAGE_COLUMNS = (SupervisionNotice.id, SupervisionNotice.task_bpmn_id, SupervisionNotice.level, SupervisionNotice.reason,
                 SupervisionNotice.reason_key, SupervisionNotice.reason_params, SupervisionNotice.created_at,
                 SupervisionNotice.source_key, SupervisionNotice.resolved_at, Case.case_no)
_RECIPIENTS = (select(NoticeRecipient.notice_id, NoticeRecipient.user_id, User.username, NoticeRecipient.as_role,
                      NoticeRecipient.acknowledged_at).join(User, User.id == NoticeRecipient.user_id)
               .where(NoticeRecipient.notice_id.in_(bindparam("ids", expanding=True))).order_by(NoticeRecipient.id))


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
    cards; and notices raised per month (by level) over the last `months` months, in `tz`. Counted in SQL (one
    grouped query over ix_cases_org_stats, which covers it, and one indexed count per month), never by reading
    the cases."""
    in_scope = OrgUnit.path.startswith(viewer.org_unit.path)
    completed = Case.status == "completed"
    on_time = and_(completed, or_(Case.promised_due_at.is_(None), Case.completed_at <= Case.promised_due_at))
    carded = and_(Case.status.in_(OPEN_STATUSES), Case.card != "none")
    units = select(OrgUnit.id).where(in_scope).scalar_subquery()
    counted = (select(Case.org_unit_id, func.count().label("n"), func.count().filter(completed).label("done"),
                      func.count().filter(on_time).label("timely"), func.count().filter(carded).label("cards"))
               .where(Case.org_unit_id.in_(units)).group_by(Case.org_unit_id).subquery())
    rows = session.execute(
        select(OrgUnit.id, OrgUnit.code, OrgUnit.name, counted.c.n, counted.c.done, counted.c.timely, counted.c.cards)
        .join(counted, counted.c.org_unit_id == OrgUnit.id).order_by(OrgUnit.code))
    departments = [{"org_id": org_id, "code": code, "name": name, "cases": n, "completed": done, "on_time": timely,
                    "cards": cards, "on_time_rate": round(100 * timely / done) if done else None}
                   for org_id, code, name, n, done, timely, cards in rows]
    now = clock.now().astimezone(tz)
    out = []
    y, m = now.year, now.month
    for _ in range(months):
        start = datetime(y, m, 1, tzinfo=tz)
        end = datetime(y + (m == 12), m % 12 + 1, 1, tzinfo=tz)
        counts = dict(session.execute(
            select(SupervisionNotice.level, func.count())
            .where(SupervisionNotice.org_unit_id.in_(units), SupervisionNotice.created_at >= start,
                   SupervisionNotice.created_at < end).group_by(SupervisionNotice.level)).tuples().all())
        out.append({"month": f"{y:04d}-{m:02d}", **{lvl: counts.get(lvl, 0) for lvl in ("warning", "yellow", "red")}})
        y, m = (y - 1, 12) if m == 1 else (y, m - 1)
    return {"departments": departments, "months": list(reversed(out))}


# Statistics are kept STATISTICS_KEPT seconds when they took longer than SLOW_STATISTICS to count, or when their
# scope holds more than BIG_SCOPE cases (a big district's department: a scan of tens of thousands of index
# entries, on every board page otherwise).
SLOW_STATISTICS = 0.05  # seconds
BIG_SCOPE = 10_000
STATISTICS_KEPT = 60.0
_kept: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # per engine: a new app never sees another's


def statistics(session: Session, viewer: User, tz, months: int = 6) -> dict:
    """The district statistics of the viewer's scope: `overview`, with the 好差评 average of each department, and
    `as_of`, when they were counted.

    Counted in SQL (GROUP BY over an index that covers them), which for a million-case district is still a scan
    of a million index entries (about a second on two cores); so figures that took longer than SLOW_STATISTICS
    are kept for STATISTICS_KEPT seconds (wall time) per scope and served from there, saying when they were
    counted; so are those of a scope of more than BIG_SCOPE cases, however fast they were counted this time (a
    department's take 10–30 ms at a million cases, which the board page would otherwise spend on every request).
    A small district is counted afresh every time."""
    kept = _kept.setdefault(session.get_bind(), {})
    key = (viewer.org_unit.path, months, str(tz))
    hit = kept.get(key)
    if hit is not None and time.monotonic() < hit[0] + STATISTICS_KEPT:
        return hit[1]
    started = time.monotonic()
    out = {**_statistics(session, viewer, tz, months), "as_of": clock.now()}
    if time.monotonic() - started > SLOW_STATISTICS or sum(d["cases"] for d in out["departments"]) > BIG_SCOPE:
        kept[key] = (started, out)
    return out


def _statistics(session: Session, viewer: User, tz, months: int) -> dict:
    out = overview(session, viewer, tz, months)
    scope = select(OrgUnit.id).where(OrgUnit.path.startswith(viewer.org_unit.path)).scalar_subquery()
    rated = ratings.averages_by_department(session, scope)
    for d in out["departments"]:
        avg, n = rated.get(d["org_id"], (None, 0))
        d["rating"] = (avg, n) if n else None
    return out
