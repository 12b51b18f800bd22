"""好差评: one rating per completed case, by whoever holds its number and query code (国办发〔2019〕51号)."""
from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.errors import Conflict, Invalid
from app.settings import Settings

from . import service as cases
from .models import Case, CaseRating

LEVELS = {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}


def rate(session: Session, settings: Settings, case_no: str, code: str | None, score, comment) -> CaseRating:
    case = cases.public_progress(session, settings, case_no, code)  # 404 exactly like the progress query
    if not isinstance(score, int) or isinstance(score, bool) or score not in LEVELS:
        raise Invalid("score must be 1 (非常不满意) … 5 (非常满意)", details=[{"field": "score"}])
    if comment is not None and (not isinstance(comment, str) or len(comment) > 500):
        raise Invalid("comment must be text of at most 500 characters", details=[{"field": "comment"}])
    if case.status != "completed":
        raise Conflict("a case can be rated once it is completed", code="case_not_completed")
    if session.scalar(select(CaseRating.id).where(CaseRating.case_id == case.id)) is not None:
        raise Conflict("this case has been rated already", code="already_rated")
    rating = CaseRating(case_id=case.id, org_unit_id=case.org_unit_id, score=score, comment=(comment or "").strip() or None, created_at=clock.now())
    session.add(rating)
    session.flush()  # the unique case_id settles a race between two ratings
    audit.record(session, audit.case_stream(case.id), "case_rated", "public", case_id=case.id,
                 detail={"score": score, "level": LEVELS[score]})
    return rating


def rating_of(session: Session, case: Case) -> CaseRating | None:
    return session.scalar(select(CaseRating).where(CaseRating.case_id == case.id))


def averages_by_department(session: Session, org_ids=None) -> dict[int, tuple[float, int]]:
    """org_unit_id → (average score, number of ratings), for the supervisors' overview: grouped on the rating's
    own department (kept on the row for this), so no case is read; `org_ids` (a subquery) narrows the scope."""
    query = select(CaseRating.org_unit_id, func.avg(CaseRating.score), func.count()).group_by(CaseRating.org_unit_id)
    if org_ids is not None:
        query = query.where(CaseRating.org_unit_id.in_(org_ids))
    return {org: (round(float(avg), 2), n) for org, avg, n in session.execute(query)}
