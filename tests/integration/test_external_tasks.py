"""Service tasks as external work: listed by topic, fetched and locked with expiry (two workers never hold the same
task), completed through the case's action path, failed with retries down to an incident shown on the case."""
from __future__ import annotations

from datetime import timedelta

from app import clock, worker
from tests import diagrams
from tests.bpmn_world import by_bpmn, bpmn_world, case_of, events_of

TOPIC = "credit_check"


def _at_check(app, xml=None, data=None):
    """A case past 受理, its credit check open as external work."""
    world = bpmn_world(app, check=xml or diagrams.service_task())
    case = world.complete(world.new_case(data=data or {"company": "某某餐饮"}, item=world.items["check"]),
                          "Task_accept", "acc")
    return world, case


def _fetch(world, worker_id, user="sys", topics=(TOPIC,), **extra):
    status, body = world.api.post("/api/v1/external-tasks/fetch-and-lock", user,
                                  {"worker_id": worker_id, "topics": list(topics), **extra})
    assert status == 200, body
    return body["external_tasks"]


def _complete(world, task_id, worker_id=None, data=None, user="sys"):
    body = {"data": data or {}}
    if worker_id:
        body["worker_id"] = worker_id
    return world.api.post(f"/api/v1/external-tasks/{task_id}/complete", user, body)


def test_a_service_task_is_open_external_work_shown_on_the_case_and_listed_by_topic(app, frozen_now):
    world, case = _at_check(app)
    [check] = by_bpmn(case, "Service_check")
    assert check["kind"] == "external" and check["state"] == "waiting" and check["topic"] == TOPIC
    assert check["retries"] is None and check["incident"] is False and case["status"] == "running"
    status, page = world.api.get(f"/api/v1/external-tasks?topic={TOPIC}", "sys")
    assert status == 200 and page["total"] == 1
    [listed] = page["external_tasks"]
    assert listed["id"] == check["id"] and listed["case_no"] == case["case_no"] and listed["state"] == "open"
    assert world.api.get("/api/v1/external-tasks?topic=other", "sys")[1]["total"] == 0
    assert world.api.get(f"/api/v1/external-tasks?topic={TOPIC}", "sys02")[1]["total"] == 0  # out of scope
    assert world.api.get("/api/v1/external-tasks", "acc")[0] == 403
    assert world.api.get("/api/v1/external-tasks?state=nonsense", "sys")[0] == 422  # not among the document's
    assert events_of(world, case["case_no"], "external_task_opened")[0]["detail"]["topic"] == TOPIC


def test_completing_external_work_moves_the_case_on_with_its_data_and_twice_is_a_conflict(app, frozen_now):
    world, case = _at_check(app)
    [task] = _fetch(world, "w1")
    assert task["variables"]["company"] == "某某餐饮" and task["worker_id"] == "w1"
    status, body = _complete(world, task["id"], "w1", {"credit": "A"})
    assert status == 200 and world.ready(body, "Task_decide")
    assert by_bpmn(body, "Service_check")[0]["state"] == "completed"
    [done] = events_of(world, case["case_no"], "external_task_completed")
    assert done["actor"] == "sys" and done["task_bpmn_id"] == "Service_check"
    status, body = _complete(world, task["id"], "w1")
    assert status == 409 and body["error"]["code"] == "task_not_open"
    assert world.api.get("/api/v1/external-tasks?state=completed", "sys")[1]["total"] == 1


def test_two_workers_never_hold_the_same_task_and_an_expired_lock_frees_it(app, frozen_now):
    world, case = _at_check(app)
    [task] = _fetch(world, "w1", lock_seconds=60)
    assert _fetch(world, "w2") == []  # w1 holds it
    status, body = _complete(world, task["id"], "w2")
    assert status == 409 and body["error"]["code"] == "task_locked"
    clock.advance(timedelta(seconds=61))
    [again] = _fetch(world, "w2")
    assert again["id"] == task["id"] and again["worker_id"] == "w2"
    assert _complete(world, task["id"], "w1")[1]["error"]["code"] == "task_locked"  # w1's lock ran out
    assert _complete(world, task["id"], "w2", {"credit": "B"})[0] == 200


def test_failures_count_down_retries_to_an_incident_on_the_case_until_an_admin_retries(app, frozen_now):
    world, case = _at_check(app)
    [task] = _fetch(world, "w1")
    fail = f"/api/v1/external-tasks/{task['id']}/fail"
    status, body = world.api.post(fail, "sys", {"worker_id": "w1", "error": "征信平台超时", "retries": 1,
                                                "retry_seconds": 30})
    assert status == 200 and body["retries"] == 1 and body["incident"] is False and body["worker_id"] is None
    assert _fetch(world, "w2") == []  # not fetched again before retry_seconds
    clock.advance(timedelta(seconds=31))
    [task] = _fetch(world, "w2")
    status, body = world.api.post(fail, "sys", {"worker_id": "w2", "error": "征信平台拒绝", "retries": 0})
    assert status == 200 and body["incident"] is True
    assert _fetch(world, "w2") == []  # an incident is not fetched
    case = case_of(world, case["case_no"])
    [incident] = case["incidents"]
    assert incident["id"] == task["id"] and incident["error_message"] == "征信平台拒绝"
    assert by_bpmn(case, "Service_check")[0]["incident"] is True
    assert world.api.get("/api/v1/external-tasks?state=incident", "admin")[1]["total"] == 1
    assert [e["detail"]["retries"] for e in events_of(world, case["case_no"], "external_task_failed")] == [1, 0]
    assert len(events_of(world, case["case_no"], "incident_raised")) == 1
    retries = f"/api/v1/external-tasks/{task['id']}/retries"
    assert world.api.post(retries, "sys", {"retries": 3})[0] == 403
    status, body = world.api.post(retries, "admin", {"retries": 3})
    assert status == 200 and body["incident"] is False and body["retries"] == 3
    assert case_of(world, case["case_no"])["incidents"] == []
    assert len(events_of(world, case["case_no"], "incident_resolved")) == 1
    [task] = _fetch(world, "w3")
    assert _complete(world, task["id"], "w3")[0] == 200


def test_the_topic_is_the_task_name_without_camunda_topic(app, frozen_now):
    world, case = _at_check(app, diagrams.service_task(topic=None))
    assert by_bpmn(case, "Service_check")[0]["topic"] == "信用核查"
    assert len(_fetch(world, "w1", topics=["信用核查"])) == 1


def test_a_timer_on_external_work_cancels_it_and_the_late_answer_is_refused(app, frozen_now):
    world, case = _at_check(app, diagrams.service_task(boundary="PT2H"))
    [task] = _fetch(world, "w1", lock_seconds=86400)
    clock.advance(timedelta(hours=2, seconds=1))
    worker.sweep(app.extensions["sunlight.db"], app.extensions["sunlight.settings"])
    case = case_of(world, case["case_no"])
    assert by_bpmn(case, "Service_check")[0]["state"] == "cancelled" and world.ready(case, "Task_manual")
    status, body = _complete(world, task["id"], "w1")
    assert status == 409 and body["error"]["code"] == "task_not_open"
    assert world.api.get("/api/v1/external-tasks?state=cancelled", "sys")[1]["total"] == 1


def test_a_due_timer_fires_before_a_late_completion(app, frozen_now):
    world, case = _at_check(app, diagrams.service_task(boundary="PT2H"))
    [task] = _fetch(world, "w1", lock_seconds=86400)
    clock.advance(timedelta(hours=2, seconds=1))  # due, no worker swept yet
    status, body = _complete(world, task["id"], "w1")
    assert status == 409 and body["error"]["code"] == "task_not_open"


def test_bad_external_task_requests_are_named(app, frozen_now):
    world, case = _at_check(app)
    [task] = _fetch(world, "w1")
    for body, field, expected in (({"topics": [TOPIC]}, "worker_id", 422),
                                  ({"worker_id": "x" * 65, "topics": [TOPIC]}, "worker_id", 422),
                                  ({"worker_id": "w", "topics": "credit"}, "topics", 400),  # not a list
                                  ({"worker_id": "w", "topics": [TOPIC], "max_tasks": 0}, "max_tasks", 422),
                                  ({"worker_id": "w", "topics": [TOPIC], "lock_seconds": True}, "lock_seconds", 400)):
        status, out = world.api.post("/api/v1/external-tasks/fetch-and-lock", "sys", body)
        assert status == expected and out["error"]["details"] == [{"field": field}], (body, out)
    status, out = _complete(world, task["id"], "w1", data=[1])
    assert status == 400 and out["error"]["details"] == [{"field": "data"}]
    status, out = world.api.post(f"/api/v1/external-tasks/{task['id']}/complete", "sys",
                                 {"worker_id": "w1", "data": {"__import__": 1}})
    assert status == 422
    assert _complete(world, "no-such-task")[0] == 404
    assert _complete(world, task["id"], "w1", user="sys02")[0] == 404  # another department's system
    assert _complete(world, task["id"], "w1", user="acc")[0] == 403
    for body, field in (({"error": "x"}, "retries"), ({"retries": 1}, "error"), ({"error": "x", "retries": -1},
                                                                                  "retries")):
        status, out = world.api.post(f"/api/v1/external-tasks/{task['id']}/fail", "sys", {"worker_id": "w1", **body})
        assert status == 422 and out["error"]["details"] == [{"field": field}], (body, out)
    assert by_bpmn(case_of(world, case["case_no"]), "Service_check")[0]["state"] == "waiting"


def test_workers_fetching_at_the_same_moment_share_the_tasks_out_without_overlap(app, frozen_now):
    import threading

    world = bpmn_world(app, check=diagrams.service_task())
    for _ in range(6):
        world.complete(world.new_case(item=world.items["check"]), "Task_accept", "acc")
    barrier, taken = threading.Barrier(2), {}

    def fetch(worker_id):
        client = app.test_client()
        barrier.wait()
        resp = client.post("/api/v1/external-tasks/fetch-and-lock", json={"worker_id": worker_id, "topics": [TOPIC],
                                                                          "max_tasks": 6},
                           headers={"Authorization": f"Bearer {world.tokens['sys']}"})
        taken[worker_id] = [t["id"] for t in resp.get_json()["external_tasks"]]

    threads = [threading.Thread(target=fetch, args=(f"w{i}",)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not set(taken["w0"]) & set(taken["w1"])
    assert len(taken["w0"]) + len(taken["w1"]) == 6


def test_the_case_page_shows_external_work_and_its_incident(app, frozen_now):
    from tests.e2e.ui_support import give_passwords, login

    world, case = _at_check(app)
    [task] = _fetch(world, "w1")
    world.api.post(f"/api/v1/external-tasks/{task['id']}/fail", "sys", {"worker_id": "w1", "error": "征信平台拒绝",
                                                                        "retries": 0})
    give_passwords(app)
    client = app.test_client()
    assert login(client, "acc").status_code == 302
    page = client.get(f"/cases/{case['case_no']}").get_data(as_text=True)
    assert f"（外部任务：{TOPIC}）" in page
    assert f'id="incident-{task["id"]}"' in page and "征信平台拒绝" in page
    english = client.get(f"/cases/{case['case_no']}?lang=en").get_data(as_text=True)
    assert "External work failed" in english and f"external work：{TOPIC}" in english


def test_cases_from_before_the_upgrade_show_their_external_work_after_reproject(app, cli, db, frozen_now):
    from sqlalchemy import delete

    from app.cases.models import CaseTask, ExternalTask

    world, case = _at_check(app)
    with db.unit_of_work() as s:  # as an older version left it: the started service task projected nowhere
        s.execute(delete(ExternalTask))
        s.execute(delete(CaseTask).where(CaseTask.kind == "external"))
    assert _fetch(world, "w1") == []
    assert "1 running case(s) reprojected, 1 changed" in cli("cases", "reproject")
    assert by_bpmn(case_of(world, case["case_no"]), "Service_check")[0]["state"] == "waiting"
    assert len(_fetch(world, "w1")) == 1
    assert "0 changed" in cli("cases", "reproject", "--item", world.items["check"])


def test_ending_a_case_cancels_its_open_external_work(app, frozen_now):
    world, case = _at_check(app)
    status, body = world.api.post(f"/api/v1/cases/{case['case_no']}/withdraw", "acc", {"reason": "申请人撤回"})
    assert status == 200 and by_bpmn(body, "Service_check")[0]["state"] == "cancelled"
    assert _fetch(world, "w1") == [] and world.api.get("/api/v1/external-tasks?state=cancelled", "sys")[1]["total"] == 1
