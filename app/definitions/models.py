"""Process definitions: immutable BPMN versions of an item's flow and their legal review."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.catalog.models import PowerItem
from app.db import Base

DEFINITION_STATUSES = ("draft", "in_review", "published", "rejected", "retired")


class ProcessDefinition(Base):
    __tablename__ = "process_definitions"
    __table_args__ = (UniqueConstraint("item_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("power_items.id"), index=True)
    version: Mapped[int]
    xml: Mapped[str] = mapped_column(Text, deferred=True)  # read only when the spec is not cached yet
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    process_id: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    warnings: Mapped[list] = mapped_column(default=list)
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column()
    submitted_at: Mapped[datetime | None] = mapped_column()
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column()
    review_comment: Mapped[str | None] = mapped_column(Text)
    # The legal office's remarks pinned on elements: [{element_id, comment}].
    element_comments: Mapped[list] = mapped_column(default=list, server_default="[]")
    published_at: Mapped[datetime | None] = mapped_column()

    item: Mapped[PowerItem] = relationship(lazy="joined")
