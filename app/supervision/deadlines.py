"""Deadline signals (电子监察): when a case's clock runs out — pre-warning (预警), yellow card (承诺时限已过), red
card (法定时限已过) — the clerks of its open steps and the supervisors in scope are told at the same moment.

The clocks themselves are the case's (app/cases/clocks.py); this room reacts to what the case actions and the
timer worker report (app/supervision/reactions.py). Each signal is raised once per case.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app import clock
from app.cases import clocks
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User
from app.settings import Settings

from . import reasons
from . import service as notices
from .reasons import Reason
from .models import SupervisionNotice

SIGNALS = (  # kind, level, reason
    ("warning", "warning", Reason(reasons.DEADLINE["warning"])),
    ("yellow", "yellow", Reason(reasons.DEADLINE["yellow"])),
    ("red", "red", Reason(reasons.DEADLINE["red"])),
)


def tell_admins_of_missing_years(session: Session, settings: Settings, years: list[int]) -> None:
    """A deadline counted into a year without a calendar is flagged on the case; the admins, who can enter
    that year, get one district-wide notice per year (B2: fail loudly but gracefully)."""
    for year in years:
        notices.raise_system_notice(
            session, level="warning", source_key=f"calendar_missing:{year}",
            reason=Reason(reasons.CALENDAR_MISSING, {"year": year}),
            recipients=list(session.scalars(select(User).where(User.role == "admin").order_by(User.id))),
            detail={"kind": "calendar_missing", "year": year}, channels=settings.notice_channels)


def raise_due(session: Session, case, now: datetime | None = None, *, channels: tuple[str, ...]) -> int:
    """Raise every deadline signal that has fallen due; each at most once per case. Returns how many."""
    if case.status != "running":
        return 0
    now = now or clock.now()
    moments, raised = clocks.signal_moments(case), 0
    org = session.get(OrgUnit, case.org_unit_id)
    for kind, level, reason in SIGNALS:
        at = moments[kind]
        if kind in case.signalled or at is None or at > now:
            continue
        notices.raise_notice(session, case=case, org=org, clerks=clerks_of_open_steps(session, case), task_bpmn_id=None,
                             level=level, reason=reason, source_key=f"deadline:{kind}:{case.id}",
                             detail={"kind": f"deadline_{kind}", "due_at": at.isoformat()}, channels=channels)
        case.signalled = [*case.signalled, kind]
        clocks.raise_card(case, level)
        raised += 1
    return raised


def card_reason(session: Session, case, card: str) -> Reason | None:
    """Why the case carries `card`, for staff: the first notice of that level (a rule's card names the rule,
    not a deadline), or the deadline that passed before the worker raised its notice."""
    if card == "none":
        return None
    if card != case.card:  # a deadline passed a moment ago; its notice comes with the next sweep
        return next(reason for _kind, level, reason in SIGNALS if level == card)
    first = session.execute(_FIRST_OF_LEVEL, {"case_id": case.id, "level": card}).first()
    return Reason.stored(*first) if first else None


_FIRST_OF_LEVEL = (select(SupervisionNotice.reason, SupervisionNotice.reason_key, SupervisionNotice.reason_params)
                   .where(SupervisionNotice.case_id == bindparam("case_id"),
                          SupervisionNotice.level == bindparam("level"))
                   .order_by(SupervisionNotice.id).limit(1))  # built once: every carded case's view asks


def clerks_of_open_steps(session: Session, case) -> list:
    """The clerks who hold the lanes of the case's ready steps (every clerk there if no step is ready)."""
    lanes = {t.lane for t in case.tasks if t.state == "ready" and t.kind == "user"}
    found: dict[int, object] = {}
    for lane in lanes or {None}:
        for user in orgs.clerks_for_lane(session, case.org_unit_id, lane):
            found[user.id] = user
    return list(found.values())
