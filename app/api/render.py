"""JSON shapes of the contract (CONTRACT.md): one function per resource, used by every endpoint."""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import bindparam, exists, select
from sqlalchemy.orm import Session

from app import clock, engine
from app.calendar import service as calendar
from app.cases import clock_stops, clocks, decisions, external, stops
from app.cases import materials as case_materials
from app.cases import service as cases_service
from app.cases.decision_models import CaseDecision
from app.cases.files_models import CaseFile
from app.cases.models import OPEN_STATUSES, Case, CaseMaterialRecord
from app.catalog.models import PowerItem
from app.definitions import service as definitions
from app.definitions.models import ProcessDefinition
from app.disclosure import service as disclosure
from app.documents import service as documents
from app.documents.models import Document
from app.messages import service as messages
from app.orgs.models import OrgUnit, User
from app.settings import Settings
from app.supervision import deadlines as sup_deadlines
from app.supervision import service as supervision
from app.supervision.models import SupervisionNotice
from app.supervision.reasons import Reason


def iso(value: datetime | None) -> str | None:
    """ISO-8601 with the offset of the configured TIMEZONE (what clerks and citizens read)."""
    return value.astimezone(current_app.extensions["sunlight.settings"].tz).isoformat() if value else None


LIMIT_FIELDS = ("promised_unit", "statutory_unit", "clock_start_step", "max_extensions", "max_extension_days",
                "supplement_step", "allows_deferred", "pledge_verify_days", "decision_step", "major_decision",
                "decision_publication")


def jsonable(value):
    """A service's answer with its datetimes as ISO-8601 in the configured TIMEZONE, as every JSON answer has."""
    if isinstance(value, datetime):
        return iso(value)
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    return value


def item(it: PowerItem) -> dict:
    return {"code": it.code, "name": it.name, "category": it.category, "department": it.org_unit.code,
            "department_name": it.org_unit.name, "promised_days": it.promised_days,
            "statutory_days": it.statutory_days, "accepting_authority": it.accepting_authority,
            "implementing_body": it.implementing_body, "supervision_phone": it.supervision_phone, "fee": it.fee,
            "legal_basis": it.legal_basis, "materials": it.materials, "kind": it.kind, "warn_days": it.warn_days,
            "special_procedures": it.special_procedures, "status": it.status, "status_reason": it.status_reason,
            **{f: getattr(it, f) for f in LIMIT_FIELDS}, "min_step_seconds": it.min_step_seconds or {}}


def public_item(it: PowerItem) -> dict:
    out = item(it)
    for private in ("status", "status_reason", "warn_days", "clock_start_step", "supplement_step", "min_step_seconds",
                    "max_extensions", "max_extension_days", "decision_step", "major_decision",
                    "decision_publication"):
        out.pop(private)
    out["flow_url"] = f"/public/api/v1/items/{it.code}/bpmn"
    return out


def definition(d: ProcessDefinition) -> dict:
    return {"id": d.id, "item_code": d.item.code, "version": d.version, "status": d.status,
            "process_id": d.process_id, "sha256": d.sha256, "warnings": d.warnings,
            "uploaded_at": iso(d.uploaded_at), "submitted_at": iso(d.submitted_at),
            "reviewed_at": iso(d.reviewed_at), "review_comment": d.review_comment,
            "element_comments": d.element_comments,
            "published_at": iso(d.published_at),
            "dmn": [{"id": f.id, "file": f.filename, "sha256": f.sha256, "tables": f.tables} for f in d.decision_files],
            "calls": [{"process_id": c.process_id, "definition_id": c.called_definition_id,
                       "item_code": c.called.item.code, "version": c.called.version} for c in d.calls]}


def deadlines(session: Session, settings: Settings, case: Case) -> dict:
    """The two clocks as stored, the days left (frozen while the clock is stopped) and the card.

    `remaining_working_days` counts working days whatever the unit; `remaining_days` counts in the promised
    clock's own unit (calendar days for a penalty), which is what the applicant is promised.
    """
    now = clock_stops.frozen_at(session, case) or clock.now()
    return _deadlines(calendar.load(session, settings.tz), now, case)


def _deadlines(cal, now: datetime, case: Case) -> dict:
    started = case.accepted_at is not None
    left = left_in_unit = None
    if case.promised_due_at and case.status in OPEN_STATUSES:
        left = cal.working_days_left(now, case.promised_due_at)
        left_in_unit = cal.days_left(now, case.promised_due_at, case.item.promised_unit)
    card = _card_at(case, now)
    out = {"started": started, "promised_due_at": iso(case.promised_due_at),
           "statutory_due_at": iso(case.statutory_due_at), "warn_at": iso(case.warn_at),
           "remaining_working_days": left, "remaining_days": left_in_unit, "card": card,
           "promised_unit": case.item.promised_unit, "statutory_unit": case.item.statutory_unit,
           "calendar_complete": case.calendar_complete, "accepted_at": iso(case.accepted_at),
           "clock_start_step": case.clock_start_step, "extension_days": case.extension_days,
           "suspended_days": case.suspended_days, "suspended_natural_days": case.suspended_natural_days,
           "clock_stopped": case.status == "suspended"}
    if not case.calendar_complete:
        out["calendar_note"] = ("the deadline runs into a year without a working-day calendar; "
                                "it was counted on weekends alone (provisional)")
    return out


def _card_at(case, now: datetime) -> str:
    """The case's card as of `now`: what the worker is about to raise is already true."""
    card = case.card
    if case.status == "running":
        for level, at in (("warning", case.warn_at), ("yellow", case.promised_due_at), ("red", case.statutory_due_at)):
            if at and now > at and clocks.RANK[level] > clocks.RANK[card]:
                card = level
    return card


def list_clocks(session: Session, settings: Settings, rows) -> dict[int, dict]:
    """What a list row shows of its case's clocks, by case id: days left in the promised unit, the card, whether
    the clocks started, whether the deadline is provisional (as `deadlines` gives them for a case object). For
    rows read as columns (cases_service.CASE_ROW): one calendar read and one read of the page's open clock stops,
    whatever the number of rows."""
    rows = list(rows)
    cal = calendar.load(session, settings.tz)
    stopped = stops.stop_starts(session, list({r.case_id for r in rows if r.status == "suspended"}))
    now = clock.now()
    out = {}
    for r in rows:
        if r.case_id in out:
            continue
        at = stopped.get(r.case_id, now)
        left = (cal.days_left(at, r.promised_due_at, r.promised_unit)
                if r.promised_due_at and r.status in OPEN_STATUSES else None)
        out[r.case_id] = {"left": left, "unit": r.promised_unit, "card": _card_at(r, at),
                          "started": r.accepted_at is not None, "provisional": not r.calendar_complete}
    return out


def board(session: Session, settings: Settings, rows: list, steps: dict[int, list[str]]) -> list[dict]:
    """The supervision board's rows: each carded case (a row of cases_service.carded_page) with its clocks and
    its ready steps (list_clocks: one calendar read and one clock-stop read for the page)."""
    marks = list_clocks(session, settings, rows)
    out = []
    for r in rows:
        m = marks[r.case_id]
        out.append({"case_no": r.case_no, "item_code": r.item_code, "item_name": r.item_name,
                    "department": r.department, "status": r.status, "card": m["card"], "remaining_days": m["left"],
                    "unit": r.promised_unit, "started": m["started"], "calendar_complete": r.calendar_complete,
                    "promised_due_at": iso(r.promised_due_at), "statutory_due_at": iso(r.statutory_due_at),
                    "steps": steps.get(r.case_id, [])})
    return out


def order(o, case_no: str) -> dict:
    return {"id": o.id, "order_no": o.order_no, "case_no": case_no, "notice_id": o.notice_id,
            "instruction": o.instruction, "due_at": iso(o.due_at), "status": o.status,
            "overdue": o.status != "closed" and o.due_at < clock.now(), "issued_at": iso(o.issued_at),
            "closed_at": iso(o.closed_at), "escalated_at": iso(o.escalated_at),
            "messages": [{"kind": m.kind, "text": m.text, "author": m.author.username if m.author else None,
                          "at": iso(m.at)} for m in o.messages]}


def task(t, work=None, org_code: str | None = None) -> dict:
    """A step of the case; `work` is its external_tasks row when it is external work (a service task);
    `org_code` the org unit that holds the step (another than the case's for an ORG:POST lane)."""
    out = {"id": t.id, "bpmn_id": t.bpmn_id, "name": t.name, "lane": t.lane, "kind": t.kind, "state": t.state,
           "created_at": iso(t.created_at), "due_at": iso(t.due_at), "completed_at": iso(t.completed_at),
           "opinion": t.opinion, "assignee": t.assignee, "org_unit": org_code}
    if work is not None:
        out.update(topic=work.topic, worker_id=work.worker_id, locked_until=iso(work.locked_until),
                   retries=work.retries, error_message=work.error_message, incident=work.incident_at is not None,
                   served_by=served_by(work.topic))
    return out


def served_by(topic: str) -> str:
    """Who does a service task's work: "sunlight" for a built-in topic, else "worker" (another system)."""
    return "sunlight" if topic in external.BUILTIN_TOPICS else "worker"


def external_task(t, case_no: str) -> dict:
    return {"id": t.id, "case_no": case_no, "bpmn_id": t.bpmn_id, "name": t.name, "topic": t.topic,
            "served_by": served_by(t.topic),
            "state": t.state, "created_at": iso(t.created_at), "finished_at": iso(t.finished_at),
            "worker_id": t.worker_id, "locked_until": iso(t.locked_until), "retries": t.retries,
            "error_message": t.error_message, "incident": t.incident_at is not None, "incident_at": iso(t.incident_at)}


def notice(n: SupervisionNotice, case_no: str, viewer_id: int | None = None) -> dict:
    return notice_of(n, case_no, [(r.user_id, r.user.username, r.as_role, r.acknowledged_at) for r in n.recipients],
                     viewer_id)


def notice_of(n, case_no: str | None, recipients: list[tuple], viewer_id: int | None = None) -> dict:
    """A notice (an object or a row with its columns) and its recipients as (user id, username, as, acknowledged
    at) in their order: the contract's shape, whichever way they were read."""
    mine = next((r for r in recipients if r[0] == viewer_id), None)
    acks = [r[3] for r in recipients if r[3]]
    return {"id": n.id, "case_no": case_no, "task_bpmn_id": n.task_bpmn_id, "level": n.level, "reason": n.reason,
            "message": Reason.stored(n.reason, n.reason_key, n.reason_params).message(),
            "created_at": iso(n.created_at), "source_key": n.source_key,  # what raised it; the audit names it so
            "resolved_at": iso(n.resolved_at),
            "recipients": [{"username": name, "as": as_role, "acknowledged_at": iso(at)}
                           for _uid, name, as_role, at in recipients],
            "acknowledged_at": iso(mine[3] if mine else (min(acks) if acks else None))}


def notice_line(r) -> dict:
    """A notice as a page's list shows it, from a row of supervision.inbox.notices (times as datetimes)."""
    return {"id": r.id, "case_no": r.case_no, "level": r.level, "created_at": r.created_at,
            "resolved_at": r.resolved_at, "message": Reason.stored(r.reason, r.reason_key, r.reason_params).message(),
            "mine": r.my_entry is not None, "mine_acked": r.my_ack is not None}


def order_line(r) -> dict:
    """An open order as a page's list shows it, from a row of supervision.orders.open_followed."""
    return {"id": r.id, "order_no": r.order_no, "case_no": r.case_no, "status": r.status,
            "instruction": r.instruction, "due_at": r.due_at,
            "overdue": r.status != "closed" and r.due_at < clock.now()}


def clock_stop(session: Session, c: Case) -> dict | None:
    """The open clock stop (补正 with its one-time list of what is missing, a hearing…), if the clock is stopped."""
    stop = stops.current(session, c) if c.status == "suspended" else None
    if stop is None:
        return None
    return {"kind": stop.kind, "reason": stop.reason, "legal_basis": stop.legal_basis,
            "missing_materials": stop.missing_materials, "expected_days": stop.expected_days,
            "started_at": iso(stop.started_at), "step": stop.task_bpmn_id}


def ending(c: Case) -> dict | None:
    if c.ended_at is None:
        return None
    return {"status": c.status, "at": iso(c.ended_at), "reason": c.end_reason, "legal_basis": c.end_legal_basis}


def case(session: Session, settings: Settings, c: Case, viewer) -> dict:
    notices = supervision.notices_for(session, viewer, case_id=c.id) if viewer else []
    dl = deadlines(session, settings, c)
    why = sup_deadlines.card_reason(session, c, dl["card"])
    dl["card_reason"], dl["card_reason_message"] = (why.text(), why.message()) if why else (None, None)
    work = external.of_case(session, c.id) if any(t.kind == "external" for t in c.tasks) else {}
    codes = _org_codes(session, {t.org_unit_id for t in c.tasks} | {c.org_unit_id})
    return {"case_no": c.case_no, "item_code": c.item.code, "item_name": c.item.name,
            "definition_id": c.definition_id, "status": c.status, "applicant": c.applicant,
            "created_at": iso(c.created_at), "completed_at": iso(c.completed_at),
            "next_timer_due_at": iso(c.next_timer_due_at),
            "waiting_for": sorted({w.name for w in c.waits}),
            "stuck": cases_service.is_stuck(c),
            "incidents": [external_task(w, c.case_no) for w in work.values() if w.incident_at and w.state == "open"],
            "tasks": [task(t, work.get(t.id), codes.get(t.org_unit_id)) for t in c.tasks], "deadlines": dl,
            "clock_stop": clock_stop(session, c),
            "ended": ending(c), "notices": [notice(n, c.case_no, viewer.id) for n in notices],
            **_papers(session, c)}


def _papers(session: Session, c: Case) -> dict:
    """Materials, decision and documents: one statement says which of their tables hold anything for the case and
    brings the documents (nearly every case has its 受理通知书), and only the others that exist are read (most
    steps of most cases have no decision and few files; issue 14)."""
    rows = session.execute(_PAPERS, {"case_id": c.id}).all()
    files, records, has_decision = rows[0][:3]
    row = decisions.current(session, c) if has_decision else None
    return {"materials": case_materials.of_case(session, c, files=files, records=records),
            "decision": decision(session, row) if row is not None else None,
            "documents": [document(r[3]) for r in rows if r[3] is not None]}


# Built once: it runs on every case response. One row of three flags, joined to the case's documents (if any).
_PROBE = select(*(exists().where(col == bindparam("case_id")).label(name) for name, col in
                  (("files", CaseFile.case_id), ("records", CaseMaterialRecord.case_id),
                   ("decision", CaseDecision.case_id)))).subquery("papers")
_PAPERS = (select(_PROBE.c.files, _PROBE.c.records, _PROBE.c.decision, Document).select_from(_PROBE)
           .outerjoin(Document, Document.case_id == bindparam("case_id")).order_by(Document.id))


def _username(session: Session, user_id: int | None) -> str | None:
    return session.get(User, user_id).username if user_id else None


def decision(session: Session, row) -> dict:
    """A case's decision record (行政决定), or a proposal waiting for / back from 法制审核."""
    return {"id": row.id, "status": row.status, "outcome": row.outcome, "summary": row.summary,
            "legal_basis": row.legal_basis, "amount": row.amount, "major": row.major, "step": row.task_bpmn_id,
            "proposed_by": _username(session, row.proposed_by_id), "proposed_at": iso(row.proposed_at),
            "opinion": row.opinion, "reviewed_by": _username(session, row.reviewed_by_id),
            "reviewed_at": iso(row.reviewed_at), "review_opinion": row.review_opinion,
            "decided_at": iso(row.decided_at), "withdrawn_at": iso(row.withdrawn_at),
            "withdrawal_reason": row.withdrawal_reason}


def decision_record(session: Session, c: Case) -> dict:
    pub, row = disclosure.of_case(session, c.id), decisions.current(session, c)
    return {"current": decision(session, row) if row is not None else None,
            "history": [decision(session, r) for r in decisions.history(session, c)],
            "publication": publication(pub) if pub is not None else None}


def publication(row) -> dict:
    return {"status": row.status, "number": row.number, "party": row.party, "due_at": iso(row.due_at),
            "published_at": iso(row.published_at), "withdrawn_at": iso(row.withdrawn_at),
            "withdrawal_reason": row.withdrawal_reason}


def document(d: Document) -> dict:
    """`sha256` and `size` are null until the PDF is rendered (`rendered`), moments after the action that
    issued it; the documents list and the PDF's own URL render it first."""
    return {"id": d.id, "kind": d.kind, "number": d.number, "created_at": iso(d.created_at), "sha256": d.sha256,
            "size": d.size, "rendered": d.sha256 is not None, "status": d.status, "url": f"/api/v1/documents/{d.id}"}


def public_decision(r) -> dict:
    """双公示: what the public sees of a decision — the party masked when a natural person, no ID or phone."""
    return {"number": r.number, "item_name": r.item_name, "category": r.category, "outcome": r.outcome,
            "summary": r.summary, "legal_basis": r.legal_basis, "amount": r.amount, "department": r.department_name,
            "decided_at": iso(r.decided_at), "published_at": iso(r.published_at), "party": r.party,
            "status": r.status, "withdrawn_at": iso(r.withdrawn_at), "withdrawal_reason": r.withdrawal_reason}


def verified_document(session: Session, d: Document) -> dict:
    """文书核验: enough to check a copy against the record, nothing personal."""
    return {"number": d.number, "kind": d.kind, "title": documents.title_of(session, d),
            "department": session.get(OrgUnit, d.org_unit_id).name, "issued_at": iso(d.created_at),
            "sha256": d.sha256, "status": d.status, "status_reason": d.status_reason}


def _org_codes(session: Session, ids: set[int]) -> dict[int, str]:
    return {org.id: org.code for org in (session.get(OrgUnit, i) for i in ids) if org is not None}


def public_case(session: Session, settings: Settings, c: Case) -> dict:
    """Progress for the applicant: the steps and the time left; nothing personal."""
    current = [t for t in c.tasks if t.state == "ready" and t.kind == "user"]
    d = definitions.get(session, c.definition_id)
    bundle = definitions.bundle(d, settings.tz)
    nexts = engine.next_user_steps(bundle, [t.bpmn_id for t in current]) if current else []
    dl = deadlines(session, settings, c)
    stop = clock_stop(session, c)
    return {"case_no": c.case_no, "item_name": c.item.name, "status": c.status,
            "current_steps": [t.name or t.bpmn_id for t in current], "next_steps": nexts,
            "remaining_working_days": dl["remaining_working_days"], "remaining_days": dl["remaining_days"],
            "promised_unit": dl["promised_unit"], "promised_due_at": dl["promised_due_at"],
            "started": dl["started"], "calendar_complete": dl["calendar_complete"],
            "received_at": iso(c.created_at), "accepted_at": iso(c.accepted_at), "completed_at": iso(c.completed_at),
            "clock_stop": {k: stop[k] for k in ("kind", "missing_materials", "expected_days", "started_at")}
            if stop else None, "ended": ending(c), "messages": applicant_messages(session, c)}


def applicant_messages(session: Session, c: Case) -> list[dict]:
    """What the applicant was told (告知记录), oldest first: the texts only, never the phone or the secret."""
    return [{"kind": m.kind, "text": m.text, "text_en": m.text_en, "created_at": iso(m.created_at),
             "sent": m.status == "sent"} for m in messages.told(session, c.id)]
