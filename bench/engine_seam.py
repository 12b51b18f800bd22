"""Sunlight's engine seam (app.engine) as the benches drive it, without database or HTTP.

Shared by bench/lifecycle.py's engine layer (a2) and bench/floor_apps.py's floor servers, so both time the same
calls a request makes: load the case's blob → refresh timers → find the task → complete it → project the tasks and
the next timer → dump. Import this only where `app` may be imported (app.engine.timers patches SpiffWorkflow's
clock on import; bench/lifecycle.py's raw engine must be built before that).
"""
from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
DIAGRAM = ROOT / "bpmn" / "licensing_demo.bpmn"
TZ = ZoneInfo("Asia/Shanghai")
HELPERS: dict = {}  # the app adds `workdays` (a calendar read); the licensing demo calls no helper


def licensing_bundle(xml: bytes | None = None):
    """The demo diagram validated and parsed as a deployment does it (bare PT72H timer text as deployed)."""
    from app import engine

    xml = DIAGRAM.read_bytes() if xml is None else xml
    dep = engine.validate(xml, limit=len(xml) + 1, tz=TZ)
    return engine.bundle_for(dep.sha256, lambda: xml, dep.process_id, TZ)


def start(bundle, data: dict | None = None):
    """A new case's workflow: (run, changes, task views), the views and next timer projected as create does."""
    from app import engine

    run, changes = engine.CaseRun.start(bundle, data or {}, HELPERS)
    views = run.tasks()
    run.next_timer_due()
    return run, changes, views


def load(blob: bytes, bundle):
    from app import engine

    return engine.CaseRun.load(blob, bundle, HELPERS)


def complete(run, task_id: str, data: dict):
    """One user step as a request does it: (changes, task views). Raises the engine's TaskNotFound/TaskNotReady."""
    changes = run.refresh_timers()
    run.find_task(task_id)
    changes += run.complete(task_id, data)
    views = run.tasks()
    run.next_timer_due()
    return changes, views


def ready_task(run, bpmn_id: str) -> str:
    """The id of the ready task of this diagram element (what a client reads from the case JSON)."""
    return next(v.id for v in run.tasks() if v.bpmn_id == bpmn_id and v.state == "ready")
