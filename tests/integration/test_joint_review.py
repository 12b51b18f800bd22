"""会签: a multi-instance user step over `assignee` — each instance belongs to the user it names: in that user's
worklist alone, shown on the case with the user, and nobody else may complete it. Also: processes without an
isExecutable attribute run, as SpiffWorkflow reads them."""
from __future__ import annotations

import pytest

from tests import diagrams
from tests.bpmn_world import by_bpmn, bpmn_world, case_of


def _worklist(world, user):
    status, items = world.api.get("/api/v1/tasks", user)
    assert status == 200, items
    return [(t["bpmn_id"], t["assignee"]) for t in items]


@pytest.mark.parametrize("style,sequential", [("camunda", False), ("bpmn", False), ("camunda", True)])
def test_each_instance_belongs_to_its_assignee_alone(app, frozen_now, style, sequential):
    world = bpmn_world(app, joint=diagrams.joint_review(style, sequential))
    case = world.new_case(data={"reviewers": ["rev", "rev2"]}, item=world.items["joint"])
    case = world.complete(case, "Task_accept", "acc")
    signs = by_bpmn(case, "Task_sign")
    expected = [("rev", "ready")] if sequential else [("rev", "ready"), ("rev2", "ready")]
    assert [(t["assignee"], t["state"]) for t in signs] == expected
    assert _worklist(world, "rev") == [("Task_sign", "rev")]
    assert _worklist(world, "acc") == [] and _worklist(world, "dec") == []  # no lane, yet not theirs
    mine = signs[0]
    status, body = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{mine['id']}/complete", "rev2",
                                  {"data": {}, "opinion": "同意"})
    assert status == 403 and "rev" in body["error"]["message"]
    outsider = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{mine['id']}/complete", "outsider", {})
    assert outsider[0] == 404  # another department's clerk: like an unknown case
    case = world.complete(case, "Task_sign", "rev", data={"agree": True})
    assert [t["assignee"] for t in by_bpmn(case, "Task_sign") if t["state"] == "completed"] == ["rev"]
    assert _worklist(world, "rev") == [] and _worklist(world, "rev2") == [("Task_sign", "rev2")]
    case = world.complete(case, "Task_sign", "rev2", data={"agree": True})
    assert world.ready(case, "Task_decide") and _worklist(world, "dec") == [("Task_decide", None)]
    assert [t["assignee"] for t in by_bpmn(case_of(world, case["case_no"]), "Task_sign")] == ["rev", "rev2"]


def test_a_multi_instance_step_over_another_variable_is_anyones_in_the_lane(app, frozen_now):
    xml = diagrams.joint_review("camunda").replace(b'elementVariable="assignee"', b'elementVariable="member"')
    world = bpmn_world(app, joint=xml)
    case = world.complete(world.new_case(data={"reviewers": ["rev", "rev2"]}, item=world.items["joint"]),
                          "Task_accept", "acc")
    assert [t["assignee"] for t in by_bpmn(case, "Task_sign")] == [None, None]
    world.complete(case, "Task_sign", "dec")  # no lane, not assigned: any clerk of the department


def test_a_process_without_is_executable_runs_and_only_false_gets_the_hint(app, frozen_now):
    world = bpmn_world(app, plain=diagrams.process(
        '<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_a" name="办理"/><bpmn:endEvent id="End"/>'
        + diagrams.seq(("Start_1", "Task_a"), ("Task_a", "End")), executable=None))
    case = world.new_case(item=world.items["plain"])
    assert world.ready(case, "Task_a")
    not_executable = diagrams.process('<bpmn:startEvent id="Start_1"/>', executable="false")
    status, body = world.api.post(f"/api/v1/items/{world.items['plain']}/definitions", "designer",
                                  data=not_executable, ctype="application/xml")
    assert status == 422 and "Executable" in body["error"]["details"][0]["message"]
    assert body["error"]["details"][0]["element_id"] == "Process_t"


@pytest.mark.parametrize("sequential", [False, True])
def test_an_assignee_too_long_for_its_column_is_refused_cleanly_and_nothing_is_kept(app, frozen_now, sequential):
    """The 会签 assignee comes from case data and is kept in a 64-character column: a longer one is the data's
    fault (422, the step not completed, no instance kept), never a 500."""
    world = bpmn_world(app, joint=diagrams.joint_review("camunda", sequential))
    long_name = "审" * 65
    case = world.new_case(data={"reviewers": [long_name, "rev"]}, item=world.items["joint"])
    before = case_of(world, case["case_no"])
    refused = world.complete(case, "Task_accept", "acc", expect=422)["error"]
    assert refused["code"] == "engine_error" and refused["details"][0]["element_id"] == "Task_sign"
    after = case_of(world, case["case_no"])
    assert world.ready(after, "Task_accept") and by_bpmn(after, "Task_sign") == []
    assert after["tasks"] == before["tasks"]
    assert [bpmn_id for bpmn_id, _ in _worklist(world, "rev")] == ["Task_accept"]  # no instance of Task_sign
