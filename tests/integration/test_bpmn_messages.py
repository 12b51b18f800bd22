"""BPMN messages from outside: to one case by number, by name and correlation, message start events, receive tasks,
and the race of a message against a timer at an event-based gateway — exactly once, whichever comes first."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from app import clock, worker
from app.cases import inbound
from app.cases.models import CaseWait
from tests import diagrams
from tests.bpmn_world import by_bpmn, bpmn_world, case_of, events_of

REPORT = "inspection_report"


def _sweep(app) -> int:
    return worker.sweep(app.extensions["sunlight.db"], app.extensions["sunlight.settings"])


def _waiting_report(world, data=None) -> dict:
    """A case past 受理, waiting at the catch event for the inspection report."""
    case = world.new_case(data=data or {}, item=world.items["catch"])
    return world.complete(case, "Task_accept", "acc")


def _message(world, case_no, name=REPORT, payload=None, user="acc"):
    return world.api.post(f"/api/v1/cases/{case_no}/messages", user, {"name": name, "payload": payload or {}})


def test_a_message_to_a_waiting_case_moves_it_on_with_its_payload_in_the_case_data(app, frozen_now):
    world = bpmn_world(app, catch=diagrams.MESSAGE_CATCH)
    case = _waiting_report(world)
    [catch] = by_bpmn(case, "Catch_report")
    assert catch["kind"] == "event" and catch["state"] == "waiting" and case["waiting_for"] == [REPORT]
    status, body = _message(world, case["case_no"], payload={"passed": True, "report_no": "JC-2026-001"})
    assert status == 200, body
    # The gateway after the catch read `passed` from the payload: 决定, not 退回.
    assert world.ready(body, "Task_decide") and not by_bpmn(body, "Task_return")
    assert by_bpmn(body, "Catch_report")[0]["state"] == "completed" and body["waiting_for"] == []
    [event] = events_of(world, case["case_no"], "message_received")
    assert event["actor"] == "acc" and event["task_bpmn_id"] == "Catch_report"
    assert event["detail"]["payload_fields"] == ["passed", "report_no"]


def test_a_system_token_delivers_to_a_case_in_its_scope_only(app, frozen_now):
    world = bpmn_world(app, catch=diagrams.MESSAGE_CATCH)
    no = _waiting_report(world)["case_no"]
    assert _message(world, no, payload={"passed": False}, user="sys02")[0] == 404  # another department's system
    status, body = _message(world, no, payload={"passed": False}, user="sys01")
    assert status == 200 and world.ready(body, "Task_return")
    assert events_of(world, no, "message_received")[0]["actor"] == "sys01"


def test_no_waiting_catch_unknown_cases_and_bad_payloads_are_refused_without_touching_the_case(app, frozen_now):
    world = bpmn_world(app, catch=diagrams.MESSAGE_CATCH)
    early = world.new_case(item=world.items["catch"])  # still at 受理: it waits for no message yet
    status, body = _message(world, early["case_no"])
    assert status == 409 and body["error"]["code"] == "no_waiting_catch"
    no = _waiting_report(world)["case_no"]
    status, body = _message(world, no, name="another_message")
    assert status == 409 and body["error"]["code"] == "no_waiting_catch"
    assert body["error"]["details"] == [{"field": "name", "waiting_for": [REPORT]}]
    assert _message(world, "20260302-999999")[0] == 404
    assert _message(world, no, user="outsider")[0] == 404  # not in the clerk's scope: like an unknown case
    for payload, words, expected in (([1, 2], "object", 400), ({"__class__": 1}, "__class__", 422),
                                     ({"x": "字" * 70_000}, "larger", 422)):  # 400: not what the document says
        status, body = world.api.post(f"/api/v1/cases/{no}/messages", "acc", {"name": REPORT, "payload": payload})
        assert status == expected and words in body["error"]["message"] and body["error"]["details"] == [
            {"field": "payload"}], body
    for name, expected in ((None, 400), ("", 422), (5, 400), ("x" * 201, 422)):
        status, body = world.api.post(f"/api/v1/cases/{no}/messages", "acc", {"name": name})
        assert status == expected and body["error"]["details"] == [{"field": "name"}]
    assert world.api.post(f"/api/v1/cases/{no}/messages", "acc", data="name=x", ctype="text/plain")[0] == 415
    assert world.api.post(f"/api/v1/cases/{no}/messages", "acc", data="{", ctype="application/json")[0] == 400
    # A payload that lacks what the gateway after the catch needs: 422 naming the element, nothing written.
    status, body = _message(world, no, payload={"report_no": "x"})
    assert status == 422 and body["error"]["code"] == "engine_error"
    assert body["error"]["details"][0]["element_id"] == "Gateway_passed"
    case = case_of(world, no)
    assert case["waiting_for"] == [REPORT] and not events_of(world, no, "message_received")


def test_messages_by_correlation_reach_exactly_the_waiting_cases_whose_data_match(app, frozen_now):
    world = bpmn_world(app, catch=diagrams.MESSAGE_CATCH)
    a1 = _waiting_report(world, {"permit_no": "A1", "district": "CA"})["case_no"]
    a2 = _waiting_report(world, {"permit_no": "A2", "district": "CA"})["case_no"]
    early = world.new_case(data={"permit_no": "A1"}, item=world.items["catch"])["case_no"]  # not waiting yet
    body = {"name": REPORT, "correlation": {"permit_no": "A1"}, "payload": {"passed": True}}
    status, out = world.api.post("/api/v1/messages", "sys", body)
    assert status == 200 and out == {"delivered": [a1], "created": []}
    assert world.ready(case_of(world, a1), "Task_decide")
    assert case_of(world, a2)["waiting_for"] == [REPORT] and case_of(world, early)["waiting_for"] == []
    # Delivered once: the same message again finds no waiting case with that data.
    assert world.api.post("/api/v1/messages", "sys", body)[1]["delivered"] == []
    # A number is not its text; every key must match.
    for correlation in ({"permit_no": 2}, {"permit_no": "A2", "district": "CA02"}, {"nowhere": "A2"}):
        assert world.api.post("/api/v1/messages", "sys", {**body, "correlation": correlation})[1]["delivered"] == []
    status, out = world.api.post("/api/v1/messages", "sys", {**body, "correlation": {"permit_no": "A2",
                                                                                      "district": "CA"}})
    assert out["delivered"] == [a2]


def test_correlation_candidates_come_from_the_waits_projection_in_sql(app, db, frozen_now):
    world = bpmn_world(app, catch=diagrams.MESSAGE_CATCH)
    waiting = _waiting_report(world, {"permit_no": "A1"})["case_no"]
    world.new_case(data={"permit_no": "A1"}, item=world.items["catch"])  # at 受理: no row in case_waits
    with db.unit_of_work() as s:
        assert s.scalar(select(func.count()).select_from(CaseWait)) == 1
        from app.orgs import service as orgs

        sys = orgs.user_by_name(s, "sys")
        candidates = inbound._candidates(s, sys, REPORT)
        assert len(candidates) == 1 and inbound._candidates(s, sys, "other") == []
    _message(world, waiting, payload={"passed": True})
    with db.unit_of_work() as s:  # the row goes with the wait
        assert s.scalar(select(func.count()).select_from(CaseWait)) == 0


def test_only_system_users_send_correlated_messages_and_bad_bodies_are_named(app, frozen_now):
    world = bpmn_world(app, catch=diagrams.MESSAGE_CATCH)
    assert world.api.post("/api/v1/messages", "acc", {"name": REPORT})[0] == 403
    assert world.api.post("/api/v1/messages", None, {"name": REPORT})[0] == 401
    for body, field, expected in (({"name": REPORT, "correlation": [1]}, "correlation", 400),
                                  ({"name": REPORT, "correlation": {"a b": 1}}, "correlation", 422),
                                  ({"name": REPORT, "payload": "x"}, "payload", 400), ({}, "name", 422)):
        status, out = world.api.post("/api/v1/messages", "sys", body)
        assert status == expected and out["error"]["details"] == [{"field": field}], out


def test_a_message_start_event_opens_a_case_in_scope(app, frozen_now):
    world = bpmn_world(app, start=diagrams.MESSAGE_START)
    body = {"name": "case_transferred", "payload": {"source": "区城管局", "clue_no": "XS-9"},
            "applicant": {"name": "某某公司", "id_number": "", "phone": ""}}
    assert world.api.post("/api/v1/messages", "sys02", body)[1] == {"delivered": [], "created": []}  # out of scope
    status, out = world.api.post("/api/v1/messages", "sys", body)
    assert status == 200 and len(out["created"]) == 1, out
    created = out["created"][0]
    assert out["delivered"] == [created["case_no"]] and created["item_code"] == world.items["start"]
    assert len(created["query_code"]) == 8
    case = case_of(world, created["case_no"])
    assert world.ready(case, "Task_register") and case["applicant"]["name"] == "某某公司"
    assert by_bpmn(case, "Start_report")[0]["state"] == "completed"
    assert events_of(world, created["case_no"], "case_created")[0]["actor"] == "sys"
    status, out = world.api.post("/api/v1/messages", "sys", {**body, "applicant": {"id_number": "1"}})
    assert status == 422 and out["error"]["details"] == [{"field": "applicant.name"}]


def test_a_receive_task_waits_for_a_message_named_by_its_id(app, frozen_now):
    world = bpmn_world(app, receive=diagrams.RECEIVE_TASK)
    case = world.new_case(item=world.items["receive"])
    [receive] = by_bpmn(case, "Receive_fee")
    assert receive["state"] == "waiting" and case["waiting_for"] == ["Msg_fee"]
    status, body = _message(world, case["case_no"], name="Msg_fee", payload={"paid": 300})
    assert status == 200 and world.ready(body, "Task_issue")


# --- event-based gateway: the message against the timer ------------------------------------------------------
def _gateway_case(app, timer="P2D"):
    """A case at the gateway: the supplement (message) or, after two days (a bare duration, as bpmn.io writes it,
    well before any deadline signal), 视为撤回."""
    world = bpmn_world(app, gateway=diagrams.event_gateway(timer))
    case = world.new_case(item=world.items["gateway"])
    return world, case


def test_the_gateway_timer_is_scheduled_with_a_bare_duration(app, frozen_now):
    world, case = _gateway_case(app, "P10D")
    [gateway] = by_bpmn(case, "Gateway_wait")
    assert gateway["state"] == "waiting" and case["waiting_for"] == ["supplement_received"]
    due = frozen_now + timedelta(days=10)
    assert gateway["due_at"] == case["next_timer_due_at"] and case["next_timer_due_at"].startswith("2026-03-12T09:00")
    assert events_of(world, case["case_no"], "timer_started")[0]["detail"]["due_at"] == due.isoformat()


def test_message_first_the_timer_never_fires(app, frozen_now):
    world, case = _gateway_case(app)
    status, body = _message(world, case["case_no"], name="supplement_received", payload={"pages": 3})
    assert status == 200 and world.ready(body, "Task_review") and body["next_timer_due_at"] is None
    clock.advance(timedelta(days=3))
    assert _sweep(app) == 0
    case = case_of(world, case["case_no"])
    assert not by_bpmn(case, "Timer_expired") and not by_bpmn(case, "Task_close")
    assert not events_of(world, case["case_no"], "timer_fired")


def test_timer_first_the_message_finds_no_waiting_catch(app, frozen_now):
    world, case = _gateway_case(app)
    clock.advance(timedelta(days=2, seconds=1))
    assert _sweep(app) == 1
    case = case_of(world, case["case_no"])
    assert world.ready(case, "Task_close") and by_bpmn(case, "Timer_expired")[0]["state"] == "completed"
    status, body = _message(world, case["case_no"], name="supplement_received")
    assert status == 409 and body["error"]["code"] == "no_waiting_catch"
    assert not by_bpmn(case_of(world, case["case_no"]), "Task_review")


def test_a_message_arriving_after_the_due_timer_loses_even_before_the_worker_ran(app, frozen_now):
    world, case = _gateway_case(app)
    clock.advance(timedelta(days=2, seconds=1))  # due, but no worker swept yet
    status, body = _message(world, case["case_no"], name="supplement_received")
    assert status == 409 and body["error"]["code"] == "no_waiting_catch"
    assert _sweep(app) == 1  # the refused request left nothing behind: the worker fires the timer once
    case = case_of(world, case["case_no"])
    assert world.ready(case, "Task_close") and not by_bpmn(case, "Task_review")
    assert len(events_of(world, case["case_no"], "timer_fired")) == 1


def test_a_message_at_the_very_instant_the_timer_falls_due_wins_exactly_once(app, frozen_now):
    world, case = _gateway_case(app)
    clock.advance(timedelta(days=2))  # due at exactly now: not yet passed
    status, body = _message(world, case["case_no"], name="supplement_received")
    assert status == 200 and world.ready(body, "Task_review")
    clock.advance(timedelta(seconds=1))
    assert _sweep(app) == 0
    assert not by_bpmn(case_of(world, case["case_no"]), "Task_close")


def test_system_users_read_cases_in_scope_only_and_cannot_act_as_clerks(app, frozen_now):
    world = bpmn_world(app, catch=diagrams.MESSAGE_CATCH)
    case = world.new_case(item=world.items["catch"])
    assert world.api.get(f"/api/v1/cases/{case['case_no']}", "sys01")[0] == 200
    assert world.api.get(f"/api/v1/cases/{case['case_no']}", "sys02")[0] == 404
    task = world.ready(case, "Task_accept")
    assert world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "sys01", {})[0] == 403
    assert world.api.post("/api/v1/cases", "sys01", {"item_code": world.items["catch"],
                                                     "applicant": {"name": "张三"}})[0] == 403
    assert world.api.get("/api/v1/tasks", "sys01")[0] == 403
    assert world.api.get(f"/api/v1/cases/{case['case_no']}/events", "sys01")[0] == 403


def test_a_system_users_tokens_can_be_revoked(app, cli, frozen_now):
    world = bpmn_world(app, catch=diagrams.MESSAGE_CATCH)
    no = world.new_case(item=world.items["catch"])["case_no"]
    assert world.api.get(f"/api/v1/cases/{no}", "sys")[0] == 200
    assert "1 token(s) of sys revoked" in cli("users", "revoke", "sys")
    assert world.api.get(f"/api/v1/cases/{no}", "sys")[0] == 401
    world.tokens["sys"] = cli("users", "token", "sys").strip().splitlines()[-1]
    assert world.api.get(f"/api/v1/cases/{no}", "sys")[0] == 200
    assert "no user" in cli("users", "revoke", "ghost", code=2)
    out = cli("users", "create", "bridge", "--role", "system", "--org", "CA01")
    assert out.strip().splitlines()[-1].startswith("sl_")
    assert "neither a password nor posts" in cli("users", "create", "b2", "--role", "system", "--org", "CA01",
                                                 "--password", "pw", code=2)


def test_migration_0012_backfills_the_start_messages_of_older_definitions(app, frozen_now):
    from alembic import command
    from sqlalchemy import text

    from app.cli import alembic_config

    world = bpmn_world(app, start=diagrams.MESSAGE_START)
    db = app.extensions["sunlight.db"]
    with app.app_context():
        command.downgrade(alembic_config(), "0009")  # as a database from before this revision
        command.upgrade(alembic_config(), "head")
    with db.engine.connect() as conn:
        names = conn.execute(text("SELECT name FROM definition_start_messages")).scalars().all()
    assert names == ["case_transferred"]
    db.engine.dispose()
    assert world.api.post("/api/v1/messages", "sys", {"name": "case_transferred"})[1]["created"]
