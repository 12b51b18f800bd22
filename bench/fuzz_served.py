"""Schemathesis against the served API (issue 10): gunicorn + PostgreSQL, counting server errors. Target: 0.

Run from the repo root:  .venv/bin/python bench/fuzz_served.py [--pg URL] [--minutes 10] [--workers 2]

Loads the demo district (departments, staff of every role, 668 items with published flows, cases in every state)
into a PostgreSQL schema of its own (dropped at the end, also on failure), issues API tokens to the district's
admin and to a clerk of CA01, and starts gunicorn as the README deploys it (`-c python:app.gunicorn_conf`,
2 sync workers) on a free port of 127.0.0.1, with its access log to a file. Schemathesis (its CLI) then reads the
served `/api/v1/openapi.json` and sends generated requests — valid and invalid, every phase — as the admin for the
first half of --minutes and as the clerk for the second half, with the checks of tests/e2e/test_api_properties.py
(no server error, status, body and content type as documented, 405 with Allow).

Prints the requests gunicorn answered and how many were 5xx (counted from its access log, the server's own
record), the 5xx by operation, and the distinct failures schemathesis reported, by operation and check. The
reports (gunicorn's error and access logs, the app's log, schemathesis' JUnit XML and output) stay in --keep DIR
when given; otherwise they go with the temporary directory.
"""
from __future__ import annotations

import argparse
import collections
import logging
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench-fuzz")

from bench.assessment import DEFAULT_PG, demo_district  # noqa: E402

BIN = Path(sys.executable).parent
CHECKS = "not_a_server_error,status_code_conformance,response_schema_conformance,content_type_conformance," \
         "unsupported_method"
CLERK = "ca01_window"  # a clerk of CA01 at the window (app/demo/loader.py CLERKS)
ACCESS_FORMAT = "%(s)s %(m)s %(U)s"  # status, method, path: one line per answered request


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _tokens(app) -> dict[str, str]:
    from app.orgs import service as orgs

    tokens = {}
    with app.extensions["sunlight.db"].unit_of_work() as s:
        for name in ("admin", CLERK):
            tokens[name] = orgs.issue_token(s, orgs.user_by_name(s, name), "bench")
    return tokens


def _start_gunicorn(url: str, port: int, workers: int, out: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": url, "FILE_STORAGE_DIR": str(out / "files"),
           # the fuzzer is one address: the public lookups' and sign-in's budgets would answer 429 to most of it
           "PUBLIC_QUERY_RATE": "100000/minute", "LOGIN_RATE": "100000/minute"}
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "-c", "python:app.gunicorn_conf", "--workers", str(workers),
         "--bind", f"127.0.0.1:{port}", "--access-logfile", str(out / "access.log"),
         "--access-logformat", ACCESS_FORMAT, "--error-logfile", str(out / "gunicorn.log"), "wsgi:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=(out / "app.log").open("w"), start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn exited: see {out / 'gunicorn.log'}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return server
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("gunicorn did not start listening in 60 s")


def _stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=40)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def _fuzz(port: int, token: str, seconds: int, workers: int, junit: Path, log: Path) -> int:
    command = [str(BIN / "schemathesis"), "run", f"http://127.0.0.1:{port}/api/v1/openapi.json",
               "-H", f"Authorization: Bearer {token}", "--checks", CHECKS, "--max-time", str(seconds),
               "--workers", str(workers), "--request-timeout", "60", "--no-color", "--continue-on-failure",
               "--suppress-health-check", "all", "--generation-database", "none",
               "--report", "junit", "--report-junit-path", str(junit)]
    with log.open("w") as output:
        return subprocess.run(command, cwd=junit.parent, stdout=output, stderr=subprocess.STDOUT).returncode


def _operation(method: str, path: str) -> str:
    """/api/v1/cases/SL-2026-000001/tasks/12/complete → POST /api/v1/cases/{…}/tasks/{…}/complete (roughly)."""
    path = path.split("?")[0]
    parts = ["{…}" if re.search(r"\d", p) or len(p) > 40 else p for p in path.split("/")]
    return f"{method} {'/'.join(parts)}"


def _access(log: Path) -> tuple[int, collections.Counter]:
    answered, errors = 0, collections.Counter()
    for line in log.read_text(errors="replace").splitlines():
        status, _, rest = line.partition(" ")
        if not status.isdigit():
            continue
        answered += 1
        if status.startswith("5"):
            method, _, path = rest.partition(" ")
            errors[(status, _operation(method, path))] += 1
    return answered, errors


def _crashes(log: Path) -> collections.Counter:
    """The exception ending each traceback the app logged (its stderr), by its last line."""
    found, lines = collections.Counter(), log.read_text(errors="replace").splitlines() if log.exists() else []
    for i, line in enumerate(lines):
        if line.startswith("Traceback"):
            j = i + 1
            while j < len(lines) and (lines[j].startswith((" ", "\t")) or not lines[j].strip()):
                j += 1
            found[lines[j][:160] if j < len(lines) else "?"] += 1
    return found


def _failures(junit: Path) -> list[tuple[str, str]]:
    """(operation, check) of every failing test case of the JUnit report (one test case = one operation)."""
    if not junit.exists():
        return []
    found = []
    for case in ET.parse(junit).getroot().iter("testcase"):
        for failure in list(case.iter("failure")) + list(case.iter("error")):
            text = (failure.get("message") or "") + "\n" + (failure.text or "")
            titles = re.findall(r"^\s*-\s+(.+?)\s*$", text, flags=re.M) or [text.strip().splitlines()[0][:120]]
            found.extend((case.get("name", "?"), title) for title in dict.fromkeys(titles))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=DEFAULT_PG)
    parser.add_argument("--minutes", type=float, default=10, help="the whole fuzzing time, split admin/clerk")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn's workers (schemathesis uses as many)")
    parser.add_argument("--keep", help="a directory to keep the logs and reports in")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # before create_app's: the demo's load logs every document it renders
    half = max(1, round(args.minutes * 60 / 2))
    tmp = Path(tempfile.mkdtemp(prefix="sl_fuzz_"))
    out = Path(args.keep).resolve() if args.keep else tmp
    out.mkdir(parents=True, exist_ok=True)
    try:
        # the served app must find the documents' bytes the demo issued: the same FILE_STORAGE_DIR for both
        with demo_district(args.pg, "sl_fuzz", SECRET_KEY=os.environ["SECRET_KEY"],
                           FILE_STORAGE_DIR=str(out / "files")) as (app, loaded):
            tokens = _tokens(app)
            print(f"demo district loaded in {loaded:.0f} s into {app.config['DATABASE_URL'].rsplit('%3D', 1)[-1]}")
            port = _free_port()
            server = _start_gunicorn(app.config["DATABASE_URL"], port, args.workers, out)
            codes = {}
            try:
                for name in ("admin", CLERK):
                    print(f"fuzzing as {name} for {half} s …", flush=True)
                    codes[name] = _fuzz(port, tokens[name], half, args.workers, out / f"junit-{name}.xml",
                                        out / f"schemathesis-{name}.log")
            finally:
                _stop(server)
            answered, errors = _access(out / "access.log")
            timeouts = (out / "gunicorn.log").read_text(errors="replace").count("WORKER TIMEOUT")
            print(f"\nrequests answered by gunicorn: {answered}")
            print(f"5xx answers: {sum(errors.values())}   (worker timeouts: {timeouts})")
            for (status, operation), n in errors.most_common():
                print(f"  {n:6d}  {status}  {operation}")
            for crash, n in _crashes(out / "app.log").most_common():
                print(f"  {n:6d}  traceback ending: {crash}")
            for name in ("admin", CLERK):
                failures = _failures(out / f"junit-{name}.xml")
                print(f"\nschemathesis as {name}: exit {codes[name]}, {len(failures)} distinct failures"
                      f" (operation × check)")
                for operation, check in sorted(set(failures)):
                    print(f"  {operation}: {check}")
            print(f"\ntarget: 0 server errors — {'PASS' if not errors else 'MISS'}")
    finally:
        if args.keep:
            print(f"logs and reports kept in {out}")
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
