"""人大代表、政协委员评议: deputies and CPPCC members (role `evaluator`) score the departments of a campaign once
each (0–100, with a comment); the mean folds into each department's score by the scheme."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.orgs.models import OrgUnit, User
from app.orgs.service import REGISTRY
from app.settings import Settings

from . import periods
from .models import CampaignDepartment, CampaignEvaluator, EvaluationCampaign, EvaluationResponse

MAX_MEMBERS = 500


def _names(body: dict, field: str) -> list[str]:
    raw = body.get(field)
    ok = isinstance(raw, list) and 0 < len(raw) <= MAX_MEMBERS and all(
        isinstance(x, str) and 0 < len(x) <= 64 and "\x00" not in x for x in raw)
    if not ok:
        raise Invalid(f"{field} must be a non-empty list of at most {MAX_MEMBERS} names", details=[{"field": field}])
    return sorted(set(raw))


def create(session: Session, settings: Settings, actor: User, body: dict) -> EvaluationCampaign:
    """A campaign of one period: its title, its evaluators (users of role evaluator) and its departments."""
    if actor.role != "admin":
        raise Forbidden("evaluation campaigns are set up by an admin")
    period = periods.parse(body.get("period"), settings.tz)
    title = body.get("title")
    if not isinstance(title, str) or not title.strip() or len(title) > 300 or "\x00" in title:
        raise Invalid("title is required (at most 300 characters)", details=[{"field": "title"}])
    names, codes = _names(body, "evaluators"), _names(body, "departments")
    evaluators = list(session.scalars(select(User).where(User.username.in_(names), User.role == "evaluator")))
    unknown = sorted(set(names) - {u.username for u in evaluators})
    if unknown:
        raise Invalid(f"not evaluators: {', '.join(unknown)}", details=[{"field": "evaluators", "value": unknown}])
    units = list(session.scalars(select(OrgUnit).where(OrgUnit.code.in_(codes),
                                                       OrgUnit.kind.in_(("department", "street")))))
    missing = sorted(set(codes) - {u.code for u in units})
    if missing or any(not actor.org_unit.contains(u) for u in units):
        raise Invalid(f"not departments in your scope: {', '.join(missing) or 'some'}",
                      details=[{"field": "departments", "value": missing}])
    campaign = EvaluationCampaign(period=period.label, title=title.strip(), created_at=clock.now(),
                                  created_by=actor.username)
    session.add(campaign)
    session.flush()
    session.add_all([CampaignEvaluator(campaign_id=campaign.id, user_id=u.id) for u in evaluators])
    session.add_all([CampaignDepartment(campaign_id=campaign.id, org_unit_id=u.id) for u in units])
    audit.record(session, REGISTRY, "evaluation_campaign_created", actor.username,
                 detail={"campaign": campaign.id, "period": campaign.period, "title": campaign.title,
                         "evaluators": names, "departments": codes})
    return campaign


def _campaign(session: Session, campaign_id: int) -> EvaluationCampaign:
    campaign = session.get(EvaluationCampaign, campaign_id)
    if campaign is None:
        raise NotFound(f"no campaign {campaign_id}")
    return campaign


def _member(session: Session, campaign_id: int, user: User) -> bool:
    return session.get(CampaignEvaluator, (campaign_id, user.id)) is not None


def respond(session: Session, actor: User, campaign_id: int, body: dict) -> EvaluationResponse:
    """An evaluator's one score (0–100) and comment for one department of their campaign."""
    if actor.role != "evaluator":
        raise Forbidden("only the campaign's evaluators respond")
    campaign = _campaign(session, campaign_id)
    if not _member(session, campaign.id, actor):
        raise NotFound(f"no campaign {campaign_id}")  # another campaign is not theirs to see
    unit = session.scalar(select(OrgUnit).join(CampaignDepartment, CampaignDepartment.org_unit_id == OrgUnit.id)
                          .where(CampaignDepartment.campaign_id == campaign.id,
                                 OrgUnit.code == body.get("department")))
    if unit is None:
        raise Invalid("department is not one of this campaign's", details=[{"field": "department"}])
    score, comment = body.get("score"), body.get("comment") or ""
    if isinstance(score, bool) or not isinstance(score, int) or not 0 <= score <= 100:
        raise Invalid("score must be a whole number from 0 to 100", details=[{"field": "score"}])
    if not isinstance(comment, str) or len(comment) > 2000 or "\x00" in comment:
        raise Invalid("comment must be text (at most 2000 characters)", details=[{"field": "comment"}])
    response = EvaluationResponse(campaign_id=campaign.id, evaluator_id=actor.id, org_unit_id=unit.id, score=score,
                                  comment=comment.strip() or None, created_at=clock.now())
    try:
        with session.begin_nested():
            session.add(response)
    except IntegrityError:
        raise Conflict(f"you have evaluated {unit.code} in this campaign already", code="duplicate") from None
    audit.record(session, REGISTRY, "evaluation_responded", actor.username,
                 detail={"campaign": campaign.id, "department": unit.code, "score": score})
    return response


def visible(session: Session, actor: User) -> list[EvaluationCampaign]:
    """Admins and supervisors see every campaign; an evaluator only their own."""
    query = select(EvaluationCampaign).order_by(EvaluationCampaign.id.desc())
    if actor.role == "evaluator":
        query = query.join(CampaignEvaluator, CampaignEvaluator.campaign_id == EvaluationCampaign.id).where(
            CampaignEvaluator.user_id == actor.id)
    elif actor.role not in ("admin", "supervisor"):
        raise Forbidden("evaluation campaigns are for admins, supervisors and their evaluators")
    return list(session.scalars(query.limit(200)))


def describe(session: Session, campaign: EvaluationCampaign, viewer: User) -> dict:
    """The campaign with its departments; for an evaluator, their own responses."""
    units = list(session.scalars(select(OrgUnit).join(CampaignDepartment, CampaignDepartment.org_unit_id == OrgUnit.id)
                                 .where(CampaignDepartment.campaign_id == campaign.id).order_by(OrgUnit.code)))
    mine = {}
    if viewer.role == "evaluator":
        mine = {r.org_unit_id: r for r in session.scalars(select(EvaluationResponse).where(
            EvaluationResponse.campaign_id == campaign.id, EvaluationResponse.evaluator_id == viewer.id))}
    evaluators = list(session.scalars(select(User.username).join(CampaignEvaluator, CampaignEvaluator.user_id == User.id)
                                      .where(CampaignEvaluator.campaign_id == campaign.id).order_by(User.username)))
    return {"id": campaign.id, "period": campaign.period, "title": campaign.title, "created_at": campaign.created_at,
            "evaluators": evaluators if viewer.role != "evaluator" else None,
            "departments": [{"code": u.code, "name": u.name,
                             "my_score": mine[u.id].score if u.id in mine else None,
                             "my_comment": mine[u.id].comment if u.id in mine else None} for u in units]}


def check_can_see(session: Session, actor: User, campaign_id: int) -> EvaluationCampaign:
    campaign = _campaign(session, campaign_id)
    if actor.role == "evaluator" and not _member(session, campaign.id, actor):
        raise NotFound(f"no campaign {campaign_id}")
    if actor.role not in ("admin", "supervisor", "evaluator"):
        raise Forbidden("evaluation campaigns are for admins, supervisors and their evaluators")
    return campaign
