"""文号: unique and gap-free per department, kind and year.

The counter row is created if missing (an insert that does nothing when another transaction made it first)
and then incremented with one UPDATE … RETURNING, which holds the row's lock until the issuing transaction
ends: a concurrent issuer waits and takes the next number; a rolled-back one gives its number back. On SQLite
every writer holds the database lock (BEGIN IMMEDIATE) anyway.
"""
from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from .models import DocumentCounter

# The character a number carries for its kind (受理, 补正, 不予受理, 决定).
KIND_WORDS = {"acceptance_notice": "受", "supplement_notice": "补", "refusal_decision": "不受", "decision": "决"}


def next_serial(session: Session, org_unit_id: int, kind: str, year: int) -> int:
    table = DocumentCounter.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(table).values(org_unit_id=org_unit_id, kind=kind, year=year, last_serial=0)
                    .on_conflict_do_nothing())
    return session.execute(update(table).where(table.c.org_unit_id == org_unit_id, table.c.kind == kind,
                                               table.c.year == year)
                           .values(last_serial=table.c.last_serial + 1).returning(table.c.last_serial)).scalar_one()


def number(org_code: str, kind: str, year: int, serial: int) -> str:
    """e.g. CA01受〔2026〕7号: the department's code, the kind's word, the year, the serial."""
    return f"{org_code}{KIND_WORDS[kind]}〔{year}〕{serial}号"
