"""Calendar edits, orchestrated from above the rooms they touch: the calendar stores the year, the open cases
whose clocks run through it are recounted (cases), and the admins' notice that the year was missing is closed
(supervision). The doors (API, page, CLI) call these, so the calendar itself imports nothing of cases.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.calendar import service as calendar
from app.cases import clock_stops
from app.settings import Settings

from . import service as notices


def set_year(session: Session, settings: Settings, actor_name: str, year: int, holidays, workdays,
             source: str = "admin") -> dict:
    """Replace a year (audited) and move the deadlines it touches; the answer says how many cases moved. The
    doors let only a district admin (or the operator's CLI) call it."""
    out = calendar.set_year(session, actor_name, year, holidays, workdays, source)
    out["recomputed_cases"] = year_entered(session, settings, year, actor_name)
    return out


def seed_years(session: Session, settings: Settings, actor_name: str) -> tuple[list[int], int]:
    """The years the chinesecalendar package knows and the database does not, loaded (audited); the open
    cases counted into them move. Returns the years and how many cases moved."""
    years = calendar.seed_years(session, actor_name)
    return years, sum(year_entered(session, settings, year, actor_name) for year in years)


def year_entered(session: Session, settings: Settings, year: int, actor_name: str) -> int:
    """A year was entered or edited: recount the clock stops and deadlines it touches, and close the admins'
    notice that it was missing (if one was raised). Returns how many cases moved."""
    moved = clock_stops.recount_year(session, settings, year, actor_name)
    notices.resolve(session, f"calendar_missing:{year}", actor_name, why=f"the {year} calendar was entered")
    return moved
