"""Deploy-time limits (issue 10): diagrams that would publish but break every case are refused at upload.

A multi-instance step of 20,000 instances, a cycle timer `R100000/PT0S` or `R/PT1S`, a script of pages, a lane
name longer than the column its post is stored in: each passed the old checks and then failed (or flooded the
worklists and the supervisors) on every case. Each refusal names the element and its line, like every other
check (app/engine/checks.py). The numbers come from config.py through `budget.Limits`; the column lengths are
those of the tables the words land in (tests/unit/test_deploy_limits.py keeps them equal).
"""
from __future__ import annotations

import ast
from zoneinfo import ZoneInfo

from lxml import etree
from SpiffWorkflow.bpmn.specs.event_definitions.timer import CycleTimerEventDefinition, TimerEventDefinition

from .budget import Limits
from .errors import Problem
from .timers import TimerValueError, classify

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
CAMUNDA = "http://camunda.org/schema/1.0/bpmn"

# Where a diagram's words are stored; longer ones would fail at the first save of a case with a database error.
MAX_ID = 200  # case_tasks.bpmn_id, external_tasks.bpmn_id, audit_events.task_bpmn_id, process_definitions.process_id
MAX_NAME = 300  # case_tasks.name, external_tasks.name (a step's name)
MAX_EVENT_NAME = 200  # case_waits.name, definition_start_messages.name (a message's or signal's name)
MAX_TOPIC = 200  # external_tasks.topic (a service task's camunda:topic, else its name)
MAX_POST = 100  # case_tasks.lane and user_posts.post (a lane's name, or the POST of an ORG:POST lane)

_FLOW_NODES = {"task", "userTask", "manualTask", "scriptTask", "serviceTask", "sendTask", "receiveTask",
               "businessRuleTask", "callActivity", "subProcess", "transaction", "adHocSubProcess", "startEvent",
               "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
               "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway"}


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _owner(el: etree._Element) -> etree._Element:
    """The element a designer clicks on: the nearest ancestor-or-self that is a flow node (or has an id)."""
    node = el
    while node is not None and not (isinstance(node.tag, str) and _local(node) in _FLOW_NODES):
        node = node.getparent()
    if node is not None:
        return node
    while el is not None and not el.get("id"):
        el = el.getparent()
    return el


def _problem(el: etree._Element, message: str) -> Problem:
    owner = _owner(el)
    return Problem(owner.get("id") if owner is not None else None, el.sourceline, message)


def check(tree: etree._ElementTree, process: etree._Element, tz: ZoneInfo, limits: Limits) -> list[Problem]:
    """Every deploy-time limit over one executable process (and the messages and signals of the file)."""
    return (_check_lengths(tree, process) + _check_instances(process, limits) + _check_cycles(process, tz, limits)
            + _check_script_lengths(process, limits))


def _too_long(el: etree._Element, what: str, value: str, limit: int) -> Problem:
    return _problem(el, f"the {what} is {len(value)} characters long; at most {limit} are stored "
                        f"('{value[:40]}…')")


def _check_lengths(tree: etree._ElementTree, process: etree._Element) -> list[Problem]:
    problems = []
    if len(process.get("id") or "") > MAX_ID:
        problems.append(_too_long(process, "process id", process.get("id"), MAX_ID))
    for el in process.iter():
        if not isinstance(el.tag, str) or _local(el) not in _FLOW_NODES:
            continue
        ident, name = el.get("id") or "", (el.get("name") or "").strip()
        if len(ident) > MAX_ID:
            problems.append(Problem(ident[:MAX_ID] + "…", el.sourceline, f"the id is {len(ident)} characters long; "
                                                                         f"at most {MAX_ID} are stored"))
        if len(name) > MAX_NAME:
            problems.append(_too_long(el, "name", name, MAX_NAME))
        if _local(el) == "serviceTask":
            topic = (el.get(f"{{{CAMUNDA}}}topic") or "").strip() or name
            if len(topic) > MAX_TOPIC:
                problems.append(_too_long(el, "topic of the service task (camunda:topic, else its name)", topic,
                                          MAX_TOPIC))
    for el in tree.xpath("//bpmn:message|//bpmn:signal", namespaces=NS):
        name = el.get("name") or el.get("id") or ""
        if len(name) > MAX_EVENT_NAME:
            problems.append(_too_long(el, f"name of the {_local(el)}", name, MAX_EVENT_NAME))
    return problems


def _check_instances(process: etree._Element, limits: Limits) -> list[Problem]:
    """A cardinality typed as a number is checked here; one read from case data is capped when the step starts."""
    problems = []
    for el in process.xpath(".//bpmn:multiInstanceLoopCharacteristics/bpmn:loopCardinality", namespaces=NS):
        try:
            count = ast.literal_eval((el.text or "").strip())
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            continue  # an expression over case data: the run-time cap holds it
        if isinstance(count, int) and count > limits.max_instances:
            problems.append(_problem(el, f"the multi-instance step would run {count} instances; at most "
                                         f"{limits.max_instances} are allowed (MAX_MULTI_INSTANCES)"))
    return problems


def _check_cycles(process: etree._Element, tz: ZoneInfo, limits: Limits) -> list[Problem]:
    problems = []
    for el in process.xpath(".//bpmn:timerEventDefinition/bpmn:timeCycle", namespaces=NS):
        message = _cycle_problem((el.text or "").strip(), tz, limits)
        if message:
            problems.append(_problem(el, f"timer: {message}"))
    return problems


def _cycle_problem(text: str, tz: ZoneInfo, limits: Limits) -> str | None:
    """Why a cycle's repetitions or interval are refused, or None (a value that is no cycle at all is left to
    the timer checks, which say so)."""
    try:
        expression, is_workdays, warning = classify(CycleTimerEventDefinition, text, tz)
    except TimerValueError:
        return None
    if is_workdays:
        return None  # a working-day deadline: it fires once
    if warning:
        return (f"a cycle must be typed as an ISO-8601 value like R3/PT24H, so that its repetitions and interval "
                f"can be checked; '{text[:60]}' is an expression")
    value = ast.literal_eval(expression)  # classify gives the checked value as a quoted literal
    cycles, _start, duration = TimerEventDefinition.parse_iso_recurring_interval(value)
    if cycles < 0 or cycles > limits.max_cycle_repetitions:
        times = "without end" if cycles < 0 else f"{cycles} times"
        return (f"the cycle '{text[:60]}' repeats {times}; at most {limits.max_cycle_repetitions} repetitions are "
                f"allowed (write e.g. R{min(10, limits.max_cycle_repetitions)}/P1D; MAX_TIMER_CYCLES)")
    if duration.total_seconds() < limits.min_cycle_seconds:
        return (f"the cycle '{text[:60]}' repeats every {duration.total_seconds():g} s; the shortest interval allowed "
                f"is {limits.min_cycle_seconds:g} s (MIN_TIMER_CYCLE_SECONDS)")
    return None


def _check_script_lengths(process: etree._Element, limits: Limits) -> list[Problem]:
    problems = []
    for el in process.xpath(".//bpmn:scriptTask/bpmn:script|.//bpmn:conditionExpression", namespaces=NS):
        text = (el.text or "").strip()
        if len(text) > limits.max_script_chars:
            what = "script" if _local(el) == "script" else "condition"
            problems.append(_problem(el, f"the {what} is {len(text)} characters long; at most "
                                         f"{limits.max_script_chars} are allowed (MAX_SCRIPT_CHARS)"))
    return problems
