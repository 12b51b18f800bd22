"""Own profiled time grouped by where the code lives: a coarse answer to "where does the time go"."""
from __future__ import annotations

from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP = str(ROOT / "app")


def _bucket(filename: str, funcname: str) -> str:
    f = filename.replace("\\", "/")
    if "SpiffWorkflow" in f:
        return "SpiffWorkflow"
    if "/sqlalchemy/" in f:
        return "SQLAlchemy (ORM + core)"
    if "sqlite3" in f or "sqlite3" in funcname or "psycopg" in f:
        return "DB driver"
    if "/werkzeug/" in f or "/flask/" in f or "/flask_limiter/" in f or "/limits/" in f:
        return "Flask / Werkzeug"
    if f.startswith(APP):
        return "app/" + f[len(APP) + 1:].split("/")[0]
    if "gzip" in f or "zlib" in funcname:
        return "gzip/zlib"
    if "json" in f or "json" in funcname:
        return "json"
    if "lxml" in f:
        return "lxml"
    return "other (stdlib, builtins)"


def own_time_by_package(stats) -> tuple[float, list[tuple[str, float]]]:
    """(total seconds, [(package, seconds)] largest first) from a pstats.Stats."""
    buckets: Counter = Counter()
    for (filename, _lineno, funcname), (_cc, _nc, tt, _ct, _callers) in stats.stats.items():
        buckets[_bucket(filename, funcname)] += tt
    return sum(buckets.values()), buckets.most_common()
