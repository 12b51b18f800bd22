"""One case's workflow in memory: start, load, refresh timers, complete a task, diff, project, save.

The blob is SpiffWorkflow's own JSON without the embedded spec (a `spec_ref` to the cached spec instead),
gzip level 1 without a timestamp (the same workflow gives the same bytes, so an unchanged one is not written
again). Every load re-attaches the safe script engine (it is not serialised) and callers refresh
timers before applying any user action, so a user can never beat a due timer.
"""
from __future__ import annotations

import gzip
import json
from copy import deepcopy
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Callable, Mapping
from uuid import UUID

from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.serializer.config import DEFAULT_CONFIG
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.specs.event_definitions import timer as spiff_timer
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import SignalEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.message import MessageEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.event_types import CatchingEvent
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import (BoundaryEvent, EventBasedGateway,
                                                                       IntermediateCatchEvent, ReceiveTask)
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask
from SpiffWorkflow.bpmn.util.event import BpmnEvent
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.util.task import TaskState

from . import budget, timers
from .budget import Budget, Limits
from .environment import SafeScriptEngine
from .errors import EngineError, InvalidCaseData, NoWaitingCatch, OverBudget, TaskNotFound, TaskNotReady, TooExpensive
from .expressions import BASE_HELPERS, RUNTIME_HELPERS, ExpressionError
from .specs import CACHE, SpecBundle

SERIALIZER_VERSION = "1.5"
MAX_DATA_BYTES = 64 * 1024


class _SpecRefConverter(BpmnWorkflowConverter):
    """Writes `spec_ref` instead of the spec (8 KB of every blob) and reads it back from the cache."""

    def to_dict(self, workflow):
        dct = WorkflowConverter.to_dict(self, workflow)
        dct["spec_ref"] = workflow.spec.sunlight_key
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct):
        bundle = CACHE.get(dct.pop("spec_ref"))
        if bundle is None:  # the caller loads the bundle first; this is a programming error
            raise RuntimeError("spec not cached before loading a case")
        workflow = self.target_class(bundle.spec, bundle.subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


_CONFIG = dict(DEFAULT_CONFIG)
_CONFIG[BpmnWorkflow] = _SpecRefConverter
SERIALIZER = BpmnWorkflowSerializer(BpmnWorkflowSerializer.configure(_CONFIG), version=SERIALIZER_VERSION)

_STATE_NAMES = {TaskState.READY: "ready", TaskState.WAITING: "waiting", TaskState.COMPLETED: "completed",
                TaskState.CANCELLED: "cancelled", TaskState.ERROR: "error", TaskState.STARTED: "ready"}


@dataclass(frozen=True)
class TaskView:
    """What the rest of Sunlight may know of a task: no SpiffWorkflow objects leak out of the seam."""

    id: str
    bpmn_id: str
    name: str | None
    lane: str | None
    kind: str  # "user" | "event" | "external"
    state: str
    due_at: datetime | None
    assignee: str | None = None  # 会签: the user an instance of a multi-instance step belongs to
    topic: str | None = None  # external work: the service task's topic
    catches: tuple[str, ...] = ()  # the messages and signals a waiting event catches


@dataclass(frozen=True)
class Wait:
    """A message or signal the case waits for, at one task (an event-based gateway waits for several)."""

    task_id: str
    bpmn_id: str
    kind: str  # "message" | "signal"
    name: str


@dataclass(frozen=True)
class Change:
    """One task-state change worth an audit event."""

    action: str  # task_ready | task_completed | task_cancelled | timer_started | timer_fired
    #              | external_task_opened | external_task_completed
    task_id: str
    bpmn_id: str
    name: str | None
    lane: str | None
    detail: dict


def check_data(data: Any) -> dict:
    """Form data must be a small JSON object of plain names (they become variables in conditions)."""
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidCaseData("data must be a JSON object")
    for key in data:
        if not isinstance(key, str) or not key.isidentifier() or key.startswith("_") or key == "typename":
            raise InvalidCaseData(f"'{key}' is not a usable field name (letters, digits and _, not starting with _)")
        if key in BASE_HELPERS or key in RUNTIME_HELPERS:
            raise InvalidCaseData(f"'{key}' is the name of a helper function; choose another field name")
    try:  # allow_nan=False: Python's JSON reader accepts Infinity/NaN, but nothing downstream can write them
        size = len(json.dumps(data, ensure_ascii=False, default=str, allow_nan=False))
    except ValueError:
        raise InvalidCaseData("data holds a number that is not finite (Infinity or NaN)") from None
    if size > MAX_DATA_BYTES:
        raise InvalidCaseData(f"data is larger than {MAX_DATA_BYTES} bytes")
    return data


def _is_timer(task) -> bool:
    return isinstance(getattr(task.task_spec, "event_definition", None), TimerEventDefinition)


def _definitions(task_spec) -> list:
    """The event definitions a catching task waits for (an event-based gateway holds its branches' events)."""
    defn = getattr(task_spec, "event_definition", None)
    return list(defn.event_definitions) if isinstance(defn, MultipleEventDefinition) else [defn] if defn else []


def _timer_definitions(task) -> list:
    return [d for d in _definitions(task.task_spec) if isinstance(d, TimerEventDefinition)]


def _catches(task_spec) -> list[tuple[str, str]]:
    """(kind, name) of the messages and signals a catching task waits for."""
    found = []
    for d in _definitions(task_spec):
        if isinstance(d, MessageEventDefinition) and d.name:
            found.append(("message", d.name))
        elif isinstance(d, SignalEventDefinition) and d.name:
            found.append(("signal", d.name))
    return found


def _is_external(task_spec) -> bool:
    """A service task is external work: SpiffWorkflow starts it and leaves it STARTED until told it is done."""
    return isinstance(task_spec, ServiceTask)


def _firings(cycle_task) -> int:
    """How often a cycle timer has fired: each firing adds a child on its outgoing path (not the join)."""
    return sum(1 for c in cycle_task.children if not c.task_spec.name.endswith(".BoundaryEventJoin"))


def _attached_activity(timer_task):
    """The activity a boundary timer watches (its sibling under the BoundaryEventSplit)."""
    parent = timer_task.parent
    if parent is None:
        return None
    return next((c for c in parent.children if not isinstance(c.task_spec, BoundaryEvent)), None)


MAX_TREE_DEPTH = 1000  # SpiffWorkflow's TaskIterator default max_depth
MAX_ASSIGNEE_CHARS = 64  # 会签: the length of case_tasks.assignee, as of users.username
_OPEN = (TaskState.READY, TaskState.STARTED, TaskState.WAITING)


class CaseRun:
    """A loaded workflow plus the helpers its expressions may call."""

    def __init__(self, workflow: BpmnWorkflow, bundle: SpecBundle, helpers: Mapping[str, Callable[..., Any]],
                 limits: Limits | None = None):
        self.workflow = workflow
        self.bundle = bundle
        workflow.script_engine = SafeScriptEngine(helpers)
        # One CaseRun serves one action (a step, a message, a timer sweep of this case): its budget spans every
        # engine call the action makes on it, so refreshing timers and then completing share one allowance.
        self.budget = Budget(limits)
        self._walked: list | None = None  # every task in tree order, since the last action (see _all_tasks)

    # --- life cycle -------------------------------------------------------------------------------------------
    @classmethod
    def start(cls, bundle: SpecBundle, data: dict, helpers,
              limits: Limits | None = None) -> tuple["CaseRun", list[Change]]:
        try:
            workflow = BpmnWorkflow(bundle.spec, bundle.subprocess_specs)
        except (SpiffWorkflowException, RecursionError) as exc:  # validate() dry-runs this, so only old diagrams
            raise EngineError(f"the engine could not lay out a case of this diagram ({type(exc).__name__})") from None
        run = cls(workflow, bundle, helpers, limits)
        run.workflow.task_tree.data.update(check_data(data))
        changes = run._step(run._engine_steps)
        return run, changes

    @classmethod
    def load(cls, blob: bytes, bundle: SpecBundle, helpers, limits: Limits | None = None) -> "CaseRun":
        if CACHE.get(bundle.key) is None:
            CACHE.put(bundle)
        return cls(SERIALIZER.deserialize_json(gzip.decompress(blob)), bundle, helpers, limits)

    def dump(self) -> bytes:
        return gzip.compress(SERIALIZER.serialize_json(self.workflow).encode("utf-8"), compresslevel=1, mtime=0)

    @property
    def completed(self) -> bool:
        return self.workflow.is_completed()

    @property
    def data(self) -> dict:
        return self.workflow.data

    # --- actions ----------------------------------------------------------------------------------------------
    def refresh_timers(self) -> list[Change]:
        """Fire every due timer and run what follows it (call on every load, before any user action)."""
        def refresh():
            self.workflow.refresh_timers()
            self._engine_steps()
        return self._step(refresh)

    def find_task(self, task_id: str) -> TaskView:
        task = self._task(task_id)
        view = self._view(task)
        if view is None:
            raise TaskNotFound(task_id)
        return view

    def complete(self, task_id: str, data: dict) -> list[Change]:
        """Complete a READY manual task with form data and run the engine on; raise TaskNotReady otherwise."""
        task = self._task(task_id)
        if not task.task_spec.manual or self._view(task) is None:
            raise TaskNotFound(task_id)
        if task.state != TaskState.READY:
            raise TaskNotReady(task_id)  # SpiffWorkflow's run() would complete a FUTURE task: never call it then
        data = check_data(data)

        assignee = _assignee(task)

        def act():
            task.data.update(data)
            if assignee:  # kept where the view finds it once the variable leaves the data
                task.internal_data["sunlight_assignee"] = assignee
            # An instance's element variable (its item, e.g. its assignee) is not a result: merged into the
            # multi-instance task's data it would stop the next instance ("input item already exists").
            task.data.pop(getattr(task.task_spec, "sunlight_element_variable", None) or "", None)
            task.run()
            self._engine_steps()
        return self._step(act)

    def deliver(self, name: str, payload: dict) -> list[Change]:
        """Deliver a message (or signal) to the tasks waiting for it; its payload joins the case data there.

        Due timers fire first, in the same instant as the catch (see timers.pinned): when a timer and the
        message race at an event-based gateway, exactly one of them wins. NoWaitingCatch when nothing waits."""
        payload = check_data(payload)

        def act():
            self.workflow.refresh_timers()
            self._engine_steps()
            kinds = {w.kind for w in self.waits() if w.name == name}
            if not kinds:
                raise NoWaitingCatch(name)
            for kind in sorted(kinds):
                definition = MessageEventDefinition(name) if kind == "message" else SignalEventDefinition(name)
                # Sunlight correlates by case data before it delivers; SpiffWorkflow's own keys must not refuse it.
                event = BpmnEvent(definition, payload=deepcopy(payload), correlations=deepcopy(self.workflow.correlations))
                self.workflow.event_manager.catch(event, internal=False)
            self._engine_steps()
        return self._step(act)

    def waits(self) -> list[Wait]:
        """The messages and signals the case waits for now (what the waits projection holds)."""
        found = []
        for task in self.workflow.event_manager.tasks.values():
            if task.state != TaskState.WAITING:
                continue
            for kind, name in _catches(task.task_spec):
                found.append(Wait(str(task.id), task.task_spec.bpmn_id, kind, name))
        return sorted(found, key=lambda w: (w.name, w.bpmn_id or "", w.task_id))

    def catch_data(self, name: str) -> dict:
        """The data at the tasks waiting for `name`: what a message's correlation keys are compared with."""
        data: dict = {}
        for wait in self.waits():
            if wait.name == name:
                data.update(self._task(wait.task_id).data)
        return data

    def task_data(self, task_id: str) -> dict:
        """A copy of the data at one task (what an external worker gets to do its work with)."""
        return deepcopy(self._task(task_id).data)

    def complete_external(self, task_id: str, data: dict) -> list[Change]:
        """Complete open external work (a service task) with its result data and run the engine on."""
        task = self._task(task_id)
        if not _is_external(task.task_spec):
            raise TaskNotFound(task_id)
        if task.state != TaskState.STARTED:
            raise TaskNotReady(task_id)
        data = check_data(data)

        def act():
            task.data.update(data)
            task.complete()
            self._engine_steps()
        return self._step(act)

    def cancel(self) -> list[Change]:
        """End the case early (不予受理, 撤回, 终止): every open task and waiting event is cancelled, for good."""
        return self._step(self.workflow.cancel)

    # --- reading ----------------------------------------------------------------------------------------------
    def tasks(self) -> list[TaskView]:
        views = (self._view(t) for t in self._all_tasks())
        return [v for v in views if v is not None]

    def shift_timers(self, delta: timedelta) -> int:
        """Move every waiting timer later by `delta` (a clock stop: time suspended does not count).

        SpiffWorkflow froze each timer's due time in its event_value when the timer started; shifting that
        value is the whole change. Returns how many timers moved.
        """
        moved = 0
        for task in self._waiting_timers():
            value = task.internal_data.get("event_value")
            if isinstance(value, dict) and value.get("next"):  # a cycle: its next firing
                value["next"] = (datetime.fromisoformat(value["next"]) + delta).isoformat()
            elif isinstance(value, str):
                due = timers.due_at(_timer_definitions(task)[0], value)
                if due is None:
                    continue
                task.internal_data["event_value"] = (due + delta).isoformat()
            else:
                continue
            moved += 1
        return moved

    def next_timer_due(self) -> datetime | None:
        dues = [self._timer_due(t) for t in self._waiting_timers()]
        dues = [d for d in dues if d is not None]
        return min(dues) if dues else None

    # --- internals --------------------------------------------------------------------------------------------
    def _engine_steps(self) -> None:
        """SpiffWorkflow's engine steps, each task charged to the action's budget before it runs."""
        self.workflow.do_engine_steps(will_complete_task=self._charge)

    def _charge(self, task) -> None:
        self.budget.check(getattr(task.task_spec, "bpmn_id", None))

    def _task(self, task_id: str):
        try:
            task = self.workflow.get_task_from_id(UUID(str(task_id)))
        except (ValueError, TypeError, KeyError, WorkflowException):
            task = None
        if task is None:
            raise TaskNotFound(task_id)
        return task

    def _all_tasks(self) -> list:
        """Every task in SpiffWorkflow's tree order. Walking the tree is the engine's dearest read, and the
        diff, the projection and the next timer all need it after an action: it is walked once per action."""
        if self._walked is None:
            self._walked = self.workflow.get_tasks(state=TaskState.ANY_MASK)
        return self._walked

    def _waiting_timers(self):
        """Waiting timer events, and event-based gateways waiting with a timer branch."""
        return [t for t in self._all_tasks() if t.state == TaskState.WAITING and _timer_definitions(t)]

    @staticmethod
    def _timer_due(task) -> datetime | None:
        dues = [timers.due_at(d, d.details(task).value) for d in _timer_definitions(task)]
        dues = [d for d in dues if d is not None]
        return min(dues) if dues else None

    def _step_due(self, task) -> datetime | None:
        """A user task's step deadline: the earliest of its waiting boundary timers."""
        parent = task.parent
        if parent is None or not parent.task_spec.name.endswith(".BoundaryEventSplit"):
            return None
        dues = [self._timer_due(c) for c in parent.children
                if isinstance(c.task_spec, BoundaryEvent) and _is_timer(c) and c.state == TaskState.WAITING]
        dues = [d for d in dues if d is not None]
        return min(dues) if dues else None

    def _view(self, task) -> TaskView | None:
        spec = task.task_spec
        if getattr(spec, "bpmn_id", None) is None:
            return None
        state = _STATE_NAMES.get(task.state)
        if state is None:
            return None
        common = dict(id=str(task.id), bpmn_id=spec.bpmn_id, name=spec.bpmn_name, lane=spec.lane)
        if spec.manual:
            return TaskView(**common, kind="user", state=state, due_at=self._step_due(task) if state == "ready" else None,
                            assignee=_assignee(task))
        if _is_external(spec):
            if task.state == TaskState.READY:
                return None  # about to be started by the engine: not open yet
            state = "waiting" if task.state == TaskState.STARTED else state
            return TaskView(**common, kind="external", state=state, due_at=None, topic=getattr(spec, "sunlight_topic", None))
        if self._shown_event(spec):
            if state == "ready":
                return None
            due = self._timer_due(task) if state == "waiting" else None
            catches = tuple(name for _kind, name in _catches(spec)) if state == "waiting" else ()
            return TaskView(**common, kind="event", state=state, due_at=due, catches=catches)
        return None

    @staticmethod
    def _shown_event(spec) -> bool:
        """Intermediate events, receive tasks and event-based gateways are steps of the case; boundary and start
        events only when they wait for a message or signal (someone outside has to act)."""
        if isinstance(spec, (IntermediateCatchEvent, ReceiveTask, EventBasedGateway)):
            return True
        return isinstance(spec, CatchingEvent) and bool(_catches(spec))

    def _snapshot(self) -> dict:
        """State (and cycle firings) of every task by id; order does not matter, so no tree walk."""
        snap = {}
        for t in (task for wf in self._workflows() for task in wf.tasks.values()):
            cycle = isinstance(getattr(t.task_spec, "event_definition", None), CycleTimerEventDefinition)
            snap[t.id] = (t.state, _firings(t) if cycle else 0)
        return snap

    def _step(self, action: Callable[[], None]) -> list[Change]:
        before = self._snapshot()
        self._walked = None  # the action changes the tree
        try:
            with timers.pinned(), budget.spending(self.budget):
                action()
        except NoWaitingCatch:
            raise
        except OverBudget as exc:
            raise TooExpensive(exc.message, exc.element_id) from None
        except ExpressionError as exc:
            raise EngineError(exc.message) from None
        except SpiffWorkflowException as exc:
            task = getattr(exc, "task", None)
            element = getattr(getattr(task, "task_spec", None), "bpmn_id", None)
            over = _cause(exc, OverBudget)
            if over is not None:
                raise TooExpensive(over.message, over.element_id or element) from None
            raise EngineError(_engine_message(exc), element) from None
        except Exception as exc:  # e.g. SpiffWorkflow's bare Exception('Invalid duration') from a timer value
            over = _cause(exc, OverBudget)
            if over is not None:
                raise TooExpensive(over.message, over.element_id) from None
            raise _unexpected(exc) from None
        errored = next((t for t in self._all_tasks() if t.state == TaskState.ERROR), None)
        if errored is not None:
            raise EngineError("the engine stopped on an error", errored.task_spec.bpmn_id)
        too_long = next((t for t in self._all_tasks() if t.state in _OPEN and len(_assignee(t) or "") > MAX_ASSIGNEE_CHARS),
                        None)
        if too_long is not None:  # would be cut or refused by the column; no user has such a name anyway
            raise EngineError(f"an instance of the joint step (会签) would belong to an assignee longer than "
                              f"{MAX_ASSIGNEE_CHARS} characters (from the case data): no user has such a name",
                              too_long.task_spec.bpmn_id)
        if self._beyond_reach():
            raise EngineError(f"the case went round a loop too often: its steps are more than {MAX_TREE_DEPTH} deep "
                              "and the engine would stop following them (the action was not saved)")
        return self._diff(before)

    def _beyond_reach(self) -> bool:
        """SpiffWorkflow walks its task tree to a depth of 1000 and silently ignores what lies deeper, so an
        automatic loop of a few hundred rounds would end the case early without a word. The walk then finds
        fewer tasks than the workflow holds."""
        return len(self._all_tasks()) < sum(len(wf.tasks) for wf in self._workflows())

    def _workflows(self) -> list:
        """The case's workflow and its subprocesses: each holds its own tasks."""
        return [self.workflow, *self.workflow.subprocesses.values()]

    def _diff(self, before: dict) -> list[Change]:
        changes: list[Change] = []
        for task in self._all_tasks():
            spec = task.task_spec
            if getattr(spec, "bpmn_id", None) is None:
                continue
            old_state, old_children = before.get(task.id, (None, 0))
            common = dict(task_id=str(task.id), bpmn_id=spec.bpmn_id, name=spec.bpmn_name, lane=spec.lane)
            if _is_timer(task):
                fired = _firings(task) - old_children if isinstance(spec.event_definition, CycleTimerEventDefinition) \
                    else int(task.state == TaskState.COMPLETED and old_state != TaskState.COMPLETED)
                for n in range(fired):
                    changes.append(Change("timer_fired", **common, detail=self._timer_detail(task, old_children + n + 1)))
                if task.state == TaskState.WAITING and old_state != TaskState.WAITING:
                    changes.append(Change("timer_started", **common,
                                          detail={"due_at": _iso(self._timer_due(task))}))
                continue
            if task.state == old_state:
                continue
            change = self._change_of(task, old_state, common)
            if change is not None:
                changes.append(change)
        return changes

    def _change_of(self, task, old_state, common: dict) -> Change | None:
        """The audit-worthy change of a task that is not a timer event, or None."""
        spec, state = task.task_spec, task.state
        if spec.manual and state == TaskState.READY:
            return Change("task_ready", **common, detail={})
        if spec.manual and state == TaskState.COMPLETED:
            return Change("task_completed", **common, detail={})
        if state == TaskState.CANCELLED and old_state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
            return Change("task_cancelled", **common, detail={})
        if _is_external(spec) and state == TaskState.STARTED:
            return Change("external_task_opened", **common, detail={"topic": getattr(spec, "sunlight_topic", None)})
        if _is_external(spec) and state == TaskState.COMPLETED and old_state == TaskState.STARTED:
            return Change("external_task_completed", **common, detail={"topic": getattr(spec, "sunlight_topic", None)})
        if state == TaskState.WAITING and _timer_definitions(task):  # an event-based gateway with a timer branch
            return Change("timer_started", **common, detail={"due_at": _iso(self._timer_due(task))})
        caught = getattr(spec, "sunlight_caught", None)
        if isinstance(caught, TimerEventDefinition) and state == TaskState.COMPLETED:  # the gateway's timer won
            return Change("timer_fired", **common, detail={"firing": 1, "boundary": False, "interrupting": False,
                                                           "gateway": task.parent.task_spec.bpmn_id})
        return None

    @staticmethod
    def _timer_detail(task, n: int) -> dict:
        spec = task.task_spec
        activity = _attached_activity(task) if isinstance(spec, BoundaryEvent) else None
        detail = {"firing": n, "boundary": isinstance(spec, BoundaryEvent),
                  "interrupting": bool(getattr(spec, "cancel_activity", False))}
        if activity is not None:
            detail.update(activity_task_id=str(activity.id), activity_bpmn_id=activity.task_spec.bpmn_id,
                          activity_name=activity.task_spec.bpmn_name, activity_lane=activity.task_spec.lane)
        return detail


def _assignee(task) -> str | None:
    """会签: the user an instance of a multi-instance step belongs to (its `assignee` element variable)."""
    if not getattr(task.task_spec, "sunlight_assigned", False):
        return None
    value = task.internal_data.get("sunlight_assignee") or task.data.get(task.task_spec.sunlight_element_variable)
    return value.strip() if isinstance(value, str) and value.strip() else None


def _cause(exc: BaseException, kind: type) -> BaseException | None:
    """The first exception of `kind` in exc's chain (SpiffWorkflow wraps what our evaluator raised)."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        if isinstance(exc, kind):
            return exc
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return None


def _engine_message(exc: Exception) -> str:
    """SpiffWorkflow's words, plus the reason our evaluator gave (Spiff keeps it only as the exception context)."""
    message = str(exc).split(" Source Details:")[0].strip()
    cause = exc.__context__
    while cause is not None and not isinstance(cause, ExpressionError):
        cause = cause.__context__
    if cause is None:
        return message
    what = message.rstrip(". ") if message.startswith("Error evaluating") else "the script failed"
    return f"{what}: {cause.message}"


def _unexpected(exc: Exception) -> EngineError:
    """A plain Python error from inside SpiffWorkflow. The usual one is a timer whose value is not ISO text
    (None, a number): SpiffWorkflow's timer code fails on it, and its frame still holds the task."""
    tb = exc.__traceback__
    while tb is not None:
        task = tb.tb_frame.f_locals.get("my_task") if tb.tb_frame.f_code.co_filename == spiff_timer.__file__ else None
        if task is not None:
            return EngineError("the timer's value is not an ISO-8601 date, duration or cycle (like PT72H)",
                               getattr(task.task_spec, "bpmn_id", None))
        tb = tb.tb_next
    return EngineError(f"the engine failed ({type(exc).__name__}: {exc})")


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None
