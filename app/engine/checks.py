"""Our own checks on the XML, before SpiffWorkflow: each problem names the element and its line."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from lxml import etree

from . import deploy_limits
from .budget import Limits
from .errors import Problem
from .expressions import ExpressionError, check_expression, check_script
from .timers import KINDS, TimerValueError, classify

NS = {"bpmn": "http://www.omg.org/spec/BPMN/20100524/MODEL"}
EXECUTABLE_HINT = ("no process is executable. In bpmn.io select the pool or the canvas and tick "
                   "'Executable' in the properties panel (it writes isExecutable=\"true\" on <bpmn:process>)")


# SpiffWorkflow reads a process without the attribute as executable (`isExecutable` defaults to true), and
# anything but "true" as not executable: the same reading here, so what we check is what the engine runs.
EXECUTABLE_XPATH = "/bpmn:definitions/bpmn:process[not(@isExecutable) or @isExecutable='true']"


def is_executable(process: etree._Element) -> bool:
    return process.get("isExecutable", "true") == "true"


def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


# Inner parts that modelers give ids of their own but that a designer cannot click on: name their owner.
_INNER = {"conditionExpression", "completionCondition", "condition", "loopCardinality", "script",
          "multiInstanceLoopCharacteristics", "standardLoopCharacteristics", "timerEventDefinition",
          "timeDate", "timeDuration", "timeCycle", "dataInputAssociation", "dataOutputAssociation"}


def _owner_id(el: etree._Element) -> str | None:
    """The nearest ancestor-or-self with an id: the element a designer can click on."""
    while el is not None:
        if el.get("id") and _local(el) not in _INNER:
            return el.get("id")
        el = el.getparent()
    return None


def _problem(el: etree._Element, message: str) -> Problem:
    return Problem(_owner_id(el), el.sourceline, message)


def _choose_process(tree: etree._ElementTree) -> tuple[str | None, list[Problem]]:
    processes = tree.xpath("/bpmn:definitions/bpmn:process", namespaces=NS)
    if not processes:
        return None, [Problem(None, tree.getroot().sourceline, "the file holds no <bpmn:process>; draw a process first")]
    executable = [p for p in processes if is_executable(p)]
    if not executable:
        return None, [Problem(processes[0].get("id"), processes[0].sourceline, EXECUTABLE_HINT)]
    called = {c.get("calledElement") for c in tree.xpath("//bpmn:callActivity", namespaces=NS)}
    roots = [p for p in executable if p.get("id") not in called]
    if not roots:  # every executable process is called by another: only a loop does that
        return None, _check_call_loops(tree) or [_problem(executable[0], "every executable process is called by a "
                                                          "call activity, so none of them can start a case")]
    if len(roots) > 1:
        names = ", ".join(p.get("id") or "?" for p in roots)
        return None, [_problem(roots[1], f"the file holds several executable top-level processes ({names}); Sunlight "
                                         "runs one per item: untick 'Executable' on the others or call them from one "
                                         "with a call activity")]
    if not roots[0].get("id"):
        return None, [_problem(roots[0], "the executable process has no id")]
    return roots[0].get("id"), []


def _check_flows(process: etree._Element) -> list[Problem]:
    """Every sequence flow's ends exist in the same (sub)process."""
    problems = []
    for container in [process, *process.xpath(".//bpmn:subProcess|.//bpmn:transaction|.//bpmn:adHocSubProcess",
                                              namespaces=NS)]:
        ids = {el.get("id") for el in container if isinstance(el.tag, str) and el.get("id")}
        for flow in container.xpath("./bpmn:sequenceFlow", namespaces=NS):
            for end in ("sourceRef", "targetRef"):
                ref = flow.get(end)
                if not ref:
                    problems.append(_problem(flow, f"the sequence flow has no {end}"))
                elif ref not in ids:
                    problems.append(_problem(flow, f"the sequence flow's {end} '{ref}' is not an element of this process"))
    return problems


# SpiffWorkflow names its own task specs so; an element with such an id replaces one of them. 'Start' stops
# every case at once, '<process>.EndJoin' makes the case skip straight to its end.
_RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin")


def _check_reserved_ids(process: etree._Element) -> list[Problem]:
    return [_problem(el, f"the id '{el.get('id')}' is reserved by the engine; give the element another id")
            for el in process.iter() if isinstance(el.tag, str)
            and (el.get("id") == "Start" or (el.get("id") or "").endswith(_RESERVED_SUFFIXES))]


_DECISIONS = {"exclusiveGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway"}


def _check_closed_loops(process: etree._Element) -> list[Problem]:
    """A loop of sequence flows with no gateway to leave it by can never end, and SpiffWorkflow's look-ahead
    recurses around it until Python's stack runs out, even when a boundary event could leave it."""
    problems = []
    for container in [process, *process.xpath(".//bpmn:subProcess|.//bpmn:transaction|.//bpmn:adHocSubProcess",
                                              namespaces=NS)]:
        decisions = {el.get("id") for el in container if isinstance(el.tag, str) and _local(el) in _DECISIONS}
        edges: dict[str, list[etree._Element]] = {}
        for flow in container.xpath("./bpmn:sequenceFlow", namespaces=NS):
            if flow.get("sourceRef") not in decisions and flow.get("targetRef") not in decisions:
                edges.setdefault(flow.get("sourceRef"), []).append(flow)
        flow = _back_edge(edges)
        if flow is not None:
            problems.append(_problem(flow, "this sequence flow closes a loop that has no exclusive gateway to leave "
                                           "it by, so a case would go round it for ever; add a gateway with a way out"))
    return problems


def _back_edge(edges: dict[str, list[etree._Element]]) -> etree._Element | None:
    """A flow that closes a cycle in the graph, found by an iterative depth-first search (no recursion)."""
    done: set[str] = set()
    for start in list(edges):
        if start in done:
            continue
        path, stack = {start}, [(start, iter(edges.get(start, [])))]
        while stack:
            node, flows = stack[-1]
            flow = next(flows, None)
            if flow is None:
                stack.pop()
                path.discard(node)
                done.add(node)
                continue
            target = flow.get("targetRef")
            if target in path:
                return flow
            if target not in done:
                path.add(target)
                stack.append((target, iter(edges.get(target, []))))
    return None


def _check_call_loops(tree: etree._ElementTree) -> list[Problem]:
    calls: dict[str, list[etree._Element]] = {}
    for process in tree.xpath("/bpmn:definitions/bpmn:process", namespaces=NS):
        calls[process.get("id")] = process.xpath(".//bpmn:callActivity", namespaces=NS)

    def loop_from(start: str) -> etree._Element | None:
        seen, stack = set(), [(start, None)]
        while stack:
            pid, via = stack.pop()
            for call in calls.get(pid, []):
                target = call.get("calledElement")
                if target == start:
                    return call
                if target in calls and target not in seen:
                    seen.add(target)
                    stack.append((target, call))
        return None

    problems = []
    for pid in calls:
        call = loop_from(pid)
        if call is not None:
            problems.append(_problem(call, f"call activities form a loop back to process '{pid}'; a case would never end"))
    return problems


def _check_calls(tree: etree._ElementTree, process: etree._Element, shared: frozenset[str]) -> list[Problem]:
    """A call activity reaches a process of the same file, or a shared flow (`shared`: the process ids of the
    published definitions the caller may call, resolved by app/definitions)."""
    ids = {p.get("id") for p in tree.xpath("/bpmn:definitions/bpmn:process", namespaces=NS)} | shared
    problems = []
    for call in process.xpath(".//bpmn:callActivity", namespaces=NS):
        target = (call.get("calledElement") or "").strip()
        if not target:
            problems.append(_problem(call, "the call activity names no process to call (calledElement)"))
        elif target not in ids:
            problems.append(_problem(call, f"the call activity calls process '{target}', which is not in this file "
                                           "nor a published shared flow of this department or above; draw it as a "
                                           "pool in the same file or use an embedded subprocess"))
    return problems


def external_calls(tree: etree._ElementTree) -> set[str]:
    """The processes the executable processes call that the file does not hold: shared flows, maybe."""
    ids = {p.get("id") for p in tree.xpath("/bpmn:definitions/bpmn:process", namespaces=NS)}
    called = {(c.get("calledElement") or "").strip() for c in tree.xpath(
        EXECUTABLE_XPATH + "//bpmn:callActivity", namespaces=NS)}
    return {c for c in called if c and c not in ids}


def _check_data_stores(tree: etree._ElementTree) -> list[Problem]:
    """Case data lives in the case: SpiffWorkflow refuses data stores it has no implementation for (all of them)."""
    stores = {el.get("id"): el.get("name") or el.get("id")
              for el in tree.xpath("//bpmn:dataStoreReference|//bpmn:dataStore", namespaces=NS)}
    problems = []
    executable = EXECUTABLE_XPATH
    for ref in tree.xpath(f"{executable}//bpmn:dataInputAssociation/bpmn:sourceRef"
                          f"|{executable}//bpmn:dataOutputAssociation/bpmn:targetRef", namespaces=NS):
        if (ref.text or "").strip() in stores:
            problems.append(_problem(ref.getparent(), "Sunlight does not run data stores (case data lives in the "
                                                      f"case): remove the arrow to data store '{stores[ref.text.strip()]}'"))
    for store in tree.xpath("//bpmn:dataStore", namespaces=NS):
        problems.append(_problem(store, "Sunlight does not run data stores (case data lives in the case): remove "
                                        f"data store '{store.get('name') or store.get('id')}'"))
    return problems


def _check_expressions(process: etree._Element) -> list[Problem]:
    problems = []
    for cond in process.xpath(".//bpmn:conditionExpression|.//bpmn:completionCondition|.//bpmn:condition"
                              "|.//bpmn:loopCardinality", namespaces=NS):
        text = (cond.text or "").strip()
        if not text:
            if _local(cond) == "conditionExpression":
                problems.append(_problem(cond, "the condition is empty; write e.g. approved == True"))
            continue
        try:
            check_expression(text)
        except ExpressionError as exc:
            problems.append(_problem(cond, f"condition '{text[:200]}' is refused: {exc.message}"))
    for script in process.xpath(".//bpmn:scriptTask/bpmn:script", namespaces=NS):
        text = (script.text or "").strip()
        if not text:
            continue
        try:
            check_script(text)
        except ExpressionError as exc:
            where = f" (script line {exc.line})" if exc.line else ""
            problems.append(_problem(script, f"script is refused{where}: {exc.message}"))
    return problems


def _check_correlations(tree: etree._ElementTree) -> list[Problem]:
    """The retrieval expressions of correlation properties, which SpiffWorkflow evaluates on every message caught
    (through the safe evaluator): checked like conditions."""
    problems = []
    for retrieval in tree.xpath("//bpmn:correlationPropertyRetrievalExpression/bpmn:formalExpression"
                                "|//bpmn:correlationPropertyRetrievalExpression/bpmn:messagePath", namespaces=NS):
        text = (retrieval.text or "").strip()
        try:
            check_expression(text)
        except ExpressionError as exc:
            problems.append(_problem(retrieval, f"correlation property expression '{text[:200]}' is refused: "
                                                f"{exc.message}"))
    return problems


def _check_timers(process: etree._Element, tz: ZoneInfo) -> list[Problem]:
    problems = []
    for defn in process.xpath(".//bpmn:timerEventDefinition", namespaces=NS):
        values = [el for el in defn if isinstance(el.tag, str) and _local(el) in KINDS]
        if not values:
            problems.append(_problem(defn.getparent(), "the timer has no value; type e.g. PT72H, P3D or workdays(5)"))
            continue
        try:
            classify(KINDS[_local(values[0])], values[0].text or "", tz)
        except TimerValueError as exc:
            problems.append(Problem(_owner_id(defn.getparent()), values[0].sourceline, f"timer: {exc}"))
    return problems


CAMUNDA = "http://camunda.org/schema/1.0/bpmn"
NO_DECISION = ("the <bpmn:businessRuleTask> names no decision: set its camunda:decisionRef to the id of a decision "
               "table uploaded with the diagram")


def _check_business_rules(process: etree._Element) -> list[Problem]:
    """A business-rule task evaluates a decision table uploaded with the diagram, named by camunda:decisionRef
    (whether the table exists is checked once the DMN files are read)."""
    return [_problem(task, NO_DECISION) for task in process.xpath(".//bpmn:businessRuleTask", namespaces=NS)
            if not (task.get(f"{{{CAMUNDA}}}decisionRef") or "").strip()]


def structural(tree: etree._ElementTree, tz: ZoneInfo, shared: frozenset[str] = frozenset(),
               limits: Limits | None = None) -> tuple[str | None, list[Problem]]:
    """Choose the process to run and collect every structural problem of the executable processes (`shared`:
    process ids of published shared flows its call activities may call)."""
    process_id, problems = _choose_process(tree)
    if problems:
        return None, problems
    problems += _check_call_loops(tree) + _check_data_stores(tree) + _check_correlations(tree)
    for process in tree.xpath(EXECUTABLE_XPATH, namespaces=NS):
        problems += (_check_reserved_ids(process) + _check_flows(process) + _check_closed_loops(process)
                     + _check_calls(tree, process, shared) + _check_expressions(process) + _check_timers(process, tz)
                     + _check_business_rules(process) + deploy_limits.check(tree, process, tz, limits or Limits()))
    return process_id, problems


def warnings(tree: etree._ElementTree, process_id: str) -> list[str]:
    """Things that run but that a designer should know."""
    found = []
    process = tree.xpath("/bpmn:definitions/bpmn:process[@id=$pid]", pid=process_id, namespaces=NS)[0]
    has_lanes = bool(process.xpath(".//bpmn:lane", namespaces=NS))
    laned = {ref.text for ref in process.xpath(".//bpmn:flowNodeRef", namespaces=NS)}
    for task in process.xpath(".//bpmn:userTask|.//bpmn:manualTask|.//bpmn:task", namespaces=NS):
        if has_lanes and task.get("id") not in laned:
            found.append(f"{task.get('id')}: the task lies in no lane; any clerk of the department may complete it")
    if not has_lanes:
        found.append("the process has no lanes; any clerk of the department may complete every task")
    return found
