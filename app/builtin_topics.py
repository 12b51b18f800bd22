"""Built-in topics: service tasks Sunlight completes itself (README, "Built-in topics").

A service task whose topic is one of these is external work like any other — an open row of `external_tasks`,
shown on the case — except that no system user's worker fetches it: the timer worker serves it in its sweep,
each task in a transaction of its own, through the case's action path.

- `sunlight.tell-applicant`: tells the applicant (短信, and the progress page) through the applicant-message
  channel; the text is the case data's `applicant_message` at the task, else the task's name.
- `sunlight.publish-decision`: publishes the case's decision (双公示) through the disclosure service; one
  published already is left as it is.

A failure rolls that task's work back and is recorded like a worker's (`external_task_failed`): it is tried again
after 1, then 2 minutes, and after BUILTIN_RETRIES attempts it is an incident on the case until an admin gives
it new retries. This module sits above cases and disclosure (it calls both), so neither imports the other.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from sqlalchemy.orm import Session

from app.cases import external, tell
from app.cases.models import Case, ExternalTask
from app.db import Database
from app.disclosure import service as disclosure
from app.errors import DomainError
from app.settings import Settings

log = logging.getLogger("sunlight.topics")

BATCH = 100  # built-in tasks served per sweep (the rest wait for the next one)
MAX_TEXT = 300  # an SMS line


def _tell_applicant(session: Session, settings: Settings, case: Case, task: ExternalTask, data: dict) -> dict:
    said = data.get("applicant_message")
    text = said.strip() if isinstance(said, str) and said.strip() else (task.name or "").strip()
    if not text:
        raise DomainError("nothing to tell: set applicant_message in the case data or name the service task",
                          code="nothing_to_tell")
    tell.tell(session, settings, case, "step_notice", text=text[:MAX_TEXT])
    return {}


def _publish_decision(session: Session, settings: Settings, case: Case, task: ExternalTask, data: dict) -> dict:
    row = disclosure.publish_for_flow(session, case)
    return {"decision_published_at": row.published_at.isoformat() if row.published_at else None}


# topic -> (session, settings, case, task, the case data at the task) -> result data for the task
SERVED: dict[str, Callable[[Session, Settings, Case, ExternalTask, dict], dict]] = {
    external.TELL_APPLICANT: _tell_applicant,
    external.PUBLISH_DECISION: _publish_decision,
}
assert set(SERVED) == set(external.BUILTIN_TOPICS)


def serve_due(db: Database, settings: Settings, limit: int = BATCH) -> int:
    """Serve the open built-in tasks; returns how many were completed."""
    with db.unit_of_work() as s:
        due = external.due_builtin(s, limit)
    return sum(_serve_one(db, settings, task_id) for task_id in due)


def _serve_one(db: Database, settings: Settings, task_id: str) -> int:
    try:
        with db.unit_of_work() as s:
            claimed = external.claim_builtin(s, task_id)
            if claimed is None:
                return 0
            case, task = claimed
            run = external.builtin_run(s, settings, case, task)  # due timers first, as in every action
            if run is None:  # a timer took the task away: nothing to do (what it fired is saved)
                return 0
            result = SERVED[task.topic](s, settings, case, task, run.task_data(task.id))
            external.complete_builtin(s, settings, case, task, run, result)
            return 1
    except DomainError as exc:  # the work could not be done now (no decision yet, the case cannot proceed…)
        error = exc.message + "".join(f" — {d['message']}" for d in exc.details
                                      if isinstance(d, dict) and isinstance(d.get("message"), str))
    except Exception as exc:  # noqa: BLE001 — one broken task must not stop the sweep for every other
        log.exception("built-in task %s failed", task_id)
        error = f"{type(exc).__name__}: {exc}"
    with db.unit_of_work() as s:
        external.builtin_failed(s, task_id, error)
    return 0
