"""The figures of CONTRACT.md "Assessment", per department (or street), each computed by one aggregate query.

Every query is bounded by the period and the org units on one composite index — (org unit, time) on cases,
notices, orders and ratings, which carry their case's org unit for this — and grouped by org unit in SQL: a quarter of a
million-case district reads the period's rows through an index, never the whole table, and never loops over
cases in Python (bench/assessment.py prints the plans).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from app.cases.models import Case, CaseRating
from app.catalog.models import PowerItem
from app.definitions.models import ProcessDefinition
from app.supervision.models import SupervisionNotice, SupervisionOrder

from .models import CampaignDepartment, EvaluationCampaign, EvaluationResponse
from .periods import Period, labels_within

LEVELS = ("warning", "yellow", "red")
STEPS = 7  # aggregate queries per computation (for a progress bar)


def empty() -> dict:
    return {"cases_accepted": 0, "cases_completed": 0, "completed_on_time": 0, "on_time_rate": None,
            "cards": {level: 0 for level in LEVELS}, "orders": {"issued": 0, "overdue": 0},
            "ratings": 0, "rating_avg": None, "items_active": 0, "items_with_cases": 0, "online_run_rate": None,
            "evaluation_avg": None}


def compute(session: Session, period: Period, org_ids: list[int], now: datetime, progress=None) -> dict[int, dict]:
    """{org_unit_id: figures} for the org units given, over the period; `now` judges which orders are overdue.
    `progress(step_name)` is told as each aggregate is done (the CLI's progress bar over a long period)."""
    out = {org_id: empty() for org_id in org_ids}
    if not org_ids:
        return out
    for step in (_accepted, _completed, _cards, _ratings, _items, _evaluations,
                 lambda *a: _orders(*a, now=now)):
        step(session, period, org_ids, out)
        if progress is not None:
            progress(getattr(step, "__name__", "orders"))
    for f in out.values():
        f["on_time_rate"] = _ratio(f["completed_on_time"], f["cases_completed"])
        f["online_run_rate"] = _ratio(f["items_with_cases"], f["items_active"])
    return out


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


def within(column, period: Period):
    """The column lies in the period [start, end)."""
    return and_(column >= period.start, column < period.end)


def _accepted(session, period, org_ids, out) -> None:
    rows = session.execute(select(Case.org_unit_id, func.count()).where(
        Case.org_unit_id.in_(org_ids), within(Case.created_at, period)).group_by(Case.org_unit_id))
    for org_id, n in rows:
        out[org_id]["cases_accepted"] = n


def on_time():
    """Completed at or before the statutory limit (a case whose clocks never started had no limit to miss)."""
    return or_(Case.statutory_due_at.is_(None), Case.completed_at <= Case.statutory_due_at)


def _completed(session, period, org_ids, out) -> None:
    rows = session.execute(select(Case.org_unit_id, func.count(), func.count().filter(on_time())).where(
        Case.org_unit_id.in_(org_ids), Case.status == "completed", within(Case.completed_at, period))
        .group_by(Case.org_unit_id))
    for org_id, n, timely in rows:
        out[org_id]["cases_completed"], out[org_id]["completed_on_time"] = n, timely


def _cards(session, period, org_ids, out) -> None:
    rows = session.execute(
        select(SupervisionNotice.org_unit_id, SupervisionNotice.level, func.count())
        .where(SupervisionNotice.org_unit_id.in_(org_ids), within(SupervisionNotice.created_at, period))
        .group_by(SupervisionNotice.org_unit_id, SupervisionNotice.level))
    for org_id, level, n in rows:
        if level in LEVELS:
            out[org_id]["cards"][level] = n


def order_overdue(now: datetime):
    """Not closed by its due_at: closed late, or still open with the due moment passed."""
    return or_(SupervisionOrder.closed_at > SupervisionOrder.due_at,
               and_(SupervisionOrder.closed_at.is_(None), SupervisionOrder.due_at < now))


def _orders(session, period, org_ids, out, *, now: datetime) -> None:
    rows = session.execute(
        select(SupervisionOrder.org_unit_id, func.count(), func.count().filter(order_overdue(now)))
        .where(SupervisionOrder.org_unit_id.in_(org_ids), within(SupervisionOrder.issued_at, period))
        .group_by(SupervisionOrder.org_unit_id))
    for org_id, issued, overdue in rows:
        out[org_id]["orders"] = {"issued": issued, "overdue": overdue}


def _ratings(session, period, org_ids, out) -> None:
    rows = session.execute(
        select(CaseRating.org_unit_id, func.count(), func.avg(CaseRating.score))
        .where(CaseRating.org_unit_id.in_(org_ids), within(CaseRating.created_at, period))
        .group_by(CaseRating.org_unit_id))
    for org_id, n, avg in rows:
        out[org_id]["ratings"], out[org_id]["rating_avg"] = n, round(float(avg), 2) if avg is not None else None


def active_items(period: Period):
    """Items active with a flow published before the period ended (a select of item ids and org units)."""
    published = select(ProcessDefinition.id).where(ProcessDefinition.item_id == PowerItem.id,
                                                   ProcessDefinition.published_at < period.end).exists()
    return select(PowerItem.id, PowerItem.org_unit_id).where(PowerItem.status == "active", published)


def _items(session, period, org_ids, out) -> None:
    active = dict(session.execute(active_items(period).where(PowerItem.org_unit_id.in_(org_ids))).tuples().all())
    # The items that had a case in the period: a DISTINCT over the period's cases, at most one row per item.
    used = set(session.scalars(select(Case.item_id).where(Case.org_unit_id.in_(org_ids),
                                                          within(Case.created_at, period)).distinct()))
    for item_id, org_id in active.items():
        out[org_id]["items_active"] += 1
        out[org_id]["items_with_cases"] += item_id in used


def _evaluations(session, period, org_ids, out) -> None:
    rows = session.execute(
        select(EvaluationResponse.org_unit_id, func.avg(EvaluationResponse.score))
        .join(EvaluationCampaign, EvaluationCampaign.id == EvaluationResponse.campaign_id)
        .join(CampaignDepartment, and_(CampaignDepartment.campaign_id == EvaluationCampaign.id,
                                       CampaignDepartment.org_unit_id == EvaluationResponse.org_unit_id))
        .where(EvaluationCampaign.period.in_(labels_within(period)), EvaluationResponse.org_unit_id.in_(org_ids))
        .group_by(EvaluationResponse.org_unit_id))
    for org_id, avg in rows:
        out[org_id]["evaluation_avg"] = round(float(avg), 2) if avg is not None else None
