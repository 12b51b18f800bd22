"""Lifecycle benchmark: the licensing demo case, raw SpiffWorkflow vs. Sunlight's HTTP API, plus timer latency.

Run from the repo root:
    .venv/bin/python bench/lifecycle.py [--gunicorn] [--throughput] [--pg [URL]] [--no-sqlite] [--inprocess]
                                        [--timers] [--all]      (no mode given: --gunicorn)

(d) RATIO        (--gunicorn, the headline) real gunicorn (`wsgi:app`, 1 sync worker as deployed) on a free loopback
                 port over a fresh database (SQLite in a temp dir; with --pg also PostgreSQL, a database of the
                 bench's own, dropped at the end), migrated and set up like (b) but with every supervision rule as
                 a fresh install has it. Alternating rounds: per round K raw-engine lifecycles (half before, half
                 after) and K API lifecycles over one keep-alive http.client connection; the median ratio of the
                 rounds, per-request medians and the /healthz floor.
(e) THROUGHPUT   (--throughput) gunicorn with 1, then 2 sync workers, driven by C client processes (each with its
                 own connection) for a fixed time after a warm-up: lifecycles/s, their ratio, errors, CPU per lifecycle.
(a) RAW ENGINE   (--inprocess) plain SpiffWorkflow 3.2.0 in memory, spec parsed once, one full lifecycle per iteration.
(b) HTTP API     (--inprocess) the same lifecycle (POST /api/v1/cases + three task completions) on a fresh SQLite
                 database, (b1) in-process through Flask's test client, (b2) over real HTTP on loopback (waitress,
                 http.client with keep-alive); R01/R02 switched off in this mode only.
(c) TIMER        (--timers) `flask --app wsgi timers run` at default settings; a PT2S variant of the diagram; time from
                 each timer falling due to its supervision notice existing.
The floor under (d) — the same lifecycle, client and gunicorn against minimal servers (fixed JSON, the engine seam
with no database, the least durable audited action on the raw driver) in the same alternating rounds — is
bench/floor.py.
This is a benchmark: it prints numbers. It does not judge beyond PASS/MISS against the issue's targets (#14: API
lifecycle ≤ 3× the raw engine, goal 2×; two workers ≥ 1.7× one; every timer notice ≤ 2 s after due).
"""
from __future__ import annotations

import argparse
import contextlib
import cProfile
import gc
import io
import json
import os
import platform
import pstats
import re
import shutil
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import datetime, timezone

import engine_seam
from lifecycle_http import DEFAULT_PG, TARGET_RATIO, over_gunicorn, summary  # bench/ is on sys.path when a script there runs
from profile_buckets import own_time_by_package
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DIAGRAM = ROOT / "bpmn" / "licensing_demo.bpmn"
PROCESS_ID = "licensing_demo"
# The config module reads these at import; a fixed key keeps the bench from writing instance/secret_key.
os.environ.setdefault("SECRET_KEY", "bench-secret")

STEPS = [("Task_accept", "acc", {}), ("Task_review", "rev", {"approved": True}), ("Task_decide", "dec", {})]
APPLICANT = {"name": "张三", "id_number": "320102199001011234", "phone": "13800000000"}
TARGET_TIMER_S = 2.0
TIMER_RE = re.compile(rb"(<(?:\w+:)?timeDuration\b[^>]*>)\s*PT72H\s*(</)")

perf = time.perf_counter


def ms(x: float) -> str:
    return f"{x * 1000:8.2f} ms"


def med(xs):
    return statistics.median(xs)


def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]


def line(title=""):
    print(("── " + title + " ").ljust(100, "─") if title else "─" * 100, flush=True)


# ---------------------------------------------------------------------------------------------------------------
# (a) raw SpiffWorkflow
# ---------------------------------------------------------------------------------------------------------------
def raw_engine(xml: bytes, quiet: bool = False):
    """Plain SpiffWorkflow with the spec parsed once; returns a function that runs one whole lifecycle."""
    # Imported here, before anything of `app` is: app.engine.timers patches SpiffWorkflow's clock on import.
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.parser.BpmnParser import BpmnParser
    from SpiffWorkflow.util.task import TaskState

    raw_xml, n = TIMER_RE.subn(rb'\1"PT72H"\2', xml)
    if not quiet:
        print(f"  note: the diagram's bare timer text PT72H was replaced by the quoted \"PT72H\" ({n} occurrence(s)) "
              f"for this run only,\n        because raw SpiffWorkflow evaluates timer text as Python and fails on it.")
    t0 = perf()
    parser = BpmnParser()
    parser.add_bpmn_str(raw_xml, filename="licensing_demo.bpmn")
    spec = parser.get_spec(PROCESS_ID)
    subs = parser.get_subprocess_specs(PROCESS_ID)
    if not quiet:
        print(f"  parse once (BpmnParser, spec reused afterwards): {ms(perf() - t0)}")

    def once():
        wf = BpmnWorkflow(spec, subs)
        wf.do_engine_steps()
        for bpmn_id, _user, data in STEPS:
            task = next(t for t in wf.get_tasks(state=TaskState.READY) if t.task_spec.bpmn_id == bpmn_id)
            task.data.update(data)
            task.run()
            wf.do_engine_steps()
        if not wf.is_completed():
            raise SystemExit("raw lifecycle did not complete")

    return once


def bench_raw(xml: bytes, iters: int, warmup: int = 30) -> float:
    line("(a) RAW ENGINE — plain SpiffWorkflow in memory")
    once = raw_engine(xml)
    for _ in range(warmup):
        once()
    times = []
    gc.collect()
    for _ in range(iters):
        t = perf()
        once()
        times.append(perf() - t)
    m = med(times)
    print(f"  lifecycles: {iters} (after {warmup} warm-up)   median {ms(m)}   p90 {ms(pct(times, 90))}   "
          f"min {ms(min(times))}")
    return m


def engine_layer_lifecycles(xml: bytes):
    """Two functions running one whole lifecycle through Sunlight's engine seam (bench/engine_seam.py): the
    workflow kept in memory across steps, and the stateless way every request must do it (load the blob →
    refresh timers → complete → project → dump)."""
    bundle = engine_seam.licensing_bundle(xml)

    def step(run, bpmn_id, data):
        engine_seam.complete(run, engine_seam.ready_task(run, bpmn_id), data)

    def in_memory():
        run, _changes, _views = engine_seam.start(bundle)
        for bpmn_id, _user, data in STEPS:
            step(run, bpmn_id, data)
        assert run.completed

    def stateless():
        run, _changes, _views = engine_seam.start(bundle)
        blob = run.dump()
        for bpmn_id, _user, data in STEPS:
            run = engine_seam.load(blob, bundle)
            step(run, bpmn_id, data)
            blob = run.dump()
        assert run.completed

    return in_memory, stateless


def bench_engine_layer(xml: bytes, iters: int, warmup: int = 30) -> tuple[float, float]:
    """Sunlight's own engine seam (app.engine.CaseRun: safe script engine, diff, projections) without DB or HTTP.

    Two figures: the workflow kept in memory across steps, and the stateless way every request must do it
    (load the blob → refresh timers → complete → project → dump). The second is the floor under the API figure.
    """
    in_memory, stateless = engine_layer_lifecycles(xml)
    line("(a2) SUNLIGHT ENGINE LAYER — app.engine.CaseRun, no database, no HTTP (bare PT72H diagram as deployed)")
    out = []
    for name, fn in (("kept in memory      ", in_memory), ("load+dump every step", stateless)):
        for _ in range(warmup):
            fn()
        times = []
        gc.collect()
        for _ in range(iters):
            t = perf()
            fn()
            times.append(perf() - t)
        out.append(med(times))
        print(f"  {name}  lifecycles: {iters}   median {ms(med(times))}   p90 {ms(pct(times, 90))}")
    print(f"  blob size after the last step: {len(blob_of(engine_seam.licensing_bundle(xml)))} bytes (gzip level 1, "
          f"spec not embedded)")
    return out[0], out[1]


def blob_of(bundle) -> bytes:
    run, _changes, _views = engine_seam.start(bundle)
    for bpmn_id, _user, data in STEPS:
        run.complete(engine_seam.ready_task(run, bpmn_id), data)
    return run.dump()


# ---------------------------------------------------------------------------------------------------------------
# (b) through the HTTP API
# ---------------------------------------------------------------------------------------------------------------
class ClientDriver:
    """Flask test client (WSGI in-process, no sockets)."""

    name = "b1 test client"

    def __init__(self, app):
        self.client = app.test_client()

    def post(self, path, token, body):
        resp = self.client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
        return resp.status_code, resp.get_json()

    def get(self, path, token):
        resp = self.client.get(path, headers={"Authorization": f"Bearer {token}"})
        return resp.status_code, resp.get_json()

    def close(self):
        pass


class HttpDriver:
    """waitress on 127.0.0.1 (background thread) + http.client with keep-alive."""

    name = "b2 real HTTP"

    def __init__(self, app):
        import http.client

        import waitress

        self.server = waitress.create_server(app, host="127.0.0.1", port=0)
        self.port = self.server.effective_port
        self.thread = threading.Thread(target=self.server.run, name="waitress", daemon=True)
        self.thread.start()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)

    def _call(self, method, path, token, body=None):
        headers = {"Authorization": f"Bearer {token}", "Connection": "keep-alive"}
        payload = None
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=payload, headers=headers)
        resp = self.conn.getresponse()
        data = resp.read()
        if resp.will_close:  # keep-alive broke: say so, the figure would include reconnects
            print("  warning: server closed the keep-alive connection", file=sys.stderr)
        return resp.status, json.loads(data)

    def post(self, path, token, body):
        return self._call("POST", path, token, body)

    def get(self, path, token):
        return self._call("GET", path, token)

    def close(self):
        self.conn.close()
        self.server.close()


def api_lifecycle(drv, tokens, item_code) -> tuple[float, list[float], dict]:
    """One whole case: create + the three completions. Returns (total, [create, accept, review, decide], case)."""
    parts = []
    t_start = perf()
    t = perf()
    status, case = drv.post("/api/v1/cases", tokens["acc"], {"item_code": item_code, "applicant": APPLICANT,
                                                             "data": {}})
    parts.append(perf() - t)
    if status != 201:
        raise SystemExit(f"create case failed: {status} {case}")
    for bpmn_id, user, data in STEPS:
        task = next(x for x in case["tasks"] if x["bpmn_id"] == bpmn_id and x["state"] == "ready")
        t = perf()
        status, case = drv.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", tokens[user],
                                {"data": data, "opinion": "同意"})
        parts.append(perf() - t)
        if status != 200:
            raise SystemExit(f"complete {bpmn_id} failed: {status} {case}")
    total = perf() - t_start
    if case["status"] != "completed":
        raise SystemExit(f"API lifecycle did not complete: {case['status']}")
    return total, parts, case


def bench_api(drivers, tokens, item_code, n: int, warmup: int = 10) -> list[tuple[float, list[float]]]:
    """n lifecycles per driver, interleaved (ABAB… / BABA…) so machine noise and a growing database hit both alike."""
    for drv in drivers:
        for _ in range(warmup):
            api_lifecycle(drv, tokens, item_code)
    totals = [[] for _ in drivers]
    parts = [[[], [], [], []] for _ in drivers]
    gc.collect()
    for i in range(n):
        order = list(range(len(drivers)))
        if i % 2:
            order.reverse()
        for k in order:
            total, p, _case = api_lifecycle(drivers[k], tokens, item_code)
            totals[k].append(total)
            for j, x in enumerate(p):
                parts[k][j].append(x)
    out = []
    for k, drv in enumerate(drivers):
        m = med(totals[k])
        print(f"  {drv.name:15s} lifecycles: {n} (after {warmup} warm-up)   median {ms(m)}   "
              f"p90 {ms(pct(totals[k], 90))}   min {ms(min(totals[k]))}")
        print(f"  {'':15s} per request (median): " + "  ".join(
            f"{name} {med(xs) * 1000:.2f} ms" for name, xs in zip(("create", "accept", "review", "decide"), parts[k])))
        out.append((m, [med(xs) for xs in parts[k]]))
    return out


def profile_api(app, tokens, item_code, n: int = 50) -> None:
    line(f"PROFILE — cProfile of {n} lifecycles through the test client")
    drv = ClientDriver(app)
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(n):
        api_lifecycle(drv, tokens, item_code)
    prof.disable()
    out = io.StringIO()
    stats = pstats.Stats(prof, stream=out)
    stats.sort_stats("cumulative").print_stats(25)
    text = out.getvalue()
    text = text.replace(str(ROOT / ".venv" / "lib"), "<venv>/lib").replace(str(ROOT) + "/", "")
    print("\n".join(ln for ln in text.splitlines() if ln.strip()))
    total, buckets = own_time_by_package(stats)
    print(f"\n  own time by package ({n} lifecycles, {total:.2f} s profiled, {total / n * 1000:.1f} ms/lifecycle "
          f"under the profiler):")
    for key, tt in buckets:
        print(f"    {key:32s} {tt / total * 100:5.1f} %   {tt / n * 1000:7.2f} ms/lifecycle")
    app_dir = str(ROOT / "app") + "/"
    rows = sorted(((ct, nc, f"app/{f[len(app_dir):]}:{ln}({fn})")
                   for (f, ln, fn), (_cc, nc, _tt, ct, _callers) in stats.stats.items() if f.startswith(app_dir)),
                  reverse=True)
    print(f"\n  Sunlight's own functions by cumulative time (under the profiler, per lifecycle):")
    for ct, nc, name in rows[:20]:
        print(f"    {ct / n * 1000:7.2f} ms  {nc / n:5.1f} calls  {name}")


def sql_per_request(app, tokens, item_code) -> None:
    """SQL statements each request of one lifecycle sends (cursor executions incl. BEGIN IMMEDIATE)."""
    from sqlalchemy import event

    eng = app.extensions["sunlight.db"].engine
    counts: list[int] = []

    def count(*_a, **_k):
        counts[-1] += 1

    class Counting(ClientDriver):
        def post(self, path, token, body):
            counts.append(0)
            return super().post(path, token, body)

    event.listen(eng, "before_cursor_execute", count)
    try:
        api_lifecycle(Counting(app), tokens, item_code)
    finally:
        event.remove(eng, "before_cursor_execute", count)
    print(f"  SQL statements per request (one lifecycle, incl. BEGIN IMMEDIATE): " + "  ".join(
        f"{n} {c}" for n, c in zip(("create", "accept", "review", "decide"), counts)) + f"   total {sum(counts)}")


def db_counts(app) -> dict:
    from sqlalchemy import text

    eng = app.extensions["sunlight.db"].engine
    with eng.connect() as c:
        return {t: c.execute(text(f"SELECT count(*) FROM {t}")).scalar()
                for t in ("cases", "case_tasks", "audit_events")}


# ---------------------------------------------------------------------------------------------------------------
# (c) timer latency with the real worker process
# ---------------------------------------------------------------------------------------------------------------
def parse_iso(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(timezone.utc)


def bench_timers(app, tokens, item_code, db_path: Path, db_url: str, tmp: Path, n: int) -> None:
    line("(c) TIMER LATENCY — `flask --app wsgi timers run` (default poll), PT2S variant, notice after due")
    env = dict(os.environ, DATABASE_URL=db_url, SECRET_KEY=os.environ["SECRET_KEY"])
    env.pop("TIMER_POLL_SECONDS", None)
    log_path = tmp / "worker.log"
    flask_bin = ROOT / ".venv" / "bin" / "flask"
    with open(log_path, "wb") as log:
        proc = subprocess.Popen([str(flask_bin), "--app", "wsgi", "timers", "run"], cwd=ROOT, env=env,
                                stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        t0 = perf()
        while b"timer worker polling" not in log_path.read_bytes():
            if proc.poll() is not None or perf() - t0 > 60:
                raise SystemExit(f"worker did not start:\n{log_path.read_text(errors='replace')}")
            time.sleep(0.05)
        poll = re.search(rb"polling every ([0-9.]+ s)", log_path.read_bytes()).group(1).decode()
        print(f"  worker pid {proc.pid} up after {perf() - t0:.2f} s, TIMER_POLL_SECONDS unset → it polls every {poll} "
              f"(waited for it before starting any timer)")
        drv = ClientDriver(app)
        due: dict[str, datetime] = {}
        for _ in range(n):
            status, case = drv.post("/api/v1/cases", tokens["acc"], {"item_code": item_code, "applicant": APPLICANT,
                                                                     "data": {}})
            assert status == 201, case
            task = next(x for x in case["tasks"] if x["bpmn_id"] == "Task_accept" and x["state"] == "ready")
            status, body = drv.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", tokens["acc"],
                                    {"data": {}, "opinion": "受理"})
            assert status == 200, body
            status, body = drv.get(f"/api/v1/cases/{case['case_no']}", tokens["acc"])
            assert status == 200 and body["next_timer_due_at"], body
            due[case["case_no"]] = parse_iso(body["next_timer_due_at"])
        started = datetime.now(timezone.utc)
        print(f"  {n} cases accepted; timers due from {min(due.values()).isoformat(timespec='milliseconds')} "
              f"to {max(due.values()).isoformat(timespec='milliseconds')}")
        # Poll the notices table directly (read-only; WAL readers never take the write lock the API would).
        ro = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, isolation_level=None)
        ids = dict(ro.execute(f"SELECT case_no, id FROM cases WHERE case_no IN ({','.join('?' * n)})",
                              list(due)).fetchall())
        by_id = {v: k for k, v in ids.items()}
        seen: dict[str, tuple[datetime, datetime]] = {}  # case_no -> (notice created_at, observed at)
        deadline = max(due.values()).timestamp() + 30
        qmarks = ",".join("?" * n)
        while len(seen) < n and time.time() < deadline:
            # Only the review step's timer notice counts (rule notices, e.g. a fast step, come at other times).
            rows = ro.execute(f"SELECT case_id, min(created_at) FROM supervision_notices WHERE case_id IN ({qmarks}) "
                              f"AND source_key LIKE 'timer:%' GROUP BY case_id", list(by_id)).fetchall()
            now = datetime.now(timezone.utc)
            for case_id, created in rows:
                case_no = by_id[case_id]
                if case_no not in seen:
                    seen[case_no] = (datetime.fromisoformat(created).replace(tzinfo=timezone.utc), now)
            time.sleep(0.01)
        ro.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    print(f"  worker stopped (exit {proc.returncode})")
    missing = [c for c in due if c not in seen]
    created_lat = [(seen[c][0] - due[c]).total_seconds() for c in seen]
    observed_lat = [(seen[c][1] - due[c]).total_seconds() for c in seen]
    if any(due[c] < started for c in due):
        early = sum(1 for c in due if due[c] < started)
        print(f"  note: {early} timer(s) fell due while cases were still being set up (that does not bias latency)")
    if created_lat:
        print(f"  notice created_at − due  : median {med(created_lat):6.3f} s   max {max(created_lat):6.3f} s   "
              f"min {min(created_lat):6.3f} s   (n={len(created_lat)})")
        print(f"  notice observed   − due  : median {med(observed_lat):6.3f} s   max {max(observed_lat):6.3f} s   "
              f"(committed + seen by a 10 ms poll)")
    if missing:
        print(f"  MISSING notices for {len(missing)} case(s) after 30 s: {missing}")
    worst = max(observed_lat) if observed_lat else float("inf")
    verdict = "PASS" if not missing and worst <= TARGET_TIMER_S else "MISS"
    print(f"  target: every notice ≤ {TARGET_TIMER_S:.0f} s after its timer is due  →  {verdict} "
          f"(worst observed {worst:.3f} s)")


# ---------------------------------------------------------------------------------------------------------------
def in_process(args, xml: bytes, tmp: Path, run_b: bool, run_c: bool) -> None:
    """The older modes on SQLite: (a)/(a2)/(b) the raw engine vs the test client and waitress; (c) timers."""
    if run_b:
        raw_m = bench_raw(xml, args.raw)
        layer_mem, layer_stateless = bench_engine_layer(xml, args.raw)

    db_path = tmp / "bench.db"
    db_url = f"sqlite:///{db_path}"
    os.environ["DATABASE_URL"] = db_url
    import logging

    from app import create_app
    from app.cli import upgrade_database

    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": os.environ["SECRET_KEY"],
                      "FILE_STORAGE_DIR": str(tmp / "files")})
    logging.getLogger().setLevel(logging.WARNING)  # create_app sets INFO; waitress and friends stay quiet
    try:
        line(("(b) THROUGH THE HTTP API, IN PROCESS" if run_b else "(c) setup") + " — SQLite " + str(db_path))
        t = perf()
        with app.app_context(), contextlib.redirect_stdout(io.StringIO()):
            upgrade_database()
        from tests.world import ITEM, build_world, deploy_item

        world = build_world(app)
        tokens = world.tokens
        print(f"  setup: migrate + district + users/tokens + deploy/submit/approve item {ITEM['code']} "
              f"in {perf() - t:.2f} s")
        if run_b:
            # This mode predates the gunicorn one: it switches R01 (step done implausibly fast) and R02 (case done
            # in one burst) off, as a real district's pace never fires them. The gunicorn mode keeps them on.
            from app.supervision import rules

            with app.extensions["sunlight.db"].unit_of_work() as s:
                for code in ("R01", "R02"):
                    rules.configure(s, "bench", code, {"enabled": False})
            print("  rules R01 fast step and R02 burst case switched off for this mode (not for --gunicorn)")
            http_drv = HttpDriver(app)
            try:
                print(f"  b1 and b2 interleaved lifecycle by lifecycle; b2 = waitress on 127.0.0.1:{http_drv.port}")
                (b1, b1_parts), (b2, b2_parts) = bench_api([ClientDriver(app), http_drv], tokens, ITEM["code"],
                                                           args.api)
            finally:
                http_drv.close()
            sql_per_request(app, tokens, ITEM["code"])
            print(f"  rows now: {db_counts(app)}")

            line("SUMMARY (a) vs (b)")
            print(f"  raw engine      median {ms(raw_m)} per lifecycle")
            print(f"  engine layer    median {ms(layer_mem)} in memory, {ms(layer_stateless)} with load+dump per step "
                  f"(= {layer_stateless / raw_m:.1f}× raw before any database or HTTP work)")
            for name, m in (("b1 test client", b1), ("b2 real HTTP", b2)):
                ratio = m / raw_m
                verdict = "PASS" if ratio <= TARGET_RATIO else "MISS"
                print(f"  {name:15s} median {ms(m)} per lifecycle   API/raw = {ratio:6.1f}×   target ≤ "
                      f"{TARGET_RATIO:.0f}× → {verdict}   (API/engine layer stateless = {m / layer_stateless:.1f}×)")
            print(f"  (per request, b1: {', '.join(f'{x * 1000:.1f}' for x in b1_parts)} ms; raw whole lifecycle "
                  f"{raw_m * 1000:.2f} ms; HTTP transport adds {(b2 - b1) * 1000:.2f} ms per lifecycle)")
            if args.profile or b1 / raw_m > 1.5 * TARGET_RATIO:
                profile_api(app, tokens, ITEM["code"])
        if run_c:
            item2 = dict(ITEM, code="CA01-XK-0902", name="食品经营许可（计时器基准 PT2S）")
            xml_2s, n = re.subn(rb"PT72H", b"PT2S", xml)
            if n == 0:
                raise SystemExit("no PT72H timer found in the diagram to shorten")
            deploy_item(world, item2, xml_2s)
            bench_timers(app, tokens, item2["code"], db_path, db_url, tmp, args.timer_cases)
    finally:
        app.extensions["sunlight.db"].engine.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = ap.add_argument_group("modes (none given: --gunicorn)")
    mode.add_argument("--gunicorn", action="store_true", help="(d) API/raw ratio over gunicorn, alternating rounds")
    mode.add_argument("--throughput", action="store_true", help="(e) lifecycles/s with 1 and 2 gunicorn workers")
    mode.add_argument("--inprocess", action="store_true", help="(a)(a2)(b) raw vs test client and waitress, SQLite")
    mode.add_argument("--timers", action="store_true", help="(c) timer latency with `timers run`, SQLite")
    mode.add_argument("--all", action="store_true", help="all of the above")
    ap.add_argument("--pg", nargs="?", const=DEFAULT_PG, default=None, metavar="URL",
                    help=f"(d)/(e) also on PostgreSQL, in a database of the bench's own on this server "
                         f"(default {DEFAULT_PG})")
    ap.add_argument("--no-sqlite", action="store_true", help="(d)/(e) on PostgreSQL only")
    ap.add_argument("--rounds", type=int, default=12, help="(d) rounds (default 12)")
    ap.add_argument("--per-round", type=int, default=6, help="(d) lifecycles of each kind per round (default 6)")
    ap.add_argument("--warmup", type=int, default=5, help="(d) warm-up lifecycles of each kind (default 5)")
    ap.add_argument("--worker-class", default="sync", choices=["sync", "gthread"],
                    help="gunicorn worker class (default sync, as deployed; gthread keeps connections alive)")
    ap.add_argument("--clients", type=int, default=4, help="(e) client processes (default 4)")
    ap.add_argument("--duration", type=float, default=20, help="(e) measured seconds per worker count (default 20)")
    ap.add_argument("--tp-warmup", type=int, default=1, help="(e) warm-up lifecycles per client first (default 1)")
    ap.add_argument("--raw", type=int, default=300, help="(a) raw engine lifecycles (default 300)")
    ap.add_argument("--api", type=int, default=120, help="(b) API lifecycles per transport (default 120)")
    ap.add_argument("--timer-cases", type=int, default=10)
    ap.add_argument("--profile", action="store_true", help="(b) always print the profile (default: only when API/raw > 1.5 × target)")
    ap.add_argument("--keep", action="store_true", help="keep the temp directory (SQLite databases, logs)")
    args = ap.parse_args()
    if args.all:
        args.gunicorn = args.throughput = args.inprocess = args.timers = True
    if not (args.gunicorn or args.throughput or args.inprocess or args.timers):
        args.gunicorn = True
    if args.no_sqlite and not args.pg:
        ap.error("--no-sqlite needs --pg")

    def stop(signum, _frame):  # SIGTERM (and SIGINT, ignored in a background job) unwind through the finally blocks
        raise SystemExit(f"stopped by signal {signum}")  # that stop gunicorn and drop the bench's database

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    t_all = perf()
    print(f"Sunlight lifecycle benchmark — {datetime.now().astimezone().isoformat(timespec='seconds')}")
    import SpiffWorkflow
    import sqlalchemy
    print(f"python {platform.python_version()} ({platform.python_implementation()}) on {platform.platform()}; "
          f"cpu_count={os.cpu_count()} (usable {len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'})"
          f"; SpiffWorkflow {getattr(SpiffWorkflow, '__version__', '3.2.0?')}, SQLAlchemy {sqlalchemy.__version__}, "
          f"sqlite {sqlite3.sqlite_version}")
    print("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg())
          + "  (the machine is shared: other processes' load shows up as noise in the API figures)")
    print(f"diagram: {DIAGRAM.relative_to(ROOT)} (process {PROCESS_ID}); lifecycle = start → Task_accept → "
          f"Task_review(approved=True) → Task_decide → script → end")
    xml = DIAGRAM.read_bytes()
    raw_once = raw_engine(xml, quiet=True)  # before `app` is imported (see raw_engine)

    tmp = Path(tempfile.mkdtemp(prefix="sunlight-bench-"))
    results = []
    try:
        if args.gunicorn or args.throughput:
            results = over_gunicorn(args, raw_once, tmp)
        if args.inprocess or args.timers:
            in_process(args, xml, tmp, args.inprocess, args.timers)
        if results:
            summary(args, results)
    finally:
        if args.keep:
            print(f"  kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    line()
    print("load average at end: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(f"total bench time {perf() - t_all:.1f} s")


if __name__ == "__main__":
    main()
