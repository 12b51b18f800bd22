"""文号: unique and gap-free per department, kind and year.

One upsert (INSERT … ON CONFLICT DO UPDATE … RETURNING) creates the counter row at 1 or increments it, and holds
the row's lock until the issuing transaction ends: a concurrent issuer waits (on PostgreSQL also for a row that
another transaction is inserting) and takes the next number; a rolled-back one gives its number back. On SQLite
every writer holds the database lock (BEGIN IMMEDIATE) anyway.
"""
from __future__ import annotations

from sqlalchemy import bindparam
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import DocumentCounter

# The character a number carries for its kind (受理, 补正, 不予受理, 决定).
KIND_WORDS = {"acceptance_notice": "受", "supplement_notice": "补", "refusal_decision": "不受", "decision": "决"}


def next_serial(session: Session, org_unit_id: int, kind: str, year: int) -> int:
    statement = _NEXT[session.get_bind().dialect.name == "postgresql"]
    return session.execute(statement, {"org_unit_id": org_unit_id, "kind": kind, "year": year}).scalar_one()


def _next(insert):
    """Built once per dialect: every acceptance numbers its 受理通知书 (issue 14)."""
    table = DocumentCounter.__table__
    return (insert(table).values(org_unit_id=bindparam("org_unit_id"), kind=bindparam("kind"),
                                 year=bindparam("year"), last_serial=1)
            .on_conflict_do_update(index_elements=[table.c.org_unit_id, table.c.kind, table.c.year],
                                   set_={"last_serial": table.c.last_serial + 1})
            .returning(table.c.last_serial))


_NEXT = {True: _next(postgresql.insert), False: _next(sqlite.insert)}


def number(org_code: str, kind: str, year: int, serial: int) -> str:
    """e.g. CA01受〔2026〕7号: the department's code, the kind's word, the year, the serial."""
    return f"{org_code}{KIND_WORDS[kind]}〔{year}〕{serial}号"
