"""Staff case search: by number, applicant name (its beginning), ID number or phone, filtered and paged, scoped."""
from __future__ import annotations

from datetime import timedelta

import pytest

from app import clock
from tests.world import build_world


@pytest.fixture
def world(app, frozen_now):
    world = build_world(app)
    people = [("张三", "320102199001011234", "13800000001"), ("张三丰", "320102199001015678", "13800000002"),
              ("李四", "320102199002021111", "13900000003"), ("50%_公司", "91320200MA1XXXXX0Y", "0510-8270")]
    world.made = []
    for name, id_number, phone in people:
        clock.advance(timedelta(hours=1))
        status, case = world.api.post("/api/v1/cases", "acc", {
            "item_code": "CA01-XK-0001", "applicant": {"name": name, "id_number": id_number, "phone": phone}})
        assert status == 201, case
        world.made.append(case["case_no"])
    return world


def found(world, query, user="acc"):
    status, body = world.api.get(f"/api/v1/cases?{query}", user)
    assert status == 200, body
    return [c["case_no"] for c in body["cases"]], body


def test_search_by_number_name_id_number_and_phone_newest_first(world):
    a, b, c, d = world.made
    assert found(world, "q=" + a)[0] == [a]
    assert found(world, "q=张三")[0] == [b, a]  # the name's beginning, newest first
    assert found(world, "q=320102199002021111")[0] == [c]
    assert found(world, "q=1234")[0] == []  # an ID number only whole: no enumerating people
    assert found(world, "q=13800000002")[0] == [b]
    nos, body = found(world, "")
    assert nos == [d, c, b, a] and body["total"] == 4
    row = body["cases"][0]
    assert set(row) == {"case_no", "item_code", "item_name", "status", "card", "created_at", "applicant_name"}
    assert row["applicant_name"] == "50%_公司" and row["item_code"] == "CA01-XK-0001"


def test_percent_and_underscore_are_searched_as_themselves(world):
    assert found(world, "q=%25")[0] == []
    assert found(world, "q=_")[0] == []
    assert found(world, "q=50%25_")[0] == [world.made[3]]


def test_filters_and_pages(world):
    a, b, c, d = world.made
    world.api.post(f"/api/v1/cases/{a}/withdraw", "acc", {"reason": "申请人撤回"})
    assert found(world, "status=withdrawn")[0] == [a]
    assert found(world, "status=running&per_page=2&page=2")[0] == [b]
    nos, body = found(world, "status=running&per_page=2")
    assert nos == [d, c] and body["total"] == 3
    assert found(world, "item_code=NOPE")[0] == []
    assert found(world, "card=none&q=李四")[0] == [c]
    assert found(world, "from=2026-03-02&to=2026-03-02")[1]["total"] == 4
    assert found(world, "from=2026-03-03")[1]["total"] == 0


def test_another_department_never_finds_them(world):
    assert found(world, "q=张三", user="outsider")[0] == []
    assert found(world, "", user="sup02")[1]["total"] == 0
    assert found(world, "q=张三", user="sup")[0] == [world.made[1], world.made[0]]  # the district sees all


@pytest.mark.parametrize("query, field", [("q=" + "长" * 101, "q"), ("q=%00", "q"), ("status=sleeping", "status"),
                                          ("card=purple", "card"), ("per_page=201", "per_page"), ("page=0", "page"),
                                          ("from=2026-13-01", "from"), ("to=yesterday", "to")])
def test_bad_search_parameters_are_refused_naming_them(world, query, field):
    status, body = world.api.get(f"/api/v1/cases?{query}", "acc")
    assert status in (400, 422) and body["error"]["details"][0]["field"] == field, body


def test_the_search_page_and_its_csv_export(world, app):
    from tests.e2e.ui_support import give_passwords, login

    give_passwords(app)
    client = app.test_client()
    login(client, "acc")
    html = client.get("/cases?q=张三").get_data(as_text=True)
    assert 'class="header-search"' in html and world.made[1] in html and world.made[0] in html
    assert world.made[2] not in html.split('id="results"')[1]
    html = client.get("/cases?per_page=999").get_data(as_text=True)  # told, and the first page shown
    assert 'id="results"' in html
    csv_text = client.get("/cases.csv?q=50%25").get_data(as_text=True)
    assert csv_text.splitlines()[0].lstrip("\ufeff") == "case_no,item_code,item_name,status,card,created_at,applicant_name"
    assert len(csv_text.splitlines()) == 2 and "50%_公司" in csv_text
    login(client, "outsider")
    assert world.made[0] not in client.get("/cases.csv").get_data(as_text=True)


def test_the_item_picker_lists_the_units_active_items_most_accepted_lately_first(app, frozen_now):
    from app.cases.search import RECENT_DAYS, items_to_accept
    from app.orgs.models import User
    from tests.world import ITEM, LICENSING, deploy_item

    world = build_world(app)  # CA01-XK-0001, then three more items of CA01
    for code, dept in (("CA01-XK-0002", "CA01"), ("CA01-XK-0003", "CA01"), ("CA01-XK-0004", "CA01")):
        deploy_item(world, {**ITEM, "code": code, "department": dept}, LICENSING)
    clock.advance(-timedelta(days=RECENT_DAYS + 5))  # long ago, 0001 was the busy one
    for _ in range(3):
        assert world.api.post("/api/v1/cases", "acc", {"item_code": "CA01-XK-0001", "applicant": {"name": "甲"}})[0] == 201
    clock.advance(timedelta(days=RECENT_DAYS + 5))  # today: those three are out of the window
    for code, n in (("CA01-XK-0003", 2), ("CA01-XK-0002", 1)):
        for _ in range(n):
            assert world.api.post("/api/v1/cases", "acc", {"item_code": code, "applicant": {"name": "乙"}})[0] == 201
    assert world.api.post("/api/v1/items/CA01-XK-0004/suspend", "admin", {"reason": "法律依据修订"})[0] == 200
    with app.extensions["sunlight.db"].unit_of_work() as s:
        clerk = s.query(User).filter_by(username="acc").one()
        codes = [code for code, _name in items_to_accept(s, clerk)]
    assert codes == ["CA01-XK-0003", "CA01-XK-0002", "CA01-XK-0001"]  # the suspended 0004 is not offered
