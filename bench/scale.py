"""Benchmark: every staff and public list and page of a million-case district (PostgreSQL), issue #14.

Run from the repo root:
    .venv/bin/python bench/scale.py [--pg URL] [--db sunlight_scale] [--cases 1000000] [--repeats 30] [--keep]
                                    [--only REGEX] [--no-lifecycles] [--duration 20]

Creates the database --db on the server of --pg (dropped at the end unless --keep; with --keep an already
loaded database is reused, and migrated to head first), loads the demo district (22 departments, 6 streets,
668 items with published flows) and generates --cases cases in SQL with bench/assessment.py's generator:
80 % completed, 18 % running, 2 % suspended (with their open clock stops), three steps each (the running
ones' last step ready in the 审查岗 lane, so a review clerk of a big department holds thousands of ready
steps), supervision notices on about one case in six with their recipients (the district and department
supervisors and the department's review clerk; half acknowledged), a 督办 order on one case in two hundred,
好差评 ratings and two audit events per case (their hashes are placeholders: `audit verify` is not for this
database).

Then times each list and page through the app (Flask's test client: the app's own time, no HTTP), p50 and
p95 over --repeats requests, in district scope (jiwei), department scope (ca01_jiancha, the board filtered
to CA01) and a clerk's (ca01_review), and checks that no answer carries more than 200 rows. Targets (#14):
district board and notices p95 < 300 ms, department lists p95 < 100 ms, the worklist, /work and the public
progress query p95 < 50 ms. Last, lifecycles/s with 1 and 2 gunicorn workers on the loaded database
(bench/scale_lifecycles.py; target: two workers ≥ 1.7× one).
"""
from __future__ import annotations

import argparse
import logging
import os
import re
import statistics
import sys
import time
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("SECRET_KEY", "bench")

from assessment import DEFAULT_PG, generate  # noqa: E402  (bench/ is on sys.path)
from scale_lifecycles import lifecycles_per_second  # noqa: E402

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc)  # just after the twelve generated months
MAX_ROWS = 200
STATUS = {"status": "CASE WHEN g % 10 < 8 THEN 'completed' WHEN g % 50 = 9 THEN 'suspended' ELSE 'running' END"}

FACTS = {
    "steps": """
        INSERT INTO case_tasks (id, case_id, org_unit_id, seq, bpmn_id, name, lane, kind, state, created_at,
                                due_at, completed_at, case_stopped, case_due_at)
        SELECT md5(c.id::text || ':' || k), c.id, c.org_unit_id, k,
               (ARRAY['Task_accept', 'Task_review', 'Task_decide'])[k], (ARRAY['受理', '审查', '决定'])[k],
               CASE WHEN k = 3 AND c.status <> 'completed' THEN '审查岗'
                    ELSE (ARRAY['受理岗', '审查岗', '决定岗'])[k] END,
               'user', CASE WHEN c.status = 'completed' OR k < 3 THEN 'completed' ELSE 'ready' END,
               c.created_at + (k - 1) * interval '1 day',
               CASE WHEN c.status <> 'completed' AND k = 3 THEN c.created_at + interval '5 days' END,
               CASE WHEN c.status = 'completed' OR k < 3 THEN c.created_at + k * interval '1 day' END,
               c.status <> 'running', c.promised_due_at
        FROM cases c CROSS JOIN generate_series(1, 3) AS k WHERE c.case_no LIKE 'AS%'""",
    "stops": """
        INSERT INTO case_suspensions (case_id, kind, reason, legal_basis, expected_days, missing_materials,
                                      started_at, started_by_id)
        SELECT c.id, 'supplement', '材料不齐', '', 5, '["营业执照复印件"]', c.created_at + interval '2 days', :clerk
        FROM cases c WHERE c.case_no LIKE 'AS%' AND c.status = 'suspended'""",
    "notices": """
        INSERT INTO supervision_notices (case_id, org_unit_id, task_bpmn_id, level, reason, source_key, created_at)
        SELECT id, org_unit_id, 'Task_review', (ARRAY['warning', 'yellow', 'red'])[1 + id % 3], '办理期限即将届满',
               'scale:' || id, created_at + interval '3 days'
        FROM cases WHERE case_no LIKE 'AS%' AND id % 8 = 3""",
    "recipients": """
        INSERT INTO notice_recipients (notice_id, user_id, as_role, acknowledged_at)
        SELECT n.id, u.id, u.role, CASE WHEN n.id % 2 = 0 THEN n.created_at + interval '1 day' END
        FROM supervision_notices n JOIN users u
          ON (u.role = 'supervisor' AND (u.org_unit_id = n.org_unit_id OR u.org_unit_id = :district))
          OR (u.role = 'clerk' AND u.org_unit_id = n.org_unit_id AND u.username LIKE '%\\_review')
        WHERE n.source_key LIKE 'bench:%' OR n.source_key LIKE 'scale:%'""",
    "audit": """
        INSERT INTO audit_events (stream, seq, at, actor, action, case_id, task_bpmn_id, detail, prev_hash, hash)
        SELECT 'case:' || c.id, k, c.created_at + k * interval '1 hour', 'bench',
               (ARRAY['case_created', 'task_completed'])[k], c.id, NULL, '{}',
               md5(c.id::text || ':' || (k - 1)) || md5('prev'), md5(c.id::text || ':' || k) || md5('this')
        FROM cases c CROSS JOIN generate_series(1, 2) AS k WHERE c.case_no LIKE 'AS%'""",
}


def perf() -> float:
    return time.perf_counter()


def p95(runs: list[float]) -> float:
    return sorted(runs)[max(0, -(-len(runs) * 95 // 100) - 1)]


# --- the database --------------------------------------------------------------------------------------------
def database_url(base: str, name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(base).set(database=name).render_as_string(hide_password=False)


def ensure_database(base: str, name: str) -> bool:
    """Create the database unless it exists; True when it was created."""
    from sqlalchemy import create_engine, text

    admin = create_engine(database_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as c:
            if c.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                return False
            c.execute(text(f'CREATE DATABASE "{name}"'))
            return True
    finally:
        admin.dispose()


def drop_database(base: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(database_url(base, "postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def revision(engine) -> str | None:
    """The database's Alembic revision, None before the first migration."""
    from sqlalchemy import inspect, text

    if not inspect(engine).has_table("alembic_version"):
        return None
    with engine.connect() as c:
        return c.execute(text("SELECT version_num FROM alembic_version")).scalar()


def generated_cases(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as c:
        return c.execute(text("SELECT count(*) FROM cases WHERE case_no LIKE 'AS%'")).scalar_one()


def load(db, settings, n: int) -> None:
    """The demo district, then `n` cases and their facts in INSERT … SELECT statements (timed per table)."""
    from sqlalchemy import text

    from app.demo import loader

    t = perf()
    loader.load(db, settings, echo=lambda *_: None)
    print(f"demo district loaded in {perf() - t:.0f} s")
    took = generate(db.engine, n, STATUS)
    with db.engine.connect() as c:
        ids = {"clerk": c.execute(text("SELECT id FROM users WHERE username = 'ca01_review'")).scalar_one(),
               "district": c.execute(text("SELECT id FROM org_units WHERE kind = 'district'")).scalar_one()}
    for name, sql in FACTS.items():
        t = perf()
        with db.engine.begin() as c:
            c.execute(text(sql), ids)
        took[name] = perf() - t
    t = perf()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM (ANALYZE)")
    took["vacuum"] = perf() - t
    print("loaded in SQL: " + ", ".join(f"{k} {v:.0f} s" for k, v in took.items())
          + f" — total {sum(took.values()):.0f} s")


def census(engine) -> str:
    from sqlalchemy import text

    tables = ("cases", "case_states", "case_tasks", "supervision_notices", "notice_recipients", "supervision_orders",
              "case_ratings", "audit_events", "case_suspensions")
    with engine.connect() as c:
        return ", ".join(f"{t} {c.execute(text(f'SELECT count(*) FROM {t}')).scalar_one():,}" for t in tables)


# --- who asks ------------------------------------------------------------------------------------------------
def bearer(db, username: str) -> dict:
    from app.orgs import service as orgs

    with db.unit_of_work() as s:
        return {"Authorization": f"Bearer {orgs.issue_token(s, orgs.user_by_name(s, username), 'bench')}"}


def browser(app, db, username: str):
    """A test client signed in as `username` (the session a login would leave)."""
    from app import clock
    from app.orgs import service as orgs

    client = app.test_client()
    with client.session_transaction() as sess:
        with db.unit_of_work() as s:
            user = orgs.user_by_name(s, username)
            sess.update(uid=user.id, uname=user.username, role=user.role, org=user.org_unit.name,
                        epoch=user.session_epoch or 0, since=int(clock.now().timestamp()))
    return client


def progress_codes(db, settings, count: int) -> list[tuple[str, str]]:
    """Query codes for `count` generated cases (the generator copies one case's hash; these get their own)."""
    from sqlalchemy import text

    from app.cases.service import _query_hash

    out = []
    with db.engine.begin() as c:
        numbers = c.execute(text("SELECT case_no FROM cases WHERE case_no LIKE 'AS%' ORDER BY id DESC LIMIT :n"),
                            {"n": count * 997}).scalars().all()[::997]
        for no in numbers:
            code = "BENCH" + no[-5:].replace("0", "A").replace("1", "B")
            c.execute(text("UPDATE cases SET query_code_hash = :h WHERE case_no = :no"),
                      {"h": _query_hash(settings, no, code), "no": no})
            out.append((no, code))
    return out


# --- timing --------------------------------------------------------------------------------------------------
ROW = re.compile(r'<tr[ >]|<li class="level-')


def rows_of(resp) -> int:
    """Rows in an answer: a JSON list's length, a JSON object's longest list, or a page's table rows."""
    if resp.is_json:
        body = resp.get_json()
        if isinstance(body, list):
            return len(body)
        lists = [v for v in body.values() if isinstance(v, list)] if isinstance(body, dict) else []
        return max((len(v) for v in lists), default=1)
    return len(ROW.findall(resp.get_data(as_text=True)))


ONLY: re.Pattern | None = None  # --only: the lists whose label matches


def measure(label: str, target_ms: float | None, ask, repeats: int, results: list) -> None:
    if ONLY is not None and not ONLY.search(label):
        return
    ask(0)  # warm: compiled statements, the plan cache, the calendar
    runs, rows = [], 0
    for i in range(repeats):
        t = perf()
        resp = ask(i)
        runs.append(perf() - t)
        assert resp.status_code == 200, (label, resp.status_code, resp.get_data(as_text=True)[:300])
        rows = max(rows, rows_of(resp))
    p50_ms, p95_ms = statistics.median(runs) * 1000, p95(runs) * 1000
    verdict = "-" if target_ms is None else ("PASS" if p95_ms < target_ms else "MISS")
    verdict += "" if rows <= MAX_ROWS else f" (TOO MANY ROWS: {rows})"
    results.append((label, p50_ms, p95_ms, rows, target_ms, verdict))
    print(f"  {label:<58} p50 {p50_ms:7.1f} ms  p95 {p95_ms:7.1f} ms  rows {rows:4}  "
          f"{'' if target_ms is None else f'target {target_ms:.0f} ms '}{verdict}", flush=True)


def next_link(resp) -> str | None:
    found = re.search(r'<([^>]+)>;\s*rel="next"', resp.headers.get("Link", ""))
    return found.group(1) if found else None


def scenarios(app, db, settings, repeats: int) -> list:
    """Every list and page, in district, department and clerk scope."""
    from app.orgs import service as orgs
    from app.supervision import service as supervision

    api = app.test_client()
    jiwei, dept_sup, clerk = bearer(db, "jiwei"), bearer(db, "ca01_jiancha"), bearer(db, "ca01_review")
    pages = {u: browser(app, db, u) for u in ("jiwei", "ca01_jiancha", "ca01_review")}
    codes = progress_codes(db, settings, max(repeats, 10))
    out: list = []

    def get(client, path, headers=None, **query):
        return lambda i: client.get(path, headers=headers, query_string=query)

    def follow(path, headers, hops=3):
        """A page a few cursor hops in (the same query each time, as a reader paging on would send)."""
        link = path
        for _ in range(hops):
            link = next_link(api.get(link, headers=headers)) or link
        return lambda i: api.get(link, headers=headers)

    print("notices (GET /api/v1/notices, oldest first, 200 per page):")
    measure("notices, district supervisor, first page", 300, get(api, "/api/v1/notices", jiwei), repeats, out)
    measure("notices, district supervisor, 4th page (cursor)", 300, follow("/api/v1/notices", jiwei), repeats, out)
    measure("notices, department supervisor (CA01)", 100, get(api, "/api/v1/notices", dept_sup), repeats, out)
    measure("notices, clerk's own (ca01_review)", 100, get(api, "/api/v1/notices", clerk), repeats, out)
    measure("notices inbox page /notices, district (all in scope)", 300,
            get(pages["jiwei"], "/notices", scope="all"), repeats, out)
    measure("notices inbox page /notices, department supervisor", 100,
            get(pages["ca01_jiancha"], "/notices"), repeats, out)
    print("supervision board (cards, notices, orders, statistics):")
    measure("board /supervision, district", 300, get(pages["jiwei"], "/supervision"), repeats, out)
    measure("board /supervision?department=CA01, district supervisor", 100,
            get(pages["jiwei"], "/supervision", department="CA01"), repeats, out)
    measure("board /supervision, department supervisor", 100, get(pages["ca01_jiancha"], "/supervision"), repeats, out)
    measure("board API /api/v1/board, district", 300, get(api, "/api/v1/board", jiwei), repeats, out)
    measure("board API /api/v1/board, department supervisor", 100, get(api, "/api/v1/board", dept_sup), repeats, out)
    measure("statistics API /api/v1/statistics, district", 300, get(api, "/api/v1/statistics", jiwei), repeats, out)
    measure("statistics API /api/v1/statistics, department", 100, get(api, "/api/v1/statistics", dept_sup), repeats,
            out)
    print("orders (GET /api/v1/orders):")
    measure("orders, district supervisor", 300, get(api, "/api/v1/orders", jiwei), repeats, out)
    measure("orders, department supervisor", 100, get(api, "/api/v1/orders", dept_sup), repeats, out)
    print("a clerk's worklist (ca01_review):")
    measure("worklist GET /api/v1/tasks, first page", 50, get(api, "/api/v1/tasks", clerk), repeats, out)
    measure("worklist GET /api/v1/tasks?page=20", 50, get(api, "/api/v1/tasks", clerk, page=20), repeats, out)
    measure("worklist page /work", 50, get(pages["ca01_review"], "/work"), repeats, out)
    measure("worklist page /work?page=20", 50, get(pages["ca01_review"], "/work", page=20), repeats, out)
    print("case search (GET /api/v1/cases):")
    measure("search, district, newest first (no q)", 300, get(api, "/api/v1/cases", jiwei), repeats, out)
    measure("search, district, status=running", 300, get(api, "/api/v1/cases", jiwei, status="running"), repeats, out)
    measure("search, department, newest first", 100, get(api, "/api/v1/cases", dept_sup), repeats, out)
    measure("search, district, by case number", 100,
            lambda i: api.get("/api/v1/cases", headers=jiwei, query_string={"q": codes[i % len(codes)][0]}),
            repeats, out)
    measure("search page /cases, district", 300, get(pages["jiwei"], "/cases"), repeats, out)
    print("public:")
    measure("progress GET /public/api/v1/cases/{no}?code=", 50,
            lambda i: api.get(f"/public/api/v1/cases/{codes[i % len(codes)][0]}",
                              query_string={"code": codes[i % len(codes)][1]}), repeats, out)
    measure("case detail GET /api/v1/cases/{no}, district", 100,
            lambda i: api.get(f"/api/v1/cases/{codes[i % len(codes)][0]}", headers=jiwei), repeats, out)
    with db.unit_of_work() as s:
        user = orgs.user_by_name(s, "jiwei")
        t = perf()
        supervision.overview(s, user, settings.tz)
        print(f"  (statistics service alone, district: {1000 * (perf() - t):.0f} ms)")
    return out


def table(results: list) -> None:
    print("\n| list or page | p50 ms | p95 ms | rows | target p95 | verdict |\n|---|---:|---:|---:|---:|---|")
    for label, p50_ms, p95_ms, rows, target, verdict in results:
        print(f"| {label} | {p50_ms:.1f} | {p95_ms:.1f} | {rows} | {'' if target is None else f'< {target:.0f}'} "
              f"| {verdict} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG), help="any database on the server")
    ap.add_argument("--db", default="sunlight_scale", help="the database to create (and drop unless --keep)")
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--keep", action="store_true", help="keep the database (and reuse it when already loaded)")
    ap.add_argument("--load-only", action="store_true")
    ap.add_argument("--only", metavar="REGEX", help="time only the lists whose label matches (e.g. 'work|board')")
    ap.add_argument("--no-lifecycles", dest="lifecycles", action="store_false",
                    help="skip lifecycles/s with 1 and 2 gunicorn workers on the loaded database")
    ap.add_argument("--duration", type=float, default=20.0, help="seconds per worker count for lifecycles/s")
    args = ap.parse_args()
    global ONLY
    ONLY = re.compile(args.only) if args.only else None
    logging.disable(logging.INFO)

    from app import clock, create_app
    from app.cli import upgrade_database

    created = ensure_database(args.pg, args.db)
    try:
        app = create_app({"DATABASE_URL": database_url(args.pg, args.db), "TESTING": True,
                          "PUBLIC_QUERY_RATE": "100000/minute"})
        t = perf()
        db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
        before = revision(db.engine)
        with app.app_context():
            upgrade_database()
        print(f"migrated to head in {perf() - t:.0f} s")
        if before is not None and revision(db.engine) != before:  # a kept database a migration just rewrote:
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:  # its visibility map
                c.exec_driver_sql("VACUUM (ANALYZE)")  # and statistics, as a fresh load has them (index-only scans)
            print(f"vacuumed after the migration ({perf() - t:.0f} s)")
        have = generated_cases(db.engine)
        if have and have != args.cases:
            sys.exit(f"{args.db} holds {have:,} generated cases, not {args.cases:,}: drop it or pass --cases {have}")
        if not have:
            load(db, settings, args.cases)
        print(census(db.engine))
        if not args.load_only:
            clock.travel_to(NOW)
            table(scenarios(app, db, settings, args.repeats))
            clock.travel_to(None)
        db.engine.dispose()
        if not args.load_only and args.lifecycles and not ONLY:
            print(f"\nlifecycles/s on the loaded database (gunicorn, 4 client processes, {args.duration:.0f} s each):")
            lifecycles_per_second(database_url(args.pg, args.db), duration=args.duration)
    finally:
        if not args.keep:
            drop_database(args.pg, args.db)
        elif created:
            print(f"kept database {args.db}")


if __name__ == "__main__":
    main()
