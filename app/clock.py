"""The one clock of Sunlight: server time only, injectable so tests can travel in time.

Everything that needs "now" (the engine's timers included, see app/engine/timers.py) asks this module.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

_frozen: datetime | None = None


def now() -> datetime:
    """Aware UTC now (or the time the tests travelled to)."""
    return _frozen if _frozen is not None else datetime.now(timezone.utc)


def travel_to(moment: datetime | None) -> None:
    """Freeze the clock at `moment` (aware); None returns to real time. For tests and benchmarks."""
    global _frozen
    if moment is not None and moment.tzinfo is None:
        raise ValueError("travel_to needs an aware datetime")
    _frozen = moment.astimezone(timezone.utc) if moment else None


def advance(delta: timedelta) -> datetime:
    """Move a frozen clock forward (freezing it at real now first if needed)."""
    travel_to(now() + delta)
    return now()
