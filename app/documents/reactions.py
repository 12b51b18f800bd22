"""Which case events produce which documents (app/cases/events.py), in the action's transaction.

受理通知书 when the clocks start (acceptance), 补正材料通知书 when a 补正 clock stop opens (its one-time list),
不予受理决定书 when a case is refused, 决定书 when the deciding step makes a decision. The order numbers run after
supervision's and before disclosure's (the public list shows the 决定书's number).
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from app import events
from app.cases.events import CaseAccepted, CaseEnded, ClockStopped, DecisionMade
from app.settings import Settings

from . import service

DOCUMENTS = 30


def accepted(session: Session, settings: Settings, event: CaseAccepted) -> None:
    service.issue(session, settings, event.case, "acceptance_notice")


def clock_stopped(session: Session, settings: Settings, event: ClockStopped) -> None:
    stop = event.stop
    if stop.kind == "supplement":
        service.issue(session, settings, event.case, "supplement_notice", missing=list(stop.missing_materials),
                      reason=stop.reason, expected_days=stop.expected_days)


def ended(session: Session, settings: Settings, event: CaseEnded) -> None:
    case = event.case
    if case.status == "refused":
        service.issue(session, settings, case, "refusal_decision", reason=case.end_reason,
                      legal_basis=case.end_legal_basis or "")


def decision_made(session: Session, settings: Settings, event: DecisionMade) -> None:
    doc = service.issue(session, settings, event.case, "decision", decision=event.decision)
    if doc is not None:
        service.supersede_decisions(session, event.case.id, doc.id)


def register() -> None:
    events.subscribe(CaseAccepted, accepted, order=DOCUMENTS)
    events.subscribe(ClockStopped, clock_stopped, order=DOCUMENTS)
    events.subscribe(CaseEnded, ended, order=DOCUMENTS)
    events.subscribe(DecisionMade, decision_made, order=DOCUMENTS)
