"""Assessment (考核评估) over a small district whose facts are counted by hand, month by month.

CA01 (licensing demo item: promised 5, statutory 20 working days; review step times out after 72 h; a second
item that never runs a case), CA02 (one item, one case in October). Every figure of November, of Q4 and of the
year is written out below from the story, not read back from the code.
"""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from app import clock, worker
from app.audit.models import AuditEvent
from app.orgs import service as orgs
from tests.world import ITEM, LICENSING, build_world, deploy_item

BJ = timezone(timedelta(hours=8))


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BJ)


def sweep(app) -> None:
    worker.sweep(app.extensions["sunlight.db"], app.extensions["sunlight.settings"])


def order(world, no, due, user="sup01"):
    status, body = world.api.post("/api/v1/orders", user, {"case_no": no, "instruction": "请说明进度",
                                                           "due_at": due.isoformat()})
    assert status == 201, body
    return body["id"]


def rate(world, case, score, comment):
    status, body = world.api.post(f"/public/api/v1/cases/{case['case_no']}/rating",
                                  json={"code": case["query_code"], "score": score, "comment": comment})
    assert status == 201, body


def finish(world, case, user_for=("acc", "rev", "dec")):
    """Work the licensing demo's remaining steps; the answer keeps the query code the acceptance gave."""
    code = case.get("query_code")
    for step, user, data in zip(("Task_accept", "Task_review", "Task_decide"), user_for, ({}, {"approved": True}, {})):
        if world.ready(case, step):
            case = world.complete(case, step, user, data)
    return {**case, "query_code": code}


@pytest.fixture
def district(app):
    """The story. Returns the world once the clock stands at 15 December 2026, 10:00."""
    clock.travel_to(at(2026, 10, 1, 9, 0))
    world = build_world(app)
    db = app.extensions["sunlight.db"]
    with db.unit_of_work() as s:
        for name, role, org in (("ev1", "evaluator", "CA"), ("ev2", "evaluator", "CA"), ("ev3", "evaluator", "CA"),
                                ("admin01", "admin", "CA01"), ("designer02", "designer", "CA02")):
            world.tokens[name] = orgs.issue_token(s, orgs.create_user(s, name, role, org, [], None, "test"), "test")
    deploy_item(world, {**ITEM, "code": "CA01-XK-0002", "name": "食品经营许可注销"}, LICENSING)  # never runs a case
    deploy_item(world, {**ITEM, "code": "CA02-XK-0001", "department": "CA02", "name": "户外广告设置许可"}, LICENSING,
                designer="designer02")
    clock.travel_to(at(2026, 10, 15, 9, 0))  # October: CA02's only case, done within the day
    finish(world, world.new_case(user="outsider", item="CA02-XK-0001"), ("outsider",) * 3)

    clock.travel_to(at(2026, 11, 2, 9, 0))  # Monday 2 November
    world.a = finish(world, world.new_case())  # completed 09:15, on time
    world.b = world.new_case()
    world.b = {**world.complete(world.b, "Task_accept", "acc"), "query_code": world.b["query_code"]}  # left late
    clock.travel_to(at(2026, 11, 3, 10, 0))
    rate(world, world.a, 5, "很满意")
    clock.travel_to(at(2026, 11, 5, 10, 0))
    sweep(app)  # B's review timer (72 h): yellow
    clock.travel_to(at(2026, 11, 7, 0, 1))
    sweep(app)  # B's pre-warning (6 November ended): warning
    clock.travel_to(at(2026, 11, 10, 0, 1))
    sweep(app)  # B's promised limit (9 November) passed: yellow
    world.order1 = order(world, world.b["case_no"], at(2026, 11, 12, 17, 0))  # never closed: overdue
    clock.travel_to(at(2026, 11, 13, 0, 1))
    sweep(app)  # order 1 overdue: escalated once, red
    clock.travel_to(at(2026, 11, 20, 9, 0))
    world.c = world.complete(world.new_case(), "Task_accept", "acc")  # review ready 09:05, left open
    clock.travel_to(at(2026, 11, 21, 9, 0))
    order2 = order(world, world.c["case_no"], at(2026, 11, 25, 17, 0))
    clock.travel_to(at(2026, 11, 24, 9, 0))
    assert world.api.post(f"/api/v1/orders/{order2}/close", "sup01", {"text": "已整改"})[0] == 200  # in time
    clock.travel_to(at(2026, 11, 28, 0, 1))
    sweep(app)  # C: review timer (yellow), pre-warning (26th), promised limit (27th, yellow)

    clock.travel_to(at(2026, 12, 1, 0, 1))
    sweep(app)  # B's statutory limit (30 November) passed: red
    clock.travel_to(at(2026, 12, 2, 9, 0))
    # One 督办 per case at a time: order 1 is closed (long after its deadline: still overdue) before order 3.
    assert world.api.post(f"/api/v1/orders/{world.order1}/close", "sup01", {"text": "逾期后才整改"})[0] == 200
    order3 = order(world, world.b["case_no"], at(2026, 12, 5, 17, 0))
    clock.travel_to(at(2026, 12, 6, 9, 0))
    assert world.api.post(f"/api/v1/orders/{order3}/close", "sup01", {"text": "已说明"})[0] == 200  # a day late
    clock.travel_to(at(2026, 12, 10, 9, 0))
    world.b = finish(world, world.api.get(f"/api/v1/cases/{world.b['case_no']}", "acc")[1] | {
        "query_code": world.b["query_code"]})
    clock.travel_to(at(2026, 12, 11, 9, 0))
    rate(world, world.b, 1, "办得太慢")

    q4 = campaign(world, "2026-Q4", ["ev1", "ev2"], ["CA01", "CA02"])
    respond(world, "ev1", q4, "CA01", 80)
    respond(world, "ev1", q4, "CA02", 70)
    respond(world, "ev2", q4, "CA01", 90)
    november = campaign(world, "2026-11", ["ev1"], ["CA01"])
    respond(world, "ev1", november, "CA01", 60)
    world.campaigns = (q4, november)
    clock.travel_to(at(2026, 12, 15, 10, 0))
    return world


def campaign(world, period, evaluators, departments):
    status, body = world.api.post("/api/v1/evaluations", "admin", {
        "period": period, "title": f"{period} 人大代表、政协委员评议", "evaluators": evaluators,
        "departments": departments})
    assert status == 201, body
    return body["id"]


def respond(world, user, campaign_id, department, score):
    status, body = world.api.post(f"/api/v1/evaluations/{campaign_id}/responses", user,
                                  {"department": department, "score": score, "comment": "评议意见"})
    assert status == 201, body


def figures(world, period, user="sup", version=None):
    url = f"/api/v1/assessment?period={period}" + (f"&version={version}" if version else "")
    status, body = world.api.get(url, user)
    assert status == 200, body
    return body, {d["org_code"]: d for d in body["departments"]}


def test_every_figure_of_a_month_its_quarter_and_its_year_is_what_happened(district):
    body, by = figures(district, "2026-11")
    assert body["status"] == "draft" and body["from"] == "2026-11-01T00:00:00+08:00"
    assert body["to"] == "2026-12-01T00:00:00+08:00" and set(by) == {"CA01", "CA02"}
    ca01 = by["CA01"]
    assert (ca01["cases_accepted"], ca01["cases_completed"], ca01["completed_on_time"], ca01["on_time_rate"]) == \
        (3, 1, 1, 1.0)
    assert ca01["cards"] == {"warning": 2, "yellow": 4, "red": 1}
    assert ca01["orders"] == {"issued": 2, "overdue": 1}
    assert (ca01["ratings"], ca01["rating_avg"]) == (1, 5.0)
    assert (ca01["items_active"], ca01["items_with_cases"], ca01["online_run_rate"]) == (2, 1, 0.5)
    assert ca01["evaluation_avg"] == 60.0
    # 40×1 + 20×0.5 + (15 − 2×0.5 − 4×1 − 1×2 − 1×2) + 15×(5−1)/4 + 10×0.6 = 40 + 10 + 6 + 15 + 6
    assert (ca01["score"], ca01["grade"]) == (77.0, "合格")
    ca02 = by["CA02"]
    assert (ca02["cases_accepted"], ca02["cases_completed"], ca02["on_time_rate"]) == (0, 0, None)
    assert (ca02["items_active"], ca02["items_with_cases"], ca02["online_run_rate"]) == (1, 0, 0.0)
    assert (ca02["rating_avg"], ca02["evaluation_avg"]) == (None, None)
    # Only the parts that exist are scored: online_run 0 of 20, supervision 15 of 15 → 15 of 35 → 42.9
    assert (ca02["score"], ca02["grade"]) == (42.9, "不合格")

    _, by = figures(district, "2026-12")
    ca01 = by["CA01"]
    assert (ca01["cases_accepted"], ca01["cases_completed"], ca01["completed_on_time"], ca01["on_time_rate"]) == \
        (0, 1, 0, 0.0)
    assert ca01["cards"] == {"warning": 0, "yellow": 0, "red": 1}
    assert ca01["orders"] == {"issued": 1, "overdue": 1}
    assert (ca01["ratings"], ca01["rating_avg"], ca01["evaluation_avg"]) == (1, 1.0, None)

    for period in ("2026-Q4", "2026"):
        _, by = figures(district, period)
        ca01, ca02 = by["CA01"], by["CA02"]
        assert (ca01["cases_accepted"], ca01["cases_completed"], ca01["completed_on_time"], ca01["on_time_rate"]) == \
            (3, 2, 1, 0.5), period
        assert ca01["cards"] == {"warning": 2, "yellow": 4, "red": 2} and ca01["orders"] == {"issued": 3, "overdue": 2}
        assert (ca01["ratings"], ca01["rating_avg"]) == (2, 3.0)
        assert (ca01["items_active"], ca01["items_with_cases"], ca01["online_run_rate"]) == (2, 1, 0.5)
        assert ca01["evaluation_avg"] == 76.67  # (80 + 90 + 60) / 3: the quarter's campaign and November's
        assert (ca02["cases_accepted"], ca02["cases_completed"], ca02["on_time_rate"]) == (1, 1, 1.0)
        assert (ca02["online_run_rate"], ca02["evaluation_avg"]) == (1.0, 70.0)
    _, by = figures(district, "2026-09")
    assert by["CA01"]["cases_accepted"] == 0 and by["CA01"]["items_active"] == 0  # no flow was published yet


def test_the_drill_down_shows_the_facts_behind_the_figures(district):
    status, body = district.api.get("/api/v1/assessment/2026-Q4/departments/CA01", "sup01")
    assert status == 200, body
    assert [c["case_no"] for c in body["late_cases"]["rows"]] == [district.b["case_no"]]
    assert body["cards"]["total"] == 8 and body["orders"]["total"] == 3
    assert [o["overdue"] for o in body["orders"]["rows"]] == [True, False, True]  # newest first
    assert [(r["score"], r["comment"]) for r in body["bad_ratings"]["rows"]] == [(1, "办得太慢")]
    assert [i["code"] for i in body["idle_items"]["rows"]] == ["CA01-XK-0002"]
    assert body["department"]["cases_accepted"] == 3
    assert district.api.get("/api/v1/assessment/2026-Q4/departments/CA02", "sup01")[0] == 404  # not in scope


def test_publishing_freezes_a_version_and_a_late_fact_only_reaches_the_next(district, app):
    assert district.api.post("/api/v1/assessment/2026-Q4/publish", "sup")[0] == 403
    assert district.api.post("/api/v1/assessment/2026-Q4/publish", "admin01")[0] == 403  # not the district's
    status, v1 = district.api.post("/api/v1/assessment/2026-Q4/publish", "admin")
    assert status == 201 and (v1["status"], v1["version"]) == ("published", 1)
    clock.travel_to(at(2026, 12, 16, 9, 0))
    district.new_case()  # a late fact: one more case in the quarter
    v1_again, _ = figures(district, "2026-Q4", version=1)
    draft, by = figures(district, "2026-Q4")
    assert {d["org_code"]: d["cases_accepted"] for d in v1_again["departments"]}["CA01"] == 3
    assert v1_again["generated_at"] == v1["generated_at"]
    assert by["CA01"]["cases_accepted"] == 4 and draft["latest_version"] == 1
    assert {"org_code": "CA01", "field": "cases_accepted", "old": 3, "new": 4} in draft["differences"]
    status, v2 = district.api.post("/api/v1/assessment/2026-Q4/publish", "admin")
    assert status == 201 and v2["version"] == 2
    assert {"org_code": "CA01", "field": "cases_accepted", "old": 3, "new": 4} in v2["differences"]
    status, public = district.api.get("/public/api/v1/assessment?period=2026-Q4")
    assert status == 200 and public["version"] == 2
    assert set(public["departments"][0]) == {"org_name", "score", "grade", "on_time_rate", "online_run_rate",
                                             "rating_avg", "rank"}
    assert district.api.get("/public/api/v1/assessment?period=2026-Q3")[0] == 404  # nothing published yet
    with app.extensions["sunlight.db"].unit_of_work() as s:
        published = s.scalars(select(AuditEvent.detail).where(AuditEvent.action == "assessment_published")).all()
        assert [(d["period"], d["version"]) for d in published] == [("2026-Q4", 1), ("2026-Q4", 2)]


def test_the_xlsx_holds_the_same_figures_as_the_json(district):
    body, _ = figures(district, "2026-Q4")
    resp = district.api.client.get("/api/v1/assessment.xlsx?period=2026-Q4",
                                   headers={"Authorization": f"Bearer {district.tokens['sup']}"})
    assert resp.status_code == 200 and resp.mimetype.endswith("spreadsheetml.sheet")
    sheet = load_workbook(io.BytesIO(resp.data)).worksheets[0]
    header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    from app.assessment.export import flat

    assert [dict(zip(header, row)) for row in rows] == [{k: flat(d).get(k) for k in header}
                                                       for d in body["departments"]]


def test_scope_roles_and_bad_periods(district):
    _, by = figures(district, "2026-Q4", user="sup02")
    assert set(by) == {"CA02"}
    assert district.api.get("/api/v1/assessment?period=2026-Q4", "acc")[0] == 403
    assert district.api.get("/api/v1/assessment?period=2026-Q4", "ev1")[0] == 403
    for bad in ("2026-13", "2026-Q5", "abc", "", "2026-11%0A", "99999"):
        status, body = district.api.get(f"/api/v1/assessment?period={bad}", "sup")
        assert status == 422 and body["error"]["details"][0]["field"] == "period", bad
    assert district.api.get("/api/v1/assessment?period=2026-Q4&version=0", "sup")[0] == 422
    assert district.api.get("/api/v1/assessment?period=2026-Q4&version=7", "sup")[0] == 404


def test_evaluators_answer_once_and_only_in_their_own_campaigns(district):
    q4, november = district.campaigns
    status, body = district.api.post(f"/api/v1/evaluations/{q4}/responses", "ev1", {"department": "CA01", "score": 10})
    assert status == 409
    assert district.api.post(f"/api/v1/evaluations/{november}/responses", "ev2",
                             {"department": "CA01", "score": 10})[0] == 404  # not ev2's campaign
    assert district.api.post(f"/api/v1/evaluations/{q4}/responses", "ev3", {"department": "CA01", "score": 10})[0] == 404
    assert district.api.post(f"/api/v1/evaluations/{q4}/responses", "sup", {"department": "CA01", "score": 10})[0] == 403
    for bad, field in (({"department": "CA01", "score": 101}, "score"), ({"department": "CA01", "score": "9"}, "score"),
                       ({"department": "CA99", "score": 9}, "department")):
        status, body = district.api.post(f"/api/v1/evaluations/{q4}/responses", "ev2", bad)
        assert status == (400 if bad["score"] == "9" else 422) and body["error"]["details"][0]["field"] == field
    _, mine = district.api.get("/api/v1/evaluations", "ev2")
    assert [c["id"] for c in mine] == [q4]
    assert [(d["code"], d["my_score"]) for d in mine[0]["departments"]] == [("CA01", 90), ("CA02", None)]
    for bad, field in (({"period": "2026-Q9"}, "period"), ({"evaluators": ["acc"]}, "evaluators"),
                       ({"departments": ["CA"]}, "departments")):
        status, body = district.api.post("/api/v1/evaluations", "admin", {
            "period": "2026-Q4", "title": "x", "evaluators": ["ev1"], "departments": ["CA01"], **bad})
        assert status == 422 and body["error"]["details"][0]["field"] == field


def test_the_scheme_is_the_districts_to_change_and_rescores_the_draft(district):
    status, body = district.api.call("PUT", "/api/v1/assessment/scheme", "admin", json={
        "grades": {"优秀": 95, "良好": 85, "合格": 75}})
    assert status == 200 and body["scheme"]["grades"]["合格"] == 75
    _, by = figures(district, "2026-11")
    assert (by["CA01"]["score"], by["CA01"]["grade"]) == (77.0, "合格")
    status, body = district.api.call("PUT", "/api/v1/assessment/scheme", "admin", json={
        "weights": {"on_time": 100, "online_run": 0, "supervision": 0, "satisfaction": 0, "evaluation": 0}})
    assert status == 200
    _, by = figures(district, "2026-12")
    assert (by["CA01"]["score"], by["CA01"]["grade"]) == (0.0, "不合格")
    for bad, field in (({"weights": {"on_time": 50}}, "weights"), ({"grades": {"优秀": 60, "良好": 80, "合格": 70}},
                                                                  "grades"), ({"colour": 1}, "body")):
        status, body = district.api.call("PUT", "/api/v1/assessment/scheme", "admin", json=bad)
        assert status == 422 and body["error"]["details"][0]["field"] == field
    assert district.api.call("PUT", "/api/v1/assessment/scheme", "admin01", json={
        "grades": {"优秀": 95, "良好": 85, "合格": 75}})[0] == 403


def test_the_cli_shows_publishes_and_exports_a_period(district, cli, tmp_path):
    out = cli("assessment", "show", "2026-11")
    assert "2026-11 draft: 2 department(s)" in out and "CA01" in out and "score  77.0 合格" in out
    assert "published 2026-Q4 version 1" in cli("assessment", "publish", "2026-Q4")
    assert "2026-Q4 published v1" in cli("assessment", "show", "2026-Q4", "--version", "1")
    path = tmp_path / "q4.xlsx"
    assert "wrote 2 department(s)" in cli("assessment", "export", "2026-Q4", "--xlsx", str(path))
    header = next(load_workbook(path).worksheets[0].iter_rows(values_only=True))
    assert header[:3] == ("rank", "org_code", "org_name")
    assert "2026-13" in cli("assessment", "show", "2026-13", code=2)
    assert "district" in cli("assessment", "publish", "2026-Q4", "--as", "admin01", code=2)


def test_the_pages_show_the_report_the_drill_down_and_refuse_clerks(district, app):
    from tests.e2e.ui_support import give_passwords, login

    give_passwords(app)
    client = app.test_client()
    login(client, "sup01")
    html = client.get("/assessment?period=2026-11").get_data(as_text=True)
    assert 'id="ranking"' in html and "区市场监督管理局" in html and "77.0" in html and "区城市管理局" not in html
    assert 'id="publish-form"' not in html  # only a district admin publishes
    html = client.get("/assessment/2026-Q4/departments/CA01").get_data(as_text=True)
    assert district.b["case_no"] in html and "CA01-XK-0002" in html and "办得太慢" in html
    assert client.get("/assessment/2026-Q4/departments/CA02").status_code == 404
    html = client.get("/assessment?period=2026-13").get_data(as_text=True)  # told, and the last month shown
    assert 'id="ranking"' in html
    xlsx = client.get("/assessment/export.xlsx?period=2026-11")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    login(client, "acc")
    assert client.get("/assessment").status_code == 403
    html = client.get("/assessment/public?period=2026-11").get_data(as_text=True)
    assert 'id="not-published"' in html
