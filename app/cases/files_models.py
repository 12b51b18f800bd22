"""Uploaded materials (申请材料): one row per upload; the bytes live on disk, content-addressed by SHA-256.

A file is fetched only by its `public_id`, a random token (never the row id), and only by staff who can see
the uploader's org unit or the case it was attached to. `case_id` is empty until a case is opened with it.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class CaseFile(Base):
    __tablename__ = "case_files"
    # A user's uploads of the last day, summed for the upload quota on every upload.
    __table_args__ = (Index("ix_case_files_uploader_time", "uploaded_by_id", "uploaded_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(64), unique=True)  # random token: the only way to fetch it
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)  # the uploader's
    uploaded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    uploaded_at: Mapped[datetime] = mapped_column()
    filename: Mapped[str] = mapped_column(String(255))  # sanitised; only ever used as a download name
    content_type: Mapped[str] = mapped_column(String(100))  # sniffed from the bytes, never the client's word
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    storage_key: Mapped[str] = mapped_column(String(200))  # path under FILE_STORAGE_DIR (from the hash)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)  # set once, at acceptance
    material_name: Mapped[str | None] = mapped_column(String(300))
