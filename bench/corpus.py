"""Measure the shared BPMN corpus: how many diagrams deploy, why the others are refused, and how many run to the end.

Run from the repo root:  .venv/bin/python bench/corpus.py [--verbose] [CORPUS_DIR]

Each file goes through the same validation as an upload (engine.validate). A deployed diagram is then run in
memory by a patient robot, through the engine seam only: it completes every ready user step with no data,
completes every open external (service) task, delivers every message or signal a case waits for, and lets the
clock run to the next timer — until the case ends, or nothing is left that it could do (stuck), or the engine
refuses (a condition over data the robot never gave, for example). This is a measurement: it prints counts.
"""
from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app import clock, engine  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
LIMIT = 2 * 1024 * 1024
MAX_ROUNDS = 60

# Reason classes of a refusal, from the designer's message (first match wins).
REASONS = [
    ("several executable processes", r"several executable"),
    ("not executable", r"Executable"),
    ("expression outside the safe subset", r"is refused|JUEL|FEEL|XPath|method calls|not an offered function"),
    ("empty or missing condition", r"condition is empty|without condition"),
    ("unsupported element", r"Sunlight cannot run|not supported|no support"),
    ("call activity", r"call activit|calls process"),
    ("data store", r"data store"),
    ("timer value", r"timer"),
    ("start event", r"start event"),
    ("decision table", r"decision|DMN|dmn"),
    ("schema or structure", r"."),
]


def reason_class(message: str) -> str:
    return next(name for name, pattern in REASONS if re.search(pattern, message))


GUESSES = ["Yes", "No", 2, True]  # values the robot tries for a field a condition needs and nobody gave
MISSING = re.compile(r"'(\w+)' is not defined")


class Robot:
    """Works a case through the engine seam only, guessing the data fields a condition asks for."""

    def __init__(self, bundle):
        self.bundle, self.data, self.tried = bundle, {}, {}

    def guess(self, exc: engine.EngineError) -> bool:
        """Learn from an engine refusal: a missing field gets its first guess, a wrong-typed one the next."""
        missing = MISSING.search(exc.message)
        name = missing.group(1) if missing else next(reversed(self.tried), None)
        if name is None or (not missing and "Error" not in exc.message) or self.tried.get(name, -1) + 1 >= len(GUESSES):
            return False
        self.tried[name] = self.tried.get(name, -1) + 1
        self.data[name] = GUESSES[self.tried[name]]
        return True

    def start(self) -> engine.CaseRun:
        while True:
            try:
                return engine.CaseRun.start(self.bundle, dict(self.data), {})[0]
            except engine.EngineError as exc:
                if not self.guess(exc):
                    raise

    def act(self, run: engine.CaseRun, how) -> engine.CaseRun:
        """Do one thing on a fresh copy of the case (a refused action leaves nothing behind), guessing on."""
        blob = run.dump()
        while True:
            run = engine.CaseRun.load(blob, self.bundle, {})
            try:
                how(run)
                return run
            except engine.EngineError as exc:
                if not self.guess(exc):
                    raise

    def next_move(self, run: engine.CaseRun):
        for view in run.tasks():
            if view.state == "ready" and view.kind == "user":
                return lambda r, v=view: r.complete(v.id, dict(self.data))
            if view.state == "waiting" and view.kind == "external":
                return lambda r, v=view: r.complete_external(v.id, dict(self.data))
        waits = run.waits()
        if waits:
            return lambda r, w=waits[0]: r.deliver(w.name, dict(self.data))
        due = run.next_timer_due()
        if due is not None:
            clock.travel_to(max(due, clock.now()) + timedelta(seconds=1))
            return lambda r: r.refresh_timers()
        return None

    def drive(self) -> str:
        """'completed', 'stuck: …' or an engine refusal (raised)."""
        run = self.start()
        for _ in range(MAX_ROUNDS):
            if run.completed:
                return "completed"
            move = self.next_move(run)
            if move is None:
                kinds = Counter(f"{v.kind}:{v.state}" for v in run.tasks() if v.state in ("ready", "waiting"))
                return "stuck: " + (", ".join(sorted(kinds)) or "no open step")
            run = self.act(run, move)
        return "stuck: too many rounds"


def measure(corpus: Path, verbose: bool) -> None:
    files = sorted(corpus.rglob("*.bpmn"))
    refused, outcomes = Counter(), Counter()
    accepted = 0
    for path in files:
        rel = path.relative_to(corpus)
        clock.travel_to(datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc))
        try:
            deployable = engine.validate(path.read_bytes(), limit=LIMIT, tz=TZ)
        except engine.InvalidBpmn as exc:
            cls = reason_class(exc.problems[0].message)
            refused[cls] += 1
            if verbose:
                print(f"REFUSED  {rel}: [{cls}] {exc.problems[0].message[:150]}")
            continue
        accepted += 1
        bundle = engine.bundle_for(deployable.sha256, path.read_bytes(), deployable.process_id, TZ)
        robot = Robot(bundle)
        try:
            outcome = robot.drive()
            if robot.data and outcome == "completed":
                outcome = f"completed (given {robot.data})"
        except (engine.EngineError, engine.TaskNotReady, engine.TaskNotFound) as exc:
            outcome = f"engine: {getattr(exc, 'message', exc)}"[:160]
        outcomes[outcome.split(" ")[0].split(":")[0]] += 1
        if verbose:
            print(f"ACCEPTED {rel}: {outcome}")
    clock.travel_to(None)
    print(f"{len(files)} files: {accepted} accepted, {len(files) - accepted} refused")
    for cls, n in refused.most_common():
        print(f"  refused, {cls}: {n}")
    for what, n in outcomes.most_common():
        print(f"  accepted, {what}: {n}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", nargs="?", default=str(ROOT.parent / "shared" / "corpus"))
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    measure(Path(args.corpus), args.verbose)
