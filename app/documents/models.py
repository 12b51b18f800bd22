"""Documents issued on cases, and the counters their numbers (文号) come from."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

DOCUMENT_KINDS = ("acceptance_notice", "supplement_notice", "refusal_decision", "decision")
DOCUMENT_STATUSES = ("valid", "superseded", "withdrawn")


class Document(Base):
    """One document issued on a case. It is numbered and its content (`markup`, the filled-in template) fixed in
    the case action's transaction; the PDF is rendered from that markup afterwards — by the timer worker, or on
    the first request that needs it — and its bytes live on disk by their SHA-256 (like uploaded materials).
    Rendering takes 0.1–0.3 s, too long to hold a case lock (and SQLite's write lock) for (issue 14)."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("org_unit_id", "kind", "year", "serial", name="uq_documents_serial"),
                      Index("ix_documents_unrendered", "id", sqlite_where=text("sha256 IS NULL"),
                            postgresql_where=text("sha256 IS NULL")))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    kind: Mapped[str] = mapped_column(String(32))
    year: Mapped[int]
    serial: Mapped[int]  # 1, 2, 3… per department, kind and year, without gaps
    number: Mapped[str] = mapped_column(String(100), unique=True)  # 文号, e.g. CA01受〔2026〕7号
    created_at: Mapped[datetime] = mapped_column()
    markup: Mapped[str | None] = mapped_column(Text, deferred=True)  # the HTML as issued: what the PDF is rendered from
    sha256: Mapped[str | None] = mapped_column(String(64))  # these three are None until the PDF is rendered
    storage_key: Mapped[str | None] = mapped_column(String(200))
    size: Mapped[int | None]
    # Printed on the PDF: with the number it opens the public check page (hash and status), nothing personal.
    verification_code: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="valid", server_default="valid")
    status_reason: Mapped[str | None] = mapped_column(Text)
    decision_id: Mapped[int | None] = mapped_column(ForeignKey("case_decisions.id"))  # a 决定书's decision


class DocumentCounter(Base):
    """The last number given per department, kind and year: updated (row-locked) in the issuing transaction,
    so numbers are unique and gap-free even with many acceptances at once, and a rolled-back action gives its
    number back."""

    __tablename__ = "document_counters"

    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    year: Mapped[int] = mapped_column(primary_key=True)
    last_serial: Mapped[int] = mapped_column(default=0)
