"""并联审批 and a street accepting for a department: a lane named `ORG:POST` hands its steps to that post in that
org unit; the case is visible to that unit's staff from the moment a step reaches it; an unknown org unit is
refused at deploy."""
from __future__ import annotations

from app.orgs import service as orgs
from tests import diagrams
from tests.bpmn_world import by_bpmn, case_of, events_of
from tests.world import ITEM, build_world, deploy_item

CODE = "CAJ1-XK-0001"


def _world(app, xml=None):
    world = build_world(app, deploy=False)
    with app.extensions["sunlight.db"].unit_of_work() as s:
        orgs.create_org(s, "CAJ1", "广益街道", "street", "CA", "test")
        for name, post in (("street_acc", "受理岗"), ("street_rev", "审查岗")):
            world.tokens[name] = orgs.issue_token(s, orgs.create_user(s, name, "clerk", "CAJ1", [post], None, "test"),
                                                  "test")
        world.tokens["street_des"] = orgs.issue_token(
            s, orgs.create_user(s, "street_des", "designer", "CAJ1", [], None, "test"), "test")
    item = {**ITEM, "code": CODE, "department": "CAJ1", "name": "街道代收许可"}
    _deploy(world, item, xml or diagrams.street_to_department())
    return world


def _deploy(world, item, xml):
    api = world.api
    assert api.post("/api/v1/items", "street_des", item)[0] == 201
    status, d = api.post(f"/api/v1/items/{item['code']}/definitions", "street_des", data=xml, ctype="application/xml")
    assert status == 201, d
    assert api.post(f"/api/v1/definitions/{d['id']}/submit", "street_des", {})[0] == 200
    assert api.post(f"/api/v1/definitions/{d['id']}/review", "legal", {"decision": "approve", "comment": "合法"})[0] == 200


def _worklist(world, user):
    return [(t["case_no"], t["bpmn_id"]) for t in world.api.get("/api/v1/tasks", user)[1]]


def test_a_street_accepts_and_the_department_reviews_seeing_the_case_from_then_on(app, frozen_now):
    world = _world(app)
    case = world.new_case(user="street_acc", item=CODE)
    no = case["case_no"]
    assert world.api.get(f"/api/v1/cases/{no}", "rev")[0] == 404  # not yet the department's
    case = world.complete(case, "Task_accept", "street_acc")
    [review] = by_bpmn(case, "Task_review")
    assert review["org_unit"] == "CA01" and review["lane"] == "审查岗" and review["state"] == "ready"
    assert _worklist(world, "rev") == [(no, "Task_review")]
    assert _worklist(world, "street_rev") == []  # the street's own 审查岗 does not hold it
    status, body = world.api.post(f"/api/v1/cases/{no}/tasks/{review['id']}/complete", "street_rev", {})
    assert status == 403
    assert world.api.get(f"/api/v1/cases/{no}", "outsider")[0] == 404  # CA02 was never involved
    assert world.api.get(f"/api/v1/cases/{no}", "sup01")[0] == 200  # the department's supervisor too
    case = world.complete(case_of(world, no, "rev"), "Task_review", "rev")
    assert world.ready(case, "Task_notify") and by_bpmn(case, "Task_notify")[0]["org_unit"] == "CAJ1"
    assert world.api.get(f"/api/v1/cases/{no}", "rev")[0] == 200  # still visible after its step
    world.complete(case, "Task_notify", "street_acc")
    assert case_of(world, no)["status"] == "completed"
    assert [e["detail"]["org_unit"] for e in events_of(world, no, "case_shared")] == ["CA01"]


def test_a_lane_naming_an_unknown_org_unit_is_refused_at_deploy(app, frozen_now):
    world = build_world(app, deploy=False)
    assert world.api.post("/api/v1/items", "designer", {**ITEM, "code": "CA01-XK-0009"})[0] == 201
    status, body = world.api.post("/api/v1/items/CA01-XK-0009/definitions", "designer",
                                  data=diagrams.street_to_department("NOPE"), ctype="application/xml")
    assert status == 422 and body["error"]["code"] == "invalid_bpmn"
    [problem] = body["error"]["details"]
    assert problem["element_id"] == "Lane_1" and problem["line"] and "'NOPE'" in problem["message"]
    # A lane whose name merely holds a full-width colon is a post of the department, as before.
    xml = diagrams.street_to_department().replace("CA01:审查岗".encode(), "审查岗：复核".encode())
    deploy_item(world, {**ITEM, "code": "CA01-XK-0010"}, xml)


def test_a_step_timer_in_an_org_lane_tells_the_clerks_of_that_unit(app, frozen_now):
    from datetime import timedelta

    from app import clock, worker

    xml = diagrams.street_to_department().replace(
        b'<bpmn:userTask id="Task_review" name="\xe9\x83\xa8\xe9\x97\xa8\xe5\xae\xa1\xe6\x9f\xa5"/>',
        '<bpmn:userTask id="Task_review" name="部门审查"/><bpmn:boundaryEvent id="Timer_late" cancelActivity="false" '
        'attachedToRef="Task_review"><bpmn:timerEventDefinition id="T1"><bpmn:timeDuration>PT24H</bpmn:timeDuration>'
        '</bpmn:timerEventDefinition></bpmn:boundaryEvent>'.encode())
    assert b"Timer_late" in xml
    world = _world(app, xml)
    case = world.complete(world.new_case(user="street_acc", item=CODE), "Task_accept", "street_acc")
    clock.advance(timedelta(hours=25))
    worker.sweep(app.extensions["sunlight.db"], app.extensions["sunlight.settings"])
    [notice] = [n for n in case_of(world, case["case_no"], "sup")["notices"] if n["task_bpmn_id"] == "Task_review"]
    clerks = {r["username"] for r in notice["recipients"] if r["as"] == "clerk"}
    assert clerks == {"rev", "rev2"}
    # The supervisors of each unit involved: the district's, and the department's whose step it is.
    supervisors = {r["username"] for r in notice["recipients"] if r["as"] == "supervisor"}
    assert supervisors == {"sup", "sup01"}
