"""Supervision notices (电子监察): raised by the system, addressed to clerks and supervisors at once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.orgs.models import User

NOTICE_LEVELS = ("warning", "yellow", "red")


class SupervisionNotice(Base):
    __tablename__ = "supervision_notices"
    # A department's notices over a period by level (the assessment's cards, the board's months) from the
    # index alone.
    __table_args__ = (Index("ix_supervision_notices_org_created_level", "org_unit_id", "created_at", "level"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)  # None: a district-wide notice
    # The case's department, kept on the notice so the assessment counts a period's cards per department
    # from one index range instead of joining every case of the department.
    org_unit_id: Mapped[int | None] = mapped_column(ForeignKey("org_units.id"))
    task_bpmn_id: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)  # the Chinese sentence, as the API and the mail give it
    # The same as a message key and its parameters (app/supervision/reasons.py), so a page shows it in the
    # reader's language; None on notices from before keys were kept (shown as the sentence).
    reason_key: Mapped[str | None] = mapped_column(String(200))
    reason_params: Mapped[dict | None] = mapped_column()
    # What raised it, e.g. "timer:<task uuid>:<n>": unique, so a signal can never notify twice.
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(index=True)
    # When the condition it reported went away by itself (e.g. the missing calendar year was entered).
    resolved_at: Mapped[datetime | None] = mapped_column()

    recipients: Mapped[list["NoticeRecipient"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="NoticeRecipient.id")


class NoticeRecipient(Base):
    __tablename__ = "notice_recipients"
    # A person's inbox, newest first, and its unread count (the header shows it on every page).
    __table_args__ = (UniqueConstraint("notice_id", "user_id"),
                      Index("ix_notice_recipients_inbox", "user_id", "notice_id"),
                      Index("ix_notice_recipients_unread", "user_id", "acknowledged_at", "notice_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("supervision_notices.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    as_role: Mapped[str] = mapped_column(String(16))  # "clerk" or "supervisor"
    acknowledged_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(lazy="joined")


class NoticeDelivery(Base):
    """Outbox: one row per recipient and channel; channels retry until sent, so nothing is lost."""

    __tablename__ = "notice_deliveries"
    __table_args__ = (UniqueConstraint("notice_id", "user_id", "channel"),
                      Index("ix_notice_deliveries_due", "status", "next_attempt_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("supervision_notices.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(16))  # "inbox" | "smtp"
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | sent | failed
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column()

    notice: Mapped[SupervisionNotice] = relationship(lazy="raise")  # set when queued; the FK follows at flush


ORDER_STATUSES = ("open", "replied", "closed")


class SupervisionOrder(Base):
    """A 督办 order: a supervisor's instruction on a case (or notice) with a rectification deadline."""

    __tablename__ = "supervision_orders"
    __table_args__ = (Index("ix_supervision_orders_org_issued", "org_unit_id", "issued_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    order_no: Mapped[str] = mapped_column(String(32), unique=True)  # 督办编号
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))  # the case's, for the assessment
    notice_id: Mapped[int | None] = mapped_column(ForeignKey("supervision_notices.id"))
    instruction: Mapped[str] = mapped_column(Text)
    due_at: Mapped[datetime] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column()
    closed_at: Mapped[datetime | None] = mapped_column()
    escalated_at: Mapped[datetime | None] = mapped_column(index=True)  # set once when it went overdue

    messages: Mapped[list["OrderMessage"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="OrderMessage.id")


class OrderMessage(Base):
    __tablename__ = "order_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("supervision_orders.id"), index=True)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(16))  # issue | reply | close | reopen | escalate
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column()

    author: Mapped[User | None] = relationship(lazy="joined")


class SupervisionRule(Base):
    """A named rule beyond time (e.g. R01 step completed implausibly fast), configurable per district."""

    __tablename__ = "supervision_rules"

    code: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))  # warning | yellow | red
    enabled: Mapped[bool] = mapped_column(default=True)
    params: Mapped[dict] = mapped_column(default=dict)
