"""Assessment reports: the live draft of a period, published versions (frozen), their differences, a
department's drill-down, and the public view of the latest published version.

Supervisors and admins see the departments (and streets) in their scope; publishing is for a district admin and
freezes the whole district's figures as version N+1 of the period.
"""
from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.cases.models import Case, CaseRating, OPEN_STATUSES
from app.catalog.models import PowerItem
from app.errors import Conflict, Forbidden, NotFound
from app.orgs.models import OrgUnit, User
from app.orgs.service import REGISTRY
from app.settings import Settings
from app.supervision.models import SupervisionNotice, SupervisionOrder
from app.supervision.reasons import Reason

from . import figures, periods, scheme
from .models import AssessmentVersion

VIEWERS = ("supervisor", "admin")
UNIT_KINDS = ("department", "street")
DRILL_LIMIT = 100  # rows per list of a drill-down (each list says its total)
COMPARED = ("cases_accepted", "cases_completed", "completed_on_time", "on_time_rate", "ratings", "rating_avg",
            "items_active", "items_with_cases", "online_run_rate", "evaluation_avg", "score", "grade")


def _viewer(actor: User) -> None:
    if actor.role not in VIEWERS:
        raise Forbidden("the assessment is for supervisors and admins")


def units_in_scope(session: Session, viewer: User) -> list[OrgUnit]:
    """The departments and streets the viewer can see, by code."""
    return list(session.scalars(select(OrgUnit).where(OrgUnit.kind.in_(UNIT_KINDS),
                                                      OrgUnit.path.startswith(viewer.org_unit.path))
                                .order_by(OrgUnit.code)))


def rows_of(units: list[OrgUnit], found: dict[int, dict], config: dict) -> list[dict]:
    """One row per unit: its figures, score and grade, ranked by score (best first; no score last)."""
    rows = []
    for unit in units:
        row = {"org_code": unit.code, "org_name": unit.name, "org_kind": unit.kind, **found[unit.id]}
        row["score"], row["grade"] = scheme.score(row, config)
        rows.append(row)
    rows.sort(key=lambda r: (r["score"] is None, -(r["score"] or 0), r["org_code"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def draft(session: Session, settings: Settings, viewer: User, label: str, progress=None) -> dict:
    """The period computed now from the facts, for the viewer's scope."""
    _viewer(viewer)
    period = periods.parse(label, settings.tz)
    units, now, config = units_in_scope(session, viewer), clock.now(), scheme.current(session)
    rows = rows_of(units, figures.compute(session, period, [u.id for u in units], now, progress), config)
    out = _frame(period, "draft", None, now, rows, config)
    out["latest_version"] = _latest(session, label)
    previous = _version_row(session, label, out["latest_version"]) if out["latest_version"] else None
    out["differences"] = differences(previous.departments, rows) if previous else []
    return out


def _frame(period, status: str, version, generated_at, rows: list[dict], config: dict) -> dict:
    return {"period": period.label, "kind": period.kind, "from": period.start, "to": period.end, "status": status,
            "version": version, "generated_at": generated_at, "scheme": config, "departments": rows}


def _latest(session: Session, label: str) -> int | None:
    return session.scalar(select(func.max(AssessmentVersion.version)).where(AssessmentVersion.period == label))


def _version_row(session: Session, label: str, version: int) -> AssessmentVersion | None:
    return session.scalar(select(AssessmentVersion).where(AssessmentVersion.period == label,
                                                          AssessmentVersion.version == version))


def published(session: Session, settings: Settings, viewer: User, label: str, version: int) -> dict:
    """A published version as it was frozen, the viewer's departments only, with what changed since the one
    before it."""
    _viewer(viewer)
    period = periods.parse(label, settings.tz)
    row = _version_row(session, label, version)
    if row is None:
        raise NotFound(f"no published version {version} of {label}")
    visible = {u.code for u in units_in_scope(session, viewer)}
    rows = [d for d in row.departments if d["org_code"] in visible]
    out = _frame(period, "published", row.version, row.generated_at, rows, row.scheme)
    out.update(published_at=row.published_at, published_by=row.published_by, latest_version=_latest(session, label))
    before = _version_row(session, label, version - 1) if version > 1 else None
    out["differences"] = [d for d in differences(before.departments, row.departments)
                          if d["org_code"] in visible] if before else []
    return out


def differences(old_rows: list[dict], new_rows: list[dict]) -> list[dict]:
    """What changed per department between two sets of rows: [{org_code, field, old, new}]."""
    old = {r["org_code"]: r for r in old_rows}
    out = []
    for row in new_rows:
        before = old.get(row["org_code"], {})
        for field in COMPARED:
            if before.get(field) != row.get(field):
                out.append({"org_code": row["org_code"], "field": field, "old": before.get(field),
                            "new": row.get(field)})
        for group in ("cards", "orders"):
            for key, value in row[group].items():
                was = before.get(group, {}).get(key)
                if was != value:
                    out.append({"org_code": row["org_code"], "field": f"{group}.{key}", "old": was, "new": value})
    return out


def publish(session: Session, settings: Settings, actor: User, label: str, progress=None) -> dict:
    """Freeze the whole district's figures of the period as its next version (a district admin only)."""
    if actor.role != "admin" or actor.org_unit.parent_id is not None:
        raise Forbidden("publishing an assessment is for an admin of the district")
    period = periods.parse(label, settings.tz)
    units, now, config = units_in_scope(session, actor), clock.now(), scheme.current(session)
    rows = rows_of(units, figures.compute(session, period, [u.id for u in units], now, progress), config)
    version = (_latest(session, label) or 0) + 1
    session.add(AssessmentVersion(period=label, version=version, published_at=now, published_by=actor.username,
                                  generated_at=now, scheme=config, departments=_jsonable(rows)))
    try:
        session.flush()
    except IntegrityError:
        raise Conflict(f"version {version} of {label} was published at the same moment; reload",
                       code="duplicate") from None
    audit.record(session, REGISTRY, "assessment_published", actor.username,
                 detail={"period": label, "version": version, "departments": len(rows)})
    return published(session, settings, actor, label, version)


def _jsonable(rows: list[dict]) -> list[dict]:
    return [dict(row) for row in rows]  # figures are plain numbers, texts and dicts already


def latest_public(session: Session, settings: Settings, label: str) -> dict:
    """The latest published version for everyone: department level, the figures the public may read."""
    period = periods.parse(label, settings.tz)
    version = _latest(session, label)
    if version is None:
        raise NotFound(f"no published assessment of {label} yet")
    row = _version_row(session, label, version)
    keep = ("org_name", "score", "grade", "on_time_rate", "online_run_rate", "rating_avg", "rank")
    return {"period": period.label, "version": version, "published_at": row.published_at,
            "departments": [{k: d.get(k) for k in keep} for d in row.departments]}


# --- a department's drill-down ------------------------------------------------------------------------------
def department(session: Session, settings: Settings, viewer: User, label: str, org_code: str) -> dict:
    """One department's figures of the period with the facts behind them: late cases, cards, orders, bad
    ratings with their comments, the items that ran no case (双轨/体外循环 suspects) and R01/R02 notices."""
    _viewer(viewer)
    period = periods.parse(label, settings.tz)
    unit = next((u for u in units_in_scope(session, viewer) if u.code == org_code), None)
    if unit is None:
        raise NotFound(f"no department {org_code} in your scope")
    now, config = clock.now(), scheme.current(session)
    [row] = rows_of([unit], figures.compute(session, period, [unit.id], now), config)
    return {"period": period.label, "from": period.start, "to": period.end, "department": row,
            "late_cases": _late_cases(session, period, unit.id, now), "cards": _cards(session, period, unit.id),
            "orders": _orders(session, period, unit.id, now), "bad_ratings": _bad_ratings(session, period, unit.id),
            "idle_items": _idle_items(session, period, unit.id), "rule_notices": _rule_notices(session, period, unit.id)}


def _listed(session: Session, query, shape) -> dict:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    return {"total": total or 0, "rows": [shape(r) for r in session.execute(query.limit(DRILL_LIMIT))]}


def _late_cases(session, period, org_id: int, now) -> dict:
    """Completed in the period after the statutory limit, or still open past it at the period's end."""
    moment = min(now, period.end)
    late_done = and_(Case.status == "completed", figures.within(Case.completed_at, period), ~figures.on_time())
    late_open = and_(Case.status.in_(OPEN_STATUSES), Case.statutory_due_at < moment, Case.created_at < period.end)
    query = (select(Case.case_no, PowerItem.name, Case.status, Case.statutory_due_at, Case.completed_at, Case.card)
             .join(PowerItem, PowerItem.id == Case.item_id)
             .where(Case.org_unit_id == org_id, late_done | late_open).order_by(Case.statutory_due_at, Case.id))
    return _listed(session, query, lambda r: {"case_no": r[0], "item_name": r[1], "status": r[2],
                                              "statutory_due_at": r[3], "completed_at": r[4], "card": r[5]})


def _cards(session, period, org_id: int) -> dict:
    query = (select(Case.case_no, SupervisionNotice.level, SupervisionNotice.reason, SupervisionNotice.created_at,
                    SupervisionNotice.reason_key, SupervisionNotice.reason_params)
             .join(Case, Case.id == SupervisionNotice.case_id)
             .where(SupervisionNotice.org_unit_id == org_id, figures.within(SupervisionNotice.created_at, period))
             .order_by(SupervisionNotice.created_at.desc(), SupervisionNotice.id.desc()))
    return _listed(session, query, lambda r: {"case_no": r[0], "level": r[1], "reason": r[2], "created_at": r[3],
                                              "message": Reason.stored(r[2], r[4], r[5]).message()})


def _orders(session, period, org_id: int, now) -> dict:
    query = (select(SupervisionOrder.order_no, Case.case_no, SupervisionOrder.status, SupervisionOrder.due_at,
                    SupervisionOrder.closed_at, figures.order_overdue(now))
             .join(Case, Case.id == SupervisionOrder.case_id)
             .where(SupervisionOrder.org_unit_id == org_id, figures.within(SupervisionOrder.issued_at, period))
             .order_by(SupervisionOrder.issued_at.desc(), SupervisionOrder.id.desc()))
    return _listed(session, query, lambda r: {"order_no": r[0], "case_no": r[1], "status": r[2], "due_at": r[3],
                                              "closed_at": r[4], "overdue": bool(r[5])})


BAD_RATING = 2  # 好差评: 2 不满意, 1 非常不满意 (差评)


def _bad_ratings(session, period, org_id: int) -> dict:
    query = (select(Case.case_no, CaseRating.score, CaseRating.comment, CaseRating.created_at)
             .join(Case, Case.id == CaseRating.case_id)
             .where(CaseRating.org_unit_id == org_id, CaseRating.score <= BAD_RATING,
                    figures.within(CaseRating.created_at, period))
             .order_by(CaseRating.created_at.desc(), CaseRating.id.desc()))
    return _listed(session, query, lambda r: {"case_no": r[0], "score": r[1], "comment": r[2], "created_at": r[3]})


def _idle_items(session, period, org_id: int) -> dict:
    """Active items with a published flow that ran no case in the period: are they handled outside?"""
    used = select(Case.item_id).where(Case.org_unit_id == org_id, figures.within(Case.created_at, period))
    active = figures.active_items(period).where(PowerItem.org_unit_id == org_id).subquery()
    query = (select(PowerItem.code, PowerItem.name, PowerItem.category).join(active, active.c.id == PowerItem.id)
             .where(PowerItem.id.not_in(used)).order_by(PowerItem.code))
    return _listed(session, query, lambda r: {"code": r[0], "name": r[1], "category": r[2]})


def _rule_notices(session, period, org_id: int) -> dict:
    """R01 (a step implausibly fast) and R02 (a case created and finished in one burst): the other half of the
    体外循环 picture beside the idle items."""
    query = (select(Case.case_no, SupervisionNotice.reason, SupervisionNotice.created_at, SupervisionNotice.reason_key,
                    SupervisionNotice.reason_params)
             .join(Case, Case.id == SupervisionNotice.case_id)
             .where(SupervisionNotice.org_unit_id == org_id, figures.within(SupervisionNotice.created_at, period),
                    SupervisionNotice.source_key.like("rule:R01:%") | SupervisionNotice.source_key.like("rule:R02:%"))
             .order_by(SupervisionNotice.created_at.desc()))
    return _listed(session, query, lambda r: {"case_no": r[0], "reason": r[1], "created_at": r[2],
                                              "message": Reason.stored(r[1], r[3], r[4]).message()})
