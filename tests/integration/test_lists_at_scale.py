"""Lists at scale (#14): every staff list is paged in SQL (at most 200 rows an answer), and what a page costs
in statements does not grow with the rows behind it — the same count for a short list and a long one."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app import clock, worker
from tests.statements import clone_cases, counted
from tests.world import build_world

LONG = 300  # more rows than any page holds


@pytest.fixture
def world(app, frozen_now):
    return build_world(app)


def browser(app, db, username: str):
    """A test client signed in as `username` (the session a login leaves), without hashing a password."""
    from app.orgs import service as orgs

    client = app.test_client()
    with client.session_transaction() as sess, db.unit_of_work() as s:
        user = orgs.user_by_name(s, username)
        sess.update(uid=user.id, uname=user.username, role=user.role, org=user.org_unit.name,
                        epoch=user.session_epoch or 0, since=int(clock.now().timestamp()))
    return client


def cost(db, ask) -> tuple[int, object]:
    """Statements of `ask()` asked a second time: the first may look its token up (kept TOKEN_CACHE_SECONDS)."""
    ask()
    with counted(db.engine) as seen:
        resp = ask()
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    return len(seen), resp


def overdue_case_with_notices(world, app) -> str:
    """A case past its promised limit, its deadline notices raised (to `acc` and the supervisors)."""
    no = world.new_case()["case_no"]
    clock.advance(timedelta(days=30))
    worker.sweep(app.extensions["sunlight.db"], app.extensions["sunlight.settings"])
    return no


# --- the clerk's worklist ------------------------------------------------------------------------------------
def test_the_worklist_api_costs_the_same_for_three_or_three_hundred_ready_steps(world, app, db):
    no = world.new_case()["case_no"]
    clone_cases(db, no, 2, suspended_every=2)
    auth = {"Authorization": f"Bearer {world.tokens['acc']}"}
    client = app.test_client()
    few, resp = cost(db, lambda: client.get("/api/v1/tasks", headers=auth))
    assert len(resp.get_json()) == 3 and resp.headers["X-Total-Count"] == "3"
    clone_cases(db, no, LONG, suspended_every=7)
    many, resp = cost(db, lambda: client.get("/api/v1/tasks", headers=auth))
    assert many == few + 1 <= 4, (few, many)  # a full first page also counts the steps
    assert len(resp.get_json()) == 200 and resp.headers["X-Total-Count"] == str(LONG + 3)
    assert 'rel="next"' in resp.headers["Link"]
    deeper, resp = cost(db, lambda: client.get("/api/v1/tasks?page=2", headers=auth))
    assert deeper == many + 1 and len(resp.get_json()) == LONG + 3 - 200, deeper  # ids on the index, then rows


def test_the_worklist_api_pages_through_every_ready_step_once(world, app, db):
    no = world.new_case()["case_no"]
    clone_cases(db, no, 24)
    seen, page = [], 1
    while True:
        status, body = world.api.get(f"/api/v1/tasks?per_page=10&page={page}", "acc")
        assert status == 200 and len(body) <= 10
        if not body:
            break
        seen += [t["task_id"] for t in body]
        page += 1
    assert len(seen) == len(set(seen)) == 25 and page == 4


@pytest.mark.parametrize("query", ["per_page=201", "per_page=0", "per_page=x", "page=0", "page=-1", "page=100001"])
def test_worklist_paging_out_of_range_is_refused(world, query):
    status, body = world.api.get(f"/api/v1/tasks?{query}", "acc")
    malformed = query.endswith("=x")  # not a number at all: 400 malformed; out of range: 422 invalid
    assert status == (400 if malformed else 422) and body["error"]["code"] == ("malformed" if malformed else "invalid")


def test_the_work_page_costs_the_same_for_three_or_three_hundred_ready_steps(world, app, db):
    no = world.new_case()["case_no"]
    clone_cases(db, no, 2, suspended_every=2)
    page = browser(app, db, "acc")
    few, _ = cost(db, lambda: page.get("/work"))
    clone_cases(db, no, LONG, suspended_every=7)
    many, resp = cost(db, lambda: page.get("/work"))
    assert many == few, (few, many)
    html = resp.get_data(as_text=True)
    assert html.count('<tr class="row-') <= 200


def steps_off_their_case_clock(db) -> list:
    """Open steps whose copy of their case's clock (what the /work page orders by) differs from the case's."""
    from sqlalchemy import select

    from app.cases.models import Case, CaseTask

    with db.unit_of_work() as s:
        rows = s.execute(select(Case.case_no, Case.status, Case.promised_due_at, CaseTask.bpmn_id,
                                CaseTask.case_stopped, CaseTask.case_due_at)
                         .join(CaseTask, CaseTask.case_id == Case.id).where(CaseTask.state.in_(("ready", "waiting"))))
        return [tuple(r) for r in rows if r.case_stopped != (r.status != "running") or r.case_due_at != r.promised_due_at]


def test_the_steps_carry_their_case_clock_through_every_change(world, app, db):
    """The case's status and promised limit, copied onto its steps, follow every writer in the same transaction:
    an action (steps in hand), a clock stop and its end, a recount of the item's cases and a calendar edit (steps
    not loaded), the worker, an ending."""
    no = world.new_case()["case_no"]
    other = world.new_case()["case_no"]
    assert steps_off_their_case_clock(db) == []
    with db.unit_of_work() as s:
        from sqlalchemy import select

        from app.cases.models import Case, CaseTask
        due, stopped = s.execute(select(CaseTask.case_due_at, CaseTask.case_stopped).join(Case)
                                 .where(Case.case_no == no, CaseTask.state == "ready")).one()
        assert due is not None and stopped is False  # the licensing demo's clock runs from registration
    world.complete(world.api.get(f"/api/v1/cases/{no}", "acc")[1], "Task_accept", "acc")
    assert steps_off_their_case_clock(db) == []
    status, body = world.api.post(f"/api/v1/cases/{no}/suspend", "acc", {
        "kind": "supplement", "reason": "材料不全", "missing_materials": ["营业执照复印件"]})
    assert status == 200 and body["status"] == "suspended", body
    assert steps_off_their_case_clock(db) == []
    clock.advance(timedelta(days=3))
    status, body = world.api.post(f"/api/v1/cases/{no}/resume", "acc", {"note": "已补正"})
    assert status == 200 and body["status"] == "running", body
    assert steps_off_their_case_clock(db) == []
    status, item = world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "designer", json={"promised_days": 3})
    assert status == 200 and item["recomputed_cases"] == 2, item
    assert steps_off_their_case_clock(db) == []
    year = world.api.get("/api/v1/calendar/2026", "acc")[1]
    later = [d for d in ("2026-06-24", "2026-06-25", "2026-06-26") if d not in year["holidays"]]
    status, body = world.api.call("PUT", "/api/v1/calendar/2026", "admin",
                                  json={"holidays": year["holidays"] + later, "workdays": year["workdays"]})
    assert status == 200, body
    assert steps_off_their_case_clock(db) == []
    clock.advance(timedelta(days=30))
    worker.sweep(app.extensions["sunlight.db"], app.extensions["sunlight.settings"])
    assert steps_off_their_case_clock(db) == []
    assert world.api.post(f"/api/v1/cases/{other}/withdraw", "acc", {"reason": "申请人撤回"})[0] == 200
    assert steps_off_their_case_clock(db) == []


# --- notices -------------------------------------------------------------------------------------------------
def test_the_notices_api_is_paged_by_a_cursor_oldest_first(world, app, db):
    no = overdue_case_with_notices(world, app)
    clone_cases(db, no, 12, notices=True)
    seen, link = [], "/api/v1/notices?limit=5"
    client, auth = app.test_client(), {"Authorization": f"Bearer {world.tokens['sup']}"}
    while link:
        resp = client.get(link, headers=auth)
        assert resp.status_code == 200
        body = resp.get_json()
        assert len(body) <= 5
        seen += [n["id"] for n in body]
        nxt = resp.headers.get("Link", "")
        link = nxt[nxt.index("<") + 1:nxt.index(">")] if 'rel="next"' in nxt else None
    assert seen == sorted(seen) and len(seen) == len(set(seen))
    status, everything = world.api.get("/api/v1/notices", "sup")
    assert status == 200 and [n["id"] for n in everything] == seen  # the default page holds them all


@pytest.mark.parametrize("query", ["limit=201", "limit=0", "limit=abc", "after=-1", "after=x"])
def test_notice_paging_out_of_range_is_refused(world, query):
    status, body = world.api.get(f"/api/v1/notices?{query}", "sup")
    malformed = query.endswith(("=abc", "=x"))  # not a number at all: 400 malformed; out of range: 422 invalid
    assert status == (400 if malformed else 422) and body["error"]["code"] == ("malformed" if malformed else "invalid")


def test_the_notices_api_costs_the_same_for_a_few_or_three_hundred_notices(world, app, db):
    no = overdue_case_with_notices(world, app)
    clone_cases(db, no, 2, notices=True)
    client = app.test_client()
    for user in ("sup", "sup01", "acc"):
        auth = {"Authorization": f"Bearer {world.tokens[user]}"}
        few, _ = cost(db, lambda: client.get("/api/v1/notices", headers=auth))
        assert few <= 6, (user, few)
    clone_cases(db, no, LONG, notices=True)
    for user in ("sup", "sup01", "acc"):
        auth = {"Authorization": f"Bearer {world.tokens[user]}"}
        many, resp = cost(db, lambda: client.get("/api/v1/notices", headers=auth))
        assert many <= 6 and len(resp.get_json()) == 200, (user, many)


def test_a_department_supervisor_sees_only_notices_of_their_scope(world, app, db):
    no = overdue_case_with_notices(world, app)
    own = len(world.api.get("/api/v1/notices", "sup01")[1])
    clone_cases(db, no, 3, notices=True)
    assert own and len(world.api.get("/api/v1/notices", "sup01")[1]) == own + 3
    assert world.api.get("/api/v1/notices", "sup02")[1] == []
    status, only = world.api.get(f"/api/v1/notices?case_no={no}", "sup")
    assert status == 200 and {n["case_no"] for n in only} == {no}


# --- the supervision board -----------------------------------------------------------------------------------
def test_the_board_costs_the_same_for_a_few_or_three_hundred_carded_cases(world, app, db, monkeypatch):
    from app.supervision import service

    monkeypatch.setattr(service, "SLOW_STATISTICS", float("inf"))  # counted afresh each time: comparable
    no = overdue_case_with_notices(world, app)
    clone_cases(db, no, 2, suspended_every=2, notices=True)
    page = browser(app, db, "sup")
    few, _ = cost(db, lambda: page.get("/supervision"))
    clone_cases(db, no, LONG, suspended_every=7, notices=True)
    many, resp = cost(db, lambda: page.get("/supervision"))
    assert many == few, (few, many)


def test_a_carded_case_under_an_open_order_shows_it_on_the_board_whatever_the_orders_listed(world, app, db,
                                                                                           monkeypatch):
    """The card's order is looked up for the page's cases, not among the open orders listed beside the cards
    (only the first of the scope's): with none listed, the card still shows its order and no second form."""
    from app.web import pages_supervision

    no = overdue_case_with_notices(world, app)
    due = (clock.now() + timedelta(days=3)).isoformat()
    status, order = world.api.post("/api/v1/orders", "sup", {"case_no": no, "instruction": "请说明", "due_at": due})
    assert status == 201, order
    monkeypatch.setattr(pages_supervision, "ORDERS_SHOWN", 0)
    html = browser(app, db, "sup").get("/supervision").get_data(as_text=True)
    row = next(r for r in html.split('id="cards"')[1].split("</table>")[0].split("<tr") if no in r)
    assert order["order_no"] in row and 'name="instruction"' not in row


def test_the_board_api_pages_carded_cases_in_scope(world, app, db):
    no = overdue_case_with_notices(world, app)
    clone_cases(db, no, 14, suspended_every=5)
    seen, page = [], 1
    while True:
        status, body = world.api.get(f"/api/v1/board?per_page=4&page={page}", "sup")
        assert status == 200, body
        if not body["cases"]:
            break
        assert len(body["cases"]) <= 4 and body["total"] == 15
        seen += [c["case_no"] for c in body["cases"]]
        page += 1
    assert len(seen) == len(set(seen)) == 15
    first = world.api.get("/api/v1/board", "sup")[1]["cases"][0]
    assert first["card"] in ("warning", "yellow", "red") and first["steps"] and "remaining_days" in first
    assert world.api.get("/api/v1/board", "sup02")[1]["total"] == 0
    assert world.api.get("/api/v1/board?department=CA02", "sup")[1]["total"] == 0
    assert world.api.get("/api/v1/board?department=CA01", "sup01")[1]["total"] == 15
    assert world.api.get("/api/v1/board", "acc")[0] == 403
    assert world.api.get("/api/v1/board?per_page=500", "sup")[0] == 422


def test_the_board_api_costs_the_same_for_a_few_or_three_hundred_cases(world, app, db):
    no = overdue_case_with_notices(world, app)
    clone_cases(db, no, 2, suspended_every=2)
    client, auth = app.test_client(), {"Authorization": f"Bearer {world.tokens['sup']}"}
    few, _ = cost(db, lambda: client.get("/api/v1/board", headers=auth))
    clone_cases(db, no, LONG, suspended_every=7)
    many, resp = cost(db, lambda: client.get("/api/v1/board?per_page=200", headers=auth))
    assert many == few <= 7 and len(resp.get_json()["cases"]) == 200, (few, many)


def test_statistics_are_counted_in_sql_per_department(world, app, db):
    no = overdue_case_with_notices(world, app)
    clone_cases(db, no, 9, notices=True)
    status, body = world.api.get("/api/v1/statistics", "sup")
    assert status == 200, body
    ca01 = next(d for d in body["departments"] if d["code"] == "CA01")
    assert ca01["cases"] == 10 and ca01["cards"] == 10 and ca01["completed"] == 0
    assert sum(m["warning"] + m["yellow"] + m["red"] for m in body["months"]) >= 10
    assert world.api.get("/api/v1/statistics", "sup02")[1]["departments"] == []
    assert world.api.get("/api/v1/statistics", "acc")[0] == 403


def test_slow_statistics_are_kept_a_minute_and_say_when_they_were_counted(world, app, db, monkeypatch):
    from app.supervision import service

    no = overdue_case_with_notices(world, app)
    monkeypatch.setattr(service, "SLOW_STATISTICS", -1.0)  # every count is "slow" here
    first = world.api.get("/api/v1/statistics", "sup")[1]
    clone_cases(db, no, 4)
    kept = world.api.get("/api/v1/statistics", "sup")[1]
    assert kept == first and kept["as_of"]
    monkeypatch.setattr(service, "STATISTICS_KEPT", 0.0)
    fresh = world.api.get("/api/v1/statistics", "sup")[1]
    assert next(d for d in fresh["departments"] if d["code"] == "CA01")["cases"] == 5
