"""The operators' CLI (`flask --app wsgi …`) as CONTRACT.md specifies it, through Click's runner."""
from __future__ import annotations

from sqlalchemy import update

from app.audit.models import AuditEvent



def test_orgs_and_users_are_created_and_the_token_is_the_last_line(cli, app):
    cli("orgs", "create", "CA", "崇安区", "--kind", "district")
    cli("orgs", "create", "CA01", "区市场监督管理局", "--kind", "department", "--parent", "CA")
    out = cli("users", "create", "li", "--role", "clerk", "--org", "CA01", "--post", "受理岗", "--post", "审查岗")
    token = out.strip().splitlines()[-1]
    assert token.startswith("sl_")
    client = app.test_client()
    assert client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    fresh = cli("users", "token", "li").strip().splitlines()[-1]
    assert fresh != token and client.get("/api/v1/tasks", headers={"Authorization": f"Bearer {fresh}"}).status_code == 200


def test_cli_refusals_are_clear_and_non_zero(cli):
    cli("orgs", "create", "CA", "崇安区", "--kind", "district")
    assert "exists already" in cli("orgs", "create", "CA", "again", "--kind", "district", code=2)
    assert "needs --parent" in cli("orgs", "create", "D1", "x", "--kind", "department", code=2)
    assert "no org unit" in cli("users", "create", "x", "--role", "clerk", "--org", "NOPE", code=2)
    assert "no user" in cli("users", "token", "ghost", code=2)
    cli("users", "create", "x", "--role", "wizard", "--org", "CA", code=2)


def test_audit_verify_exits_non_zero_naming_the_bad_record(cli, app):
    cli("orgs", "create", "CA", "崇安区", "--kind", "district")
    assert "intact" in cli("audit", "verify")
    with app.extensions["sunlight.db"].unit_of_work() as s:
        s.execute(update(AuditEvent).where(AuditEvent.id == 1).values(action="forged"))
    out = cli("audit", "verify", code=1)
    assert "event id 1" in out and "edited" in out


def test_timers_run_once_reports_what_it_fired(cli):
    assert "0 timer(s) fired" in cli("timers", "run", "--once")


def test_clock_stops_and_extensions_from_the_cli_follow_the_api_rules(app, cli, frozen_now):
    from tests.world import build_world

    world = build_world(app)
    no = world.new_case()["case_no"]
    assert "一次性告知" in cli("cases", "suspend", no, "--as", "acc", "--kind", "supplement", "--reason", "材料不全",
                           code=2)  # 补正 without the one-time list of what is missing is refused
    out = cli("cases", "suspend", no, "--as", "acc", "--kind", "supplement", "--reason", "材料不全",
              "--missing", "营业执照复印件")
    assert f"{no}: suspended" in out
    assert f"{no}: running" in cli("cases", "resume", no, "--as", "acc", "--note", "已补正")
    assert "error" in cli("cases", "extend", no, "--as", "acc", "--days", "5", "--reason", "复杂", code=2)
    assert f"{no}: running" in cli("cases", "extend", no, "--as", "admin", "--days", "5", "--reason", "情况复杂")
    assert "no user" in cli("cases", "resume", no, "--as", "ghost", code=2)


def test_orders_notices_and_rules_from_the_cli_follow_the_api_rules(app, cli, frozen_now):
    """督办 orders, notices and rules have the same commands an operator would reach for as the API."""
    import re
    from datetime import timedelta

    from app import clock
    from tests.world import build_world

    world = build_world(app)
    case = world.complete(world.new_case(), "Task_accept", "acc")
    no = case["case_no"]
    due = (clock.now() + timedelta(days=2)).isoformat()
    assert "only supervisors" in cli("orders", "issue", no, "--as", "acc", "--instruction", "说明", "--due", due,
                                     code=2)
    assert "offset" in cli("orders", "issue", no, "--as", "sup01", "--instruction", "说明", "--due", "2026-12-01",
                           code=2)
    out = cli("orders", "issue", no, "--as", "sup01", "--instruction", "请说明审查进度", "--due", due)
    order_id = re.match(r"#(\d+) DB", out).group(1)
    assert f"case {no} open" in out
    assert "no order" in cli("orders", "reply", order_id, "--as", "outsider", "--text", "x", code=2)  # not in scope
    assert " replied " in cli("orders", "reply", order_id, "--as", "rev", "--text", "已在审查")
    assert " open " in cli("orders", "reopen", order_id, "--as", "sup01", "--text", "请给出完成时间")
    assert " closed " in cli("orders", "close", order_id, "--as", "sup01", "--text", "已整改")
    assert f"#{order_id} " in cli("orders", "list", "--as", "rev", "--status", "closed")
    _, events = world.api.get(f"/api/v1/cases/{no}/events", "sup")
    assert [e["action"] for e in events if e["action"].startswith("order_")] == [
        "order_issued", "order_replied", "order_reopened", "order_closed"]

    clock.advance(timedelta(hours=73))  # the review timer fires: a yellow notice to rev, rev2, sup, sup01
    cli("timers", "run", "--once")
    out = cli("notices", "list", "--as", "rev")
    notice_id = re.match(r"#(\d+) .* yellow " + no, out).group(1)
    assert "only a recipient" in cli("notices", "ack", notice_id, "--as", "acc", code=2)
    assert "acknowledged by rev" in cli("notices", "ack", notice_id, "--as", "rev")
    # A page at a time: the supervisor's first notice alone, then the rest from the cursor it names.
    clock.advance(timedelta(days=10))  # the promised limit passes too: pre-warning and yellow card notices
    cli("timers", "run", "--once")
    first = cli("notices", "list", "--as", "sup01", "--limit", "1")
    assert first.count("\n#") == 0 and first.startswith("#") and "more: --after " in first
    after = re.search(r"more: --after (\d+)", first).group(1)
    rest = cli("notices", "list", "--as", "sup01", "--after", after)
    assert f"#{after} " not in rest and rest.startswith("#") and "more:" not in rest
    assert "Invalid value" in cli("notices", "list", "--as", "sup01", "--limit", "201", code=2)

    assert re.search(r"^R01 on ", cli("rules", "list"), re.M)
    out = cli("rules", "set", "R01", "--disable", "--level", "red", "--param", "min_seconds=30")
    assert out.startswith("R01 off red") and "'min_seconds': 30" in out
    assert "no rule" in cli("rules", "set", "R99", "--enable", code=2)
    assert "not KEY=VALUE" in cli("rules", "set", "R01", "--param", "oops", code=2)
    _, rules = world.api.get("/api/v1/rules", "admin")
    r01 = next(r for r in rules if r["code"] == "R01")
    assert r01["enabled"] is False and r01["level"] == "red" and r01["params"]["min_seconds"] == 30


def test_a_case_is_refused_withdrawn_or_terminated_from_the_cli_as_through_the_api(app, cli, frozen_now):
    from tests.world import build_world

    world = build_world(app)
    first, second = world.new_case()["case_no"], world.new_case()["case_no"]
    # The licensing demo item starts its clocks at creation: the case is accepted, so 不予受理 is too late.
    assert "accepted" in cli("cases", "refuse", first, "--as", "acc", "--reason", "x", "--legal-basis", "y", code=2)
    assert "legal_basis is required" in cli("cases", "terminate", first, "--as", "admin", "--reason", "x", code=2)
    assert "leader" in cli("cases", "terminate", first, "--as", "acc", "--reason", "x", "--legal-basis", "y", code=2)
    out = cli("cases", "terminate", first, "--as", "admin", "--reason", "当事人死亡", "--legal-basis", "《行政强制法》第三十九条")
    assert out.startswith(f"{first}: terminated; promised due ")
    assert f"{second}: withdrawn" in cli("cases", "withdraw", second, "--as", "acc", "--reason", "申请人书面撤回")
    assert "already" in cli("cases", "withdraw", second, "--as", "acc", "--reason", "again", code=2)
    statuses = {no: world.api.get(f"/api/v1/cases/{no}", "sup")[1]["status"] for no in (first, second)}
    assert statuses == {first: "terminated", second: "withdrawn"}


def test_recount_recomputes_the_open_cases_after_a_change_of_how_limits_count(app, cli, frozen_now):
    from sqlalchemy import update as sql_update

    from app.catalog.models import PowerItem
    from tests.world import build_world

    world = build_world(app)
    case = world.new_case()
    with app.extensions["sunlight.db"].unit_of_work() as s:  # as a migration would: the column, not the service
        s.execute(sql_update(PowerItem).values(statutory_unit="natural"))
    assert "1 case(s) got new deadlines" in cli("cases", "recount")
    assert "0 case(s) got new deadlines" in cli("cases", "recount", "--item", "CA01-XK-0001")
    assert "no item" in cli("cases", "recount", "--item", "NOPE", code=2)
    after = world.api.get(f"/api/v1/cases/{case['case_no']}", "sup")[1]["deadlines"]
    assert after["statutory_due_at"] == "2026-03-23T23:59:59+08:00"  # 2 March + 20 calendar days, a Sunday: Monday
    assert after["statutory_unit"] == "natural"
