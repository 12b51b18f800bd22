"""Semantic diff of two BPMN definition versions, for the legal office's review (法制办审核).

Pure functions over lxml trees: no DB, no Flask. Elements are matched by id across the whole document, so a
task that moves into a sub-process or another lane is reported as moved, not as removed + added. Diagram
interchange (bpmndi), element order and surrounding whitespace never count as changes.

`old` is always the value in the version diffed *against* (the older one) and `new` the value in this version.
We compute this ourselves because the bpmn-js differ misses timer changes and swaps old and new values.
"""
from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from app.engine.xmlsafe import BPMN_NS, parse_untrusted

NS = {"bpmn": BPMN_NS}
DEFAULT_LIMIT = 64 * 1024 * 1024  # stored versions already passed the upload limit; this only guards memory

TASKS = ("task", "userTask", "scriptTask", "serviceTask", "manualTask", "sendTask", "receiveTask",
         "businessRuleTask", "callActivity", "subProcess", "adHocSubProcess", "transaction")
EVENTS = ("startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent",
          "implicitThrowEvent")
GATEWAYS = ("exclusiveGateway", "inclusiveGateway", "parallelGateway", "eventBasedGateway", "complexGateway")
FLOW_NODES = frozenset(TASKS + EVENTS + GATEWAYS)
TRACKED = FLOW_NODES | {"process", "sequenceFlow", "lane", "participant", "messageFlow"}
CONTAINERS = frozenset({"process", "subProcess", "adHocSubProcess", "transaction", "lane"})
TIMER_KINDS = ("timeDate", "timeDuration", "timeCycle")


class _Doc:
    """One version: its tracked elements by id (document order kept) and the facts derived across elements."""

    def __init__(self, xml: bytes, limit: int):
        root = parse_untrusted(xml, limit).getroot()
        self.elements: dict[str, etree._Element] = {}
        for el in root.iter(etree.Element):
            if _local(el) in TRACKED and el.get("id") and _is_bpmn(el):
                self.elements.setdefault(el.get("id"), el)  # a duplicate id is invalid BPMN; the first one wins
        self.defaults = {el.get("default") for el in root.iter(etree.Element) if el.get("default") and _is_bpmn(el)}
        self.lane_of = _lanes_of(root)

    def lane_name(self, lane_id: str | None) -> str | None:
        lane = self.elements.get(lane_id) if lane_id else None
        return None if lane is None else (_name(lane) or lane_id)


def diff(old_xml: bytes, new_xml: bytes, limit: int = DEFAULT_LIMIT) -> list[dict]:
    """Changes from `old_xml` (the version diffed against) to `new_xml`, ordered by kind, then document order."""
    old, new = _Doc(old_xml, limit), _Doc(new_xml, limit)
    added = [_row("added", new.elements[i]) for i in new.elements if i not in old.elements]
    removed = [_row("removed", old.elements[i]) for i in old.elements if i not in new.elements]
    changed = [row for i in new.elements if i in old.elements for row in _compare(i, old, new)]
    return added + removed + changed


def _compare(element_id: str, old: _Doc, new: _Doc) -> list[dict]:
    before, after = _facts(old.elements[element_id], old), _facts(new.elements[element_id], new)
    rows = []
    for field in FIELD_ORDER:
        was, now = before.get(field), after.get(field)
        if was == now:
            continue
        if field == "lane":  # compared by lane id so a lane rename does not move its elements; shown by name
            was, now = _lane_labels(was, now, old, new)
        rows.append(_row("changed", new.elements[element_id], field, was, now))
    return rows


def _row(change: str, el: etree._Element, field: str | None = None, old: str | None = None,
         new: str | None = None) -> dict:
    return {"change": change, "element_id": el.get("id"), "element_type": _local(el), "name": _name(el),
            "field": field, "old": old, "new": new}


def _lane_labels(old_lane: str | None, new_lane: str | None, old: _Doc, new: _Doc) -> tuple[str | None, str | None]:
    was, now = old.lane_name(old_lane), new.lane_name(new_lane)
    if was == now:  # two lanes with the same name: only their ids tell the move apart
        return old_lane, new_lane
    return was, now


# --- facts: what an element means, as comparable text (None = not set) -------------------------------------------

def _facts(el: etree._Element, doc: _Doc) -> dict[str, str | None]:
    kind = _local(el)
    facts = {"type": kind, "name": _name(el), "documentation": _documentation(el), "parent": _parent(el)}
    for applies, extract in _EXTRACTORS:
        if applies(kind):
            facts.update(extract(el, doc))
    return facts


def _flow_facts(el, doc: _Doc) -> dict:
    return {"source": _attr(el, "sourceRef"), "target": _attr(el, "targetRef")}


def _sequence_flow_facts(el, doc: _Doc) -> dict:
    return {"condition": _text(el.find("bpmn:conditionExpression", NS)),
            "default": "true" if el.get("id") in doc.defaults else "false"}


def _event_facts(el, doc: _Doc) -> dict:
    kinds = [_local(d)[:-len("EventDefinition")] for d in el if _is_bpmn(d) and _local(d).endswith("EventDefinition")]
    timers = [_timer(t) for t in el.findall("bpmn:timerEventDefinition", NS)]
    return {"trigger": ", ".join(kinds) or None, "timer": "; ".join(timers) or None,
            "condition": _text(el.find("bpmn:conditionalEventDefinition/bpmn:condition", NS)),
            "interrupting": _interrupting(el), "attached_to": _attr(el, "attachedToRef")}


def _activity_facts(el, doc: _Doc) -> dict:
    return {"script": _text(el.find("bpmn:script", NS)), "called_element": _attr(el, "calledElement"),
            "loop": _loop(el)}


_EXTRACTORS: list[tuple[Callable[[str], bool], Callable]] = [
    (lambda kind: kind in ("sequenceFlow", "messageFlow"), _flow_facts),
    (lambda kind: kind == "sequenceFlow", _sequence_flow_facts),
    (lambda kind: kind in EVENTS, _event_facts),
    (lambda kind: kind in TASKS, _activity_facts),
    (lambda kind: kind in FLOW_NODES, lambda el, doc: {"lane": doc.lane_of.get(el.get("id"))}),
    (lambda kind: kind == "process", lambda el, doc: {"executable": _attr(el, "isExecutable")}),
    (lambda kind: kind == "participant", lambda el, doc: {"process": _attr(el, "processRef")}),
]

FIELD_ORDER = ("type", "name", "lane", "parent", "source", "target", "default", "condition", "trigger", "timer",
               "interrupting", "attached_to", "script", "called_element", "loop", "process", "executable",
               "documentation")


def _timer(definition: etree._Element) -> str:
    """'timeDuration: PT72H' — the kind matters as much as the value (a date is not a duration)."""
    for child in definition:
        if _is_bpmn(child) and _local(child) in TIMER_KINDS:
            return f"{_local(child)}: {_text(child) or ''}".rstrip()
    return "(no time set)"


def _interrupting(el: etree._Element) -> str | None:
    """Boundary events and event sub-process starts only: elsewhere the flag means nothing.

    Both attributes default to true in BPMN 2.0, so a missing one and "true" mean the same.
    """
    if _local(el) == "boundaryEvent":
        return (_attr(el, "cancelActivity") or "true").lower()
    parent = el.getparent()
    if _local(el) == "startEvent" and (_attr(parent, "triggeredByEvent") or "").lower() == "true":
        return (_attr(el, "isInterrupting") or "true").lower()
    return None


def _loop(el: etree._Element) -> str | None:
    if el.find("bpmn:standardLoopCharacteristics", NS) is not None:
        return "loop"
    mi = el.find("bpmn:multiInstanceLoopCharacteristics", NS)
    if mi is None:
        return None
    return "sequential multi-instance" if (mi.get("isSequential") or "").lower() == "true" else "parallel multi-instance"


def _lanes_of(root: etree._Element) -> dict[str, str]:
    """flow node id → id of the innermost lane holding it (child lanes come later in document order)."""
    lane_of = {}
    for lane in root.iterfind(".//bpmn:lane", NS):
        for ref in lane.iterfind("bpmn:flowNodeRef", NS):
            if _text(ref):
                lane_of[_text(ref)] = lane.get("id")
    return lane_of


def _parent(el: etree._Element) -> str | None:
    """The id of the nearest enclosing process, sub-process or (for nested lanes) lane."""
    for ancestor in el.iterancestors(etree.Element):
        if _is_bpmn(ancestor) and _local(ancestor) in CONTAINERS:
            return ancestor.get("id")
    return None


# --- text helpers ------------------------------------------------------------------------------------------------

def _local(el: etree._Element) -> str:
    return etree.QName(el).localname


def _is_bpmn(el: etree._Element) -> bool:
    return isinstance(el.tag, str) and el.tag.startswith("{" + BPMN_NS + "}")


def _attr(el: etree._Element, name: str) -> str | None:
    value = (el.get(name) or "").strip()
    return value or None


def _text(el: etree._Element | None) -> str | None:
    """Stripped text content (CDATA included); None when absent or blank."""
    if el is None:
        return None
    value = "".join(el.itertext()).strip()
    return value or None


def _name(el: etree._Element) -> str | None:
    # Modelers wrap long labels with line breaks; that is layout, not a rename.
    value = re.sub(r"\s+", " ", el.get("name") or "").strip()
    return value or None


def _documentation(el: etree._Element) -> str | None:
    texts = [_text(d) for d in el.findall("bpmn:documentation", NS)]
    return "\n".join(t for t in texts if t) or None
