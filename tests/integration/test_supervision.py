"""电子监察 over real calendars: two clocks, clock stops, extensions, signals and 督办 orders."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app import clock, worker
from app.orgs import service as orgs
from tests.world import build_world

BJ = timezone(timedelta(hours=8))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BJ)


def sweep(app) -> int:
    return worker.sweep(app.extensions["sunlight.db"], app.extensions["sunlight.settings"])


@pytest.fixture
def world(app):
    clock.travel_to(at(2026, 3, 6, 9, 0))  # a Friday
    w = build_world(app)
    with app.extensions["sunlight.db"].unit_of_work() as s:
        leader = orgs.create_user(s, "chief", "clerk", "CA01", ["分管领导"], None, "test")
        w.tokens["chief"] = orgs.issue_token(s, leader, "test")
    return w


def case_of(world, case_no, user="sup"):
    status, case = world.api.get(f"/api/v1/cases/{case_no}", user)
    assert status == 200, case
    return case


def events(world, case_no):
    return [e["action"] for e in world.api.get(f"/api/v1/cases/{case_no}/events", "sup")[1]]


def test_two_clocks_start_the_day_after_acceptance(world):
    case = world.new_case()
    d = case["deadlines"]
    assert d["promised_due_at"] == "2026-03-13T23:59:59+08:00"  # 5 working days: Mon 9 … Fri 13
    assert d["statutory_due_at"] == "2026-04-03T23:59:59+08:00"  # 20 working days
    assert d["warn_at"] == "2026-03-12T23:59:59+08:00" and d["card"] == "none"
    assert d["remaining_working_days"] == 5 and d["calendar_complete"] is True


def test_a_supplement_stop_over_a_weekend_moves_the_deadlines_by_the_working_days_stopped(world, app):
    case = world.new_case()
    no = case["case_no"]
    clock.travel_to(at(2026, 3, 6, 10, 0))
    status, body = world.api.post(f"/api/v1/cases/{no}/suspend", "acc", {"kind": "supplement", "reason": "材料不全"})
    assert status == 422 and body["error"]["details"] == [{"field": "missing_materials"}]
    status, body = world.api.post(f"/api/v1/cases/{no}/suspend", "acc", {
        "kind": "supplement", "reason": "材料不全", "legal_basis": "《行政许可法》第三十二条",
        "missing_materials": ["营业执照复印件"], "expected_days": 5})
    assert status == 200 and body["status"] == "suspended" and body["deadlines"]["clock_stopped"]
    assert world.api.post(f"/api/v1/cases/{no}/suspend", "acc", {"kind": "other", "reason": "x"})[0] == 409
    task = world.ready(body, "Task_accept")
    assert world.api.post(f"/api/v1/cases/{no}/tasks/{task['id']}/complete", "acc", {})[0] == 409
    clock.travel_to(at(2026, 3, 20, 9, 0))  # long after the old promised date: a stopped clock raises nothing
    assert sweep(app) == 0 and case_of(world, no)["notices"] == []
    assert case_of(world, no)["deadlines"]["remaining_working_days"] == 5  # frozen at the stop
    clock.travel_to(at(2026, 3, 9, 10, 0))  # back to Monday morning: resume after one working day (Mon)
    status, body = world.api.post(f"/api/v1/cases/{no}/resume", "acc", {"note": "已补正"})
    assert status == 200 and body["status"] == "running"
    assert body["deadlines"]["promised_due_at"] == "2026-03-16T23:59:59+08:00"
    assert body["deadlines"]["statutory_due_at"] == "2026-04-07T23:59:59+08:00"  # Mon 6 April: 清明 holiday
    assert body["deadlines"]["suspended_days"] == 1
    assert world.api.post(f"/api/v1/cases/{no}/resume", "acc", {})[0] == 409
    acts = events(world, no)
    assert acts.index("case_suspended") < acts.index("case_resumed") < acts.index("deadlines_recomputed")


def test_a_stopped_clock_holds_the_step_timer_too(world, app):
    case = world.complete(world.new_case(), "Task_accept", "acc")  # review Fri 09:05 (STEP_TIME) + PT72H → Mon 09:05
    no = case["case_no"]
    clock.travel_to(at(2026, 3, 7, 9, 0))
    assert world.api.post(f"/api/v1/cases/{no}/suspend", "rev", {"kind": "expert_review", "reason": "专家评审",
                                                                 "expected_days": 3})[0] == 200
    clock.travel_to(at(2026, 3, 9, 9, 0))  # 48 h stopped
    assert world.api.post(f"/api/v1/cases/{no}/resume", "rev", {})[0] == 200
    clock.travel_to(at(2026, 3, 11, 9, 4))
    assert sweep(app) == 0
    clock.travel_to(at(2026, 3, 11, 9, 6))  # Mon 09:05 + 48 h
    assert sweep(app) == 1
    assert [n["task_bpmn_id"] for n in case_of(world, no)["notices"]] == ["Task_review"]


def test_an_extension_needs_a_leader_and_moves_the_statutory_deadline(world):
    no = world.new_case()["case_no"]
    assert world.api.post(f"/api/v1/cases/{no}/extensions", "acc", {"working_days": 10, "reason": "复杂"})[0] == 403
    assert world.api.post(f"/api/v1/cases/{no}/extensions", "chief", {"working_days": 0, "reason": "x"})[0] == 422
    assert world.api.post(f"/api/v1/cases/{no}/extensions", "chief", {"working_days": 10})[0] == 422
    status, body = world.api.post(f"/api/v1/cases/{no}/extensions", "chief", {"working_days": 10,
                                                                              "reason": "情况复杂，经负责人批准延长"})
    assert status == 201 and body["working_days"] == 10
    assert body["deadlines"]["statutory_due_at"] == "2026-04-20T23:59:59+08:00"  # 清明: Mon 6 April is off
    assert body["deadlines"]["promised_due_at"] == "2026-03-13T23:59:59+08:00"  # the promise stands
    status, body = world.api.post(f"/api/v1/cases/{no}/extensions", "admin", {"working_days": 1, "reason": "再延"})
    assert status == 422 and body["error"]["code"] == "extension_limit"  # 行政许可法 Art. 42: once
    assert events(world, no).count("case_extended") == 1


def test_signals_are_raised_once_each_at_the_right_moment_to_clerks_and_supervisors(world, app):
    case = world.complete(world.new_case(), "Task_accept", "acc")
    no = case["case_no"]
    clock.travel_to(at(2026, 3, 12, 23, 59))
    world.complete(case_of(world, no, "rev"), "Task_review", "rev", {"approved": True})  # timers done; decide open
    clock.travel_to(at(2026, 3, 13, 0, 0, 1))  # pre-warning passed
    sweep(app)
    notices = [n for n in case_of(world, no)["notices"] if n["task_bpmn_id"] is None]
    assert [n["level"] for n in notices] == ["warning"]
    assert sorted(r["username"] for r in notices[0]["recipients"]) == ["dec", "sup", "sup01"]
    clock.travel_to(at(2026, 3, 14, 0, 0, 1))
    sweep(app)
    clock.travel_to(at(2026, 4, 4, 0, 0, 1))
    sweep(app)
    sweep(app)
    case = case_of(world, no)
    assert [n["level"] for n in case["notices"] if n["task_bpmn_id"] is None] == ["warning", "yellow", "red"]
    assert case["deadlines"]["card"] == "red" and case["deadlines"]["remaining_working_days"] < 0
    assert case_of(world, no)["next_timer_due_at"] is None


def test_an_overdue_supervision_order_escalates_once_and_the_loop_closes(world, app):
    case = world.new_case()
    no = case["case_no"]
    due = at(2026, 3, 10, 17, 0).isoformat()
    assert world.api.post("/api/v1/orders", "acc", {"case_no": no, "instruction": "x", "due_at": due})[0] == 403
    assert world.api.post("/api/v1/orders", "sup02", {"case_no": no, "instruction": "x", "due_at": due})[0] == 404
    assert world.api.post("/api/v1/orders", "sup", {"case_no": no, "instruction": "x",
                                                     "due_at": "2026-03-10T17:00:00"})[0] == 422
    status, order = world.api.post("/api/v1/orders", "sup", {"case_no": no, "instruction": "请说明受理延迟原因",
                                                             "due_at": due})
    assert status == 201 and order["status"] == "open" and order["order_no"].startswith("DB")
    assert [o["id"] for o in world.api.get("/api/v1/orders?status=open", "acc")[1]] == [order["id"]]
    assert world.api.get("/api/v1/orders", "outsider")[1] == [] and world.api.get("/api/v1/orders", "sup02")[1] == []
    clock.travel_to(at(2026, 3, 10, 17, 1))
    sweep(app)
    sweep(app)
    status, order = world.api.get(f"/api/v1/orders/{order['id']}", "sup")
    assert order["escalated_at"] and [m["kind"] for m in order["messages"]] == ["issue", "escalate"]
    reds = [n for n in case_of(world, no)["notices"] if n["level"] == "red"]
    assert len(reds) == 1 and "督办" in reds[0]["reason"]
    status, order = world.api.post(f"/api/v1/orders/{order['id']}/reply", "acc", {"text": "已受理，系人手不足"})
    assert status == 200 and order["status"] == "replied"
    assert world.api.post(f"/api/v1/orders/{order['id']}/close", "acc", {"text": "x"})[0] == 403
    new_due = at(2026, 3, 12, 17, 0).isoformat()
    status, order = world.api.post(f"/api/v1/orders/{order['id']}/reopen", "sup", {"text": "请补充整改措施",
                                                                                  "due_at": new_due})
    assert status == 200 and order["status"] == "open" and order["escalated_at"] is None
    status, order = world.api.post(f"/api/v1/orders/{order['id']}/close", "sup", {"text": "整改到位"})
    assert status == 200 and order["status"] == "closed"
    clock.travel_to(at(2026, 3, 12, 17, 1))
    sweep(app)
    assert len([n for n in case_of(world, no)["notices"] if n["level"] == "red"]) == 1
    acts = events(world, no)
    for action in ("order_issued", "order_escalated", "order_replied", "order_reopened", "order_closed"):
        assert action in acts


def test_a_case_accepted_before_national_day_counts_the_make_up_saturday(app):
    clock.travel_to(at(2026, 9, 29, 9, 0))  # Tuesday before the holiday
    world = build_world(app)
    d = world.new_case()["deadlines"]
    # Working days after 29 Sep: 30 Sep, (1–7 Oct off), 8 Oct?, 9 Oct, Sat 10 Oct (调休), 12 Oct … per the calendar.
    from app.calendar import service as calendar
    with app.extensions["sunlight.db"].unit_of_work() as s:
        cal = calendar.load(s, app.extensions["sunlight.settings"].tz)
        days = [at(2026, 9, 29) + timedelta(days=i) for i in range(1, 20)]
        working = [x.date() for x in days if cal.is_working_day(x.date())][:5]
    assert datetime(2026, 10, 10).date() in working  # the make-up Saturday counts
    assert all(not (datetime(2026, 10, 1).date() <= w <= datetime(2026, 10, 7).date()) for w in working)
    assert d["promised_due_at"] == f"{working[-1].isoformat()}T23:59:59+08:00"


def test_two_workers_racing_raise_each_deadline_signal_once(world, app):
    import threading

    nos = [world.new_case()["case_no"] for _ in range(5)]
    clock.travel_to(at(2026, 3, 14, 9, 0))  # past pre-warning and the promised limit of every case
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    barrier, results = threading.Barrier(2), []

    def run():
        barrier.wait()
        results.append(worker.sweep(db, settings))

    threads = [threading.Thread(target=run) for _ in range(2)]
    [t.start() for t in threads]
    [t.join(60) for t in threads]
    assert sum(results) == 10  # warning + yellow for each of 5 cases
    for no in nos:
        assert sorted(n["level"] for n in case_of(world, no)["notices"]) == ["warning", "yellow"]


def test_a_late_supplement_notice_is_a_rule_violation_raised_by_the_stop_itself(world):
    no = world.new_case()["case_no"]
    clock.travel_to(at(2026, 3, 17, 10, 0))  # Tuesday: 7 working days after Friday's receipt
    status, body = world.api.post(f"/api/v1/cases/{no}/suspend", "acc", {
        "kind": "supplement", "reason": "材料不全", "missing_materials": ["营业执照复印件"]})
    assert status == 200
    assert any("R03" in n["reason"] for n in body["notices"])
    assert "rule_violated" in events(world, no)


def test_one_order_per_case_at_a_time_numbered_by_the_districts_date(world, app):
    """A second instruction continues on the open order (reopen), so the clerk answers one thread; the number
    carries the Beijing date even in the hours when UTC is still on the day before."""
    no = world.new_case()["case_no"]
    clock.travel_to(at(2026, 3, 7, 1, 30))  # 17:30 UTC on 6 March
    body = {"case_no": no, "instruction": "请说明进度", "due_at": at(2026, 3, 9, 17, 0).isoformat()}
    status, first = world.api.post("/api/v1/orders", "sup", body)
    assert status == 201 and first["order_no"].startswith("DB20260307-")
    status, err = world.api.post("/api/v1/orders", "sup01", body)
    assert status == 409 and err["error"]["code"] == "case_has_open_order"
    assert err["error"]["details"] == [{"order_no": first["order_no"]}]
    assert world.api.post(f"/api/v1/orders/{first['id']}/reply", "acc", {"text": "正在办理"})[0] == 200
    assert world.api.post("/api/v1/orders", "sup", body)[0] == 409  # replied is not closed either
    assert world.api.post(f"/api/v1/orders/{first['id']}/close", "sup", {"text": "已整改"})[0] == 200
    status, second = world.api.post("/api/v1/orders", "sup", body)
    assert status == 201
    status, err = world.api.post(f"/api/v1/orders/{first['id']}/reopen", "sup", {"text": "仍未整改"})
    assert status == 409 and err["error"]["code"] == "case_has_open_order"  # the second one is the open thread
    assert [o["status"] for o in world.api.get(f"/api/v1/orders?case_no={no}", "sup")[1]] == ["closed", "open"]
