"""Supervision notices (电子监察): raised by the system, addressed to clerks and supervisors at once."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.orgs.models import User

NOTICE_LEVELS = ("warning", "yellow", "red")


class SupervisionNotice(Base):
    __tablename__ = "supervision_notices"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    task_bpmn_id: Mapped[str | None] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    # What raised it, e.g. "timer:<task uuid>:<n>": unique, so a signal can never notify twice.
    source_key: Mapped[str] = mapped_column(String(200), unique=True)
    created_at: Mapped[datetime] = mapped_column(index=True)

    recipients: Mapped[list["NoticeRecipient"]] = relationship(
        lazy="selectin", cascade="all, delete-orphan", order_by="NoticeRecipient.id")


class NoticeRecipient(Base):
    __tablename__ = "notice_recipients"
    __table_args__ = (UniqueConstraint("notice_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    notice_id: Mapped[int] = mapped_column(ForeignKey("supervision_notices.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    as_role: Mapped[str] = mapped_column(String(16))  # "clerk" or "supervisor"
    acknowledged_at: Mapped[datetime | None] = mapped_column()

    user: Mapped[User] = relationship(lazy="joined")
