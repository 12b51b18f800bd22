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
CLOCK_UNITS = ("working", "natural")  # 工作日 | 自然日: what a time limit counts (see app/catalog/limits.py)
# 双公示: a decision is published when it is made (auto), or held for a clerk to publish (clerk).
PUBLICATION_MODES = ("auto", "clerk")


class PowerItem(Base):
    __tablename__ = "power_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(300), index=True)
    category: Mapped[str] = mapped_column(String(16), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    promised_days: Mapped[int]  # 承诺时限, in promised_unit
    statutory_days: Mapped[int]  # 法定时限, in statutory_unit
    promised_unit: Mapped[str] = mapped_column(String(8), default="working", server_default="working")
    statutory_unit: Mapped[str] = mapped_column(String(8), default="working", server_default="working")
    warn_days: Mapped[int] = mapped_column(default=1, server_default="1")  # 预警: this many days (promised_unit) before the promised limit
    # The BPMN id of the 受理/立案 step: the clocks start when it completes (None: when the case is created).
    clock_start_step: Mapped[str | None] = mapped_column(String(200))
    # 延期 caps, days in statutory_unit (行政许可法 Art. 42: once, at most 10 working days).
    max_extensions: Mapped[int] = mapped_column(default=1, server_default="1")
    max_extension_days: Mapped[int] = mapped_column(default=10, server_default="10")
    # The diagram's 一次性告知补正 step: completing it stops the clock with the list of what is missing.
    supplement_step: Mapped[str | None] = mapped_column(String(200))
    # Rule R01 (step completed implausibly fast) looks only at these steps: {bpmn_id: minimum seconds or None
    # for the rule's default}. Never acceptance or window steps by default: normal window work is fast.
    min_step_seconds: Mapped[dict] = mapped_column(default=dict, server_default="{}")
    # The BPMN id of the step that decides (决定): completing it needs a decision record (outcome, summary,
    # legal basis, amount), which the documents and the public disclosure (双公示) follow.
    decision_step: Mapped[str | None] = mapped_column(String(200))
    # 重大执法决定: {min_amount, outcomes, keywords} — a decision meeting it needs the legal office's review
    # (法制审核) before it can be made (app/cases/decisions.py is_major). None: no decision is major.
    major_decision: Mapped[dict | None] = mapped_column()
    decision_publication: Mapped[str] = mapped_column(String(8), default="auto", server_default="auto")
    allows_deferred: Mapped[bool] = mapped_column(default=False, server_default="0")  # 容缺受理
    # 告知承诺: the applicant's pledge may stand in for a listed material, verified within this many working
    # days of acceptance (None: the item takes no pledges).
    pledge_verify_days: Mapped[int | None] = mapped_column()
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
