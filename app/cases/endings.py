"""Ending a case early: 不予受理 (refuse), 撤回 (the applicant withdraws), 终止 (terminate).

Each ends the case for good, in one transaction: due timers fire first (an ending cannot hide a late step),
an open clock stop is closed, every open task and waiting event is cancelled in the engine, the clocks stop
and nothing is scheduled for the case again — no timer, no deadline signal, no material owed.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app import clock, engine, events
from app.audit import service as audit
from app.errors import Conflict, Forbidden
from app.orgs.models import User
from app.settings import Settings

from . import clock_stops, stops, tell
from . import service as cases
from .events import CaseEnded
from .models import OPEN_STATUSES, Case


@dataclass(frozen=True)
class Ending:
    status: str
    action: str  # the audit event
    needs_basis: bool
    leader_only: bool
    label: str


ENDINGS = {
    "refuse": Ending("refused", "case_refused", needs_basis=True, leader_only=False, label="不予受理"),
    "withdraw": Ending("withdrawn", "case_withdrawn", needs_basis=False, leader_only=False, label="撤回"),
    "terminate": Ending("terminated", "case_terminated", needs_basis=True, leader_only=True, label="终止"),
}


def end(session: Session, settings: Settings, actor: User, case_no: str, how: str, body: dict) -> Case:
    """refuse | withdraw | terminate the case, with a reason (and the legal basis for refuse and terminate)."""
    ending = ENDINGS[how]
    reason = stops.text(body, "reason")
    basis = stops.text(body, "legal_basis", required=ending.needs_basis)
    case = cases.get_visible(session, actor, case_no, for_update=True)
    _authorize(actor, case, ending, settings)
    if case.status == "running":
        cases.refresh_due_timers(session, settings, case)  # may finish the case: checked next
    if case.status not in OPEN_STATUSES:
        raise Conflict(f"the case is {case.status} already", code="case_not_open")
    if how == "refuse" and case.accepted_at is not None:
        raise Conflict("the case was accepted (受理) already: 不予受理 is decided before acceptance; "
                       "withdraw or terminate it instead", code="case_accepted")
    now = clock.now()
    stop = stops.current(session, case)
    if stop is not None:
        stops.end_stop(session, settings, stop, actor, f"办件{ending.label}", now)
    case.status, case.ended_at, case.end_reason, case.end_legal_basis = ending.status, now, reason, basis or None
    case.materials_due_at = None
    audit.record(session, audit.case_stream(case.id), ending.action, actor.username, case_id=case.id,
                 detail={"reason": reason, "legal_basis": basis or None, "accepted": case.accepted_at is not None})
    _cancel_workflow(session, settings, case, actor)
    tell.tell(session, settings, case, ending.status, reason=reason,
              **({"legal_basis": basis} if ending.needs_basis else {}))
    events.publish(session, settings, CaseEnded(case, now))
    cases.save(session)
    return case


def _authorize(actor: User, case: Case, ending: Ending, settings: Settings) -> None:
    own_clerk = actor.role == "clerk" and actor.org_unit_id == case.org_unit_id
    if ending.leader_only:
        if not clock_stops.is_leader(actor, settings) or (actor.role == "clerk" and not own_clerk):
            raise Forbidden(f"终止 (terminate) needs a leader of the case's department (a post among "
                            f"{', '.join(settings.leader_posts)}) or an admin")
    elif not own_clerk:
        raise Forbidden(f"only a clerk of the case's department can record a {ending.label}")


def _cancel_workflow(session: Session, settings: Settings, case: Case, actor: User) -> None:
    """Cancel every open task through the engine; the task rows and the audit follow from the diff."""
    run = cases.load_run(session, settings, case)
    try:
        changes = run.cancel()
    except engine.EngineError as exc:
        raise cases.engine_error(exc) from None
    cases.apply_changes(session, settings, case, actor.username, run, changes)
