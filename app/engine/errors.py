"""Errors the engine seam raises; the doors turn them into 4xx answers."""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a diagram, in words a designer understands."""

    element_id: str | None
    line: int | None
    message: str

    def as_dict(self) -> dict:
        return asdict(self)


class InvalidBpmn(Exception):
    """The upload is not a diagram Sunlight can run; `problems` says where and why."""

    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.message for p in problems))
        self.problems = problems


class BpmnTooLarge(Exception):
    def __init__(self, size: int, limit: int):
        super().__init__(f"the diagram is {size} bytes; the limit is {limit}")
        self.size, self.limit = size, limit


class TaskNotFound(Exception):
    pass


class TaskNotReady(Exception):
    """The task exists but is not waiting for a person (already done, cancelled, or not reached)."""


class NoWaitingCatch(Exception):
    """Nothing in the case waits for this message or signal (no catch event, receive task or gateway)."""

    def __init__(self, name: str):
        super().__init__(name)
        self.name = name


class EngineError(Exception):
    """Running the case failed on an element (a condition over missing data, a bad timer value…).

    The caller rolls the whole action back, so the case is left exactly as it was.
    """

    def __init__(self, message: str, element_id: str | None = None):
        super().__init__(message)
        self.message = message
        self.element_id = element_id


class InvalidCaseData(ValueError):
    pass


class ExpressionError(ValueError):
    """An expression that is malformed or reaches beyond data and helpers."""

    def __init__(self, message: str, line: int | None = None):
        super().__init__(message)
        self.message = message
        self.line = line


class OverBudget(ExpressionError):
    """An action asked for more work than its budget (time, or the size of a value): nothing of it is kept.

    An ExpressionError, so every caller that already refuses a bad expression refuses this too; the engine
    turns it into TooExpensive, which the doors answer with 422 `too_expensive`."""

    def __init__(self, message: str, element_id: str | None = None):
        super().__init__(message)
        self.element_id = element_id


class TooExpensive(EngineError):
    """The action went over its work budget (app/engine/budget.py) at `element_id`; it was rolled back."""


class CannotMigrate(Exception):
    """A case cannot move to another version of its flow; the message says why, for the report."""
