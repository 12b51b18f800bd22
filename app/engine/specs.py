"""Deploy-time validation of BPMN uploads and the spec cache (one parse per diagram hash per process).

Order of checks: safe XML → our structural checks with line numbers (processes, flows, call loops,
expressions, timers) → BPMN XSD → SpiffWorkflow's parser → timer normalisation on the built spec → a dry
start (the workflow is created, nothing runs).
Anything refused becomes InvalidBpmn with {element_id, line, message}; nothing here may raise otherwise.
"""
from __future__ import annotations

import hashlib
import logging
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable
from zoneinfo import ZoneInfo

from lxml import etree
from SpiffWorkflow.bpmn import BpmnWorkflow
from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnValidator
from SpiffWorkflow.bpmn.parser.ValidationException import ValidationException
from SpiffWorkflow.bpmn.specs.event_definitions.timer import TimerEventDefinition
from SpiffWorkflow.exceptions import SpiffWorkflowException

from . import checks, dmn, features
from .budget import Limits
from .errors import BpmnTooLarge, InvalidBpmn, Problem
from .timers import TimerValueError, normalise
from .xmlsafe import parse_untrusted

log = logging.getLogger("sunlight.engine")

_VALIDATOR: BpmnValidator | None = None
_VALIDATOR_LOCK = threading.Lock()


def _validator() -> BpmnValidator:
    global _VALIDATOR
    with _VALIDATOR_LOCK:
        if _VALIDATOR is None:
            _VALIDATOR = BpmnValidator()  # ~7 ms: build once
        return _VALIDATOR


@dataclass
class SpecBundle:
    key: str
    process_id: str
    spec: object
    subprocess_specs: dict
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Deployable:
    process_id: str
    sha256: str  # of the BPMN file
    warnings: list[str]
    start_messages: list[str] = field(default_factory=list)  # messages whose arrival starts a case
    spec_key: str = ""  # the spec cache key: the BPMN's sha256, or a hash over it and the DMN files
    decisions: list[dict] = field(default_factory=list)  # per DMN file: {file, sha256, tables: [described]}
    lanes: list[tuple[str, str, int | None]] = field(default_factory=list)  # (id, name, line) of the named lanes


DecisionFiles = list[tuple[str, "bytes | str"]]


@dataclass(frozen=True)
class SharedFlow:
    """A published definition a call activity calls (a district's shared sub-flow, pinned by version)."""

    process_id: str
    xml: "bytes | str"
    decisions: tuple = ()  # its own DMN files, (filename, xml)


def spec_key(xml: bytes, decisions: DecisionFiles = (), shared: "list[SharedFlow] | tuple" = ()) -> str:
    """The BPMN's hash alone (as before DMN), or one over the BPMN, every DMN file in upload order and the
    shared flows it calls (so a new version of a shared flow never changes a pinned caller's spec)."""
    if not decisions and not shared:
        return sha256(xml)
    parts = [sha256(xml)] + [sha256(_bytes(data)) for _name, data in decisions]
    parts += [f"{flow.process_id}:{spec_key(_bytes(flow.xml), list(flow.decisions))}" for flow in shared]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()


def _bytes(data: "bytes | str") -> bytes:
    return data.encode("utf-8") if isinstance(data, str) else data


def sha256(xml: bytes) -> str:
    return hashlib.sha256(xml).hexdigest()


def _element_at(tree: etree._ElementTree, line: int | None) -> str | None:
    if not line:
        return None
    for el in tree.iter():
        if el.sourceline == line and isinstance(el.tag, str) and el.get("id"):
            return el.get("id")
    return None


def _line_of(tree: etree._ElementTree, element_id: str | None) -> int | None:
    found = tree.xpath("//*[@id=$id]", id=element_id) if element_id else []
    return found[0].sourceline if found else None


_CLARK = re.compile(r"\{http://www\.omg\.org/spec/BPMN/20100524/MODEL\}")
_ELEMENT_REPR = re.compile(r"<Element \{[^}]*\}(\w+) at 0x[0-9a-fA-F]+>")


def _words(message: str) -> str:
    """SpiffWorkflow's message without Python noise: namespaces in braces, element reprs, doubled full stops."""
    message = message.split(" Source Details:")[0].strip()
    message = _ELEMENT_REPR.sub(lambda m: f"<bpmn:{m.group(1)}>", message)
    message = _CLARK.sub("bpmn:", message)
    return re.sub(r"\.(\s*\.)+", ".", message).strip()


def _rephrase(message: str, tag: str, element: str | None) -> str:
    """SpiffWorkflow's wording for the cases designers meet, in theirs."""
    thing = f"<{tag}>" if tag else "element"
    if "perhaps a form has the same ID" in message:
        return f"a sequence flow points at an element that does not exist ({element})"
    if message.startswith("There is no support implemented for this task type"):
        return f"Sunlight cannot run a {thing} element; replace it with a supported one (tasks, gateways, timer events)"
    if "Unsupported Catch Event" in message:
        return ("this kind of boundary event is not supported; use a timer, message, signal, error, escalation "
                "or conditional boundary event")
    if message.startswith("Cannot resolve data"):
        return "a data association of this task points at a data object Sunlight cannot find; remove the arrow"
    if message.startswith("Exactly one start event is required"):
        return "a subprocess needs exactly one start event inside it; " + message.split(";")[-1].strip()
    if "RecursionError" in message:
        return "the diagram is too long or nested too deeply for the engine; split it with call activities"
    if "atomic type 'xs:ID'" in message:
        value = re.search(r"'([^']*)' is not a valid value", message)
        return (f"the id '{value.group(1) if value else '?'}' is used twice or is not a valid id "
                "(an id starts with a letter or _ and holds no spaces)")
    if message.startswith("Element '"):  # the BPMN XSD
        return f"the file does not follow the BPMN 2.0 schema: {message}"
    if re.match(r"^\w+(Error|Exception)\(", message):  # a Python error the parser wrapped with %r
        return f"the engine could not read this {thing}; check its settings in the modeler"
    return message


def _spiff_problem(exc: Exception, tree: etree._ElementTree) -> Problem:
    if isinstance(exc, ValidationException):
        line = getattr(exc, "line_number", None) or None  # only the XSD validator sets it
        element = getattr(exc, "id", None) or _element_at(tree, line)
        message = _rephrase(_words(str(exc)), getattr(exc, "tag", "") or "", element)
        return Problem(element, line or _line_of(tree, element), message)
    log.warning("SpiffWorkflow failed on an upload", exc_info=exc)  # a parser bug: keep Python out of the answer
    return Problem(None, None, "the engine could not read this diagram; open it in bpmn.io, check it, and export again")


def _dry_start(spec, subs: dict) -> list[Problem]:
    """Create (not run) a workflow: SpiffWorkflow predicts the whole task tree there, and fails there on shapes
    our checks missed. Nothing runs: no engine steps, so no condition, script or timer is evaluated."""
    try:
        BpmnWorkflow(spec, subs)
    except RecursionError:
        return [Problem(None, None, "the engine cannot lay out a case of this diagram (a loop with no way out, or a "
                                    "path too long); check the loops and split long paths with call activities")]
    except Exception as exc:  # whatever it is, the diagram cannot start a case
        log.warning("SpiffWorkflow could not create a workflow from a parsed diagram", exc_info=exc)
        return [Problem(None, None, "the engine cannot start a case of this diagram; open it in bpmn.io, check it, "
                                    "and export again")]
    return []


def _build(tree: etree._ElementTree, process_id: str, tz: ZoneInfo, key: str,
           decisions: dict | None = None, shared: list[etree._ElementTree] = ()) -> SpecBundle:
    parser = features.SunlightParser(validator=_validator())
    for one in (tree, *shared):
        features.prepare(one)
    try:
        parser.add_bpmn_xml(tree, filename=f"{process_id}.bpmn")
        for n, flow in enumerate(shared, 1):  # the shared flows it calls, as if drawn in the same file
            parser.add_bpmn_xml(flow, filename=f"shared-{n}.bpmn")
        spec = parser.get_spec(process_id)
        subs = parser.get_subprocess_specs(process_id)
    except (SpiffWorkflowException, etree.LxmlError) as exc:
        raise InvalidBpmn([_spiff_problem(exc, tree)]) from None
    except RecursionError:
        raise InvalidBpmn([Problem(None, None, "the diagram nests call activities or subprocesses too deeply")]) from None
    except Exception as exc:  # SpiffWorkflow's parser raises plain errors on some odd inputs
        raise InvalidBpmn([_spiff_problem(exc, tree)]) from None
    warnings: list[str] = []
    problems: list[Problem] = []
    for one in [spec, *[s for s in subs.values() if s is not None]]:
        for task_spec in one.task_specs.values():
            defn = getattr(task_spec, "event_definition", None)
            if isinstance(defn, TimerEventDefinition):
                try:
                    task_spec.event_definition, warning = normalise(defn, tz)
                except TimerValueError as exc:
                    problems.append(Problem(task_spec.bpmn_id, _line_of(tree, task_spec.bpmn_id), f"timer: {exc}"))
                    continue
                if warning:
                    warnings.append(f"{task_spec.bpmn_id}: {warning}")
    more_problems, more_warnings = features.annotate([spec, *[s for s in subs.values() if s is not None]],
                                                     [tree, *shared], tz, decisions)
    problems += more_problems
    warnings += more_warnings
    problems += _dry_start(spec, subs)
    if problems:
        raise InvalidBpmn(problems)
    spec.sunlight_key = key
    return SpecBundle(key, process_id, spec, subs, warnings)


class SpecCache:
    """Built specs keyed by diagram hash; shared read-only by every case of that definition."""

    def __init__(self, size: int = 512):
        self.size = size
        self._items: OrderedDict[str, SpecBundle] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: str) -> SpecBundle | None:
        with self._lock:
            bundle = self._items.get(key)
            if bundle is not None:
                self._items.move_to_end(key)
            return bundle

    def put(self, bundle: SpecBundle) -> SpecBundle:
        with self._lock:
            self._items[bundle.key] = bundle
            self._items.move_to_end(bundle.key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
            return bundle


CACHE = SpecCache()


_ACCEPTED: OrderedDict[tuple[str, str, Limits], Deployable] = OrderedDict()  # the same bytes validate the same way


def validate(xml: bytes, *, limit: int, tz: ZoneInfo, decisions: DecisionFiles = (),
             shared: "list[SharedFlow] | tuple" = (), limits: Limits | None = None) -> Deployable:
    """Check an upload (one BPMN file, its DMN files, the shared flows it calls) completely, against the
    deploy-time `limits` (config.py); raise InvalidBpmn / BpmnTooLarge, or say what would run."""
    key = spec_key(xml, decisions, shared)
    limits = limits or Limits()
    if len(xml) <= limit:
        known = _ACCEPTED.get((key, str(tz), limits))
        if known is not None and CACHE.get(known.spec_key) is not None:
            return known
    tables = _tables(decisions, shared, limit)
    shared_trees = [_stored_tree(flow.xml) for flow in shared]
    tree = parse_untrusted(xml, limit)
    try:
        xml.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidBpmn([Problem(None, None, f"the diagram must be UTF-8 encoded ({exc.reason})")]) from None
    process_id, problems = checks.structural(tree, tz, frozenset(flow.process_id for flow in shared), limits)
    if problems:
        raise InvalidBpmn(problems)
    bundle = _build(tree, process_id, tz, key, tables, shared_trees)
    CACHE.put(bundle)
    described = [{"file": name, "sha256": sha256(_bytes(data)),
                  "tables": [t.describe() for t in tables.values() if t.file == name]} for name, data in decisions]
    deployable = Deployable(process_id, sha256(xml), checks.warnings(tree, process_id) + bundle.warnings,
                            features.start_messages(tree, process_id), key, described, features.lanes(tree))
    _ACCEPTED[(key, str(tz), limits)] = deployable
    while len(_ACCEPTED) > 256:
        _ACCEPTED.popitem(last=False)
    return deployable


def bundle_for(key: str, xml: str | bytes | Callable[[], str | bytes], process_id: str, tz: ZoneInfo,
               decisions: DecisionFiles | Callable[[], DecisionFiles] = (),
               shared: "list[SharedFlow] | Callable[[], list[SharedFlow]]" = ()) -> SpecBundle:
    """The cached spec of a stored (already validated) definition, built on first use.

    `xml`, `decisions` (its DMN files) and `shared` (the shared flows it is pinned to) may be callables, so
    callers that keep them in the database read them only on a cache miss.
    """
    bundle = CACHE.get(key)
    if bundle is None:
        data = _bytes(xml() if callable(xml) else xml)
        flows = list(shared() if callable(shared) else shared)
        files = list(decisions() if callable(decisions) else decisions)
        tables = _tables(files, flows, None)
        bundle = CACHE.put(_build(_stored_tree(data), process_id, tz, key, tables,
                                  [_stored_tree(flow.xml) for flow in flows]))
    return bundle


def calls_outside(xml: bytes, limit: int) -> set[str]:
    """The process ids the diagram's call activities call that the file does not hold (shared flows, maybe);
    empty when the file cannot be read (validate then says why)."""
    try:
        return checks.external_calls(parse_untrusted(xml, limit))
    except (InvalidBpmn, BpmnTooLarge):
        return set()


def _stored_tree(xml: "bytes | str") -> etree._ElementTree:
    """A stored diagram (it passed the upload limit when it was stored)."""
    data = _bytes(xml)
    return parse_untrusted(data, max(len(data), 1))


def _tables(decisions: DecisionFiles, shared, limit: int | None) -> dict:
    """The decision tables of the upload and of the shared flows it calls (each flow's own DMN files)."""
    files = [(name, _bytes(d)) for name, d in decisions]
    files += [(f"{flow.process_id}/{name}", _bytes(d)) for flow in shared for name, d in flow.decisions]
    if not files:
        return {}
    return dmn.read(files, limit if limit is not None else max(len(d) for _n, d in files))


def next_user_steps(bundle: SpecBundle, current_bpmn_ids: list[str]) -> list[str]:
    """Names of the user steps that can follow the current ones (through gateways, events, scripts)."""
    specs = [bundle.spec, *[s for s in bundle.subprocess_specs.values() if s is not None]]
    by_id = {ts.bpmn_id: ts for one in specs for ts in one.task_specs.values() if getattr(ts, "bpmn_id", None)}
    found: list[str] = []
    for bpmn_id in current_bpmn_ids:
        start = by_id.get(bpmn_id)
        if start is None:
            continue
        seen, frontier = {start.name}, list(start.outputs)
        while frontier:
            ts = frontier.pop(0)
            if ts.name in seen:
                continue
            seen.add(ts.name)
            if getattr(ts, "manual", False) and getattr(ts, "bpmn_id", None):
                label = ts.bpmn_name or ts.bpmn_id
                if label not in found and ts.bpmn_id not in current_bpmn_ids:
                    found.append(label)
                continue
            frontier.extend(ts.outputs)
    return found


def user_steps(bundle: SpecBundle) -> dict[str, str | None]:
    """The diagram's user steps (manual tasks), {bpmn_id: name}: what an item may name as a step."""
    specs = [bundle.spec, *[s for s in bundle.subprocess_specs.values() if s is not None]]
    return {ts.bpmn_id: ts.bpmn_name for one in specs for ts in one.task_specs.values()
            if getattr(ts, "manual", False) and getattr(ts, "bpmn_id", None)}
