"""Definition versions of an item's flow: upload (validated), submit, legal review, publish.

Only reviewed definitions run (法制办审核). A published version is immutable; publishing a newer one
retires the previous for new cases while running cases stay pinned to the version they started on.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import clock, engine
from app.audit import service as audit
from app.catalog import limits
from app.catalog import service as catalog
from app.engine.xmlsafe import parse_untrusted
from app.db_batch import transaction_memo
from app.errors import Conflict, Forbidden, Invalid, NotFound, TooLarge
from app.orgs.models import User

from .diff import diff as semantic_diff
from .models import ProcessDefinition


def stream(definition_id: int) -> str:
    return f"definition:{definition_id}"


def upload(session: Session, actor: User, item_code: str, xml: bytes, *, limit: int, tz: ZoneInfo) -> ProcessDefinition:
    """Validate and store a new draft version (never a half-valid one)."""
    item = catalog.item_by_code(session, item_code)
    try:
        deployable = engine.validate(xml, limit=limit, tz=tz)
    except engine.BpmnTooLarge as exc:
        raise TooLarge(str(exc), code="bpmn_too_large") from None
    except engine.InvalidBpmn as exc:
        raise Invalid("the diagram cannot be deployed", details=[p.as_dict() for p in exc.problems],
                      code="invalid_bpmn") from None
    # Versions are per item; the unique (item, version) index turns a concurrent upload into a retry-able 409.
    version = (session.scalar(select(func.max(ProcessDefinition.version))
                              .where(ProcessDefinition.item_id == item.id)) or 0) + 1
    definition = ProcessDefinition(item_id=item.id, version=version, xml=xml.decode("utf-8"),
                                   sha256=deployable.sha256, process_id=deployable.process_id, status="draft",
                                   warnings=deployable.warnings, uploaded_by_id=actor.id, uploaded_at=clock.now())
    session.add(definition)
    session.flush()
    audit.record(session, stream(definition.id), "definition_uploaded", actor.username,
                 detail={"item": item.code, "version": version, "sha256": deployable.sha256,
                         "process_id": deployable.process_id})
    return definition


def get(session: Session, definition_id: int, *, for_update: bool = False) -> ProcessDefinition:
    query = select(ProcessDefinition).where(ProcessDefinition.id == definition_id)
    definition = session.scalar(query.with_for_update(of=ProcessDefinition) if for_update else query)
    if definition is None:
        raise NotFound(f"no definition {definition_id}")
    return definition


def submit(session: Session, actor: User, definition_id: int, tz: ZoneInfo) -> ProcessDefinition:
    definition = get(session, definition_id, for_update=True)
    if definition.status not in ("draft", "rejected"):
        raise Conflict(f"a {definition.status} definition cannot be submitted", code="wrong_status")
    missing = missing_steps(definition.item, bundle(definition, tz))
    if missing:  # the item would start its clocks (or stop them for 补正) at a step this diagram lacks
        raise Invalid("the diagram lacks steps the item names: " + "; ".join(
            f"{field} = {step}" for field, step in missing), code="invalid_bpmn",
            details=[{"element_id": step, "line": None, "field": field,
                      "message": f"the item's {field} names user task '{step}', which this diagram does not have"}
                     for field, step in missing])
    definition.status = "in_review"
    definition.submitted_at = clock.now()
    audit.record(session, stream(definition.id), "definition_submitted", actor.username)
    return definition


def missing_steps(item, spec: engine.SpecBundle) -> list[tuple[str, str]]:
    """(field, bpmn_id) of each step the item names (clock_start_step, supplement_step, R01's steps) that is
    not a user task of the diagram."""
    steps = engine.user_steps(spec)
    return [(field, step) for field, step in limits.steps_named(item).items() if step not in steps]


def check_item_steps(session: Session, item, tz: ZoneInfo) -> None:
    """After an item names steps: each must be a user task of its current flow (the published version, or
    the newest draft before one is published). Without any diagram yet, submit checks them later."""
    current = published_for(session, item.id) or next(iter(versions_of(session, item.id)), None)
    if current is None:
        return
    missing = missing_steps(item, bundle(current, tz))
    if missing:
        field, step = missing[0]
        raise Invalid(f"{field}: '{step}' is not a user task of version {current.version} of this item's flow",
                      details=[{"field": field, "element_id": step}])


def _element_comments(definition: ProcessDefinition, raw) -> list[dict]:
    """[{element_id, comment}] naming elements that exist in this version's diagram."""
    if raw is None:
        return []
    if not isinstance(raw, list) or len(raw) > 500:
        raise Invalid("element_comments must be a list of {element_id, comment}", details=[{"field": "element_comments"}])
    data = definition.xml.encode("utf-8")
    ids = set(parse_untrusted(data, len(data)).xpath("//@id"))
    out = []
    for i, entry in enumerate(raw):
        field = f"element_comments[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("comment"), str) or not entry["comment"].strip():
            raise Invalid(f"{field} needs an element_id and a comment", details=[{"field": field}])
        if entry.get("element_id") not in ids:
            raise Invalid(f"{field}: no element '{entry.get('element_id')}' in this diagram",
                          details=[{"field": f"{field}.element_id"}])
        out.append({"element_id": entry["element_id"], "comment": entry["comment"].strip()[:2000]})
    return out


def review(session: Session, actor: User, definition_id: int, decision: str, comment: str,
           element_comments: list | None = None) -> ProcessDefinition:
    """Legal review: approve publishes (retiring the previous published version), reject sends it back.

    Remarks may be pinned on elements of the diagram (element_comments), e.g. on the step that lacks a basis.
    """
    if decision not in ("approve", "reject"):
        raise Invalid("decision must be approve or reject", details=[{"field": "decision"}])
    if not isinstance(comment, str):
        raise Invalid("comment must be text", details=[{"field": "comment"}])
    definition = get(session, definition_id, for_update=True)
    remarks = _element_comments(definition, element_comments)
    if definition.status != "in_review":
        raise Conflict(f"only a definition in review can be reviewed (this one is {definition.status})",
                       code="wrong_status")
    if definition.uploaded_by_id == actor.id:
        raise Forbidden("nobody may review their own upload")
    now = clock.now()
    definition.reviewed_by_id, definition.reviewed_at, definition.review_comment = actor.id, now, comment[:5000]
    definition.element_comments = remarks
    if decision == "reject":
        definition.status = "rejected"
        audit.record(session, stream(definition.id), "definition_rejected", actor.username,
                     detail={"comment": comment, "element_comments": remarks})
        return definition
    for older in session.scalars(select(ProcessDefinition).where(ProcessDefinition.item_id == definition.item_id,
                                                                 ProcessDefinition.status == "published")):
        older.status = "retired"
        audit.record(session, stream(older.id), "definition_retired", actor.username,
                     detail={"superseded_by": definition.id})
    definition.status, definition.published_at = "published", now
    audit.record(session, stream(definition.id), "definition_published", actor.username,
                 detail={"comment": comment, "element_comments": remarks})
    catalog.activate(session, definition.item, actor.username)
    return definition


def published_for(session: Session, item_id: int) -> ProcessDefinition | None:
    return session.scalar(select(ProcessDefinition).where(ProcessDefinition.item_id == item_id,
                                                          ProcessDefinition.status == "published"))


def bundle_by_id(session: Session, definition_id: int, tz: ZoneInfo) -> engine.SpecBundle:
    """The spec of a stored definition, reading two columns of its row (the XML only on a cache miss)."""
    row = transaction_memo(session, ("definition_ref", definition_id), lambda: session.execute(
        select(ProcessDefinition.sha256, ProcessDefinition.process_id)
        .where(ProcessDefinition.id == definition_id)).one_or_none())
    if row is None:
        raise NotFound(f"no definition {definition_id}")
    return engine.bundle_for(row.sha256, lambda: get(session, definition_id).xml, row.process_id, tz)


def bundle(definition: ProcessDefinition, tz: ZoneInfo) -> engine.SpecBundle:
    return engine.bundle_for(definition.sha256, lambda: definition.xml, definition.process_id, tz)


def diff_against(session: Session, definition_id: int, other_id: int) -> list[dict]:
    """What changed from version `other_id` (old) to `definition_id` (new), for the legal office's review."""
    this, other = get(session, definition_id), get(session, other_id)
    return semantic_diff(other.xml.encode("utf-8"), this.xml.encode("utf-8"))


def versions_of(session: Session, item_id: int) -> list[ProcessDefinition]:
    """All versions of an item's flow, the newest first."""
    return list(session.scalars(select(ProcessDefinition).where(ProcessDefinition.item_id == item_id)
                                .order_by(ProcessDefinition.version.desc())))


def in_review(session: Session) -> list[ProcessDefinition]:
    """Definitions waiting for the legal office, the longest waiting first."""
    return list(session.scalars(select(ProcessDefinition).where(ProcessDefinition.status == "in_review")
                                .order_by(ProcessDefinition.submitted_at, ProcessDefinition.id)))
