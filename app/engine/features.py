"""What Sunlight reads in a diagram beyond SpiffWorkflow's own parser, before and after it parses.

Before (`prepare`, on the lxml tree): a `<bpmn:message>` without a name is named by its id (SpiffWorkflow would
name its events None, and nobody could address them); Camunda's multi-instance attributes
(`camunda:collection`, `camunda:elementVariable`), which SpiffWorkflow's BPMN parser ignores, become the standard
`loopDataInputRef` and `inputDataItem` it reads.

After (`annotate`, on the built specs): each service task learns its external-work topic (`camunda:topic`, else
its name, else its id); a multi-instance task's element variable is the `inputDataItem`'s name where it has
one (SpiffWorkflow uses the id, which must be unique in the file); the steps of a multi-instance task whose
element variable is `assignee` are marked as assigned (会签); and event-based gateways get their timers checked
and normalised like every other timer (SpiffWorkflow moves the branches' events into the gateway, out of reach of
the timer normalisation). The annotations are attributes on the cached spec objects; the blob never holds them.
"""
from __future__ import annotations

import re
from collections.abc import Sized
from zoneinfo import ZoneInfo

from lxml import etree
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.parser.util import full_tag
from SpiffWorkflow.bpmn.specs.data_spec import TaskDataReference
from SpiffWorkflow.bpmn.specs.event_definitions.multiple import MultipleEventDefinition
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import EventBasedGateway
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.multiinstance_task import MultiInstanceTask
from SpiffWorkflow.bpmn.specs.mixins.script_task import ScriptEngineTask
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask

from . import budget, dmn
from .errors import ExpressionError, OverBudget, Problem
from .timers import TimerValueError, normalise

BPMN = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NS = {"bpmn": BPMN}
ASSIGNEE = "assignee"  # the element variable that binds an instance of a multi-instance step to a user (会签)

# Children of multiInstanceLoopCharacteristics in the order the BPMN schema wants them.
_MI_ORDER = ["documentation", "extensionElements", "loopCardinality", "loopDataInputRef", "loopDataOutputRef",
             "inputDataItem", "outputDataItem", "complexBehaviorDefinition", "completionCondition"]
_JUEL = re.compile(r"^\s*[$#]\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\s*$")


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


class BusinessRuleTask(ScriptEngineTask, BpmnSpecMixin):
    """A business-rule task: its decision table (app/engine/dmn.py, set by `annotate`) decides, and the outputs
    join the case data. Never SpiffWorkflow's DMN engine, which evaluates cells with eval."""

    sunlight_decision: dmn.DecisionTable | None = None

    def _execute(self, task):
        try:
            outputs = dmn.decide(self.sunlight_decision, task.data, task.workflow.script_engine.environment.helpers)
        except dmn.DecisionError as exc:
            raise WorkflowTaskException(str(exc), task=task) from None
        task.data.update(outputs)
        return True


class SunlightParser(BpmnParser):
    """SpiffWorkflow's BPMN parser, plus business-rule tasks evaluated by Sunlight."""

    OVERRIDE_PARSER_CLASSES = {full_tag("businessRuleTask"): (TaskParser, BusinessRuleTask)}


# --- before the parser --------------------------------------------------------------------------------------
def prepare(tree: etree._ElementTree) -> None:
    """Rewrite the tree in place so that SpiffWorkflow reads what the designer meant (see the module doc)."""
    for message in tree.xpath("//bpmn:message[@id and (not(@name) or normalize-space(@name)='')]", namespaces=NS):
        message.set("name", message.get("id"))
    for loop in tree.xpath("//bpmn:multiInstanceLoopCharacteristics", namespaces=NS):
        _camunda_multi_instance(loop)


def _variable(text: str | None) -> str | None:
    """A Camunda collection or variable as a plain data name: `assignees` or `${assignees}`."""
    text = (text or "").strip()
    match = _JUEL.match(text)
    name = match.group(1) if match else text
    return name if name.isidentifier() else None


def _insert(loop: etree._Element, child: etree._Element) -> None:
    """Put `child` where the schema wants it among the loop characteristics' children."""
    rank = _MI_ORDER.index(_local(child))
    position = 0
    for i, existing in enumerate(loop):
        if isinstance(existing.tag, str) and _local(existing) in _MI_ORDER and _MI_ORDER.index(_local(existing)) < rank:
            position = i + 1
    loop.insert(position, child)


def _camunda_multi_instance(loop: etree._Element) -> None:
    has = {_local(c) for c in loop if isinstance(c.tag, str)}
    collection = _variable(loop.get(f"{{{CAMUNDA}}}collection"))
    if collection and not has & {"loopCardinality", "loopDataInputRef"}:
        ref = etree.Element(f"{{{BPMN}}}loopDataInputRef")
        ref.text = collection
        _insert(loop, ref)
        has.add("loopDataInputRef")
    element = _variable(loop.get(f"{{{CAMUNDA}}}elementVariable"))
    if element and "loopDataInputRef" in has and "inputDataItem" not in has:
        owner = loop.getparent().get("id") or "multi_instance"
        _insert(loop, etree.Element(f"{{{BPMN}}}inputDataItem", id=f"{owner}_{element}_item", name=element))


# --- after the parser ---------------------------------------------------------------------------------------
def annotate(specs: list, trees: list[etree._ElementTree], tz: ZoneInfo,
             decisions: dict[str, dmn.DecisionTable] | None = None) -> tuple[list[Problem], list[str]]:
    """Mark the specs (topics, element variables, assignees, gateway timers, decision tables) read from these
    files (the diagram and the shared flows it calls); return problems and warnings."""
    elements = {el.get("id"): el for tree in trees for el in tree.iter() if isinstance(el.tag, str) and el.get("id")}
    problems: list[Problem] = []
    warnings: list[str] = []
    for spec in specs:
        for task_spec in list(spec.task_specs.values()):
            element = elements.get(getattr(task_spec, "bpmn_id", None))
            if isinstance(task_spec, ServiceTask):
                task_spec.sunlight_topic = topic_of(element, task_spec)
                problems += _reserved_topic(task_spec, element)
            if isinstance(task_spec, MultiInstanceTask):
                _element_variable(spec, task_spec, element)
                _cap_instances(task_spec)
            if isinstance(getattr(task_spec, "event_definition", None), MultipleEventDefinition):
                problems += _multiple_timers(task_spec, element, tz, warnings)
            if isinstance(task_spec, BusinessRuleTask):
                problems += _decision(task_spec, element, decisions or {})
    return problems, warnings


def _decision(task_spec: BusinessRuleTask, element, decisions: dict[str, dmn.DecisionTable]) -> list[Problem]:
    """A business-rule task names its decision with camunda:decisionRef (as Camunda Modeler writes it)."""
    ref = ((element.get(f"{{{CAMUNDA}}}decisionRef") if element is not None else None) or "").strip()
    line = element.sourceline if element is not None else None
    if not ref:  # checks.structural refuses it before; kept for diagrams built another way
        return [Problem(task_spec.bpmn_id, line, "the <bpmn:businessRuleTask> names no decision (camunda:decisionRef)")]
    table = decisions.get(ref)
    if table is None:
        known = ", ".join(sorted(decisions)) or "none uploaded"
        return [Problem(task_spec.bpmn_id, line, f"the business-rule task calls decision '{ref}', which is in no "
                                                  f"uploaded DMN file (decisions: {known})")]
    task_spec.sunlight_decision = table
    return []


# Service-task topics Sunlight serves itself (app/builtin_topics.py); the prefix is reserved, so a mistyped
# built-in topic is refused at upload instead of waiting for ever for a worker that will never come.
TELL_APPLICANT = "sunlight.tell-applicant"
PUBLISH_DECISION = "sunlight.publish-decision"
BUILTIN_TOPICS = (TELL_APPLICANT, PUBLISH_DECISION)
RESERVED_PREFIX = "sunlight."


def _reserved_topic(task_spec, element: etree._Element | None) -> list[Problem]:
    topic = task_spec.sunlight_topic
    if not topic.lower().startswith(RESERVED_PREFIX) or topic in BUILTIN_TOPICS:
        return []
    line = element.sourceline if element is not None else None
    return [Problem(task_spec.bpmn_id, line, f"the topic '{topic}' is not one Sunlight serves: topics starting "
                                             f"with 'sunlight.' are its own ({', '.join(BUILTIN_TOPICS)})")]


def topic_of(element: etree._Element | None, task_spec) -> str:
    """A service task's topic: camunda:topic as Camunda Modeler writes it, else the task's name, else its id."""
    topic = (element.get(f"{{{CAMUNDA}}}topic") if element is not None else None) or ""
    return topic.strip() or (task_spec.bpmn_name or "").strip() or task_spec.bpmn_id


def _element_variable(spec, task_spec, element: etree._Element | None) -> None:
    """Use the inputDataItem's name as the variable (bpmn.io users type the name; the id must stay unique)."""
    item = element.xpath("./bpmn:multiInstanceLoopCharacteristics/bpmn:inputDataItem", namespaces=NS) \
        if element is not None else []
    name = (item[0].get("name") or "").strip() if item else ""
    if task_spec.input_item is not None and name.isidentifier():
        task_spec.input_item = TaskDataReference(name, name)
    variable = task_spec.input_item.bpmn_id if task_spec.input_item is not None else None
    child = spec.task_specs.get(task_spec.task_spec)
    if child is not None:
        child.sunlight_element_variable = variable
        child.sunlight_assigned = variable == ASSIGNEE


def _cap_instances(task_spec) -> None:
    """Count a multi-instance step's instances before SpiffWorkflow creates them (all at once when parallel):
    20,000 instances are seconds of work and a worklist nobody can open. Over the action's limit → OverBudget."""
    create = task_spec._update_hook

    def _update_hook(my_task):
        count = _instance_count(task_spec, my_task)
        if isinstance(count, int):
            (budget.current() or budget.Budget()).check_instances(count, task_spec.bpmn_id)
        return create(my_task)
    task_spec._update_hook = _update_hook  # on this cached spec object only; the blob never holds specs


def _instance_count(task_spec, my_task):
    """How many instances the step is about to run: its collection's length or its cardinality (None: unknown,
    and SpiffWorkflow then refuses it in words of its own). Read over the data the step is about to inherit."""
    data = {**(my_task.parent.data if my_task.parent is not None else {}), **my_task.data}
    if task_spec.data_input is not None:
        items = data.get(task_spec.data_input.bpmn_id)
        return len(items) if isinstance(items, Sized) else None
    if task_spec.cardinality is None:
        return None
    try:
        count = my_task.workflow.script_engine.environment.evaluate(task_spec.cardinality, data)
    except OverBudget:
        raise
    except ExpressionError:
        return None
    return count if isinstance(count, int) and not isinstance(count, bool) else None


def _multiple_timers(task_spec, element, tz: ZoneInfo, warnings: list[str]) -> list[Problem]:
    """An event-based gateway (or a multiple event) holds its branches' events: normalise its timer there.

    SpiffWorkflow keeps one due time per task, so two timers on one gateway would share it: refused."""
    definitions = task_spec.event_definition.event_definitions
    line = element.sourceline if element is not None else None
    timers = [d for d in definitions if isinstance(d, TimerEventDefinition)]
    if len(timers) > 1:
        return [Problem(task_spec.bpmn_id, line, "an event-based gateway may wait for one timer only; merge the "
                                                  "timer branches into one")]
    problems = []
    for i, definition in enumerate(definitions):
        if not isinstance(definition, TimerEventDefinition):
            continue
        if isinstance(definition, CycleTimerEventDefinition):
            problems.append(Problem(task_spec.bpmn_id, line, "a timer after an event-based gateway fires once: use "
                                                              "a date or a duration (PT72H, P10D, workdays(5)), not a cycle"))
            continue
        try:
            definitions[i], warning = normalise(definition, tz)
        except TimerValueError as exc:
            problems.append(Problem(task_spec.bpmn_id, line, f"timer: {exc}"))
            continue
        if warning:
            warnings.append(f"{task_spec.bpmn_id}: {warning}")
    if isinstance(task_spec, EventBasedGateway):
        for branch, definition in zip(task_spec.outputs, definitions):
            branch.sunlight_caught = definition  # which event a branch waited for (its own is None now)
    return problems


def start_messages(tree: etree._ElementTree, process_id: str) -> list[str]:
    """Names of the messages that start the process (message start events at its top level)."""
    names = {m.get("id"): m.get("name") or m.get("id") for m in tree.xpath("//bpmn:message", namespaces=NS)}
    refs = tree.xpath("/bpmn:definitions/bpmn:process[@id=$pid]/bpmn:startEvent/bpmn:messageEventDefinition/@messageRef",
                      pid=process_id, namespaces=NS)
    return sorted({names[r] for r in refs if r in names})


def lanes(tree: etree._ElementTree) -> list[tuple[str, str, int | None]]:
    """(id, name, line) of every named lane: the doors check `ORG:POST` names against the org units."""
    return [(lane.get("id") or "", (lane.get("name") or "").strip(), lane.sourceline)
            for lane in tree.xpath("//bpmn:lane[normalize-space(@name)!='']", namespaces=NS)]
