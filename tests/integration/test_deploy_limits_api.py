"""Deploy-time limits through the API (issue 10): refused with 422 invalid_bpmn naming the element and its line."""
from __future__ import annotations

from tests.bpmn_world import bpmn_world
from tests.diagrams import process, seq
from tests.world import ITEM


def _laned(lane: str) -> bytes:
    return process('<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_review" name="审查"/><bpmn:endEvent id="End"/>'
                   + seq(("Start_1", "Task_review"), ("Task_review", "End")), lanes={lane: ["Task_review"]})


def _upload(world, xml: bytes, code: str = "CA01-QT-0009"):
    world.api.post("/api/v1/items", "designer", {**ITEM, "code": code, "category": "other", "name": "测试"})
    return world.api.post(f"/api/v1/items/{code}/definitions", "designer", data=xml, ctype="application/xml")


def test_a_lane_name_longer_than_a_post_is_refused_at_upload_naming_the_lane_and_line(app):
    world = bpmn_world(app)
    for lane in ("岗" * 101, "CA02:" + "岗" * 101):
        status, body = _upload(world, _laned(lane))
        assert status == 422 and body["error"]["code"] == "invalid_bpmn", body
        problem = body["error"]["details"][0]
        assert problem["element_id"] == "Lane_0" and problem["line"] and "at most 100" in problem["message"]
    status, body = _upload(world, _laned("CA02:" + "岗" * 100))  # the post alone is what is stored
    assert status == 201, body


def test_flooding_cycles_and_huge_multi_instance_are_refused_through_the_api(app):
    world = bpmn_world(app)
    cycle = process('<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_review" name="审查"/>'
                    '<bpmn:boundaryEvent id="Timer_remind" cancelActivity="false" attachedToRef="Task_review">'
                    '<bpmn:timerEventDefinition id="TED_1"><bpmn:timeCycle>R100000/PT0S</bpmn:timeCycle>'
                    '</bpmn:timerEventDefinition></bpmn:boundaryEvent><bpmn:endEvent id="End"/><bpmn:endEvent id="E2"/>'
                    + seq(("Start_1", "Task_review"), ("Task_review", "End"), ("Timer_remind", "E2")))
    status, body = _upload(world, cycle)
    assert status == 422 and body["error"]["details"][0]["element_id"] == "Timer_remind", body
    multi = process('<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_sign" name="会签">'
                    '<bpmn:multiInstanceLoopCharacteristics><bpmn:loopCardinality>20000</bpmn:loopCardinality>'
                    '</bpmn:multiInstanceLoopCharacteristics></bpmn:userTask><bpmn:endEvent id="End"/>'
                    + seq(("Start_1", "Task_sign"), ("Task_sign", "End")))
    status, body = _upload(world, multi, "CA01-QT-0010")
    assert status == 422 and body["error"]["details"][0]["element_id"] == "Task_sign", body
