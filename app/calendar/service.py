"""Working days (工作日) on the district's calendar: weekends and holidays off, make-up days (调休) on.

The calendar lives in the database (seeded from the `chinesecalendar` package for the years it knows,
editable by admins later); a year without data is counted on weekends alone and flagged, never a crash.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock

from .models import CalendarDay, CalendarYear

SEED_SOURCE = "chinesecalendar"


@dataclass
class WorkingCalendar:
    tz: ZoneInfo
    holidays: set[date] = field(default_factory=set)
    workdays: set[date] = field(default_factory=set)  # make-up working days on weekends
    known_years: set[int] = field(default_factory=set)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        return day.weekday() < 5

    def add_working_days(self, start: datetime, n: int) -> tuple[datetime, bool]:
        """End (23:59:59 local) of the n-th working day after `start`'s day; and whether every year was known.

        The start day itself is not counted (行政许可法: counting starts the day after acceptance).
        """
        day = start.astimezone(self.tz).date()
        complete = True
        counted = 0
        while counted < n:
            day += timedelta(days=1)
            complete &= day.year in self.known_years
            if self.is_working_day(day):
                counted += 1
        return datetime.combine(day, time(23, 59, 59), self.tz), complete

    def working_days_in(self, start: datetime, end: datetime) -> int:
        """Working days after `start`'s day up to and including `end`'s day (a clock stop's length)."""
        day, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        count = 0
        while day < last:
            day += timedelta(days=1)
            count += self.is_working_day(day)
        return count

    def working_days_left(self, now: datetime, due: datetime) -> int:
        """Working days from tomorrow up to the due day (0 on the due day itself, negative once overdue)."""
        today, last = now.astimezone(self.tz).date(), due.astimezone(self.tz).date()
        step = 1 if last >= today else -1
        count, day = 0, today
        while day != last:
            day += timedelta(days=step)
            if self.is_working_day(day):
                count += step
        return count if now <= due else min(count, -1)


_loaded: dict[tuple, WorkingCalendar] = {}


def load(session: Session, tz: ZoneInfo) -> WorkingCalendar:
    """The calendar, re-read only when a year was added or edited (one small aggregate query otherwise)."""
    stamp = session.execute(select(func.count(), func.max(CalendarYear.updated_at))).one()
    key = (str(tz), session.get_bind().url.render_as_string(), *stamp)
    cal = _loaded.get(key)
    if cal is None:
        cal = WorkingCalendar(tz=tz, known_years=set(session.scalars(select(CalendarYear.year))))
        for row in session.scalars(select(CalendarDay)):
            (cal.holidays if row.kind == "holiday" else cal.workdays).add(row.day)
        _loaded.clear()
        _loaded[key] = cal
    return cal


def seed_from_package(session: Session) -> list[int]:
    """Load every year the chinesecalendar package knows and the database does not; returns those years."""
    import chinese_calendar  # the data package; imported here so the app starts without touching it

    have = set(session.scalars(select(CalendarYear.year)))
    years = sorted({d.year for d in chinese_calendar.holidays} - have)
    for year in years:
        for day, name in chinese_calendar.holidays.items():
            if day.year == year and day.weekday() < 5:
                session.add(CalendarDay(day=day, kind="holiday", year=year, name=str(name)))
        for day, name in chinese_calendar.workdays.items():
            if day.year == year and day.weekday() >= 5:
                session.add(CalendarDay(day=day, kind="workday", year=year, name=str(name)))
        session.add(CalendarYear(year=year, source=SEED_SOURCE, updated_at=clock.now()))
    return years


def workdays_helper(session: Session, tz: ZoneInfo):
    """`workdays(N)` for timer values: the ISO end of the N-th working day from now (calendar loaded lazily)."""
    cache: dict[str, WorkingCalendar] = {}

    def workdays(n):
        if not isinstance(n, int) or isinstance(n, bool) or not 0 < n <= 3650:
            raise ValueError("workdays(N) needs a whole number 1 ≤ N ≤ 3650")
        if "cal" not in cache:
            cache["cal"] = load(session, tz)
        due, _complete = cache["cal"].add_working_days(clock.now(), n)
        return due.isoformat()

    return workdays
