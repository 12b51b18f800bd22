"""How supervision (电子监察) reacts to what case actions did (app/cases/events.py), in their transaction.

This is the one place where supervision meets the cases' actions: a new reaction to a case event is a function
here (or in a room of its own, e.g. assessment) subscribed in `register`, never a call added inside app/cases.
The order numbers set who goes first among the subscribers of one event.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from app import events
from app.cases import clocks
from app.cases.events import (CalendarGapMet, CaseAdvanced, CaseCompleted, CasesWaking, CaseStuck, CaseWoken,
                              ClockStopped, StepCompleted, TimerFired)
from app.orgs import service as orgs
from app.orgs.models import OrgUnit
from app.settings import Settings

from . import deadlines, orders, owed, rules
from . import service as notices
from .reasons import CASE_STUCK, STEP_TIMER, Reason

NOTICES, RULES = 10, 20  # notices and signals first, then the rules that judge the action


def step_timer(session: Session, settings: Settings, event: TimerFired) -> None:
    """A boundary timer on a step fired: the step is over its limit — its clerks and the supervisors are told."""
    ch, case = event.change, event.case
    if not ch.detail.get("boundary"):
        return
    org = session.get(OrgUnit, case.org_unit_id)
    step = ch.detail.get("activity_name") or ch.detail.get("activity_bpmn_id")
    holder, post = orgs.lane_target(session, org, ch.detail.get("activity_lane"))  # an ORG:POST lane: that unit
    notices.raise_notice(
        session, case=case, org=org, clerks=orgs.clerks_for_lane(session, holder.id, post),
        task_bpmn_id=ch.detail.get("activity_bpmn_id"), level="yellow",
        reason=Reason(STEP_TIMER, {"step": step, "timer": ch.name or ch.bpmn_id}),
        source_key=f"timer:{ch.task_id}:{ch.detail['firing']}",
        detail={"kind": "step_timer", "timer_bpmn_id": ch.bpmn_id, "step": step},
        channels=settings.notice_channels)


def case_advanced(session: Session, settings: Settings, event: CaseAdvanced) -> None:
    """A step over its limit is a yellow card (黄牌); and an action after a deadline passed raises its signal
    even before the worker does."""
    if any(ch.action == "timer_fired" and ch.detail.get("boundary") for ch in event.changes):
        clocks.raise_card(event.case, "yellow")
    deadlines.raise_due(session, event.case, channels=settings.notice_channels)


def step_completed(session: Session, settings: Settings, event: StepCompleted) -> int:
    """R01 (too fast) and R04 (a refusal without reasons) judge the step just completed."""
    return rules.on_task_completed(session, settings, event.case, event.task_row, event.data, event.opinion, event.at)


def case_completed(session: Session, settings: Settings, event: CaseCompleted) -> int:
    """R02: created and finished in one burst (疑似事后补录)."""
    return int(rules.on_case_completed(session, settings, event.case, event.at))


def clock_stopped(session: Session, settings: Settings, event: ClockStopped) -> int:
    """R03: a 补正 told more than N working days after receipt."""
    if event.stop.kind != "supplement":
        return 0
    return int(rules.on_supplement_requested(session, settings, event.case, event.at))


def cases_waking(session: Session, settings: Settings, event: CasesWaking) -> None:
    """The notices a batch of cases already has, in one query, so raising the batch's notices asks nothing more."""
    notices.remember_raised(session, event.case_ids)


def case_woken(session: Session, settings: Settings, event: CaseWoken) -> int:
    """Whatever fell due on a case the worker looked at: deadline signals, overdue 督办 orders, materials owed."""
    case, now, channels = event.case, event.at, settings.notice_channels
    raised = deadlines.raise_due(session, case, now, channels=channels)
    raised += orders.escalate_overdue(session, case, now, channels=channels)
    if case.materials_due_at is not None and case.materials_due_at <= now:
        raised += owed.raise_due(session, settings, case, now)
    return raised


def calendar_gap(session: Session, settings: Settings, event: CalendarGapMet) -> None:
    """A deadline ran into a year without a calendar: the admins, who can enter it, are told once per year."""
    deadlines.tell_admins_of_missing_years(session, settings, event.years)


def case_stuck(session: Session, settings: Settings, event: CaseStuck) -> None:
    """A running case the engine can no longer move: the supervisors in scope are told once (a flow defect to
    look at, not a clerk's lateness: no card)."""
    case = event.case
    notices.raise_notice(session, case=case, org=session.get(OrgUnit, case.org_unit_id), clerks=[],
                         task_bpmn_id=None, level="warning", reason=Reason(CASE_STUCK),
                         source_key=f"stuck:{case.id}", detail={"kind": "case_stuck"},
                         channels=settings.notice_channels)


def register() -> None:
    """Subscribe supervision's reactions (called at app start)."""
    events.subscribe(TimerFired, step_timer, order=NOTICES)
    events.subscribe(CaseAdvanced, case_advanced, order=NOTICES)
    events.subscribe(StepCompleted, step_completed, order=RULES)
    events.subscribe(CaseCompleted, case_completed, order=RULES)
    events.subscribe(ClockStopped, clock_stopped, order=RULES)
    events.subscribe(CasesWaking, cases_waking, order=NOTICES)
    events.subscribe(CaseWoken, case_woken, order=NOTICES)
    events.subscribe(CalendarGapMet, calendar_gap, order=NOTICES)
    events.subscribe(CaseStuck, case_stuck, order=NOTICES)
