"""bench/lifecycle.py's HTTP modes (issue #14): real gunicorn against the raw engine, and lifecycles/s per worker.

- fresh_database(): SQLite in the bench's temp dir, or a PostgreSQL database of its own (created, dropped at the
  end, also on failure); migrated, with tests/world.py's district, users, tokens and the licensing item, and the
  supervision rules left as a fresh install has them (nothing switched off).
- Gunicorn: `gunicorn wsgi:app` as a subprocess on a free loopback port, the database given by DATABASE_URL.
- Client: one http.client.HTTPConnection kept open (keep-alive). gunicorn's sync workers close the connection
  after every response whatever the client asks; http.client then reconnects by itself, and the client counts it.
- ratio_rounds(): alternating rounds, K raw-engine lifecycles then K API lifecycles per round.
- throughput(): C client processes (not threads: a Python client would be GIL bound), each with its own
  connection, for a fixed time after a warm-up; lifecycles/s, errors by status.
"""
from __future__ import annotations

import contextlib
import gc
import http.client
import io
import json
import multiprocessing
import os
import shlex
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_PG = "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
KINDS = ("create", "accept", "review", "decide")
STEPS = [("Task_accept", "acc", {}), ("Task_review", "rev", {"approved": True}), ("Task_decide", "dec", {})]
APPLICANT = {"name": "张三", "id_number": "320102199001011234", "phone": "13800000000"}

TARGET_RATIO = 3.0  # issue #14: API lifecycle ≤ 3× the raw engine (goal 2×); two workers ≥ 1.7× one
GOAL_RATIO = 2.0
TARGET_SCALE = 1.7

perf = time.perf_counter


def line(title=""):
    print(("── " + title + " ").ljust(100, "─") if title else "─" * 100, flush=True)


def med(xs):
    return statistics.median(xs)


def fmt_ms(x: float) -> str:
    return f"{x * 1000:7.2f} ms"


# ---------------------------------------------------------------------------------------------------------------
# the database and the world
# ---------------------------------------------------------------------------------------------------------------
@dataclass
class Target:
    kind: str  # "sqlite" | "pg"
    url: str
    label: str
    tokens: dict = field(default_factory=dict)
    item_code: str = ""
    rules_on: list = field(default_factory=list)
    setup_s: float = 0.0


def _pg_admin(base: str):
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    return create_engine(make_url(base).set(database="postgres"), isolation_level="AUTOCOMMIT")


@contextlib.contextmanager
def fresh_database(kind: str, tmp: Path, pg_base: str = DEFAULT_PG):
    """A Target on an empty database, set up like the in-process mode (migrations + tests/world.py's world)."""
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    if kind == "sqlite":
        path = tmp / f"bench-{uuid.uuid4().hex[:6]}.db"
        target = Target("sqlite", f"sqlite:///{path}", f"SQLite {path}")
        dropper = None
    else:
        name = f"sunlight_lifebench_{uuid.uuid4().hex[:8]}"
        admin = _pg_admin(pg_base)
        with admin.connect() as c:
            c.execute(text(f'CREATE DATABASE "{name}"'))
        url = make_url(pg_base).set(database=name).render_as_string(hide_password=False)
        target = Target("pg", url, f"PostgreSQL {make_url(url).render_as_string(hide_password=True)}")

        def dropper():
            with admin.connect() as c:  # FORCE: a gunicorn that did not go away must not keep the database
                c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    try:
        _set_up(target, tmp)
        yield target
    finally:
        if dropper is not None:
            dropper()


def _set_up(target: Target, tmp: Path) -> None:
    import logging

    from app import create_app
    from app.cli import upgrade_database
    from app.supervision import rules
    from tests.world import ITEM, build_world

    t = perf()
    app = create_app({"DATABASE_URL": target.url, "SECRET_KEY": os.environ["SECRET_KEY"],
                      "FILE_STORAGE_DIR": str(tmp / "files")})
    logging.getLogger().setLevel(logging.WARNING)
    try:
        with app.app_context(), contextlib.redirect_stdout(io.StringIO()):
            upgrade_database()
        world = build_world(app)
        with app.extensions["sunlight.db"].unit_of_work() as s:
            target.rules_on = sorted(code for code, r in rules.active(s).items() if r.enabled)
    finally:
        app.extensions["sunlight.db"].engine.dispose()
    target.tokens, target.item_code, target.setup_s = world.tokens, ITEM["code"], perf() - t


# ---------------------------------------------------------------------------------------------------------------
# gunicorn
# ---------------------------------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn -w N -k CLASS wsgi:app` on 127.0.0.1:<free port>; stopped (SIGTERM to its master) on exit.

    bench/floor.py serves its own minimal apps the same way: `app` names another module from bench/ (put on the
    workers' path), `env` adds what that app reads. Any app must answer GET /healthz once it is up.
    """

    def __init__(self, target: Target, tmp: Path, workers: int = 1, worker_class: str = "sync",
                 app: str = "wsgi:app", env: dict | None = None):
        self.target, self.tmp, self.workers, self.worker_class = target, tmp, workers, worker_class
        self.app, self.env = app, env or {}
        self.port = free_port()
        self.log = tmp / f"gunicorn-{target.kind}-{workers}w-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def argv(self) -> list[str]:
        argv = [str(ROOT / ".venv" / "bin" / "gunicorn"), "-w", str(self.workers), "-k", self.worker_class,
                "-b", f"127.0.0.1:{self.port}", "--log-level", "info"]
        if self.worker_class == "gthread":
            argv += ["--threads", "1", "--keep-alive", "60"]  # the default 2 s would drop the idle client between blocks
        if self.app != "wsgi:app":
            argv += ["--pythonpath", str(ROOT / "bench")]
        return argv + [self.app]

    def __enter__(self) -> "Gunicorn":
        env = dict(os.environ, DATABASE_URL=self.target.url, SECRET_KEY=os.environ["SECRET_KEY"],
                   FILE_STORAGE_DIR=str(self.tmp / "files"), **self.env)
        with open(self.log, "wb") as log:
            self.proc = subprocess.Popen(self.argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        t0 = perf()
        try:
            while True:
                if self.proc.poll() is not None:
                    raise SystemExit(f"gunicorn exited ({self.proc.returncode}):\n{self.log.read_text(errors='replace')}")
                booted = self.log.read_bytes().count(b"Booting worker")
                if booted >= self.workers and self._healthy():
                    break
                if perf() - t0 > 60:
                    raise SystemExit(f"gunicorn not up after 60 s:\n{self.log.read_text(errors='replace')}")
                time.sleep(0.1)
        except BaseException:
            self.__exit__()
            raise
        self.boot_s = perf() - t0
        return self

    def _healthy(self) -> bool:
        try:
            c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
            c.request("GET", "/healthz")
            ok = c.getresponse().status == 200
            c.close()
            return ok
        except OSError:
            return False

    def worker_pids(self) -> list[int]:
        path = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
        try:
            return [int(x) for x in path.read_text().split()]
        except OSError:
            return []

    def __exit__(self, *_exc) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()  # the master stops its workers gracefully
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of these processes so far (0 for one that is gone)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    return total / tick


# ---------------------------------------------------------------------------------------------------------------
# the client
# ---------------------------------------------------------------------------------------------------------------
class RequestFailed(Exception):
    def __init__(self, kind: str, status: int, body: str):
        super().__init__(f"{kind}: {status} {body[:300]}")
        self.kind, self.status = kind, status


class Client:
    """One keep-alive HTTPConnection; counts the responses after which the server closed the connection."""

    def __init__(self, port: int):
        self.port = port
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.responses = 0
        self.closed_by_server = 0

    def call(self, method: str, path: str, token: str | None = None, body=None) -> tuple[int, bytes]:
        headers = {"Connection": "keep-alive"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        payload = None
        if body is not None:
            payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        try:
            self.conn.request(method, path, body=payload, headers=headers)
            resp = self.conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            self.conn.close()  # next request connects afresh
            raise
        self.responses += 1
        if resp.will_close:
            self.closed_by_server += 1
        return resp.status, data

    def close(self) -> None:
        self.conn.close()


def http_lifecycle(cl: Client, tokens: dict, item_code: str) -> list[float]:
    """create + the three completions; the four request times. Raises RequestFailed on a non-2xx answer."""
    parts = []
    t = perf()
    status, data = cl.call("POST", "/api/v1/cases", tokens["acc"], {"item_code": item_code, "applicant": APPLICANT,
                                                                    "data": {}})
    parts.append(perf() - t)
    if status != 201:
        raise RequestFailed("create", status, data.decode(errors="replace"))
    case = json.loads(data)
    for (bpmn_id, user, body), kind in zip(STEPS, KINDS[1:]):
        task = next(x for x in case["tasks"] if x["bpmn_id"] == bpmn_id and x["state"] == "ready")
        t = perf()
        status, data = cl.call("POST", f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", tokens[user],
                               {"data": body, "opinion": "同意"})
        parts.append(perf() - t)
        if not 200 <= status < 300:
            raise RequestFailed(kind, status, data.decode(errors="replace"))
        case = json.loads(data)
    if case["status"] != "completed":
        raise RequestFailed("decide", 0, f"case not completed: {case['status']}")
    return parts


# ---------------------------------------------------------------------------------------------------------------
# the ratio: alternating rounds
# ---------------------------------------------------------------------------------------------------------------
def ratio_rounds(raw_once, target: Target, tmp: Path, rounds: int, k: int, warmup: int,
                 worker_class: str = "sync") -> dict:
    """Per round K raw lifecycles then K API lifecycles (and K × four /healthz round trips: the transport's floor);
    the ratio of the round's medians. Returns the figures for the summary."""
    with Gunicorn(target, tmp, 1, worker_class) as server:
        print(f"  gunicorn 1 {worker_class} worker on 127.0.0.1:{server.port}, up in {server.boot_s:.2f} s   "
              f"({' '.join(server.argv[1:])})")
        cl = Client(server.port)
        for _ in range(warmup):
            raw_once()
            http_lifecycle(cl, target.tokens, target.item_code)
        cl.responses = cl.closed_by_server = 0
        worker, backends = server.worker_pids(), backend_pids(target)
        per_round, all_parts, all_api, all_raw, all_hz = [], [[] for _ in KINDS], [], [], []
        cpu_rounds = []  # (raw CPU per lifecycle, worker CPU per lifecycle, PostgreSQL CPU per lifecycle)
        for r in range(rounds):
            gc.collect()
            raw, raw_cpu = [], []

            def raw_block(count):
                for _ in range(count):
                    t, c = perf(), time.thread_time()
                    raw_once()
                    raw.append(perf() - t)
                    raw_cpu.append(time.thread_time() - c)

            # The K raw lifecycles take a hundredth of the API block's time: half before it and half after, so a
            # change of the machine's load during the round reaches both sides.
            raw_block(k - k // 2)
            api, parts = [], [[] for _ in KINDS]
            w0, b0 = cpu_seconds(worker), cpu_seconds(backends)
            for _ in range(k):
                t = perf()
                p = http_lifecycle(cl, target.tokens, target.item_code)
                api.append(perf() - t)
                for j, x in enumerate(p):
                    parts[j].append(x)
            w1, b1 = cpu_seconds(worker), cpu_seconds(backends)
            raw_block(k // 2)
            cpu_rounds.append((med(raw_cpu), (w1 - w0) / k, (b1 - b0) / k))
            hz = []
            for _ in range(k):
                t = perf()
                for _ in range(4):
                    status, _ = cl.call("GET", "/healthz")
                    assert status == 200
                hz.append(perf() - t)
            r_raw, r_api, r_hz = med(raw), med(api), med(hz)
            per_round.append(r_api / r_raw)
            all_raw += raw
            all_api += api
            all_hz.append(r_hz)
            for j in range(len(KINDS)):
                all_parts[j] += parts[j]
            print(f"  round {r + 1:2d}/{rounds}: raw {fmt_ms(r_raw)}   API {fmt_ms(r_api)}   ratio {r_api / r_raw:5.1f}×"
                  f"   [{' '.join(f'{med(xs) * 1000:.1f}' for xs in parts)} ms]   4×/healthz {r_hz * 1000:.2f} ms"
                  f"   CPU {cpu_rounds[-1][1] / cpu_rounds[-1][0]:5.1f}×",
                  flush=True)
        cl.close()
    out = {"ratio": med(per_round), "ratio_min": min(per_round), "ratio_max": max(per_round),
           "raw": med(all_raw), "api": med(all_api), "healthz4": med(all_hz),
           "parts": {kind: med(xs) for kind, xs in zip(KINDS, all_parts)},
           "closed": cl.closed_by_server, "responses": cl.responses, "n": rounds * k,
           "raw_cpu": med([c[0] for c in cpu_rounds]), "worker_cpu": med([c[1] for c in cpu_rounds]),
           "pg_cpu": med([c[2] for c in cpu_rounds]) if backends else None,
           "cpu_ratio": med([c[1] / c[0] for c in cpu_rounds])}
    print(f"  median of {rounds} round ratios: {out['ratio']:.2f}×  (rounds {out['ratio_min']:.2f}–"
          f"{out['ratio_max']:.2f}×)   raw {fmt_ms(out['raw'])}   API {fmt_ms(out['api'])}   "
          f"(medians over all {out['n']} lifecycles each)")
    print("  per request kind (median over all API lifecycles): " + "   ".join(
        f"{kind} {x * 1000:.2f} ms" for kind, x in out["parts"].items()))
    print(f"  transport floor: four /healthz round trips {fmt_ms(out['healthz4'])} = {out['healthz4'] / out['raw']:.2f}× "
          f"the raw lifecycle")
    print(f"  CPU time instead of wall time (less sensitive to waiting for a core on a loaded machine): raw "
          f"{fmt_ms(out['raw_cpu'])}, the gunicorn worker {fmt_ms(out['worker_cpu'])} per lifecycle"
          + (f" + PostgreSQL backends {fmt_ms(out['pg_cpu'])}" if out["pg_cpu"] is not None else "")
          + f"; worker/raw median of the rounds {out['cpu_ratio']:.1f}× (/proc ticks: 10 ms resolution per round)")
    print("  the 受理通知书 create issues is numbered and its content fixed in the request; its PDF is the timer "
          "worker's job afterwards (no worker runs here: bench/documents.py times the render)")
    out["facts"] = facts(target.url)
    print(f"  what a lifecycle leaves (this database, {out['facts']['cases']} cases): " + ", ".join(
        f"{k} {v:.2f}" for k, v in out["facts"]["per_case"].items()))
    if out["closed"]:
        print(f"  note: the server closed the connection after {out['closed']} of {out['responses']} responses "
              f"(gunicorn's {worker_class} worker does not keep connections alive; http.client reconnected each "
              f"time, so every request includes a loopback connect)")
    return out


def facts(url: str) -> dict:
    """Per case: documents issued by kind (numbered in the request, rendered later by the worker) and notices by
    source (rules firing as deployed)."""
    from sqlalchemy import create_engine, text

    eng = create_engine(url)
    try:
        with eng.connect() as c:
            cases = c.execute(text("SELECT count(*) FROM cases")).scalar_one()
            rows = c.execute(text("SELECT 'document ' || kind, count(*) FROM documents GROUP BY kind")).all()
            keys = c.execute(text("SELECT source_key FROM supervision_notices")).scalars().all()
    finally:
        eng.dispose()
    per = {k: n / cases for k, n in rows} if cases else {}
    notices: dict[str, int] = {}
    for key in keys:
        head = ":".join(key.split(":")[:2]) if key.startswith("rule:") else key.split(":")[0]
        notices[head] = notices.get(head, 0) + 1
    per.update({f"notice {k}": n / cases for k, n in sorted(notices.items())} if cases else {})
    return {"cases": cases, "per_case": per}


# ---------------------------------------------------------------------------------------------------------------
# throughput: client processes
# ---------------------------------------------------------------------------------------------------------------
def _client_process(port: int, tokens: dict, item_code: str, barrier, warm: int, duration: float) -> dict:
    """Runs in a client process: `warm` lifecycles, then the barrier (all clients and the parent start the window
    together), then lifecycles back to back for `duration` seconds; counts the ones that finished inside the
    window, and the errors in the window and during the warm-up."""
    cl = Client(port)
    done = requests = warm_errors = 0
    errors: dict[str, int] = {}
    first_error = ""

    def one() -> bool:
        nonlocal first_error
        try:
            http_lifecycle(cl, tokens, item_code)
            return True
        except (RequestFailed, OSError, http.client.HTTPException) as exc:
            key = f"{exc.kind} {exc.status}" if isinstance(exc, RequestFailed) else type(exc).__name__
            errors[key] = errors.get(key, 0) + 1
            first_error = first_error or f"{key}: {exc}"
            return False

    for _ in range(warm):
        warm_errors += not one()
    errors.clear()
    barrier.wait(timeout=600)
    end_at = time.monotonic() + duration
    while time.monotonic() < end_at:
        ok = one()
        if ok and time.monotonic() < end_at:
            done += 1
            requests += 4
    cl.close()
    return {"done": done, "requests": requests, "errors": errors, "warm_errors": warm_errors,
            "first_error": first_error, "closed": cl.closed_by_server, "responses": cl.responses}


def backend_pids(target: Target) -> list[int]:
    """PostgreSQL server processes serving the bench's database (same machine: their CPU is read from /proc)."""
    if target.kind != "pg":
        return []
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    eng = create_engine(target.url)
    try:
        with eng.connect() as c:
            return list(c.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = :d AND pid <> "
                                       "pg_backend_pid()"), {"d": make_url(target.url).database}).scalars())
    finally:
        eng.dispose()


def _client_entry(queue, barrier, *args) -> None:
    try:
        queue.put(_client_process(*args[:3], barrier, *args[3:]))
    except Exception as exc:  # a crashed client is an error of the run, not a hang of the bench
        barrier.abort()
        queue.put({"done": 0, "requests": 0, "errors": {f"client crashed: {type(exc).__name__}": 1}, "warm_errors": 0,
                   "first_error": repr(exc), "closed": 0, "responses": 0})


def throughput(target: Target, tmp: Path, workers: int, clients: int, duration: float, warm: int,
               worker_class: str = "sync") -> dict:
    """lifecycles/s of `clients` client processes against gunicorn with `workers` workers, for `duration` seconds
    after each client's `warm` warm-up lifecycles (a fresh worker's first requests import and load lazily)."""
    ctx = multiprocessing.get_context("spawn")
    queue, barrier = ctx.Queue(), ctx.Barrier(clients + 1)
    with Gunicorn(target, tmp, workers, worker_class) as server:
        pids = server.worker_pids()
        procs = [ctx.Process(target=_client_entry, args=(queue, barrier, server.port, target.tokens,
                                                         target.item_code, warm, duration), daemon=True)
                 for _ in range(clients)]
        try:
            t0 = perf()
            for p in procs:
                p.start()
            try:
                barrier.wait(timeout=600)
            except threading.BrokenBarrierError:
                pass  # a client crashed: its result says so
            warm_s = perf() - t0
            pg_pids = backend_pids(target)  # the workers' pooled connections are open by now
            cpu0, pg0, load0 = cpu_seconds(pids), cpu_seconds(pg_pids), os.getloadavg()[0]
            t1 = perf()
            time.sleep(duration)
            cpu1, pg1, elapsed = cpu_seconds(pids), cpu_seconds(pg_pids), perf() - t1
            results = [queue.get(timeout=600) for _ in procs]
            for p in procs:
                p.join(10)
        finally:
            for p in procs:  # stopped early (an error, a signal): the clients go at once, not at the window's end
                if p.is_alive():
                    p.terminate()
                    p.join(5)
    done = sum(r["done"] for r in results)
    errors: dict[str, int] = {}
    for r in results:
        for key, n in r["errors"].items():
            errors[key] = errors.get(key, 0) + n
    out = {"workers": workers, "clients": clients, "duration": duration, "lifecycles": done, "rate": done / duration,
           "errors": sum(errors.values()), "by_kind": errors, "warm_errors": sum(r["warm_errors"] for r in results),
           "first_error": next((r["first_error"] for r in results if r["first_error"]), ""),
           "cpu_per_lifecycle": (cpu1 - cpu0) / done if done else 0.0, "cpu_util": (cpu1 - cpu0) / elapsed,
           "load": load0, "pg_cpu_per_lifecycle": (pg1 - pg0) / done if done and pg_pids else None}
    print(f"  {workers} {worker_class} worker(s), {clients} client processes, {duration:.0f} s after {warm} warm-up "
          f"lifecycles each ({warm_s:.1f} s): {done} lifecycles = {out['rate']:6.2f} lifecycles/s "
          f"({out['rate'] * 4:.1f} requests/s)", flush=True)
    print(f"      gunicorn workers' CPU {out['cpu_util']:.2f} cores, {out['cpu_per_lifecycle'] * 1000:.1f} ms per "
          f"lifecycle;" + (f" PostgreSQL backends {out['pg_cpu_per_lifecycle'] * 1000:.1f} ms per lifecycle;"
                           if out["pg_cpu_per_lifecycle"] is not None else "")
          + f"  load avg {load0:.2f} at the window's start", flush=True)
    if out["errors"] or out["warm_errors"]:
        print(f"  ERRORS: {out['errors']} failed lifecycles in the window {errors}, {out['warm_errors']} during "
              f"warm-up; first: {out['first_error']}")
    return out


# ---------------------------------------------------------------------------------------------------------------
# the driver and the summary
# ---------------------------------------------------------------------------------------------------------------
def over_gunicorn(args, raw_once, tmp: Path) -> list[dict]:
    """(d) ratio and (e) throughput through real gunicorn, per database; one fresh database per backend."""
    results = []
    backends = ([] if args.no_sqlite else ["sqlite"]) + (["pg"] if args.pg else [])
    for kind in backends:
        with fresh_database(kind, tmp, args.pg or "") as target:
            name = "SQLite" if kind == "sqlite" else "PostgreSQL"
            print(f"  {name}: fresh database {target.label}; migrated + district + users/tokens + item "
                  f"{target.item_code} in {target.setup_s:.2f} s; rules enabled as deployed: "
                  f"{' '.join(target.rules_on)}")
            res = {"db": name}
            if args.gunicorn:
                line(f"(d) API/RAW RATIO over gunicorn — {name}: {args.rounds} rounds of {args.per_round} raw (half "
                     f"before, half after) and {args.per_round} API lifecycles, one keep-alive client")
                res["ratio"] = ratio_rounds(raw_once, target, tmp, args.rounds, args.per_round, args.warmup,
                                            args.worker_class)
            if args.throughput:
                line(f"(e) THROUGHPUT over gunicorn — {name}: {args.clients} client processes, {args.duration:.0f} s "
                     f"per worker count")
                res["tp"] = [throughput(target, tmp, w, args.clients, args.duration, args.tp_warmup,
                                        args.worker_class) for w in (1, 2)]
                one, two = res["tp"]
                print(f"  2 workers / 1 worker = {two['rate'] / one['rate'] if one['rate'] else float('nan'):.2f}×")
            results.append(res)
    return results


def summary(args, results: list[dict]) -> None:
    line("SUMMARY — issue #14 targets (indicative on a shared machine; see the load averages)")
    for res in results:
        r = res.get("ratio")
        if r:
            verdict = "PASS" if r["ratio"] <= TARGET_RATIO else "MISS"
            goal = "PASS" if r["ratio"] <= GOAL_RATIO else "MISS"
            print(f"  ratio       {res['db']:10s}  raw {fmt_ms(r['raw'])}  API {fmt_ms(r['api'])}  API/raw {r['ratio']:5.2f}× "
                  f"(median of {args.rounds} rounds, {r['ratio_min']:.2f}–{r['ratio_max']:.2f}×)   target ≤ "
                  f"{TARGET_RATIO:.0f}× → {verdict}   goal ≤ {GOAL_RATIO:.0f}× → {goal}")
            print(f"              {'':10s}  per request: " + ", ".join(
                f"{k} {x * 1000:.1f} ms" for k, x in r["parts"].items())
                + f"; CPU: worker/raw {r['cpu_ratio']:.1f}×"
                + (f" (+ PostgreSQL {fmt_ms(r['pg_cpu']).strip()})" if r["pg_cpu"] is not None else ""))
    for res in results:
        if "tp" in res:
            one, two = res["tp"]
            scale = two["rate"] / one["rate"] if one["rate"] else 0.0
            errors = one["errors"] + two["errors"] + one["warm_errors"] + two["warm_errors"]
            verdict = "PASS" if scale >= TARGET_SCALE else "MISS"
            print(f"  throughput  {res['db']:10s}  1 worker {one['rate']:6.2f}/s   2 workers {two['rate']:6.2f}/s   "
                  f"2w/1w {scale:4.2f}×   target ≥ {TARGET_SCALE}× → {verdict}   "
                  + (f"RUN HAD ERRORS: {errors} failed lifecycles (see above)" if errors else "errors 0"))
            print(f"              {'':10s}  gunicorn CPU per lifecycle {one['cpu_per_lifecycle'] * 1000:.0f} ms (1w), "
                  f"{two['cpu_per_lifecycle'] * 1000:.0f} ms (2w); workers busy {one['cpu_util']:.2f} / "
                  f"{two['cpu_util']:.2f} cores"
                  + (f"; PostgreSQL CPU per lifecycle {one['pg_cpu_per_lifecycle'] * 1000:.0f} / "
                     f"{two['pg_cpu_per_lifecycle'] * 1000:.0f} ms" if one["pg_cpu_per_lifecycle"] is not None
                     and two["pg_cpu_per_lifecycle"] is not None else ""))
            starved = [f"{t['workers']}w {t['cpu_util']:.2f}" for t in (one, two) if t["cpu_util"] < 0.75 * t["workers"]]
            if starved:
                print(f"              {'':10s}  STARVED: the workers used fewer cores than they could ({', '.join(starved)} "
                      f"cores) — other processes held the CPU, so these rates measure the machine's load")
    print("  reproduce (from the repo root):")
    print(f"    .venv/bin/python bench/lifecycle.py {shlex.join(sys.argv[1:])}".rstrip() + "   # this run")
    print("    .venv/bin/python bench/lifecycle.py                           # ratio on SQLite (the headline)")
    print("    .venv/bin/python bench/lifecycle.py --gunicorn --throughput --pg   # ratio + lifecycles/s, SQLite and PG")
