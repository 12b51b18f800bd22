"""Rules beyond time (R01–R04): each a named, configurable check raising one notice at its configured level."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app import clock
from app.audit.models import AuditEvent
from app.cases.models import Case
from app.supervision import rules
from tests.world import build_world

REFUSAL_BASIS = "不符合《食品经营许可管理办法》第十条规定的条件，不予许可"


@pytest.fixture
def world(app, frozen_now):
    world = build_world(app)
    # R01 looks only at the steps an item names: 审查 at the rule's default minimum, 决定 at ten minutes.
    status, body = world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "admin",
                                  json={"min_step_seconds": {"Task_review": None, "Task_decide": 600}})
    assert status == 200, body
    return world


def reviewed(world, took, user="rev"):
    """A case accepted at window speed, then reviewed `took` after the review step became ready."""
    case = finish(world, world.new_case(), "Task_accept", "acc", took=timedelta(seconds=5))
    return finish(world, case, "Task_review", user, {"approved": True}, took=took)


def finish(world, case, bpmn_id, user, data=None, opinion="同意", took=timedelta(0)):
    """Complete a step after `took` (World.complete always lets minutes pass; the rules need seconds too)."""
    clock.advance(took)
    task = world.ready(case, bpmn_id)
    status, body = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", user,
                                  {"data": data or {}, "opinion": opinion})
    assert status == 200, body
    return body


def rule_notices(world, case_no, code):
    status, found = world.api.get(f"/api/v1/notices?case_no={case_no}", "sup")
    assert status == 200, found
    return [n for n in found if n["reason"].startswith(f"【{code}】")]


def violations(world, case_no):
    _, events = world.api.get(f"/api/v1/cases/{case_no}/events", "sup")
    return [e for e in events if e["action"] == "rule_violated"]


def configure(world, code, body, user="admin"):
    return world.api.call("PUT", f"/api/v1/rules/{code}", user, json=body)


# --- R01 a step completed implausibly fast -------------------------------------------------------------------
def test_r01_a_named_step_completed_within_seconds_of_becoming_ready_raises_a_notice_to_its_clerk(world):
    case = reviewed(world, timedelta(seconds=3))
    [notice] = rule_notices(world, case["case_no"], "R01")
    assert notice["level"] == "yellow" and notice["task_bpmn_id"] == "Task_review"
    assert "审查" in notice["reason"] and "3秒" in notice["reason"]
    assert sorted(r["username"] for r in notice["recipients"]) == ["rev", "sup", "sup01"]
    assert case["deadlines"]["card"] == "yellow"
    [event] = violations(world, case["case_no"])
    assert event["detail"]["rule"] == "R01" and event["detail"]["measured"] == {"seconds": 3.0, "min_seconds": 60}
    assert event["task_bpmn_id"] == "Task_review" and event["detail"]["notice"] == notice["source_key"]


def test_r01_never_looks_at_a_step_the_item_does_not_name_such_as_acceptance_at_the_window(world):
    """Normal window work is fast: 受理 in five seconds raises no card (the clocks issue: no crying wolf)."""
    case = finish(world, world.new_case(), "Task_accept", "acc", took=timedelta(seconds=5))
    assert case["notices"] == [] and violations(world, case["case_no"]) == []
    assert case["deadlines"]["card"] == "none"


def test_r01_uses_the_minimum_the_item_names_for_its_step(world):
    case = reviewed(world, timedelta(minutes=2))
    assert rule_notices(world, case["case_no"], "R01") == []  # 审查: the rule's 60 s
    case = finish(world, case, "Task_decide", "dec", took=timedelta(minutes=5))  # 决定: the item's 600 s
    [event] = [e for e in violations(world, case["case_no"]) if e["detail"]["rule"] == "R01"]
    assert event["task_bpmn_id"] == "Task_decide" and event["detail"]["measured"] == {"seconds": 300.0,
                                                                                     "min_seconds": 600}


def test_r01_is_silent_when_the_clerk_took_ten_minutes(world):
    case = reviewed(world, timedelta(minutes=10))
    assert case["notices"] == [] and violations(world, case["case_no"]) == []
    assert case["deadlines"]["card"] == "none"


# --- R02 a case created and finished in one burst ------------------------------------------------------------
def test_r02_a_case_finished_within_ten_minutes_of_creation_is_flagged_to_the_clerks_who_worked_it(world):
    case = world.new_case()
    for step, user, data in (("Task_accept", "acc", {}), ("Task_review", "rev", {"approved": True}),
                             ("Task_decide", "dec", {})):
        case = finish(world, case, step, user, data, took=timedelta(minutes=2))  # slow enough for R01
    assert case["status"] == "completed"
    [notice] = rule_notices(world, case["case_no"], "R02")
    assert notice["level"] == "yellow" and notice["task_bpmn_id"] is None and "6.0分钟" in notice["reason"]
    assert sorted(r["username"] for r in notice["recipients"]) == ["acc", "dec", "rev", "sup", "sup01"]
    assert [e["detail"]["measured"] for e in violations(world, case["case_no"])
            if e["detail"]["rule"] == "R02"] == [{"minutes": 6.0, "steps": 3}]


def test_r02_is_silent_for_a_case_worked_over_a_realistic_time(world):
    case = world.complete(world.new_case(), "Task_accept", "acc")
    case = world.complete(case, "Task_review", "rev", {"approved": True})
    clock.advance(timedelta(hours=1))
    case = world.complete(case, "Task_decide", "dec")
    assert case["status"] == "completed" and case["notices"] == []


# --- R04 a negative decision without stated reasons or legal basis -------------------------------------------
def test_r04_a_refusal_with_an_empty_opinion_raises_a_red_notice(world):
    case = world.complete(world.new_case(), "Task_accept", "acc")
    case = world.complete(case, "Task_review", "rev", {"approved": False}, opinion="")
    [notice] = rule_notices(world, case["case_no"], "R04")
    assert notice["level"] == "red" and notice["task_bpmn_id"] == "Task_review"
    assert "理由、法律依据" in notice["reason"]
    assert sorted(r["username"] for r in notice["recipients"]) == ["rev", "sup", "sup01"]
    assert case["deadlines"]["card"] == "red"
    assert case["deadlines"]["card_reason"] == notice["reason"]  # red without any deadline passed: it says why
    [event] = violations(world, case["case_no"])
    assert event["detail"]["measured"] == {"negative": "approved=false", "opinion": False, "legal_basis": False}


def test_r04_a_refusal_giving_reasons_but_no_legal_basis_is_flagged_too(world):
    case = world.complete(world.new_case(), "Task_accept", "acc")
    case = world.complete(case, "Task_review", "rev", {"approved": False}, opinion="不符合条件")
    [notice] = rule_notices(world, case["case_no"], "R04")
    assert notice["reason"].endswith("未说明法律依据")


@pytest.mark.parametrize("data, opinion", [
    ({"approved": False}, REFUSAL_BASIS),
    ({"approved": False, "legal_basis": "《食品经营许可管理办法》"}, "场所不符合要求"),
    ({"approved": True}, ""),  # not a negative decision at all
])
def test_r04_is_silent_for_a_reasoned_refusal_citing_its_basis(world, data, opinion):
    case = world.complete(world.new_case(), "Task_accept", "acc")
    case = world.complete(case, "Task_review", "rev", data, opinion=opinion)
    assert rule_notices(world, case["case_no"], "R04") == []


@pytest.mark.parametrize("data, negative", [
    ({"approved": False}, "approved=false"),
    ({"decision": "决定不予许可"}, "decision=决定不予许可"),
    ({"decision": "驳回"}, "decision=驳回"),
    ({"decision": "准予许可"}, None),
    ({"approved": 0}, None),  # only a real false: 0 or "false" may mean something else in a form
])
def test_a_negative_decision_is_recognised_from_the_completion_data(data, negative):
    assert rules.negative_reason(data, rules.DEFAULTS["R04"].params) == negative


@pytest.mark.parametrize("data, opinion, basis", [
    ({}, "依据《行政许可法》", True),
    ({}, "依照第三十八条", True),
    ({}, "依照第38条", True),
    ({}, "第一次审查不符合条件", False),  # 第…条 needs numerals in between, not any text
    ({"legal_basis": "  "}, "不符合条件", False),
    ({"legal_basis": "食品安全法第三十五条"}, "", True),
])
def test_a_legal_basis_is_a_field_or_a_citation_in_the_opinion(data, opinion, basis):
    assert rules.has_legal_basis(data, opinion) is basis


# --- R03 a late 补正 notice -----------------------------------------------------------------------------------
def _supplement_requested(app, case_no) -> bool:
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    with db.unit_of_work() as s:
        case = s.scalar(select(Case).where(Case.case_no == case_no))
        return rules.on_supplement_requested(s, settings, case, clock.now())


def test_r03_a_supplement_notice_after_seven_working_days_is_flagged_once(world, app, frozen_now):
    no = world.new_case()["case_no"]  # received Monday 2 March 2026
    clock.travel_to(frozen_now + timedelta(days=7))  # Monday 9 March: the 5th working day, still in time
    assert _supplement_requested(app, no) is False
    clock.travel_to(frozen_now + timedelta(days=9))  # Wednesday 11 March: the 7th working day
    assert _supplement_requested(app, no) is True
    assert _supplement_requested(app, no) is False  # raised once
    [notice] = rule_notices(world, no, "R03")
    assert notice["level"] == "red" and "第7个工作日" in notice["reason"] and "即为受理" in notice["reason"]
    assert sorted(r["username"] for r in notice["recipients"]) == ["acc", "sup", "sup01"]
    assert [e["detail"]["measured"] for e in violations(world, no)] == [{"working_days": 7}]


# --- configuration -------------------------------------------------------------------------------------------
def test_a_disabled_rule_raises_nothing(world):
    status, body = configure(world, "R01", {"enabled": False})
    assert status == 200 and body["enabled"] is False
    case = reviewed(world, timedelta(seconds=1))
    assert case["notices"] == [] and violations(world, case["case_no"]) == []


def test_a_level_changed_by_the_admin_is_used_by_the_next_violation(world):
    before = reviewed(world, timedelta(seconds=1))
    status, body = configure(world, "R01", {"level": "red"})
    assert status == 200 and body["level"] == "red" and body["defaults"]["level"] == "yellow"
    after = reviewed(world, timedelta(seconds=1))
    assert [n["level"] for n in rule_notices(world, before["case_no"], "R01")] == ["yellow"]
    assert [n["level"] for n in rule_notices(world, after["case_no"], "R01")] == ["red"]
    assert after["deadlines"]["card"] == "red"


def test_params_change_what_counts_as_a_violation(world):
    status, body = configure(world, "R01", {"params": {"min_seconds": 900}})
    assert status == 200 and body["params"] == {"min_seconds": 900}
    case = reviewed(world, timedelta(minutes=10))
    assert len(rule_notices(world, case["case_no"], "R01")) == 1
    status, body = configure(world, "R04", {"params": {"negative_words": ["不予许可"]}})
    assert status == 200 and body["params"]["false_fields"] == ["approved"]  # the other params stay


def test_each_violation_is_raised_once_even_if_the_hook_runs_again(world, app):
    case = reviewed(world, timedelta(0))
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    with db.unit_of_work() as s:
        loaded = s.scalar(select(Case).where(Case.case_no == case["case_no"]))
        row = next(t for t in loaded.tasks if t.bpmn_id == "Task_review")
        assert rules.on_task_completed(s, settings, loaded, row, {}, "同意", clock.now()) == 0
    assert len(rule_notices(world, case["case_no"], "R01")) == 1 and len(violations(world, case["case_no"])) == 1


def test_staff_read_the_rules_and_only_admins_change_them_audited(world, app):
    status, listed = world.api.get("/api/v1/rules", "acc")
    assert status == 200 and [r["code"] for r in listed] == ["R01", "R02", "R03", "R04"]
    assert all(r["enabled"] and r["name"] and r["params"] == r["defaults"]["params"] for r in listed)
    assert world.api.get("/api/v1/rules")[0] == 401
    assert configure(world, "R01", {"level": "red"}, user="sup")[0] == 403
    for code, body, field in (("R01", {"level": "purple"}, "level"), ("R01", {"enabled": "no"}, "enabled"),
                              ("R01", {"params": {"min_seconds": 0}}, "params.min_seconds"),
                              ("R01", {"params": {"min_minutes": 5}}, "params.min_minutes"),
                              ("R04", {"params": {"negative_words": [""]}}, "params.negative_words"),
                              ("R02", {"params": []}, "params"), ("R02", {"colour": "red"}, "colour")):
        status, err = configure(world, code, body)
        expected = 400 if body in ({"enabled": "no"}, {"params": []}) else 422  # 400: a JSON type off the document
        assert status == expected and err["error"]["details"] == [{"field": field}], (body, err)
    assert configure(world, "R99", {"level": "red"})[0] == 422  # not among the document's rule codes
    assert configure(world, "R02", {"enabled": False, "params": {"min_steps": 3}})[0] == 200
    with app.extensions["sunlight.db"].unit_of_work() as s:
        [event] = s.scalars(select(AuditEvent).where(AuditEvent.action == "rule_changed")).all()
        assert event.stream == "registry" and event.actor == "admin" and event.detail["code"] == "R02"
        assert event.detail["before"]["params"] == {"min_minutes": 10, "min_steps": 2}
        assert event.detail["after"] == {"enabled": False, "level": "yellow",
                                         "params": {"min_minutes": 10, "min_steps": 3}}


def test_seeding_adds_missing_rules_and_never_overwrites_a_configured_one(world, app):
    assert configure(world, "R03", {"level": "yellow"})[0] == 200
    with app.extensions["sunlight.db"].unit_of_work() as s:
        rules.seed(s)
        assert rules.seed(s) == []
        assert {r.code: r.level for r in rules.catalogue(s)} == {"R01": "yellow", "R02": "yellow", "R03": "yellow",
                                                                 "R04": "red"}


def test_a_failing_reaction_rolls_the_whole_action_back(world, app, monkeypatch):
    """Reactions run in the action's transaction: one that fails leaves the step undone and nothing recorded."""
    from app import events
    from app.cases import service as cases
    from app.cases.events import StepCompleted
    from app.orgs import service as orgs

    def broken(session, settings, event):
        raise RuntimeError("a reaction failed")

    monkeypatch.setattr(events, "_subscribers", {k: list(v) for k, v in events._subscribers.items()})
    events.subscribe(StepCompleted, broken, order=99)
    case = world.new_case()
    task = world.ready(case, "Task_accept")
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        cases.complete_task(s, settings, orgs.user_by_name(s, "acc"), case["case_no"], task["id"], {}, "同意")
    after = world.api.get(f"/api/v1/cases/{case['case_no']}", "acc")[1]
    assert world.ready(after, "Task_accept") is not None
    _, trail = world.api.get(f"/api/v1/cases/{case['case_no']}/events", "sup")
    assert "task_completed" not in [e["action"] for e in trail]
