"""The public record of decisions (双公示): one row per decision made on a licensing or penalty case, copied out
of the case (item name, category, department, the 决定书's number, the party as the public may see it), so the
public list is one indexed query on one table, whatever the size of the district."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

PUBLICATION_STATUSES = ("held", "published", "withdrawn")  # held: waiting for a clerk to publish it


class PublicDecision(Base):
    __tablename__ = "public_decisions"
    # The public list: newest published first, overall or within a category or a department.
    __table_args__ = (Index("ix_public_decisions_published", "published_at", "id"),
                      Index("ix_public_decisions_category", "category", "published_at", "id"),
                      Index("ix_public_decisions_department", "org_unit_id", "published_at", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("case_decisions.id"), unique=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    department_name: Mapped[str] = mapped_column(String(300))
    item_name: Mapped[str] = mapped_column(String(300))
    category: Mapped[str] = mapped_column(String(16))
    number: Mapped[str | None] = mapped_column(String(100))  # the 决定书's 文号
    outcome: Mapped[str] = mapped_column(String(16))
    summary: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    amount: Mapped[float | None] = mapped_column(Float)
    party: Mapped[str] = mapped_column(String(300))  # a natural person's name masked (张*); never ID or phone
    decided_at: Mapped[datetime] = mapped_column()
    status: Mapped[str] = mapped_column(String(16))
    due_at: Mapped[datetime | None] = mapped_column()  # held: to be published by then (7 working days)
    published_at: Mapped[datetime | None] = mapped_column()
    withdrawn_at: Mapped[datetime | None] = mapped_column()
    withdrawal_reason: Mapped[str | None] = mapped_column(Text)
    # Lower-cased number, item name, party and summary: what the public search `q` looks in.
    search_text: Mapped[str] = mapped_column(Text)


class PublicDecisionCount(Base):
    """How many decisions each department has published per category: the public list's `total` without a
    search is a sum over these few rows, never a count over the whole table. Published rows never leave the
    list (a withdrawn one stays, marked), so the counts only grow, in the transaction that publishes."""

    __tablename__ = "public_decision_counts"

    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    category: Mapped[str] = mapped_column(String(16), primary_key=True)
    published: Mapped[int] = mapped_column(default=0)
