"""Every BPMN file of the shared corpus either deploys (and starts a case) or is refused in designer's words.

The corpus (../shared/corpus: the OMG MIWG reference files, their bpmn.io re-exports, and real-world diagrams from
SpiffWorkflow's and bpmn-js's test suites) is read in place, never copied. Nothing but InvalidBpmn may come out of
validate(), and nothing but EngineError out of starting a case.
"""
from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app import engine

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
if not CORPUS.is_dir():
    pytest.skip(f"no BPMN corpus at {CORPUS}", allow_module_level=True)

TZ = ZoneInfo("Asia/Shanghai")
LIMIT = 2 * 1024 * 1024
FILES = sorted(CORPUS.rglob("*.bpmn"))
IDS = [str(p.relative_to(CORPUS)) for p in FILES]

# Python leaking into a designer's message: reprs, namespaces in braces, exception constructors, doubled stops.
JUNK = re.compile(r"<lxml|<Element|NoneType|object at|0x[0-9a-fA-F]{6,}|Traceback|\{http://"
                  r"|\w+(Error|Exception)\(|\.\.$")

# Notable files and what must happen to them: ("deploy", process id) or ("refuse", element id, words in the message).
EXPECTED = {
    "realworld/spiff-bpmn__timer-non-interrupt-boundary.bpmn": ("deploy", "NonInterruptTimer"),
    "realworld/spiff-bpmn__boundary_timer_on_task.bpmn": ("deploy", "test_timer"),
    "realworld/spiff-bpmn__lanes.bpmn": ("deploy", "lanes"),
    "realworld/spiff-bpmn__event-subprocess.bpmn": ("deploy", "main"),
    "miwg-bpmnio/A.4.1-export.bpmn": ("deploy", "Process_0h42ymn"),
    # a bpmn.io export as it comes: isExecutable="false"
    "miwg-bpmnio/A.1.0-export.bpmn": ("refuse", "Process_1", "Executable"),
    "realworld/spiff-bpmn__non-executable-process.bpmn": ("refuse", "Process_14di7kj", "Executable"),
    "realworld/spiff-bpmn__call_activity_level_2.bpmn": ("refuse", "Activity_12zat0d", "'Level3', which is not in"),
    "realworld/spiff-bpmn__call_activity_level_3.bpmn": ("refuse", "Activity_12zat0d", "loop"),
    "realworld/spiff-bpmn__timer-cycle-start.bpmn": ("refuse", "Process_0vaq70r", "several executable"),
    "realworld/spiff-bpmn__timer-date-start.bpmn": ("refuse", "Activity_1q1wged", "method calls"),
    "miwg/C.1.0.bpmn": ("refuse", "invoiceApproved", "JUEL"),
    "miwg/C.9.0.bpmn": ("refuse", "SequenceFlow_Red", "FEEL"),
    "miwg/C.8.1.bpmn": ("refuse", "_325973e7-0bc8-4136-b6df-be1e681d8608", "'=='"),
    "miwg-bpmnio/A.2.1-export.bpmn": ("refuse", "Flow_01ckxme", "condition is empty"),
    "miwg-bpmnio/A.3.0-export.bpmn": ("refuse", "Activity_1j4b29j", "start event"),
    "miwg-bpmnio/B.1.0-export.bpmn": ("refuse", "StartEvent_1", "timer has no value"),
    "miwg-bpmnio/C.1.1-export.bpmn": ("refuse", "Flow_029m3t7", "without condition"),
    "miwg-bpmnio/C.5.0-export.bpmn": ("refuse", "Activity_1nw3l11", "data store"),
    "miwg-bpmnio/C.7.0-export.bpmn": ("refuse", "Activity_1qw4rcj", "businessRuleTask"),
}

# Deploys, but its gateway reads `x`, which a fresh case does not have: starting must fail cleanly, naming both.
START_FAILS = {"realworld/spiff-bpmn__exclusive_gateway_no_default.bpmn": ("Gateway_CheckValue", "'x' is not defined")}


def _validate(path: Path):
    try:
        return engine.validate(path.read_bytes(), limit=LIMIT, tz=TZ), None
    except engine.InvalidBpmn as exc:
        return None, exc


@pytest.mark.parametrize("path", FILES, ids=IDS)
def test_corpus_file_deploys_or_is_refused_in_words(path):
    deployable, refused = _validate(path)
    rel = str(path.relative_to(CORPUS))
    if refused is not None:
        assert refused.problems, rel
        for problem in refused.problems:
            assert problem.message.strip(), rel
            assert not JUNK.search(problem.message), f"{rel}: {problem.message}"
            assert problem.element_id or problem.line, f"{rel}: nowhere to point at: {problem.message}"
    expected = EXPECTED.get(rel)
    if expected and expected[0] == "deploy":
        assert refused is None, f"{rel} was refused: {refused}"
        assert deployable.process_id == expected[1]
    elif expected:
        assert refused is not None, f"{rel} deployed but should be refused"
        _, element, words = expected
        assert any(p.element_id == element and words in p.message for p in refused.problems), refused.problems
    if deployable is not None:
        _start_and_reload(rel, deployable, path.read_bytes())


def _start_and_reload(rel: str, deployable, xml: bytes):
    bundle = engine.bundle_for(deployable.sha256, xml, deployable.process_id, TZ)
    try:
        run, _ = engine.CaseRun.start(bundle, {}, {})
    except engine.EngineError as exc:
        assert exc.message.strip() and not JUNK.search(exc.message), f"{rel}: {exc.message}"
        if rel in START_FAILS:
            element, words = START_FAILS[rel]
            assert exc.element_id == element and words in exc.message, (exc.element_id, exc.message)
        return
    assert rel not in START_FAILS, f"{rel} started but should not"
    again = engine.CaseRun.load(run.dump(), bundle, {})
    assert [(t.bpmn_id, t.state) for t in again.tasks()] == [(t.bpmn_id, t.state) for t in run.tasks()]
    assert again.completed == run.completed


def test_the_expected_table_names_real_files():
    assert set(EXPECTED) | set(START_FAILS) <= set(IDS)


def test_a_fair_share_of_the_corpus_deploys():
    # Guards against a check that quietly starts refusing everything.
    deployed = [p for p in FILES if _validate(p)[0] is not None]
    assert len(deployed) >= 12, [str(p.relative_to(CORPUS)) for p in deployed]
