"""What a case action did, as plain objects published through app/events.py. The rooms above cases react to
them (supervision's subscribers are in app/supervision/reactions.py); cases never calls those rooms itself.

Each event carries the live objects of the action (the case row, the task row) so a subscriber needs no query
the action had already made; subscribers run in the action's transaction and may change those objects.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class TimerFired:
    """A BPMN timer fired on the case (`change` is the engine's timer_fired change; boundary timers name the
    step they watch in its detail)."""
    case: Any
    change: Any


@dataclass(frozen=True)
class CaseAdvanced:
    """The engine moved the case (a step completed, timers fired, the case ended) and its projections — tasks,
    status, deadlines — are written; `changes` are what the engine reported."""
    case: Any
    changes: list = field(default_factory=list)


@dataclass(frozen=True)
class StepCompleted:
    """A clerk completed a step (`task_row` has completed_by_id and opinion), after the case was saved."""
    case: Any
    task_row: Any
    data: dict
    opinion: str
    at: datetime


@dataclass(frozen=True)
class CaseCompleted:
    """The action that completed a step also finished the case."""
    case: Any
    at: datetime


@dataclass(frozen=True)
class ClockStopped:
    """The case's clock stopped (补正, hearing, testing…): `stop` is its case_suspensions row."""
    case: Any
    stop: Any
    at: datetime


@dataclass(frozen=True)
class CasesWaking:
    """The worker is about to wake these (locked) cases in one batch: a chance to read what the batch needs
    in one query instead of one per case."""
    case_ids: list


@dataclass(frozen=True)
class CaseWoken:
    """The worker looked at a due case (after its due timers fired): whatever else had fallen due may react."""
    case: Any
    at: datetime


@dataclass(frozen=True)
class CalendarGapMet:
    """A deadline was counted into years the working-day calendar does not know (counted on weekends alone)."""
    years: list


@dataclass(frozen=True)
class CaseCreated:
    """A clerk registered a case (收件; accepted at once when the item names no clock_start_step)."""
    case: Any
    at: datetime


@dataclass(frozen=True)
class ClockRestarted:
    """A stopped clock runs again; the deadlines have moved by the days stopped."""
    case: Any
    stop: Any
    at: datetime


@dataclass(frozen=True)
class CaseExtended:
    """A leader extended the statutory limit (延期): `extension` is its case_extensions row."""
    case: Any
    extension: Any


@dataclass(frozen=True)
class CaseEnded:
    """The case was refused (不予受理), withdrawn (撤回) or terminated (终止): `case.status` says which."""
    case: Any
    at: datetime


@dataclass(frozen=True)
class CaseMigrated:
    """The case moved to another published version of its flow."""
    case: Any
    from_definition_id: int


@dataclass(frozen=True)
class CaseAccepted:
    """The case was accepted (受理/立案) and its clocks started: at its clock_start_step, or as it was registered
    when the item names none. Documents (受理通知书) react."""
    case: Any
    at: datetime


@dataclass(frozen=True)
class DecisionMade:
    """The deciding step completed with a decision (`decision` is its case_decisions row, status made), after
    the case was saved: the decision document (决定书) and its public disclosure (双公示) react."""
    case: Any
    decision: Any
    at: datetime


@dataclass(frozen=True)
class CaseStuck:
    """The case cannot move any more (no open step, nothing awaited, no timer) though it is running: a flow
    defect (e.g. a parallel join whose other branch ended) that someone has to look at."""
    case: Any
