"""Assessment periods: a month `2026-11`, a quarter `2026-Q4` or a year `2026`, in the district's time zone."""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from app.errors import Invalid

_FORMS = re.compile(r"^(?P<year>\d{4})(?:-(?P<month>0[1-9]|1[0-2])|-Q(?P<quarter>[1-4]))?$")
YEARS = (2000, 2100)


@dataclass(frozen=True)
class Period:
    label: str
    kind: str  # month | quarter | year
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware

    def contains(self, moment: datetime) -> bool:
        return self.start <= moment < self.end


def parse(raw, tz: ZoneInfo) -> Period:
    """The period a label names; 422 naming it for anything else (2026-13, 2026-Q5, abc)."""
    match = _FORMS.fullmatch(raw) if isinstance(raw, str) else None
    year = int(match["year"]) if match else 0
    if match is None or not YEARS[0] <= year <= YEARS[1]:
        raise Invalid(f"period {raw!r} is not a month (2026-11), a quarter (2026-Q4) or a year (2026) "
                      f"between {YEARS[0]} and {YEARS[1]}", code="invalid_period",
                      details=[{"field": "period", "value": str(raw)[:20]}])
    if match["month"]:
        first, months, kind = int(match["month"]), 1, "month"
    elif match["quarter"]:
        first, months, kind = 3 * int(match["quarter"]) - 2, 3, "quarter"
    else:
        first, months, kind = 1, 12, "year"
    start = datetime(year, first, 1, tzinfo=tz)
    after = first + months
    end = datetime(year + (after - 1) // 12, (after - 1) % 12 + 1, 1, tzinfo=tz)
    return Period(raw, kind, start, end)


def months_of(period: Period) -> list[str]:
    """The month labels a period covers (a chart's x axis)."""
    out, y, m = [], period.start.year, period.start.month
    while datetime(y, m, 1, tzinfo=period.start.tzinfo) < period.end:
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def labels_within(period: Period) -> list[str]:
    """The period's own label and those of the shorter periods inside it (a year holds its quarters and
    months): an evaluation campaign of 2026-Q4 counts in the assessment of 2026."""
    months = months_of(period)
    quarters = sorted({f"{m[:4]}-Q{(int(m[5:]) - 1) // 3 + 1}" for m in months}) if period.kind == "year" else []
    return sorted({period.label, *quarters, *(months if period.kind != "month" else [])})
