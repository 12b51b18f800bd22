"""Moving running cases to another published version of their item's flow (one transaction per case).

A check says which cases can move (see app/engine/migration.py) and why the others cannot; a move is
audited on the case's stream with both versions, and reverting is a move back to the version it came from.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from sqlalchemy import select

from app import engine, events
from app.audit import service as audit
from app.db import Database
from app.definitions import service as definitions
from app.errors import Conflict, Forbidden, NotFound
from app.orgs.models import User
from app.orgs.service import can_see
from app.settings import Settings

from . import clocks
from . import service as cases
from .events import CaseMigrated
from .models import Case


@dataclass
class Report:
    target_id: int
    dry_run: bool
    moved: list[str] = field(default_factory=list)
    refused: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"definition_id": self.target_id, "dry_run": self.dry_run, "moved": self.moved, "refused": self.refused}


def _target(session, definition_id: int):
    target = definitions.get(session, definition_id)
    if target.status not in ("published", "retired"):
        raise Conflict(f"cases can only move to a published (or, to revert, a retired) version; this one is "
                       f"{target.status}", code="wrong_status")
    return target


def candidates(db: Database, definition_id: int, case_nos: list[str] | None) -> list[str]:
    """The case numbers to consider: those given, or every running/suspended case of the item."""
    with db.unit_of_work() as s:
        target = _target(s, definition_id)
        if case_nos is not None:
            return list(dict.fromkeys(case_nos))
        return list(s.scalars(select(Case.case_no).where(Case.item_id == target.item_id,
                                                         Case.status.in_(("running", "suspended")),
                                                         Case.definition_id != target.id).order_by(Case.id)))


def move_one(db: Database, settings: Settings, actor: User, definition_id: int, case_no: str, dry_run: bool) -> str | None:
    """Move (or just check) one case in its own transaction; returns the refusal reason, or None when it moved."""
    try:
        with db.unit_of_work() as s:
            target = _target(s, definition_id)
            case = cases.get_visible(s, actor, case_no, for_update=True)
            if case.item_id != target.item_id:
                return "the case belongs to another item"
            if case.definition_id == target.id:
                return "the case runs on this version already"
            if case.status not in ("running", "suspended"):
                return f"the case is {case.status}"
            source_id = case.definition_id
            run = cases.load_run(s, settings, case)
            bundle = definitions.bundle(target, settings.tz)
            try:
                moved = engine.migrate(run, bundle, cases.helpers(s, settings))
            except engine.CannotMigrate as exc:
                return str(exc)
            if dry_run:
                return None
            case.definition_id = target.id
            cases.store_run(case, moved)
            case.next_timer_due_at = moved.next_timer_due()
            clocks.schedule(case)
            audit.record(s, audit.case_stream(case.id), "case_migrated", actor.username, case_id=case.id,
                         detail={"from_definition_id": source_id, "to_definition_id": target.id,
                                 "to_version": target.version})
            events.publish(s, settings, CaseMigrated(case, source_id))
            cases.save(s)
    except NotFound:
        return "no such case in your scope"
    return None


def migrate(db: Database, settings: Settings, actor: User, definition_id: int, case_nos: list[str] | None,
            dry_run: bool, progress: Callable[[Iterable[str]], Iterable[str]] = lambda xs: xs) -> Report:
    if actor.role != "admin":
        raise Forbidden("only an admin moves cases between versions")
    with db.unit_of_work() as s:  # another department's flow (and its running cases) answers as unknown
        if not can_see(s.merge(actor, load=False), _target(s, definition_id).item.org_unit):
            raise NotFound(f"no definition {definition_id}")
    report = Report(definition_id, dry_run)
    for case_no in progress(candidates(db, definition_id, case_nos)):
        reason = move_one(db, settings, actor, definition_id, case_no, dry_run)
        if reason is None:
            report.moved.append(case_no)
        else:
            report.refused.append({"case_no": case_no, "reason": reason})
    return report
