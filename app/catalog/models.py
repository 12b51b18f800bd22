"""Power items (行政权力事项): the catalogue entry and its public elements."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.orgs.models import OrgUnit

CATEGORIES = ("licensing", "penalty", "enforcement", "levy", "other")
ITEM_STATUSES = ("draft", "active", "suspended", "abolished")


class PowerItem(Base):
    __tablename__ = "power_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    category: Mapped[str] = mapped_column(String(16), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    promised_days: Mapped[int]  # 承诺时限, working days
    statutory_days: Mapped[int]  # 法定时限, working days
    warn_days: Mapped[int] = mapped_column(default=1, server_default="1")  # 预警: this many working days before the promised limit
    accepting_authority: Mapped[str] = mapped_column(String(300), default="")
    implementing_body: Mapped[str] = mapped_column(String(300), default="")
    supervision_phone: Mapped[str] = mapped_column(String(64), default="")
    fee: Mapped[str] = mapped_column(Text, default="")
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    materials: Mapped[list] = mapped_column(default=list)  # [{name, required}]
    # draft until its first definition is published; then active (suspended/abolished come later).
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column()

    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
