"""Documents issued on cases, and the counters their numbers (文号) come from."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base

DOCUMENT_KINDS = ("acceptance_notice", "supplement_notice", "refusal_decision", "decision")
DOCUMENT_STATUSES = ("valid", "superseded", "withdrawn")


class Document(Base):
    """One PDF issued on a case. Its bytes live on disk by their SHA-256 (like uploaded materials)."""

    __tablename__ = "documents"
    __table_args__ = (UniqueConstraint("org_unit_id", "kind", "year", "serial", name="uq_documents_serial"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    kind: Mapped[str] = mapped_column(String(32))
    year: Mapped[int]
    serial: Mapped[int]  # 1, 2, 3… per department, kind and year, without gaps
    number: Mapped[str] = mapped_column(String(100), unique=True)  # 文号, e.g. CA01受〔2026〕7号
    created_at: Mapped[datetime] = mapped_column()
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200))
    size: Mapped[int]
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
