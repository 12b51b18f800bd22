"""Statement budgets of the hot path (issue 14): how many SQL statements one request may cost.

The budgets are today's counts, per backend; a change that adds a query per row or a lazy
load in the middle of an action fails here instead of showing up months later as a slow district. Lower them
when the hot path gets leaner. `SHOW_STATEMENTS=1 pytest -s` prints the case view's statements.
"""
from __future__ import annotations

from tests import statements
from tests.world import build_world

# request → (SQLite, PostgreSQL) budget
# Measured 2026-12-02: a lifecycle cost 98 statements on SQLite and 86 on PostgreSQL; now 70 and 59 (the case's
# audit head on its row, the response's papers probed in one query, waits read only when awaited, published
# definitions and active rules not re-read). Creating the case issues its 受理通知书 here (its PDF comes later).
# Then 61 and 50: a notice's recipients come joined to the case's notices, without their users' posts (and a
# rule's addressees without theirs); a document number is one upsert; a step with no data that no rule times
# does not read the rules' configuration; the response's papers probe brings the documents along.
# The engine blob lives in case_states (kept out of every list's rows): each action that moves the workflow writes
# it with one statement of its own (create: its INSERT; a step: its UPDATE), +1 on those four; its read rides on
# the lock query's join, so reads cost nothing more. A token's user is kept for TOKEN_CACHE_SECONDS: acc's (create,
# accept, the case view, the worklist) is known from the warm-up, rev's and dec's are looked up.
BUDGETS = {"create": (17, 14), "accept": (12, 10), "review": (13, 11), "decide": (21, 17), "case": (8, 7),
           "worklist": (2, 1)}


def counted(app):
    return statements.counted(app.extensions["sunlight.db"].engine)


def budget(app, name: str) -> int:
    sqlite = app.extensions["sunlight.db"].engine.dialect.name == "sqlite"
    return BUDGETS[name][0 if sqlite else 1]


def test_the_lifecycle_stays_within_its_statement_budget(app, frozen_now):
    world = build_world(app)
    api = world.api
    world.new_case()  # warm: the first case of a process loads the spec and fills the caches
    counts = {}
    with counted(app) as seen:
        case = world.new_case()
    counts["create"] = len(seen)
    for name, (step, user, data) in zip(("accept", "review", "decide"),
                                        (("Task_accept", "acc", {}), ("Task_review", "rev", {"approved": True}),
                                         ("Task_decide", "dec", {}))):
        task = world.ready(case, step)
        with counted(app) as seen:
            status, case = api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", user,
                                    {"data": data, "opinion": "同意"})
        assert status == 200, case
        counts[name] = len(seen)
    with counted(app) as seen:
        assert api.get(f"/api/v1/cases/{case['case_no']}", "acc")[0] == 200
    counts["case"] = len(seen)
    import os
    if os.environ.get("SHOW_STATEMENTS"):
        print("\n".join(" ".join(x.split())[:230] for x in seen))
    with counted(app) as seen:
        assert api.get("/api/v1/tasks", "acc")[0] == 200
    counts["worklist"] = len(seen)
    print(counts)
    over = {k: (n, budget(app, k)) for k, n in counts.items() if n > budget(app, k)}
    assert not over, over
