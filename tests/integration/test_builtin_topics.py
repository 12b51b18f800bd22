"""Built-in topics: service tasks Sunlight completes itself in the worker's sweep — telling the applicant
(sunlight.tell-applicant) and publishing the decision (sunlight.publish-decision) — with retries and an incident
like any external work, and never handed to another system's worker."""
from __future__ import annotations

from datetime import timedelta

from app import clock, worker
from tests import diagrams
from tests.bpmn_world import by_bpmn, bpmn_world, case_of, events_of
from tests.world import ITEM, deploy_item

TELL = "sunlight.tell-applicant"
PUBLISH = "sunlight.publish-decision"
GRANT = {"outcome": "granted", "summary": "准予食品经营许可，有效期五年", "legal_basis": "《中华人民共和国食品安全法》第三十五条"}


def _sweep(app) -> int:
    return worker.sweep(app.extensions["sunlight.db"], app.extensions["sunlight.settings"])


def _told(world, case_no) -> list[dict]:
    return [e for e in events_of(world, case_no, "applicant_notified") if e["detail"]["kind"] == "step_notice"]


def _decide_then_publish() -> bytes:
    """受理 → 决定 (the decision step) → publish the decision (service task) → 送达 → end."""
    return diagrams.process(
        '<bpmn:startEvent id="Start_1"/><bpmn:userTask id="Task_accept" name="受理"/>'
        '<bpmn:userTask id="Task_decide" name="决定"/>'
        f'<bpmn:serviceTask id="Service_publish" name="公示决定" camunda:type="external" camunda:topic="{PUBLISH}"/>'
        '<bpmn:userTask id="Task_deliver" name="送达"/><bpmn:endEvent id="End"/>'
        + diagrams.seq(("Start_1", "Task_accept"), ("Task_accept", "Task_decide"), ("Task_decide", "Service_publish"),
                       ("Service_publish", "Task_deliver"), ("Task_deliver", "End")))


def test_a_tell_applicant_step_is_done_by_sunlight_in_the_sweep_and_the_case_moves_on(app, frozen_now):
    world = bpmn_world(app, tell=diagrams.service_task(TELL).replace("信用核查".encode(), "请于5个工作日内缴纳费用".encode()))
    case = world.complete(world.new_case(item=world.items["tell"]), "Task_accept", "acc")
    [step] = by_bpmn(case, "Service_check")
    assert step["state"] == "waiting" and step["served_by"] == "sunlight" and step["topic"] == TELL
    # Another system's worker is never handed a built-in task, even when it asks for the topic.
    status, body = world.api.post("/api/v1/external-tasks/fetch-and-lock", "sys",
                                  {"worker_id": "w1", "topics": [TELL, "credit_check"]})
    assert status == 200 and body["external_tasks"] == []
    _sweep(app)
    case = case_of(world, case["case_no"])
    assert world.ready(case, "Task_decide") and by_bpmn(case, "Service_check")[0]["state"] == "completed"
    [told] = _told(world, case["case_no"])
    assert told["detail"]["text"] == f"您的办件{case['case_no']}：请于5个工作日内缴纳费用。"
    [done] = events_of(world, case["case_no"], "external_task_completed")
    assert done["actor"] == "system" and done["task_bpmn_id"] == "Service_check"
    _sweep(app)  # served once: a second sweep tells nothing more
    assert len(_told(world, case["case_no"])) == 1


def test_the_text_told_may_come_from_the_case_data(app, frozen_now):
    world = bpmn_world(app, tell=diagrams.service_task(TELL))
    case = world.complete(world.new_case(item=world.items["tell"]), "Task_accept", "acc",
                          data={"applicant_message": "现场核查定于3月5日上午进行"})
    _sweep(app)
    [told] = _told(world, case["case_no"])
    assert told["detail"]["text"].endswith("：现场核查定于3月5日上午进行。")


def test_a_publish_decision_step_publishes_the_held_decision(app, frozen_now):
    world = bpmn_world(app)
    code = "CA01-XK-0009"
    deploy_item(world, {**ITEM, "code": code, "decision_step": "Task_decide", "decision_publication": "clerk"},
                _decide_then_publish())
    case = world.complete(world.new_case(item=code), "Task_accept", "acc")
    task = world.ready(case, "Task_decide")
    status, case = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "dec",
                                  {"data": {}, "opinion": "同意", "decision": GRANT})
    assert status == 200, case
    assert world.api.get("/public/api/v1/decisions")[1]["total"] == 0  # held for the flow to publish
    _sweep(app)
    case = case_of(world, case["case_no"])
    assert world.ready(case, "Task_deliver") and by_bpmn(case, "Service_publish")[0]["state"] == "completed"
    public = world.api.get("/public/api/v1/decisions")[1]
    assert public["total"] == 1 and public["decisions"][0]["summary"] == GRANT["summary"]
    [published] = events_of(world, case["case_no"], "decision_published")
    assert published["actor"] == "system"


def test_a_built_in_task_that_fails_is_retried_then_an_incident_until_an_admin_gives_it_retries(app, frozen_now):
    # An item of category "other" puts no decision on the public record: publishing it cannot succeed.
    world = bpmn_world(app, publish=diagrams.service_task(PUBLISH))
    case = world.complete(world.new_case(item=world.items["publish"]), "Task_accept", "acc")
    no = case["case_no"]
    _sweep(app)
    [step] = by_bpmn(case_of(world, no), "Service_check")
    assert step["state"] == "waiting" and step["retries"] == 2 and "no decision" in step["error_message"]
    assert not step["incident"]
    _sweep(app)  # waiting out its retry: not tried again yet
    assert len(events_of(world, no, "external_task_failed")) == 1
    clock.advance(timedelta(seconds=61))
    _sweep(app)
    assert by_bpmn(case_of(world, no), "Service_check")[0]["retries"] == 1
    clock.advance(timedelta(seconds=121))
    _sweep(app)
    case = case_of(world, no)
    [incident] = case["incidents"]
    assert incident["topic"] == PUBLISH and incident["served_by"] == "sunlight" and incident["retries"] == 0
    assert [e["actor"] for e in events_of(world, no, "incident_raised")] == ["system"]
    clock.advance(timedelta(hours=1))
    _sweep(app)  # an incident is never tried again by itself
    assert len(events_of(world, no, "external_task_failed")) == 3
    status, body = world.api.post(f"/api/v1/external-tasks/{incident['id']}/retries", "admin", {"retries": 1})
    assert status == 200 and not body["incident"]
    _sweep(app)
    assert len(events_of(world, no, "external_task_failed")) == 4 and case_of(world, no)["incidents"]


def test_a_boundary_timer_that_fell_due_wins_over_the_built_in_work(app, frozen_now):
    world = bpmn_world(app, tell=diagrams.service_task(TELL, boundary="PT1H"))
    case = world.complete(world.new_case(item=world.items["tell"]), "Task_accept", "acc")
    clock.advance(timedelta(hours=2))
    _sweep(app)
    case = case_of(world, case["case_no"])
    assert by_bpmn(case, "Service_check")[0]["state"] == "cancelled" and world.ready(case, "Task_manual")
    assert _told(world, case["case_no"]) == []


def test_a_mistyped_built_in_topic_is_refused_at_upload(app, frozen_now):
    """The 'sunlight.' prefix is Sunlight's: a topic it does not serve would wait for ever for a worker."""
    world = bpmn_world(app, publish=_decide_then_publish())
    xml = _decide_then_publish().replace(PUBLISH.encode(), b"sunlight.publish-decisions")
    status, body = world.api.post(f"/api/v1/items/{world.items['publish']}/definitions", "designer", data=xml,
                                  ctype="application/xml")
    assert status == 422 and body["error"]["code"] == "invalid_bpmn", body
    [problem] = body["error"]["details"]
    assert problem["element_id"] == "Service_publish" and problem["line"]
    assert "sunlight.publish-decisions" in problem["message"] and "保留给系统" in problem["message_zh"]
