"""Lifecycles/s with one and two gunicorn workers on the million-case database (issue 14, item 4), for bench/scale.py.

The same lifecycle as bench/lifecycle.py (create + 受理, 审查, 决定 on bpmn/licensing_demo.bpmn, every rule as
configured) and the same client processes (bench/lifecycle_http.py), but against the loaded district: the cases,
steps, notices and audit rows of a million cases sit beside every write. Three clerks of CA01 and one licensing
item are added to the district the first time (idempotent; their cases are a few hundred among a million).
"""
from __future__ import annotations

import contextlib
import io
import logging
import os
import tempfile
from pathlib import Path

from lifecycle_http import Target, throughput  # noqa: E402  (bench/ is on sys.path)

ROOT = Path(__file__).resolve().parents[1]
ITEM_NAME = "性能基准许可（bench）"
CLERKS = {"acc": ("bench_acc", ["受理岗"]), "rev": ("bench_rev", ["审查岗"]), "dec": ("bench_dec", ["决定岗"])}
ITEM = {"name": ITEM_NAME, "category": "licensing", "department": "CA01", "promised_days": 5, "statutory_days": 20,
        "accepting_authority": "区政务服务中心市场监管窗口", "implementing_body": "区市场监督管理局",
        "supervision_phone": "0510-12345678", "fee": "不收费", "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "materials": [{"name": "食品经营许可申请书", "required": True}]}


def bench_target(url: str) -> Target:
    """The clerks' fresh tokens and the bench item's code in the loaded database (both made when missing)."""
    from sqlalchemy import select

    from app import create_app, engine
    from app.catalog import service as catalog
    from app.catalog.models import PowerItem
    from app.definitions import service as definitions
    from app.orgs import service as orgs
    from app.orgs.models import User

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": os.environ["SECRET_KEY"]})
    logging.getLogger().setLevel(logging.WARNING)
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    tokens = {}
    try:
        with db.unit_of_work() as s, contextlib.redirect_stdout(io.StringIO()):
            for key, (username, posts) in CLERKS.items():
                user = s.scalar(select(User).where(User.username == username))
                user = user or orgs.create_user(s, username, "clerk", "CA01", posts, None, "bench")
                tokens[key] = orgs.issue_token(s, user, "bench")
            item = s.scalar(select(PowerItem).where(PowerItem.name == ITEM_NAME))
            if item is None:
                designer, legal = orgs.user_by_name(s, "designer"), orgs.user_by_name(s, "legal")
                item = catalog.create_item(s, designer, ITEM, settings.item_code_scheme)
                d = definitions.upload(s, designer, item.code, (ROOT / "bpmn" / "licensing_demo.bpmn").read_bytes(),
                                       limit=settings.max_bpmn_bytes, tz=settings.tz,
                                       limits=engine.limits_of(settings))
                definitions.submit(s, designer, d.id, settings.tz)
                definitions.review(s, legal, d.id, "approve", "基准测试用")
            code = item.code
    finally:
        db.engine.dispose()
    return Target("pg", url, "the million-case database", tokens=tokens, item_code=code)


def lifecycles_per_second(url: str, clients: int = 4, duration: float = 20.0, warm: int = 3) -> list[dict]:
    """lifecycles/s with 1 and then 2 sync workers (printed as they finish); the two results."""
    target = bench_target(url)
    with tempfile.TemporaryDirectory(prefix="sunlight-scale-") as tmp:
        results = [throughput(target, Path(tmp), workers, clients, duration, warm) for workers in (1, 2)]
    one, two = results
    ratio = two["rate"] / one["rate"] if one["rate"] else float("nan")
    print(f"  2 workers / 1 worker = {ratio:.2f}×  (target ≥ 1.7×: {'PASS' if ratio >= 1.7 else 'MISS'})")
    return results
