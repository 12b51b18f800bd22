"""The working-day calendar page (/calendar, admins) with Flask's test client: the year as twelve months, paste →
parse → review → save through the same service as the API (audited, deadlines moved), and hostile input refused
with a 4xx page, never a 500."""
from __future__ import annotations

import html
import re
from datetime import datetime, timezone

import pytest
from sqlalchemy import select

from app import clock
from app.audit.models import AuditEvent
from tests.e2e.ui_support import csrf_of, give_passwords, login, ui_app  # noqa: F401
from tests.notices import MADE_UP_2027_HOLIDAYS, MADE_UP_2027_WORKDAYS, NOTICE_2026, NOTICE_2027_MADE_UP
from tests.world import ITEM, LICENSING, build_world, deploy_item

UNKNOWN = 2027  # not in the pinned chinesecalendar package: the test database does not have it
FROZEN = datetime(2026, 12, 14, 1, 0, tzinfo=timezone.utc)  # Monday 14 December 2026, 09:00 in Beijing


@pytest.fixture
def world(ui_app):
    import chinese_calendar

    assert UNKNOWN not in {d.year for d in chinese_calendar.holidays}, "pick a year the package does not know"
    clock.travel_to(FROZEN)
    built = build_world(ui_app, deploy=False)  # the one test that needs a case deploys the item itself
    give_passwords(ui_app)
    return built


@pytest.fixture
def admin(ui_app, world):
    client = ui_app.test_client()
    assert login(client, "admin").status_code == 302
    return client


def page(client, path="/calendar", status=200):
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


def cell(text: str, day: str) -> str:
    """The class of the grid cell of `day`."""
    return re.search(rf'<td class="([^"]*)" data-day="{day}"', text).group(1)


def textarea(text: str, name: str) -> str:
    return html.unescape(re.search(rf'<textarea name="{name}"[^>]*>(.*?)</textarea>', text, re.S).group(1))


def post(client, path, data, token):
    return client.post(path, data={"csrf_token": token, **data})


def calendar_events(ui_app):
    with ui_app.extensions["sunlight.db"].unit_of_work() as s:
        return [(e.actor, e.detail) for e in s.scalars(select(AuditEvent).where(AuditEvent.action == "calendar_updated")
                                                       .order_by(AuditEvent.seq))]


def test_the_admin_sees_a_seeded_year_as_twelve_months(admin):
    text = page(admin, "/calendar?year=2026")
    assert text.count('<table class="month"') == 12 and text.count("<caption>") == 12
    assert cell(text, "2026-10-01") == "d-holiday" and cell(text, "2026-10-10") == "d-workday"
    assert cell(text, "2026-10-03") == "d-weekend" and cell(text, "2026-10-09") == "d-normal"
    assert 'id="source">chinesecalendar<' in text and 'id="updated-at"' in text
    assert 'id="not-entered"' not in text
    assert 'href="/calendar"' in text  # in the admin's navigation
    # Without a year: the current year by the service clock; the next one offered, marked as not entered.
    text = page(admin)
    assert '<option value="2026" selected>' in text and re.search(r'<option value="2027" >2027 · 未录入', text)
    assert all(f'<option value="{y}"' in text for y in range(2004, 2027))  # every stored year


def test_a_year_not_entered_carries_a_banner_in_either_language(admin):
    text = page(admin, f"/calendar?year={UNKNOWN}")
    assert 'id="not-entered"' in text and "尚未录入" in text and "暂定" in text
    assert 'class="d-holiday' not in text and cell(text, "2027-01-01") == "d-normal"
    text = page(admin, f"/calendar?year={UNKNOWN}&lang=en")
    assert "Working-day calendar" in text and "have not been entered yet" in text and "provisional" in text
    assert "<caption>January</caption>" in text and "<th>Mon</th>" in text and "尚未录入" not in text
    assert '>Parse</button>' in text and '>Save</button>' in text


def test_other_roles_are_refused_like_other_admin_pages(ui_app, world):
    anonymous = ui_app.test_client()
    response = anonymous.get("/calendar")
    assert response.status_code == 302 and "/login?next=/calendar" in response.headers["Location"]
    for username in ("acc", "sup", "legal", "designer"):
        client = ui_app.test_client()
        login(client, username)
        token = csrf_of(client.get("/login").get_data(as_text=True))
        assert client.get("/calendar").status_code == 403, username
        assert post(client, "/calendar/parse", {"year": "2026", "text": NOTICE_2026}, token).status_code == 403
        assert post(client, "/calendar/save", {"year": "2026", "holidays": "", "workdays": "",
                                               "source": "x"}, token).status_code == 403
        assert 'href="/calendar"' not in client.get("/").get_data(as_text=True)
    assert world.api.get("/api/v1/calendar/2026", "acc")[1]["source"] == "chinesecalendar"  # untouched


def test_paste_parse_review_and_save_moves_the_deadlines_and_is_audited(ui_app, world, admin):
    world.definition_id = deploy_item(world, ITEM, LICENSING)
    case = world.new_case()  # 20 working days (statutory) from 14 December run into January 2027
    assert case["deadlines"]["statutory_due_at"] == "2027-01-11T23:59:59+08:00"  # weekends alone: 1 January counted
    assert case["deadlines"]["calendar_complete"] is False
    token = csrf_of(page(admin))

    response = post(admin, "/calendar/parse", {"year": str(UNKNOWN), "text": NOTICE_2027_MADE_UP}, token)
    text = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'id="review"' in text and 'id="problems"' not in text
    assert "2027-01-01" in re.search(r'<tr class="change-added_holidays">(.*?)</tr>', text, re.S).group(1)
    assert text.count("<tr><td>") >= 7 and "国庆节" in text  # one row per festival
    assert "d-holiday d-changed" in cell(text, "2027-10-04") and "d-workday d-changed" in cell(text, "2027-10-09")
    assert cell(text, "2027-10-02") == "d-holiday"  # a Saturday in the span: shown, though never stored
    holidays, workdays = textarea(text, "holidays").split(), textarea(text, "workdays").split()
    assert holidays == MADE_UP_2027_HOLIDAYS and workdays == MADE_UP_2027_WORKDAYS
    assert world.api.get(f"/api/v1/calendar/{UNKNOWN}", "admin")[1]["known"] is False  # parsing saved nothing

    source = re.search(r'<input name="source" value="([^"]*)"', text).group(1)
    response = post(admin, "/calendar/save", {"year": str(UNKNOWN), "holidays": "\n".join(holidays),
                                              "workdays": "\r\n".join(workdays), "source": source}, token)
    assert response.status_code == 302 and response.headers["Location"] == f"/calendar?year={UNKNOWN}"
    text = page(admin, response.headers["Location"])
    assert "1 个在办件" in text and 'id="not-entered"' not in text
    assert f'id="source">国务院办公厅关于{UNKNOWN}年部分节假日安排的通知<' in text
    assert cell(text, "2027-01-01") == "d-holiday" and cell(text, "2027-01-31") == "d-workday"

    stored = world.api.get(f"/api/v1/calendar/{UNKNOWN}", "admin")[1]
    assert stored["known"] and stored["holidays"] == MADE_UP_2027_HOLIDAYS
    assert stored["workdays"] == MADE_UP_2027_WORKDAYS
    [(actor, detail)] = calendar_events(ui_app)
    assert actor == "admin" and detail["year"] == UNKNOWN and detail["holidays"] == 18 and detail["workdays"] == 6
    deadlines = world.api.get(f"/api/v1/cases/{case['case_no']}", "acc")[1]["deadlines"]
    assert deadlines["statutory_due_at"] == "2027-01-12T23:59:59+08:00" and deadlines["calendar_complete"] is True

    # Parsing the same notice again: nothing left to change.
    text = post(admin, "/calendar/parse", {"year": str(UNKNOWN), "text": NOTICE_2027_MADE_UP}, token).get_data(True)
    assert 'id="changes"' in text and "与已保存的日历相同" in text and not re.search(r'<td class="[^"]*d-changed', text)


def test_the_plain_editor_corrects_single_dates(ui_app, world, admin):
    token = csrf_of(page(admin, "/calendar?year=2026"))
    text = page(admin, "/calendar?year=2026")
    holidays, workdays = textarea(text, "holidays").split(), textarea(text, "workdays").split()
    assert "2026-10-01" in holidays and "2026-10-10" in workdays
    response = post(admin, "/calendar/save", {"year": "2026", "holidays": "\n".join(holidays + ["2026-12-31"]),
                                              "workdays": ", ".join(workdays + ["2026-12-26"]),  # a list works too
                                              "source": "区政府办公室通知"}, token)
    assert response.status_code == 302
    text = page(admin, "/calendar?year=2026")
    assert "0 个在办件" in text and 'id="source">区政府办公室通知<' in text
    assert cell(text, "2026-12-31") == "d-holiday" and cell(text, "2026-12-26") == "d-workday"
    assert [d["previous_source"] for _a, d in calendar_events(ui_app)] == ["chinesecalendar"]
    # A weekend holiday changes nothing: kept out, and said so.
    response = post(admin, "/calendar/save", {"year": "2026", "holidays": "\n".join(holidays + ["2026-12-27"]),
                                              "workdays": "\n".join(workdays), "source": "x"}, token)
    assert "2026-12-27" in page(admin, response.headers["Location"]) and response.status_code == 302


@pytest.mark.parametrize("data, status, says", [
    ({"year": "2026", "text": ""}, 422, "不能为空"),
    ({"year": "2026"}, 422, "不能为空"),
    ({"year": "2026", "text": "1月1日\x00放假"}, 422, "控制字符"),
    ({"year": "2026", "text": "一" * 20_001}, 413, "20000"),
    ({"year": str(UNKNOWN), "text": NOTICE_2026}, 422, "粘贴的是 2026 年的通知"),
    ({"year": "abc", "text": NOTICE_2026}, 422, "year"),
    ({"year": "1999", "text": NOTICE_2026}, 422, "year"),
    ({"text": NOTICE_2026}, 422, "year"),
])
def test_hostile_parse_input_is_a_4xx_page(admin, data, status, says):
    token = csrf_of(page(admin))
    response = post(admin, "/calendar/parse", data, token)
    assert response.status_code == status and says in response.get_data(as_text=True)


def test_what_cannot_be_read_is_shown_for_review_and_escaped(admin):
    token = csrf_of(page(admin))
    garbage = "<script>alert(1)</script>\n春节：2月15日至23日放假调休，共8天。\n国庆节：10月8日（周四）上班。"
    response = post(admin, "/calendar/parse", {"year": "2026", "text": garbage}, token)
    text = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="problems"' in text
    assert "通知写的是共 8 天，按日期算是 9 天。" in text and "2026-10-08 是工作日，本来就上班。" in text
    assert "<script>alert(1)</script>" not in text and "&lt;script&gt;" in text
    text = post(admin, "/calendar/parse?lang=en", {"year": "2026", "text": garbage}, token).get_data(as_text=True)
    assert "The notice says 8 days; its dates make 9." in text


@pytest.mark.parametrize("lists, says", [
    ({"holidays": "2026-10-01\n2026-13-01"}, "第 2 个“2026-13-01”不是 2026 年的日期"),
    ({"holidays": "2025-10-01"}, "“2025-10-01”不是 2026 年的日期"),
    ({"holidays": "20261001"}, "不是 2026 年的日期"),
    ({"holidays": "2026-10-10", "workdays": "2026-10-10"}, "2026-10-10 不能既放假又上班"),
    ({"holidays": "\n".join(["2026-01-01"] * 367)}, "最多 366 个"),
    ({"holidays": "2026-10-01", "source": ""}, "来源"),
    ({"holidays": "2026-10-01", "source": "长" * 101}, "来源"),
])
def test_hostile_edits_are_refused_with_the_form_kept_and_nothing_stored(ui_app, world, admin, lists, says):
    token = csrf_of(page(admin))
    data = {"year": "2026", "holidays": "", "workdays": "", "source": "管理员", **lists}
    response = post(admin, "/calendar/save", data, token)
    text = response.get_data(as_text=True)
    assert response.status_code == 422 and says in text, text[-3000:]
    if len(data["holidays"]) < 100:
        assert textarea(text, "holidays").split() == data["holidays"].split()  # kept for correction
    assert calendar_events(ui_app) == []
    assert world.api.get("/api/v1/calendar/2026", "acc")[1]["source"] == "chinesecalendar"


@pytest.mark.parametrize("path", ["/calendar?year=abc", "/calendar?year=99999", "/calendar?year=-1",
                                  "/calendar?year=", "/calendar?year=2026.5"])
def test_a_bad_year_in_the_address_is_a_4xx_page(admin, path):
    response = admin.get(path)
    assert 400 <= response.status_code < 500 and "<html" in response.get_data(as_text=True)


def test_save_with_a_bad_year_is_a_4xx_page(ui_app, world, admin):
    token = csrf_of(page(admin))
    for year in ("abc", "1999", ""):
        response = post(admin, "/calendar/save", {"year": year, "holidays": "2026-10-01", "source": "x"}, token)
        assert response.status_code == 422, year
    assert calendar_events(ui_app) == []
