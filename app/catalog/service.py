"""The catalogue of power items (权力清单) and their public elements."""
from __future__ import annotations

import re

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.orgs.models import OrgUnit, User
from app.orgs.service import REGISTRY, can_see, org_by_code

from .models import CATEGORIES, PowerItem

_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
TEXT_FIELDS = ("accepting_authority", "implementing_body", "supervision_phone", "fee", "legal_basis")


def _materials(raw) -> list[dict]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise Invalid("materials must be a list of {name, required}")
    out = []
    for i, m in enumerate(raw):
        if not isinstance(m, dict) or not isinstance(m.get("name"), str) or not m["name"].strip():
            raise Invalid(f"materials[{i}] needs a name", details=[{"field": f"materials[{i}].name"}])
        copies = m.get("copies", 1)
        if not isinstance(copies, int) or isinstance(copies, bool) or not 0 < copies <= 100:
            raise Invalid(f"materials[{i}].copies must be a whole number 1–100")
        out.append({"name": m["name"].strip()[:300], "required": bool(m.get("required", True)), "copies": copies})
    return out


def create_item(session: Session, actor: User, body: dict) -> PowerItem:
    """Register a power item. It stays a draft (not public, no cases) until a definition is published."""
    code = body.get("code")
    if not isinstance(code, str) or not _CODE.match(code):
        raise Invalid("code is 1–64 letters, digits, '.', '-' or '_'", details=[{"field": "code"}])
    if body.get("category") not in CATEGORIES:
        raise Invalid(f"category must be one of {', '.join(CATEGORIES)}", details=[{"field": "category"}])
    name = body.get("name")
    if not isinstance(name, str) or not name.strip():
        raise Invalid("name is required", details=[{"field": "name"}])
    days = {}
    for f in ("promised_days", "statutory_days"):
        v = body.get(f)
        if not isinstance(v, int) or isinstance(v, bool) or not 0 <= v <= 3650:
            raise Invalid(f"{f} must be a whole number of working days (0–3650)", details=[{"field": f}])
        days[f] = v
    if days["promised_days"] > days["statutory_days"]:
        raise Invalid("the promised limit (承诺时限) cannot exceed the statutory limit (法定时限)",
                      details=[{"field": "promised_days"}])
    if not isinstance(body.get("department"), str):
        raise Invalid("department (an org unit code) is required", details=[{"field": "department"}])
    org = org_by_code(session, body["department"])
    if actor.role != "admin" and not can_see(actor, org):
        raise Forbidden("you may only register items of your own org unit")
    texts = {}
    for f in TEXT_FIELDS:
        v = body.get(f, "")
        if not isinstance(v, str):
            raise Invalid(f"{f} must be text", details=[{"field": f}])
        texts[f] = v.strip()[:5000]
    if session.scalar(select(PowerItem.id).where(PowerItem.code == code)):
        raise Conflict(f"item {code} exists already", code="duplicate")
    item = PowerItem(code=code, name=name.strip()[:300], category=body["category"], org_unit_id=org.id,
                     materials=_materials(body.get("materials")), status="draft", created_at=clock.now(),
                     **days, **texts)
    session.add(item)
    session.flush()
    audit.record(session, REGISTRY, "item_created", actor.username, detail={"code": code, "name": item.name})
    return item


def item_by_code(session: Session, code: str) -> PowerItem:
    item = session.scalar(select(PowerItem).where(PowerItem.code == code))
    if item is None:
        raise NotFound(f"no item {code}")
    return item


def activate(session: Session, item: PowerItem, actor: str) -> None:
    """The first published definition makes a draft item active (public, open for cases)."""
    if item.status == "draft":
        item.status = "active"
        audit.record(session, REGISTRY, "item_activated", actor, detail={"code": item.code})


def public_items(session: Session, q: str | None, category: str | None, department: str | None,
                 page: int, per_page: int) -> tuple[list[PowerItem], int]:
    query = select(PowerItem).join(OrgUnit, PowerItem.org_unit_id == OrgUnit.id).where(PowerItem.status == "active")
    if q:
        like = f"%{q.replace('%', '').replace('_', '')}%"
        query = query.where(or_(PowerItem.name.ilike(like), PowerItem.code.ilike(like)))
    if category:
        query = query.where(PowerItem.category == category)
    if department:
        query = query.where(OrgUnit.code == department)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(PowerItem.code).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total or 0
