"""Cases (办件): the engine state blob plus projections that lists read without loading workflows."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import PowerItem
from app.db import Base
from app.definitions.models import ProcessDefinition

CASE_STATUSES = ("running", "completed", "suspended", "terminated")


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    query_code_hash: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[int] = mapped_column(ForeignKey("power_items.id"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    applicant: Mapped[dict] = mapped_column(default=dict)  # {name, id_number, phone}: never public
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    state: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)  # engine blob (gzip JSON, spec by reference)
    serializer_version: Mapped[str] = mapped_column(String(16))
    version: Mapped[int] = mapped_column(default=1)  # optimistic lock: bumped by every save
    next_timer_due_at: Mapped[datetime | None] = mapped_column(index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    # Deadlines counted in working days from acceptance (承诺 promised, 法定 statutory), kept here and
    # recomputed on every clock stop, resume, extension and calendar edit (see app/supervision/deadlines.py).
    accepted_at: Mapped[datetime | None] = mapped_column()
    promised_due_at: Mapped[datetime | None] = mapped_column()
    statutory_due_at: Mapped[datetime | None] = mapped_column()
    warn_at: Mapped[datetime | None] = mapped_column()
    extension_days: Mapped[int] = mapped_column(default=0, server_default="0")  # 延期: approved extra working days (statutory)
    suspended_days: Mapped[int] = mapped_column(default=0, server_default="0")  # working days spent in finished clock stops
    calendar_complete: Mapped[bool] = mapped_column(default=True)
    card: Mapped[str] = mapped_column(String(16), default="none", server_default="none")  # none | warning | yellow | red
    signalled: Mapped[list] = mapped_column(default=list, server_default="[]")  # deadline signals already raised: warning, yellow, red
    order_due_at: Mapped[datetime | None] = mapped_column()  # earliest deadline of its open 督办 orders
    # The next moment the worker must look at this case (a timer, a deadline signal, an order falling
    # overdue): min of the three, so one indexed query finds everything due.
    wake_at: Mapped[datetime | None] = mapped_column(index=True)

    item: Mapped[PowerItem] = relationship(lazy="joined")
    definition: Mapped[ProcessDefinition] = relationship(lazy="raise")
    tasks: Mapped[list["CaseTask"]] = relationship(
        lazy="select", order_by="CaseTask.seq", cascade="all, delete-orphan", back_populates="case")

    __mapper_args__ = {"version_id_col": version}


class CaseTask(Base):
    """Projection of a case's visible tasks (user steps and waiting events): the worklist and history."""

    __tablename__ = "case_tasks"
    __table_args__ = (Index("ix_case_tasks_worklist", "org_unit_id", "state", "lane"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's task UUID
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    seq: Mapped[int]  # order of first appearance, for a stable history
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))  # "user" or "event"
    state: Mapped[str] = mapped_column(String(16))  # ready | waiting | completed | cancelled
    created_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opinion: Mapped[str | None] = mapped_column(Text)

    case: Mapped[Case] = relationship(back_populates="tasks", lazy="raise")


SUSPENSION_KINDS = ("supplement", "hearing", "testing", "inspection", "appraisal", "expert_review", "other")


class CaseSuspension(Base):
    """A clock stop (补正 supplement, hearing, testing, expert review…): the time is not counted."""

    __tablename__ = "case_suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    expected_days: Mapped[int | None] = mapped_column()
    missing_materials: Mapped[list] = mapped_column(default=list)  # the one-time list (一次性告知) for 补正
    started_at: Mapped[datetime] = mapped_column()
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column()
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    working_days: Mapped[int | None] = mapped_column()  # counted when the clock restarts


class CaseExtension(Base):
    """An extension (延期) of the statutory limit, approved by a leader with a reason."""

    __tablename__ = "case_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    working_days: Mapped[int]
    reason: Mapped[str] = mapped_column(Text)
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column()


class CaseRating(Base):
    """好差评: the applicant's rating of a completed case — five levels, one per case, nothing personal."""

    __tablename__ = "case_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    score: Mapped[int]  # 5 非常满意 … 1 非常不满意
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
