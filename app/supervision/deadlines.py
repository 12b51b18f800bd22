"""Two clocks per case (承诺 promised, 法定 statutory), each in its unit (working or calendar days), and their signals.

Deadlines are derived, never edited: accepted_at + the item's limit + approved extensions (statutory only)
+ the days spent in finished clock stops, on the working-day calendar. They are recomputed on every
stop, resume, extension, change of the item's limits and calendar edit. Signals — pre-warning (预警), yellow card (承诺时限已过), red card
(法定时限已过) — are raised once each, by the timer worker or by any action that happens after they fell due.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.calendar import service as calendar
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User
from app.settings import Settings

from . import service as notices
from .models import SupervisionNotice

RANK = {"none": 0, "warning": 1, "yellow": 2, "red": 3}
SIGNALS = (  # kind, level, reason
    ("warning", "warning", "即将超过承诺时限（预警）"),
    ("yellow", "yellow", "已超过承诺时限（黄牌）"),
    ("red", "red", "已超过法定时限（红牌）"),
)


def raise_card(case, level: str) -> None:
    """The case's card is the most severe signal it ever received."""
    if RANK[level] > RANK[case.card]:
        case.card = level


def stopped_days(case, unit: str) -> int:
    """The days the case's clock stood still in finished stops, counted in `unit`."""
    return case.suspended_days if unit == "working" else case.suspended_natural_days


def recompute(session: Session, settings: Settings, case, *, reason: str | None = None, actor: str = "system") -> bool:
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
        tell_admins_of_missing_years(session, settings, cal.missing_years(start, max(promised, statutory)))
    return changed


RECOMPUTE_BATCH = 200  # cases locked and recomputed per round, so a big district never loads everything at once


def recompute_open_cases(session: Session, settings: Settings, where, reason: str, actor: str,
                         before_each=None) -> int:
    """Recompute the deadlines of the open cases matching `where` (SQL criteria on Case), in locked batches;
    `before_each(case)` runs first on each (e.g. recounting past stops). Returns how many moved."""
    from app.cases.models import OPEN_STATUSES, Case  # the circle issue #16 breaks: cases import this module

    ids = list(session.scalars(select(Case.id).where(Case.status.in_(OPEN_STATUSES), *where).order_by(Case.id)))
    moved = 0
    for i in range(0, len(ids), RECOMPUTE_BATCH):
        # Locked and read fresh, like every other writer of a case, so no one's concurrent change is lost.
        batch = session.scalars(select(Case).where(Case.id.in_(ids[i:i + RECOMPUTE_BATCH])).order_by(Case.id)
                                .with_for_update(of=Case).execution_options(populate_existing=True))
        for case in batch:
            if before_each is not None:
                before_each(case)
            moved += recompute(session, settings, case, reason=reason, actor=actor)
            schedule(case)
        session.flush()
    return moved


def recompute_item_cases(session: Session, settings: Settings, item_id: int, actor: str) -> int:
    """An item's limits or units changed: its running cases' clocks follow (each move audited)."""
    from app.cases.models import Case

    return recompute_open_cases(session, settings, [Case.item_id == item_id, Case.accepted_at.is_not(None)],
                                "item_limits_changed", actor)


def tell_admins_of_missing_years(session: Session, settings: Settings, years: list[int]) -> None:
    """A deadline counted into a year without a calendar is flagged on the case; the admins, who can enter
    that year, get one district-wide notice per year (B2: fail loudly but gracefully)."""
    for year in years:
        notices.raise_system_notice(
            session, level="warning", source_key=f"calendar_missing:{year}",
            reason=f"{year}年工作日历尚未录入：有办件的期限延伸到该年，暂只按周末推算；请录入该年的节假日和调休安排",
            recipients=list(session.scalars(select(User).where(User.role == "admin").order_by(User.id))),
            detail={"kind": "calendar_missing", "year": year}, channels=settings.notice_channels)


def _moments(case) -> dict[str, datetime | None]:
    return {"warning": case.warn_at, "yellow": case.promised_due_at, "red": case.statutory_due_at}


def next_signal_at(case) -> datetime | None:
    """When the next not-yet-raised deadline signal falls due (None while the clock is stopped or done)."""
    if case.status != "running":
        return None
    moments = _moments(case)
    pending = [moments[kind] for kind, _, _ in SIGNALS if kind not in case.signalled and moments[kind]]
    return min(pending) if pending else None


def schedule(case) -> None:
    """When the worker must next look at the case: its next timer, deadline signal or order deadline."""
    moments = [case.next_timer_due_at if case.status == "running" else None, next_signal_at(case), case.order_due_at,
               case.materials_due_at]
    moments = [m for m in moments if m is not None]
    case.wake_at = min(moments) if moments else None


def raise_due(session: Session, case, now: datetime | None = None, *, channels: tuple[str, ...]) -> int:
    """Raise every deadline signal that has fallen due; each at most once per case. Returns how many."""
    if case.status != "running":
        return 0
    now = now or clock.now()
    moments, raised = _moments(case), 0
    org = session.get(OrgUnit, case.org_unit_id)
    for kind, level, reason in SIGNALS:
        at = moments[kind]
        if kind in case.signalled or at is None or at > now:
            continue
        notices.raise_notice(session, case=case, org=org, clerks=clerks_of_open_steps(session, case), task_bpmn_id=None,
                             level=level, reason=reason, source_key=f"deadline:{kind}:{case.id}",
                             detail={"kind": f"deadline_{kind}", "due_at": at.isoformat()}, channels=channels)
        case.signalled = [*case.signalled, kind]
        raise_card(case, level)
        raised += 1
    return raised


def card_reason(session: Session, case, card: str) -> str | None:
    """Why the case carries `card`, for staff: the first notice of that level (a rule's card names the rule,
    not a deadline), or the deadline that passed before the worker raised its notice."""
    if card == "none":
        return None
    if card != case.card:  # a deadline passed a moment ago; its notice comes with the next sweep
        return next(reason for _kind, level, reason in SIGNALS if level == card)
    return session.scalar(select(SupervisionNotice.reason).where(
        SupervisionNotice.case_id == case.id, SupervisionNotice.level == card).order_by(SupervisionNotice.id).limit(1))


def clerks_of_open_steps(session: Session, case) -> list:
    """The clerks who hold the lanes of the case's ready steps (every clerk there if no step is ready)."""
    lanes = {t.lane for t in case.tasks if t.state == "ready" and t.kind == "user"}
    found: dict[int, object] = {}
    for lane in lanes or {None}:
        for user in orgs.clerks_for_lane(session, case.org_unit_id, lane):
            found[user.id] = user
    return list(found.values())
