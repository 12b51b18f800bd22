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

from . import limits
from .models import CATEGORIES, CATEGORY_CODES, ITEM_KINDS, PowerItem

DEFAULT_CODE_SCHEME = "{dept}-{type}-{serial:04d}"

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


def next_code(session: Session, scheme: str, org: OrgUnit, category: str) -> str:
    """The next free code of the configurable coding scheme, e.g. "{dept}-{type}-{serial:04d}" → CA01-XK-0007."""
    fields = {"dept": org.code, "type": CATEGORY_CODES[category]}
    prefix = scheme.split("{serial", 1)[0].format(**fields)
    taken = session.scalar(select(func.count()).where(PowerItem.code.startswith(prefix, autoescape=True))) or 0
    serial = taken + 1
    while True:
        code = scheme.format(serial=serial, **fields)
        if session.scalar(select(PowerItem.id).where(PowerItem.code == code)) is None:
            return code
        serial += 1


def _special_procedures(raw) -> list[dict]:
    """特殊环节 (hearing, testing, expert review…): {name, legal_basis, days, counted} — not counted by default."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 50:
        raise Invalid("special_procedures must be a list of {name, legal_basis, days}",
                      details=[{"field": "special_procedures"}])
    out = []
    for i, p in enumerate(raw):
        if not isinstance(p, dict) or not isinstance(p.get("name"), str) or not p["name"].strip():
            raise Invalid(f"special_procedures[{i}] needs a name", details=[{"field": f"special_procedures[{i}].name"}])
        days = p.get("days")
        if days is not None and (not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 3650):
            raise Invalid(f"special_procedures[{i}].days must be a whole number",
                          details=[{"field": f"special_procedures[{i}].days"}])
        out.append({"name": p["name"].strip()[:200], "legal_basis": str(p.get("legal_basis", ""))[:1000],
                    "days": days, "counted": bool(p.get("counted", False))})
    return out


def _limit_fields(body: dict, given: tuple[str, ...]) -> dict:
    return {f: limits.PARSERS[f](body, f) for f in given}


def _texts(body: dict, given) -> dict:
    """Text fields, refused (not cut) beyond what their column holds: a silent cut would publish a wrong text."""
    out = {}
    for f in given:
        v = body.get(f, "")
        limit = getattr(PowerItem.__table__.c[f].type, "length", None) or 5000
        if not isinstance(v, str) or "\x00" in v or len(v.strip()) > limit:
            raise Invalid(f"{f} must be text of at most {limit} characters", details=[{"field": f}])
        out[f] = v.strip()
    return out


def _name(body: dict) -> str:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 300 or "\x00" in name:
        raise Invalid("name is required (at most 300 characters)", details=[{"field": "name"}])
    return name.strip()


def _kind(body: dict) -> str:
    if body.get("kind", "promised") not in ITEM_KINDS:
        raise Invalid(f"kind must be one of {', '.join(ITEM_KINDS)}", details=[{"field": "kind"}])
    return body.get("kind", "promised")


def create_item(session: Session, actor: User, body: dict, code_scheme: str = DEFAULT_CODE_SCHEME) -> PowerItem:
    """Register a power item. It stays a draft (not public, no cases) until a definition is published."""
    code = body.get("code")
    if code is not None and (not isinstance(code, str) or not _CODE.match(code)):
        raise Invalid("code is 1–64 letters, digits, '.', '-' or '_' (or leave it out to number it by the "
                      "coding scheme)", details=[{"field": "code"}])
    if body.get("category") not in CATEGORIES:
        raise Invalid(f"category must be one of {', '.join(CATEGORIES)}", details=[{"field": "category"}])
    kind, name = _kind(body), _name(body)
    required = ("promised_days", "statutory_days")
    optional = tuple(f for f in limits.PARSERS if f not in required and f in body)
    fields = limits.with_defaults(body["category"], _limit_fields(body, required + optional))
    limits.check_consistent(fields["promised_days"], fields["promised_unit"], fields["statutory_days"],
                            fields["statutory_unit"])
    if not isinstance(body.get("department"), str):
        raise Invalid("department (an org unit code) is required", details=[{"field": "department"}])
    org = org_by_code(session, body["department"])
    if not can_see(actor, org):  # a department's admin too: only the district's admin registers anywhere
        raise Forbidden("you may only register items of your own org unit (and the units below it)")
    texts = _texts(body, TEXT_FIELDS)
    code = code or next_code(session, code_scheme, org, body["category"])
    if session.scalar(select(PowerItem.id).where(PowerItem.code == code)):
        raise Conflict(f"item {code} exists already", code="duplicate")
    item = PowerItem(code=code, name=name, category=body["category"], org_unit_id=org.id,
                     materials=_materials(body.get("materials")), status="draft", created_at=clock.now(),
                     kind=kind, special_procedures=_special_procedures(body.get("special_procedures")),
                     **fields, **texts)
    session.add(item)
    session.flush()
    audit.record(session, REGISTRY, "item_created", actor.username, detail={"code": code, "name": item.name})
    return item


# What PATCH may change: everything public or counted, never the code, category or department (those make
# another item: register it and abolish this one).
PATCHABLE = ("name", "kind", "materials", "special_procedures", *TEXT_FIELDS, *limits.PARSERS)
FIXED = ("code", "category", "department")


def update_item(session: Session, actor: User, code: str, body: dict) -> tuple[PowerItem, dict]:
    """Change some of an item's fields (a partial body), audited with each field's old and new value.
    Returns the item and {field: (old, new)} of what really changed; the caller recounts running cases'
    deadlines when a limit changed (limits.RECOUNTED)."""
    item = session.scalar(select(PowerItem).where(PowerItem.code == code).with_for_update(of=PowerItem))
    if item is None or not can_see(actor, item.org_unit):
        raise NotFound(f"no item {code}")
    if actor.role not in ("admin", "designer"):
        raise Forbidden("only an admin or a designer of the item's department changes an item")
    if not body:
        raise Invalid("send at least one field to change", details=[{"field": "body"}])
    for f in body:
        if f in FIXED:
            raise Invalid(f"{f} cannot be changed; register a new item instead", details=[{"field": f}])
        if f not in PATCHABLE:
            raise Invalid(f"unknown field {f}", details=[{"field": f}])
    new = _parsed(body)
    limits.check_consistent(*(new.get(f, getattr(item, f)) for f in
                              ("promised_days", "promised_unit", "statutory_days", "statutory_unit")))
    changed = {f: (getattr(item, f), v) for f, v in new.items() if getattr(item, f) != v}
    for f, (_old, v) in changed.items():
        setattr(item, f, v)
    if changed:
        audit.record(session, REGISTRY, "item_updated", actor.username,
                     detail={"code": code, "changes": {f: {"old": o, "new": n} for f, (o, n) in changed.items()}})
    return item, changed


def _parsed(body: dict) -> dict:
    out = _limit_fields(body, tuple(f for f in limits.PARSERS if f in body))
    out.update(_texts(body, tuple(f for f in TEXT_FIELDS if f in body)))
    if "name" in body:
        out["name"] = _name(body)
    if "kind" in body:
        out["kind"] = _kind(body)
    if "materials" in body:
        out["materials"] = _materials(body["materials"])
    if "special_procedures" in body:
        out["special_procedures"] = _special_procedures(body["special_procedures"])
    return out


def item_by_code(session: Session, code: str) -> PowerItem:
    item = session.scalar(select(PowerItem).where(PowerItem.code == code))
    if item is None:
        raise NotFound(f"no item {code}")
    return item


def public_item_by_code(session: Session, code: str) -> PowerItem:
    """An item as the public may see it: active ones only; anything else is simply not found."""
    item = item_by_code(session, code)
    if item.status != "active":
        raise NotFound(f"no item {code}")
    return item


def activate(session: Session, item: PowerItem, actor: str) -> None:
    """The first published definition makes a draft item active (public, open for cases)."""
    if item.status == "draft":
        item.status = "active"
        audit.record(session, REGISTRY, "item_activated", actor, detail={"code": item.code})


# Allowed status changes by the admin (暂停行使 / 恢复行使 / 废止); activation comes with publication.
TRANSITIONS = {"suspend": ({"active"}, "suspended"), "resume": ({"suspended"}, "active"),
               "abolish": ({"draft", "active", "suspended"}, "abolished")}


def change_status(session: Session, actor: User, code: str, action: str, reason) -> PowerItem:
    """Suspend, resume or abolish an item, with a reason, audited. Running cases continue either way."""
    if actor.role != "admin":
        raise Forbidden("only an admin changes an item's status")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 5000:
        raise Invalid("a reason is required", details=[{"field": "reason"}])
    item = session.scalar(select(PowerItem).where(PowerItem.code == code).with_for_update(of=PowerItem))
    if item is None or not can_see(actor, item.org_unit):  # another department's item answers as unknown
        raise NotFound(f"no item {code}")
    allowed, target = TRANSITIONS[action]
    if item.status not in allowed:
        raise Conflict(f"an item that is {item.status} cannot be {target}", code="wrong_status")
    before, item.status, item.status_reason = item.status, target, reason.strip()
    audit.record(session, REGISTRY, f"item_{target}", actor.username,
                 detail={"code": code, "from": before, "reason": item.status_reason})
    return item


def public_items(session: Session, q: str | None, category: str | None, department: str | None,
                 page: int, per_page: int) -> tuple[list[PowerItem], int]:
    query = select(PowerItem).join(OrgUnit, PowerItem.org_unit_id == OrgUnit.id).where(PowerItem.status == "active")
    if q:
        query = query.where(or_(PowerItem.name.icontains(q, autoescape=True),
                                PowerItem.code.icontains(q, autoescape=True)))  # % and _ are searched as themselves
    if category:
        query = query.where(PowerItem.category == category)
    if department:
        query = query.where(OrgUnit.code == department)
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(PowerItem.code).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total or 0


def items_in_scope(session: Session, viewer: User, q: str | None, page: int, per_page: int) -> tuple[list[PowerItem], int]:
    """Every item (any status) of the viewer's org unit and below, for the designers' page."""
    query = (select(PowerItem).join(OrgUnit, PowerItem.org_unit_id == OrgUnit.id)
             .where(OrgUnit.path.startswith(viewer.org_unit.path)))
    if q:
        query = query.where(or_(PowerItem.name.icontains(q, autoescape=True),
                                PowerItem.code.icontains(q, autoescape=True)))  # % and _ are searched as themselves
    total = session.scalar(select(func.count()).select_from(query.subquery()))
    rows = session.scalars(query.order_by(PowerItem.code).offset((page - 1) * per_page).limit(per_page))
    return list(rows), total or 0
