"""A transaction's working memory and batch writes: what lets the timer worker handle a hundred due cases in
a few statements while every service function keeps writing as if it handled one.

- transaction_memo: lookups asked once per transaction;
- insert_after_flush: append-only rows (audit events, notice recipients) written in bulk after a flush;
- write_versioned_rows: many changed rows of one class in multi-row UPDATEs, version-checked;
- any rollback, of a savepoint too, forgets all of it (session.info).
"""
from __future__ import annotations

from typing import Callable, TypeVar

from sqlalchemy import Table, bindparam, event, insert, inspect
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

T = TypeVar("T")


def transaction_memo(session: Session, key: tuple, compute: Callable[[], T]) -> T:
    """`compute()` once per unit of work (every session here is one transaction, see Database.unit_of_work).

    For lookups that a transaction never changes while it reads them (who holds a post, a definition's spec
    reference), so that a batch of cases asks the database once instead of once per case.
    """
    memo = session.info.setdefault("memo", {})
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def insert_after_flush(session: Session, table: Table, row: dict | Callable[[], dict]) -> None:
    """Queue an append-only row (an audit event, a notice recipient) for one multi-row write per table (COPY on
    PostgreSQL) right after the next flush's own writes, so that what it references exists and has its id: `row` may be a
    function called then (e.g. to read a new notice's id). Plain rows, not ORM objects, because a batch
    of cases writes thousands of them; nothing reads them back except through a query, which flushes first.
    """
    session.info.setdefault("rows_after_flush", []).append((table, row))


def _write_queued_rows(session: Session) -> None:
    queued = session.info.pop("rows_after_flush", None)
    if not queued:
        return
    by_table: dict[tuple[Table, tuple], list[dict]] = {}
    for table, row in queued:
        row = row() if callable(row) else row
        by_table.setdefault((table, tuple(row)), []).append(row)
    connection = session.connection()
    for (table, columns), rows in by_table.items():
        if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
            _copy_rows(connection, table, columns, rows)
        else:
            connection.execute(insert(table), rows)


def _copy_rows(connection, table: Table, columns: tuple, rows: list[dict]) -> None:
    """PostgreSQL's COPY: a third of the time of a multi-row INSERT for the hundreds of rows a worker batch
    queues. Values go through the columns' own bind processing (JSON text, UTC times), as an INSERT's would."""
    processors = [table.c[name].type.bind_processor(connection.dialect) for name in columns]
    names = ", ".join(connection.dialect.identifier_preparer.quote(name) for name in columns)
    target = connection.dialect.identifier_preparer.format_table(table)
    with connection.connection.driver_connection.cursor() as cursor:
        with cursor.copy(f"COPY {target} ({names}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row([p(v) if p else v for p, v in zip(processors, row.values())])


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    _write_queued_rows(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get("rows_after_flush"):  # queued while nothing else changed: no flush would write them
        session.flush()
        _write_queued_rows(session)


def write_versioned_rows(session: Session, objects: list, version_key: str) -> bool:
    """UPDATE the changed columns of these persistent objects (one mapped class) in multi-row statements,
    grouped by which columns changed, then mark the values committed so the next flush skips them.

    For a batch of many similar rows (the worker's cases) this is a few statements instead of the ORM's one
    per versioned row. Each row is checked against the version it was read at and the version bumped, as the
    ORM's own check would; returns False as soon as a row was changed meanwhile (the caller must roll back).
    """
    groups: dict[frozenset, list[tuple[object, dict]]] = {}
    for obj in objects:
        state = inspect(obj)
        if not state.persistent or not state.committed_state:
            continue
        columns = state.mapper.column_attrs
        changed = {key: state.dict[key] for key in state.committed_state if key in columns and key != version_key}
        if changed:
            groups.setdefault(frozenset(changed), []).append((obj, changed))
    for keys, rows in groups.items():
        mapper = inspect(rows[0][0]).mapper
        [pk] = mapper.primary_key
        version = mapper.column_attrs[version_key].columns[0]
        values = {mapper.column_attrs[k].columns[0]: bindparam(f"v_{k}") for k in keys}
        stmt = (mapper.local_table.update()
                .where(pk == bindparam("w_pk"), version == bindparam("w_version"))
                .values({**values, version: bindparam("w_next")}))
        params = [{**{f"v_{k}": v for k, v in changed.items()}, "w_pk": mapper.primary_key_from_instance(obj)[0],
                   "w_version": getattr(obj, version_key), "w_next": getattr(obj, version_key) + 1}
                  for obj, changed in rows]
        if session.connection().execute(stmt, params).rowcount != len(params):
            return False
        for obj, changed in rows:
            for key, value in changed.items():
                set_committed_value(obj, key, value)
            set_committed_value(obj, version_key, getattr(obj, version_key) + 1)
    return True


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous) -> None:
    """session.info is a transaction's working memory (audit heads, notices raised, memoised lookups, rows
    queued by insert_after_flush). Any rollback, of a savepoint too, forgets all of it, so work retried in
    the same session starts from the database's truth. (begin_nested flushes first, so nothing queued
    before a savepoint is lost with it.)"""
    session.info.clear()
