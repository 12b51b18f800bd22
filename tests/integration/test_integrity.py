"""Integrity on a real database: races, workers, crashes and tampering."""
from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update

from app import clock, worker
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.cases.models import Case
from app.supervision.models import SupervisionNotice
from tests.world import build_world


@pytest.fixture
def world(app, frozen_now):
    return build_world(app)


def _race(n, fn):
    """Run fn(i) in n threads released at the same moment; return their results."""
    barrier, results = threading.Barrier(n), [None] * n

    def run(i):
        barrier.wait()
        results[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return results


def test_two_completions_of_one_task_at_once_give_one_200_and_one_409(world, app):
    for _ in range(3):
        case = world.new_case()
        task = world.ready(case, "Task_accept")
        url = f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete"
        clients = [app.test_client(), app.test_client()]
        token = world.tokens["acc"]
        codes = _race(2, lambda i: clients[i].post(url, json={"data": {}, "opinion": f"#{i}"},
                                                   headers={"Authorization": f"Bearer {token}"}).status_code)
        assert sorted(codes) == [200, 409]
        _, events = world.api.get(f"/api/v1/cases/{case['case_no']}/events", "acc")
        assert [e["action"] for e in events].count("task_completed") == 1


def test_two_timer_workers_racing_fire_each_timer_once(world, app):
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    cases = [world.complete(world.new_case(), "Task_accept", "acc") for _ in range(6)]
    clock.advance(timedelta(hours=73))
    fired = _race(2, lambda i: worker.sweep(db, settings))
    assert sum(fired) == 6
    with db.unit_of_work() as s:
        notices = s.scalars(select(SupervisionNotice)).all()
        assert len(notices) == 6
        assert len({n.case_id for n in notices}) == 6
        assert s.scalar(select(Case.id).where(Case.next_timer_due_at.is_not(None))) is None
        assert audit.verify(s) is None
    assert {c["case_no"] for c in cases} == {n["case_no"] for n in world.api.get("/api/v1/notices", "sup")[1]}


def test_a_worker_that_dies_mid_case_loses_nothing_and_doubles_nothing(world, app, monkeypatch):
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    world.complete(world.new_case(), "Task_accept", "acc")
    clock.advance(timedelta(hours=73))
    from app.cases import service as cases

    def crash(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(cases, "_project", crash)
    with pytest.raises(SystemExit):
        worker.sweep(db, settings)
    monkeypatch.undo()
    with db.unit_of_work() as s:
        assert s.scalar(select(SupervisionNotice.id)) is None  # the dead worker's work was rolled back
    assert worker.sweep(db, settings) == 1  # the restarted worker finds the case still due
    assert worker.sweep(db, settings) == 0
    with db.unit_of_work() as s:
        assert len(s.scalars(select(SupervisionNotice)).all()) == 1


def test_a_broken_timer_path_is_postponed_and_recorded_not_spun_on(world, app, monkeypatch):
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    case = world.complete(world.new_case(), "Task_accept", "acc")
    clock.advance(timedelta(hours=73))
    from app import engine
    from app.cases import service as cases

    def broken(*args, **kwargs):
        raise engine.EngineError("the notice path failed", "Timer_review_late")

    monkeypatch.setattr(cases, "wake", broken)
    assert worker.sweep(db, settings) == 0
    monkeypatch.undo()
    _, events = world.api.get(f"/api/v1/cases/{case['case_no']}/events", "sup")
    assert [e["action"] for e in events if not e["action"].startswith("document_")][-1] == "timer_error"
    assert worker.sweep(db, settings) == 0  # postponed: not due again yet
    clock.advance(timedelta(minutes=11))
    assert worker.sweep(db, settings) == 1


def test_one_broken_case_in_a_batch_costs_only_itself(world, app, monkeypatch):
    """The worker writes due cases in batches; a case that fails after others in its batch were worked (their
    notices and audit events queued) rolls the batch back, and the batch is redone case by case: the others
    notify exactly once, the broken one is postponed, and every chain still verifies."""
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    made = [world.complete(world.new_case(), "Task_accept", "acc") for _ in range(3)]
    clock.advance(timedelta(hours=73))
    from app import engine
    from app.cases import service as cases

    with db.unit_of_work() as s:
        ids = {c.case_no: c.id for c in s.scalars(select(Case))}
    broken_id = ids[made[-1]["case_no"]]  # the batch runs in id order: the last one fails after two were worked
    real_load = cases.load_run

    def load_run(session, settings_, case):
        if case.id == broken_id:
            raise engine.EngineError("this case's diagram cannot run", "Timer_review_late")
        return real_load(session, settings_, case)

    monkeypatch.setattr(cases, "load_run", load_run)
    assert worker.sweep(db, settings) == 2
    monkeypatch.undo()
    with db.unit_of_work() as s:
        notices = s.scalars(select(SupervisionNotice)).all()
        assert sorted(n.case_id for n in notices) == sorted(ids[c["case_no"]] for c in made[:2])
        assert all(len(n.recipients) == 4 for n in notices)
        assert audit.verify(s) is None
    _, events = world.api.get(f"/api/v1/cases/{made[-1]['case_no']}/events", "sup")
    last = [e for e in events if not e["action"].startswith("document_")][-1]  # the worker renders PDFs too
    assert last["action"] == "timer_error" and "cannot run" in last["detail"]["message"]
    for c in made[:2]:
        _, events = world.api.get(f"/api/v1/cases/{c['case_no']}/events", "sup")
        assert [e["action"] for e in events].count("notice_created") == 1
    clock.advance(timedelta(minutes=11))
    assert worker.sweep(db, settings) == 1  # the postponed one, once it works again
    with db.unit_of_work() as s:
        assert len(s.scalars(select(SupervisionNotice)).all()) == 3 and audit.verify(s) is None


def test_a_batch_write_of_a_case_changed_behind_its_back_is_refused(world, app):
    """The batch's multi-row UPDATE still checks each case's version: a row changed since it was read is a
    409 stale_case for the whole batch (the worker then redoes the batch case by case)."""
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    world.complete(world.new_case(), "Task_accept", "acc")
    clock.advance(timedelta(hours=73))
    from app.cases import service as cases
    from app.errors import Conflict

    with db.unit_of_work() as s:
        [case_id] = cases.claim_due_cases(s, clock.now(), db.is_postgres, limit=10)
        case = s.get(Case, case_id)
        s.connection().execute(update(Case.__table__).where(Case.__table__.c.id == case_id)
                               .values(version=case.version + 5))  # as a writer that skipped the lock would
        with pytest.raises(Conflict) as caught:
            cases.wake(s, settings, [case_id])
        assert caught.value.code == "stale_case"
        s.rollback()
    assert worker.sweep(db, settings) == 1  # nothing was written: the case is still due and fires once


def test_rows_queued_after_flush_are_written_at_commit_and_forgotten_on_rollback(world, app):
    """Audit events and notice recipients are queued plain rows (app.db_batch.insert_after_flush): written at the
    next flush or, when nothing else changed, at commit; a rolled-back savepoint drops its queued rows."""
    from app.db_batch import insert_after_flush

    db = app.extensions["sunlight.db"]
    table = AuditEvent.__table__
    row = dict(stream="test:queued", seq=1, at=clock.now(), actor="t", action="probe", case_id=None,
               task_bpmn_id=None, detail={}, prev_hash="0" * 64, hash="1" * 64)
    with db.unit_of_work() as s:  # nothing but the queued row: the commit itself writes it
        insert_after_flush(s, table, row)
    with db.unit_of_work() as s:
        try:
            with s.begin_nested():
                insert_after_flush(s, table, {**row, "seq": 2})
                raise RuntimeError("undo")
        except RuntimeError:
            pass
        assert "rows_after_flush" not in s.info
    with db.unit_of_work() as s:
        assert s.scalars(select(AuditEvent.seq).where(AuditEvent.stream == "test:queued")).all() == [1]


def test_audit_verify_names_an_edited_or_deleted_event(world, app):
    case = world.complete(world.new_case(), "Task_accept", "acc")
    db = app.extensions["sunlight.db"]
    with db.unit_of_work() as s:
        assert audit.verify(s) is None
        target = s.scalars(select(AuditEvent).where(AuditEvent.action == "task_completed")).first()
        target_id = target.id
        s.execute(update(AuditEvent).where(AuditEvent.id == target_id).values(actor="someone-else"))
    with db.unit_of_work() as s:
        breach = audit.verify(s)
        assert breach is not None and breach.event_id == target_id and "edited" in breach.reason
        s.execute(update(AuditEvent).where(AuditEvent.id == target_id).values(actor="acc"))
    with db.unit_of_work() as s:
        assert audit.verify(s) is None
        last = s.scalars(select(AuditEvent).where(AuditEvent.stream == f"case:{1}")
                         .order_by(AuditEvent.seq.desc())).first()
        s.execute(delete(AuditEvent).where(AuditEvent.id == last.id))
    with db.unit_of_work() as s:
        breach = audit.verify(s)
        assert breach is not None and "deleted" in breach.reason
    assert case["case_no"]


def test_a_stale_save_is_refused(world, app, monkeypatch):
    """Optimistic locking: if the row changed after this action loaded it, the save never lands (409)."""
    from app.cases import service as cases

    case = world.new_case()
    task_id = world.ready(case, "Task_accept")["id"]
    real_load = cases._load

    def load_then_someone_else_writes(act):
        run = real_load(act)
        act.session.connection().execute(update(Case).where(Case.id == act.case.id).values(version=Case.version + 1))
        return run

    monkeypatch.setattr(cases, "_load", load_then_someone_else_writes)
    status, body = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task_id}/complete", "acc", {})
    assert status == 409 and body["error"]["code"] == "stale_case"
    monkeypatch.undo()
    _, after = world.api.get(f"/api/v1/cases/{case['case_no']}", "acc")
    assert world.ready(after, "Task_accept")["id"] == task_id  # nothing half-written
