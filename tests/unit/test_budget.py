"""The evaluator's work budget (app/engine/budget.py): time is bounded, not only sizes."""
from __future__ import annotations

import threading
import time

import pytest

from app.engine import budget
from app.engine.errors import ExpressionError, OverBudget
from app.engine.expressions import MAX_SIZE, evaluate, execute


def _wait(seconds: float) -> None:
    """Wait without working (not time.sleep: under libfaketime, as `make test-dates` runs the suite, it fails)."""
    threading.Event().wait(seconds)


def _quickly_over_budget(run) -> OverBudget:
    started = time.perf_counter()
    with pytest.raises(OverBudget) as info:
        run()
    assert time.perf_counter() - started < 1.5
    return info.value


def test_the_hostile_script_of_issue_10_is_refused_in_well_under_a_second():
    error = _quickly_over_budget(lambda: execute("x = len(str([[1]] * 99990))", {}))
    assert isinstance(error, ExpressionError) and "larger than" in error.message


def test_repetition_and_concatenation_are_refused_before_they_are_built():
    for text in (f"[1] * {MAX_SIZE + 1}", f"'ab' * {MAX_SIZE}", f"s + s + s + s", "items * 60000"):
        _quickly_over_budget(lambda: evaluate(text, {"s": "x" * 40_000, "items": [1, 2]}))


def test_one_budget_spans_every_evaluation_of_an_action():
    heavy = "w = len(str([[1] * 99] * 500))"
    execute(heavy, {})  # alone, within any budget
    spent = budget.Budget(budget.Limits(seconds=0.05))
    with budget.spending(spent):
        _quickly_over_budget(lambda: [execute(heavy, {}) for _ in range(100)])


def test_the_deadline_starts_at_the_first_charge_and_no_action_means_a_budget_per_call():
    spent = budget.Budget(budget.Limits(seconds=0.01))
    _wait(0.02)  # loading a case is not charged
    with budget.spending(spent):
        assert evaluate("1 + 1", {}) == 2
    assert budget.current() is None
    assert evaluate("len(str([[1] * 99] * 500))", {}) > 0  # outside any action: a default budget of its own


def test_the_instance_cap():
    spent = budget.Budget(budget.Limits(max_instances=5))
    spent.check_instances(5, "Task_sign")
    with pytest.raises(OverBudget) as info:
        spent.check_instances(6, "Task_sign")
    assert info.value.element_id == "Task_sign" and "at most 5" in info.value.message


def test_only_the_engines_own_cpu_time_is_charged():
    """A loaded machine (the thread waiting for a core) and work between two engine steps (a document rendered
    by a reaction) cost the action nothing: a legitimate step is never refused because the server was busy."""
    spent = budget.Budget(budget.Limits(seconds=0.05))
    with budget.spending(spent):
        _wait(0.1)  # waiting is not working
        budget.check("Task_a")
    busy_until = time.thread_time() + 0.1
    while time.thread_time() < busy_until:  # CPU work outside the engine, between two steps
        pass
    with budget.spending(spent):
        budget.check("Task_b")
    assert spent.used() < 0.05
    with budget.spending(spent):
        with pytest.raises(OverBudget):
            until = time.thread_time() + 0.06
            while time.thread_time() < until:
                budget.check("Task_c")
