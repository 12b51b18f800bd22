"""Timers as designers type them, on the working-day calendar, through the worker and the API."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from app import clock, worker
from tests.world import LICENSING, STEP_TIME, build_world

BEIJING = timezone(timedelta(hours=8))


def _variant(timer: bytes, interrupting: bool = False) -> bytes:
    xml = LICENSING.replace(b">PT72H<", b">" + timer + b"<")
    if interrupting:
        xml = xml.replace(b'cancelActivity="false"', b'cancelActivity="true"')
    assert xml != LICENSING or timer == b"PT72H"
    return xml


def _world(app, xml, start):
    clock.travel_to(start)
    return build_world(app, xml=xml)


def _sweep(app):
    return worker.sweep(app.extensions["sunlight.db"], app.extensions["sunlight.settings"])


def _review_due(world, case_no):
    _, case = world.api.get(f"/api/v1/cases/{case_no}", "rev")
    return datetime.fromisoformat(world.ready(case, "Task_review")["due_at"])


def test_workdays_skip_the_national_day_holiday_and_count_the_make_up_saturday(app):
    world = _world(app, _variant(b"workdays(3)"), datetime(2026, 9, 30, 9, 0, tzinfo=BEIJING))
    case = world.complete(world.new_case(), "Task_accept", "acc")
    # 1–7 October are holidays; Saturday 10 October is a make-up working day (调休).
    assert _review_due(world, case["case_no"]) == datetime(2026, 10, 10, 23, 59, 59, tzinfo=BEIJING)
    clock.travel_to(datetime(2026, 10, 10, 23, 0, tzinfo=BEIJING))
    assert _sweep(app) == 0
    clock.travel_to(datetime(2026, 10, 11, 0, 0, 1, tzinfo=BEIJING))
    assert _sweep(app) == 1


def test_an_interrupting_timer_cancels_the_step_and_runs_the_path_after_it(app):
    world = _world(app, _variant(b"P2D", interrupting=True), datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING))
    case = world.complete(world.new_case(), "Task_accept", "acc")
    clock.advance(timedelta(days=2, seconds=1))
    assert _sweep(app) == 1
    _, case = world.api.get(f"/api/v1/cases/{case['case_no']}", "sup")
    assert case["status"] == "completed"  # the timer's path ends the case, as drawn
    assert [t["state"] for t in case["tasks"] if t["bpmn_id"] == "Task_review"] == ["cancelled"]
    assert len(case["notices"]) == 1


def test_a_cycle_timer_raises_one_notice_per_cycle_and_catches_up_after_downtime(app):
    world = _world(app, _variant(b"R3/PT24H").replace(b"timeDuration", b"timeCycle"),
                   datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING))
    case = world.complete(world.new_case(), "Task_accept", "acc")
    clock.advance(timedelta(hours=25))
    assert _sweep(app) == 1
    clock.advance(timedelta(days=10))  # the worker was down; both remaining cycles are due
    assert _sweep(app) == 2
    assert _sweep(app) == 0
    _, notices = world.api.get(f"/api/v1/notices?case_no={case['case_no']}", "sup")
    assert len([n for n in notices if n["task_bpmn_id"] == "Task_review"]) == 3
    # Ten days on, the promised limit (5 working days) has passed as well: pre-warning and yellow card.
    assert sorted(n["level"] for n in notices if n["task_bpmn_id"] is None) == ["warning", "yellow"]


def test_a_naive_timer_date_is_read_in_the_district_timezone(app):
    world = _world(app, _variant(b"2026-03-05T09:00:00").replace(b"timeDuration", b"timeDate"),
                   datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING))
    case = world.complete(world.new_case(), "Task_accept", "acc")
    assert _review_due(world, case["case_no"]) == datetime(2026, 3, 5, 9, 0, tzinfo=BEIJING)


@pytest.mark.parametrize("value", [b'"PT72H"', b"'P3D'", b"PT72H"])
def test_quoted_and_bare_durations_behave_the_same(app, value):
    world = _world(app, _variant(value), datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING))
    case = world.complete(world.new_case(), "Task_accept", "acc")  # the review starts STEP_TIME after 09:00
    assert _review_due(world, case["case_no"]) == datetime(2026, 3, 5, 9, 0, tzinfo=BEIJING) + STEP_TIME


def test_a_sweep_walks_the_due_cases_in_batches_with_a_cursor_each_once(app):
    from sqlalchemy import event

    world = _world(app, _variant(b"PT1H"), datetime(2026, 3, 2, 9, 0, tzinfo=BEIJING))
    for _ in range(7):
        world.complete(world.new_case(), "Task_accept", "acc")
        clock.advance(timedelta(minutes=1))
    clock.advance(timedelta(hours=2))
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    claims: list[int] = []

    def grab(conn, cursor, statement, params, *rest):
        if "wake_at <=" in statement:
            claims.append(len(params))

    event.listen(db.engine, "before_cursor_execute", grab)
    try:
        assert worker.sweep(db, settings, batch=3) == 7  # batches of 3, 3, 1, then an empty claim
    finally:
        event.remove(db.engine, "before_cursor_execute", grab)
    assert len(claims) == 4 and len(set(claims[1:])) == 1  # the cursor: parameters do not grow with the sweep
    assert worker.sweep(db, settings, batch=3) == 0
