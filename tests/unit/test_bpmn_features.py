"""The engine's reading beyond SpiffWorkflow's parser, without a database: signals, event-based gateway checks,
Camunda multi-instance attributes, start messages, correlation expressions, the pinned instant."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from app import clock, engine
from tests import diagrams

TZ = ZoneInfo("Asia/Shanghai")
LIMIT = 2 * 1024 * 1024


def _run(xml: bytes, data=None, helpers=None):
    deployable = engine.validate(xml, limit=LIMIT, tz=TZ)
    bundle = engine.bundle_for(deployable.spec_key, xml, deployable.process_id, TZ)
    return deployable, engine.CaseRun.start(bundle, data or {}, helpers or {})[0]


def _refused(xml: bytes) -> list[engine.Problem]:
    with pytest.raises(engine.InvalidBpmn) as refused:
        engine.validate(xml, limit=LIMIT, tz=TZ)
    return refused.value.problems


def test_a_signal_is_delivered_by_name_like_a_message():
    xml = diagrams.process(
        '<bpmn:startEvent id="Start_1"/><bpmn:intermediateCatchEvent id="Catch_sig" name="等待通知">'
        '<bpmn:signalEventDefinition id="SED" signalRef="Sig_1"/></bpmn:intermediateCatchEvent>'
        '<bpmn:userTask id="Task_a"/><bpmn:endEvent id="End"/>'
        + diagrams.seq(("Start_1", "Catch_sig"), ("Catch_sig", "Task_a"), ("Task_a", "End"))
    ).replace(b"</bpmn:definitions>", b'<bpmn:signal id="Sig_1" name="policy_changed"/></bpmn:definitions>')
    _, run = _run(xml)
    assert [(w.kind, w.name) for w in run.waits()] == [("signal", "policy_changed")]
    with pytest.raises(engine.NoWaitingCatch):
        run.deliver("other", {})
    run.deliver("policy_changed", {"policy": "新规"})
    ready = [t for t in run.tasks() if t.state == "ready"]
    assert [t.bpmn_id for t in ready] == ["Task_a"] and run.task_data(ready[0].id)["policy"] == "新规"


def test_an_event_based_gateway_waits_for_one_timer_and_no_cycle():
    two = diagrams.event_gateway("P2D").replace(
        b'<bpmn:userTask id="Task_review"',
        b'<bpmn:intermediateCatchEvent id="Timer_2"><bpmn:timerEventDefinition id="TED_2"><bpmn:timeDuration>P3D'
        b'</bpmn:timeDuration></bpmn:timerEventDefinition></bpmn:intermediateCatchEvent>'
        b'<bpmn:sequenceFlow id="F_g2" sourceRef="Gateway_wait" targetRef="Timer_2"/>'
        b'<bpmn:sequenceFlow id="F_t2" sourceRef="Timer_2" targetRef="Task_close"/><bpmn:userTask id="Task_review"')
    [problem] = _refused(two)
    assert problem.element_id == "Gateway_wait" and "one timer" in problem.message
    cycle = diagrams.event_gateway("R3/PT1H").replace(b"timeDuration", b"timeCycle")
    assert "not a cycle" in _refused(cycle)[0].message
    assert "not a valid ISO-8601" in _refused(diagrams.event_gateway("PT1X"))[0].message


def test_the_gateway_timer_may_be_a_working_day_deadline():
    clock.travel_to(datetime(2026, 3, 2, 1, tzinfo=timezone.utc))
    due = datetime(2026, 3, 4, 15, 59, 59, tzinfo=timezone.utc)  # what the calendar helper says: 23:59:59 Beijing
    _, run = _run(diagrams.event_gateway("workdays(2)"), helpers={"workdays": lambda n: due.isoformat()})
    assert run.next_timer_due() == due


def test_camunda_multi_instance_attributes_become_the_standard_ones():
    _, run = _run(diagrams.joint_review("camunda"), {"reviewers": ["a", "b", "c"]})
    run.complete(run.tasks()[0].id, {})
    assert [t.assignee for t in run.tasks() if t.bpmn_id == "Task_sign"] == ["a", "b", "c"]


def test_start_messages_and_nameless_messages():
    deployable, run = _run(diagrams.MESSAGE_START)
    assert deployable.start_messages == ["case_transferred"]
    assert [w.name for w in _run(diagrams.RECEIVE_TASK)[1].waits()] == ["Msg_fee"]


def test_correlation_property_expressions_are_checked_like_conditions():
    xml = diagrams.MESSAGE_CATCH.replace(
        b"</bpmn:definitions>",
        b'<bpmn:correlationProperty id="CP_1" name="permit"><bpmn:correlationPropertyRetrievalExpression '
        b'messageRef="Msg_report"><bpmn:formalExpression>__import__("os")</bpmn:formalExpression>'
        b"</bpmn:correlationPropertyRetrievalExpression></bpmn:correlationProperty></bpmn:definitions>")
    [problem] = _refused(xml)
    assert "correlation property expression" in problem.message and problem.element_id == "CP_1"


def test_a_message_and_a_timer_due_at_once_resolve_at_one_instant():
    clock.travel_to(datetime(2026, 3, 2, 1, tzinfo=timezone.utc))
    _, run = _run(diagrams.event_gateway("PT1H"))
    clock.advance(timedelta(hours=1, seconds=1))  # due: the delivery fires the timer first and finds no wait
    with pytest.raises(engine.NoWaitingCatch):
        run.deliver("supplement_received", {})
    assert [t.bpmn_id for t in run.tasks() if t.state == "ready"] == ["Task_close"]
