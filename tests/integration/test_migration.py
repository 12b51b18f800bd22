"""Running-case migration to a newer published version: check, move, refuse with reasons, revert, audit."""
from __future__ import annotations

import pytest

from tests.world import ITEM, LICENSING, build_world

V2 = LICENSING.replace('name="决定"'.encode(), 'name="决定（新版）"'.encode()).replace(b">PT72H<", b">PT48H<")
V3_WITHOUT_REVIEW = LICENSING.replace(b"Task_review", b"Task_check")


@pytest.fixture
def world(app, frozen_now):
    return build_world(app)


def publish(world, xml) -> int:
    status, d = world.api.call("POST", f"/api/v1/items/{ITEM['code']}/definitions", "designer", data=xml,
                               ctype="application/xml")
    assert status == 201, d
    world.api.post(f"/api/v1/definitions/{d['id']}/submit", "designer", {})
    assert world.api.post(f"/api/v1/definitions/{d['id']}/review", "legal", {"decision": "approve"})[0] == 200
    return d["id"]


def test_a_mix_of_cases_moves_where_it_can_and_says_why_not_elsewhere(world, app):
    at_accept = [world.new_case() for _ in range(3)]
    at_review = [world.complete(world.new_case(), "Task_accept", "acc") for _ in range(3)]
    done = world.complete(world.complete(world.complete(world.new_case(), "Task_accept", "acc"), "Task_review", "rev",
                                         {"approved": True}), "Task_decide", "dec")
    v3 = publish(world, V3_WITHOUT_REVIEW)
    status, report = world.api.post(f"/api/v1/definitions/{v3}/migrations", "admin", {"dry_run": True})
    assert status == 200 and report["moved"] == []
    assert len(report["refused"]) == 6 and all("Task_review" in r["reason"] for r in report["refused"])
    v2 = publish(world, V2)
    assert world.api.post(f"/api/v1/definitions/{v2}/migrations", "designer", {})[0] == 403
    status, report = world.api.post(f"/api/v1/definitions/{v2}/migrations", "admin",
                                    {"case_nos": [c["case_no"] for c in at_review] + [done["case_no"], "nope"]})
    assert status == 200
    assert sorted(report["moved"]) == sorted(c["case_no"] for c in at_review)
    assert {r["case_no"]: r["reason"] for r in report["refused"]} == {
        done["case_no"]: "the case is completed", "nope": "no such case in your scope"}
    moved = world.api.get(f"/api/v1/cases/{at_review[0]['case_no']}", "rev")[1]
    assert moved["definition_id"] == v2
    moved = world.complete(moved, "Task_review", "rev", {"approved": True})
    assert world.ready(moved, "Task_decide")["name"] == "决定（新版）"  # the future follows the new version
    world.complete(moved, "Task_decide", "dec")
    _, events = world.api.get(f"/api/v1/cases/{at_review[0]['case_no']}/events", "sup")
    migrated = [e for e in events if e["action"] == "case_migrated"]
    assert migrated and migrated[0]["detail"]["to_definition_id"] == v2
    # The rest of the item's running cases follow when no list is given; then revert one.
    status, report = world.api.post(f"/api/v1/definitions/{v2}/migrations", "admin", {})
    assert sorted(report["moved"]) == sorted(c["case_no"] for c in at_accept)  # the reviews moved already
    first = world.definition_id
    status, report = world.api.post(f"/api/v1/definitions/{first}/migrations", "admin",
                                    {"case_nos": [at_accept[0]["case_no"]]})
    assert report["moved"] == [at_accept[0]["case_no"]]
    assert world.api.get(f"/api/v1/cases/{at_accept[0]['case_no']}", "acc")[1]["definition_id"] == first


def test_the_cli_moves_with_a_report(world, app):
    case = world.complete(world.new_case(), "Task_accept", "acc")
    v2 = publish(world, V2)
    result = app.test_cli_runner().invoke(args=["cases", "migrate", "--to", str(v2), "--dry-run"])
    assert result.exit_code == 0 and "1 can move, 0 refused" in result.output
    result = app.test_cli_runner().invoke(args=["cases", "migrate", "--to", str(v2), "--case", case["case_no"]])
    assert result.exit_code == 0 and "1 moved, 0 refused" in result.output


def test_a_hundred_cases_with_a_mix_that_can_and_cannot_move(world):
    can = [world.complete(world.new_case(), "Task_accept", "acc")["case_no"] for _ in range(60)]
    cannot = []
    for _ in range(40):
        case = world.complete(world.complete(world.new_case(), "Task_accept", "acc"), "Task_review", "rev",
                              {"approved": True})
        cannot.append(case["case_no"])
    # The decision becomes a manual task: cases already at the decision cannot move, the others can.
    v4 = publish(world, LICENSING.replace(b"<bpmn:userTask id=\"Task_decide\"", b"<bpmn:manualTask id=\"Task_decide\"")
                 .replace(b"</bpmn:userTask>\n    <bpmn:scriptTask", b"</bpmn:manualTask>\n    <bpmn:scriptTask"))
    status, report = world.api.post(f"/api/v1/definitions/{v4}/migrations", "admin", {"dry_run": True})
    assert status == 200 and sorted(report["moved"]) == sorted(can)
    assert sorted(r["case_no"] for r in report["refused"]) == sorted(cannot)
    assert all("changed its kind" in r["reason"] for r in report["refused"])
    assert world.api.get(f"/api/v1/cases/{can[0]}", "acc")[1]["definition_id"] == world.definition_id  # dry run
    status, report = world.api.post(f"/api/v1/definitions/{v4}/migrations", "admin", {})
    assert len(report["moved"]) == 60 and len(report["refused"]) == 40
