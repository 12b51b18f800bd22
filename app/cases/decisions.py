"""Decisions (行政决定) and the legal office's review of major ones (重大执法决定法制审核, 国办发〔2018〕118号).

The item's `decision_step` is the step that decides: completing it needs a decision — outcome, summary, legal
basis and, where there is one, the amount — kept as a case_decisions row and in the audit trail with the
clerk's opinion. A decision meeting the item's `major_decision` rule is held: it is recorded as waiting for the
legal office and the completion is refused (409 legal_review_required) with nothing advanced; a legal user
approves or rejects it (`review`); after approval the clerk completes the step with the same decision and it is
made. What follows a decision made — the 决定书, its publication (双公示), telling the applicant — reacts to the
DecisionMade event or is told here.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.catalog.limits import DECISION_OUTCOMES, amount as parse_amount
from app.errors import Conflict, Forbidden, Invalid
from app.orgs.models import OrgUnit, User
from app.settings import Settings

from . import tell
from .decision_models import CaseDecision
from .models import Case

MAX_TEXT = 2000
# What the applicant is told and the documents say, per outcome.
OUTCOME_LABELS = {"granted": ("准予许可", "granted"), "denied": ("不予许可", "denied"),
                  "penalty": ("给予行政处罚", "a penalty"), "no_penalty": ("不予行政处罚", "no penalty"),
                  "other": ("作出其他决定", "another decision")}
FIELDS = ("outcome", "summary", "legal_basis", "amount")


class LegalReviewRequired(Conflict):
    """A major decision waits for the legal office: recorded (so it is kept), then the completion refused."""
    code = "legal_review_required"
    keeps_changes = True


def _text(raw: dict, field: str) -> str:
    value = raw.get(field)
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_TEXT or "\x00" in value:
        raise Invalid(f"decision.{field} is required text (at most {MAX_TEXT} characters)",
                      details=[{"field": f"decision.{field}"}])
    return value.strip()


def parse(raw) -> dict:
    """{outcome, summary, legal_basis, amount} checked, or a 422 naming the field."""
    if not isinstance(raw, dict):
        raise Invalid("decision must be an object {outcome, summary, legal_basis, amount?}",
                      details=[{"field": "decision"}])
    unknown = set(raw) - set(FIELDS)
    if unknown:
        raise Invalid(f"decision takes no field {', '.join(sorted(unknown))}",
                      details=[{"field": f"decision.{sorted(unknown)[0]}"}])
    if raw.get("outcome") not in DECISION_OUTCOMES:
        raise Invalid(f"decision.outcome must be one of {', '.join(DECISION_OUTCOMES)}",
                      details=[{"field": "decision.outcome"}])
    return {"outcome": raw["outcome"], "summary": _text(raw, "summary"), "legal_basis": _text(raw, "legal_basis"),
            "amount": parse_amount(raw.get("amount"), "decision.amount")}


def for_step(case: Case, bpmn_id: str, raw) -> dict | None:
    """The decision a completion of `bpmn_id` carries: required at the item's decision_step, refused elsewhere."""
    if bpmn_id != case.item.decision_step:
        if raw is not None:
            raise Invalid(f"decision belongs to the decision step ({case.item.decision_step or 'none'})",
                          details=[{"field": "decision"}])
        return None
    if raw is None:
        raise Invalid("this step decides the case: a decision {outcome, summary, legal_basis, amount?} is required",
                      details=[{"field": "decision"}])
    return parse(raw)


def is_major(rule: dict | None, decision: dict) -> bool:
    """重大执法决定: the outcome is among the rule's (any, when it lists none) and, when the rule sets an amount
    or keywords, the amount reaches min_amount or the summary names a keyword (吊销, 责令停产停业…)."""
    if not rule:
        return False
    if rule.get("outcomes") and decision["outcome"] not in rule["outcomes"]:
        return False
    min_amount, keywords = rule.get("min_amount"), rule.get("keywords") or []
    if min_amount is None and not keywords:
        return True
    by_amount = min_amount is not None and decision["amount"] is not None and decision["amount"] >= min_amount
    return by_amount or any(k in decision["summary"] for k in keywords)


def current(session: Session, case: Case) -> CaseDecision | None:
    return session.scalar(select(CaseDecision).where(CaseDecision.case_id == case.id, CaseDecision.is_current))


def history(session: Session, case: Case) -> list[CaseDecision]:
    return list(session.scalars(select(CaseDecision).where(CaseDecision.case_id == case.id)
                                .order_by(CaseDecision.id)))


def _same(row: CaseDecision, decision: dict) -> bool:
    return all(getattr(row, f) == decision[f] for f in FIELDS)


def as_dict(row: CaseDecision) -> dict:
    return {f: getattr(row, f) for f in FIELDS}


def _retire(session: Session, row: CaseDecision | None) -> None:
    """The case's current row steps aside for a new one (history keeps it; a rejection stays a rejection)."""
    if row is None:
        return
    row.is_current = False
    if row.status != "rejected":
        row.status = "superseded"
    session.flush()  # before the new current row: the unique index allows one current row per case


def hold_if_major(session: Session, case: Case, actor: User, bpmn_id: str, decision: dict,
                  opinion: str) -> CaseDecision | None:
    """For a major decision: the approved row to make when the legal office approved exactly this decision;
    otherwise it is recorded as waiting for review and the completion refused (LegalReviewRequired).
    None for a decision that is not major."""
    major = is_major(case.item.major_decision, decision)
    if not major:
        return None
    cur = current(session, case)
    if cur is not None and cur.status == "approved" and _same(cur, decision):
        return cur
    if cur is None or cur.status != "pending_review" or not _same(cur, decision):
        _retire(session, cur)
        row = CaseDecision(case_id=case.id, is_current=True, status="pending_review", task_bpmn_id=bpmn_id,
                           major=True, proposed_by_id=actor.id, proposed_at=clock.now(), opinion=opinion,
                           **decision)
        session.add(row)
        session.flush()
        audit.record(session, audit.case_stream(case.id), "decision_proposed", actor.username, case_id=case.id,
                     task_bpmn_id=bpmn_id, detail={"decision_id": row.id, **decision, "opinion": opinion,
                                                   "major_rule": case.item.major_decision})
    raise LegalReviewRequired(
        "a major decision (重大执法决定) needs the legal office's review (法制审核) first; it has been sent to them",
        details=[{"field": "decision", "status": "pending_review"}])


def make(session: Session, settings: Settings, case: Case, actor: User, bpmn_id: str, decision: dict,
         approved: CaseDecision | None, opinion: str) -> CaseDecision:
    """The step completed with `decision`: it is the case's decision in force (audited, told to the applicant)."""
    now = clock.now()
    if approved is not None:
        row = approved
    else:
        _retire(session, current(session, case))
        row = CaseDecision(case_id=case.id, is_current=True, task_bpmn_id=bpmn_id, major=False,
                           proposed_by_id=actor.id, proposed_at=now, opinion=opinion, **decision)
        session.add(row)
    row.status, row.decided_at = "made", now
    session.flush()
    audit.record(session, audit.case_stream(case.id), "decision_made", actor.username, case_id=case.id,
                 task_bpmn_id=bpmn_id, detail={"decision_id": row.id, **decision, "opinion": opinion,
                                               "major": row.major, "reviewed_by_id": row.reviewed_by_id})
    tell.tell(session, settings, case, "decided", outcome=OUTCOME_LABELS[row.outcome][0], summary=row.summary)
    return row


REVIEW_DECISIONS = ("approve", "reject")


def review(session: Session, settings: Settings, actor: User, case_no: str, body: dict) -> CaseDecision:
    """法制审核 of the case's pending major decision: approve lets the clerk make it; reject sends it back with
    the reason (the opinion). Only a legal user who did not propose it."""
    if actor.role != "legal":
        raise Forbidden("only the legal office (法制审核) reviews decisions")
    verdict = body.get("decision")
    if verdict not in REVIEW_DECISIONS:
        raise Invalid("decision must be approve or reject", details=[{"field": "decision"}])
    opinion = body.get("opinion")
    if not isinstance(opinion, str) or not opinion.strip() or len(opinion) > 5000 or "\x00" in opinion:
        raise Invalid("opinion (法制审核意见) is required text (at most 5000 characters)",
                      details=[{"field": "opinion"}])
    from .service import get_visible  # the service imports this module: resolved at call time

    case = get_visible(session, actor, case_no, for_update=True)
    row = current(session, case)
    if row is None or row.status != "pending_review":
        raise Conflict("the case has no decision waiting for legal review", code="no_pending_decision")
    if row.proposed_by_id == actor.id:
        raise Forbidden("nobody reviews a decision they proposed")
    row.status = "approved" if verdict == "approve" else "rejected"
    row.reviewed_by_id, row.reviewed_at, row.review_opinion = actor.id, clock.now(), opinion.strip()
    audit.record(session, audit.case_stream(case.id), f"legal_review_{row.status}", actor.username,
                 case_id=case.id, task_bpmn_id=row.task_bpmn_id,
                 detail={"decision_id": row.id, **as_dict(row), "opinion": row.review_opinion})
    session.flush()
    return row


def pending_reviews(session: Session, viewer: User, limit: int = 200) -> list[tuple[CaseDecision, Case]]:
    """Major decisions waiting for the legal office in the viewer's scope, the longest waiting first."""
    query = (select(CaseDecision, Case).join(Case, Case.id == CaseDecision.case_id)
             .join(OrgUnit, OrgUnit.id == Case.org_unit_id)
             .where(CaseDecision.is_current, CaseDecision.status == "pending_review",
                    OrgUnit.path.startswith(viewer.org_unit.path))
             .order_by(CaseDecision.proposed_at, CaseDecision.id).limit(limit))
    return list(session.execute(query).tuples())
