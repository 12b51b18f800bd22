"""双公示: licensing and penalty decisions made public (行政许可、行政处罚信息公示).

A decision is published when it is made, unless its item holds decisions for a clerk to publish
(`decision_publication: clerk`); a held one must be published within 7 working days of the decision, else a
red notice goes to the department's clerks and the supervisors (the worker finds it by the case's wake_at).
A published decision may be withdrawn (撤销公示, e.g. after reconsideration) with a reason; it stays on the
list, marked withdrawn, and its 决定书 is marked withdrawn on the check page.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import cast, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.orm import Session

from app import clock
from app.audit import service as audit
from app.calendar import service as calendar
from app.cases import clock_stops, clocks
from app.cases import service as cases
from app.cases.decision_models import CaseDecision
from app.cases.models import Case
from app.catalog.models import CATEGORIES
from app.documents import service as documents
from app.errors import Conflict, Forbidden, Invalid
from app.orgs import service as orgs
from app.orgs.models import OrgUnit, User
from app.settings import Settings
from app.supervision import service as notices
from app.supervision.reasons import DECISION_UNPUBLISHED, Reason

from . import party as parties
from .models import PublicDecision, PublicDecisionCount

DISCLOSED_CATEGORIES = ("licensing", "penalty")  # 双公示: 行政许可 and 行政处罚
PUBLISH_WITHIN_WORKING_DAYS = 7
MAX_PER_PAGE = 100


def _search_text(row: PublicDecision) -> str:
    return " ".join(filter(None, (row.number, row.item_name, row.party, row.summary))).lower()


def record(session: Session, settings: Settings, case: Case, decision: CaseDecision, at: datetime) -> None:
    """A decision was made on the case: put it on the public record (published now, or held for a clerk)."""
    item = case.item
    if item.category not in DISCLOSED_CATEGORIES:
        return
    for earlier in session.scalars(select(PublicDecision).where(PublicDecision.case_id == case.id,
                                                                PublicDecision.status != "withdrawn")):
        _withdraw_row(session, earlier, "被该案新的决定取代", "system")
    org = session.get(OrgUnit, case.org_unit_id)
    doc = documents.of_decision(session, decision.id)
    row = PublicDecision(decision_id=decision.id, case_id=case.id, org_unit_id=org.id, department_name=org.name,
                         item_name=item.name, category=item.category, number=doc.number if doc else None,
                         outcome=decision.outcome, summary=decision.summary, legal_basis=decision.legal_basis,
                         amount=decision.amount, party=parties.public_name(case.applicant or {}),
                         decided_at=decision.decided_at or at, status="held")
    row.search_text = _search_text(row)
    session.add(row)
    if item.decision_publication == "auto":
        _publish(session, case, row, "system", at)
        return
    row.due_at, _ = calendar.load(session, settings.tz).add_days(row.decided_at, PUBLISH_WITHIN_WORKING_DAYS,
                                                                 "working")
    case.publication_due_at = row.due_at
    clocks.schedule(case)
    session.flush()
    audit.record(session, audit.case_stream(case.id), "decision_held_for_publication", "system", case_id=case.id,
                 detail={"public_decision_id": row.id, "due_at": row.due_at.isoformat()})


def _count_published(session: Session, org_unit_id: int, category: str) -> None:
    table = PublicDecisionCount.__table__
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(insert(table).values(org_unit_id=org_unit_id, category=category, published=0)
                    .on_conflict_do_nothing())
    session.execute(update(table).where(table.c.org_unit_id == org_unit_id, table.c.category == category)
                    .values(published=table.c.published + 1))


def _publish(session: Session, case: Case, row: PublicDecision, actor: str, at: datetime) -> None:
    row.status, row.published_at, row.due_at = "published", at, None
    _count_published(session, row.org_unit_id, row.category)
    case.publication_due_at = None
    clocks.schedule(case)
    session.flush()
    audit.record(session, audit.case_stream(case.id), "decision_published", actor, case_id=case.id,
                 detail={"public_decision_id": row.id, "number": row.number, "party": row.party,
                         "published_at": at.isoformat()})


def of_case(session: Session, case_id: int) -> PublicDecision | None:
    """The case's latest public record (held, published or withdrawn)."""
    return session.scalar(select(PublicDecision).where(PublicDecision.case_id == case_id)
                          .order_by(PublicDecision.id.desc()).limit(1))


def _clerk_case(session: Session, settings: Settings, actor: User, case_no: str, *, leader: bool) -> Case:
    case = cases.get_visible(session, actor, case_no, for_update=True)
    own_clerk = actor.role == "clerk" and actor.org_unit_id == case.org_unit_id
    if leader and not (clock_stops.is_leader(actor, settings) and (own_clerk or actor.role == "admin")):
        raise Forbidden("withdrawing a published decision needs a leader of the case's department "
                        f"(a post among {', '.join(settings.leader_posts)}) or an admin")
    if not leader and not (own_clerk or actor.role == "admin"):
        raise Forbidden("only a clerk of the case's department publishes its decision")
    return case


def publish(session: Session, settings: Settings, actor: User, case_no: str) -> PublicDecision:
    """A clerk publishes the case's held decision (items with decision_publication: clerk)."""
    case = _clerk_case(session, settings, actor, case_no, leader=False)
    row = of_case(session, case.id)
    if row is None:
        raise Conflict("the case has no decision to publish (licensing and penalty decisions are published)",
                       code="no_decision")
    if row.status != "held":
        raise Conflict(f"the decision is {row.status} already", code="already_published")
    _publish(session, case, row, actor.username, clock.now())
    cases.save(session)
    return row


def withdraw(session: Session, settings: Settings, actor: User, case_no: str, body: dict) -> PublicDecision:
    """撤销: a published decision is withdrawn with a reason (e.g. revoked on reconsideration), shown as such."""
    reason = body.get("reason")
    if not isinstance(reason, str) or not reason.strip() or len(reason) > 5000 or "\x00" in reason:
        raise Invalid("reason is required text (at most 5000 characters)", details=[{"field": "reason"}])
    case = _clerk_case(session, settings, actor, case_no, leader=True)
    row = of_case(session, case.id)
    if row is None or row.status != "published":
        raise Conflict("only a published decision can be withdrawn", code="not_published")
    _withdraw_row(session, row, reason.strip(), actor.username)
    decision = session.get(CaseDecision, row.decision_id)
    decision.status, decision.withdrawn_at, decision.withdrawal_reason = "withdrawn", row.withdrawn_at, row.withdrawal_reason
    doc = documents.of_decision(session, decision.id)
    if doc is not None:
        documents.set_status(session, doc, "withdrawn", row.withdrawal_reason, actor.username)
    cases.save(session)
    return row


def _withdraw_row(session: Session, row: PublicDecision, reason: str, actor: str) -> None:
    row.status, row.withdrawn_at, row.withdrawal_reason = "withdrawn", clock.now(), reason
    audit.record(session, audit.case_stream(row.case_id), "decision_withdrawn", actor, case_id=row.case_id,
                 detail={"public_decision_id": row.id, "number": row.number, "reason": reason})


def raise_late(session: Session, settings: Settings, case: Case, now: datetime) -> int:
    """A held decision not published by its day: one red notice to the department's clerks and the supervisors."""
    if case.publication_due_at is None or case.publication_due_at > now:
        return 0
    row = of_case(session, case.id)
    case.publication_due_at = None
    clocks.schedule(case)
    if row is None or row.status != "held":
        return 0
    org = session.get(OrgUnit, case.org_unit_id)
    raised = notices.raise_notice(
        session, case=case, org=org, clerks=orgs.clerks_for_lane(session, org.id, None), task_bpmn_id=None,
        level="red", reason=Reason(DECISION_UNPUBLISHED, {"days": PUBLISH_WITHIN_WORKING_DAYS}),
        source_key=f"disclosure:late:{row.id}", detail={"kind": "decision_unpublished", "public_decision_id": row.id},
        channels=settings.notice_channels)
    if raised is not None:
        clocks.raise_card(case, "red")
    return int(raised is not None)


# --- the public list -----------------------------------------------------------------------------------------
def _like(q: str) -> str:
    return "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


SEARCH_COUNT_CAP = 1000  # a search counts its matches up to here ("1000+"): an exact count of a one-character
                         # search would visit a third of the table to print a number nobody pages through


def public_list(session: Session, *, category: str | None, department: str | None, q: str | None, page: int,
                per_page: int) -> tuple[list[PublicDecision], int, bool]:
    """(rows, total, exact): published (and withdrawn) decisions, the newest first, filtered and paged in SQL;
    a search's total stops at SEARCH_COUNT_CAP (exact False)."""
    if category and category not in CATEGORIES:
        raise Invalid(f"category must be one of {', '.join(CATEGORIES)}", details=[{"field": "category"}])
    where, counted = [PublicDecision.published_at.is_not(None)], []
    if category:
        where.append(PublicDecision.category == category)
        counted.append(PublicDecisionCount.category == category)
    if department:
        org_id = session.scalar(select(OrgUnit.id).where(OrgUnit.code == department))
        if org_id is None:
            return [], 0, True
        where.append(PublicDecision.org_unit_id == org_id)
        counted.append(PublicDecisionCount.org_unit_id == org_id)
    newest = (PublicDecision.published_at.desc(), PublicDecision.id.desc())
    exact = True
    if q:  # a search: counted over what it finds (through the bigram index on PostgreSQL)
        where += _search(session, q)
        found = select(PublicDecision.id).where(*where).limit(SEARCH_COUNT_CAP + 1).subquery()
        total = session.scalar(select(func.count()).select_from(found)) or 0
        exact, total = total <= SEARCH_COUNT_CAP, min(total, SEARCH_COUNT_CAP)
    else:  # the total from the per-department counts, never a count over the whole table
        total = session.scalar(select(func.coalesce(func.sum(PublicDecisionCount.published), 0)).where(*counted))
    # The newest page: off the (published_at, id) index, or for a rare search off the bigram index and sorted.
    rows = session.scalars(select(PublicDecision).where(*where).order_by(*newest)
                           .offset((page - 1) * per_page).limit(per_page))
    return list(rows), total or 0, exact


def _search(session: Session, q: str) -> list:
    """`q` anywhere in the number, item name, party or summary. On PostgreSQL a query of two characters or more
    first goes through the GIN index of the rows' character bigrams (migration 0011: sunlight_bigrams), so it
    reads only the rows holding every bigram of `q`; the LIKE then keeps those that hold `q` itself."""
    text = q.lower()
    found = [PublicDecision.search_text.like(_like(text), escape="\\")]
    if len(text) >= 2 and session.get_bind().dialect.name == "postgresql":
        terms = func.array_to_tsvector(func.sunlight_bigrams(PublicDecision.search_text))
        found.append(terms.op("@@")(cast(_all_of(bigrams(text)), TSQUERY)))
    return found


def bigrams(text: str) -> list[str]:
    """The distinct two-character pieces of `text`, as the database's sunlight_bigrams() cuts them."""
    return sorted({text[i:i + 2] for i in range(max(len(text) - 1, 1))}) if text else []


def _all_of(terms: list[str]) -> str:
    """A tsquery literal: every term, quoted as-is (no parsing, no stemming), all required."""
    return " & ".join("'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in terms)
