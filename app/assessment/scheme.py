"""The assessment scheme (考核办法): how a department's figures make a score of 0–100 and a grade.

The default is the usual shape of a district's 政务服务/电子监察 百分制 assessment (domain.md C6: volume, on-time rate,
warnings, online-run rate, satisfaction, deputies' evaluation; graded 优秀/良好/合格/不合格). No national standard
fixes the numbers, so they are a starting point a district replaces with its own 考核办法 (PUT /api/v1/assessment/
scheme, audited):

  按时办结 on_time       40  × on_time_rate
  网上运行 online_run    20  × online_run_rate
  电子监察 supervision   15  − 0.5 per 预警, 1 per 黄牌, 2 per 红牌, 2 per overdue 督办 order (not below 0)
  群众满意 satisfaction  15  × (rating_avg − 1) / 4          (好差评 1–5)
  代表评议 evaluation    10  × evaluation_avg / 100
  grades: 优秀 ≥ 90, 良好 ≥ 80, 合格 ≥ 60, else 不合格 (the common thresholds of public-sector 考核)

A figure that does not exist for a department in a period (no case completed, no rating, no evaluation) is not
scored as zero: its weight is shared out over the parts that do exist, so a small department is not punished for
having had nothing to rate. A department that ran no power at all in the period (no active item, no case) gets no
score and no grade (不参评).
"""
from __future__ import annotations

from copy import deepcopy

from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.errors import Invalid
from app.orgs.models import User
from app.orgs.service import REGISTRY, require_district_admin

from .models import AssessmentScheme

PARTS = ("on_time", "online_run", "supervision", "satisfaction", "evaluation")
DEDUCTIONS = ("warning", "yellow", "red", "order_overdue")
GRADES = ("优秀", "良好", "合格")  # thresholds, highest first; below the last: 不合格
FAIL = "不合格"
DEFAULT = {
    "weights": {"on_time": 40, "online_run": 20, "supervision": 15, "satisfaction": 15, "evaluation": 10},
    "deductions": {"warning": 0.5, "yellow": 1, "red": 2, "order_overdue": 2},
    "grades": {"优秀": 90, "良好": 80, "合格": 60},
}


def current(session: Session) -> dict:
    row = session.get(AssessmentScheme, 1)
    return deepcopy(row.config) if row else deepcopy(DEFAULT)


def update(session: Session, actor: User, body) -> dict:
    """Replace the scheme (a whole or partial body: weights, deductions, grades), checked and audited."""
    require_district_admin(actor, "the assessment scheme")
    actor_name, before = actor.username, current(session)
    if not isinstance(body, dict) or not body or set(body) - set(DEFAULT):
        raise Invalid("send {weights, deductions, grades} (any of them)", details=[{"field": "body"}])
    after = deepcopy(before)
    for section, keys in (("weights", PARTS), ("deductions", DEDUCTIONS), ("grades", GRADES)):
        if section in body:
            after[section] = _numbers(body[section], section, keys)
    _check(after)
    row = session.get(AssessmentScheme, 1, with_for_update=True)
    if row is None:
        row = AssessmentScheme(id=1, config=after, updated_at=clock.now(), updated_by=actor_name)
        session.add(row)
    row.config, row.updated_at, row.updated_by = after, clock.now(), actor_name
    audit.record(session, REGISTRY, "assessment_scheme_changed", actor_name, detail={"before": before, "after": after})
    return after


def _numbers(raw, section: str, keys: tuple[str, ...]) -> dict:
    if not isinstance(raw, dict) or set(raw) != set(keys):
        raise Invalid(f"{section} must have exactly {', '.join(keys)}", details=[{"field": section}])
    out = {}
    for key in keys:
        value = raw[key]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 100:
            raise Invalid(f"{section}.{key} must be a number from 0 to 100", details=[{"field": f"{section}.{key}"}])
        out[key] = value
    return out


def _check(config: dict) -> None:
    if abs(sum(config["weights"].values()) - 100) > 1e-6:
        raise Invalid("the weights must add up to 100", details=[{"field": "weights"}])
    levels = [config["grades"][g] for g in GRADES]
    if any(high <= low for high, low in zip(levels, levels[1:])):
        raise Invalid("the grade thresholds must fall from 优秀 to 良好 to 合格", details=[{"field": "grades"}])


def parts(figures: dict, config: dict) -> dict[str, float | None]:
    """Each part's share (0–1) for one department's figures; None where the figure does not exist."""
    weights, ded = config["weights"], config["deductions"]
    cards, orders = figures["cards"], figures["orders"]
    lost = (cards["warning"] * ded["warning"] + cards["yellow"] * ded["yellow"] + cards["red"] * ded["red"]
            + orders["overdue"] * ded["order_overdue"])
    rating, evaluation = figures["rating_avg"], figures["evaluation_avg"]
    return {
        "on_time": figures["on_time_rate"],
        "online_run": figures["online_run_rate"],
        "supervision": max(0.0, 1 - lost / weights["supervision"]) if weights["supervision"] else None,
        "satisfaction": (rating - 1) / 4 if rating is not None else None,
        "evaluation": evaluation / 100 if evaluation is not None else None,
    }


def score(figures: dict, config: dict) -> tuple[float | None, str | None]:
    """The score (0–100, one decimal) and the grade; the weights of missing parts are shared out. A department
    that ran no power in the period (no active item, no case) is not scored at all: a clean sheet of nothing
    is not a 100."""
    if not (figures["items_active"] or figures["cases_accepted"] or figures["cases_completed"]):
        return None, None
    weights, shares = config["weights"], parts(figures, config)
    present = {p: weights[p] for p in PARTS if shares[p] is not None and weights[p] > 0}
    if not present:
        return None, None
    total = 100 * sum(weights[p] * shares[p] for p in present) / sum(present.values())
    total = round(total, 1)
    return total, grade(total, config)


def grade(total: float, config: dict) -> str:
    return next((g for g in GRADES if total >= config["grades"][g]), FAIL)
