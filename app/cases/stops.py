"""Clock stops as records (补正, hearings, testing, expert review…): one mechanism for the API's stop and the
diagram's 一次性告知补正 step, so the missing list, rule R03 and the public progress page see the same thing.

A stop's length is kept in both units (working and calendar days); it moves a clock only when that clock was
already running when the stop began — a 补正 before 受理 delays acceptance itself, not a deadline.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock, events
from app.audit import service as audit
from app.calendar import service as calendar
from app.errors import Invalid
from app.orgs.models import User
from app.settings import Settings

from . import clocks, tell
from .events import ClockStopped
from .models import SUSPENSION_KINDS, Case, CaseSuspension

MAX_TEXT = 5000
MAX_MISSING = 100
SUPPLEMENT_REASON = "申请材料不齐全或者不符合法定形式，一次性告知需要补正的全部内容"
SUPPLEMENT_BASIS = "《中华人民共和国行政许可法》第三十二条"


def text(body: dict, field: str, required: bool = True) -> str:
    value = body.get(field, "")
    if value is None and not required:
        value = ""
    if not isinstance(value, str) or len(value) > MAX_TEXT or (required and not value.strip()) or "\x00" in value:
        raise Invalid(f"{field} is {'required ' if required else ''}text (at most {MAX_TEXT} characters)",
                      details=[{"field": field}])
    return value.strip()


def missing_list(body: dict, field: str = "missing_materials") -> list[str]:
    missing = body.get(field) or []
    ok = isinstance(missing, list) and len(missing) <= MAX_MISSING and all(
        isinstance(m, str) and m.strip() and len(m) <= 300 and "\x00" not in m for m in missing)
    if not ok:
        raise Invalid(f"{field} must be a list of at most {MAX_MISSING} material names",
                      details=[{"field": field}])
    return [m.strip() for m in missing]


def check_kind(kind) -> str:
    if kind not in SUSPENSION_KINDS:
        raise Invalid(f"kind must be one of {', '.join(SUSPENSION_KINDS)}", details=[{"field": "kind"}])
    return kind


def current(session: Session, case: Case) -> CaseSuspension | None:
    """The case's open stop, if its clock is stopped."""
    return session.scalar(select(CaseSuspension).where(CaseSuspension.case_id == case.id,
                                                       CaseSuspension.ended_at.is_(None)))


def stop_starts(session: Session, case_ids: list[int]) -> dict[int, datetime]:
    """When the open stop of each of a page of cases began, by case id, in one query (a list's rows show the
    days left as of then: the clock is frozen while stopped)."""
    if not case_ids:
        return {}
    return dict(session.execute(select(CaseSuspension.case_id, CaseSuspension.started_at).where(
        CaseSuspension.case_id.in_(case_ids), CaseSuspension.ended_at.is_(None))).tuples().all())


def open_stop(session: Session, settings: Settings, case: Case, actor: User, *, kind: str, reason: str,
              legal_basis: str, expected_days: int | None, missing: list[str],
              task_bpmn_id: str | None = None) -> CaseSuspension:
    """Stop the case's clock (status suspended): nothing fires for it until it restarts."""
    if kind == "supplement" and not missing:
        raise Invalid("a 补正 (supplement) stop lists everything missing at once (一次性告知): missing_materials",
                      details=[{"field": "missing_materials"}])
    now = clock.now()
    stop = CaseSuspension(case_id=case.id, kind=kind, reason=reason, legal_basis=legal_basis,
                          expected_days=expected_days, missing_materials=missing, started_at=now,
                          started_by_id=actor.id, task_bpmn_id=task_bpmn_id)
    session.add(stop)
    events.publish(session, settings, ClockStopped(case, stop, now))  # e.g. R03 judges how late a 补正 was told
    case.status = "suspended"
    clocks.schedule(case)
    tell.clock_stopped(session, settings, case, stop)
    audit.record(session, audit.case_stream(case.id), "case_suspended", actor.username, case_id=case.id,
                 task_bpmn_id=task_bpmn_id,
                 detail={"kind": kind, "reason": reason, "legal_basis": legal_basis, "expected_days": expected_days,
                         "missing_materials": missing})
    return stop


def end_stop(session: Session, settings: Settings, stop: CaseSuspension, actor: User, note: str,
             now: datetime | None = None) -> None:
    """Close the stop and measure it in both units."""
    now = now or clock.now()
    cal = calendar.load(session, settings.tz)
    stop.ended_at, stop.ended_by_id, stop.note = now, actor.id, note
    stop.working_days = cal.days_in(stop.started_at, now, "working")
    stop.natural_days = cal.days_in(stop.started_at, now, "natural")


def counts(case: Case, stop: CaseSuspension) -> bool:
    """Whether the stop held a running clock (it began at or after acceptance)."""
    return case.accepted_at is not None and stop.started_at >= case.accepted_at


def total_stopped(session: Session, case: Case) -> tuple[int, int]:
    """(working days, calendar days) the case's clock stood still in its finished stops."""
    ended = session.scalars(select(CaseSuspension).where(CaseSuspension.case_id == case.id,
                                                         CaseSuspension.ended_at.is_not(None)))
    held = [s for s in ended if counts(case, s)]
    return sum(s.working_days or 0 for s in held), sum(s.natural_days or 0 for s in held)
