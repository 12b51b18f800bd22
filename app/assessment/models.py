"""The assessment's own records: the scheme, published versions, and the deputies' evaluation campaigns.

The figures themselves are never stored while a period is a draft: they are computed in SQL from the facts
(cases, notices, orders, ratings, items, definitions). Publishing freezes them as a version (figures and the
scheme they were scored with), never recomputed.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class AssessmentScheme(Base):
    """Weights, deductions and grade thresholds (one row, id 1); absent: the documented default."""

    __tablename__ = "assessment_schemes"

    id: Mapped[int] = mapped_column(primary_key=True)
    config: Mapped[dict] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column()
    updated_by: Mapped[str] = mapped_column(String(64))


class AssessmentVersion(Base):
    """A published assessment of one period: version N+1 of it, frozen."""

    __tablename__ = "assessment_versions"
    __table_args__ = (UniqueConstraint("period", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(8), index=True)  # 2026-11 | 2026-Q4 | 2026
    version: Mapped[int]
    published_at: Mapped[datetime] = mapped_column()
    published_by: Mapped[str] = mapped_column(String(64))
    generated_at: Mapped[datetime] = mapped_column()  # when the frozen figures were computed
    scheme: Mapped[dict] = mapped_column()
    departments: Mapped[list] = mapped_column()  # [{org_code, org_name, …figures, score, grade}]


class EvaluationCampaign(Base):
    """人大代表、政协委员评议: a campaign of one period, its evaluators and the departments they evaluate."""

    __tablename__ = "evaluation_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    period: Mapped[str] = mapped_column(String(8), index=True)
    title: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column()
    created_by: Mapped[str] = mapped_column(String(64))


class CampaignEvaluator(Base):
    __tablename__ = "evaluation_campaign_evaluators"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("evaluation_campaigns.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)


class CampaignDepartment(Base):
    __tablename__ = "evaluation_campaign_departments"

    campaign_id: Mapped[int] = mapped_column(ForeignKey("evaluation_campaigns.id"), primary_key=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)


class EvaluationResponse(Base):
    """One evaluator's score (0–100) and comment for one department of a campaign, once."""

    __tablename__ = "evaluation_responses"
    __table_args__ = (UniqueConstraint("campaign_id", "evaluator_id", "org_unit_id"),
                      CheckConstraint("score BETWEEN 0 AND 100", name="score_range"))

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("evaluation_campaigns.id"), index=True)
    evaluator_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    score: Mapped[int]
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
