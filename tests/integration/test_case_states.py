"""The engine blob in a table of its own (issue 14): migration 0021 moves every case's blob out of `cases`
into `case_states` (and back on downgrade), cases go on working after it, and no list or view reads the blob."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import inspect, text

from app import clock, engine, worker
from tests.statements import clone_cases, counted
from tests.world import build_world


@pytest.fixture
def world(app, frozen_now):
    return build_world(app)


def _blobs(conn, sql: str) -> dict:
    return {no: (bytes(blob), version) for no, blob, version in conn.execute(text(sql))}


def test_migration_0021_moves_every_blob_and_cases_go_on_after_it(world, app):
    from alembic import command

    from app.cli import alembic_config

    db = app.extensions["sunlight.db"]
    running = world.complete(world.new_case(), "Task_accept", "acc")
    fresh = world.new_case()
    done = world.complete(world.complete(world.complete(world.new_case(), "Task_accept", "acc"), "Task_review", "rev",
                                         {"approved": True}), "Task_decide", "dec")
    assert done["status"] == "completed"
    with db.engine.connect() as conn:
        stored = _blobs(conn, "SELECT c.case_no, s.blob, s.serializer_version FROM cases c "
                              "JOIN case_states s ON s.case_id = c.id")
    assert len(stored) == 3 and {v for _, v in stored.values()} == {engine.SERIALIZER_VERSION}
    db.engine.dispose()
    with app.app_context():
        command.downgrade(alembic_config(), "0021-1")  # as a database from before this revision: blobs on the row
    with db.engine.connect() as conn:
        assert "case_states" not in inspect(conn).get_table_names()
        assert _blobs(conn, "SELECT case_no, state, serializer_version FROM cases") == stored
        # What an older release would have written meanwhile is what the upgrade carries over.
        conn.execute(text("UPDATE cases SET serializer_version = '1.4' WHERE case_no = :no"), {"no": fresh["case_no"]})
        conn.commit()
    db.engine.dispose()
    with app.app_context():
        command.upgrade(alembic_config(), "head")
    with db.engine.connect() as conn:
        assert {"state", "serializer_version"}.isdisjoint(c["name"] for c in inspect(conn).get_columns("cases"))
        moved = _blobs(conn, "SELECT c.case_no, s.blob, s.serializer_version FROM cases c "
                             "JOIN case_states s ON s.case_id = c.id")
    assert moved == {**stored, fresh["case_no"]: (stored[fresh["case_no"]][0], "1.4")}
    db.engine.dispose()
    # The moved workflows run on: the next steps, a new case, and a timer the worker fires.
    case = world.complete(world.complete(running, "Task_review", "rev", {"approved": True}), "Task_decide", "dec")
    assert case["status"] == "completed"
    case = world.complete(fresh, "Task_accept", "acc")
    assert world.ready(case, "Task_review")
    with db.engine.connect() as conn:  # the step wrote the blob anew, in this release's format
        assert conn.execute(text("SELECT s.serializer_version FROM case_states s JOIN cases c ON c.id = s.case_id "
                                 "WHERE c.case_no = :no"), {"no": fresh["case_no"]}).scalar_one() \
            == engine.SERIALIZER_VERSION
    late = world.complete(world.new_case(), "Task_accept", "acc")
    blob_of = "SELECT s.blob FROM case_states s JOIN cases c ON c.id = s.case_id WHERE c.case_no = :no"
    with db.engine.connect() as conn:
        waiting = bytes(conn.execute(text(blob_of), {"no": late["case_no"]}).scalar_one())
    clock.advance(timedelta(hours=73))  # past the review step's (non-interrupting) timer
    assert worker.sweep(db, app.extensions["sunlight.settings"]) >= 1
    _, after = world.api.get(f"/api/v1/cases/{late['case_no']}", "sup")
    assert any(n["task_bpmn_id"] == "Task_review" for n in after["notices"]) and world.ready(after, "Task_review")
    with db.engine.connect() as conn:  # the worker's batch wrote the fired timer into the blob
        assert bytes(conn.execute(text(blob_of), {"no": late["case_no"]}).scalar_one()) != waiting


def test_no_list_search_board_notice_or_case_view_reads_the_engine_blob(world, app):
    """Only an action reads case_states (its lock query joins it in): the lists, the search, the board, the
    notices and the case's own views never do, so none of them carries the blob's kilobytes per case."""
    from tests.integration.test_lists_at_scale import browser, overdue_case_with_notices

    db = app.extensions["sunlight.db"]
    no = overdue_case_with_notices(world, app)
    clone_cases(db, no, 3, suspended_every=2, notices=True)
    public = world.new_case()  # its query code, for the public progress query
    api = [("acc", "/api/v1/tasks"), ("acc", "/api/v1/tasks?page=2&per_page=1"), ("acc", "/api/v1/cases"),
           ("acc", "/api/v1/cases?q=张三"), ("sup", "/api/v1/cases?status=running"), ("sup", "/api/v1/notices"),
           ("sup01", "/api/v1/notices"), ("acc", "/api/v1/notices"), ("sup", "/api/v1/board"),
           ("sup01", "/api/v1/board"), ("sup", "/api/v1/statistics"), ("sup", "/api/v1/orders"),
           ("acc", f"/api/v1/cases/{no}"), ("acc", f"/api/v1/cases/{no}/events"), (None, "/public/api/v1/decisions"),
           (None, f"/public/api/v1/cases/{public['case_no']}?code={public['query_code']}")]
    pages = [("acc", "/work"), ("acc", "/cases"), ("acc", "/cases?q=张三"), ("acc", "/cases.csv"),
             ("sup", "/notices"), ("sup01", "/notices"), ("sup", "/supervision"), ("sup01", "/supervision"),
             ("acc", f"/cases/{no}"), ("sup", f"/cases/{no}")]
    read = []
    for user, url in api + pages:
        client = browser(app, db, user) if (user, url) in pages else app.test_client()
        headers = {"Authorization": f"Bearer {world.tokens[user]}"} if user and (user, url) in api else {}
        with counted(db.engine) as seen:
            resp = client.get(url, headers=headers)
        assert resp.status_code == 200, (url, resp.status_code, resp.get_data(as_text=True)[:300])
        read += [(user, url, " ".join(s.split())[:160]) for s in seen if re.search(r"\bcase_states\b", s)]
    assert not read, read


def test_an_action_that_waited_for_the_case_sees_the_blob_the_other_one_wrote(world, app, db_url):
    """Two completions of one step, the second arriving while the first holds the case: on PostgreSQL the second's
    lock query waits, then must read the blob the first wrote (the step done: 409), not the one its statement
    began with. (SQLite runs whole write transactions one at a time: no such window.)"""
    import threading
    import time

    from app.cases import service as cases
    from app.orgs import service as orgs

    if not db_url.startswith("postgresql"):
        pytest.skip("SQLite serialises write transactions whole (BEGIN IMMEDIATE)")
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    case = world.new_case()
    task = world.ready(case, "Task_accept")
    second = {}

    def complete_again():
        second["status"] = app.test_client().post(
            f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", json={"data": {}, "opinion": "#2"},
            headers={"Authorization": f"Bearer {world.tokens['acc']}"}).status_code

    waiting = text("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                   "AND query LIKE '%FOR UPDATE OF cases%'")
    thread = threading.Thread(target=complete_again)
    with db.unit_of_work() as s:
        cases.complete_task(s, settings, orgs.user_by_name(s, "acc"), case["case_no"], task["id"], {}, "#1")
        thread.start()
        with db.engine.connect() as watch:  # until the second request waits for this transaction's locks
            deadline = time.monotonic() + 10
            while not watch.execute(waiting).scalar() and time.monotonic() < deadline:
                time.sleep(0.02)
    thread.join(30)
    assert second == {"status": 409}
    _, events = world.api.get(f"/api/v1/cases/{case['case_no']}/events", "acc")
    assert [e["action"] for e in events].count("task_completed") == 1
