"""The catalogue (权力清单): coding scheme, suspension (暂停行使) and abolition, public listing."""
from __future__ import annotations

import pytest

from tests.world import ITEM, build_world


@pytest.fixture
def world(app, frozen_now):
    return build_world(app)


def test_items_registered_without_a_code_are_numbered_by_the_scheme(world):
    body = {k: v for k, v in ITEM.items() if k != "code"}
    codes = [world.api.post("/api/v1/items", "designer", {**body, "name": f"许可{i}"})[1]["code"] for i in range(2)]
    assert codes == ["CA01-XK-0002", "CA01-XK-0003"]  # CA01-XK-0001 exists already
    status, penalty = world.api.post("/api/v1/items", "designer", {**body, "category": "penalty", "name": "处罚",
                                                                   "kind": "immediate", "special_procedures": [
                                                                       {"name": "听证", "legal_basis": "《行政处罚法》第六十三条",
                                                                        "days": 20}]})
    assert status == 201 and penalty["code"] == "CA01-CF-0001" and penalty["kind"] == "immediate"
    assert penalty["special_procedures"][0]["counted"] is False
    assert world.api.post("/api/v1/items", "designer", {**body, "kind": "someday"})[0] == 422


def test_a_suspended_item_takes_no_new_cases_but_running_ones_continue(world):
    running = world.new_case()
    code = ITEM["code"]
    assert world.api.post(f"/api/v1/items/{code}/suspend", "designer", {"reason": "x"})[0] == 403
    assert world.api.post(f"/api/v1/items/{code}/suspend", "admin", {})[0] == 422
    status, item = world.api.post(f"/api/v1/items/{code}/suspend", "admin", {"reason": "法律依据修订，暂停行使"})
    assert status == 200 and item["status"] == "suspended" and item["status_reason"]
    assert world.api.post(f"/api/v1/items/{code}/suspend", "admin", {"reason": "again"})[0] == 409
    status, body = world.api.post("/api/v1/cases", "acc", {"item_code": code, "applicant": {"name": "周八"}})
    assert status == 409 and body["error"]["code"] == "item_not_active"
    assert world.api.get("/public/api/v1/items")[1]["total"] == 0
    world.complete(running, "Task_accept", "acc")  # the running case goes on
    status, item = world.api.post(f"/api/v1/items/{code}/resume", "admin", {"reason": "依据已明确，恢复行使"})
    assert status == 200 and item["status"] == "active"
    assert world.api.get("/public/api/v1/items")[1]["total"] == 1
    status, item = world.api.post(f"/api/v1/items/{code}/abolish", "admin", {"reason": "上位法废止"})
    assert status == 200 and item["status"] == "abolished"
    assert world.api.post(f"/api/v1/items/{code}/resume", "admin", {"reason": "x"})[0] == 409
    assert world.api.post("/api/v1/cases", "acc", {"item_code": code, "applicant": {"name": "吴九"}})[0] == 409
    assert world.api.post("/api/v1/items/NOPE/abolish", "admin", {"reason": "x"})[0] == 404
    assert world.api.post(f"/api/v1/items/{code}/delete", "admin", {"reason": "x"})[0] == 404
