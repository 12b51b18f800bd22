"""How disclosure (双公示) reacts to what cases do: a decision made goes on the public record (after documents
gave it its 决定书 number); a case the worker wakes is checked for a held decision past its publication day."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app import events
from app.cases.events import CaseWoken, DecisionMade
from app.settings import Settings

from . import service

DISCLOSURE = 40  # after documents (30): the public record carries the 决定书's number


def decision_made(session: Session, settings: Settings, event: DecisionMade) -> None:
    service.record(session, settings, event.case, event.decision, event.at)


def case_woken(session: Session, settings: Settings, event: CaseWoken) -> int:
    return service.raise_late(session, settings, event.case, event.at)


def register() -> None:
    events.subscribe(DecisionMade, decision_made, order=DISCLOSURE)
    events.subscribe(CaseWoken, case_woken, order=DISCLOSURE)
