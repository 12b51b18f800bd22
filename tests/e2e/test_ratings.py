"""好差评: five levels, one rating per completed case, by number and query code, nothing personal."""
from __future__ import annotations

import pytest

from tests.e2e.ui_support import csrf_of, ui_app, ui_world  # noqa: F401  (fixtures)
from tests.world import build_world


@pytest.fixture
def world(app, frozen_now):
    return build_world(app)


def finished_case(world):
    case = world.new_case()
    code = case["query_code"]
    case = world.complete(world.complete(world.complete(case, "Task_accept", "acc"), "Task_review", "rev",
                                         {"approved": True}, opinion="符合《食品安全法》第三十五条"), "Task_decide", "dec")
    return case["case_no"], code


def test_a_completed_case_is_rated_once(world):
    open_case = world.new_case()
    status, body = world.api.post(f"/public/api/v1/cases/{open_case['case_no']}/rating",
                                  json={"code": open_case["query_code"], "score": 5})
    assert status == 409 and body["error"]["code"] == "case_not_completed"
    no, code = finished_case(world)
    assert world.api.post(f"/public/api/v1/cases/{no}/rating", json={"code": "WRONG123", "score": 5})[0] == 404
    assert world.api.post(f"/public/api/v1/cases/{no}/rating", json={"code": code, "score": 6})[0] == 422
    assert world.api.post(f"/public/api/v1/cases/{no}/rating", json={"code": code, "score": True})[0] == 400
    status, body = world.api.post(f"/public/api/v1/cases/{no}/rating", json={"code": code, "score": 4,
                                                                             "comment": "办事效率高"})
    assert status == 201 and body["level"] == "满意"
    status, body = world.api.post(f"/public/api/v1/cases/{no}/rating", json={"code": code, "score": 1})
    assert status == 409 and body["error"]["code"] == "already_rated"
    assert world.api.get(f"/public/api/v1/cases/{no}?code={code}")[1]["rating"] == 4
    _, events = world.api.get(f"/api/v1/cases/{no}/events", "sup")
    rated = [e for e in events if e["action"] == "case_rated"]
    assert len(rated) == 1 and rated[0]["actor"] == "public" and rated[0]["detail"]["score"] == 4


def test_the_progress_page_offers_the_rating_after_completion(ui_app, ui_world):  # noqa: F811
    api = ui_world.api
    no, code = finished_case(ui_world)
    client = ui_app.test_client()
    token = csrf_of(client.get("/progress").get_data(as_text=True))
    page = client.post("/progress", data={"csrf_token": token, "case_no": no, "code": code}).get_data(as_text=True)
    assert 'id="rating-form"' in page and "非常满意" in page
    page = client.post("/progress", data={"csrf_token": token, "case_no": no, "code": code, "score": "5"})
    assert page.status_code == 200 and "感谢您的评价" in page.get_data(as_text=True)
    again = client.post("/progress", data={"csrf_token": token, "case_no": no, "code": code, "score": "1"})
    assert again.status_code == 409
    assert api.get(f"/public/api/v1/cases/{no}?code={code}")[1]["rating"] == 5


def test_supervisors_see_the_average_rating_per_department(ui_app, ui_world):  # noqa: F811
    from tests.e2e.ui_support import login

    no, code = finished_case(ui_world)
    assert ui_world.api.post(f"/public/api/v1/cases/{no}/rating", json={"code": code, "score": 4})[0] == 201
    client = ui_app.test_client()
    login(client, "sup")
    page = client.get("/supervision").get_data(as_text=True)
    assert "好差评均分" in page and "4.0（1）" in page
