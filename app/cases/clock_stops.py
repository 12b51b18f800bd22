"""Clock stops (补正 supplements, hearings, testing, expert review…) and extensions (延期) of a case.

A stop freezes the case: no timer fires and no deadline signal is raised until it resumes; then each
deadline moves by the days spent stopped in its own unit and the waiting BPMN timers by the time spent
stopped. An extension moves the statutory deadline, within the item's caps, and needs a leader (a clerk
holding a leader post) or an admin.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock, events
from app.audit import service as audit
from app.calendar import service as calendar
from app.errors import Conflict, Forbidden, Invalid
from app.orgs.models import User
from app.settings import Settings

from . import clocks
from . import service as cases
from . import stops, tell
from .events import CaseExtended, ClockRestarted
from .models import OPEN_STATUSES, Case, CaseExtension, CaseSuspension

UNIT_WORDS = {"working": "working days", "natural": "days"}


def _days(body: dict, field: str, low: int, high: int, required: bool = True) -> int | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(f"{field} must be a whole number of days ({low}–{high})", details=[{"field": field}])
    return value


def _clerk_of(actor: User, case: Case) -> None:
    if actor.role != "clerk" or actor.org_unit_id != case.org_unit_id:
        raise Forbidden("only a clerk of the case's department can stop or restart its clock")


def open_stop(session: Session, case: Case) -> CaseSuspension | None:
    return stops.current(session, case)


def suspend(session: Session, settings: Settings, actor: User, case_no: str, body: dict) -> Case:
    case = cases.get_visible(session, actor, case_no, for_update=True)
    _clerk_of(actor, case)
    if case.status != "running":
        raise Conflict(f"the case is {case.status}; only a running case can be suspended", code="case_not_running")
    kind = stops.check_kind(body.get("kind"))
    missing = stops.missing_list(body)
    reason, basis = stops.text(body, "reason"), stops.text(body, "legal_basis", required=False)
    expected = _days(body, "expected_days", 1, 365, required=False)
    # Timers that fell due before the stop still fire now: the stop cannot hide a late step.
    cases.refresh_due_timers(session, settings, case)
    stops.open_stop(session, settings, case, actor, kind=kind, reason=reason, legal_basis=basis,
                    expected_days=expected, missing=missing)
    cases.save(session)
    return case


def resume(session: Session, settings: Settings, actor: User, case_no: str, body: dict) -> Case:
    case = cases.get_visible(session, actor, case_no, for_update=True)
    _clerk_of(actor, case)
    stop = open_stop(session, case)
    if case.status != "suspended" or stop is None:
        raise Conflict("the case is not suspended", code="case_not_suspended")
    now = clock.now()
    stops.end_stop(session, settings, stop, actor, stops.text(body, "note", required=False), now)
    case.suspended_days, case.suspended_natural_days = stops.total_stopped(session, case)
    case.status = "running"
    audit.record(session, audit.case_stream(case.id), "case_resumed", actor.username, case_id=case.id,
                 detail={"kind": stop.kind, "working_days": stop.working_days, "natural_days": stop.natural_days,
                         "counted": stops.counts(case, stop), "note": stop.note})
    cases.shift_timers(session, settings, case, now - stop.started_at)
    clocks.recompute(session, settings, case, reason="resumed", actor=actor.username)
    clocks.schedule(case)
    tell.tell(session, settings, case, "clock_restarted", promised_due=case.promised_due_at)
    events.publish(session, settings, ClockRestarted(case, stop, now))
    cases.save(session)
    return case


def is_leader(actor: User, settings: Settings) -> bool:
    return actor.role == "admin" or bool(actor.post_names & set(settings.leader_posts))


def extend(session: Session, settings: Settings, actor: User, case_no: str, body: dict) -> CaseExtension:
    """延期: the statutory limit moves by `days` in its unit, within the item's caps (行政许可法 Art. 42)."""
    case = cases.get_visible(session, actor, case_no, for_update=True)
    if not is_leader(actor, settings) or (actor.role == "clerk" and actor.org_unit_id != case.org_unit_id):
        raise Forbidden(f"an extension (延期) needs a leader of the department (a post among "
                        f"{', '.join(settings.leader_posts)}) or an admin")
    if case.status not in OPEN_STATUSES:
        raise Conflict(f"the case is {case.status}", code="case_not_running")
    if case.accepted_at is None:
        raise Conflict("the clocks have not started (the case is not accepted yet): nothing to extend",
                       code="clock_not_started")
    field = "days" if "days" in body or "working_days" not in body else "working_days"  # working_days: old name
    days, reason, item = _days(body, field, 1, 3650), stops.text(body, "reason"), case.item
    granted = session.scalars(select(CaseExtension.days).where(CaseExtension.case_id == case.id)).all()
    unit = UNIT_WORDS[item.statutory_unit]
    if len(granted) >= item.max_extensions:
        raise Invalid(f"this item allows {item.max_extensions} extension(s) and {len(granted)} were granted",
                      code="extension_limit", details=[{"field": field, "max_extensions": item.max_extensions}])
    if sum(granted) + days > item.max_extension_days:
        raise Invalid(f"extensions of this item may add at most {item.max_extension_days} {unit} in all "
                      f"({sum(granted)} granted already)", code="extension_limit",
                      details=[{"field": field, "max_extension_days": item.max_extension_days}])
    ext = CaseExtension(case_id=case.id, days=days, unit=item.statutory_unit, reason=reason,
                        approved_by_id=actor.id, created_at=clock.now())
    session.add(ext)
    case.extension_days += ext.days
    audit.record(session, audit.case_stream(case.id), "case_extended", actor.username, case_id=case.id,
                 detail={"days": ext.days, "unit": ext.unit, "reason": ext.reason})
    clocks.recompute(session, settings, case, reason="extension", actor=actor.username)
    clocks.schedule(case)
    tell.tell(session, settings, case, "extended", days=ext.days, unit=ext.unit, reason=ext.reason,
              statutory_due=case.statutory_due_at)
    events.publish(session, settings, CaseExtended(case, ext))
    cases.save(session)
    return ext


def recount_ended(session: Session, settings: Settings, case: Case, actor_name: str) -> int:
    """After a calendar edit: count the case's finished clock stops again on the new calendar, so a day
    that became a holiday (or a make-up working day) inside a past stop moves the deadlines too. Returns
    the change in stopped working days; each recount is audited."""
    cal = calendar.load(session, settings.tz)
    ended = session.scalars(select(CaseSuspension).where(CaseSuspension.case_id == case.id,
                                                         CaseSuspension.ended_at.is_not(None))
                            .order_by(CaseSuspension.id))
    before = case.suspended_days
    for stop in ended:
        days = cal.working_days_in(stop.started_at, stop.ended_at)
        if days != stop.working_days:
            audit.record(session, audit.case_stream(case.id), "suspension_recounted", actor_name, case_id=case.id,
                         detail={"kind": stop.kind, "started_at": stop.started_at.isoformat(),
                                 "ended_at": stop.ended_at.isoformat(), "before": stop.working_days,
                                 "working_days": days})
            stop.working_days = days
    session.flush()
    case.suspended_days, case.suspended_natural_days = stops.total_stopped(session, case)
    return case.suspended_days - before


def recount_year(session: Session, settings: Settings, year: int, actor_name: str) -> int:
    """A calendar year was entered or edited: the open cases whose acceptance-to-statutory-deadline span touches
    it count their finished stops again, then their deadlines (each move audited). Returns how many moved."""
    start, end = datetime(year, 1, 1, tzinfo=settings.tz), datetime(year + 1, 1, 1, tzinfo=settings.tz)
    return clocks.recompute_open_cases(
        session, settings, [Case.accepted_at < end, Case.statutory_due_at >= start], "calendar_edit", actor_name,
        # past stops were counted on the old calendar: count them again first
        before_each=lambda case: recount_ended(session, settings, case, actor_name))


def frozen_at(session: Session, case: Case) -> datetime | None:
    """While the clock is stopped, time is read at the moment it stopped."""
    stop = open_stop(session, case) if case.status == "suspended" else None
    return stop.started_at if stop else None
