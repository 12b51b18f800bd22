"""The working-day calendar in the database: read by staff, replaced by admins (API and CLI, audited), with
the open cases' deadlines moved; a year without data is flagged on the case and told to the admins once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import delete, select

from app import clock
from app.audit.models import AuditEvent
from app.calendar import service as calendar
from app.calendar.models import CalendarDay, CalendarYear
from tests.world import build_world

BJ = timezone(timedelta(hours=8))
UNKNOWN = 2027  # the chinesecalendar package in the venv knows 2004–2026 (checked by the fixture below)


def at(*args) -> datetime:
    return datetime(*args, tzinfo=BJ)


@pytest.fixture(autouse=True)
def calendar_restored(app):
    """On PostgreSQL the calendar tables outlive a test (conftest keeps them): put the seeded state back."""
    import chinese_calendar

    assert UNKNOWN not in {d.year for d in chinese_calendar.holidays}, "pick a year the package does not know"
    yield
    with app.extensions["sunlight.db"].unit_of_work() as s:
        touched = [2026, UNKNOWN, 2099, 2100]
        s.execute(delete(CalendarDay).where(CalendarDay.year.in_(touched)))
        s.execute(delete(CalendarYear).where(CalendarYear.year.in_(touched)))
        calendar.seed_from_package(s)
    calendar._loaded.clear()


@pytest.fixture
def world(app):
    clock.travel_to(at(2026, 3, 6, 9, 0))  # a Friday
    return build_world(app)


def year_of(world, year, user="acc"):
    status, body = world.api.get(f"/api/v1/calendar/{year}", user)
    assert status == 200, body
    return body


def put(world, year, body, user="admin"):
    return world.api.call("PUT", f"/api/v1/calendar/{year}", user, json=body)


def registry_events(app, action):
    with app.extensions["sunlight.db"].unit_of_work() as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.stream == "registry", AuditEvent.action == action)
                              .order_by(AuditEvent.seq)))


def test_any_staff_reads_a_seeded_year_with_national_day_and_its_make_up_days(world):
    body = year_of(world, 2026)
    assert body["known"] is True and body["source"] == "chinesecalendar" and body["updated_at"]
    for day in ("2026-10-01", "2026-10-02", "2026-10-05", "2026-10-06", "2026-10-07"):
        assert day in body["holidays"]
    assert "2026-10-03" not in body["holidays"]  # a Saturday: off anyway, not stored
    assert {"2026-09-20", "2026-10-10"} <= set(body["workdays"])  # the make-up Sunday and Saturday
    assert year_of(world, 2026, "sup") == body
    assert world.api.get("/api/v1/calendar/2026")[0] == 401


def test_a_year_nobody_entered_is_unknown_not_an_error(world):
    body = year_of(world, 2099)
    assert body == {"year": 2099, "holidays": [], "workdays": [], "source": None, "known": False, "updated_at": None}


def test_an_admin_edit_is_audited_and_moves_the_deadlines_of_open_cases(world, app):
    case = world.new_case()
    no = case["case_no"]
    assert case["deadlines"]["promised_due_at"] == "2026-03-13T23:59:59+08:00"
    seeded = year_of(world, 2026)
    clock.travel_to(at(2026, 3, 9, 10, 0))
    status, body = put(world, 2026, {"holidays": seeded["holidays"] + ["2026-03-10", "2026-03-14"],
                                     "workdays": seeded["workdays"], "source": "区政府通知"})
    assert status == 200, body
    assert body["recomputed_cases"] == 1 and body["source"] == "区政府通知"
    assert "2026-03-10" in body["holidays"] and body["ignored"] == ["2026-03-14"]  # a Saturday changes nothing
    d = world.api.get(f"/api/v1/cases/{no}", "sup")[1]["deadlines"]
    assert d["promised_due_at"] == "2026-03-16T23:59:59+08:00"  # Tue 10 Mar off: Monday 16 instead of Friday 13
    assert d["statutory_due_at"] == "2026-04-07T23:59:59+08:00"  # one working day later (Mon 6 Apr is 清明)
    events = world.api.get(f"/api/v1/cases/{no}/events", "sup")[1]
    moved = [e for e in events if e["action"] == "deadlines_recomputed"]
    assert len(moved) == 1 and moved[0]["detail"]["reason"] == "calendar_edit" and moved[0]["actor"] == "admin"
    [edit] = registry_events(app, "calendar_updated")
    assert edit.actor == "admin" and edit.detail["year"] == 2026 and edit.detail["holidays"] == len(body["holidays"])
    assert edit.detail["previous_source"] == "chinesecalendar"

    # The same edit undone at the very same (frozen) moment: the cached calendar must not be served stale.
    status, body = put(world, 2026, {"holidays": seeded["holidays"], "workdays": seeded["workdays"]})
    assert status == 200 and body["recomputed_cases"] == 1 and body["source"] == "admin"
    d = world.api.get(f"/api/v1/cases/{no}", "sup")[1]["deadlines"]
    assert d["promised_due_at"] == "2026-03-13T23:59:59+08:00"


def test_an_edit_inside_a_finished_clock_stop_recounts_the_stop(world, app):
    """A day that becomes a holiday inside a stop that already ended was a working day stopped; it is not any
    more, so the stop is one working day shorter and the deadlines come one working day earlier."""
    no = world.new_case()["case_no"]  # accepted Friday 6 March: promised due Friday 13
    clock.travel_to(at(2026, 3, 9, 10, 0))
    status, body = world.api.post(f"/api/v1/cases/{no}/suspend", "acc", {
        "kind": "supplement", "reason": "材料不全", "missing_materials": ["营业执照复印件"]})
    assert status == 200, body
    clock.travel_to(at(2026, 3, 12, 15, 0))
    status, body = world.api.post(f"/api/v1/cases/{no}/resume", "acc", {"note": "已补正"})
    assert status == 200 and body["deadlines"]["promised_due_at"] == "2026-03-18T23:59:59+08:00"  # +3 (Tue–Thu)
    seeded = year_of(world, 2026)
    status, body = put(world, 2026, {"holidays": seeded["holidays"] + ["2026-03-11"], "workdays": seeded["workdays"]})
    assert status == 200 and body["recomputed_cases"] == 0  # see below: the two changes cancel out
    d = world.api.get(f"/api/v1/cases/{no}", "sup")[1]["deadlines"]
    # 5 working days from Friday 6 skipping Wed 11 → Mon 16, then 2 stopped (Tue 10, Thu 12) → Wed 18.
    # Had the stop kept its old count of 3, the promised deadline would have moved to Thursday 19.
    assert d["promised_due_at"] == "2026-03-18T23:59:59+08:00"
    events = world.api.get(f"/api/v1/cases/{no}/events", "sup")[1]
    [recount] = [e for e in events if e["action"] == "suspension_recounted"]
    assert recount["detail"]["before"] == 3 and recount["detail"]["working_days"] == 2 and recount["actor"] == "admin"


def test_only_admins_edit_and_bad_input_is_refused_naming_the_field(world):
    before = year_of(world, 2026)
    good = {"holidays": before["holidays"], "workdays": before["workdays"]}
    for user in ("acc", "sup", "designer"):
        status, body = put(world, 2026, good, user)
        assert status == 403 and body["error"]["code"] == "forbidden"
    assert put(world, 2026, good, None)[0] == 401
    refusals = [
        ({"holidays": ["2026-13-01"], "workdays": []}, {"field": "holidays[0]"}),  # the document's format: date
        ({"holidays": ["2026-10-01", "1 Oct"], "workdays": []}, {"field": "holidays[1]"}),
        ({"holidays": [], "workdays": ["2025-10-11"]}, {"field": "workdays", "index": 0}),
        ({"holidays": [], "workdays": [20261010]}, {"field": "workdays[0]"}),
        ({"holidays": ["2026-10-10"], "workdays": ["2026-10-10"]}, {"field": "holidays", "value": "2026-10-10"}),
        ({"holidays": []}, {"field": "workdays"}),
        ({"holidays": "2026-10-01", "workdays": []}, {"field": "holidays"}),  # 400: not a list
        ({"holidays": ["2026-01-01"] * 367, "workdays": []}, {"field": "holidays"}),
        ({"holidays": [], "workdays": [], "source": ""}, {"field": "source"}),
    ]
    for body, detail in refusals:
        status, answer = put(world, 2026, body)
        malformed = body.get("workdays") == [20261010] or body.get("holidays") == "2026-10-01"  # JSON types
        assert status == (400 if malformed else 422) and answer["error"]["details"] == [detail], (body, answer)
    for year in (1999, 2101):
        status, answer = put(world, year, good)
        assert status == 422 and answer["error"]["details"] == [{"field": "year"}]
        assert world.api.get(f"/api/v1/calendar/{year}", "acc")[0] == 422
    assert world.api.get("/api/v1/calendar/-1", "acc")[0] == 404
    assert year_of(world, 2026) == before  # nothing half-written


def test_a_deadline_into_an_unknown_year_is_flagged_and_the_admins_told_once(world, app):
    clock.travel_to(at(UNKNOWN - 1, 12, 25, 9, 0))  # a Friday; 20 working days run well into the next year
    first = world.new_case()
    second = world.new_case()
    for case in (first, second):
        d = world.api.get(f"/api/v1/cases/{case['case_no']}", "acc")[1]["deadlines"]
        assert d["calendar_complete"] is False and "calendar" in d["calendar_note"]
        assert d["statutory_due_at"].startswith(f"{UNKNOWN}-01-22")  # weekends alone: 4 days in Dec, 16 in Jan
    status, notices = world.api.get("/api/v1/notices", "admin")
    assert status == 200
    mine = [n for n in notices if n["case_no"] is None]
    assert len(mine) == 1 and str(UNKNOWN) in mine[0]["reason"] and mine[0]["level"] == "warning"
    assert [r["username"] for r in mine[0]["recipients"]] == ["admin"]
    assert world.api.get("/api/v1/notices", "acc")[1] == []  # a clerk is not bothered with it
    status, acked = world.api.post(f"/api/v1/notices/{mine[0]['id']}/ack", "admin")
    assert status == 200 and acked["acknowledged_at"] and acked["resolved_at"] is None

    # The admin enters the year (New Year's Day off): both cases move and are complete again.
    status, body = put(world, UNKNOWN, {"holidays": [f"{UNKNOWN}-01-01"], "workdays": []})
    assert status == 200 and body["known"] is True and body["recomputed_cases"] == 2
    for case in (first, second):
        d = world.api.get(f"/api/v1/cases/{case['case_no']}", "acc")[1]["deadlines"]
        assert d["calendar_complete"] is True and "calendar_note" not in d
        assert d["statutory_due_at"].startswith(f"{UNKNOWN}-01-25")  # Fri 1 Jan off: the following Monday
    [notice] = [n for n in world.api.get("/api/v1/notices", "admin")[1] if n["case_no"] is None]
    assert notice["resolved_at"]  # the condition it reported is gone: closed, once, audited
    [resolved] = registry_events(app, "notice_resolved")
    assert resolved.actor == "admin" and resolved.detail["source_key"] == f"calendar_missing:{UNKNOWN}"
    assert put(world, UNKNOWN, {"holidays": [f"{UNKNOWN}-01-01"], "workdays": []})[0] == 200
    assert len(registry_events(app, "notice_resolved")) == 1


def test_missing_years_names_only_the_years_counted_into(app):
    cal = calendar.WorkingCalendar(tz=app.extensions["sunlight.settings"].tz, known_years={2026})
    assert cal.missing_years(at(2026, 12, 31, 9), at(2027, 2, 1, 9)) == [2027]  # the start day is not counted
    assert cal.missing_years(at(2026, 3, 1, 9), at(2026, 4, 1, 9)) == []
    assert cal.missing_years(at(2025, 12, 31, 9), at(2028, 1, 3, 9)) == [2027, 2028]



def test_the_cli_shows_sets_and_seeds_years(cli, app):
    out = cli("calendar", "show", "2026")
    assert "chinesecalendar" in out and "2026-10-01" in out and "2026-10-10" in out
    assert "no calendar data" in cli("calendar", "show", "2099")
    out = cli("calendar", "set", "2099", "--holiday", "2099-01-01", "--holiday", "2099-01-03",
              "--workday", "2099-01-10", "--source", "测试")
    assert "1 holiday(s), 1 make-up working day(s)" in out and "ignored (change nothing): 2099-01-03" in out
    out = cli("calendar", "show", "2099")
    assert "测试" in out and "2099-01-01" in out and "2099-01-10" in out
    [edit] = registry_events(app, "calendar_updated")
    assert edit.actor == "cli" and edit.detail["year"] == 2099
    assert "not a date" in cli("calendar", "set", "2099", "--holiday", "2099-02-30", code=2)
    assert "year" in cli("calendar", "set", "1999", code=2)

    assert "nothing to load" in cli("calendar", "seed")
    with app.extensions["sunlight.db"].unit_of_work() as s:  # as if 2026 had never been loaded
        s.execute(delete(CalendarDay).where(CalendarDay.year == 2026))
        s.execute(delete(CalendarYear).where(CalendarYear.year == 2026))
    assert "no calendar data" in cli("calendar", "show", "2026")
    assert "loaded 2026" in cli("calendar", "seed")
    assert "2026-10-01" in cli("calendar", "show", "2026")
