"""Deploy-time limits (issue 10): diagrams that would publish and then break every case are refused at upload, with
the element and its line, like every other check."""
from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from app import engine
from app.engine import deploy_limits
from tests.diagrams import process, seq

TZ = ZoneInfo("Asia/Shanghai")
LIMIT = 2 * 1024 * 1024


def _refused(xml: bytes, limits: engine.Limits | None = None) -> list:
    with pytest.raises(engine.InvalidBpmn) as info:
        engine.validate(xml, limit=LIMIT, tz=TZ, limits=limits)
    for problem in info.value.problems:
        assert problem.element_id and problem.line, problem
    return info.value.problems


def _deploys(xml: bytes, limits: engine.Limits | None = None) -> None:
    engine.validate(xml, limit=LIMIT, tz=TZ, limits=limits)


def _timed(kind: str, value: str) -> bytes:
    return process(
        '<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_review" name="审查"/>'
        '<bpmn:boundaryEvent id="Timer_remind" cancelActivity="false" attachedToRef="Task_review">'
        f'<bpmn:timerEventDefinition id="TED_1"><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>'
        '</bpmn:boundaryEvent><bpmn:endEvent id="End"/><bpmn:endEvent id="End_remind"/>'
        + seq(("Start_1", "Task_review"), ("Task_review", "End"), ("Timer_remind", "End_remind")))


@pytest.mark.parametrize("value, words", [
    ("R/PT1S", "without end"), ("R100000/PT0S", "100000 times"), ("R3/PT1S", "every 1 s"),
    ("R5/PT59S", "every 59 s"), ('"R/P1D"', "without end"), ("R101/PT1H", "101 times"),
    ("f'R{n}/PT1H'", "expression"),
])
def test_cycle_timers_that_flood_or_never_end_are_refused(value, words):
    problems = _refused(_timed("timeCycle", value))
    assert [p.element_id for p in problems] == ["Timer_remind"]
    assert words in problems[0].message, problems[0].message


@pytest.mark.parametrize("value", ["R3/PT24H", "R6/P1D", "R100/PT1M", '"R2/PT1H"', "R1/2026-12-01T09:00:00/PT1H"])
def test_ordinary_cycles_still_deploy(value):
    _deploys(_timed("timeCycle", value))


def test_cycle_limits_come_from_config():
    _refused(_timed("timeCycle", "R3/PT24H"), engine.Limits(max_cycle_repetitions=2))
    _refused(_timed("timeCycle", "R3/PT2M"), engine.Limits(min_cycle_seconds=600))
    _deploys(_timed("timeCycle", "R3/PT30S"), engine.Limits(min_cycle_seconds=30))


def _multi(cardinality: str) -> bytes:
    return process(
        '<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_sign" name="会签">'
        f'<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>{cardinality}</bpmn:loopCardinality>'
        '</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask><bpmn:endEvent id="End"/>'
        + seq(("Start_1", "Task_sign"), ("Task_sign", "End")))


def test_a_multi_instance_count_over_the_cap_is_refused():
    problems = _refused(_multi("20000"))
    assert problems[0].element_id == "Task_sign" and "20000 instances" in problems[0].message
    _deploys(_multi("200"))
    _deploys(_multi("n"))  # from case data: capped when the step starts (tests/integration/test_work_budget.py)
    _refused(_multi("5"), engine.Limits(max_instances=4))


def _script(text: str) -> bytes:
    return process(
        '<bpmn:startEvent id="Start_1"/><bpmn:scriptTask id="Script_fee"><bpmn:script>' + text
        + '</bpmn:script></bpmn:scriptTask><bpmn:userTask id="Task_pay" name="缴费"/><bpmn:endEvent id="End"/>'
        + seq(("Start_1", "Script_fee"), ("Script_fee", "Task_pay"), ("Task_pay", "End")))


def test_script_length_is_capped_by_config():
    text = "\n".join(f"fee_for_the_applicant_{n} = area_in_square_metres * 2" for n in range(12))  # ~600 characters
    _deploys(_script(text))
    problems = _refused(_script(text), engine.Limits(max_script_chars=500))
    assert problems[0].element_id == "Script_fee" and "at most 500" in problems[0].message


def test_words_longer_than_their_columns_are_refused():
    long_name = "审" * 301
    xml = process(f'<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_long" name="{long_name}"/>'
                  f'<bpmn:serviceTask id="Task_check" name="{"查" * 201}"/><bpmn:endEvent id="End"/>'
                  + seq(("Start_1", "Task_long"), ("Task_long", "Task_check"), ("Task_check", "End")),
                  messages=(f"Msg_1:{'m' * 201}",))
    problems = _refused(xml)
    found = {(p.element_id, p.message.split(" is ")[0]) for p in problems}
    assert ("Task_long", "the name") in found
    assert ("Task_check", "the topic of the service task (camunda:topic, else its name)") in found
    assert ("Msg_1", "the name of the message") in found


def test_the_limits_match_the_columns_the_words_land_in():
    from app.audit.models import AuditEvent
    from app.cases.models import CaseTask, CaseWait, ExternalTask
    from app.definitions.models import DefinitionStartMessage, ProcessDefinition
    from app.orgs.models import UserPost

    def length(column) -> int:
        return column.property.columns[0].type.length

    assert deploy_limits.MAX_ID == length(CaseTask.bpmn_id) == length(ExternalTask.bpmn_id) \
        == length(AuditEvent.task_bpmn_id) == length(ProcessDefinition.process_id)
    assert deploy_limits.MAX_NAME == length(CaseTask.name) == length(ExternalTask.name)
    assert deploy_limits.MAX_EVENT_NAME == length(CaseWait.name) == length(DefinitionStartMessage.name)
    assert deploy_limits.MAX_TOPIC == length(ExternalTask.topic)
    assert deploy_limits.MAX_POST == length(CaseTask.lane) == length(UserPost.post)
