"""The working-day calendar: public holidays and make-up working days (调休), per year."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class CalendarYear(Base):
    """A year is known only when a row exists here; counting into an unknown year is flagged."""

    __tablename__ = "calendar_years"

    year: Mapped[int] = mapped_column(primary_key=True)
    source: Mapped[str] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column()


class CalendarDay(Base):
    """An exception to the Monday–Friday rule: a holiday on a weekday or a working weekend day."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # "holiday" | "workday"
    year: Mapped[int] = mapped_column(index=True)
    name: Mapped[str | None] = mapped_column(String(100))
