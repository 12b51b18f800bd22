"""Benchmark: load the demo district, then list and search its 668 powers through the public API.

Run from the repo root:  .venv/bin/python bench/catalogue.py [--pg URL] [--repeat N]
Prints the load time (whole demo: orgs, staff, 668 items with published flows, cases in every state) and
the median / p90 of the public catalogue calls, on SQLite (and on PostgreSQL when --pg is given).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("SECRET_KEY", "bench")

QUERIES = [
    ("first page (20)", "/public/api/v1/items"),
    ("all 668 in one page", "/public/api/v1/items?per_page=1000"),
    ("search 食品", "/public/api/v1/items?q=%E9%A3%9F%E5%93%81"),
    ("penalties of CA01", "/public/api/v1/items?category=penalty&department=CA01"),
    ("search, no hit", "/public/api/v1/items?q=zzzz"),
    ("open data JSON", "/public/api/v1/items.json"),
    ("open data CSV", "/public/api/v1/items.csv"),
    ("one item", "/public/api/v1/items/CA01-XK-0001"),
]


def _pg_url(base: str):
    from sqlalchemy import create_engine, text

    schema = f"sl_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in base else "?"

    def drop():
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()

    return f"{base}{sep}options=-csearch_path%3D{schema}", drop


def run(label: str, url: str, repeat: int) -> None:
    from app import create_app
    from app.cli import upgrade_database
    from app.demo import loader

    app = create_app({"DATABASE_URL": url, "PUBLIC_QUERY_RATE": "100000/minute"})
    with app.app_context():
        upgrade_database()
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    t0 = time.perf_counter()
    loader.load(db, settings, echo=lambda *_: None)
    load_s = time.perf_counter() - t0
    print(f"\n── {label} ──")
    print(f"  demo district loaded in {load_s:.1f} s (668 items, each uploaded, validated, submitted, approved)")
    client = app.test_client()
    for name, path in QUERIES:
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            resp = client.get(path)
            times.append((time.perf_counter() - t) * 1000)
            assert resp.status_code == 200, (path, resp.status_code)
        times.sort()
        body = resp.get_json(silent=True)
        total = body.get("total") if isinstance(body, dict) and "total" in body else "-"
        print(f"  {name:24s} median {statistics.median(times):7.2f} ms   p90 {times[int(len(times) * 0.9) - 1]:7.2f} ms"
              f"   total={total}")
    db.engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg", default=None, help="also on this PostgreSQL URL (a schema is made and dropped)")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    print(f"Sunlight catalogue benchmark — python {platform.python_version()}, {os.cpu_count()} cpu")
    with tempfile.TemporaryDirectory() as tmp:
        run("SQLite", f"sqlite:///{tmp}/bench.db", args.repeat)
    if args.pg:
        url, drop = _pg_url(args.pg)
        try:
            run("PostgreSQL", url, args.repeat)
        finally:
            drop()


if __name__ == "__main__":
    main()
