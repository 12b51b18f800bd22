"""Definition versions of an item's flow: upload (validated), submit, legal review, publish.

Only reviewed definitions run (法制办审核). A published version is immutable; publishing a newer one
retires the previous for new cases while running cases stay pinned to the version they started on.
"""
from __future__ import annotations

from weakref import WeakKeyDictionary
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
from app.orgs import service as orgs
from app.catalog.models import PowerItem
from app.orgs.models import OrgUnit, User

from . import decision_diff
from .diff import diff as semantic_diff
from .models import DecisionFile, DefinitionCall, DefinitionStartMessage, ProcessDefinition


def stream(definition_id: int) -> str:
    return f"definition:{definition_id}"


MAX_DECISION_FILES = 20


def upload(session: Session, actor: User, item_code: str, xml: bytes, *, limit: int, tz: ZoneInfo,
           decisions: list[tuple[str, bytes]] = (), limits: engine.Limits | None = None) -> ProcessDefinition:
    """Validate and store a new draft version with its DMN files (never a half-valid one), within the deploy-time
    `limits` of config.py (multi-instance counts, cycle timers, script lengths)."""
    item = catalog.item_by_code(session, item_code)
    if len(decisions) > MAX_DECISION_FILES:
        raise Invalid(f"at most {MAX_DECISION_FILES} DMN files per diagram", details=[{"field": "dmn"}])
    pinned = _shared_flows(session, item, engine.calls_outside(xml, limit))
    try:
        deployable = engine.validate(xml, limit=limit, tz=tz, decisions=list(decisions),
                                     shared=[_as_shared(d) for d in pinned], limits=limits)
    except engine.BpmnTooLarge as exc:
        raise TooLarge(str(exc), code="bpmn_too_large") from None
    except engine.InvalidBpmn as exc:
        raise Invalid("the diagram cannot be deployed", details=[p.as_dict() for p in exc.problems],
                      code="invalid_bpmn") from None
    _check_lanes(session, deployable)
    # Versions are per item; the unique (item, version) index turns a concurrent upload into a retry-able 409.
    version = (session.scalar(select(func.max(ProcessDefinition.version))
                              .where(ProcessDefinition.item_id == item.id)) or 0) + 1
    definition = ProcessDefinition(item_id=item.id, version=version, xml=xml.decode("utf-8"),
                                   sha256=deployable.sha256, process_id=deployable.process_id, status="draft",
                                   warnings=deployable.warnings, uploaded_by_id=actor.id, uploaded_at=clock.now(),
                                   spec_key=deployable.spec_key if decisions or pinned else None,
                                   calls=[DefinitionCall(process_id=d.process_id, called_definition_id=d.id)
                                          for d in pinned],
                                   start_messages=[DefinitionStartMessage(name=n) for n in deployable.start_messages],
                                   decision_files=[DecisionFile(position=n, filename=d["file"], sha256=d["sha256"],
                                                                xml=data.decode("utf-8"), tables=d["tables"])
                                                   for n, (d, (_name, data)) in enumerate(zip(deployable.decisions,
                                                                                              decisions))])
    session.add(definition)
    session.flush()
    audit.record(session, stream(definition.id), "definition_uploaded", actor.username,
                 detail={"item": item.code, "version": version, "sha256": deployable.sha256,
                         "process_id": deployable.process_id,
                         "dmn": [{"file": d["file"], "sha256": d["sha256"]} for d in deployable.decisions],
                         "calls": [{"process_id": d.process_id, "definition_id": d.id, "item": d.item.code,
                                    "version": d.version} for d in pinned]})
    return definition


def _shared_flows(session: Session, item, process_ids: set[str]) -> list[ProcessDefinition]:
    """The published definitions that call activities to processes outside the file call: a shared flow of the
    item's own org unit or one above it (the district's 法制审核 sub-flow), never of the item itself. Unknown
    ones are left to the engine, which refuses the call naming it."""
    pinned = []
    above = [seg for seg in item.org_unit.path.strip("/").split("/") if seg]
    for process_id in sorted(process_ids):
        found = list(session.scalars(
            select(ProcessDefinition).join(PowerItem, PowerItem.id == ProcessDefinition.item_id)
            .join(OrgUnit, OrgUnit.id == PowerItem.org_unit_id)
            .where(ProcessDefinition.process_id == process_id, ProcessDefinition.status == "published",
                   ProcessDefinition.item_id != item.id, OrgUnit.code.in_(above))))
        if len(found) > 1:
            raise Invalid(f"several published flows have the process id '{process_id}'",
                          code="invalid_bpmn", details=[{"element_id": None, "line": None, "message": (
                              f"the call to '{process_id}' is ambiguous: items {', '.join(d.item.code for d in found)} "
                              "publish a flow with that process id")}])
        pinned += found
    return pinned


def _as_shared(definition: ProcessDefinition) -> engine.SharedFlow:
    return engine.SharedFlow(definition.process_id, definition.xml,
                             tuple((f.filename, f.xml) for f in definition.decision_files))

def _check_lanes(session: Session, deployable: engine.Deployable) -> None:
    """A lane named ORG:POST hands its steps to another org unit (并联审批): that org unit must exist. Checked
    here, not in the engine, because only the database knows the org units. And the post a lane names must fit
    the column it is stored in (else the first case entering the step would fail)."""
    codes = {lane_id: orgs.split_lane(name)[0] for lane_id, name, _line in deployable.lanes}
    unknown = orgs.unknown_org_codes(session, {c for c in codes.values() if c})
    problems = [{"element_id": lane_id, "line": line, "message": f"lane '{name}' hands its steps to org unit "
                 f"'{codes[lane_id]}', which does not exist (a lane ORG:POST names an org unit code and a post)"}
                for lane_id, name, line in deployable.lanes if codes[lane_id] in unknown]
    for lane_id, name, line in deployable.lanes:
        post = orgs.split_lane(name)[1] if codes[lane_id] not in unknown else name
        if len(post or "") > engine.MAX_POST:
            problems.append({"element_id": lane_id, "line": line, "message": (
                f"the lane's post '{post[:40]}…' is {len(post)} characters long; a post is at most "
                f"{engine.MAX_POST} characters (a lane's name names a post)")})
    if problems:
        raise Invalid("the diagram cannot be deployed", details=problems, code="invalid_bpmn")


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


def started_by_message(session: Session, name: str) -> list[ProcessDefinition]:
    """Published definitions whose process starts with the message `name` (a message start event)."""
    return list(session.scalars(
        select(ProcessDefinition).join(DefinitionStartMessage, DefinitionStartMessage.definition_id == ProcessDefinition.id)
        .where(DefinitionStartMessage.name == name, ProcessDefinition.status == "published")
        .order_by(ProcessDefinition.id)))


def bundle_by_id(session: Session, definition_id: int, tz: ZoneInfo) -> engine.SpecBundle:
    """The spec of a stored definition, reading three columns of its row (the XML only on a cache miss)."""
    refs = _published_refs.setdefault(session.get_bind(), {})
    row = refs.get(definition_id) or transaction_memo(session, ("definition_ref", definition_id), lambda: session.execute(
        select(ProcessDefinition.sha256, ProcessDefinition.process_id, ProcessDefinition.spec_key,
               ProcessDefinition.status).where(ProcessDefinition.id == definition_id)).one_or_none())
    if row is None:
        raise NotFound(f"no definition {definition_id}")
    if row.status in ("published", "retired") and len(refs) < 10_000:
        refs[definition_id] = row  # a published version never changes: later actions on its cases need no query
    return engine.bundle_for(row.spec_key or row.sha256, lambda: get(session, definition_id).xml, row.process_id, tz,
                             lambda: _decision_files(session, definition_id),
                             lambda: [_as_shared(c.called) for c in get(session, definition_id).calls])


# Per database (engine): the spec reference of published versions, which are immutable (issue 14).
_published_refs: WeakKeyDictionary = WeakKeyDictionary()


def bundle(definition: ProcessDefinition, tz: ZoneInfo) -> engine.SpecBundle:
    return engine.bundle_for(definition.spec_key or definition.sha256, lambda: definition.xml, definition.process_id,
                             tz, lambda: _decision_files(None, definition.id, definition),
                             lambda: [_as_shared(c.called) for c in definition.calls])


def _decision_files(session: Session | None, definition_id: int, definition: ProcessDefinition | None = None):
    """The definition's DMN files in upload order, read only when its spec is not cached yet."""
    definition = definition or get(session, definition_id)
    return [(f.filename, f.xml) for f in definition.decision_files]


def diff_against(session: Session, definition_id: int, other_id: int) -> list[dict]:
    """What changed from version `other_id` (old) to `definition_id` (new), for the legal office's review."""
    this, other = get(session, definition_id), get(session, other_id)
    return (semantic_diff(other.xml.encode("utf-8"), this.xml.encode("utf-8"))
            + decision_diff.diff([f.tables for f in other.decision_files], [f.tables for f in this.decision_files])
            + _pin_changes(other, this))


def _pin_changes(old: ProcessDefinition, new: ProcessDefinition) -> list[dict]:
    """Shared flows called by another version (the legal office reviews what the new version runs)."""
    label = lambda c: f"{c.called.item.code} v{c.called.version}" if c else None  # noqa: E731
    before, after = {c.process_id: c for c in old.calls}, {c.process_id: c for c in new.calls}
    return [{"change": "changed" if pid in before and pid in after else "added" if pid in after else "removed",
             "element_id": pid, "element_type": "sharedFlow", "name": None, "field": "version",
             "old": label(before.get(pid)), "new": label(after.get(pid))}
            for pid in sorted(set(before) | set(after)) if label(before.get(pid)) != label(after.get(pid))]


def versions_of(session: Session, item_id: int) -> list[ProcessDefinition]:
    """All versions of an item's flow, the newest first."""
    return list(session.scalars(select(ProcessDefinition).where(ProcessDefinition.item_id == item_id)
                                .order_by(ProcessDefinition.version.desc())))


def in_review(session: Session) -> list[ProcessDefinition]:
    """Definitions waiting for the legal office, the longest waiting first."""
    return list(session.scalars(select(ProcessDefinition).where(ProcessDefinition.status == "in_review")
                                .order_by(ProcessDefinition.submitted_at, ProcessDefinition.id)))
