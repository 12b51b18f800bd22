"""POST /api/v1/calendar/{year}/parse: the pasted yearly notice read into dates and compared with the stored year
(admins only); nothing is saved; bad input is a 4xx in the project's error shape. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from app import clock
from tests.notices import MADE_UP_2027_HOLIDAYS, MADE_UP_2027_WORKDAYS, NOTICE_2026, NOTICE_2027_MADE_UP
from tests.world import build_world

UNKNOWN = 2027  # not in the pinned chinesecalendar package: no test database has it


@pytest.fixture
def world(app):
    import chinese_calendar

    assert UNKNOWN not in {d.year for d in chinese_calendar.holidays}, "pick a year the package does not know"
    clock.travel_to(datetime(2026, 12, 14, 1, 0, tzinfo=timezone.utc))  # a Monday, 09:00 in Beijing
    return build_world(app, deploy=False)


def parse(world, year, body, user="admin", **kw):
    return world.api.post(f"/api/v1/calendar/{year}/parse", user, body, **kw)


def assert_error(status, body, expect_status, code=None, field=None):
    assert status == expect_status, body
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    if code:
        assert body["error"]["code"] == code, body
    if field:
        assert {"field": field}.items() <= body["error"]["details"][0].items(), body


def test_the_notice_for_a_seeded_year_changes_nothing(world):
    status, body = parse(world, 2026, {"text": NOTICE_2026})
    assert status == 200, body
    assert set(body) == {"year", "holidays", "workdays", "entries", "problems", "changes"}
    assert body["year"] == 2026 and body["problems"] == []
    assert body["changes"] == {"added_holidays": [], "removed_holidays": [], "added_workdays": [],
                               "removed_workdays": []}
    assert "2026-10-03" in body["holidays"] and "2026-10-10" in body["workdays"]  # whole spans; make-up days
    assert [e["name"] for e in body["entries"]][-1] == "国庆节"
    assert body["entries"][1]["workdays"] == ["2026-02-14", "2026-02-28"] and body["entries"][1]["source"]


def test_a_changed_notice_shows_the_differences_as_storage_keeps_them(world):
    text = NOTICE_2026.replace("10月1日（周四）至7日（周三）放假调休，共7天。9月20日（周日）、10月10日（周六）上班。",
                               "10月1日（周四）至8日（周四）放假调休，共8天。9月20日（周日）上班。")
    assert text != NOTICE_2026
    status, body = parse(world, 2026, {"text": text})
    assert status == 200 and body["problems"] == [], body
    assert body["changes"] == {"added_holidays": ["2026-10-08"], "removed_holidays": [], "added_workdays": [],
                               "removed_workdays": ["2026-10-10"]}


def test_a_year_not_entered_is_all_additions_and_nothing_is_saved(world):
    status, body = parse(world, UNKNOWN, {"text": NOTICE_2027_MADE_UP})
    assert status == 200 and body["problems"] == [], body
    assert body["changes"] == {"added_holidays": MADE_UP_2027_HOLIDAYS, "removed_holidays": [],
                               "added_workdays": MADE_UP_2027_WORKDAYS, "removed_workdays": []}
    status, stored = world.api.get(f"/api/v1/calendar/{UNKNOWN}", "admin")
    assert status == 200 and stored["known"] is False and stored["holidays"] == []


def test_what_cannot_be_read_comes_back_as_problems(world):
    status, body = parse(world, 2026, {"text": "春节：2月15日至23日放假调休，共8天。\n一、元旦：放假一天。"})
    assert status == 200, body
    assert [p["code"] for p in body["problems"]] == ["count_mismatch", "not_understood", "no_dates"]
    assert all({"code", "text", "message", "params"} == set(p) for p in body["problems"])
    status, body = parse(world, 2026, {"text": "<script>alert(1)</script> ' OR 1=1 --"})
    assert status == 200 and body["holidays"] == [] and [p["code"] for p in body["problems"]] == ["nothing_found"]


def test_only_admins_parse(world):
    for user in ("acc", "sup", "legal", "designer"):
        assert_error(*parse(world, 2026, {"text": NOTICE_2026}, user), 403, "forbidden")
    assert_error(*parse(world, 2026, {"text": NOTICE_2026}, None), 401)


@pytest.mark.parametrize("body, field", [
    ({}, "text"), ({"text": ""}, "text"), ({"text": "  \n "}, "text"), ({"text": "1月1日\x00放假"}, "text"),
])
def test_bad_text_is_422_naming_the_field(world, body, field):
    assert_error(*parse(world, 2026, body), 422, "invalid", field)


@pytest.mark.parametrize("body", [{"text": None}, {"text": 42}, {"text": ["一、元旦：1月1日放假"]}])
def test_text_that_is_not_text_is_400_naming_the_field(world, body):
    assert_error(*parse(world, 2026, body), 400, "malformed", "text")


def test_too_long_a_text_is_422(world):  # the document's maxLength, refused by the validation layer
    assert_error(*parse(world, 2026, {"text": "一" * 20_001}), 422, "invalid", "text")
    status, _body = parse(world, 2026, {"text": ("一、元旦：1月1日（周四）放假1天。" + " " * 20_000)[:20_000]})
    assert status == 200


def test_the_year_in_the_text_must_be_the_paths(world):
    status, body = parse(world, UNKNOWN, {"text": NOTICE_2026})
    assert_error(status, body, 422, "year_mismatch", "text")
    assert body["error"]["details"][0]["text_year"] == 2026
    assert_error(*parse(world, 1999, {"text": NOTICE_2026}), 422, "invalid", "year")


def test_a_body_that_is_not_a_json_object(world):
    assert_error(*world.api.call("POST", "/api/v1/calendar/2026/parse", "admin", data="text=x",
                                 ctype="application/x-www-form-urlencoded"), 415)
    assert_error(*world.api.call("POST", "/api/v1/calendar/2026/parse", "admin", data="{oops",
                                 ctype="application/json"), 400)
    assert_error(*world.api.call("POST", "/api/v1/calendar/2026/parse", "admin", json=["text"]), 400)
    assert world.api.get("/api/v1/calendar/2026/parse", "admin")[0] == 405
