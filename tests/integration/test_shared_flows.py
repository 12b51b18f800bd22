"""Cross-definition call activities: a district's shared sub-flow (here 法制审核) published once, called by the
items of the departments below it, each caller pinned to the version published when it was uploaded."""
from __future__ import annotations

from app.orgs import service as orgs
from tests import diagrams
from tests.bpmn_world import by_bpmn, case_of
from tests.world import ITEM, build_world

SHARED = {**ITEM, "code": "CA-QT-0001", "department": "CA", "name": "法制审核（共享子流程）", "category": "other"}
CALLER = {**ITEM, "code": "CA01-XK-0007", "name": "调用共享子流程的许可"}


def _world(app):
    world = build_world(app, deploy=False)
    with app.extensions["sunlight.db"].unit_of_work() as s:
        world.tokens["des_ca"] = orgs.issue_token(s, orgs.create_user(s, "des_ca", "designer", "CA", [], None, "t"), "t")
    return world


def _publish_shared(world, xml) -> int:
    api = world.api
    if api.get(f"/api/v1/items/{SHARED['code']}", "des_ca")[0] == 404:
        assert api.post("/api/v1/items", "des_ca", SHARED)[0] == 201
    status, d = api.post(f"/api/v1/items/{SHARED['code']}/definitions", "des_ca", data=xml, ctype="application/xml")
    assert status == 201, d
    assert api.post(f"/api/v1/definitions/{d['id']}/submit", "des_ca", {})[0] == 200
    assert api.post(f"/api/v1/definitions/{d['id']}/review", "legal", {"decision": "approve"})[0] == 200
    return d["id"]


def _upload_caller(world, xml=None):
    return world.api.post(f"/api/v1/items/{CALLER['code']}/definitions", "designer",
                          data=xml or diagrams.calls_legal_review(), ctype="application/xml")


def _publish(world, definition_id):
    assert world.api.post(f"/api/v1/definitions/{definition_id}/submit", "designer", {})[0] == 200
    assert world.api.post(f"/api/v1/definitions/{definition_id}/review", "legal", {"decision": "approve"})[0] == 200


def test_a_department_item_calls_the_districts_shared_flow_pinned_by_version(app, frozen_now):
    world = _world(app)
    v1 = _publish_shared(world, diagrams.legal_review_flow("法制审核"))
    assert world.api.post("/api/v1/items", "designer", CALLER)[0] == 201
    status, caller = _upload_caller(world)
    assert status == 201 and caller["calls"] == [{"process_id": "legal_review_flow", "definition_id": v1,
                                                  "item_code": SHARED["code"], "version": 1}]
    _publish(world, caller["id"])
    case = world.complete(world.new_case(item=CALLER["code"]), "Task_accept", "acc")
    [step] = by_bpmn(case, "LR_review")
    assert step["name"] == "法制审核" and step["state"] == "ready"
    early = world.new_case(item=CALLER["code"])  # still at 受理 when the shared flow changes
    _publish_shared(world, diagrams.legal_review_flow("法制审核（修订）"))
    case = world.complete(case, "LR_review", "rev")
    assert world.ready(case, "Task_decide")
    early = world.complete(early, "Task_accept", "acc")
    assert by_bpmn(early, "LR_review")[0]["name"] == "法制审核"  # pinned: the caller's version runs v1
    status, v2_caller = _upload_caller(world)  # a new version of the caller pins the new shared version
    assert v2_caller["calls"][0]["version"] == 2
    status, diff = world.api.get(f"/api/v1/definitions/{v2_caller['id']}/diff?against={caller['id']}", "legal")
    [pin] = [c for c in diff["changes"] if c["element_type"] == "sharedFlow"]
    assert pin == {"change": "changed", "element_id": "legal_review_flow", "element_type": "sharedFlow", "name": None,
                   "field": "version", "old": f"{SHARED['code']} v1", "new": f"{SHARED['code']} v2"}
    _publish(world, v2_caller["id"])
    fresh = world.complete(world.new_case(item=CALLER["code"]), "Task_accept", "acc")
    assert by_bpmn(fresh, "LR_review")[0]["name"] == "法制审核（修订）"
    assert case_of(world, case["case_no"])["status"] == "running"


def test_only_published_flows_of_the_department_or_above_can_be_called(app, frozen_now):
    world = _world(app)
    assert world.api.post("/api/v1/items", "designer", CALLER)[0] == 201
    status, body = _upload_caller(world)  # nothing published yet
    assert status == 422 and body["error"]["details"][0]["element_id"] == "Call_legal"
    assert "'legal_review_flow', which is not in this file" in body["error"]["details"][0]["message"]
    with app.extensions["sunlight.db"].unit_of_work() as s:  # another department's flow with that process id
        world.tokens["des02"] = orgs.issue_token(s, orgs.create_user(s, "des02", "designer", "CA02", [], None, "t"), "t")
    other = {**ITEM, "code": "CA02-QT-0001", "department": "CA02", "name": "城管的子流程", "category": "other"}
    assert world.api.post("/api/v1/items", "des02", other)[0] == 201
    status, d = world.api.post("/api/v1/items/CA02-QT-0001/definitions", "des02", data=diagrams.legal_review_flow(),
                               ctype="application/xml")
    assert world.api.post(f"/api/v1/definitions/{d['id']}/submit", "des02", {})[0] == 200
    assert world.api.post(f"/api/v1/definitions/{d['id']}/review", "legal", {"decision": "approve"})[0] == 200
    assert _upload_caller(world)[0] == 422  # CA02 is not above CA01
    status, body = _upload_caller(world, diagrams.calls_legal_review("nope"))
    assert status == 422 and "'nope'" in body["error"]["details"][0]["message"]
