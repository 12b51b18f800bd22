"""Issue #14's floor: what the least possible server costs for the lifecycle the ratio measures.

Run from the repo root:
    .venv/bin/python bench/floor.py [--rounds 30] [--per-round 10] [--pg [URL]] [--no-sqlite]

#14 asks for an API lifecycle (POST /api/v1/cases + three task completions, over gunicorn, keep-alive client)
≤ 3× the raw SpiffWorkflow lifecycle in memory. This bench measures how far minimal servers get, each under real
gunicorn (1 sync worker, as bench/lifecycle.py --gunicorn) and driven by the same client code
(bench/lifecycle_http.py's Client and http_lifecycle: same paths, bodies and tokens):

  raw       plain SpiffWorkflow in memory, in this process (bench/lifecycle.py's raw_engine): the denominator.
  E seam    Sunlight's engine seam in this process, load + dump every step (bench/lifecycle.py's engine layer):
            the engine's stateless cost without HTTP.
  F0 WSGI   a bare WSGI app answering the four requests with fixed JSON: the HTTP floor.
  F0 Flask  the same through Flask: what the web framework adds.
  F1        Flask + the engine seam, the blob kept in a dict between requests: the stateless engine over HTTP.
  F2        F1 with the blob in the database through the raw driver, one transaction per request (token SELECT,
            locked read, engine step, blob UPDATE, hash-chained audit rows, case and task rows): the least a
            durable, audited case action does. SQLite (WAL, synchronous=NORMAL, BEGIN IMMEDIATE, as app/db.py)
            and with --pg PostgreSQL (SELECT … FOR UPDATE), each in a database of its own.
  Sunlight  the real app (`wsgi:app`) over a fresh database set up as bench/lifecycle.py --gunicorn does.

The host's speed drifts by about a third within minutes, so every round runs all of them (raw half before and
half after the servers, the servers' order rotated), and the figure is the median of the rounds' ratios against
the same round's raw engine. The servers are in bench/floor_apps.py. This prints figures; it is not a test.
"""
from __future__ import annotations

import argparse
import contextlib
import gc
import os
import secrets
import shlex
import shutil
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from lifecycle import DIAGRAM, engine_layer_lifecycles, raw_engine  # bench/ is on sys.path; puts the root there too
from lifecycle_http import (DEFAULT_PG, KINDS, TARGET_RATIO, Client, Gunicorn, Target, backend_pids, cpu_seconds,
                            fresh_database, http_lifecycle, line, med)

import floor_apps

perf = time.perf_counter


@dataclass
class Column:
    """One thing timed per round: a served app (server set) or a function run in this process."""

    name: str
    what: str
    once: object = None  # in-process: runs one lifecycle
    server: Gunicorn | None = None
    tokens: dict = field(default_factory=dict)
    item_code: str = "CA01-XK-0901"
    pg_target: Target | None = None  # PostgreSQL's backends for this server: their CPU is counted too
    client: Client | None = None
    ratios: list = field(default_factory=list)
    times: list = field(default_factory=list)
    parts: list = field(default_factory=lambda: [[] for _ in KINDS])
    cpu: float = 0.0
    pg_cpu: float = 0.0

    def lifecycle(self) -> list[float] | None:
        if self.server is None:
            self.once()
            return None
        return http_lifecycle(self.client, self.tokens, self.item_code)


# ---------------------------------------------------------------------------------------------------------------
# the servers
# ---------------------------------------------------------------------------------------------------------------
def floor_server(stack, tmp: Path, name: str, what: str, mode: str, env: dict | None = None,
                 tokens: dict | None = None, pg_target: Target | None = None) -> Column:
    target = Target(f"floor-{mode}", "", name)
    server = stack.enter_context(Gunicorn(target, tmp, 1, "sync", app="floor_apps:make_app()",
                                          env={"FLOOR_MODE": mode, **(env or {})}))
    print(f"  {name:16s} gunicorn 1 sync worker on 127.0.0.1:{server.port}, up in {server.boot_s:.2f} s")
    return Column(name, what, server=server, tokens=tokens or fake_tokens(), pg_target=pg_target)


def fake_tokens() -> dict:
    return {user: secrets.token_urlsafe(32) for user in ("acc", "rev", "dec")}


def durable_sqlite(stack, tmp: Path) -> Column:
    path = tmp / f"floor-{uuid.uuid4().hex[:6]}.db"
    tokens = fake_tokens()
    store = floor_apps.Store(str(path))
    store.create_schema(tokens)
    store.close()
    return floor_server(stack, tmp, "F2 SQLite", "durable minimum, raw sqlite3", "durable", {"FLOOR_DB": str(path)},
                        tokens)


@contextlib.contextmanager
def pg_database(base: str):
    """A database of the bench's own on the server of `base` (SQLAlchemy URL); yields its SQLAlchemy URL."""
    import psycopg
    from sqlalchemy.engine import make_url

    name = f"sunlight_floor_{uuid.uuid4().hex[:8]}"
    admin = make_url(base).set(drivername="postgresql", database="postgres").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(base).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as c:  # FORCE: a worker still connected must not keep it
            c.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def durable_pg(stack, tmp: Path, base: str) -> Column:
    from sqlalchemy.engine import make_url

    url = stack.enter_context(pg_database(base))
    conninfo = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    tokens = fake_tokens()
    store = floor_apps.Store(conninfo)
    store.create_schema(tokens)
    store.close()
    return floor_server(stack, tmp, "F2 PostgreSQL", "durable minimum, raw psycopg", "durable",
                        {"FLOOR_DB": conninfo}, tokens, Target("pg", url, "F2 PostgreSQL"))


def sunlight(stack, tmp: Path, kind: str, base: str) -> Column:
    target = stack.enter_context(fresh_database(kind, tmp, base))
    name = "Sunlight SQLite" if kind == "sqlite" else "Sunlight PG"
    server = stack.enter_context(Gunicorn(target, tmp, 1, "sync"))
    print(f"  {name:16s} gunicorn 1 sync worker on 127.0.0.1:{server.port}, up in {server.boot_s:.2f} s; database set "
          f"up in {target.setup_s:.2f} s, rules as deployed: {' '.join(target.rules_on)}")
    return Column(name, "the app (wsgi:app)", server=server, tokens=target.tokens, item_code=target.item_code,
                  pg_target=target if kind == "pg" else None)


def columns(stack, tmp: Path, args, seam_once) -> list[Column]:
    cols = [Column("E seam", "engine seam in process, load+dump per step, no HTTP", once=seam_once),
            floor_server(stack, tmp, "F0 WSGI", "fixed JSON, bare WSGI", "wsgi"),
            floor_server(stack, tmp, "F0 Flask", "fixed JSON through Flask", "flask"),
            floor_server(stack, tmp, "F1 engine", "engine seam, blob in a dict", "engine")]
    if not args.no_sqlite:
        cols += [durable_sqlite(stack, tmp), sunlight(stack, tmp, "sqlite", "")]
    if args.pg:
        cols += [durable_pg(stack, tmp, args.pg), sunlight(stack, tmp, "pg", args.pg)]
    return cols


# ---------------------------------------------------------------------------------------------------------------
# the rounds
# ---------------------------------------------------------------------------------------------------------------
def block(col: Column, k: int) -> list[float]:
    """K lifecycles of one column; its times (and request times, CPU of its worker and PostgreSQL backends)."""
    pids = col.server.worker_pids() if col.server else []
    pg = backend_pids(col.pg_target) if col.pg_target else []
    w0, b0, times = cpu_seconds(pids), cpu_seconds(pg), []
    for _ in range(k):
        t = perf()
        parts = col.lifecycle()
        times.append(perf() - t)
        for j, x in enumerate(parts or []):
            col.parts[j].append(x)
    col.cpu += cpu_seconds(pids) - w0
    col.pg_cpu += cpu_seconds(pg) - b0
    return times


def warm_up(raw_once, cols: list[Column], n: int) -> None:
    for col in cols:
        if col.server:
            col.client = Client(col.server.port)
        for _ in range(n):
            col.lifecycle()
    for _ in range(n):
        raw_once()


def rounds(raw_once, cols: list[Column], n: int, k: int) -> list[float]:
    raw_all = []
    for r in range(n):
        gc.collect()
        raw = []

        def raw_block(count):
            for _ in range(count):
                t = perf()
                raw_once()
                raw.append(perf() - t)

        raw_block(k - k // 2)
        shift = r % len(cols)  # rotated, so no column always follows the same neighbour
        got = {col.name: block(col, k) for col in cols[shift:] + cols[:shift]}
        raw_block(k // 2)
        r_raw = med(raw)
        raw_all += raw
        for col in cols:
            col.times += got[col.name]
            col.ratios.append(med(got[col.name]) / r_raw)
        print(f"  round {r + 1:2d}/{n}: raw {r_raw * 1000:5.2f} ms | " + " | ".join(
            f"{col.name} {med(got[col.name]) * 1000:5.1f} ms {col.ratios[-1]:5.1f}×" for col in cols), flush=True)
    return raw_all


# ---------------------------------------------------------------------------------------------------------------
# the summary
# ---------------------------------------------------------------------------------------------------------------
def summary(args, cols: list[Column], raw_all: list[float], loads: list) -> None:
    n = args.rounds * args.per_round
    line(f"SUMMARY — the lifecycle (create + 3 completions) per server; × raw = median of {args.rounds} round ratios")
    print(f"  {'':16s} {'ms/lifecycle':>12s} {'× raw':>7s} {'rounds':>13s}   {'create/accept/review/decide ms':30s} "
          f"{'server CPU ms':>13s}")
    print(f"  {'raw engine':16s} {med(raw_all) * 1000:12.2f} {1:7.2f}   {'':13s}   {'(in process)':30s}")
    for col in cols:
        parts = "/".join(f"{med(xs) * 1000:.2f}" for xs in col.parts) if col.parts[0] else "(in process)"
        cpu = f"{col.cpu / n * 1000:.1f}" + (f" +PG {col.pg_cpu / n * 1000:.1f}" if col.pg_target else "")
        spread = f"{min(col.ratios):.1f}–{max(col.ratios):.1f}×"
        print(f"  {col.name:16s} {med(col.times) * 1000:12.2f} {med(col.ratios):7.2f} {spread:>13s}   {parts:30s} {cpu if col.server else '':>13s}   "
              f"{col.what}")
    print(f"  (ms: medians over all {n} lifecycles of each; server CPU: the gunicorn worker's, per lifecycle, "
          f"from /proc in 10 ms ticks summed over all rounds)")
    layers(cols)
    print(f"  load average: at start {' '.join(f'{x:.2f}' for x in loads[0])}, at end "
          f"{' '.join(f'{x:.2f}' for x in loads[1])}")
    print("  reproduce (from the repo root):")
    print(f"    .venv/bin/python bench/floor.py {shlex.join(sys.argv[1:])}".rstrip() + "   # this run")
    if sys.argv[1:] != ["--pg"]:
        print("    .venv/bin/python bench/floor.py --pg   # SQLite and PostgreSQL")


def layers(cols: list[Column]) -> None:
    """What each step from one server to the next adds, in × raw; and where #14's target falls among them."""
    by = {col.name: med(col.ratios) for col in cols}
    steps = [("HTTP over gunicorn (F0 WSGI)", None, "F0 WSGI"), ("Flask (F0 Flask − F0 WSGI)", "F0 WSGI", "F0 Flask"),
             ("the engine, stateless (F1 − F0 Flask)", "F0 Flask", "F1 engine")]
    for db, short in (("SQLite", "SQLite"), ("PostgreSQL", "PG")):
        steps += [(f"durable + audited on {db} (F2 − F1)", "F1 engine", f"F2 {db}"),
                  (f"the rest of Sunlight on {db} (Sunlight − F2)", f"F2 {db}", f"Sunlight {short}")]
    print("  what each layer adds (differences of the median ratios, × raw):")
    for label, low, high in steps:
        if high in by and (low is None or low in by):
            print(f"    {label:52s} {by[high] - (by[low] if low else 0):+7.2f}×")
    floor = [c for c in cols if c.server and by[c.name] > TARGET_RATIO]
    if floor:
        print(f"  #14's target (≤ {TARGET_RATIO:.0f}× raw) is already exceeded by: "
              + ", ".join(f"{c.name} ({by[c.name]:.2f}×)" for c in floor))


# ---------------------------------------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=30, help="rounds (default 30)")
    ap.add_argument("--per-round", type=int, default=10, help="lifecycles of each column per round (default 10)")
    ap.add_argument("--warmup", type=int, default=5, help="warm-up lifecycles of each column (default 5)")
    ap.add_argument("--pg", nargs="?", const=DEFAULT_PG, default=None, metavar="URL",
                    help=f"also F2 and Sunlight on PostgreSQL, in databases of the bench's own (default {DEFAULT_PG})")
    ap.add_argument("--no-sqlite", action="store_true", help="F2 and Sunlight on PostgreSQL only")
    args = ap.parse_args()
    if args.no_sqlite and not args.pg:
        ap.error("--no-sqlite needs --pg")

    def stop(signum, _frame):  # unwind through the finally blocks that stop gunicorn and drop the databases
        raise SystemExit(f"stopped by signal {signum}")

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    t_all, load0 = perf(), os.getloadavg()
    print(f"Sunlight floor benchmark (#14) — {datetime.now().astimezone().isoformat(timespec='seconds')}; "
          f"cpu_count={os.cpu_count()}; load average {' '.join(f'{x:.2f}' for x in load0)}")
    xml = DIAGRAM.read_bytes()
    raw_once = raw_engine(xml, quiet=True)  # before `app` is imported (see raw_engine)
    _in_memory, seam_once = engine_layer_lifecycles(xml)
    tmp = Path(tempfile.mkdtemp(prefix="sunlight-floor-"))
    try:
        with contextlib.ExitStack() as stack:
            line("SERVERS")
            cols = columns(stack, tmp, args, seam_once)
            line(f"ROUNDS — {args.rounds} × ({args.per_round} raw, half before and half after, and {args.per_round} "
                 f"lifecycles of each column; order rotated), after {args.warmup} warm-up each")
            warm_up(raw_once, cols, args.warmup)
            raw_all = rounds(raw_once, cols, args.rounds, args.per_round)
            closed = sum(c.client.closed_by_server for c in cols if c.client)
            responses = sum(c.client.responses for c in cols if c.client)
            for col in cols:
                if col.client:
                    col.client.close()
        summary(args, cols, raw_all, [load0, os.getloadavg()])
        print(f"  connections: the servers closed {closed} of {responses} responses' connections (gunicorn's sync "
              f"worker does not keep alive; http.client reconnects), as in bench/lifecycle.py --gunicorn")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"total bench time {perf() - t_all:.1f} s")


if __name__ == "__main__":
    main()
