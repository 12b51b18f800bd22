"""Cases (办件): create, complete a task, fire due timers — one path for the API, the UI and the worker.

Every action is one story in one transaction: lock the case row → load its workflow through the engine →
fire due timers first → check READY + lane/post + scope → run → engine steps → audit events from the
task-state diff → projections (tasks, next timer, status) → save with a version check. Anything that
raises rolls the whole action back, so a case is never half-written.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, bindparam, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, contains_eager, joinedload, lazyload, selectinload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from app import clock, engine, events
from app.audit import service as audit
from app.calendar import service as calendar
from app.catalog.models import PowerItem
from app.catalog import service as catalog
from app.db_batch import write_versioned_rows
from app.definitions import service as definitions
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User
from app.settings import Settings

from . import materials as case_materials
from . import clocks, decisions, stops, tell
from .events import (CaseAccepted, CaseAdvanced, CaseCompleted, CaseCreated, CasesWaking, CaseStuck, CaseWoken,
                     DecisionMade, StepCompleted, TimerFired)
from .models import (OPEN_STATUSES, Case, CaseParticipant, CaseState, CaseTask, CaseWait, ExternalTask,
                     carry_case_clock, step_clock)

QUERY_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read over the phone
TIMER_RETRY = timedelta(minutes=10)
# A timer path over the work budget fails the same way every time: tried again once a day (its data, the diagram
# version or the budget may have changed by then), not every sweep.
TOO_EXPENSIVE_RETRY = timedelta(days=1)
APPLICANT_KINDS = ("person", "organisation")  # 自然人 | 法人或其他组织


# --- small helpers -------------------------------------------------------------------------------------------
def _query_hash(settings: Settings, case_no: str, code: str) -> str:
    # Keyed, so a leaked table alone does not let anyone brute-force the 40-bit codes offline.
    return hmac.new(settings.secret_key.encode(), f"{case_no}:{code}".encode(), hashlib.sha256).hexdigest()


def _new_case_no(session: Session, settings: Settings) -> str:
    day = clock.now().astimezone(settings.tz).strftime("%Y%m%d")
    while True:
        case_no = f"{day}-{secrets.randbelow(10**6):06d}"
        if session.scalar(_NO_TAKEN, {"case_no": case_no}) is None:
            return case_no


_NO_TAKEN = select(Case.id).where(Case.case_no == bindparam("case_no"))  # built once: every new case asks


def helpers(session: Session, settings: Settings) -> dict:
    return {"workdays": calendar.workdays_helper(session, settings.tz)}


def engine_error(exc: engine.EngineError) -> Invalid:
    """422 naming the element; `too_expensive` when the action went over its work budget (it was rolled back)."""
    code = "too_expensive" if isinstance(exc, engine.TooExpensive) else "engine_error"
    where = f" at {exc.element_id}" if exc.element_id and code == "too_expensive" else ""
    return Invalid(f"the case cannot proceed{where}: {exc.message}", code=code,
                   details=[{"element_id": exc.element_id, "line": None, "message": exc.message}])


def _check_applicant(raw) -> dict:
    if not isinstance(raw, dict):
        raise Invalid("applicant must be an object {name, id_number, phone}", details=[{"field": "applicant"}])
    out = {}
    for f in ("name", "id_number", "phone"):
        v = raw.get(f, "")
        if not isinstance(v, str) or len(v) > 200:
            raise Invalid(f"applicant.{f} must be text (at most 200 characters)", details=[{"field": f"applicant.{f}"}])
        out[f] = v.strip()
    if not out["name"]:
        raise Invalid("applicant.name is required", details=[{"field": "applicant.name"}])
    kind = raw.get("kind")  # optional: whether the public decisions (双公示) may name the party
    if kind is not None:
        if kind not in APPLICANT_KINDS:
            raise Invalid("applicant.kind must be person or organisation", details=[{"field": "applicant.kind"}])
        out["kind"] = kind
    return out


# --- visibility ----------------------------------------------------------------------------------------------
# Built once (the hot path's lookups: building a statement costs more than sending it). The locking one reads
# the row fresh (never a copy loaded earlier in this session), and its engine blob in the same statement (a
# join on case_states' primary key: no second SELECT per action).
_BY_NO = select(Case).where(Case.case_no == bindparam("case_no"))


def _locked_with_blob(query):
    """`query` (of Case) joined to its blob, both rows locked. Both, not the case row alone: on PostgreSQL a
    SELECT … FOR UPDATE that waited for a concurrent action re-reads the newest version of the rows it locks
    only, and would join the fresh case row to the blob as it was before that action (two completions of one
    step would both succeed). The steps are read by a statement of their own for the same reason: joined in
    without a lock (an outer join's side cannot be locked), they could be the versions from before the wait."""
    return (query.join(Case.engine_state).options(contains_eager(Case.engine_state))
            .with_for_update(of=[Case, CaseState]).execution_options(populate_existing=True))


_LOCK_BY_NO = _locked_with_blob(_BY_NO)


def get_visible(session: Session, viewer: User, case_no: str, *, for_update: bool = False) -> Case:
    """The case if the viewer's org unit contains it; otherwise 404, exactly as for an unknown number."""
    case = session.scalar(_LOCK_BY_NO if for_update else _BY_NO, {"case_no": case_no})
    if case is not None and for_update:
        audit.hold_head(session, case)
    if case is None or not (orgs.can_see(viewer, session.get(OrgUnit, case.org_unit_id))
                            or _participates(session, viewer, case)):
        raise NotFound(f"no case {case_no}")
    return case


def _participates(session: Session, viewer: User, case: Case) -> bool:
    """The viewer's org unit contains an org unit the case passed through (an ORG:POST step reached it)."""
    return session.scalar(select(CaseParticipant.id).join(OrgUnit, OrgUnit.id == CaseParticipant.org_unit_id)
                          .where(CaseParticipant.case_id == case.id,
                                 OrgUnit.path.startswith(viewer.org_unit.path)).limit(1)) is not None


def lock_case(session: Session, case_id: int) -> Case:
    """The case row locked for this transaction and read fresh (blob too), for an action found by id."""
    case = session.scalars(_locked_with_blob(select(Case).where(Case.id == case_id))).one()
    audit.hold_head(session, case)
    return case


# --- the story -----------------------------------------------------------------------------------------------
@dataclass
class _Action:
    session: Session
    settings: Settings
    case: Case
    actor: str
    # What the clerk gave with the step this action completes (task id, form data, opinion, decision): it goes
    # into that step's task_completed audit event, so opinions and decisions are inside the hash chain.
    step: dict | None = None
    # The action publishes CaseCompleted itself, later (a clerk's step: after StepCompleted and the version
    # check; a new case: after CaseCreated). Every other action that ends the case — a message, external
    # work, a timer — has it published by _apply, so the rooms above hear of every completed case.
    announces_completion: bool = False


def apply_changes(session: Session, settings: Settings, case: Case, actor: str, run: engine.CaseRun,
                  changes: list[engine.Change]) -> None:
    """For the case's other actions (e.g. ending it): the same audit, notices and projections as a step."""
    _apply(_Action(session, settings, case, actor), run, changes)


def _apply(act: _Action, run: engine.CaseRun, changes: list[engine.Change]) -> None:
    """Audit events for the changes, then the projections; the rooms above react to what happened (events)."""
    s, case = act.session, act.case
    was_running, was_stuck = case.status == "running", bool(case.tasks) and is_stuck(case)
    for ch in changes:
        actor = act.actor if ch.action in ("task_completed", "external_task_completed") else "system"
        given = act.step if act.step and ch.action == "task_completed" and ch.task_id == act.step["task_id"] else {}
        audit.record(s, audit.case_stream(case.id), ch.action, actor, case_id=case.id, task_bpmn_id=ch.bpmn_id,
                     detail={"task_id": ch.task_id, "name": ch.name, "lane": ch.lane, **ch.detail,
                             **{k: v for k, v in given.items() if k != "task_id"}})
        if ch.action == "timer_fired":  # a step over its limit is told at once (电子监察)
            events.publish(s, act.settings, TimerFired(case, ch))
    _project(act, run)
    if not was_stuck and is_stuck(case):
        audit.record(s, audit.case_stream(case.id), "case_stuck", "system", case_id=case.id,
                     detail={"reason": "no open step, no message or signal awaited, no timer"})
        events.publish(s, act.settings, CaseStuck(case))
    _start_clocks_at_acceptance(act, changes)
    # After the projection's queries, so reactions that change the case row (its card) do not flush it early.
    events.publish(s, act.settings, CaseAdvanced(case, changes))
    clocks.schedule(case)
    if was_running and case.status == "completed" and not act.announces_completion:
        events.publish(s, act.settings, CaseCompleted(case, case.completed_at or clock.now()))


def is_stuck(case: Case) -> bool:
    """A running case the engine cannot move any more: no step open, no message or signal awaited, no timer
    (e.g. a parallel join whose other branch ended before it). It would look running for ever; it is marked."""
    return (case.status == "running" and case.next_timer_due_at is None
            and not any(t.state in ("ready", "waiting") for t in case.tasks)
            and not case.waits)  # last: reading the waits is a query (and an early flush), the rest is in hand


def _start_clocks_at_acceptance(act: _Action, changes: list[engine.Change]) -> None:
    """The clocks run from 受理/立案 (the item's clock_start_step), not from when the case was registered."""
    case = act.case
    if case.accepted_at is not None or case.clock_start_step is None:
        return
    if any(ch.action == "task_completed" and ch.bpmn_id == case.clock_start_step for ch in changes):
        case.accepted_at = clock.now()
        audit.record(act.session, audit.case_stream(case.id), "clock_started", act.actor, case_id=case.id,
                     task_bpmn_id=case.clock_start_step, detail={"accepted_at": case.accepted_at.isoformat()})
        clocks.recompute(act.session, act.settings, case)
        tell.tell(act.session, act.settings, case, "accepted", item_name=case.item.name,
                  promised_due=case.promised_due_at)
        events.publish(act.session, act.settings, CaseAccepted(case, case.accepted_at))  # e.g. the 受理通知书


def _project(act: _Action, run: engine.CaseRun) -> None:
    case, now = act.case, clock.now()
    rows = {t.id: t for t in case.tasks}
    views = run.tasks()
    for view in views:
        row = rows.get(view.id)
        if row is None:
            if view.state == "cancelled":
                continue  # a branch never reached: not part of the case's history
            org, post = _lane_target(act, view.lane)
            row = CaseTask(id=view.id, org_unit_id=org.id, seq=len(rows) + 1, bpmn_id=view.bpmn_id,
                           name=view.name, lane=post, kind=view.kind, state=view.state, created_at=now,
                           assignee=view.assignee, **step_clock(case))
            case.tasks.append(row)
            rows[view.id] = row
        if row.state != view.state and view.state in ("completed", "cancelled"):
            row.completed_at = now
        row.state = view.state
        if view.state in ("ready", "waiting"):
            row.due_at = view.due_at
            carry_case_clock(row, case)  # a step opened again carries the case's clock now
    _project_external(act, [v for v in views if v.kind == "external"])
    _project_waits(case, run.waits())
    case.next_timer_due_at = run.next_timer_due()
    store_run(case, run)
    if run.completed and case.status == "running":  # an ended case (refused, withdrawn…) was cancelled, not completed
        case.status, case.completed_at, case.next_timer_due_at = "completed", now, None
        audit.record(act.session, audit.case_stream(case.id), "case_completed", act.actor, case_id=case.id)
        tell.tell(act.session, act.settings, case, "completed", item_name=case.item.name)


def _lane_target(act: _Action, lane: str | None) -> tuple[OrgUnit, str | None]:
    """Who works a step of this lane: the case's org unit and the lane's post, or for an ORG:POST lane that org
    unit and post — which then sees the case from now on (并联审批, a street accepting for a department)."""
    case = act.case
    if lane is None or ":" not in lane:
        return act.session.get(OrgUnit, case.org_unit_id), lane
    org, post = orgs.lane_target(act.session, act.session.get(OrgUnit, case.org_unit_id), lane)
    if org.id != case.org_unit_id and all(p.org_unit_id != org.id for p in case.participants):
        case.participants.append(CaseParticipant(org_unit_id=org.id, since=clock.now()))
        audit.record(act.session, audit.case_stream(case.id), "case_shared", "system", case_id=case.id,
                     detail={"org_unit": org.code, "post": post})
    return org, post


def reproject(session: Session, settings: Settings, case_ids: list[int]) -> int:
    """Write the projections of running cases again from their workflows, without running anything (after an
    upgrade that projects more: the messages a case waits for, its external work). Returns how many changed."""
    changed = 0
    for case_id in case_ids:
        case = lock_case(session, case_id)
        if case.status != "running":
            continue
        before = (sorted((w.task_id, w.name) for w in case.waits), len(case.tasks))
        run = load_run(session, settings, case)
        _project(_Action(session, settings, case, "system"), run)
        changed += (sorted((w.task_id, w.name) for w in case.waits), len(case.tasks)) != before
    save(session)
    return changed


def _project_waits(case: Case, waits: list[engine.Wait]) -> None:
    """The messages and signals the case waits for, so that a message by name finds it in SQL."""
    if not waits and "waits" not in case.__dict__ and getattr(case, "awaited_nothing_at_load", False):
        set_committed_value(case, "waits", [])  # awaited nothing before, nor now: known empty, without a query
        return
    if not waits and not case.waits:
        return
    wanted = {(w.task_id, w.kind, w.name) for w in waits}
    for row in list(case.waits):
        if (row.task_id, row.kind, row.name) not in wanted:
            case.waits.remove(row)
    have = {(row.task_id, row.kind, row.name) for row in case.waits}
    for task_id, kind, name in sorted(wanted - have):
        case.waits.append(CaseWait(task_id=task_id, kind=kind, name=name))


def _project_external(act: _Action, views: list[engine.TaskView]) -> None:
    """External work (service tasks) as rows workers fetch and lock: open while the engine waits for it."""
    if not views:
        return
    s, case, now = act.session, act.case, clock.now()
    rows = {row.id: row for row in s.scalars(select(ExternalTask).where(ExternalTask.case_id == case.id))}
    for view in views:
        row = rows.get(view.id)
        if row is None:
            if view.state != "waiting":
                continue
            row = ExternalTask(id=view.id, case_id=case.id, org_unit_id=case.org_unit_id, bpmn_id=view.bpmn_id,
                               name=view.name, topic=view.topic or view.bpmn_id, state="open", created_at=now)
            s.add(row)
        elif row.state == "open" and view.state in ("completed", "cancelled"):
            row.state, row.finished_at, row.locked_until = view.state, now, None


def load_run(session: Session, settings: Settings, case: Case) -> engine.CaseRun:
    """The case's workflow, on the version it is pinned to, with the safe helpers attached. (Its blob came with
    the lock query; a case read otherwise loads it here, one SELECT.)"""
    bundle = definitions.bundle_by_id(session, case.definition_id, settings.tz)
    run = engine.CaseRun.load(case.engine_state.blob, bundle, helpers(session, settings), engine.limits_of(settings))
    # The waits projection mirrors what the stored workflow awaits: none there means no rows to read (below).
    case.awaited_nothing_at_load = not run.waits()
    return run


def _load(act: _Action) -> engine.CaseRun:
    return load_run(act.session, act.settings, act.case)


def store_run(case: Case, run: engine.CaseRun) -> None:
    """The workflow back into the case's case_states row (written by the flush: one UPDATE, or the INSERT of a
    new case), with the serializer version its bytes are in."""
    blob = run.dump()
    if case.engine_state is None:
        case.engine_state = CaseState(blob=blob, serializer_version=engine.SERIALIZER_VERSION)
    else:
        case.engine_state.blob, case.engine_state.serializer_version = blob, engine.SERIALIZER_VERSION


def refresh_due_timers(session: Session, settings: Settings, case: Case) -> None:
    """Fire the timers already due (before the case is stopped or otherwise changed)."""
    if case.next_timer_due_at is None or case.next_timer_due_at > clock.now():
        return
    act = _Action(session, settings, case, "system")
    run = _load(act)
    try:
        _apply(act, run, run.refresh_timers())
    except engine.EngineError as exc:
        raise engine_error(exc) from None


def shift_timers(session: Session, settings: Settings, case: Case, delta) -> None:
    """Move the case's waiting timers later by the time its clock was stopped."""
    run = _load(_Action(session, settings, case, "system"))
    if run.shift_timers(delta):
        store_run(case, run)
        case.next_timer_due_at = run.next_timer_due()


def save(session: Session) -> None:
    try:
        session.flush()
    except StaleDataError:
        raise Conflict("the case was changed by someone else at the same moment; reload and try again",
                       code="stale_case") from None


def create_case(session: Session, settings: Settings, actor: User, body: dict) -> tuple[Case, str]:
    """Open a case of an active item on its published definition; returns the case and its query code."""
    if actor.role != "clerk":
        raise Forbidden("only clerks open cases")
    if not isinstance(body.get("item_code"), str):
        raise Invalid("item_code is required", details=[{"field": "item_code"}])
    item = catalog.item_by_code(session, body["item_code"])
    org = session.get(OrgUnit, item.org_unit_id)
    if not orgs.can_see(actor, org):
        raise Forbidden("this item belongs to another department")
    definition = _takes_cases(session, item)
    applicant = _check_applicant(body.get("applicant"))
    # Materials are checked only when the request lists them (clients that never upload keep working);
    # then every required one must be there, and all the missing ones are named at once (一次性告知).
    materials = (case_materials.check(session, settings, actor, item, item.org_unit_id, body["materials"])
                 if body.get("materials") is not None else None)
    try:
        data = engine.check_data(body.get("data") or {})
    except engine.InvalidCaseData as exc:
        raise Invalid(str(exc), details=[{"field": "data"}]) from None
    return open_case(session, settings, actor, item, definition, applicant, data, materials)


def _takes_cases(session: Session, item: PowerItem):
    """The item's published definition, if the item takes new cases (else 409)."""
    if item.status != "active":
        raise Conflict(f"item {item.code} is {item.status}; it takes no new cases", code="item_not_active")
    definition = definitions.published_for(session, item.id)
    if definition is None:
        raise Conflict(f"item {item.code} has no published definition", code="no_published_definition")
    return definition


def open_case_by_message(session: Session, settings: Settings, actor: User, definition, applicant) -> tuple[Case, str]:
    """A case another system starts with a message (its process begins with a message start event); the
    message itself is delivered by the caller, in the same transaction."""
    item = definition.item
    if _takes_cases(session, item).id != definition.id:
        raise Conflict(f"definition {definition.id} is not the one item {item.code} runs", code="wrong_status")
    return open_case(session, settings, actor, item, definition, _check_applicant(applicant), {}, None)


def open_case(session: Session, settings: Settings, actor: User, item: PowerItem, definition, applicant: dict,
              data: dict, materials) -> tuple[Case, str]:
    """Start the workflow and register the case (checked input only); returns the case and its query code."""
    bundle = definitions.bundle(definition, settings.tz)
    try:
        run, changes = engine.CaseRun.start(bundle, data, helpers(session, settings), engine.limits_of(settings))
    except engine.EngineError as exc:
        raise engine_error(exc) from None
    now = clock.now()
    code = "".join(secrets.choice(QUERY_ALPHABET) for _ in range(8))
    case_no = _new_case_no(session, settings)
    # Without a clock_start_step the case is accepted as it is registered; otherwise at that step.
    case = Case(case_no=case_no, query_code_hash=_query_hash(settings, case_no, code), item_id=item.id,
                definition_id=definition.id, org_unit_id=item.org_unit_id, applicant=applicant,
                applicant_name=applicant["name"], applicant_id_number=applicant["id_number"] or None,
                applicant_phone=applicant["phone"] or None, status="running", created_by_id=actor.id, created_at=now,
                clock_start_step=item.clock_start_step, accepted_at=None if item.clock_start_step else now,
                signalled=[], extension_days=0, suspended_days=0, suspended_natural_days=0, card="none",
                audit_seq=0, audit_hash=audit.GENESIS)
    case.item = item
    case.tasks, case.waits = [], []  # a new case has none: known empty, so nothing asks the database for them
    case.engine_state = None  # nor a stored workflow yet: the projection adds it, inserted with the case's writes
    clocks.recompute(session, settings, case)
    session.add(case)
    try:
        session.flush()
    except IntegrityError:
        raise Conflict("case number collision; try again", code="duplicate") from None
    audit.hold_head(session, case)  # its chain's head is on its row, which this transaction wrote
    audit.record(session, audit.case_stream(case.id), "case_created", actor.username, case_id=case.id,
                 detail={"case_no": case_no, "item": item.code, "definition_id": definition.id,
                         "version": definition.version})
    if materials:
        case_materials.attach(session, settings, case, materials, actor)
    # The first message carries the query code; acceptance itself comes with the clock_start_step, if any.
    tell.tell(session, settings, case, "accepted" if case.accepted_at else "received", secret=code,
              item_name=item.name, **({"promised_due": case.promised_due_at} if case.accepted_at else {}))
    _apply(_Action(session, settings, case, actor.username, announces_completion=True), run, changes)
    events.publish(session, settings, CaseCreated(case, now))
    if item.clock_start_step is None:  # accepted as it is registered
        events.publish(session, settings, CaseAccepted(case, now))
    if case.status == "completed":  # a flow with no step at all ends as it starts
        events.publish(session, settings, CaseCompleted(case, now))
    save(session)
    return case, code


def complete_task(session: Session, settings: Settings, actor: User, case_no: str, task_id: str,
                  data, opinion, missing_materials=None, decision=None) -> Case:
    """Complete a READY step. At the item's 补正 step (supplement_step), `missing_materials` is the one-time
    list of everything missing (一次性告知): the case's clock stops with it until the clerk restarts it. At its
    decision_step, `decision` is required (app/cases/decisions.py); a major one waits for the legal office."""
    if not isinstance(opinion, str) or len(opinion) > 5000 or "\x00" in opinion:
        raise Invalid("opinion must be text (at most 5000 characters)", details=[{"field": "opinion"}])
    case = get_visible(session, actor, case_no, for_update=True)
    act = _Action(session, settings, case, actor.username, announces_completion=True)
    try:
        if case.status != "running":
            raise Conflict(f"the case is {case.status}" + (
                "; restart its clock when the applicant is back (恢复计时)" if case.status == "suspended" else ""),
                code="case_not_running")
        run = _load(act)
        fired = run.refresh_timers()  # a due timer fires before the user's action, never after it
        view = run.find_task(task_id)
        _authorize(actor, _row_of(case, view), view)
        supplement = _supplement_list(case, view, missing_materials)
        decided = decisions.for_step(case, view.bpmn_id, decision) if view.state == "ready" else None
        # A major decision not yet approved is recorded for review and refused here: nothing advances.
        approved = (decisions.hold_if_major(session, case, actor, view.bpmn_id, decided, opinion)
                    if decided else None)
        changes = fired + run.complete(task_id, data)
    except engine.TaskNotFound:
        raise NotFound(f"no task {task_id} in case {case_no}") from None
    except engine.TaskNotReady:
        raise Conflict("the task is not ready (already completed, cancelled or not reached)",
                       code="task_not_ready") from None
    except engine.InvalidCaseData as exc:
        raise Invalid(str(exc), details=[{"field": "data"}]) from None
    except engine.EngineError as exc:
        raise engine_error(exc) from None
    act.step = {"task_id": view.id, "opinion": opinion, "data": data if isinstance(data, dict) else {},
                **({"decision": decided} if decided else {})}
    _apply(act, run, changes)
    row = next(t for t in case.tasks if t.id == view.id)
    row.completed_by_id, row.opinion = actor.id, opinion
    if supplement is not None:
        stops.open_stop(session, settings, case, actor, kind="supplement", reason=opinion.strip() or
                        stops.SUPPLEMENT_REASON, legal_basis=stops.SUPPLEMENT_BASIS, expected_days=None,
                        missing=supplement, task_bpmn_id=view.bpmn_id)
    made = (decisions.make(session, settings, case, actor, view.bpmn_id, decided, approved, opinion)
            if decided else None)
    save(session)  # the version check first: a concurrent change is a 409, never an error inside the rules
    # What judges the finished action (e.g. the rules beyond time) reacts to these.
    now = clock.now()
    events.publish(session, settings, StepCompleted(case, row, data if isinstance(data, dict) else {}, opinion, now))
    if made is not None:  # the 决定书 and its publication (双公示)
        events.publish(session, settings, DecisionMade(case, made, now))
    if case.status == "completed":  # it was running above, so this action finished it
        events.publish(session, settings, CaseCompleted(case, now))
    save(session)
    return case


def _supplement_list(case: Case, view: engine.TaskView, raw) -> list[str] | None:
    """The missing list when `view` is the item's 补正 step (required there), else None (and none accepted)."""
    if view.bpmn_id != case.item.supplement_step:
        if raw:
            raise Invalid(f"missing_materials belongs to the 补正 step ({case.item.supplement_step or 'none'})",
                          details=[{"field": "missing_materials"}])
        return None
    missing = stops.missing_list({"missing_materials": raw})
    if not missing:
        raise Invalid("the 补正 step tells the applicant everything missing at once (一次性告知): "
                      "missing_materials is required", details=[{"field": "missing_materials"}])
    return missing


def _row_of(case: Case, view: engine.TaskView) -> CaseTask:
    row = next((t for t in case.tasks if t.id == view.id), None)
    if row is None:  # every step that can be ready was projected when it became ready
        raise engine.TaskNotReady(view.id)
    return row


def _authorize(actor: User, row: CaseTask, view: engine.TaskView) -> None:
    """A clerk of the step's org unit (the case's, or an ORG:POST lane's) holding the lane's post (no lane: any
    clerk there). An instance of a 会签 step (a multi-instance step over `assignee`) belongs to the user it
    names, and to nobody else."""
    if actor.role != "clerk" or actor.org_unit_id != row.org_unit_id:
        raise Forbidden("only a clerk of the department that holds this step can complete it")
    if view.assignee is not None:
        if actor.username != view.assignee:
            raise Forbidden(f"this instance of the joint step (会签) belongs to {view.assignee}")
        return
    if row.lane and row.lane not in actor.post_names:
        raise Forbidden(f"the task lies in lane '{view.lane}'; you do not hold that post")


def wake(session: Session, settings: Settings, case_ids: list[int]) -> int:
    """The worker's action on locked, due cases: fire their timers through the same path as every action,
    raise the deadline signals and escalate the orders that fell due. Returns how many things it raised.

    A batch is read in five queries (cases, tasks, org units, audit heads, notice keys), written in one flush:
    the per-statement cost, not the database, is what a sweep of many due cases spends its time on.
    """
    # Read after claim_due locked the rows (a statement of its own, so this one sees what committed before).
    batch = list(session.scalars(select(Case).where(Case.id.in_(case_ids)).order_by(Case.id)
                                 .options(joinedload(Case.engine_state), selectinload(Case.tasks),
                                          selectinload(Case.waits), lazyload(Case.item))))
    for case in batch:  # locked by claim_due: their audit heads are on these rows
        audit.hold_head(session, case)
    events.publish(session, settings, CasesWaking([case.id for case in batch]))
    # Held here so that every session.get(OrgUnit, …) below is an identity-map hit, not a query per case
    # (the session only holds its objects weakly).
    org_units = list(session.scalars(select(OrgUnit).where(OrgUnit.id.in_({case.org_unit_id for case in batch}))))
    raised = 0
    with session.no_autoflush:  # nothing read below depends on what the batch has not written yet
        for case in batch:
            raised += _wake_one(session, settings, case)
    _write_case_rows(session, batch)
    save(session)
    del org_units
    return raised


def _write_case_rows(session: Session, batch: list[Case]) -> None:
    """The batch's case rows in multi-row UPDATEs, each still checked against the version it was read at: the
    ORM's versioned UPDATE goes one row per statement, the dearest part of a batch's write. (Task rows and
    audit heads are left to the flush, which already batches unversioned UPDATEs.)"""
    if not write_versioned_rows(session, batch, version_key="version"):
        raise Conflict("a case was changed by someone else at the same moment", code="stale_case")


def _wake_one(session: Session, settings: Settings, case: Case) -> int:
    now, raised = clock.now(), 0
    if case.status == "running" and case.next_timer_due_at and case.next_timer_due_at <= now:
        act = _Action(session, settings, case, "system")
        run = _load(act)
        changes = run.refresh_timers()
        _apply(act, run, changes)
        raised += sum(1 for c in changes if c.action == "timer_fired")
    raised += events.publish(session, settings, CaseWoken(case, now))  # deadline signals, orders, materials owed
    clocks.schedule(case)
    return raised


def postpone_broken_timer(session: Session, case_id: int, message: str, *, code: str = "engine_error",
                          element_id: str | None = None) -> None:
    """A timer path that fails (bad data, bad value, over the work budget) is retried later and recorded,
    instead of spinning: 10 minutes later, or a day later when it was too expensive."""
    case = session.get(Case, case_id)
    case.next_timer_due_at = clock.now() + (TOO_EXPENSIVE_RETRY if code == "too_expensive" else TIMER_RETRY)
    clocks.schedule(case)
    audit.record(session, audit.case_stream(case.id), "timer_error", "system", case_id=case.id,
                 task_bpmn_id=element_id,
                 detail={"message": message, "code": code, "element_id": element_id,
                         "retry_at": case.next_timer_due_at.isoformat()})


def claim_due_cases(session: Session, now: datetime, is_postgres: bool, *, limit: int,
                    after: tuple[datetime, int] | None = None) -> list[int]:
    """Up to `limit` cases whose wake-up time has come, the earliest first, locked for this transaction;
    other workers skip them (SKIP LOCKED) and take the next ones."""
    return [case_id for case_id, _wake in claim_due(session, now, is_postgres, limit=limit, after=after)]


def claim_due(session: Session, now: datetime, is_postgres: bool, *, limit: int,
              after: tuple[datetime, int] | None = None) -> list[tuple[int, datetime]]:
    """(id, wake-up time) of up to `limit` due cases in (wake_at, id) order, after the cursor `after` — a sweep
    walks the due cases once with a cursor instead of excluding an ever longer list of ids it has handled."""
    query = select(Case.id, Case.wake_at).where(Case.wake_at <= now).order_by(Case.wake_at, Case.id).limit(limit)
    if after is not None:
        wake, case_id = after
        query = query.where(or_(Case.wake_at > wake, and_(Case.wake_at == wake, Case.id > case_id)))
    if is_postgres:
        query = query.with_for_update(skip_locked=True)
    return [(case_id, wake) for case_id, wake in session.execute(query)]


def worklist(session: Session, actor: User, page: int = 1, per_page: int = 200) -> tuple[list, int]:
    """READY user tasks of the caller's org unit in lanes they hold (or without a lane), soonest due first, one
    page at a time; and how many there are. An instance of a 会签 step is in its assignee's worklist alone.

    Rows are (task, case_no, item_code, item_name): the worklist never loads a case or its blob. The order
    (due, created, id) is the worklist index's own, so a page reads only its rows; the steps are counted only
    when the first page is full.
    """
    order = (CaseTask.due_at.asc().nulls_last(), CaseTask.created_at, CaseTask.id)
    if page == 1:  # the usual request: one statement, walking the index in order and joining only its rows
        rows = list(session.execute(_ready_for(actor).order_by(*order).limit(per_page)).tuples())
    else:  # deeper: skip on index entries alone, then read the page's rows
        rows = _page_rows(session, actor, select(CaseTask.id).where(*_mine(actor)).order_by(*order), page, per_page)
    return rows, _count_ready(session, actor) if page > 1 or len(rows) == per_page else len(rows)


def worklist_page(session: Session, actor: User, page: int, per_page: int) -> tuple[list, int]:
    """The worklist as the page shows it, one page at a time: workable cases before stopped ones, then the
    case's promised limit (the most urgent first), then the step's own. Ordered and paged in SQL on the index
    ix_case_tasks_ready_by_case_clock alone (the step carries its case's clock), then the page's rows read as
    plain columns (WORK_ROW: no ORM objects for a list). Returns the rows and how many steps there are."""
    ids = (select(CaseTask.id).where(*_mine(actor))
           .order_by(CaseTask.case_stopped, CaseTask.case_due_at.asc().nulls_last(), CaseTask.due_at.asc().nulls_last(),
                     CaseTask.created_at, CaseTask.id))
    wanted = list(session.scalars(ids.offset((page - 1) * per_page).limit(per_page)))
    if not wanted:
        return [], _count_ready(session, actor)
    rows = {row.task_id: row for row in session.execute(_WORK_ROWS, {"ids": wanted})}
    return [rows[task_id] for task_id in wanted if task_id in rows], _count_ready(session, actor)


# A case as a list row shows it (its number, item and clock): what list_clocks in app/api/render.py reads.
CASE_ROW = (Case.id.label("case_id"), Case.case_no, Case.status, Case.accepted_at, Case.promised_due_at,
            Case.statutory_due_at, Case.warn_at, Case.card, Case.calendar_complete, PowerItem.code.label("item_code"),
            PowerItem.name.label("item_name"), PowerItem.promised_unit)
_WORK_ROWS = (select(CaseTask.id.label("task_id"), CaseTask.name, CaseTask.bpmn_id, CaseTask.lane, CaseTask.created_at,
                     CaseTask.due_at, *CASE_ROW)
              .join(Case, Case.id == CaseTask.case_id).join(PowerItem, PowerItem.id == Case.item_id)
              .where(CaseTask.id.in_(bindparam("ids", expanding=True))))


def _page_rows(session: Session, actor: User, ids, page: int, per_page: int) -> list:
    """A page in two steps: the page's task ids in the list's order (index entries only, however deep the page),
    then those rows with their case number and item, in that order."""
    wanted = list(session.scalars(ids.offset((page - 1) * per_page).limit(per_page)))
    if not wanted:
        return []
    rows = {row[0].id: row for row in session.execute(_ready_for(actor).where(CaseTask.id.in_(wanted))).tuples()}
    return [rows[task_id] for task_id in wanted if task_id in rows]


def _mine(actor: User) -> list:
    """Ready user steps of the actor's unit that are theirs: assigned to them (会签), or unassigned in a lane they
    hold (or in no lane)."""
    lanes = sorted(actor.post_names)
    return [CaseTask.org_unit_id == actor.org_unit_id, CaseTask.state == "ready", CaseTask.kind == "user",
            or_(CaseTask.assignee == actor.username,
                and_(CaseTask.assignee.is_(None), or_(CaseTask.lane.is_(None), CaseTask.lane.in_(lanes))))]


def _ready_for(actor: User):
    return (select(CaseTask, Case.case_no, PowerItem.code, PowerItem.name)
            .join(Case, Case.id == CaseTask.case_id).join(PowerItem, PowerItem.id == Case.item_id)
            .where(*_mine(actor)))


def _count_ready(session: Session, actor: User) -> int:
    """Counted on the task rows alone (every task has its case and item): no join per step."""
    return session.scalar(select(func.count()).select_from(CaseTask).where(*_mine(actor))) or 0


def public_progress(session: Session, settings: Settings, case_no: str, code: str | None) -> Case:
    """The case for the public query, or NotFound — identical for an unknown number and a wrong code."""
    if code is not None and not isinstance(code, str):  # a JSON body may send anything
        raise Invalid("code must be the query code (text)", details=[{"field": "code"}])
    case = session.scalar(select(Case).where(Case.case_no == case_no)) if case_no else None
    expected = _query_hash(settings, case_no or "", (code or "").strip().upper())
    if case is None or not code or not hmac.compare_digest(case.query_code_hash, expected):
        raise NotFound("no case with this number and query code")
    return case


def numbers_of(session: Session, case_ids: set[int]) -> dict[int, str]:
    if not case_ids:
        return {}
    rows = session.execute(select(Case.id, Case.case_no).where(Case.id.in_(case_ids)))
    return {case_id: case_no for case_id, case_no in rows}


# --- lists for the pages (app/web) ---------------------------------------------------------------------------
def open_cases(session: Session, actor: User, limit: int = 50) -> list:
    """Running and suspended cases of the actor's own org unit, the soonest promised deadline first, as list rows
    (CASE_ROW columns)."""
    return list(session.execute(_OPEN_CASES, {"org": actor.org_unit_id, "n": limit}))


_OPEN_CASES = (select(*CASE_ROW).join(PowerItem, PowerItem.id == Case.item_id)
               .where(Case.org_unit_id == bindparam("org"), Case.status.in_(OPEN_STATUSES))
               .order_by(Case.promised_due_at.asc().nulls_last(), Case.id).limit(bindparam("n")))  # ix_cases_open_org_promised


BOARD_CAP = 10_000  # the board's total: "10000+" beyond (counting every carded case of a district costs a scan)


def carded_page(session: Session, viewer: User, department: str | None = None, item_code: str | None = None,
                page: int = 1, per_page: int = 100) -> tuple[list, int]:
    """Open cases in the viewer's scope carrying a card (预警/黄牌/红牌), or whose pre-warning time has come, the
    soonest promised limit first: one page of rows (CASE_ROW and the department's name, `department`), and the
    total (at most BOARD_CAP + 1). Filtered, ordered and paged in SQL; the scope is a join on the org tree; the
    rows are plain columns, never case objects."""
    now = clock.now()
    units = select(OrgUnit.id).where(OrgUnit.path.startswith(viewer.org_unit.path))
    if department:
        units = units.where(OrgUnit.code == department)
    where = [Case.org_unit_id.in_(units.scalar_subquery()), Case.status.in_(OPEN_STATUSES),
             or_(Case.card != "none", Case.warn_at <= now, Case.promised_due_at <= now)]
    if item_code:
        where.append(Case.item_id == select(PowerItem.id).where(PowerItem.code == item_code).scalar_subquery())
    total = session.scalar(select(func.count()).select_from(select(Case.id).where(*where).limit(BOARD_CAP + 1)
                                                            .subquery()))
    rows = session.execute(select(*CASE_ROW, OrgUnit.name.label("department"))
                           .join(PowerItem, PowerItem.id == Case.item_id).join(OrgUnit, OrgUnit.id == Case.org_unit_id)
                           .where(*where).order_by(Case.promised_due_at, Case.id)
                           .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total


def ready_steps_of(session: Session, case_ids: list[int]) -> dict[int, list[str]]:
    """The names of the ready user steps of a page of cases, by case id, in one query."""
    out: dict[int, list[str]] = {case_id: [] for case_id in case_ids}
    if case_ids:
        rows = session.execute(select(CaseTask.case_id, CaseTask.name, CaseTask.bpmn_id).where(
            CaseTask.case_id.in_(case_ids), CaseTask.state == "ready", CaseTask.kind == "user").order_by(CaseTask.seq))
        for case_id, name, bpmn_id in rows:
            out[case_id].append(name or bpmn_id)
    return out
