"""The contract end to end over HTTP: a licensing case from acceptance to decision, by the right posts."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from app import clock, worker
from app.audit import service as audit
from tests.world import build_world


@pytest.fixture
def world(app, frozen_now):
    return build_world(app)


def test_a_licence_runs_from_acceptance_to_decision_by_the_right_posts(world):
    case = world.new_case()
    assert case["status"] == "running" and case["query_code"] and case["case_no"]
    assert [t["bpmn_id"] for t in case["tasks"] if t["state"] == "ready"] == ["Task_accept"]
    case = world.complete(case, "Task_accept", "acc", opinion="材料齐全，予以受理")
    review = world.ready(case, "Task_review")
    assert review["lane"] == "审查岗" and review["due_at"] is not None  # the PT72H step deadline
    case = world.complete(case, "Task_review", "rev", {"approved": True}, opinion="符合条件")
    case = world.complete(case, "Task_decide", "dec", opinion="准予许可")
    assert case["status"] == "completed" and case["completed_at"]
    assert [t["state"] for t in case["tasks"] if t["kind"] == "user"] == ["completed"] * 3
    assert [t["opinion"] for t in case["tasks"] if t["kind"] == "user"] == ["材料齐全，予以受理", "符合条件", "准予许可"]

    status, events = world.api.get(f"/api/v1/cases/{case['case_no']}/events", "sup")
    assert status == 200
    actions = [e["action"] for e in events]
    assert actions[0] == "case_created" and actions[-2:] == ["case_completed", "applicant_notified"]
    assert [e["task_bpmn_id"] for e in events if e["action"] == "task_completed"] == \
        ["Task_accept", "Task_review", "Task_decide"]
    assert [e["actor"] for e in events if e["action"] == "task_completed"] == ["acc", "rev", "dec"]
    assert [e["seq"] for e in events] == list(range(1, len(events) + 1))


def test_the_refusal_branch_is_taken_when_review_does_not_approve(world):
    case = world.complete(world.new_case(), "Task_accept", "acc")
    case = world.complete(case, "Task_review", "rev", {"approved": False}, opinion="不符合条件")
    assert world.ready(case, "Task_notify_refusal")["lane"] == "受理岗"
    assert world.ready(case, "Task_decide") is None
    case = world.complete(case, "Task_notify_refusal", "acc")
    assert case["status"] == "completed"


def test_a_clerk_without_the_lanes_post_gets_403_and_the_case_is_unchanged(world):
    case = world.new_case()
    task = world.ready(case, "Task_accept")
    status, body = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "rev", {"data": {}})
    assert status == 403 and body["error"]["code"] == "forbidden"
    assert world.api.get(f"/api/v1/cases/{case['case_no']}", "acc")[1]["tasks"] == case["tasks"]


def test_staff_of_another_department_cannot_see_or_touch_a_case(world):
    case = world.new_case()
    task = world.ready(case, "Task_accept")
    for user in ("outsider", "sup02"):
        status, body = world.api.get(f"/api/v1/cases/{case['case_no']}", user)
        assert status == 404 and body["error"]["code"] == "not_found"
        assert world.api.get(f"/api/v1/cases/{case['case_no']}/events", user)[0] == 404
    status, _ = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "outsider", {})
    assert status == 404
    assert world.api.get(f"/api/v1/cases/{case['case_no']}", "sup")[0] == 200  # the district sees all
    assert world.api.get(f"/api/v1/cases/{case['case_no']}", "sup01")[0] == 200
    status, body = world.api.post("/api/v1/cases", "outsider", {"item_code": "CA01-XK-0001",
                                                                 "applicant": {"name": "李四"}})
    assert status == 403


def test_completing_twice_is_409_and_unknown_tasks_are_404(world):
    case = world.new_case()
    task = world.ready(case, "Task_accept")
    url = f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete"
    assert world.api.post(url, "acc", {})[0] == 200
    status, body = world.api.post(url, "acc", {})
    assert status == 409 and body["error"]["code"] == "task_not_ready"
    for bad in ("00000000-0000-0000-0000-000000000000", "not-a-uuid", "%27%20OR%201%3D1"):
        assert world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{bad}/complete", "acc", {})[0] == 404
    assert world.api.get("/api/v1/cases/20260101-000000", "acc")[0] == 404


def test_a_failing_condition_is_a_422_and_leaves_the_case_as_it_was(world):
    case = world.complete(world.new_case(), "Task_accept", "acc")
    _, before = world.api.get(f"/api/v1/cases/{case['case_no']}/events", "acc")
    task = world.ready(case, "Task_review")
    status, body = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "rev",
                                  {"data": {}, "opinion": "忘了填审查结论"})
    assert status == 422 and body["error"]["code"] == "engine_error"
    assert "approved" in body["error"]["message"]
    _, after_case = world.api.get(f"/api/v1/cases/{case['case_no']}", "rev")
    assert world.ready(after_case, "Task_review")["id"] == task["id"]
    assert world.api.get(f"/api/v1/cases/{case['case_no']}/events", "acc")[1] == before
    world.complete(after_case, "Task_review", "rev", {"approved": True})


@pytest.mark.parametrize("data, word", [
    ({"__class__": 1}, "__class__"), ({"typename": "x"}, "typename"), ({"len": 3}, "len"),
    ({"a b": 1}, "a b"),
])
def test_form_data_with_unusable_names_is_refused(world, data, word):
    case = world.new_case()
    task = world.ready(case, "Task_accept")
    status, body = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "acc",
                                  {"data": data})
    assert status == 422, body
    assert word in body["error"]["message"]


def test_form_data_that_is_not_an_object_is_malformed(world):
    case = world.new_case()
    task = world.ready(case, "Task_accept")
    status, body = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "acc",
                                  {"data": "not an object"})
    assert status == 400 and body["error"]["details"] == [{"field": "data"}], body


def test_the_worklist_shows_only_my_posts_tasks_soonest_due_first(world):
    first, second = world.new_case(), world.new_case()
    world.complete(first, "Task_accept", "acc")
    status, mine = world.api.get("/api/v1/tasks", "acc")
    assert status == 200 and [w["case_no"] for w in mine] == [second["case_no"]]
    _, reviews = world.api.get("/api/v1/tasks", "rev")
    assert [(w["case_no"], w["bpmn_id"]) for w in reviews] == [(first["case_no"], "Task_review")]
    assert reviews[0]["due_at"] and reviews[0]["task_id"]
    assert world.api.get("/api/v1/tasks", "outsider")[1] == []
    assert world.api.get("/api/v1/tasks", "sup")[0] == 403


def test_a_due_timer_raises_exactly_one_notice_to_the_clerks_and_the_supervisors_in_scope(world, app):
    case = world.complete(world.new_case(), "Task_accept", "acc")
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    clock.advance(timedelta(hours=71))
    assert worker.sweep(db, settings) == 0
    clock.advance(timedelta(hours=2))
    assert worker.sweep(db, settings) == 1
    assert worker.sweep(db, settings) == 0  # once only
    status, notices = world.api.get(f"/api/v1/notices?case_no={case['case_no']}", "sup")
    assert status == 200 and len(notices) == 1
    notice = notices[0]
    assert notice["task_bpmn_id"] == "Task_review" and notice["level"] == "yellow"
    assert sorted(r["username"] for r in notice["recipients"]) == ["rev", "rev2", "sup", "sup01"]
    assert world.api.get("/api/v1/notices", "sup02")[1] == []
    assert [n["id"] for n in world.api.get("/api/v1/notices", "rev")[1]] == [notice["id"]]
    assert world.api.get("/api/v1/notices", "acc")[1] == []
    status, acked = world.api.post(f"/api/v1/notices/{notice['id']}/ack", "rev", {})
    assert status == 200 and acked["acknowledged_at"]
    assert world.api.post(f"/api/v1/notices/{notice['id']}/ack", "acc", {})[0] == 403
    _, events = world.api.get(f"/api/v1/cases/{case['case_no']}/events", "sup")
    actions = [e["action"] for e in events]
    assert actions.count("timer_fired") == 1 and actions.count("notice_created") == 1
    # Non-interrupting: the review is still there to be done.
    _, now_case = world.api.get(f"/api/v1/cases/{case['case_no']}", "rev")
    assert world.ready(now_case, "Task_review") is not None and now_case["next_timer_due_at"] is None


def test_a_user_cannot_beat_a_due_timer(world):
    """The timer is due but no worker ran: completing the step fires it first, so the notice still exists."""
    case = world.complete(world.new_case(), "Task_accept", "acc")
    clock.advance(timedelta(hours=73))
    case = world.complete(case, "Task_review", "rev", {"approved": True})
    assert len(case["notices"]) == 1
    _, events = world.api.get(f"/api/v1/cases/{case['case_no']}/events", "sup")
    actions = [e["action"] for e in events]
    assert actions.index("timer_fired") < actions.index("notice_created") < \
        [i for i, e in enumerate(events) if e["task_bpmn_id"] == "Task_review" and e["action"] == "task_completed"][0]


def test_the_public_query_shows_progress_and_nothing_personal(world):
    new = world.new_case()
    case = world.complete(new, "Task_accept", "acc")
    case["query_code"] = new["query_code"]
    status, body = world.api.get(f"/public/api/v1/cases/{case['case_no']}?code={case['query_code']}")
    assert status == 200
    assert body["current_steps"] == ["审查"] and sorted(body["next_steps"]) == sorted(["决定", "告知不予许可"])
    assert body["remaining_working_days"] == 5 and body["accepted_at"]
    text = json.dumps(body, ensure_ascii=False)
    for personal in ("张三", "320102199001011234", "13800000000"):
        assert personal not in text
    wrong = world.api.get(f"/public/api/v1/cases/{case['case_no']}?code=AAAAAAAA")
    unknown = world.api.get(f"/public/api/v1/cases/20991231-000000?code={case['query_code']}")
    missing = world.api.get(f"/public/api/v1/cases/{case['case_no']}")
    assert wrong == unknown
    assert wrong[0] == 404
    assert missing[0] == 422 and missing[1]["error"]["details"] == [{"field": "code"}]  # the document requires it


def test_the_audit_trail_of_a_case_verifies(world, app):
    case = world.complete(world.new_case(), "Task_accept", "acc")
    db = app.extensions["sunlight.db"]
    with db.unit_of_work() as s:
        assert audit.verify(s) is None
    assert world.api.get(f"/api/v1/cases/{case['case_no']}/events", "acc")[0] == 200


def test_non_finite_numbers_never_reach_the_case(world):
    case = world.new_case()
    task = world.ready(case, "Task_accept")
    status, body = world.api.call("POST", f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "acc",
                                  data=b'{"data": {"area": Infinity}, "opinion": ""}', ctype="application/json")
    assert status == 422 and "finite" in body["error"]["message"]
