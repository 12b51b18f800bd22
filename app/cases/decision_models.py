"""Decisions (行政决定) as records of their own: what the deciding step decided, and the legal office's review.

One row per proposal or decision. A case has at most one *current* row (a unique partial index): the decision
in force, or the proposal waiting for 法制审核, or the one the legal office sent back; every earlier row stays as
it was (history), marked superseded.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

# pending_review: a major decision (重大执法决定) waiting for the legal office; rejected: sent back with the
# reason; approved: reviewed, waiting for the clerk to complete the step with it; made: in force;
# superseded: replaced by a later row; withdrawn: revoked after it was made (e.g. after reconsideration).
DECISION_STATUSES = ("pending_review", "rejected", "approved", "made", "superseded", "withdrawn")


class CaseDecision(Base):
    __tablename__ = "case_decisions"
    __table_args__ = (Index("uq_case_decisions_current", "case_id", unique=True,
                            sqlite_where=text("is_current"), postgresql_where=text("is_current")),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    is_current: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(String(16))
    task_bpmn_id: Mapped[str] = mapped_column(String(200))  # the item's decision_step when it was proposed
    outcome: Mapped[str] = mapped_column(String(16))  # granted | denied | penalty | no_penalty | other
    summary: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    amount: Mapped[float | None] = mapped_column(Float)  # yuan (罚款、征收金额…), when there is one
    major: Mapped[bool] = mapped_column(default=False)  # met the item's major_decision rule (needs 法制审核)
    proposed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed_at: Mapped[datetime] = mapped_column()
    opinion: Mapped[str | None] = mapped_column(Text)  # the clerk's opinion with the proposal
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    review_opinion: Mapped[str | None] = mapped_column(Text)  # 法制审核意见 (the reason, when sent back)
    decided_at: Mapped[datetime | None] = mapped_column()  # when the step completed with it (made)
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
