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
    # The spec cache key when DMN files came with the diagram (a hash over all of them); null: the BPMN's sha256.
    spec_key: Mapped[str | None] = mapped_column(String(64))
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
    start_messages: Mapped[list["DefinitionStartMessage"]] = relationship(lazy="select", cascade="all, delete-orphan")
    decision_files: Mapped[list["DecisionFile"]] = relationship(lazy="select", cascade="all, delete-orphan",
                                                               order_by="DecisionFile.position")
    calls: Mapped[list["DefinitionCall"]] = relationship(lazy="select", cascade="all, delete-orphan",
                                                         foreign_keys="DefinitionCall.definition_id",
                                                         order_by="DefinitionCall.process_id")


class DefinitionCall(Base):
    """A shared flow (a published definition of this department or above, e.g. the district's 法制审核 sub-flow)
    that a call activity of this version calls, pinned to the version published when this one was uploaded."""

    __tablename__ = "definition_calls"
    __table_args__ = (UniqueConstraint("definition_id", "process_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    process_id: Mapped[str] = mapped_column(String(200))
    called_definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    called: Mapped["ProcessDefinition"] = relationship(foreign_keys=[called_definition_id], lazy="joined")


class DecisionFile(Base):
    """A DMN file uploaded with a definition version (决策表, e.g. 行政处罚裁量基准): versioned, reviewed and pinned
    with the diagram; `tables` describes its decision tables for the pages and the review."""

    __tablename__ = "decision_files"
    __table_args__ = (UniqueConstraint("definition_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    position: Mapped[int]  # upload order (part of the spec key)
    filename: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
    xml: Mapped[str] = mapped_column(Text, deferred=True)
    tables: Mapped[list] = mapped_column(default=list)

class DefinitionStartMessage(Base):
    """A message whose arrival starts a case of this definition (a message start event of its process)."""

    __tablename__ = "definition_start_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
