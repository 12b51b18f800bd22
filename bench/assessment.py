"""Benchmark: the assessment (考核评估) of a million-case district on PostgreSQL.

Run from the repo root:  .venv/bin/python bench/assessment.py [--pg URL] [--cases 1000000] [--repeats 5]

Loads the demo district (22 departments, 6 streets, 668 items with published flows) into a schema of its own,
then generates --cases cases in SQL over twelve months (December 2025 – November 2026; 80 % completed, a third
of those after their statutory limit), a supervision notice for one case in twenty, a 督办 order for one in two
hundred and a 好差评 rating for one completed case in five. It then times, as the district's admin:
  - a quarter's assessment of the whole district (2026-Q2), median and worst of --repeats runs (target < 2 s);
  - one department's drill-down for that quarter (CA01), median and worst (target < 300 ms);
and prints the EXPLAIN (ANALYZE) plan of every statement one assessment sends, flagging any sequential scan of
`cases`. The schema is dropped at the end. Prints figures; judges only against the issue's targets.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import uuid
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench")
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
START = datetime(2025, 12, 1, tzinfo=timezone.utc)  # twelve months of cases from here
QUARTER, DEPARTMENT = "2026-Q2", "CA01"


def perf() -> float:
    return time.perf_counter()


def schema_url(base: str, schema: str) -> str:
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


@contextmanager
def demo_district(pg: str, prefix: str, **config):
    """The demo district in a throwaway PostgreSQL schema (created, migrated, loaded; dropped on the way out).
    Yields (app, seconds the district took to load)."""
    from sqlalchemy import create_engine, text

    from app import create_app
    from app.cli import upgrade_database
    from app.demo import loader

    schema = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(pg, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE SCHEMA "{schema}"'))
    app = None
    try:
        app = create_app({"DATABASE_URL": schema_url(pg, schema), **config})
        with app.app_context():
            upgrade_database()
        t = perf()
        loader.load(app.extensions["sunlight.db"], app.extensions["sunlight.settings"], echo=lambda *_: None)
        yield app, perf() - t
    finally:
        if app is not None:
            app.extensions["sunlight.db"].engine.dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def generate(engine, n: int, extra: dict[str, str] | None = None) -> dict[str, float]:
    """The cases and their facts, in a handful of INSERT … SELECT statements; returns seconds per table.
    `extra` overrides more columns of the generated cases (SQL expressions over g, the case's number)."""
    from sqlalchemy import text

    from app.cases.models import Case

    took = {}
    with engine.begin() as c:
        source = c.execute(text("SELECT id FROM cases ORDER BY id LIMIT 1")).scalar_one()
        clerk = c.execute(text("SELECT id FROM users WHERE role = 'supervisor' ORDER BY id LIMIT 1")).scalar_one()
    override = {
        "case_no": "'AS' || lpad(g::text, 9, '0')",
        "item_id": "it.item_id", "definition_id": "it.def_id", "org_unit_id": "it.org_unit_id",
        "status": "CASE WHEN g % 10 < 8 THEN 'completed' ELSE 'running' END",
        "created_at": "CAST(:start AS timestamptz) + g * CAST(:step AS interval)",
        "accepted_at": "CAST(:start AS timestamptz) + g * CAST(:step AS interval)",
        "completed_at": "CASE WHEN g % 10 < 8 THEN CAST(:start AS timestamptz) + g * CAST(:step AS interval)"
                        " + (g % 29) * interval '1 day' END",
        "statutory_due_at": "CAST(:start AS timestamptz) + g * CAST(:step AS interval) + interval '20 days'",
        "promised_due_at": "CAST(:start AS timestamptz) + g * CAST(:step AS interval) + interval '10 days'",
        "card": "CASE WHEN g % 20 = 0 THEN 'yellow' ELSE 'none' END",
        "version": "1", "wake_at": "NULL", "next_timer_due_at": "NULL",
        **(extra or {}),
    }
    cols = [col.name for col in Case.__table__.columns if col.name != "id"]
    exprs = [override.get(name, f"src.{name}") for name in cols]
    sql = (f"WITH it AS (SELECT row_number() OVER (ORDER BY i.id) - 1 AS k, i.id AS item_id, i.org_unit_id, "
           f"d.id AS def_id FROM power_items i JOIN process_definitions d ON d.item_id = i.id "
           f"AND d.status = 'published'), cnt AS (SELECT count(*) AS c FROM it) "
           f"INSERT INTO cases ({', '.join(cols)}) SELECT {', '.join(exprs)} "
           f"FROM generate_series(1, :n) AS g JOIN it ON it.k = g % (SELECT c FROM cnt) "
           f"CROSS JOIN cases AS src WHERE src.id = :src")
    step = f"{365 * 86400 / n:.6f} seconds"
    t = perf()
    with engine.begin() as c:
        c.execute(text(sql), {"n": n, "src": source, "start": START, "step": step})
    took["cases"] = perf() - t
    t = perf()
    with engine.begin() as c:  # their engine blobs (a table of their own): the source case's, as every other column
        c.execute(text("INSERT INTO case_states (case_id, blob, serializer_version) "
                       "SELECT c.id, s.blob, s.serializer_version FROM cases c JOIN case_states s ON s.case_id = :src "
                       "WHERE c.case_no LIKE 'AS%'"), {"src": source})
    took["case_states"] = perf() - t
    facts = {
        "notices": "INSERT INTO supervision_notices (case_id, org_unit_id, task_bpmn_id, level, reason, source_key, "
                   "created_at) SELECT id, org_unit_id, NULL, (ARRAY['warning', 'yellow', 'red'])[1 + id % 3], '基准测试提醒', "
                   "'bench:' || id, created_at + interval '5 days' FROM cases WHERE case_no LIKE 'AS%' AND id % 20 = 0",
        "orders": "INSERT INTO supervision_orders (order_no, case_id, org_unit_id, notice_id, instruction, due_at, "
                  "status, issued_by_id, issued_at, closed_at, escalated_at) SELECT 'DBB' || id, id, org_unit_id, NULL, "
                  "'请说明', "
                  "created_at + interval '10 days', CASE WHEN id % 400 = 0 THEN 'closed' ELSE 'open' END, :clerk, "
                  "created_at + interval '6 days', CASE WHEN id % 400 = 0 THEN created_at + interval '12 days' END, "
                  "NULL FROM cases WHERE case_no LIKE 'AS%' AND id % 200 = 0",
        "ratings": "INSERT INTO case_ratings (case_id, org_unit_id, score, comment, created_at) SELECT id, org_unit_id, "
                   "1 + id % 5, "
                   "CASE WHEN id % 5 = 0 THEN '办得慢' END, completed_at + interval '1 day' FROM cases "
                   "WHERE case_no LIKE 'AS%' AND status = 'completed' AND id % 5 = 0",
    }
    for table, stmt in facts.items():
        t = perf()
        with engine.begin() as c:
            c.execute(text(stmt), {"clerk": clerk})
        took[table] = perf() - t
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM (ANALYZE)")
    return took


def timed(fn, repeats: int) -> tuple[float, float]:
    runs = []
    for _ in range(repeats):
        t = perf()
        fn()
        runs.append(perf() - t)
    return statistics.median(runs), max(runs)


def captured(engine, fn) -> list[tuple[str, object]]:
    """The statements (and parameters) `fn` sends."""
    from sqlalchemy import event

    seen = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("SELECT"):
            seen.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", grab)
    try:
        fn()
    finally:
        event.remove(engine, "before_cursor_execute", grab)
    return seen


def explain(engine, statements) -> int:
    """Print each statement's plan headline and its time; returns how many scan `cases` sequentially."""
    seq = 0
    for i, (sql, params) in enumerate(statements, 1):
        with engine.connect() as c:
            rows = c.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS) " + sql, params).scalars().all()
        scans = [r.strip() for r in rows if "Scan" in r]
        total = next((r for r in rows if r.startswith("Execution Time")), "")
        bad = [s for s in scans if s.startswith("Seq Scan on cases") or "-> Seq Scan on cases" in s]
        seq += bool(bad)
        first = " ".join(sql.split())[:110]
        print(f"  [{i:2}] {total:<28} {first}…")
        for s in scans[:4]:
            print(f"         {s[:150]}")
    return seq


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()
    logging.disable(logging.INFO)

    from sqlalchemy import text

    from app import clock
    from app.assessment import service as assessment
    from app.orgs import service as orgs

    with demo_district(args.pg, "sl_bench_assess") as (app, loaded):
        db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
        print(f"demo district loaded in {loaded:.1f} s (22 departments, 6 streets, 668 items)")
        took = generate(db.engine, args.cases)
        with db.engine.connect() as c:
            counts = {name: c.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                      for name in ("cases", "supervision_notices", "supervision_orders", "case_ratings")}
        print("generated in SQL: " + ", ".join(f"{k} {v:,} ({took.get(k.split('_')[-1], 0):.1f} s)"
                                                   for k, v in counts.items()))
        clock.travel_to(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc))

        def quarter():
            with db.unit_of_work() as s:
                return assessment.draft(s, settings, orgs.user_by_name(s, "admin"), QUARTER)

        def drill():
            with db.unit_of_work() as s:
                return assessment.department(s, settings, orgs.user_by_name(s, "admin"), QUARTER, DEPARTMENT)

        out = quarter()  # warm: compiled statements, the plan cache
        ca01 = next(d for d in out["departments"] if d["org_code"] == DEPARTMENT)
        print(f"{QUARTER}: {len(out['departments'])} units; {DEPARTMENT}: accepted {ca01['cases_accepted']:,}, "
              f"completed {ca01['cases_completed']:,}, on time {ca01['on_time_rate']}, cards {ca01['cards']}, "
              f"orders {ca01['orders']}, ratings {ca01['ratings']:,} (avg {ca01['rating_avg']}), score {ca01['score']}")
        median, worst = timed(quarter, args.repeats)
        verdict = "PASS" if median < 2 else "MISS"
        print(f"QUARTER ASSESSMENT (whole district): median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms "
              f"over {args.repeats} — target < 2 s → {verdict}")
        drill()
        median, worst = timed(drill, args.repeats)
        verdict = "PASS" if median < 0.3 else "MISS"
        print(f"DRILL-DOWN ({DEPARTMENT}, {QUARTER}): median {median * 1000:.0f} ms, worst {worst * 1000:.0f} ms "
              f"over {args.repeats} — target < 300 ms → {verdict}")
        print("plans of the quarter's statements (EXPLAIN ANALYZE):")
        seq = explain(db.engine, captured(db.engine, quarter))
        print("plans of the drill-down's statements:")
        seq += explain(db.engine, captured(db.engine, drill))
        print(f"sequential scans of cases: {seq}")
        clock.travel_to(None)


if __name__ == "__main__":
    main()
