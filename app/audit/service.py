"""The audit trail: every operation appends a hash-chained event in the same transaction as the change.

Each stream (a case, a definition, the registry of people and items) is its own chain, so writers of
different cases never contend; the stream's head row is locked while appending, so a chain never forks.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime, timezone

from sqlalchemy import select
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
    if head is None:
        head = session.scalars(select(AuditStream).where(AuditStream.stream == stream).with_for_update()).first()
        if head is None:
            head = AuditStream(stream=stream, last_seq=0, last_hash=GENESIS)
            session.add(head)
        heads[stream] = head
    at = clock.now()
    seq = head.last_seq + 1
    digest = event_hash(head.last_hash, stream, seq, at, actor, action, case_id, task_bpmn_id, detail)
    insert_after_flush(session, AuditEvent.__table__, dict(
        stream=stream, seq=seq, at=at, actor=actor, action=action, case_id=case_id, task_bpmn_id=task_bpmn_id,
        detail=detail, prev_hash=head.last_hash, hash=digest))
    head.last_seq, head.last_hash = seq, digest


def lock_streams(session: Session, streams: list[str]) -> None:
    """Lock the heads of many streams in one query (the worker's batch of cases); record() then reads none."""
    heads = session.info.setdefault("audit_heads", {})
    wanted = sorted(set(streams) - heads.keys())  # a fixed order: two lockers never wait on each other in a cycle
    if wanted:
        for head in session.scalars(select(AuditStream).where(AuditStream.stream.in_(wanted))
                                    .order_by(AuditStream.stream).with_for_update()):
            heads[head.stream] = head


def case_stream(case_id: int) -> str:
    return f"case:{case_id}"


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
    heads = {h.stream: h for h in session.scalars(select(AuditStream))}
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
        if (head.last_seq, head.last_hash) != last:
            return Breach(stream, head.last_seq, None,
                          f"the chain ends at seq {last[0]} but its head says {head.last_seq} (events were deleted)")
    for stream in seen.keys() - heads.keys():
        return Breach(stream, None, None, "the stream has events but no head record")
    return None
