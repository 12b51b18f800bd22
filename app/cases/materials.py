"""A case's materials (申请材料) at acceptance and after: completeness at once (一次性告知), and what the window
accepts besides uploads — paper checked on the spot, 容缺受理 (owed until a day) and 告知承诺 (a pledge, verified
later).

An entry of the `materials` list of a new case is one of
  {name, file_id}                  an upload (app/cases/files.py), attached to the case;
  {name, paper: true}              checked on paper at the window;
  {name, deferred_until: DATE}     容缺: accepted now, owed by DATE (items with allows_deferred);
  {name, pledged: true}            告知承诺: the applicant's pledge, verified within the item's pledge_verify_days.
All four count as provided. A deferred material still owed after its day, or a pledge not verified by its
date, raises one yellow notice (the worker wakes the case at `materials_due_at`). A clerk settles either
later with POST /api/v1/cases/{no}/materials.
"""
from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.calendar import service as calendar
from app.catalog.models import PowerItem
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.orgs.models import User
from app.settings import Settings

from . import clocks
from .files_models import CaseFile
from .models import Case, CaseMaterialRecord

MAX_MATERIALS = 200  # entries in one case's materials list
MAX_DEFERRAL = timedelta(days=180)  # 容缺: a promise to bring it later, not an open-ended exemption
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")
KINDS = ("file_id", "paper", "deferred_until", "pledged")
FORM = "{name, file_id} | {name, paper: true} | {name, deferred_until: YYYY-MM-DD} | {name, pledged: true}"


def _problem(field: str, message: str, material: str | None = None) -> dict:
    out = {"field": field, "message": message}
    if material is not None:
        out["material"] = material
    return out


# --- checking a request ----------------------------------------------------------------------------------------
def check(session: Session, settings: Settings, actor: User, item: PowerItem, org_unit_id: int, raw, *,
          require_complete: bool = True) -> list[dict]:
    """The `materials` of a case request, checked; each as {name, how, file_id?, due_on?}. Refuses (422) with
    every problem at once — bad entries, and (with require_complete) each required material missing."""
    if not isinstance(raw, list) or len(raw) > MAX_MATERIALS:
        raise Invalid(f"materials must be a list of at most {MAX_MATERIALS} entries {FORM}",
                      details=[_problem("materials", f"must be a list of {FORM}")])
    names = {m["name"] for m in item.materials}
    problems, checked, seen = [], [], set()
    for i, entry in enumerate(raw):
        field = f"materials[{i}]"
        how = _how(entry)
        if how is None:
            problems.append(_problem(field, f"each material is {FORM}"))
            continue
        name = entry["name"].strip()
        if name not in names:
            problems.append(_problem(f"{field}.name", f"“{name}”不是事项 {item.code} 的申请材料 "
                                                      f"(not a material of this item)", name))
            continue
        found = _entry(session, settings, actor, item, org_unit_id, entry, how, field, name, seen)
        if isinstance(found, dict) and "field" in found:
            problems.append(found)
        else:
            checked.append(found)
    missing = []
    if require_complete:
        provided = {m["name"] for m in checked}
        missing = [m["name"] for m in item.materials if m.get("required") and m["name"] not in provided]
    if problems:
        raise Invalid(f"{len(problems)} material(s) cannot be accepted"
                      + (f"; and {len(missing)} required material(s) are missing" if missing else ""),
                      code="invalid_materials",
                      details=problems + [_problem("materials", f"缺少必要材料“{n}”", n) for n in missing])
    if missing:
        raise Invalid(f"材料不齐全，不予受理；一次性告知缺少的全部材料：{'、'.join(missing)}",
                      code="materials_incomplete",
                      details=[_problem("materials", f"缺少必要材料“{n}”", n) for n in missing])
    return checked


def _how(entry) -> str | None:
    """Which of the four forms the entry is (exactly one), or None."""
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or "\x00" in entry["name"]:
        return None
    forms = [k for k in KINDS if k in entry]
    if len(forms) != 1:
        return None
    how = forms[0]
    value = entry[how]
    ok = {"file_id": isinstance(value, str), "paper": value is True, "pledged": value is True,
          "deferred_until": isinstance(value, str)}[how]
    return how if ok else None


def _entry(session, settings, actor, item, org_unit_id, entry, how, field, name, seen) -> dict:
    """One checked entry, or a problem dict."""
    if how == "file_id":
        file_id = entry["file_id"].strip()
        if file_id in seen:
            return _problem(f"{field}.file_id", "the same file is listed twice", name)
        seen.add(file_id)
        row = session.scalar(select(CaseFile).where(CaseFile.public_id == file_id)) if len(file_id) <= 64 else None
        if row is None or (row.org_unit_id != org_unit_id and row.uploaded_by_id != actor.id):
            # Another department's upload is answered exactly like an unknown one.
            return _problem(f"{field}.file_id", "no such file among your department's uploads", name)
        if row.case_id is not None:
            return _problem(f"{field}.file_id", "this file is already attached to a case", name)
        return {"name": name, "how": "file", "file_id": file_id}
    if how == "paper":
        return {"name": name, "how": "paper"}
    if how == "deferred_until":
        if not item.allows_deferred:
            return _problem(f"{field}.deferred_until", "this item does not allow 容缺受理 (allows_deferred)", name)
        due = _future_day(entry["deferred_until"], settings)
        if due is None:
            return _problem(f"{field}.deferred_until", "a date (YYYY-MM-DD) after today, within 180 days", name)
        return {"name": name, "how": "deferred", "due_on": due}
    if not item.pledge_verify_days:
        return _problem(f"{field}.pledged", "this item takes no pledges (告知承诺: pledge_verify_days)", name)
    cal = calendar.load(session, settings.tz)
    due, _complete = cal.add_working_days(clock.now(), item.pledge_verify_days)
    return {"name": name, "how": "pledge", "due_on": due.date()}


def _future_day(value: str, settings: Settings) -> date | None:
    today = clock.now().astimezone(settings.tz).date()
    if not _ISO_DAY.fullmatch(value):
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None
    return day if today < day <= today + MAX_DEFERRAL else None


# --- recording them on the case -----------------------------------------------------------------------------------
def attach(session: Session, settings: Settings, case: Case, checked: list[dict], actor: User) -> None:
    """Attach the uploads (each file once, ever) and record the rest; the worker watches what is owed."""
    rows = []
    for m in (m for m in checked if m["how"] == "file"):
        rows.append(_attach_file(session, case, m["file_id"], m["name"]))
    now = clock.now()
    records = [CaseMaterialRecord(case_id=case.id, name=m["name"], source=m["how"], due_on=m.get("due_on"),
                                  created_at=now) for m in checked if m["how"] != "file"]
    session.add_all(records)
    if rows or records:
        audit.record(session, audit.case_stream(case.id), "materials_attached", actor.username, case_id=case.id,
                     detail={"materials": [{"name": r.material_name, "filename": r.filename, "size": r.size,
                                            "content_type": r.content_type, "sha256": r.sha256} for r in rows],
                             "other": [{"name": r.name, "source": r.source,
                                        "due_on": r.due_on.isoformat() if r.due_on else None} for r in records]})
    schedule_owed(session, settings, case, records)


def _attach_file(session: Session, case: Case, file_id: str, name: str) -> CaseFile:
    # Conditional: of two cases racing for one file, exactly one gets it.
    done = session.execute(update(CaseFile).where(CaseFile.public_id == file_id, CaseFile.case_id.is_(None))
                           .values(case_id=case.id, material_name=name)
                           .execution_options(synchronize_session="fetch"))
    if done.rowcount != 1:
        raise Conflict("a file was attached to another case at the same moment; upload it again",
                       code="file_already_attached", details=[_problem("materials", file_id, name)])
    return session.scalar(select(CaseFile).where(CaseFile.public_id == file_id))


def owed(session: Session, case: Case) -> list[CaseMaterialRecord]:
    """Deferred materials not yet brought and pledges not yet verified, the earliest due first."""
    return list(session.scalars(select(CaseMaterialRecord).where(
        CaseMaterialRecord.case_id == case.id, CaseMaterialRecord.source.in_(("deferred", "pledge")),
        CaseMaterialRecord.settled_at.is_(None)).order_by(CaseMaterialRecord.due_on, CaseMaterialRecord.id)))


def due_moment(day: date, settings: Settings) -> datetime:
    """A material owed "by" a day is late once that day has ended."""
    return datetime.combine(day + timedelta(days=1), time(0, 0), settings.tz)


def schedule_owed(session: Session, settings: Settings, case: Case, pending=None) -> None:
    """case.materials_due_at: when the worker must next look at what the case owes (None: nothing owed, or
    every late one already signalled)."""
    pending = owed(session, case) if pending is None else pending
    moments = [due_moment(r.due_on, settings) for r in pending if r.due_on and r.signalled_at is None]
    case.materials_due_at = min(moments) if moments and case.status in ("running", "suspended") else None
    clocks.schedule(case)


def settle(session: Session, settings: Settings, actor: User, case_no: str, body: dict) -> Case:
    """A material owed arrives (容缺: {name, file_id} or {name, paper: true}) or a pledge is verified
    ({name, verified: true, note}); audited."""
    from . import service as cases

    case = cases.get_visible(session, actor, case_no, for_update=True)
    if actor.role != "clerk" or actor.org_unit_id != case.org_unit_id:
        raise Forbidden("only a clerk of the case's department records its materials")
    name = body.get("name")
    record = next((r for r in owed(session, case) if r.name == name), None)
    if record is None:
        raise NotFound(f"case {case_no} owes no material named {name!r}")
    if record.source == "pledge":
        if body.get("verified") is not True:
            raise Invalid("a pledge (告知承诺) is settled by verifying it: {name, verified: true, note}",
                          details=[{"field": "verified"}])
    elif "file_id" in body:
        [checked] = check(session, settings, actor, case.item, case.org_unit_id,
                          [{"name": name, "file_id": body.get("file_id")}], require_complete=False)
        _attach_file(session, case, checked["file_id"], name)
    elif body.get("paper") is not True:
        raise Invalid("bring the material as {name, file_id} or {name, paper: true}", details=[{"field": "paper"}])
    note = body.get("note") or ""
    if not isinstance(note, str) or len(note) > 2000 or "\x00" in note:
        raise Invalid("note must be text (at most 2000 characters)", details=[{"field": "note"}])
    record.settled_at, record.settled_by_id, record.note = clock.now(), actor.id, note.strip() or None
    audit.record(session, audit.case_stream(case.id), "material_settled", actor.username, case_id=case.id,
                 detail={"name": name, "source": record.source, "how": "file" if "file_id" in body else (
                     "verified" if record.source == "pledge" else "paper"), "note": record.note})
    schedule_owed(session, settings, case)
    cases.save(session)
    return case


# --- showing them --------------------------------------------------------------------------------------------------
def of_case(session: Session, case: Case, *, files: bool = True, records: bool = True) -> list[dict]:
    """The item's materials with what the case provided: [{name, required, copies, provided, paper, how,
    file_id?, files, due_on?, settled_at?}]. `files`/`records` False: the caller knows the case has none."""
    rows = session.scalars(select(CaseFile).where(CaseFile.case_id == case.id).order_by(CaseFile.id)).all() \
        if files else []
    by_name: dict[str, list[CaseFile]] = {}
    for r in rows:
        by_name.setdefault(r.material_name or "", []).append(r)
    records = {r.name: r for r in session.scalars(select(CaseMaterialRecord).where(
        CaseMaterialRecord.case_id == case.id).order_by(CaseMaterialRecord.id))} if records else {}
    out = []
    for m in case.item.materials:
        out.append(_material(m["name"], bool(m.get("required")), m.get("copies", 1), by_name.pop(m["name"], []),
                             records.pop(m["name"], None)))
    for name, files in by_name.items():  # a material the item no longer lists
        out.append(_material(name, False, 1, files, records.pop(name, None)))
    for name, record in records.items():
        out.append(_material(name, False, 1, [], record))
    return out


def _material(name: str, required: bool, copies: int, files: list[CaseFile],
              record: CaseMaterialRecord | None) -> dict:
    from .files import info

    how = "file" if files else (record.source if record else None)
    out = {"name": name, "required": required, "copies": copies, "provided": how is not None,
           "paper": how == "paper", "how": how, "files": [info(f) for f in files]}
    if files:
        out["file_id"] = files[0].public_id
    if record is not None and record.source in ("deferred", "pledge"):
        out["due_on"] = record.due_on.isoformat() if record.due_on else None
        out["settled_at"] = record.settled_at.isoformat() if record.settled_at else None
    return out
