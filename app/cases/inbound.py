"""BPMN messages from outside (消息): to one case by its number, or by name and correlation from another system.

A message goes through the same path as a clerk's step: lock the case row, load its workflow, fire the timers
already due (in the same instant as the catch, so a message racing a timer at an event-based gateway resolves
exactly once), deliver, audit (`message_received` plus the engine's changes), project, save with a version check.
Its payload joins the case data at the catching task, checked like form data.

A message without a correlation only starts processes (422 `correlation_required` when its name starts none):
it never reaches waiting cases, which an empty correlation would all match.

By correlation, the candidate cases are found in SQL (the `case_waits` projection: running cases in the caller's
scope waiting for that name); only those are loaded, and a case receives the message when the data at its
waiting task equals every correlation value. When no waiting case matched, each published definition whose
process starts with that message (a message start event) opens a new case and delivers the message to it.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import engine
from app.audit import service as audit
from app.catalog.models import PowerItem
from app.definitions import service as definitions
from app.errors import Conflict, Invalid
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User
from app.settings import Settings

from . import service
from .models import Case, CaseWait

MAX_NAME = 200
MAX_CORRELATION_KEYS = 20


def _name(raw) -> str:
    if not isinstance(raw, str) or not raw.strip() or len(raw) > MAX_NAME or "\x00" in raw:
        raise Invalid(f"name must be the message's name (text, at most {MAX_NAME} characters)",
                      details=[{"field": "name"}])
    return raw.strip()


def _payload(raw) -> dict:
    try:
        return engine.check_data({} if raw is None else raw)
    except engine.InvalidCaseData as exc:
        raise Invalid(f"payload: {exc}", details=[{"field": "payload"}]) from None


def _correlation(raw) -> dict:
    if raw is None:
        return {}
    if not isinstance(raw, dict) or len(raw) > MAX_CORRELATION_KEYS:
        raise Invalid(f"correlation must be an object of at most {MAX_CORRELATION_KEYS} {{field: value}}",
                      details=[{"field": "correlation"}])
    try:
        return engine.check_data(raw)
    except engine.InvalidCaseData as exc:
        raise Invalid(f"correlation: {exc}", details=[{"field": "correlation"}]) from None


def deliver_to_case(session: Session, settings: Settings, actor: User, case_no: str, body: dict) -> Case:
    """POST /cases/{no}/messages: the message to one case (409 no_waiting_catch when it waits for none)."""
    name, payload = _name(body.get("name")), _payload(body.get("payload"))
    case = service.get_visible(session, actor, case_no, for_update=True)
    _deliver(session, settings, actor, case, name, payload)
    service.save(session)
    return case


def _deliver(session: Session, settings: Settings, actor: User, case: Case, name: str, payload: dict,
             run: engine.CaseRun | None = None) -> None:
    if case.status != "running":
        raise Conflict(f"the case is {case.status}; it takes no message now", code="case_not_running")
    run = run or service.load_run(session, settings, case)
    catching = [w.bpmn_id for w in run.waits() if w.name == name]
    try:
        changes = run.deliver(name, payload)
    except engine.NoWaitingCatch:
        raise Conflict(f"case {case.case_no} is not waiting for the message '{name}'", code="no_waiting_catch",
                       details=[{"field": "name", "waiting_for": sorted({w.name for w in run.waits()})}]) from None
    except engine.EngineError as exc:
        raise service.engine_error(exc) from None
    service.apply_changes(session, settings, case, actor.username, run, changes)
    audit.record(session, audit.case_stream(case.id), "message_received", actor.username, case_id=case.id,
                 task_bpmn_id=catching[0] if catching else None,
                 detail={"name": name, "caught_by": catching, "payload_fields": sorted(payload)})


def correlate(session: Session, settings: Settings, actor: User, body: dict) -> dict:
    """POST /messages: deliver to every waiting case in scope whose data match the correlation, or start one."""
    name, payload = _name(body.get("name")), _payload(body.get("payload"))
    correlation = _correlation(body.get("correlation"))
    if not correlation:
        return _start_only(session, settings, actor, name, payload, body.get("applicant"))
    delivered = []
    for case_id in _candidates(session, actor, name):
        case = service.lock_case(session, case_id)
        if case.status != "running":
            continue
        run = service.load_run(session, settings, case)
        if not _matches(run.catch_data(name), correlation):
            continue
        try:
            _deliver(session, settings, actor, case, name, payload, run)
        except Conflict as exc:
            if exc.code != "no_waiting_catch":  # a due timer won the race in the meantime: not this case's message
                raise
            continue
        delivered.append(case.case_no)
    created = [] if delivered else _start_cases(session, settings, actor, name, payload, body.get("applicant"))
    service.save(session)
    return {"delivered": delivered + [c["case_no"] for c in created], "created": created}


def _start_only(session: Session, settings: Settings, actor: User, name: str, payload: dict, applicant) -> dict:
    """A message without correlation names no case: it may only start processes (message start events). Else
    422 `correlation_required` — an empty correlation would match every waiting case, and another system's slip
    would move them all at once."""
    if not definitions.started_by_message(session, name):
        raise Invalid(f"the message '{name}' starts no process, so it needs a correlation ({{field: value}}) naming "
                      "the cases it is for", code="correlation_required", details=[{"field": "correlation"}])
    created = _start_cases(session, settings, actor, name, payload, applicant)
    service.save(session)
    return {"delivered": [c["case_no"] for c in created], "created": created}


def _candidates(session: Session, actor: User, name: str) -> list[int]:
    """Running cases in the caller's scope that wait for `name`: the projection, never a load of every case."""
    query = (select(Case.id).join(CaseWait, CaseWait.case_id == Case.id).join(OrgUnit, OrgUnit.id == Case.org_unit_id)
             .where(CaseWait.name == name, Case.status == "running", OrgUnit.path.startswith(actor.org_unit.path))
             .distinct().order_by(Case.id))
    return list(session.scalars(query))


def _matches(data: dict, correlation: dict) -> bool:
    """Every correlation key is in the data with an equal value."""
    return all(key in data and _same(data[key], value) for key, value in correlation.items())


def _same(a, b) -> bool:
    """JSON equality: 1 equals 1.0, but a number is not its text and true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    numbers = (int, float)
    if isinstance(a, numbers) and isinstance(b, numbers):
        return a == b
    return type(a) is type(b) and a == b


def _start_cases(session: Session, settings: Settings, actor: User, name: str, payload: dict, applicant) -> list[dict]:
    """Cases opened by the message: one per published definition in scope whose process starts with it."""
    created = []
    for definition in definitions.started_by_message(session, name):
        item: PowerItem = definition.item
        if not orgs.can_see(actor, session.get(OrgUnit, item.org_unit_id)) or item.status != "active":
            continue
        case, code = service.open_case_by_message(session, settings, actor, definition,
                                                  applicant if applicant is not None else {"name": actor.username})
        _deliver(session, settings, actor, case, name, payload)
        created.append({"case_no": case.case_no, "query_code": code, "item_code": item.code})
    return created
