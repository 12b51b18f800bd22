"""The decision tables' part of the review diff (法制办审核 of 裁量基准): decisions and rules added, removed, changed.

Works on the tables as described at upload (DecisionFile.tables): decisions are matched by id across the files,
rules by id within a decision; a rule reads `when 违法所得: < 10000; 初次违法: - then fine = 5000`. Rows have the
shape of the diagram's diff (`old` is always the version diffed against).
"""
from __future__ import annotations

TABLE_FIELDS = ("name", "file", "hit_policy", "aggregation", "inputs", "outputs")


def _tables(files: list[list[dict]]) -> dict[str, dict]:
    return {table["id"]: table for tables in files for table in tables}


def _text(value) -> str | None:
    if value is None:
        return None
    return ", ".join(value) if isinstance(value, list) else str(value)


def _row(change: str, element_type: str, element_id: str, name: str | None, field=None, old=None, new=None) -> dict:
    return {"change": change, "element_id": element_id, "element_type": element_type, "name": name, "field": field,
            "old": _text(old), "new": _text(new)}


def diff(old_files: list[list[dict]], new_files: list[list[dict]]) -> list[dict]:
    """Changes from the old version's decision tables to the new one's (each argument: per file, its tables)."""
    old, new = _tables(old_files), _tables(new_files)
    rows = [_row("added", "decision", i, t["name"]) for i, t in new.items() if i not in old]
    rows += [_row("removed", "decision", i, t["name"]) for i, t in old.items() if i not in new]
    for did in (i for i in new if i in old):
        rows += _compare(old[did], new[did])
    return rows


def _compare(before: dict, after: dict) -> list[dict]:
    rows = [_row("changed", "decision", after["id"], after["name"], field, before.get(field), after.get(field))
            for field in TABLE_FIELDS if before.get(field) != after.get(field)]
    old_rules = {r["id"]: r for r in before["rules"]}
    new_rules = {r["id"]: r for r in after["rules"]}
    label = lambda r: f"{after['name']} #{r['number']}"  # noqa: E731
    rows += [_row("added", "decisionRule", i, label(r), "rule", None, r["text"]) for i, r in new_rules.items()
             if i not in old_rules]
    rows += [_row("removed", "decisionRule", i, label(r), "rule", r["text"], None) for i, r in old_rules.items()
             if i not in new_rules]
    rows += [_row("changed", "decisionRule", i, label(r), "rule", old_rules[i]["text"], r["text"])
             for i, r in new_rules.items() if i in old_rules and old_rules[i]["text"] != r["text"]]
    return rows
