"""The audit trail: every operation appends a hash-chained event in the same transaction as the change.

Each stream (a case, a definition, the registry of people and items) is its own chain, so writers of
different cases never contend; the stream's head is locked while appending, so a chain never forks. A case's
head lives on its own row (cases.audit_seq/audit_hash), which every case action locks anyway: the action hands
it over with `hold_head`, so appending costs no query of its own. Other streams keep theirs in audit_streams.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import column, select, table
from sqlalchemy.orm import Session

from app import clock
from app.db_batch import insert_after_flush

from .models import AuditEvent, AuditStream

GENESIS = "0" * 64


def _canonical_time(at: datetime) -> str:
    return at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(prev_hash: str, stream: str, seq: int, at: datetime, actor: str, action: str,
               case_id: int | None, task_bpmn_id: str | None, detail: dict) -> str:
    body = json.dumps([prev_hash, stream, seq, _canonical_time(at), actor, action, case_id, task_bpmn_id, detail],
                      sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def record(session: Session, stream: str, action: str, actor: str, *, case_id: int | None = None,
           task_bpmn_id: str | None = None, detail: dict | None = None) -> None:
    """Append one event to `stream` (server time; the caller's transaction commits it with the change).

    The event is hashed now and written at the next flush (app.db_batch.insert_after_flush); a rollback forgets
    it with the rest of the transaction.
    """
    detail = json.loads(json.dumps(detail or {}, default=str))  # store exactly what was hashed
    heads = session.info.setdefault("audit_heads", {})  # one locked read of a head per transaction
    head = heads.get(stream)
    if head is None and stream.startswith(CASE_PREFIX):  # not held: read at each append, kept nowhere that a
        head = _CaseRowHead(session, int(stream[len(CASE_PREFIX):]))  # rolled-back savepoint could leave stale
    elif head is None:
        head = heads[stream] = _locked_head(session, stream)
    at = clock.now()
    seq = head.last_seq + 1
    digest = event_hash(head.last_hash, stream, seq, at, actor, action, case_id, task_bpmn_id, detail)
    insert_after_flush(session, AuditEvent.__table__, dict(
        stream=stream, seq=seq, at=at, actor=actor, action=action, case_id=case_id, task_bpmn_id=task_bpmn_id,
        detail=detail, prev_hash=head.last_hash, hash=digest))
    head.last_seq, head.last_hash = seq, digest


def _locked_head(session: Session, stream: str) -> AuditStream:
    head = session.scalars(select(AuditStream).where(AuditStream.stream == stream).with_for_update()).first()
    if head is None:
        head = AuditStream(stream=stream, last_seq=0, last_hash=GENESIS)
        session.add(head)
    return head


CASE_PREFIX = "case:"
# The two columns of the cases table that hold a case chain's head (a table clause, not the cases model: the
# audit room sits below cases and knows only where the head is kept).
_CASE_HEADS = table("cases", column("id"), column("audit_seq"), column("audit_hash"))


class HeldHead:
    """A case chain's head on the case's row, as locked and loaded by the action (`hold_head`)."""

    __slots__ = ("row",)

    def __init__(self, row) -> None:
        self.row = row

    last_seq = property(lambda self: self.row.audit_seq, lambda self, v: setattr(self.row, "audit_seq", v))
    last_hash = property(lambda self: self.row.audit_hash, lambda self, v: setattr(self.row, "audit_hash", v))


class _CaseRowHead:
    """A case chain's head for a writer that did not lock the case as an action (e.g. a document rendered on a
    download): the row's two columns locked here and written back at each append."""

    def __init__(self, session: Session, case_id: int) -> None:
        seq, digest = session.execute(select(_CASE_HEADS.c.audit_seq, _CASE_HEADS.c.audit_hash)
                                      .where(_CASE_HEADS.c.id == case_id).with_for_update()).one()
        for name, value in (("session", session), ("case_id", case_id), ("last_seq", seq), ("last_hash", digest)):
            object.__setattr__(self, name, value)

    def __setattr__(self, name, value) -> None:
        object.__setattr__(self, name, value)
        if name == "last_hash":  # set after last_seq by record(): both are new now
            self.session.execute(_CASE_HEADS.update().where(_CASE_HEADS.c.id == self.case_id)
                                 .values(audit_seq=self.last_seq, audit_hash=value))


def hold_head(session: Session, case) -> None:
    """The case's row is locked by this transaction: its chain's head is read and moved there, with no query
    (and with the row's own update). Call it whenever an action locks and loads a case."""
    session.info.setdefault("audit_heads", {})[case_stream(case.id)] = HeldHead(case)


def case_stream(case_id: int) -> str:
    return f"{CASE_PREFIX}{case_id}"


def events_of_case(session: Session, case_id: int) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.stream == case_stream(case_id))
                                .order_by(AuditEvent.seq)))


@dataclass(frozen=True)
class Breach:
    stream: str
    seq: int | None
    event_id: int | None
    reason: str

    def __str__(self) -> str:
        where = f"event id {self.event_id} (stream {self.stream}, seq {self.seq})" if self.event_id else f"stream {self.stream}"
        return f"{where}: {self.reason}"


def verify(session: Session, batch: int = 5000) -> Breach | None:
    """Walk every chain; return the first bad record, or None when the whole trail is intact."""
    heads = {h.stream: (h.last_seq, h.last_hash) for h in session.scalars(select(AuditStream))}
    heads.update((case_stream(r.id), (r.audit_seq, r.audit_hash)) for r in session.execute(
        select(_CASE_HEADS).where(_CASE_HEADS.c.audit_seq > 0)))
    seen: dict[str, tuple[int, str]] = {}
    last_id = 0
    while True:
        rows = list(session.scalars(select(AuditEvent).where(AuditEvent.id > last_id)
                                    .order_by(AuditEvent.id).limit(batch)))
        if not rows:
            break
        for ev in rows:
            last_id = ev.id
            prev_seq, prev_hash = seen.get(ev.stream, (0, GENESIS))
            if ev.seq != prev_seq + 1:
                return Breach(ev.stream, ev.seq, ev.id, f"sequence jumps from {prev_seq} to {ev.seq} (an event was deleted)")
            if ev.prev_hash != prev_hash:
                return Breach(ev.stream, ev.seq, ev.id, "it does not link to the event before it")
            expected = event_hash(prev_hash, ev.stream, ev.seq, ev.at, ev.actor, ev.action, ev.case_id,
                                  ev.task_bpmn_id, ev.detail)
            if ev.hash != expected:
                return Breach(ev.stream, ev.seq, ev.id, "its content does not match its hash (it was edited)")
            seen[ev.stream] = (ev.seq, ev.hash)
    for stream, head in heads.items():
        last = seen.get(stream, (0, GENESIS))
        if head != last:
            return Breach(stream, head[0], None,
                          f"the chain ends at seq {last[0]} but its head says {head[0]} (events were deleted)")
    for stream in seen.keys() - heads.keys():
        return Breach(stream, None, None, "the stream has events but no head record")
    return None
