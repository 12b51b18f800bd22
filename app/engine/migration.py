"""Moving a running case to another version of its flow (spec), keeping everything it has done.

A case can move when every step it has reached or is certain to reach exists in the new version under the
same id and kind, and it runs no subprocess. What it does next then follows the new version (names, timers
not yet started, conditions, scripts, lanes).
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from SpiffWorkflow.util.task import TaskState

from .errors import CannotMigrate
from .runtime import SERIALIZER, CaseRun
from .specs import CACHE, SpecBundle

# Predicted tasks (MAYBE/LIKELY) are SpiffWorkflow's guesses: those of steps the new version no longer has are
# dropped, the engine re-syncs the rest as it goes. Reached and FUTURE (definitely coming) tasks must map.
_GUESSED = TaskState.PREDICTED_MASK
_KEPT = TaskState.DEFINITE_MASK | TaskState.FINISHED_MASK


def _drop(tasks: dict, task_id: str) -> None:
    """Remove a predicted task and its predicted descendants from the serialized tree."""
    for child in tasks[task_id]["children"]:
        if child in tasks:
            _drop(tasks, child)
    parent = tasks[task_id]["parent"]
    if parent in tasks:
        tasks[parent]["children"] = [c for c in tasks[parent]["children"] if c != task_id]
    del tasks[task_id]


def blockers(run: CaseRun, target: SpecBundle) -> list[str]:
    """Why the case cannot move (empty when it can)."""
    reasons = []
    if run.workflow.subprocesses:
        reasons.append("the case is inside a subprocess or call activity")
    new_specs = target.spec.task_specs
    for task in run.workflow.get_tasks(state=_KEPT):
        spec = task.task_spec
        counterpart = new_specs.get(spec.name)
        element = spec.bpmn_id or spec.name.split(".")[0]  # internal specs are named after their element
        label = f"'{spec.bpmn_name}' ({element})" if spec.bpmn_name else f"'{element}'"
        if counterpart is None:
            reasons.append(f"step {label} is missing from the new version")
        elif type(counterpart) is not type(spec):
            reasons.append(f"step {label} changed its kind ({type(spec).__name__} → {type(counterpart).__name__})")
    return sorted(set(reasons))


def migrate(run: CaseRun, target: SpecBundle, helpers: Mapping[str, Callable[..., Any]]) -> CaseRun:
    """The same case on the target spec; raise CannotMigrate with the reasons when it cannot move."""
    reasons = blockers(run, target)
    if reasons:
        raise CannotMigrate("; ".join(reasons))
    dct = SERIALIZER.to_dict(run.workflow)
    tasks = dct["tasks"]
    for task_id in [t for t, d in tasks.items() if d["state"] & _GUESSED]:
        if task_id in tasks and tasks[task_id]["task_spec"] not in target.spec.task_specs:
            _drop(tasks, task_id)
    dct["spec_ref"] = target.key
    if CACHE.get(target.key) is None:
        CACHE.put(target)
    return CaseRun(SERIALIZER.from_dict(dct), target, helpers)
