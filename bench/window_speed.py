"""Benchmark: does normal window work raise supervision cards? (the lawful-clocks issue: no crying wolf)

Run from the repo root:  .venv/bin/python bench/window_speed.py [--cases 50]
Loads the demo district into a fresh SQLite file, then works `--cases` cases of each demo flow (licence, penalty,
enforcement, levy, immediate item) through the case service the way a district works them: the window's steps
(收件, 受理, 送达, 当场办结) in 15–60 seconds, review and decision steps over hours. It prints, per flow, the
notices raised by what raised them, and beside them how many steps were completed in under 60 seconds.
`--every-step` names every user step of the five items for rule R01 at its default minimum (60 s): that is how
R01 behaved before it was limited to the steps an item names, so the two runs compare before and after.
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench")

FLOWS = {"licensing": "CA01-XK-0001", "penalty": "CA01-CF-0001", "enforcement": "CA01-QZ-0001",
         "levy": "CA01-ZS-0001", "other": "CA01-QT-0001"}
WINDOW_STEPS = {"Task_receive", "Task_accept", "Task_serve", "Task_handle", "Task_file", "Task_notice"}


def pace(bpmn_id: str, rng: random.Random) -> int:
    """Seconds a clerk spends on a step: the window is quick, review and decision take hours."""
    return rng.randint(15, 60) if bpmn_id in WINDOW_STEPS else rng.randint(2 * 3600, 6 * 3600)


def work(db, settings, item_code: str, rng: random.Random) -> tuple[str, int]:
    """One case from registration to its end; returns its number and how many steps took under 60 s."""
    from app import clock
    from app.cases import service as cases
    from app.demo import loader
    from app.orgs import service as orgs

    with db.unit_of_work() as s:
        window = orgs.user_by_name(s, "ca01_window")
        case, _ = cases.create_case(s, settings, window, {"item_code": item_code,
                                                          "applicant": {"name": "窗口申请人"}})
        case_no = case.case_no
    quick = 0
    while True:
        with db.unit_of_work() as s:
            case = cases.get_visible(s, orgs.user_by_name(s, "admin"), case_no)
            ready = [t for t in case.tasks if t.state == "ready" and t.kind == "user"]
            if not ready or case.status != "running":
                return case_no, quick
            task = ready[0]
            seconds = pace(task.bpmn_id, rng)
            quick += seconds < 60
            clock.advance(timedelta(seconds=seconds))
            clerk = orgs.clerks_for_lane(s, case.org_unit_id, task.lane)[0]
            decision = ({**loader.USUAL_DECISIONS[case.item.category], "legal_basis": case.item.legal_basis}
                        if task.bpmn_id == case.item.decision_step else None)  # the 决定 step decides (issue 13)
            cases.complete_task(s, settings, clerk, case_no, task.id, loader.USUAL_ANSWERS, "经审查，符合规定",
                                decision=decision)


def time_every_step(db, settings) -> None:
    """R01 on every user step of the benched items, at the rule's default minimum: the old behaviour."""
    from app import engine
    from app.catalog import service as catalog
    from app.definitions import service as definitions

    with db.unit_of_work() as s:
        for code in FLOWS.values():
            item = catalog.item_by_code(s, code)
            flow = definitions.bundle(definitions.published_for(s, item.id), settings.tz)
            item.min_step_seconds = {step: None for step in engine.user_steps(flow)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=50, help="cases per flow")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--every-step", action="store_true", help="R01 on every step, as before the change")
    args = parser.parse_args()

    from sqlalchemy import select

    from app import clock, create_app
    from app.cases.models import Case
    from app.cli import upgrade_database
    from app.demo import loader
    from app.supervision.models import SupervisionNotice

    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{Path(tmp) / 'bench.db'}",
                          "FILE_STORAGE_DIR": str(Path(tmp) / "files")})
        with app.app_context():
            upgrade_database()
        db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
        started = time.perf_counter()
        loader.load(db, settings, echo=lambda *_: None)
        print(f"demo loaded in {time.perf_counter() - started:.1f} s; {args.cases} cases per flow; R01 on "
              f"{'every step (as before)' if args.every_step else 'the steps each item names'}\n")
        if args.every_step:
            time_every_step(db, settings)
        rng = random.Random(args.seed)
        print(f"{'flow':<12} {'cases':>5} {'steps<60s':>9} {'notices':>7}  by source")
        try:
            for category, item_code in FLOWS.items():
                clock.travel_to(clock.now())
                made, quick = [], 0
                for _ in range(args.cases):
                    case_no, fast = work(db, settings, item_code, rng)
                    made.append(case_no)
                    quick += fast
                with db.unit_of_work() as s:
                    ids = list(s.scalars(select(Case.id).where(Case.case_no.in_(made))))
                    keys = list(s.scalars(select(SupervisionNotice.source_key)
                                          .where(SupervisionNotice.case_id.in_(ids))))
                by_source = Counter(":".join(k.split(":")[:2]) for k in keys)
                print(f"{category:<12} {len(made):>5} {quick:>9} {len(keys):>7}  {dict(by_source) or '-'}")
        finally:
            clock.travel_to(None)
        app.extensions["sunlight.db"].engine.dispose()


if __name__ == "__main__":
    main()
