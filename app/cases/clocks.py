"""A case's two clocks (承诺 promised, 法定 statutory), each in its unit (working or calendar days), its card and
when the worker must next look at it. These are the case's own projections; the signals raised when a clock
runs out are supervision's (app/supervision/deadlines.py), which reacts to the case's events.

Deadlines are derived, never edited: accepted_at + the item's limit + approved extensions (statutory only)
+ the days spent in finished clock stops, on the working-day calendar. They are recomputed on every stop,
resume, extension, change of the item's limits and calendar edit.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import events
from app.audit import service as audit
from app.calendar import service as calendar
from app.settings import Settings

from .events import CalendarGapMet
from .models import OPEN_STATUSES, Case

RANK = {"none": 0, "warning": 1, "yellow": 2, "red": 3}
SIGNAL_KINDS = ("warning", "yellow", "red")  # 预警, 黄牌 (承诺时限已过), 红牌 (法定时限已过)
RECOMPUTE_BATCH = 200  # cases locked and recomputed per round, so a big district never loads everything at once


def raise_card(case: Case, level: str) -> None:
    """The case's card is the most severe signal it ever received."""
    if RANK[level] > RANK[case.card]:
        case.card = level


def stopped_days(case: Case, unit: str) -> int:
    """The days the case's clock stood still in finished stops, counted in `unit`."""
    return case.suspended_days if unit == "working" else case.suspended_natural_days


def recompute(session: Session, settings: Settings, case: Case, *, reason: str | None = None,
              actor: str = "system") -> bool:
    """Derive the deadlines; when they changed and a reason is given, record why. Returns whether they changed.

    Each clock counts in its own unit (工作日 or 自然日, see app/catalog/limits.py) from acceptance; before the
    clock_start_step completed (accepted_at empty) there are no deadlines at all.
    """
    before = (case.promised_due_at, case.statutory_due_at, case.warn_at)
    if case.accepted_at is None:
        case.promised_due_at = case.statutory_due_at = case.warn_at = None
        case.calendar_complete = True
        return before != (None, None, None)
    cal = calendar.load(session, settings.tz)
    item, start = case.item, case.accepted_at
    p_unit, s_unit = item.promised_unit, item.statutory_unit
    promised, ok_p = cal.add_days(start, item.promised_days + stopped_days(case, p_unit), p_unit)
    statutory, ok_s = cal.add_days(start, item.statutory_days + case.extension_days + stopped_days(case, s_unit),
                                   s_unit)
    warn = None
    if item.promised_days > item.warn_days:
        warn, _ = cal.add_days(start, item.promised_days - item.warn_days + stopped_days(case, p_unit), p_unit)
        warn = min(warn, promised)  # a roll-forward past a holiday can move the limit, never the warning past it
    case.promised_due_at, case.statutory_due_at, case.warn_at = promised, statutory, warn
    case.calendar_complete = ok_p and ok_s
    changed = before != (promised, statutory, warn)
    if changed and reason:
        audit.record(session, audit.case_stream(case.id), "deadlines_recomputed", actor, case_id=case.id,
                     detail={"reason": reason, "promised_due_at": promised.isoformat(),
                             "statutory_due_at": statutory.isoformat(), "warn_at": warn.isoformat() if warn else None,
                             "promised_unit": p_unit, "statutory_unit": s_unit,
                             "calendar_complete": case.calendar_complete})
    if not case.calendar_complete:
        events.publish(session, settings, CalendarGapMet(cal.missing_years(start, max(promised, statutory))))
    return changed


def signal_moments(case: Case) -> dict[str, datetime | None]:
    """When each deadline signal falls due: 预警 at warn_at, 黄牌 at the promised limit, 红牌 at the statutory one."""
    return {"warning": case.warn_at, "yellow": case.promised_due_at, "red": case.statutory_due_at}


def next_signal_at(case: Case) -> datetime | None:
    """When the next not-yet-raised deadline signal falls due (None while the clock is stopped or done)."""
    if case.status != "running":
        return None
    moments = signal_moments(case)
    pending = [moments[kind] for kind in SIGNAL_KINDS if kind not in case.signalled and moments[kind]]
    return min(pending) if pending else None


def schedule(case: Case) -> None:
    """When the worker must next look at the case: its next timer, deadline signal, order deadline or the
    day a material it owes falls due, or the day its decision must be published by — the earliest, so one indexed query finds everything due."""
    moments = [case.next_timer_due_at if case.status == "running" else None, next_signal_at(case), case.order_due_at,
               case.materials_due_at, case.publication_due_at]
    moments = [m for m in moments if m is not None]
    case.wake_at = min(moments) if moments else None


def recompute_open_cases(session: Session, settings: Settings, where, reason: str, actor: str,
                         before_each=None) -> int:
    """Recompute the deadlines of the open cases matching `where` (SQL criteria on Case), in locked batches;
    `before_each(case)` runs first on each (e.g. recounting past stops). Returns how many moved."""
    ids = list(session.scalars(select(Case.id).where(Case.status.in_(OPEN_STATUSES), *where).order_by(Case.id)))
    moved = 0
    for i in range(0, len(ids), RECOMPUTE_BATCH):
        # Locked and read fresh, like every other writer of a case, so no one's concurrent change is lost.
        batch = session.scalars(select(Case).where(Case.id.in_(ids[i:i + RECOMPUTE_BATCH])).order_by(Case.id)
                                .with_for_update(of=Case).execution_options(populate_existing=True))
        for case in batch:
            audit.hold_head(session, case)
            if before_each is not None:
                before_each(case)
            moved += recompute(session, settings, case, reason=reason, actor=actor)
            schedule(case)
        session.flush()
    return moved


def recompute_item_cases(session: Session, settings: Settings, item_id: int, actor: str) -> int:
    """An item's limits or units changed: its running cases' clocks follow (each move audited)."""
    return recompute_open_cases(session, settings, [Case.item_id == item_id, Case.accepted_at.is_not(None)],
                                "item_limits_changed", actor)
