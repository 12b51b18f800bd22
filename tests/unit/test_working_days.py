"""The working-day arithmetic (no day walk) agrees with walking the days, on random calendars and ranges."""
from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from app.calendar.service import WorkingCalendar

TZ = ZoneInfo("Asia/Shanghai")


def walked_in(cal, a, b):
    count, day = 0, a
    while day < b:
        day += timedelta(days=1)
        count += cal.is_working_day(day)
    return count


def walked_left(cal, today, last, in_time):
    step, count, day = (1 if last >= today else -1), 0, today
    while day != last:
        day += timedelta(days=step)
        count += step if cal.is_working_day(day) else 0
    return count if in_time else min(count, -1)


def test_counting_without_walking_gives_what_walking_gives():
    rng = random.Random(20261201)
    base = date(2026, 1, 1)
    for _ in range(200):
        holidays = {base + timedelta(days=rng.randrange(400)) for _ in range(rng.randrange(40))}
        workdays = {base + timedelta(days=rng.randrange(400)) for _ in range(rng.randrange(15))} - holidays
        cal = WorkingCalendar(tz=TZ, holidays=holidays, workdays=workdays, known_years={2026, 2027})
        for _ in range(20):
            a, b = (base + timedelta(days=rng.randrange(-30, 420)) for _ in range(2))
            start, end = datetime.combine(a, time(10), TZ), datetime.combine(b, time(12), TZ)
            assert cal.working_days_in(start, end) == walked_in(cal, a, b), (a, b)
            assert cal.working_days_left(start, end) == walked_left(cal, a, b, start <= end), (a, b)
