"""Lawful clocks: each limit in its unit, clocks from 受理/立案, capped extensions, and the ways a case ends."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.audit.models import AuditEvent
from app.orgs import service as orgs
from tests.conftest import BPMN
from tests.integration.test_supervision import at, case_of, events, sweep
from tests.world import ITEM, build_world, deploy_item

PENALTY_XML = (BPMN / "penalty_general.bpmn").read_bytes()
FULL_XML = (BPMN / "licensing_full.bpmn").read_bytes()
PENALTY = {"code": "CA01-CF-0001", "name": "对未取得许可从事食品经营活动的处罚", "category": "penalty",
           "department": "CA01", "promised_days": 60, "statutory_days": 90, "clock_start_step": "Task_file",
           "legal_basis": "《中华人民共和国食品安全法》第一百二十二条"}
FULL = {**ITEM, "code": "CA01-XK-0002", "name": "食品经营许可（一般程序）", "promised_days": 10,
        "statutory_days": 20, "clock_start_step": "Task_accept", "supplement_step": "Task_supplement"}
EXTRA_CLERKS = (("enf", ["执法岗"]), ("lawrev", ["法制审核岗"]), ("head", ["负责人"]), ("win", ["窗口岗"]))


@pytest.fixture
def world(app):
    clock.travel_to(at(2026, 7, 3, 10, 0))  # a Friday; 90 days later is 1 October, National Day
    w = build_world(app)
    with app.extensions["sunlight.db"].unit_of_work() as s:
        for name, posts in EXTRA_CLERKS:
            w.tokens[name] = orgs.issue_token(s, orgs.create_user(s, name, "clerk", "CA01", posts, None, "test"), "test")
    deploy_item(w, PENALTY, PENALTY_XML)
    deploy_item(w, FULL, FULL_XML)
    return w


def public(world, case, code):
    status, body = world.api.get(f"/public/api/v1/cases/{case['case_no']}?code={code}")
    assert status == 200, body
    return body


def new_case(world, item, user):
    status, case = world.api.post("/api/v1/cases", user, {
        "item_code": item, "applicant": {"name": "李四", "id_number": "320102199001011234", "phone": "13900000000"}})
    assert status == 201, case
    return case


# --- units ---------------------------------------------------------------------------------------------------
def test_items_default_to_the_unit_the_law_counts_their_category_in(world):
    items = {code: world.api.get(f"/api/v1/items/{code}", "acc")[1] for code in ("CA01-XK-0001", "CA01-CF-0001")}
    assert (items["CA01-XK-0001"]["promised_unit"], items["CA01-XK-0001"]["statutory_unit"]) == ("working", "working")
    assert (items["CA01-CF-0001"]["promised_unit"], items["CA01-CF-0001"]["statutory_unit"]) == ("natural", "natural")
    assert (items["CA01-XK-0001"]["max_extensions"], items["CA01-XK-0001"]["max_extension_days"]) == (1, 10)
    assert (items["CA01-CF-0001"]["max_extensions"], items["CA01-CF-0001"]["max_extension_days"]) == (1, 30)
    # 行政处罚法 Art. 85 / 行政强制法 Art. 69: a limit of ten days or less is counted in working days.
    status, short = world.api.post("/api/v1/items", "designer", {**PENALTY, "code": "CA01-CF-0002", "promised_days": 5,
                                                                 "statutory_days": 7})
    assert status == 201 and (short["promised_unit"], short["statutory_unit"]) == ("working", "working")
    status, chosen = world.api.post("/api/v1/items", "designer", {**PENALTY, "code": "CA01-CF-0003",
                                                                  "statutory_unit": "working"})
    assert status == 201 and (chosen["promised_unit"], chosen["statutory_unit"]) == ("natural", "working")


def test_a_penalty_counts_ninety_calendar_days_from_filing_rolled_past_the_national_day_holiday(world):
    case = new_case(world, "CA01-CF-0001", "enf")
    assert case["deadlines"]["started"] is False
    assert case["deadlines"]["statutory_due_at"] is None and case["deadlines"]["promised_due_at"] is None
    clock.advance(timedelta(minutes=30))
    case = world.complete(case, "Task_file", "enf")  # 立案 on Friday 3 July
    dl = case["deadlines"]
    assert dl["started"] is True and dl["statutory_unit"] == "natural"
    # 3 July + 90 days = Thursday 1 October, a public holiday until the 7th: the limit ends on Thursday 8 October.
    assert dl["statutory_due_at"] == "2026-10-08T23:59:59+08:00"
    assert dl["promised_due_at"] == "2026-09-01T23:59:59+08:00"  # + 60 days: a Tuesday, a working day
    assert dl["remaining_days"] == 60 and dl["remaining_working_days"] == 42
    assert "clock_started" in events(world, case["case_no"])


def test_natural_days_land_on_a_make_up_working_saturday_without_rolling(app):
    from app.calendar import service as calendar

    with app.extensions["sunlight.db"].unit_of_work() as s:
        cal = calendar.load(s, app.extensions["sunlight.settings"].tz)
        due, complete = cal.add_natural_days(at(2026, 7, 12, 15, 0), 90)  # Sunday + 90 = Saturday 10 October
        assert (due, complete) == (at(2026, 10, 10, 23, 59, 59), True)  # 调休: a working Saturday
        due, _ = cal.add_natural_days(at(2026, 7, 13, 15, 0), 90)  # lands on Sunday 11 October: rolls to Monday
        assert due == at(2026, 10, 12, 23, 59, 59)
        assert cal.days_in(at(2026, 9, 30, 9, 0), at(2026, 10, 8, 9, 0), "natural") == 8
        assert cal.days_in(at(2026, 9, 30, 9, 0), at(2026, 10, 8, 9, 0), "working") == 1


def test_a_calendar_year_the_package_does_not_know_is_flagged_not_a_crash(app):
    from app.calendar import service as calendar

    with app.extensions["sunlight.db"].unit_of_work() as s:
        cal = calendar.load(s, app.extensions["sunlight.settings"].tz)
        year = max(cal.known_years) + 1
        due, complete = cal.add_natural_days(at(year - 1, 12, 1, 9, 0), 90)
        assert complete is False and due.year == year and due.weekday() < 5  # weekends alone, flagged


# --- the clocks start at 受理 ---------------------------------------------------------------------------------
def test_the_clocks_start_when_the_acceptance_step_completes_not_when_the_case_is_registered(world):
    status, case = world.api.post("/api/v1/cases", "win", {"item_code": FULL["code"],
                                                           "applicant": {"name": "王五", "phone": "13700000000"}})
    code = case["query_code"]
    assert case["deadlines"]["started"] is False and public(world, case, code)["started"] is False
    assert public(world, case, code)["accepted_at"] is None
    clock.travel_to(at(2026, 7, 6, 10, 0))  # the window receives on Friday, accepts on Monday
    case = world.complete(case_of(world, case["case_no"]), "Task_receive", "win", {"materials_complete": True})
    assert case["deadlines"]["started"] is False
    case = world.complete(case, "Task_accept", "win")
    dl = case["deadlines"]
    assert dl["started"] is True and dl["accepted_at"].startswith("2026-07-06T10:1")
    assert dl["promised_due_at"] == "2026-07-20T23:59:59+08:00"  # 10 working days from Monday 6 July
    progress = public(world, case, code)
    assert progress["started"] is True and progress["remaining_working_days"] == 10
    assert progress["received_at"].startswith("2026-07-03")


def test_a_definition_without_the_items_start_step_is_refused_at_submit(world):
    status, d = world.api.call("POST", "/api/v1/items/CA01-CF-0001/definitions", "designer", data=(
        BPMN / "licensing_demo.bpmn").read_bytes(), ctype="application/xml")
    assert status == 201
    status, body = world.api.post(f"/api/v1/definitions/{d['id']}/submit", "designer", {})
    assert status == 422 and body["error"]["code"] == "invalid_bpmn"
    assert body["error"]["details"][0]["element_id"] == "Task_file"
    assert body["error"]["details"][0]["field"] == "clock_start_step"


# --- PATCH /items ---------------------------------------------------------------------------------------------
def test_changing_an_items_unit_recomputes_its_running_cases_audited(world, app):
    case = world.new_case()  # the licensing demo: working days from creation
    before = case["deadlines"]["statutory_due_at"]
    status, item = world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "designer",
                                  json={"statutory_unit": "natural", "statutory_days": 30})
    assert status == 200, item
    assert item["statutory_unit"] == "natural" and item["recomputed_cases"] == 1
    after = case_of(world, case["case_no"])["deadlines"]
    assert after["statutory_due_at"] == "2026-08-03T23:59:59+08:00" != before  # 2 Aug is a Sunday: rolls to Monday
    assert "deadlines_recomputed" in events(world, case["case_no"])
    with app.extensions["sunlight.db"].unit_of_work() as s:
        [changed] = s.scalars(select(AuditEvent).where(AuditEvent.action == "item_updated")).all()
        assert changed.actor == "designer" and changed.detail["changes"]["statutory_unit"] == {
            "old": "working", "new": "natural"}
    status, same = world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "designer", json={"statutory_days": 30})
    assert status == 200 and same["recomputed_cases"] == 0  # nothing changed, nothing recounted


@pytest.mark.parametrize("body, field", [
    ({"promised_unit": "weeks"}, "promised_unit"),
    ({"statutory_days": -1}, "statutory_days"),
    ({"statutory_days": 10**6}, "statutory_days"),
    ({"promised_days": 30}, "promised_days"),  # beyond the statutory 20 in the same unit
    ({"max_extensions": "1"}, "max_extensions"),  # 400: a text where the document says integer
    ({"clock_start_step": "Gateway_approved"}, "clock_start_step"),  # not a user task
    ({"clock_start_step": "Task_nowhere"}, "clock_start_step"),
    ({"clock_start_step": "<script>"}, "clock_start_step"),
    ({"min_step_seconds": {"Task_review": 0}}, "min_step_seconds.Task_review"),
    ({"category": "penalty"}, "category"),
    ({"code": "X"}, "code"),
    ({"colour": "red"}, "colour"),
    ({"name": "x" * 301}, "name"),
    ({"name": "受理\x00"}, "name"),
])
def test_patch_refuses_nonsense_naming_the_field_and_changes_nothing(world, body, field):
    status, answer = world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "admin", json=body)
    assert status == (400 if body == {"max_extensions": "1"} else 422), answer
    assert answer["error"]["details"][0]["field"] == field, answer
    item = world.api.get("/api/v1/items/CA01-XK-0001", "acc")[1]
    assert (item["promised_days"], item["statutory_unit"], item["clock_start_step"]) == (5, "working", None)


def test_only_an_admin_or_a_designer_of_the_department_patches_an_item(world, app):
    with app.extensions["sunlight.db"].unit_of_work() as s:
        other = orgs.create_user(s, "designer02", "designer", "CA02", [], None, "test")
        world.tokens["designer02"] = orgs.issue_token(s, other, "test")
    assert world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "designer02", json={"warn_days": 2})[0] == 404
    assert world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "acc", json={"warn_days": 2})[0] == 403
    assert world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "designer", json={"warn_days": 2})[0] == 200


# --- extensions ------------------------------------------------------------------------------------------------
def test_extensions_are_capped_by_the_item_in_its_statutory_unit(world):
    case = new_case(world, "CA01-CF-0001", "enf")
    no = case["case_no"]
    status, body = world.api.post(f"/api/v1/cases/{no}/extensions", "head", {"days": 10, "reason": "案情复杂"})
    assert status == 409 and body["error"]["code"] == "clock_not_started"
    world.complete(case, "Task_file", "enf")
    status, body = world.api.post(f"/api/v1/cases/{no}/extensions", "head", {"days": 31, "reason": "案情复杂"})
    assert status == 422 and body["error"]["code"] == "extension_limit"
    status, body = world.api.post(f"/api/v1/cases/{no}/extensions", "head", {"days": 30, "reason": "案情复杂"})
    assert status == 201 and (body["days"], body["unit"]) == (30, "natural")
    assert body["deadlines"]["statutory_due_at"] == "2026-11-02T23:59:59+08:00"  # 3 July + 120 days (Sunday) → Monday
    status, body = world.api.post(f"/api/v1/cases/{no}/extensions", "head", {"days": 1, "reason": "再延"})
    assert status == 422 and body["error"]["code"] == "extension_limit"
    assert events(world, no).count("case_extended") == 1


# --- the ways a case ends --------------------------------------------------------------------------------------
def test_a_refusal_before_acceptance_ends_the_case_for_good(world, app):
    case = new_case(world, FULL["code"], "win")
    no, code = case["case_no"], case["query_code"]
    status, body = world.api.post(f"/api/v1/cases/{no}/refuse", "win", {"reason": "不属于本机关职权范围"})
    assert status == 422 and body["error"]["details"] == [{"field": "legal_basis"}]
    status, body = world.api.post(f"/api/v1/cases/{no}/refuse", "win", {
        "reason": "申请事项不属于本机关职权范围", "legal_basis": "《中华人民共和国行政许可法》第三十二条第一款第（二）项"})
    assert status == 200 and body["status"] == "refused"
    assert {t["state"] for t in body["tasks"]} == {"cancelled"} and body["ended"]["reason"].startswith("申请事项")
    assert "case_refused" in events(world, no) and "task_cancelled" in events(world, no)
    assert public(world, case, code)["status"] == "refused"
    assert world.api.get("/api/v1/tasks", "win")[1] == []
    clock.advance(timedelta(days=400))  # nothing fires for it, ever again
    sweep(app)
    assert case_of(world, no)["notices"] == [] and case_of(world, no)["deadlines"]["card"] == "none"
    status, body = world.api.post(f"/api/v1/cases/{no}/withdraw", "win", {"reason": "x"})
    assert status == 409 and body["error"]["code"] == "case_not_open"


def test_refusal_after_acceptance_is_a_conflict_but_withdrawal_and_termination_work(world, app):
    case = world.complete(new_case(world, "CA01-CF-0001", "enf"), "Task_file", "enf")
    no = case["case_no"]
    status, body = world.api.post(f"/api/v1/cases/{no}/refuse", "enf", {"reason": "x", "legal_basis": "y"})
    assert status == 409 and body["error"]["code"] == "case_accepted"
    basis = {"reason": "当事人死亡，无遗产可供执行", "legal_basis": "《中华人民共和国行政强制法》第三十九条"}
    assert world.api.post(f"/api/v1/cases/{no}/terminate", "enf", basis)[0] == 403  # no leader post
    assert world.api.post(f"/api/v1/cases/{no}/terminate", "outsider", basis)[0] == 404  # another department
    status, body = world.api.post(f"/api/v1/cases/{no}/terminate", "head", basis)
    assert status == 200 and body["status"] == "terminated" and body["deadlines"]["remaining_days"] is None
    clock.travel_to(at(2026, 12, 1, 9, 0))  # past both limits: no yellow or red card for an ended case
    sweep(app)
    assert [n for n in case_of(world, no)["notices"] if n["task_bpmn_id"] is None] == []
    other = world.new_case()
    status, body = world.api.post(f"/api/v1/cases/{other['case_no']}/withdraw", "acc", {"reason": "申请人书面申请撤回"})
    assert status == 200 and body["status"] == "withdrawn" and "case_withdrawn" in events(world, other["case_no"])


# --- 补正 as one mechanism -------------------------------------------------------------------------------------
def test_the_diagrams_supplement_step_is_the_clock_stop_with_the_one_time_list(world, app):
    case = new_case(world, FULL["code"], "win")
    no, code = case["case_no"], case["query_code"]
    case = world.complete(case, "Task_receive", "win", {"materials_complete": False})
    task = world.ready(case, "Task_supplement")
    url = f"/api/v1/cases/{no}/tasks/{task['id']}/complete"
    status, body = world.api.post(url, "win", {"data": {}, "opinion": "材料不齐"})
    assert status == 422 and body["error"]["details"] == [{"field": "missing_materials"}]
    status, body = world.api.post(url, "win", {"opinion": "请补正", "missing_materials": ["场所使用证明", "营业执照复印件"]})
    assert status == 200 and body["status"] == "suspended"
    assert body["clock_stop"]["kind"] == "supplement" and body["clock_stop"]["step"] == "Task_supplement"
    assert public(world, case, code)["clock_stop"]["missing_materials"] == ["场所使用证明", "营业执照复印件"]
    receive = world.ready(body, "Task_receive")
    assert world.api.post(f"/api/v1/cases/{no}/tasks/{receive['id']}/complete", "win", {})[0] == 409
    assert "case_suspended" in events(world, no)
    clock.advance(timedelta(days=3))
    status, body = world.api.post(f"/api/v1/cases/{no}/resume", "win", {"note": "申请人已补齐"})
    assert status == 200 and body["status"] == "running"
    assert body["deadlines"]["started"] is False and body["deadlines"]["suspended_days"] == 0  # before 受理: no clock held
    status, body = world.api.post(url.replace(task["id"], receive["id"]), "win", {"missing_materials": ["x"]})
    assert status == 422 and body["error"]["details"] == [{"field": "missing_materials"}]  # not the 补正 step
