"""Working days (工作日) on the district's calendar: weekends and holidays off, make-up days (调休) on.

The calendar lives in the database (seeded from the `chinesecalendar` package for the years it knows,
editable by admins later); a year without data is counted on weekends alone and flagged, never a crash.
"""
from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from functools import cached_property
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.db_batch import transaction_memo
from app.errors import Invalid
from app.orgs.service import REGISTRY

from .models import CalendarDay, CalendarYear

SEED_SOURCE = "chinesecalendar"
WORKING, NATURAL = "working", "natural"  # 工作日 / 自然日 (calendar days): the two units a time limit is counted in
UNITS = (WORKING, NATURAL)


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

    def add_natural_days(self, start: datetime, n: int) -> tuple[datetime, bool]:
        """End (23:59:59 local) of the n-th calendar day after `start`'s day, rolled forward to the next working
        day when that day is a holiday or a weekend rest day (民法典 Art. 203: a limit ending on a day off ends
        on the first working day after it); and whether the calendar knew every day it had to judge.

        Penalty and enforcement limits over ten days are calendar days (行政处罚法 Art. 60/85, 行政强制法
        Art. 25/69); the days between are never judged, so only the last day and the roll-forward need data.
        """
        day = start.astimezone(self.tz).date() + timedelta(days=n)
        complete = day.year in self.known_years
        while not self.is_working_day(day):
            day += timedelta(days=1)
            complete &= day.year in self.known_years
        return datetime.combine(day, time(23, 59, 59), self.tz), complete

    def add_days(self, start: datetime, n: int, unit: str) -> tuple[datetime, bool]:
        """n days of `unit` ("working" or "natural") after `start`'s day: the end of the limit."""
        return self.add_working_days(start, n) if unit == WORKING else self.add_natural_days(start, n)

    def days_in(self, start: datetime, end: datetime, unit: str) -> int:
        """Days of `unit` after `start`'s day up to and including `end`'s day (a clock stop's length)."""
        if unit == WORKING:
            return self.working_days_in(start, end)
        return max((end.astimezone(self.tz).date() - start.astimezone(self.tz).date()).days, 0)

    def days_left(self, now: datetime, due: datetime, unit: str) -> int:
        """Days of `unit` from tomorrow up to the due day (0 on the due day, negative once overdue)."""
        if unit == WORKING:
            return self.working_days_left(now, due)
        count = (due.astimezone(self.tz).date() - now.astimezone(self.tz).date()).days
        return count if now <= due else min(count, -1)

    def working_days_in(self, start: datetime, end: datetime) -> int:
        """Working days after `start`'s day up to and including `end`'s day (a clock stop's length)."""
        day, last = start.astimezone(self.tz).date(), end.astimezone(self.tz).date()
        return self._working_between(day, last) if last > day else 0

    def working_days_left(self, now: datetime, due: datetime) -> int:
        """Working days from tomorrow up to the due day (0 on the due day itself, negative once overdue)."""
        today, last = now.astimezone(self.tz).date(), due.astimezone(self.tz).date()
        if last >= today:
            count = self._working_between(today, last)
        else:  # overdue: the working days from the due day up to yesterday, counted back
            count = -self._working_between(last - timedelta(days=1), today - timedelta(days=1))
        return count if now <= due else min(count, -1)

    def _working_between(self, a: date, b: date) -> int:
        """Working days d with a < d ≤ b, without walking the days: weekdays by arithmetic, then the weekday
        holidays taken off and the weekend make-up days added, each found by bisection (a list of hundreds of
        cases asks this for every row)."""
        off, on = self._exceptions
        return (_weekdays_upto(b) - _weekdays_upto(a) - (bisect_right(off, b) - bisect_right(off, a))
                + (bisect_right(on, b) - bisect_right(on, a)))

    @cached_property
    def _exceptions(self) -> tuple[list[date], list[date]]:
        """(weekday holidays, weekend make-up working days), sorted: the only days the weekday rule gets wrong."""
        off = sorted(d for d in self.holidays if d.weekday() < 5 and d not in self.workdays)
        on = sorted(d for d in self.workdays if d.weekday() >= 5)
        return off, on

    def missing_years(self, start: datetime, end: datetime) -> list[int]:
        """Years counted into after `start`'s day up to `end`'s day that have no calendar data (B2)."""
        first = (start.astimezone(self.tz).date() + timedelta(days=1)).year
        last = end.astimezone(self.tz).year
        return [year for year in range(first, last + 1) if year not in self.known_years]


def _weekdays_upto(day: date) -> int:
    """Monday-to-Friday days from 0001-01-01 (a Monday) up to and including `day`."""
    ordinal = day.toordinal()
    return 5 * (ordinal // 7) + min(ordinal % 7, 5)


_loaded: dict[tuple, WorkingCalendar] = {}


def load(session: Session, tz: ZoneInfo) -> WorkingCalendar:
    """The calendar, re-read only when a year was added or edited (one small aggregate query per transaction
    otherwise: a page listing hundreds of cases asks once)."""
    return transaction_memo(session, _MEMO + (str(tz),), lambda: _load(session, tz))


_MEMO = ("working_calendar",)


def _forget(session: Session) -> None:
    """This transaction edits the calendar: what it loaded before is stale."""
    memo = session.info.get("memo", {})
    for key in [k for k in memo if k[:1] == _MEMO]:
        del memo[key]


_STAMP = select(func.count(), func.max(CalendarYear.updated_at))  # built once: every request with a deadline asks


def _load(session: Session, tz: ZoneInfo) -> WorkingCalendar:
    stamp = session.execute(_STAMP).one()
    key = (str(tz), session.get_bind(), *stamp)  # the engine itself: a database's calendar is not another's
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
    _forget(session)
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


# --- the admins' edit (B2: the State Council publishes each year's calendar late in the year before) ---------
YEAR_RANGE = (2000, 2100)
MAX_ENTRIES = 366  # per list: a year has no more days than that
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")  # date.fromisoformat alone would also take "20261001" or "2026-W40-1"


def check_year(year) -> int:
    if isinstance(year, bool) or not isinstance(year, int) or not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
        raise Invalid(f"year must be a whole number from {YEAR_RANGE[0]} to {YEAR_RANGE[1]}",
                      details=[{"field": "year"}])
    return year


def get_year(session: Session, year: int) -> dict:
    """The year as stored; `known` is False (and the lists empty) when nobody has entered it yet."""
    check_year(year)
    row = session.get(CalendarYear, year)
    days = list(session.scalars(select(CalendarDay).where(CalendarDay.year == year).order_by(CalendarDay.day)))
    return {"year": year, "holidays": [d.day.isoformat() for d in days if d.kind == "holiday"],
            "workdays": [d.day.isoformat() for d in days if d.kind == "workday"],
            "source": row.source if row else None, "known": row is not None,
            "updated_at": row.updated_at if row else None}


def set_year(session: Session, actor_name: str, year: int, holidays, workdays, source: str = "admin") -> dict:
    """Replace the year's holidays and make-up working days, audited. Moving the deadlines it touches is the
    caller's next step (app/supervision/calendar_edits.py): the calendar knows nothing of cases.

    Only exceptions to Monday–Friday are stored (weekday holidays, weekend working days), as the seed does:
    the official notice lists whole holiday spans, weekends included, so such entries are accepted but
    change nothing; the answer lists them under `ignored` instead of dropping them silently.
    """
    check_year(year)
    if not isinstance(source, str) or not 0 < len(source.strip()) <= 100:
        raise Invalid("source must be text of at most 100 characters", details=[{"field": "source"}])
    off, on = _days_of(year, "holidays", holidays), _days_of(year, "workdays", workdays)
    both = sorted(off & on)
    if both:
        raise Invalid(f"{both[0].isoformat()} is both a holiday and a working day",
                      details=[{"field": "holidays", "value": both[0].isoformat()}])
    keep_off, keep_on = {d for d in off if d.weekday() < 5}, {d for d in on if d.weekday() >= 5}
    _forget(session)
    _replace_days(session, year, keep_off, keep_on)
    stamp, row = _next_stamp(session), session.get(CalendarYear, year)
    previous = row.source if row else None
    if row is None:
        row = CalendarYear(year=year, source=source.strip(), updated_at=stamp)
        session.add(row)
    row.source, row.updated_at = source.strip(), stamp
    audit.record(session, REGISTRY, "calendar_updated", actor_name,
                 detail={"year": year, "holidays": len(keep_off), "workdays": len(keep_on),
                         "ignored": len(off - keep_off) + len(on - keep_on), "source": row.source,
                         "previous_source": previous})
    session.flush()
    out = get_year(session, year)
    out["ignored"] = sorted(d.isoformat() for d in (off - keep_off) | (on - keep_on))
    return out


def seed_years(session: Session, actor_name: str) -> list[int]:
    """seed_from_package as an admin operation, audited; returns the years added."""
    years = seed_from_package(session)
    session.flush()
    for year in years:
        audit.record(session, REGISTRY, "calendar_updated", actor_name,
                     detail={"year": year, "source": SEED_SOURCE, "seeded": True})
    return years


def _days_of(year: int, field_name: str, raw) -> set[date]:
    if not isinstance(raw, list) or len(raw) > MAX_ENTRIES:
        raise Invalid(f"{field_name} must be a list of at most {MAX_ENTRIES} dates (YYYY-MM-DD)",
                      details=[{"field": field_name}])
    days = set()
    for i, value in enumerate(raw):
        day = None
        if isinstance(value, str) and _ISO_DAY.fullmatch(value):
            try:
                day = date.fromisoformat(value)
            except ValueError:
                pass
        if day is None or day.year != year:
            why = "is not a date (YYYY-MM-DD)" if day is None else f"lies outside {year}"
            raise Invalid(f"{field_name}[{i}] {value!r} {why}", details=[{"field": field_name, "index": i}])
        days.add(day)
    return days


def _replace_days(session: Session, year: int, holidays: set[date], workdays: set[date]) -> None:
    """Rows that stay as they were keep their names (e.g. 国庆节 from the seed); the rest are replaced."""
    wanted = {**{d: "holiday" for d in holidays}, **{d: "workday" for d in workdays}}
    for row in session.scalars(select(CalendarDay).where(CalendarDay.year == year)):
        kind = wanted.pop(row.day, None)
        if kind is None:
            session.delete(row)
        elif kind != row.kind:
            row.kind, row.name = kind, None
    for day, kind in wanted.items():
        session.add(CalendarDay(day=day, kind=kind, year=year, name=None))


def _next_stamp(session: Session) -> datetime:
    """Now, but strictly after every year's stamp: load()'s cache key must change even if the clock stood still."""
    latest, now = session.scalar(select(func.max(CalendarYear.updated_at))), clock.now()
    return now if latest is None or now > latest else latest + timedelta(microseconds=1)


# --- the yearly notice, pasted (国务院办公厅关于YYYY年部分节假日安排的通知) ---------------------------------------
MAX_NOTICE_CHARS = 20_000  # the real notice is about 1,000 characters; a page of it with headers fits many times


def read_notice(session: Session, year: int, text) -> dict:
    """The notice's dates for `year`, with what saving them would change against what is stored; saves nothing.

    The API's parse endpoint and the calendar page both call this; saving goes through set_year like any edit.
    """
    from app.errors import TooLarge

    from .notice_text import changes_against, parse_notice  # pure text work, no reason to load it at start-up

    check_year(year)
    if not isinstance(text, str) or not text.strip():
        raise Invalid("text must be the notice's text (a non-empty string)", details=[{"field": "text"}])
    if len(text) > MAX_NOTICE_CHARS:
        raise TooLarge(f"text is longer than {MAX_NOTICE_CHARS} characters; paste the notice only",
                       details=[{"field": "text", "max_length": MAX_NOTICE_CHARS}])
    if "\x00" in text:
        raise Invalid("text must not contain NUL characters", details=[{"field": "text"}])
    parsed = parse_notice(text, year)
    if parsed.text_year is not None and parsed.text_year != year:
        raise Invalid(f"the text is the notice for {parsed.text_year}, not {year}", code="year_mismatch",
                      details=[{"field": "text", "text_year": parsed.text_year, "year": year}])
    stored = get_year(session, year)
    out = parsed.to_dict()
    del out["text_year"]
    out["changes"] = changes_against(parsed, stored["holidays"], stored["workdays"])
    return out


def known_years(session: Session) -> list[int]:
    """The years entered so far (seeded from the package or by an admin), ascending."""
    return list(session.scalars(select(CalendarYear.year).order_by(CalendarYear.year)))
