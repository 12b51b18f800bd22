"""Benchmark: staff case search and a clerk's worklist on a million-case district (PostgreSQL).

Run from the repo root:  .venv/bin/python bench/search.py [--pg URL] [--cases 1000000] [--repeats 50]

Loads the demo district, generates --cases cases in SQL (bench/assessment.py's generator) with applicants of
varied names, phones and ID numbers, and gives one clerk of CA01 500 open steps. Then times, through the app:
  - GET /api/v1/cases?q=… by applicant name (its beginning), phone and case number, as the district supervisor
    (the widest scope): median and p95 over --repeats searches of different values (target p95 < 100 ms);
  - GET /work for that clerk (the worklist page with 500 open steps): median and p95 (target < 300 ms);
and prints the plan of each search. The schema is dropped at the end.
"""
from __future__ import annotations

import argparse
import logging
import os
import statistics
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))
os.environ.setdefault("SECRET_KEY", "bench")

from assessment import DEFAULT_PG, demo_district, generate  # noqa: E402  (bench/ is on sys.path)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
APPLICANT = {
    "applicant_name": f"substr('{SURNAMES}', 1 + g % 20, 1) || '申请人' || g",
    "applicant_phone": "'13' || lpad(g::text, 9, '0')",
    "applicant_id_number": "'32010219900101' || lpad(g::text, 8, '0')",
}
WORKLIST = 500


def p95(runs: list[float]) -> float:
    return sorted(runs)[max(0, int(len(runs) * 0.95) - 1)]


def give_open_steps(engine, clerk_post: str) -> None:
    """500 ready steps in the clerk's lane on CA01's running generated cases."""
    from sqlalchemy import text

    with engine.begin() as c:
        c.execute(text(
            "INSERT INTO case_tasks (id, case_id, org_unit_id, seq, bpmn_id, name, lane, kind, state, created_at) "
            "SELECT md5(c.id::text || 'task'), c.id, c.org_unit_id, 1, 'Task_review', '审查', :post, 'user', 'ready', "
            "c.created_at FROM cases c JOIN org_units o ON o.id = c.org_unit_id WHERE o.code = 'CA01' "
            "AND c.status = 'running' AND c.case_no LIKE 'AS%' ORDER BY c.id DESC LIMIT :n"), {"post": clerk_post,
                                                                                              "n": WORKLIST})
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.exec_driver_sql("VACUUM (ANALYZE) case_tasks")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    ap.add_argument("--cases", type=int, default=1_000_000)
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args()
    logging.disable(logging.INFO)

    from sqlalchemy import text

    from app import clock
    from app.orgs import service as orgs

    with demo_district(args.pg, "sl_bench_search", TESTING=True) as (app, _loaded):
        db = app.extensions["sunlight.db"]
        took = generate(db.engine, args.cases, APPLICANT)
        give_open_steps(db.engine, "审查岗")
        print(f"{args.cases:,} cases generated in {took['cases']:.0f} s; {WORKLIST} open steps for ca01_review")
        with db.unit_of_work() as s:
            token = orgs.issue_token(s, orgs.user_by_name(s, "jiwei"), "bench")
            orgs.user_by_name(s, "ca01_review").password_hash = orgs.user_by_name(s, "ca01_window").password_hash
        clock.travel_to(datetime(2026, 12, 1, 2, 0, tzinfo=timezone.utc))
        client = app.test_client()
        headers = {"Authorization": f"Bearer {token}"}
        step = max(1, args.cases // args.repeats)
        kinds = {
            "name (its beginning)": lambda i: f"{SURNAMES[i % 20]}申请人{i}",
            "phone": lambda i: f"13{i:09d}",
            "case number": lambda i: f"AS{i:09d}",
        }
        for label, value in kinds.items():
            runs, hits = [], 0
            for k in range(args.repeats):
                i = 1 + k * step
                t = time.perf_counter()
                resp = client.get("/api/v1/cases", query_string={"q": value(i)}, headers=headers)
                runs.append(time.perf_counter() - t)
                assert resp.status_code == 200, resp.get_json()
                hits += resp.get_json()["total"] >= 1
            verdict = "PASS" if p95(runs) < 0.1 else "MISS"
            print(f"SEARCH by {label:<22} median {statistics.median(runs) * 1000:6.1f} ms  p95 {p95(runs) * 1000:6.1f} ms"
                  f"  ({hits}/{args.repeats} found) — target p95 < 100 ms → {verdict}")
        page = app.test_client()
        with page.session_transaction() as sess:
            with db.unit_of_work() as s:
                user = orgs.user_by_name(s, "ca01_review")
                sess.update(uid=user.id, uname=user.username, role=user.role, org=user.org_unit.name,
                            epoch=user.session_epoch, since=int(clock.now().timestamp()))  # as sign-in writes it
        runs = []
        for _ in range(10):
            t = time.perf_counter()
            resp = page.get("/work")
            runs.append(time.perf_counter() - t)
            assert resp.status_code == 200
        rows = resp.get_data(as_text=True).count('<tr class="row-')
        verdict = "PASS" if statistics.median(runs) < 0.3 else "MISS"
        print(f"WORKLIST /work ({rows} rows)        median {statistics.median(runs) * 1000:6.0f} ms  "
              f"p95 {p95(runs) * 1000:6.0f} ms — target < 300 ms → {verdict}")
        with db.engine.connect() as c:
            for label, q in (("name", f"{SURNAMES[1]}申请人1"), ("phone", "13000000001")):
                plan = c.execute(text(
                    "EXPLAIN (ANALYZE) SELECT id FROM cases WHERE case_no = :q OR applicant_id_number = :q "
                    "OR applicant_phone = :q OR applicant_name LIKE :p ESCAPE '\\' ORDER BY created_at DESC LIMIT 20"),
                    {"q": q, "p": q + "%"}).scalars().all()
                print(f"plan ({label}): " + " | ".join(r.strip() for r in plan if "Scan" in r or "Execution" in r))
        clock.travel_to(None)


if __name__ == "__main__":
    main()
