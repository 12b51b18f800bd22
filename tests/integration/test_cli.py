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
