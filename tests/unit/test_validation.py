"""Crafted uploads: each is refused with InvalidBpmn (or BpmnTooLarge) pointing at the right element and line,
and the timer values designers type are accepted."""
from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from app import engine

TZ = ZoneInfo("Asia/Shanghai")
LIMIT = 1 << 20
HEAD = ('<?xml version="1.0" encoding="UTF-8"?>\n'
        '<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs" '
        'targetNamespace="http://sunlight.test">\n')


def diagram(body: str, *, executable: str = "true", process_id: str = "Process_case", extra: str = "") -> bytes:
    """A process of one line per element, so tests can find the line of an id."""
    return (HEAD + f'  <bpmn:process id="{process_id}" isExecutable="{executable}">\n'
            + "".join(f"    {line.strip()}\n" for line in body.strip().splitlines())
            + "  </bpmn:process>\n" + extra + "</bpmn:definitions>\n").encode()


def line_of(xml: bytes, needle: str) -> int:
    for number, line in enumerate(xml.decode().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle} not in the diagram")


REVIEW = """
<bpmn:startEvent id="Event_start"/>
<bpmn:sequenceFlow id="Flow_1" sourceRef="Event_start" targetRef="Task_review"/>
<bpmn:userTask id="Task_review" name="Review"/>
<bpmn:sequenceFlow id="Flow_2" sourceRef="Task_review" targetRef="Event_end"/>
<bpmn:endEvent id="Event_end"/>
"""


def with_timer(kind: str, value: str) -> bytes:
    return diagram(REVIEW + f"""
<bpmn:boundaryEvent id="Timer_late" cancelActivity="false" attachedToRef="Task_review">
<bpmn:timerEventDefinition id="TimerDef_late"><bpmn:{kind}>{value}</bpmn:{kind}></bpmn:timerEventDefinition>
</bpmn:boundaryEvent>
<bpmn:sequenceFlow id="Flow_late" sourceRef="Timer_late" targetRef="Event_late"/>
<bpmn:endEvent id="Event_late"/>
""")


def refused(xml: bytes, limit: int = LIMIT) -> list[engine.Problem]:
    with pytest.raises(engine.InvalidBpmn) as info:
        engine.validate(xml, limit=limit, tz=TZ)
    problems = info.value.problems
    assert problems and all(p.message.strip() for p in problems)
    return problems


def test_the_base_diagram_deploys():
    deployable = engine.validate(diagram(REVIEW), limit=LIMIT, tz=TZ)
    assert deployable.process_id == "Process_case"


# --- hostile XML ---------------------------------------------------------------------------------------------------
BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs" targetNamespace="http://x">
  <bpmn:process id="Process_case" isExecutable="true" name="&lol9;"/>
</bpmn:definitions>
"""

EXTERNAL_ENTITY = b"""<?xml version="1.0"?>
<!DOCTYPE definitions [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs" targetNamespace="http://x">
  <bpmn:process id="Process_case" isExecutable="true"><bpmn:documentation>&xxe;</bpmn:documentation></bpmn:process>
</bpmn:definitions>
"""


@pytest.mark.parametrize("xml", [BILLION_LAUGHS, EXTERNAL_ENTITY], ids=["billion-laughs", "external-entity"])
def test_a_doctype_is_refused(xml):
    (problem,) = refused(xml)
    assert "DOCTYPE" in problem.message
    assert "root:" not in problem.message  # nothing of /etc/passwd ever reaches the answer


def test_a_file_over_the_limit_is_too_large():
    xml = diagram(REVIEW)
    with pytest.raises(engine.BpmnTooLarge) as info:
        engine.validate(xml, limit=len(xml) - 1, tz=TZ)
    assert (info.value.size, info.value.limit) == (len(xml), len(xml) - 1)


def test_an_empty_body_is_refused():
    assert "empty" in refused(b"  \n")[0].message


def test_not_xml_is_refused_with_its_line():
    (problem,) = refused(diagram(REVIEW).replace(b'<bpmn:userTask id="Task_review" name="Review"/>',
                                                 b'<bpmn:userTask id="Task_review" name="Review">'))
    assert "not well-formed XML" in problem.message
    assert problem.line is not None


def test_a_wrong_root_element_is_refused():
    (problem,) = refused(b'<?xml version="1.0"?>\n<html><body>hello</body></html>')
    assert "<html>" in problem.message and "definitions" in problem.message
    assert problem.line == 2


def test_a_non_utf8_file_is_refused():
    latin1 = diagram(REVIEW.replace('name="Review"', 'name="Révision"')).replace(b"UTF-8", b"ISO-8859-1")
    latin1 = latin1.decode().encode("latin-1")
    assert "UTF-8" in refused(latin1)[0].message
    undeclared = diagram(REVIEW.replace('name="Review"', 'name="Révision"')).decode().encode("latin-1")
    refused(undeclared)


# --- processes -----------------------------------------------------------------------------------------------------
def test_a_non_executable_process_gets_the_executable_hint():
    xml = diagram(REVIEW, executable="false")
    (problem,) = refused(xml)
    assert "Executable" in problem.message
    assert problem.element_id == "Process_case"
    assert problem.line == line_of(xml, 'id="Process_case"')


def test_two_executable_top_level_processes_are_refused():
    other = '  <bpmn:process id="Process_other" isExecutable="true"><bpmn:startEvent id="Event_o"/></bpmn:process>\n'
    xml = diagram(REVIEW, extra=other)
    (problem,) = refused(xml)
    assert "several executable" in problem.message and "Process_other" in problem.message
    assert problem.element_id == "Process_other"


def test_a_flow_to_a_missing_element_names_the_flow_and_line():
    xml = diagram(REVIEW.replace('targetRef="Event_end"', 'targetRef="Event_nowhere"'))
    (problem,) = refused(xml)
    assert problem.element_id == "Flow_2"
    assert problem.line == line_of(xml, 'id="Flow_2"')
    assert "Event_nowhere" in problem.message


def test_a_call_activity_loop_is_refused():
    xml = diagram(REVIEW.replace('<bpmn:userTask id="Task_review" name="Review"/>',
                                 '<bpmn:callActivity id="Call_self" calledElement="Process_case"/>')
                  .replace("Task_review", "Call_self"))
    problems = refused(xml)
    assert any(p.element_id == "Call_self" and "loop" in p.message
               and p.line == line_of(xml, 'id="Call_self"') for p in problems), problems


def test_a_call_to_a_process_in_another_file_names_it():
    xml = diagram(REVIEW.replace('<bpmn:userTask id="Task_review" name="Review"/>',
                                 '<bpmn:callActivity id="Call_other" calledElement="Process_elsewhere"/>')
                  .replace("Task_review", "Call_other"))
    (problem,) = refused(xml)
    assert problem.element_id == "Call_other" and "'Process_elsewhere'" in problem.message


def test_a_loop_with_no_way_out_is_refused_before_the_engine_recurses():
    xml = diagram(REVIEW.replace('targetRef="Event_end"', 'targetRef="Task_review"'))
    problems = refused(xml)
    assert [p.element_id for p in problems] == ["Flow_2"]
    assert "loop" in problems[0].message


def test_an_id_the_engine_uses_itself_is_refused():
    xml = diagram(REVIEW.replace("Event_start", "Start"))
    assert refused(xml)[0].element_id == "Start"


# --- conditions ----------------------------------------------------------------------------------------------------
GATEWAY = """
<bpmn:startEvent id="Event_start"/>
<bpmn:sequenceFlow id="Flow_1" sourceRef="Event_start" targetRef="Gateway_ok"/>
<bpmn:exclusiveGateway id="Gateway_ok" default="Flow_no"/>
<bpmn:sequenceFlow id="Flow_yes" sourceRef="Gateway_ok" targetRef="Event_yes"><bpmn:conditionExpression>CONDITION\
</bpmn:conditionExpression></bpmn:sequenceFlow>
<bpmn:sequenceFlow id="Flow_no" sourceRef="Gateway_ok" targetRef="Event_no"/>
<bpmn:endEvent id="Event_yes"/>
<bpmn:endEvent id="Event_no"/>
"""


def test_a_condition_deploys():
    engine.validate(diagram(GATEWAY.replace("CONDITION", "approved == True")), limit=LIMIT, tz=TZ)


def test_an_empty_condition_is_refused():
    xml = diagram(GATEWAY.replace("CONDITION", "  "))
    (problem,) = refused(xml)
    assert problem.element_id == "Flow_yes" and "empty" in problem.message
    assert problem.line == line_of(xml, 'id="Flow_yes"')


def test_a_condition_from_another_engine_gets_a_hint():
    (problem,) = refused(diagram(GATEWAY.replace("CONDITION", "${approved}")))
    assert problem.element_id == "Flow_yes" and "JUEL" in problem.message


# --- timers --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("kind, value", [
    ("timeDuration", "workdays(5)"),
    ("timeDuration", "PT72H"),
    ("timeDuration", '"PT72H"'),
    ("timeDuration", "P3D"),
    ("timeDuration", 'f"PT{24*3}H"'),
    ("timeCycle", "R3/PT24H"),
    ("timeDate", "IN_A_WEEK_NAIVE"),  # dates relative to the (frozen) clock, so none of them expires
    ("timeDate", "IN_A_WEEK"),
    ("timeDate", "workdays(5)"),
])
def test_timer_values_as_designers_type_them_deploy(kind, value, frozen_now):
    in_a_week = (frozen_now + timedelta(days=7)).astimezone(TZ)
    value = value.replace("IN_A_WEEK_NAIVE", in_a_week.replace(tzinfo=None).isoformat(timespec="seconds"))
    xml = with_timer(kind, value.replace("IN_A_WEEK", in_a_week.isoformat(timespec="seconds")))
    deployable = engine.validate(xml, limit=LIMIT, tz=TZ)
    bundle = engine.bundle_for(deployable.sha256, xml, deployable.process_id, TZ)
    run, _ = engine.CaseRun.start(bundle, {}, {"workdays": lambda n: in_a_week.isoformat()})
    assert run.next_timer_due() is not None and run.next_timer_due() > frozen_now


@pytest.mark.parametrize("kind, value", [
    ("timeDuration", "PT72X"),
    ("timeDuration", "72"),
    ("timeDuration", "None"),
    ("timeCycle", "PT24H"),
    ("timeDate", "next monday"),
    ("timeDuration", "workdays(0)"),
    ("timeDuration", "__import__('os')"),
])
def test_a_bad_timer_value_names_the_boundary_event(kind, value):
    xml = with_timer(kind, value)
    (problem,) = refused(xml)
    assert problem.element_id == "Timer_late"
    assert problem.line == line_of(xml, "<bpmn:timerEventDefinition")


def test_a_timer_without_a_value_is_refused():
    xml = with_timer("timeDuration", "").replace(b"<bpmn:timeDuration></bpmn:timeDuration>", b"")
    (problem,) = refused(xml)
    assert problem.element_id == "Timer_late" and "no value" in problem.message


# --- what SpiffWorkflow itself refuses, in our words ---------------------------------------------------------------
def test_an_unsupported_element_is_named():
    xml = diagram(REVIEW.replace("bpmn:userTask", "bpmn:businessRuleTask"))
    (problem,) = refused(xml)
    assert problem.element_id == "Task_review" and "businessRuleTask" in problem.message
    assert problem.line == line_of(xml, 'id="Task_review"')


def test_a_duplicate_id_is_named():
    xml = diagram(REVIEW + '<bpmn:endEvent id="Task_review"/>')
    (problem,) = refused(xml)
    assert "'Task_review' is used twice" in problem.message and problem.line is not None


def test_a_data_store_is_refused_on_the_task_that_uses_it():
    xml = diagram(REVIEW.replace(
        '<bpmn:userTask id="Task_review" name="Review"/>',
        '<bpmn:userTask id="Task_review" name="Review"><bpmn:dataOutputAssociation id="Assoc_1">'
        '<bpmn:targetRef>Store_ref</bpmn:targetRef></bpmn:dataOutputAssociation></bpmn:userTask>')
        + '<bpmn:dataStoreReference id="Store_ref" name="Archive"/>')
    (problem,) = refused(xml)
    assert problem.element_id == "Task_review" and "'Archive'" in problem.message


def _automatic_loop(rounds: int) -> bytes:
    """A script task counting up and a gateway sending it round again until `rounds`: no one in between."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" id="Defs" targetNamespace="http://x">
  <bpmn:process id="Process_loop" isExecutable="true">
    <bpmn:startEvent id="Event_start"/>
    <bpmn:sequenceFlow id="Flow_in" sourceRef="Event_start" targetRef="Task_count"/>
    <bpmn:scriptTask id="Task_count" name="计数"><bpmn:script>n = n + 1</bpmn:script></bpmn:scriptTask>
    <bpmn:sequenceFlow id="Flow_check" sourceRef="Task_count" targetRef="Gateway_again"/>
    <bpmn:exclusiveGateway id="Gateway_again" default="Flow_done"/>
    <bpmn:sequenceFlow id="Flow_again" sourceRef="Gateway_again" targetRef="Task_count">
      <bpmn:conditionExpression>n &lt; {rounds}</bpmn:conditionExpression>
    </bpmn:sequenceFlow>
    <bpmn:sequenceFlow id="Flow_done" sourceRef="Gateway_again" targetRef="Task_decide"/>
    <bpmn:userTask id="Task_decide" name="决定"/>
    <bpmn:sequenceFlow id="Flow_out" sourceRef="Task_decide" targetRef="Event_end"/>
    <bpmn:endEvent id="Event_end"/>
  </bpmn:process>
</bpmn:definitions>
""".encode()


def test_an_automatic_loop_too_deep_for_the_engine_is_an_error_not_a_silent_stop():
    """SpiffWorkflow stops walking its task tree 1000 deep; a loop of hundreds of rounds would otherwise leave
    the case short of its user task, silently. A short loop runs through."""
    short = _automatic_loop(10)
    deployable = engine.validate(short, limit=LIMIT, tz=TZ)
    run, _ = engine.CaseRun.start(engine.bundle_for(deployable.sha256, short, deployable.process_id, TZ), {"n": 0}, {})
    assert [t.bpmn_id for t in run.tasks() if t.state == "ready"] == ["Task_decide"]
    deep = _automatic_loop(600)
    deployable = engine.validate(deep, limit=LIMIT, tz=TZ)
    bundle = engine.bundle_for(deployable.sha256, deep, deployable.process_id, TZ)
    with pytest.raises(engine.EngineError) as info:  # a budget large enough to reach the engine's depth
        engine.CaseRun.start(bundle, {"n": 0}, {}, engine.Limits(seconds=120))
    assert "loop" in info.value.message and "1000" in info.value.message
    # Each round walks the whole task tree, so 600 rounds cost a lot of CPU: on a slow machine more than the
    # default second, on a fast one less. A small budget stops it first (not a share of the time measured above:
    # only the engine's own steps are charged to a budget, and their share of that time varies from run to run).
    with pytest.raises(engine.TooExpensive):
        engine.CaseRun.start(bundle, {"n": 0}, {}, engine.Limits(seconds=0.005))
