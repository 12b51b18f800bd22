"""Issuing documents on a case, finding them, and checking a copy against the record (文书核验).

`issue` runs inside the case action's transaction (a reaction to its event): the number is taken from the
counter (locked until that transaction ends), the template filled in, the row added with that markup and the
markup's hash put in the case's audit trail — all or nothing, like the action itself. The PDF is rendered from
the markup after the action (`render_pending`, called by the timer worker, or `rendered` on the first request
that needs the bytes or their hash), and its hash goes into the trail then: a 0.1–0.3 s render does not hold the
case lock, and what the PDF says was fixed, tamper-evidently, when the document was issued.
"""
from __future__ import annotations

import hashlib
import hmac
import logging
import secrets
import time
from datetime import datetime
from pathlib import Path
from weakref import WeakKeyDictionary

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, undefer

from app import clock
from app.audit import service as audit
from app.cases import files
from app.cases.decision_models import CaseDecision
from app.cases.decisions import OUTCOME_LABELS
from app.cases.models import Case
from app.errors import NotFound
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User
from app.settings import Settings

from . import numbering, render
from .models import Document

log = logging.getLogger("sunlight.documents")
CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read off paper
TITLES = {"acceptance_notice": "受理通知书", "supplement_notice": "补正材料通知书",
          "refusal_decision": "不予受理决定书"}
DECISION_TITLES = {"granted": "准予行政许可决定书", "denied": "不予行政许可决定书", "penalty": "行政处罚决定书",
                   "no_penalty": "不予行政处罚决定书", "other": "行政决定书"}
UNIT_WORDS = {"working": "个工作日", "natural": "日"}
_warned: list[str] = []


def _day(value: datetime | None, settings: Settings) -> str:
    if value is None:
        return ""
    d = value.astimezone(settings.tz)
    return f"{d.year}年{d.month}月{d.day}日"


def _context(case: Case, org: OrgUnit, settings: Settings, now: datetime) -> dict:
    item = case.item
    return {
        "department": org.name, "issued_on": _day(now, settings), "verify_path": "/verify",
        "applicant": (case.applicant or {}).get("name", ""),
        "item": {"name": item.name, "legal_basis": item.legal_basis, "accepting_authority": item.accepting_authority,
                 "supervision_phone": item.supervision_phone},
        "case": {"case_no": case.case_no, "received_on": _day(case.created_at, settings),
                 "accepted_on": _day(case.accepted_at, settings),
                 "promised": f"{item.promised_days}{UNIT_WORDS[item.promised_unit]}",
                 "statutory": f"{item.statutory_days}{UNIT_WORDS[item.statutory_unit]}",
                 "promised_due_on": _day(case.promised_due_at, settings),
                 "statutory_due_on": _day(case.statutory_due_at, settings)}}


def _decision_context(decision, case: Case, settings: Settings) -> dict:
    return {"decision": {"outcome": decision.outcome, "summary": decision.summary,
                         "legal_basis": decision.legal_basis, "amount": decision.amount},
            "outcome_label": OUTCOME_LABELS[decision.outcome][0],
            "amount": f"{decision.amount:,.2f}" if decision.amount is not None else "",
            "decided_on": _day(decision.decided_at, settings), "reviewed": decision.reviewed_at is not None,
            "reviewed_on": _day(decision.reviewed_at, settings),
            "party_role": "申请人" if case.item.category == "licensing" else "当事人"}


def issue(session: Session, settings: Settings, case: Case, kind: str, *, decision=None, **extra) -> Document | None:
    """Number, render, store and record one document of `kind` on the case (None when no renderer is here)."""
    reason = render.unavailable_because()
    if reason:
        if reason not in _warned:
            _warned.append(reason)
            log.error("documents are not issued: %s", reason)
        return None
    org = session.get(OrgUnit, case.org_unit_id)
    now = clock.now()
    year = now.astimezone(settings.tz).year
    context = {**_context(case, org, settings, now), **extra}
    if decision is not None:
        context.update(_decision_context(decision, case, settings))
    title = DECISION_TITLES[decision.outcome] if kind == "decision" else TITLES[kind]
    serial = numbering.next_serial(session, org.id, kind, year)
    number = numbering.number(org.code, kind, year, serial)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    markup = render.html(kind, {**context, "title": title, "number": number, "verification_code": code},
                         settings.document_templates_dir)
    doc = Document(case_id=case.id, org_unit_id=org.id, kind=kind, year=year, serial=serial, number=number,
                   created_at=now, markup=markup, verification_code=code, status="valid",
                   decision_id=decision.id if decision is not None else None)
    session.add(doc)
    session.flush()
    audit.record(session, audit.case_stream(case.id), "document_issued", "system", case_id=case.id,
                 detail={"document_id": doc.id, "kind": kind, "number": number, "title": title,
                         "markup_sha256": hashlib.sha256(markup.encode()).hexdigest()})
    return doc


def rendered(session: Session, settings: Settings, doc: Document) -> Document:
    """The document with its PDF rendered, stored and its hash in the trail (rendered now if it was not yet).

    The row is locked while rendering, so two requests (or a request and the worker) render it once."""
    if doc.sha256 is not None:
        return doc
    locked = session.scalar(select(Document).where(Document.id == doc.id).with_for_update()
                            .execution_options(populate_existing=True).options(undefer(Document.markup)))
    if locked.sha256 is not None:
        return locked
    pdf = render.pdf(locked.markup)
    sha256, key = files.store_bytes(settings, pdf)  # before the row: a crash leaves an orphan file, never a row without bytes
    locked.sha256, locked.storage_key, locked.size = sha256, key, len(pdf)
    audit.record(session, audit.case_stream(locked.case_id), "document_rendered", "system", case_id=locked.case_id,
                 detail={"document_id": locked.id, "number": locked.number, "sha256": sha256, "size": len(pdf)})
    return locked


def render_pending(db, settings: Settings, seconds: float = 0.5) -> int:
    """Render documents issued but not rendered yet, oldest first, each in its own transaction, for about
    `seconds` (a worker's sweep must not keep timers waiting); returns how many were rendered."""
    if render.unavailable_because():
        return 0
    done, deadline, failed = 0, time.monotonic() + seconds, _failed.setdefault(db.engine, set())
    while time.monotonic() < deadline:
        query = select(Document).where(Document.sha256.is_(None), Document.id.not_in(failed)) \
            .order_by(Document.id).limit(1)
        doc_id = None
        try:
            with db.unit_of_work() as s:
                doc = s.scalar(query.with_for_update(skip_locked=True) if db.is_postgres else query)
                if doc is None:
                    break
                doc_id = doc.id
                rendered(s, settings, doc)
        except Exception:  # noqa: BLE001 — a template that fails must not stop the worker's timers
            if doc_id is None:  # the database, not the document: the worker's own handling applies
                raise
            log.exception("document %s could not be rendered; left pending (it renders when first asked for)", doc_id)
            failed.add(doc_id)
            continue
        done += 1
    return done


# Per database: the documents this process could not render, so a sweep does not retry them every half second.
_failed: WeakKeyDictionary = WeakKeyDictionary()


def title_of(session: Session, doc: Document) -> str:
    if doc.kind != "decision":
        return TITLES[doc.kind]
    outcome = session.scalar(select(CaseDecision.outcome).where(CaseDecision.id == doc.decision_id))
    return DECISION_TITLES.get(outcome, "行政决定书")


def of_case(session: Session, case_id: int) -> list[Document]:
    return list(session.scalars(_OF_CASE, {"case_id": case_id}))


_OF_CASE = select(Document).where(Document.case_id == bindparam("case_id")).order_by(Document.id)  # built once


def visible(session: Session, viewer: User, document_id: int) -> Document:
    """The document if the viewer can see its case's org unit; 404 otherwise, exactly as for an unknown id."""
    doc = session.get(Document, document_id)
    if doc is None or not orgs.can_see(viewer, session.get(OrgUnit, doc.org_unit_id)):
        raise NotFound(f"no document {document_id}")
    return doc


def path(session: Session, settings: Settings, doc: Document) -> Path:
    """The PDF on disk (rendered first if it was not yet), re-checked against its recorded hash."""
    doc = rendered(session, settings, doc)
    return files.stored_path(settings, doc.storage_key, doc.sha256, "document")


def of_decision(session: Session, decision_id: int) -> Document | None:
    return session.scalar(select(Document).where(Document.decision_id == decision_id, Document.kind == "decision")
                          .order_by(Document.id.desc()).limit(1))


def set_status(session: Session, doc: Document, status: str, reason: str, actor: str) -> None:
    """A document stops being in force (superseded by a later one, or its decision withdrawn): audited."""
    if doc.status == status:
        return
    doc.status, doc.status_reason = status, reason
    audit.record(session, audit.case_stream(doc.case_id), f"document_{status}", actor, case_id=doc.case_id,
                 detail={"document_id": doc.id, "number": doc.number, "reason": reason})


def supersede_decisions(session: Session, case_id: int, keep_id: int) -> None:
    """A new 决定书 on the case: the earlier ones are no longer in force."""
    for doc in session.scalars(select(Document).where(Document.case_id == case_id, Document.kind == "decision",
                                                      Document.status == "valid", Document.id != keep_id)):
        set_status(session, doc, "superseded", "a later decision replaced it", "system")


def verify(session: Session, number: str | None, code: str | None) -> Document:
    """The document a paper copy names, by its number and verification code; an unknown number and a wrong
    code answer the same NotFound."""
    number, code = (number or "").strip()[:100], (code or "").strip().upper()[:16]
    doc = session.scalar(select(Document).where(Document.number == number)) if number else None
    # compare_digest takes text of ASCII only (TypeError otherwise): bytes, so any code typed is just wrong
    if doc is None or not code or not hmac.compare_digest(doc.verification_code.encode(), code.encode()):
        raise NotFound("no document with this number and verification code")
    return doc
