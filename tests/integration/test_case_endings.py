"""How a case ends or stops, whoever moved it last: a case finished by a message is a finished case like one
finished by a step (the rooms above hear `CaseCompleted`); a message with no correlation never reaches every
waiting case; a running case with nothing left to do or wait for is marked stuck, not shown as running quietly."""
from __future__ import annotations

import pytest

from app import events
from app.cases.events import CaseCompleted
from tests import diagrams
from tests.bpmn_world import bpmn_world, case_of, events_of

REPORT = "inspection_report"

# 受理 → wait for the inspection report → end: the message is the case's last move.
REPORT_ENDS = diagrams.process(
    '<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_accept" name="受理"/>'
    '<bpmn:intermediateCatchEvent id="Catch_report" name="等待检测报告">'
    '<bpmn:messageEventDefinition id="MED_1" messageRef="Msg_report"/></bpmn:intermediateCatchEvent>'
    '<bpmn:endEvent id="End"/>'
    + diagrams.seq(("Start_1", "Task_accept"), ("Task_accept", "Catch_report"), ("Catch_report", "End")),
    messages=(f"Msg_report:{REPORT}",))

# A parallel split whose second branch may end before the join: the join then waits for ever.
JOIN_NEVER_REACHED = diagrams.process(
    '<bpmn:startEvent id="Start_1"/><bpmn:parallelGateway id="Split"/><bpmn:userTask id="Task_a" name="审查"/>'
    '<bpmn:exclusiveGateway id="Gateway_x" default="F_Gateway_x_End_b"/>'
    '<bpmn:endEvent id="End_b"/><bpmn:parallelGateway id="Join"/><bpmn:endEvent id="End"/>'
    + diagrams.seq(("Start_1", "Split"), ("Split", "Task_a"), ("Split", "Gateway_x"), ("Gateway_x", "End_b"),
                   ("Task_a", "Join"), ("Join", "End"))
    + '<bpmn:sequenceFlow id="F_x" sourceRef="Gateway_x" targetRef="Join">'
      '<bpmn:conditionExpression>x == 1</bpmn:conditionExpression></bpmn:sequenceFlow>')

_completed: list[str] = []


def _heard(session, settings, event: CaseCompleted) -> None:
    _completed.append(event.case.case_no)


@pytest.fixture
def completions():
    """The case numbers of every CaseCompleted published while the test runs."""
    _completed.clear()
    events.subscribe(CaseCompleted, _heard, order=999)
    yield _completed
    key = f"{_heard.__module__}.{_heard.__qualname__}"
    events._subscribers[CaseCompleted] = [h for h in events._subscribers[CaseCompleted] if h[1] != key]


def test_a_case_completed_by_a_message_publishes_case_completed_like_a_step_does(app, frozen_now, completions):
    world = bpmn_world(app, ends=REPORT_ENDS)
    case = world.complete(world.new_case(item=world.items["ends"]), "Task_accept", "acc")
    assert completions == []
    status, body = world.api.post(f"/api/v1/cases/{case['case_no']}/messages", "acc",
                                  {"name": REPORT, "payload": {"passed": True}})
    assert status == 200 and body["status"] == "completed", body
    assert completions == [case["case_no"]]
    assert len(events_of(world, case["case_no"], "case_completed")) == 1


def test_a_message_without_correlation_is_refused_unless_it_starts_a_process(app, frozen_now):
    world = bpmn_world(app, catch=diagrams.MESSAGE_CATCH, start=diagrams.MESSAGE_START)
    waiting = [world.complete(world.new_case(item=world.items["catch"]), "Task_accept", "acc") for _ in range(2)]
    for correlation in (None, {}):
        body = {"name": REPORT, "payload": {"passed": True}, **({} if correlation is None else
                                                                {"correlation": correlation})}
        status, out = world.api.post("/api/v1/messages", "sys", body)
        assert status == 422 and out["error"]["code"] == "correlation_required", out
        assert out["error"]["details"] == [{"field": "correlation"}]
    for case in waiting:  # nobody received it
        assert case_of(world, case["case_no"])["waiting_for"] == [REPORT]
    # A message that starts a process needs no correlation: it opens a case (and reaches no waiting one).
    status, out = world.api.post("/api/v1/messages", "sys", {"name": "case_transferred", "payload": {}})
    assert status == 200 and len(out["created"]) == 1, out


def test_a_running_case_with_nothing_open_or_awaited_is_marked_stuck(app, frozen_now):
    world = bpmn_world(app, join=JOIN_NEVER_REACHED)
    case = world.new_case(item=world.items["join"], data={"x": 0})
    assert case["stuck"] is False
    case = world.complete(case, "Task_a", "acc")
    assert case["status"] == "running" and case["stuck"] is True
    [event] = events_of(world, case["case_no"], "case_stuck")
    assert event["actor"] == "system"
    assert case_of(world, case["case_no"])["stuck"] is True
    # The supervisors in scope are told once (a flow defect to look at), and no card is raised on the case.
    stuck = [n for n in case_of(world, case["case_no"])["notices"] if n["message"]["key"].startswith("办件流程无法继续")]
    assert len(stuck) == 1 and stuck[0]["level"] == "warning", stuck
    assert case_of(world, case["case_no"])["deadlines"]["card"] == "none"
