"""Cases (办件): projections that lists read without loading workflows, and (in a table of its own) the engine
state blob that only a case action reads."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (CheckConstraint, ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint, bindparam,
                        event, inspect, text)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from app.catalog.models import PowerItem
from app.db import Base
from app.definitions.models import ProcessDefinition

CASE_STATUSES = ("running", "completed", "suspended", "refused", "withdrawn", "terminated")
OPEN_STATUSES = ("running", "suspended")
# 不予受理, 撤回, 终止: each ends the case for good (tasks cancelled, clocks stopped, no signal again).
END_STATUSES = ("refused", "withdrawn", "terminated")


class Case(Base):
    __tablename__ = "cases"
    # The assessment counts a department's cases over a period by when they were registered and completed.
    # (item_id rides along so the items that ran a case in a period are read from the index alone.)
    __table_args__ = (Index("ix_cases_org_created", "org_unit_id", "created_at", "item_id"),
                      Index("ix_cases_org_completed", "org_unit_id", "completed_at"),
                      # Staff search: a name by its beginning (text_pattern_ops lets LIKE 'q%' use the index on
                      # PostgreSQL whatever the collation), an ID number or a phone exactly.
                      Index("ix_cases_applicant_name", "applicant_name",
                            postgresql_ops={"applicant_name": "text_pattern_ops"}),
                      Index("ix_cases_applicant_id_number", "applicant_id_number"),
                      Index("ix_cases_applicant_phone", "applicant_phone"),
                      # The supervision board: open cases, the soonest promised limit first, district-wide or
                      # for one department; partial, so the 80 % of cases that ended are not in them.
                      Index("ix_cases_open_promised", "promised_due_at", "id",
                            postgresql_where=text("status IN ('running', 'suspended')"),
                            postgresql_include=["org_unit_id", "card", "warn_at"],
                            sqlite_where=text("status IN ('running', 'suspended')")),
                      # The district statistics (cases, completed, on time, open cards per department) from the
                      # index alone: the index entry is 40 bytes, a case row ~0.5 KB.
                      Index("ix_cases_org_stats", "org_unit_id", "status", "card", "completed_at", "promised_due_at"),
                      # The /work page orders a clerk's ready steps by their case's clock: read from here, not
                      # from ten thousand case rows.
                      Index("ix_cases_clock", "id", "status", "promised_due_at"),
                      # Staff search, newest first across a district (a department has ix_cases_org_created).
                      Index("ix_cases_created", "created_at", "id"),
                      Index("ix_cases_open_org_promised", "org_unit_id", "promised_due_at", "id",
                            postgresql_where=text("status IN ('running', 'suspended')"),
                            postgresql_include=["card", "warn_at"],
                            sqlite_where=text("status IN ('running', 'suspended')")))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_no: Mapped[str] = mapped_column(String(32), unique=True)
    query_code_hash: Mapped[str] = mapped_column(String(64))
    item_id: Mapped[int] = mapped_column(ForeignKey("power_items.id"), index=True)
    definition_id: Mapped[int] = mapped_column(ForeignKey("process_definitions.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    applicant: Mapped[dict] = mapped_column(default=dict)  # {name, id_number, phone}: never public
    # The same three, as columns the staff search can index (written with `applicant`, never public).
    applicant_name: Mapped[str | None] = mapped_column(String(200))
    applicant_id_number: Mapped[str | None] = mapped_column(String(200))
    applicant_phone: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), default="running", index=True)
    version: Mapped[int] = mapped_column(default=1)  # optimistic lock: bumped by every save
    next_timer_due_at: Mapped[datetime | None] = mapped_column(index=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    # Deadlines counted from acceptance (受理/立案) in each clock's unit (承诺 promised, 法定 statutory), kept
    # here and recomputed on every clock stop, resume, extension, limit change and calendar edit (see
    # app/cases/clocks.py). accepted_at stays empty until the clock_start_step completes.
    clock_start_step: Mapped[str | None] = mapped_column(String(200))  # the item's, pinned when the case opened
    accepted_at: Mapped[datetime | None] = mapped_column()
    promised_due_at: Mapped[datetime | None] = mapped_column()
    statutory_due_at: Mapped[datetime | None] = mapped_column()
    warn_at: Mapped[datetime | None] = mapped_column()
    extension_days: Mapped[int] = mapped_column(default=0, server_default="0")  # 延期: approved extra working days (statutory)
    suspended_days: Mapped[int] = mapped_column(default=0, server_default="0")  # working days spent in finished clock stops
    suspended_natural_days: Mapped[int] = mapped_column(default=0, server_default="0")  # the same stops in calendar days
    calendar_complete: Mapped[bool] = mapped_column(default=True)
    card: Mapped[str] = mapped_column(String(16), default="none", server_default="none")  # none | warning | yellow | red
    # The head of the case's audit chain (stream "case:<id>"): here, on the row every action already locks, not
    # in a row of its own to read and write as well (issue 14). app.audit keeps the other streams' heads.
    audit_seq: Mapped[int] = mapped_column(default=0, server_default="0")
    audit_hash: Mapped[str] = mapped_column(String(64), default="0" * 64, server_default="0" * 64)
    signalled: Mapped[list] = mapped_column(default=list, server_default="[]")  # deadline signals already raised: warning, yellow, red
    order_due_at: Mapped[datetime | None] = mapped_column()  # earliest deadline of its open 督办 orders
    materials_due_at: Mapped[datetime | None] = mapped_column()  # earliest 容缺/告知承诺 material still owed
    # 双公示: a decision held for a clerk to publish must be published by then (7 working days), or a red notice.
    publication_due_at: Mapped[datetime | None] = mapped_column()
    ended_at: Mapped[datetime | None] = mapped_column()  # refused, withdrawn or terminated at
    end_reason: Mapped[str | None] = mapped_column(Text)
    end_legal_basis: Mapped[str | None] = mapped_column(Text)
    # The next moment the worker must look at this case (a timer, a deadline signal, an order falling
    # overdue, a material owed): the earliest, so one indexed query finds everything due.
    wake_at: Mapped[datetime | None] = mapped_column(index=True)

    item: Mapped[PowerItem] = relationship(lazy="joined")
    definition: Mapped[ProcessDefinition] = relationship(lazy="raise")
    tasks: Mapped[list["CaseTask"]] = relationship(
        lazy="select", order_by="CaseTask.seq", cascade="all, delete-orphan", back_populates="case")
    waits: Mapped[list["CaseWait"]] = relationship(lazy="select", cascade="all, delete-orphan")
    participants: Mapped[list["CaseParticipant"]] = relationship(lazy="select", cascade="all, delete-orphan")
    # The workflow itself: read by an action (its lock query joins it in and locks it too), never by a list.
    engine_state: Mapped["CaseState | None"] = relationship(lazy="select", cascade="all, delete-orphan")

    __mapper_args__ = {"version_id_col": version}


class CaseState(Base):
    """A case's engine blob (gzip JSON, the spec by reference), one row per case, apart from `cases`: at 1.1–2 KB
    it is most of a case row, PostgreSQL keeps values under ~2 KB inline, and every scan or heap fetch of a list
    would read it (issue 14). Only an action reads it, through the case's lock query; its serializer version is
    the format of these bytes (read only to load them), so it is written with them in the same row."""

    __tablename__ = "case_states"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    blob: Mapped[bytes] = mapped_column(LargeBinary)
    serializer_version: Mapped[str] = mapped_column(String(16))


class CaseTask(Base):
    """Projection of a case's visible tasks (user steps and waiting events): the worklist and history."""

    __tablename__ = "case_tasks"
    # The worklist: a unit's ready steps; the second one in the API's order (due, created, id), so a page
    # of a clerk's ten thousand ready steps reads its own rows only.
    __table_args__ = (Index("ix_case_tasks_worklist", "org_unit_id", "state", "lane"),
                      Index("ix_case_tasks_worklist_due", "org_unit_id", "state", "kind", "due_at", "created_at", "id",
                            postgresql_include=["lane", "assignee", "case_id"]),
                      # The /work page's order (workable cases first, then the case's promised limit, then the
                      # step's own): a page of a clerk's ten thousand ready steps from index entries alone, with
                      # no case row read per step. Partial: only ready user steps are ever listed so.
                      Index("ix_case_tasks_ready_by_case_clock", "org_unit_id", "case_stopped", "case_due_at", "due_at",
                            "created_at", "id", postgresql_include=["lane", "assignee"],
                            postgresql_where=text("state = 'ready' AND kind = 'user'"),
                            sqlite_where=text("state = 'ready' AND kind = 'user'")))

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's task UUID
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    seq: Mapped[int]  # order of first appearance, for a stable history
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    lane: Mapped[str | None] = mapped_column(String(100))  # the post (an ORG:POST lane: its POST; org_unit_id its ORG)
    kind: Mapped[str] = mapped_column(String(16))  # "user", "event" or "external" (a service task's work)
    state: Mapped[str] = mapped_column(String(16))  # ready | waiting | completed | cancelled
    created_at: Mapped[datetime] = mapped_column()
    due_at: Mapped[datetime | None] = mapped_column()
    completed_at: Mapped[datetime | None] = mapped_column()
    completed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    opinion: Mapped[str | None] = mapped_column(Text)
    assignee: Mapped[str | None] = mapped_column(String(64))  # 会签: the only user who may complete this instance
    # The case's clock, copied onto its steps so the /work page orders a clerk's steps by it from one index
    # (ix_case_tasks_ready_by_case_clock): whether the case is not running (its clock stopped) and its promised
    # limit. Kept equal to the case's in the same flush that changes the case (below); read only on open steps.
    case_stopped: Mapped[bool] = mapped_column(default=False, server_default=text("false"))
    case_due_at: Mapped[datetime | None] = mapped_column()

    case: Mapped[Case] = relationship(back_populates="tasks", lazy="raise")


class CaseParticipant(Base):
    """Another org unit a case passed through (a step in an `ORG:POST` lane, 并联审批): its staff see the case
    from the moment the step reached them."""

    __tablename__ = "case_participants"
    __table_args__ = (UniqueConstraint("case_id", "org_unit_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"), index=True)
    since: Mapped[datetime] = mapped_column()


class CaseWait(Base):
    """Projection: a message or signal the case waits for now, at one of its tasks. Written with the task
    projection on every save, so a message addressed by name finds its candidate cases in one indexed query."""

    __tablename__ = "case_waits"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    task_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(16))  # message | signal
    name: Mapped[str] = mapped_column(String(200), index=True)


EXTERNAL_STATES = ("open", "completed", "cancelled")


class ExternalTask(Base):
    """A service task's work, done outside (like Camunda's external tasks): open while the engine waits for it.

    Workers fetch and lock open tasks of their topics for a while (`locked_until`); a lock that ran out frees
    the task for the next worker. A failure counts down `retries`; at 0 the task is an incident (`incident_at`)
    that shows on the case until an admin sets new retries or a worker completes it anyway."""

    __tablename__ = "external_tasks"
    __table_args__ = (Index("ix_external_tasks_topic_state", "topic", "state"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the engine's task UUID (= case_tasks.id)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    bpmn_id: Mapped[str] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(300))
    topic: Mapped[str] = mapped_column(String(200))
    state: Mapped[str] = mapped_column(String(16))  # open | completed | cancelled
    created_at: Mapped[datetime] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    worker_id: Mapped[str | None] = mapped_column(String(64))
    locked_until: Mapped[datetime | None] = mapped_column()
    retries: Mapped[int | None] = mapped_column()  # None until a worker reports a failure
    error_message: Mapped[str | None] = mapped_column(Text)
    incident_at: Mapped[datetime | None] = mapped_column()


SUSPENSION_KINDS = ("supplement", "hearing", "testing", "inspection", "appraisal", "expert_review", "other")


class CaseSuspension(Base):
    """A clock stop (补正 supplement, hearing, testing, expert review…): the time is not counted."""

    __tablename__ = "case_suspensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text, default="")
    expected_days: Mapped[int | None] = mapped_column()
    missing_materials: Mapped[list] = mapped_column(default=list)  # the one-time list (一次性告知) for 补正
    started_at: Mapped[datetime] = mapped_column()
    started_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    ended_at: Mapped[datetime | None] = mapped_column()
    ended_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    working_days: Mapped[int | None] = mapped_column()  # counted when the clock restarts
    natural_days: Mapped[int | None] = mapped_column()  # the same stop in calendar days
    task_bpmn_id: Mapped[str | None] = mapped_column(String(200))  # the diagram's 补正 step that opened it, if any


class CaseExtension(Base):
    """An extension (延期) of the statutory limit, approved by a leader with a reason."""

    __tablename__ = "case_extensions"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    days: Mapped[int]  # in `unit`: the statutory clock's unit when it was granted
    unit: Mapped[str] = mapped_column(String(8), default="working", server_default="working")
    reason: Mapped[str] = mapped_column(Text)
    approved_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column()


MATERIAL_SOURCES = ("paper", "deferred", "pledge")


class CaseMaterialRecord(Base):
    """A material provided otherwise than by upload: checked on paper at the window, 容缺 (accepted now, owed
    by `due_on`) or 告知承诺 (the applicant's pledge, to be verified by `due_on`). Settled when it arrives or is
    verified; still unsettled after `due_on`, it raises a yellow notice."""

    __tablename__ = "case_material_records"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    source: Mapped[str] = mapped_column(String(16))  # paper | deferred | pledge
    due_on: Mapped[date | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column()
    settled_at: Mapped[datetime | None] = mapped_column()
    settled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str | None] = mapped_column(Text)
    signalled_at: Mapped[datetime | None] = mapped_column()  # when its lateness was signalled (once)


class CaseRating(Base):
    """好差评: the applicant's rating of a completed case — five levels, one per case, nothing personal."""

    __tablename__ = "case_ratings"
    __table_args__ = (CheckConstraint("score BETWEEN 1 AND 5", name="score_range"),
                      Index("ix_case_ratings_org_created", "org_unit_id", "created_at"),
                      # The board's 好差评 average per department, from the index alone.
                      Index("ix_case_ratings_org_score", "org_unit_id", "score"))

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), unique=True)
    # The case's department, kept on the rating so a period's ratings per department are one index range.
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_units.id"))
    score: Mapped[int]  # 5 非常满意 … 1 非常不满意
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()


# --- the case's clock on its steps ---------------------------------------------------------------------------
# Whoever changes a case's status or promised limit (an action, a clock stop, a recomputation after a calendar
# edit, the worker) changes it on the Case object; these hooks carry it to the case's open steps in the same
# flush, so no writer can forget it: the steps in hand are set (the flush writes those that differ), the steps
# not loaded are updated in one statement right after the flush.
CLOCK_KEY = "step_clocks"
OPEN_STEP_STATES = ("ready", "waiting")  # the steps whose copy is kept (and read); a step reopened gets it anew
_OPEN_STEP = text("state IN ('ready', 'waiting')")  # as SQL (an IN of bound values cannot go in an executemany)


def step_clock(case: Case) -> dict:
    """The columns a step copies from its case."""
    return {"case_stopped": case.status != "running", "case_due_at": case.promised_due_at}


def carry_case_clock(step: CaseTask, case: Case) -> None:
    """The step's copy of its case's clock made equal to it (only what differs is set: an equal value would
    still mark the step changed for the flush)."""
    for name, value in step_clock(case).items():
        if getattr(step, name) != value:
            setattr(step, name, value)


@event.listens_for(Case.status, "set")
@event.listens_for(Case.promised_due_at, "set")
def _case_clock_set(case: Case, value, old, _initiator) -> None:
    if value is old or value == old:
        return
    session = inspect(case).session
    if session is not None:  # a new case not added yet has no steps written: the flush looks at new cases
        session.info.setdefault(CLOCK_KEY, {})[id(case)] = case


@event.listens_for(Session, "before_flush")
def _steps_follow_their_case(session: Session, _context, _instances) -> None:
    moved = session.info.pop(CLOCK_KEY, {})
    cases = [*moved.values(), *(o for o in session.new if isinstance(o, Case) and id(o) not in moved)]
    later = []
    for case in cases:
        state = inspect(case)
        if "tasks" in state.dict:
            for t in case.tasks:
                if t.state in OPEN_STEP_STATES:  # nothing reads a closed step's copy: not rewritten
                    carry_case_clock(t, case)
        elif state.key is not None:
            key = step_clock(case)
            later.append({"cid": state.key[1][0], "v_stopped": key["case_stopped"], "v_due": key["case_due_at"]})
    if later:
        session.info.setdefault(CLOCK_KEY + ":rows", []).extend(later)


@event.listens_for(Session, "after_flush")
def _update_steps_not_loaded(session: Session, _context) -> None:
    rows = session.info.pop(CLOCK_KEY + ":rows", None)
    if rows:
        tasks = CaseTask.__table__
        session.connection().execute(
            tasks.update().where(tasks.c.case_id == bindparam("cid"), _OPEN_STEP)
            .values(case_stopped=bindparam("v_stopped"), case_due_at=bindparam("v_due")), rows)
