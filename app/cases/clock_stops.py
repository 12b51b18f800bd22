"""Clock stops (补正 supplements, hearings, testing, expert review…) and extensions (延期) of a case.

A stop freezes the case: no timer fires and no deadline signal is raised until it resumes; then the
deadlines move by the working days spent stopped and the waiting BPMN timers by the time spent stopped.
An extension moves the statutory deadline and needs a leader (a clerk holding a leader post) or an admin.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.calendar import service as calendar
from app.errors import Conflict, Forbidden, Invalid
from app.orgs.models import User
from app.settings import Settings
from app.supervision import deadlines, rules

from . import service as cases
from .models import SUSPENSION_KINDS, Case, CaseExtension, CaseSuspension

MAX_TEXT = 5000


def _text(body: dict, field: str, required: bool = True) -> str:
    value = body.get(field, "")
    if not isinstance(value, str) or len(value) > MAX_TEXT or (required and not value.strip()):
        raise Invalid(f"{field} is {'required ' if required else ''}text (at most {MAX_TEXT} characters)",
                      details=[{"field": field}])
    return value.strip()


def _days(body: dict, field: str, low: int, high: int, required: bool = True) -> int | None:
    value = body.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise Invalid(f"{field} must be a whole number of working days ({low}–{high})", details=[{"field": field}])
    return value


def _clerk_of(actor: User, case: Case) -> None:
    if actor.role != "clerk" or actor.org_unit_id != case.org_unit_id:
        raise Forbidden("only a clerk of the case's department can stop or restart its clock")


def open_stop(session: Session, case: Case) -> CaseSuspension | None:
    return session.scalar(select(CaseSuspension).where(CaseSuspension.case_id == case.id,
                                                       CaseSuspension.ended_at.is_(None)))


def suspend(session: Session, settings: Settings, actor: User, case_no: str, body: dict) -> Case:
    case = cases.get_visible(session, actor, case_no, for_update=True)
    _clerk_of(actor, case)
    if case.status != "running":
        raise Conflict(f"the case is {case.status}; only a running case can be suspended", code="case_not_running")
    kind = body.get("kind")
    if kind not in SUSPENSION_KINDS:
        raise Invalid(f"kind must be one of {', '.join(SUSPENSION_KINDS)}", details=[{"field": "kind"}])
    missing = body.get("missing_materials") or []
    if not isinstance(missing, list) or not all(isinstance(m, str) and m.strip() for m in missing) or len(missing) > 100:
        raise Invalid("missing_materials must be a list of material names", details=[{"field": "missing_materials"}])
    if kind == "supplement" and not missing:
        raise Invalid("a 补正 (supplement) stop lists everything missing at once (一次性告知): missing_materials",
                      details=[{"field": "missing_materials"}])
    now = clock.now()
    # Timers that fell due before the stop still fire now: the stop cannot hide a late step.
    cases.refresh_due_timers(session, settings, case)
    stop = CaseSuspension(case_id=case.id, kind=kind, reason=_text(body, "reason"),
                          legal_basis=_text(body, "legal_basis", required=False),
                          expected_days=_days(body, "expected_days", 1, 365, required=False),
                          missing_materials=[m.strip() for m in missing], started_at=now, started_by_id=actor.id)
    session.add(stop)
    if kind == "supplement":  # R03: the one-time 补正 notice must come within 5 working days of receipt
        rules.on_supplement_requested(session, settings, case, now)
    case.status = "suspended"
    deadlines.schedule(case)
    audit.record(session, audit.case_stream(case.id), "case_suspended", actor.username, case_id=case.id,
                 detail={"kind": kind, "reason": stop.reason, "legal_basis": stop.legal_basis,
                         "expected_days": stop.expected_days, "missing_materials": stop.missing_materials})
    cases.save(session)
    return case


def resume(session: Session, settings: Settings, actor: User, case_no: str, body: dict) -> Case:
    case = cases.get_visible(session, actor, case_no, for_update=True)
    _clerk_of(actor, case)
    stop = open_stop(session, case)
    if case.status != "suspended" or stop is None:
        raise Conflict("the case is not suspended", code="case_not_suspended")
    now = clock.now()
    cal = calendar.load(session, settings.tz)
    stop.ended_at, stop.ended_by_id, stop.note = now, actor.id, _text(body, "note", required=False)
    stop.working_days = cal.working_days_in(stop.started_at, now)
    case.suspended_days += stop.working_days
    case.status = "running"
    audit.record(session, audit.case_stream(case.id), "case_resumed", actor.username, case_id=case.id,
                 detail={"kind": stop.kind, "working_days": stop.working_days, "note": stop.note})
    cases.shift_timers(session, settings, case, now - stop.started_at)
    deadlines.recompute(session, settings, case, reason="resumed", actor=actor.username)
    deadlines.schedule(case)
    cases.save(session)
    return case


def is_leader(actor: User, settings: Settings) -> bool:
    return actor.role == "admin" or bool(actor.post_names & set(settings.leader_posts))


def extend(session: Session, settings: Settings, actor: User, case_no: str, body: dict) -> CaseExtension:
    case = cases.get_visible(session, actor, case_no, for_update=True)
    if not is_leader(actor, settings) or (actor.role == "clerk" and actor.org_unit_id != case.org_unit_id):
        raise Forbidden(f"an extension (延期) needs a leader of the department (a post among "
                        f"{', '.join(settings.leader_posts)}) or an admin")
    if case.status not in ("running", "suspended"):
        raise Conflict(f"the case is {case.status}", code="case_not_running")
    ext = CaseExtension(case_id=case.id, working_days=_days(body, "working_days", 1, 60),
                        reason=_text(body, "reason"), approved_by_id=actor.id, created_at=clock.now())
    session.add(ext)
    case.extension_days += ext.working_days
    audit.record(session, audit.case_stream(case.id), "case_extended", actor.username, case_id=case.id,
                 detail={"working_days": ext.working_days, "reason": ext.reason})
    deadlines.recompute(session, settings, case, reason="extension", actor=actor.username)
    deadlines.schedule(case)
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
    change = 0
    for stop in ended:
        days = cal.working_days_in(stop.started_at, stop.ended_at)
        if days != stop.working_days:
            audit.record(session, audit.case_stream(case.id), "suspension_recounted", actor_name, case_id=case.id,
                         detail={"kind": stop.kind, "started_at": stop.started_at.isoformat(),
                                 "ended_at": stop.ended_at.isoformat(), "before": stop.working_days,
                                 "working_days": days})
            change += days - (stop.working_days or 0)
            stop.working_days = days
    case.suspended_days += change
    return change


def frozen_at(session: Session, case: Case) -> datetime | None:
    """While the clock is stopped, time is read at the moment it stopped."""
    stop = open_stop(session, case) if case.status == "suspended" else None
    return stop.started_at if stop else None
