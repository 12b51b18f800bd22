"""Database plumbing: the declarative base, the engine and a unit of work owning each transaction."""
from __future__ import annotations

from contextlib import contextmanager
from typing import Callable, Iterator, TypeVar

from datetime import datetime, timezone

from sqlalchemy import JSON, DateTime, MetaData, Table, TypeDecorator, create_engine, event, insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

T = TypeVar("T")

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite would otherwise hand back naive values)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; use app.clock")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict: JSON, list: JSON, datetime: UTCDateTime}


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # WAL: readers never block the writer
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA foreign_keys=ON")
            if ":memory:" not in url:
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
            cur.close()

        # pysqlite's own transaction handling defers BEGIN; take the write lock at BEGIN instead so
        # two writers serialize cleanly (busy timeout) instead of failing on lock upgrade.
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn, _record):
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin_immediate(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


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
    """Queue an append-only row (an audit event, a notice recipient) for one multi-row INSERT per table right
    after the next flush's own writes, so that what it references exists and has its id: `row` may be a
    function called then (e.g. to read a new notice's id). Plain rows, not ORM objects, because a batch
    of cases writes thousands of them; nothing reads them back except through a query, which flushes first.
    """
    session.info.setdefault("rows_after_flush", []).append((table, row))


def _write_queued_rows(session: Session) -> None:
    queued = session.info.pop("rows_after_flush", None)
    if not queued:
        return
    by_table: dict[Table, list[dict]] = {}
    for table, row in queued:
        by_table.setdefault(table, []).append(row() if callable(row) else row)
    for table, rows in by_table.items():
        session.connection().execute(insert(table), rows)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context) -> None:
    _write_queued_rows(session)


@event.listens_for(Session, "before_commit")
def _before_commit(session: Session) -> None:
    if session.info.get("rows_after_flush"):  # queued while nothing else changed: no flush would write them
        session.flush()
        _write_queued_rows(session)


@event.listens_for(Session, "after_soft_rollback")
def _forget_on_rollback(session: Session, _previous) -> None:
    """session.info is a transaction's working memory (audit heads, notices raised, memoised lookups, rows
    queued by insert_after_flush). Any rollback, of a savepoint too, forgets all of it, so work retried in
    the same session starts from the database's truth. (begin_nested flushes first, so nothing queued
    before a savepoint is lost with it.)"""
    session.info.clear()


class Database:
    """Owns the engine and hands out units of work (one transaction each)."""

    def __init__(self, url: str):
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """Commit when the block succeeds, roll back everything when it raises."""
        session = self.sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
