"""Power items (行政权力事项): the catalogue entry and its public elements."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base
from app.orgs.models import OrgUnit

CATEGORIES = ("licensing", "penalty", "enforcement", "levy", "other")
ITEM_STATUSES = ("draft", "active", "suspended", "abolished")
ITEM_KINDS = ("promised", "immediate")
CATEGORY_CODES = {"licensing": "XK", "penalty": "CF", "enforcement": "QZ", "levy": "ZS", "other": "QT"}


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
    materials: Mapped[list] = mapped_column(default=list)  # [{name, required, copies}]
    kind: Mapped[str] = mapped_column(String(16), default="promised", server_default="promised")  # 承诺件 | 即办件
    # Special procedures (特殊环节: hearing, testing, expert review…) not counted in the time limit.
    special_procedures: Mapped[list] = mapped_column(default=list, server_default="[]")
    status_reason: Mapped[str | None] = mapped_column(Text)  # why it was last suspended, resumed or abolished
    # draft until its first definition is published; then active (suspended/abolished come later).
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    created_at: Mapped[datetime] = mapped_column()

    org_unit: Mapped[OrgUnit] = relationship(lazy="joined")
