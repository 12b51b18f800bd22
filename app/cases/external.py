"""External work (外部任务): a service task is done by another system, like Camunda's external tasks.

When the engine reaches a service task it starts it and waits; the task becomes an open row of `external_tasks`
with its topic (`camunda:topic`, else the task's name). A worker (a `system` user) fetches and locks open tasks of
its topics for a while — two workers never hold the same task, and a lock that ran out frees it for the next —
then completes it with result data (through the case's action path: lock, due timers first, engine, audit,
projections, save) or reports a failure with the retries it has left. At 0 retries the task becomes an
incident on the case, shown there until an admin gives it new retries; it is never silently stuck.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app import clock, engine
from app.audit import service as audit
from app.errors import Conflict, Forbidden, Invalid, NotFound
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User
from app.settings import Settings

from . import service
from .models import Case, ExternalTask

# Topics Sunlight serves itself (README, "Built-in topics"): the worker completes these tasks, never a system
# user's worker, with retries and an incident like any external work. Who serves each is wired above cases
# (app/builtin_topics.py), since publishing a decision is disclosure's work.
TELL_APPLICANT, PUBLISH_DECISION, BUILTIN_TOPICS = engine.TELL_APPLICANT, engine.PUBLISH_DECISION, engine.BUILTIN_TOPICS
BUILTIN_RETRIES = 3  # attempts before a built-in task becomes an incident
BUILTIN_RETRY_SECONDS = 60  # the wait after the first failure; doubled after each next one
BUILTIN_WORKER = "sunlight"  # the worker id a built-in task is held by while Sunlight serves it

DEFAULT_LOCK_SECONDS = 300
MAX_LOCK_SECONDS = 24 * 3600
MAX_FETCH = 100
MAX_TEXT = 2000


def _text(body: dict, field: str, *, required: bool, limit: int = 64) -> str | None:
    raw = body.get(field)
    if raw is None and not required:
        return None
    if not isinstance(raw, str) or not raw.strip() or len(raw) > limit or "\x00" in raw:
        raise Invalid(f"{field} must be text of at most {limit} characters", details=[{"field": field}])
    return raw.strip()


def _whole(body: dict, field: str, default: int | None, low: int, high: int) -> int | None:
    raw = body.get(field, default)
    if raw is None and default is None:
        return None
    if isinstance(raw, bool) or not isinstance(raw, int) or not low <= raw <= high:
        raise Invalid(f"{field} must be a whole number from {low} to {high}", details=[{"field": field}])
    return raw


def _in_scope(actor: User):
    return OrgUnit.path.startswith(actor.org_unit.path)


def listing(session: Session, actor: User, *, topic: str | None, state: str, page: int, per_page: int):
    """Open external tasks in the caller's scope (or those in incident), oldest first, paged in SQL.
    Returns (rows of (task, case_no), total)."""
    query = (select(ExternalTask, Case.case_no).join(Case, Case.id == ExternalTask.case_id)
             .join(OrgUnit, OrgUnit.id == ExternalTask.org_unit_id).where(_in_scope(actor)))
    if state == "incident":
        query = query.where(ExternalTask.state == "open", ExternalTask.incident_at.is_not(None))
    else:
        query = query.where(ExternalTask.state == state)
    if topic:
        query = query.where(ExternalTask.topic == topic)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.execute(query.order_by(ExternalTask.created_at, ExternalTask.id)
                           .limit(per_page).offset((page - 1) * per_page)).tuples()
    return list(rows), total


def fetch_and_lock(session: Session, settings: Settings, actor: User, body: dict, is_postgres: bool) -> list[dict]:
    """Lock up to max_tasks open tasks of the given topics for this worker; each with the data at its task."""
    worker = _text(body, "worker_id", required=True)
    topics = body.get("topics")
    if not isinstance(topics, list) or not topics or len(topics) > 50 or not all(
            isinstance(t, str) and t.strip() and len(t) <= 200 for t in topics):
        raise Invalid("topics must be a list of topic names", details=[{"field": "topics"}])
    limit = _whole(body, "max_tasks", 10, 1, MAX_FETCH)
    seconds = _whole(body, "lock_seconds", DEFAULT_LOCK_SECONDS, 1, MAX_LOCK_SECONDS)
    now = clock.now()
    free = or_(ExternalTask.locked_until.is_(None), ExternalTask.locked_until <= now)
    wanted = [t.strip() for t in topics if t.strip() not in BUILTIN_TOPICS]  # Sunlight serves those itself
    query = (select(ExternalTask).join(OrgUnit, OrgUnit.id == ExternalTask.org_unit_id)
             .where(ExternalTask.state == "open", ExternalTask.topic.in_(wanted),
                    ExternalTask.incident_at.is_(None), free, _in_scope(actor))
             .order_by(ExternalTask.created_at, ExternalTask.id).limit(limit))
    if is_postgres:
        query = query.with_for_update(of=ExternalTask, skip_locked=True)
    taken = []
    for task in session.scalars(query):
        # The conditional update is the lock: a worker that read the same row a moment ago takes nothing.
        won = session.execute(update(ExternalTask).where(ExternalTask.id == task.id, ExternalTask.state == "open", free)
                              .values(worker_id=worker, locked_until=now + timedelta(seconds=seconds))
                              .execution_options(synchronize_session=False)).rowcount
        if won:
            session.refresh(task)
            taken.append(task)
    return [_with_variables(session, settings, task) for task in taken]


def _with_variables(session: Session, settings: Settings, task: ExternalTask) -> dict:
    case = session.get(Case, task.case_id)
    run = service.load_run(session, settings, case)
    return {"task": task, "case_no": case.case_no, "variables": run.task_data(task.id)}


def _row(session: Session, actor: User, task_id: str, *, lock: bool = False) -> ExternalTask:
    query = select(ExternalTask).where(ExternalTask.id == task_id)
    task = session.scalar(query.with_for_update(of=ExternalTask) if lock else query)
    if task is None or not orgs.can_see(actor, session.get(OrgUnit, task.org_unit_id)):
        raise NotFound(f"no external task {task_id}")
    return task


def _check_holder(task: ExternalTask, worker: str | None) -> None:
    """A task locked by one worker is that worker's until the lock runs out."""
    if task.state != "open":
        raise Conflict(f"the external task is {task.state}, not open", code="task_not_open")
    if task.worker_id and task.locked_until and task.locked_until > clock.now() and worker != task.worker_id:
        raise Conflict(f"the external task is locked by worker {task.worker_id} until "
                       f"{task.locked_until.isoformat()}", code="task_locked")


def complete(session: Session, settings: Settings, actor: User, task_id: str, body: dict) -> Case:
    """Complete open external work with its result data; the case moves on through its action path."""
    worker = _text(body, "worker_id", required=False)
    task = _row(session, actor, task_id)
    case = service.lock_case(session, task.case_id)
    task = _row(session, actor, task_id, lock=True)
    _check_holder(task, worker)
    if case.status != "running":
        raise Conflict(f"the case is {case.status}; its external work waits", code="case_not_running")
    run = service.load_run(session, settings, case)
    try:
        changes = run.refresh_timers()
        if task.id not in {v.id for v in run.tasks() if v.kind == "external" and v.state == "waiting"}:
            raise engine.TaskNotReady(task.id)  # a due timer cancelled it just now
        changes += run.complete_external(task.id, body.get("data") or {})
    except engine.TaskNotReady:
        raise Conflict("the external task is no longer open", code="task_not_open") from None
    except engine.InvalidCaseData as exc:
        raise Invalid(str(exc), details=[{"field": "data"}]) from None
    except engine.EngineError as exc:
        raise service.engine_error(exc) from None
    service.apply_changes(session, settings, case, actor.username, run, changes)
    service.save(session)
    return case


def fail(session: Session, actor: User, task_id: str, body: dict) -> ExternalTask:
    """A worker could not do the work: record why and how many retries are left; at 0 it is an incident."""
    worker = _text(body, "worker_id", required=False)
    error = _text(body, "error", required=True, limit=MAX_TEXT)
    retries = _whole(body, "retries", None, 0, 1000)
    if retries is None:
        raise Invalid("retries (how many attempts are left) is required", details=[{"field": "retries"}])
    wait = _whole(body, "retry_seconds", 0, 0, MAX_LOCK_SECONDS)
    task = _row(session, actor, task_id, lock=True)
    _check_holder(task, worker)
    _failed(session, task, actor.username, error, retries, wait)
    return task


def _failed(session: Session, task: ExternalTask, actor: str, error: str, retries: int, wait: int) -> None:
    """Record a failure with the retries left; not fetched again for `wait` seconds; at 0 an incident."""
    now = clock.now()
    task.retries, task.error_message, task.worker_id = retries, error, None
    task.locked_until = now + timedelta(seconds=wait) if wait else None  # not fetched again before then
    stream = audit.case_stream(task.case_id)
    audit.record(session, stream, "external_task_failed", actor, case_id=task.case_id,
                 task_bpmn_id=task.bpmn_id, detail={"task_id": task.id, "topic": task.topic, "error": error,
                                                    "retries": retries})
    if retries == 0 and task.incident_at is None:
        task.incident_at = now
        audit.record(session, stream, "incident_raised", actor, case_id=task.case_id,
                     task_bpmn_id=task.bpmn_id, detail={"task_id": task.id, "topic": task.topic, "error": error})
    session.flush()


# --- built-in topics: work Sunlight does itself ----------------------------------------------------------------
def due_builtin(session: Session, limit: int) -> list[str]:
    """Open built-in tasks of running cases, not in incident and not waiting out a retry, oldest first."""
    now = clock.now()
    return list(session.scalars(
        select(ExternalTask.id).join(Case, Case.id == ExternalTask.case_id)
        .where(ExternalTask.state == "open", ExternalTask.topic.in_(BUILTIN_TOPICS),
               ExternalTask.incident_at.is_(None), Case.status == "running",
               or_(ExternalTask.locked_until.is_(None), ExternalTask.locked_until <= now))
        .order_by(ExternalTask.created_at, ExternalTask.id).limit(limit)))


def claim_builtin(session: Session, task_id: str) -> tuple[Case, ExternalTask] | None:
    """The case (locked) and its built-in task, if the task is still there to be served."""
    task = session.get(ExternalTask, task_id)
    if task is None:
        return None
    case = service.lock_case(session, task.case_id)
    task = session.scalar(select(ExternalTask).where(ExternalTask.id == task_id).with_for_update(of=ExternalTask)
                          .execution_options(populate_existing=True))
    now = clock.now()
    if (task.state != "open" or task.topic not in BUILTIN_TOPICS or task.incident_at is not None
            or case.status != "running" or (task.locked_until and task.locked_until > now)):
        return None
    return case, task


def builtin_run(session: Session, settings: Settings, case: Case, task: ExternalTask) -> engine.CaseRun | None:
    """The case's workflow with its due timers fired and recorded first (as in every action), or None when a
    timer has just taken the task away (a boundary timer on it): then there is no work to do."""
    run = service.load_run(session, settings, case)
    try:
        fired = run.refresh_timers()
    except engine.EngineError as exc:
        raise service.engine_error(exc) from None
    if fired:
        service.apply_changes(session, settings, case, "system", run, fired)
    waiting = {v.id for v in run.tasks() if v.kind == "external" and v.state == "waiting"}
    return run if task.id in waiting else None


def complete_builtin(session: Session, settings: Settings, case: Case, task: ExternalTask, run: engine.CaseRun,
                     data: dict) -> None:
    """Sunlight did the work: the case moves on through its action path, audited as the system's."""
    try:
        changes = run.complete_external(task.id, data)
    except engine.EngineError as exc:
        raise service.engine_error(exc) from None
    service.apply_changes(session, settings, case, "system", run, changes)
    service.save(session)


def builtin_failed(session: Session, task_id: str, error: str) -> None:
    """A built-in task failed (its work rolled back): fewer retries, a longer wait; at 0 an incident."""
    task = session.scalar(select(ExternalTask).where(ExternalTask.id == task_id).with_for_update(of=ExternalTask))
    if task is None or task.state != "open":
        return
    left = (BUILTIN_RETRIES if task.retries is None else task.retries) - 1
    tried = max(BUILTIN_RETRIES - left - 1, 0)
    _failed(session, task, "system", error[:MAX_TEXT], max(left, 0), BUILTIN_RETRY_SECONDS * 2 ** tried)


def set_retries(session: Session, actor: User, task_id: str, body: dict) -> ExternalTask:
    """An admin resolves an incident by giving the task new retries (workers fetch it again)."""
    if actor.role != "admin":
        raise Forbidden("only an admin gives external work new retries")
    retries = _whole(body, "retries", None, 1, 1000)
    if retries is None:
        raise Invalid("retries is required", details=[{"field": "retries"}])
    task = _row(session, actor, task_id, lock=True)
    if task.state != "open":
        raise Conflict(f"the external task is {task.state}, not open", code="task_not_open")
    was_incident = task.incident_at is not None
    task.retries, task.incident_at, task.locked_until, task.worker_id = retries, None, None, None
    if was_incident:
        audit.record(session, audit.case_stream(task.case_id), "incident_resolved", actor.username,
                     case_id=task.case_id, task_bpmn_id=task.bpmn_id, detail={"task_id": task.id, "retries": retries})
    session.flush()
    return task


def of_case(session: Session, case_id: int) -> dict[str, ExternalTask]:
    """The case's external work by task id (for the case view)."""
    return {t.id: t for t in session.scalars(select(ExternalTask).where(ExternalTask.case_id == case_id))}
