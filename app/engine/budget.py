"""A budget for every action: how much work one action on a case may ask of the engine.

Sizes alone do not bound time: `len(str([[1]] * 99990))` passes every size check and still walks a few hundred
thousand items, and loops, script chains and multi-instance steps repeat it. So each action (a clerk's step, an API
call, a timer the worker fires) carries a deadline. The evaluator checks it at every node it evaluates and every few
thousand items it walks, the engine at every task it runs; past it, OverBudget unwinds the action, which rolls back
whole. The sizes of intermediate values are bounded too (app/engine/expressions.py), so no single C-level operation
between two checks can run long. The limits come from config.py (see `Limits`).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

from .errors import OverBudget


@dataclass(frozen=True)
class Limits:
    """What a diagram may ask of the engine: per action at run time, and at deploy time (config.py keys)."""

    seconds: float = 1.0  # EVALUATION_BUDGET_SECONDS: evaluation and engine steps per action
    max_instances: int = 200  # MAX_MULTI_INSTANCES: instances of one multi-instance step
    max_cycle_repetitions: int = 100  # MAX_TIMER_CYCLES: repetitions of a cycle timer (R100/…)
    min_cycle_seconds: float = 60.0  # MIN_TIMER_CYCLE_SECONDS: the shortest interval of a cycle timer
    max_script_chars: int = 4000  # MAX_SCRIPT_CHARS: one script, condition or timer expression


def limits_of(settings) -> Limits:
    """The limits a Settings object (app/settings.py, which may not import the engine) carries."""
    default = Limits()
    return Limits(seconds=getattr(settings, "evaluation_budget_seconds", default.seconds),
                  max_instances=getattr(settings, "max_multi_instances", default.max_instances),
                  max_cycle_repetitions=getattr(settings, "max_timer_cycles", default.max_cycle_repetitions),
                  min_cycle_seconds=getattr(settings, "min_timer_cycle_seconds", default.min_cycle_seconds),
                  max_script_chars=getattr(settings, "max_script_chars", default.max_script_chars))


class Budget:
    """One action's allowance. The clock starts at the first check, so loading the case is not counted."""

    def __init__(self, limits: Limits | None = None):
        self.limits = limits or Limits()
        self.deadline: float | None = None

    def start(self) -> None:
        if self.deadline is None:
            self.deadline = time.monotonic() + self.limits.seconds

    def check(self, element_id: str | None = None) -> None:
        if self.deadline is not None and time.monotonic() > self.deadline:
            raise OverBudget(f"the action needs more than its budget of {self.limits.seconds:g} s of evaluation "
                             "(a script, loop or multi-instance step doing too much work); nothing was saved",
                             element_id)

    def check_instances(self, count: int, element_id: str | None) -> None:
        if count > self.limits.max_instances:
            raise OverBudget(f"the multi-instance step would run {count} instances; at most "
                             f"{self.limits.max_instances} are allowed", element_id)


_CURRENT: ContextVar[Budget | None] = ContextVar("sunlight_budget", default=None)


@contextmanager
def spending(budget: Budget):
    """While inside, the evaluator and the engine charge their work to `budget` (this thread or task only)."""
    budget.start()
    token = _CURRENT.set(budget)
    try:
        yield budget
    finally:
        _CURRENT.reset(token)


def current() -> Budget | None:
    return _CURRENT.get()


def check(element_id: str | None = None) -> None:
    """Charge a step of work to the current action's budget (no budget: outside an action, nothing to check)."""
    budget = _CURRENT.get()
    if budget is not None:
        budget.check(element_id)
