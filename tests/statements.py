"""Statement budgets: count what a request sends to the database, and grow a list in SQL to see it stay flat."""
from __future__ import annotations

import uuid
from contextlib import contextmanager
from datetime import timedelta

from sqlalchemy import event, insert, select

from app.cases.models import Case, CaseState, CaseSuspension, CaseTask
from app.supervision.models import NoticeRecipient, SupervisionNotice


@contextmanager
def counted(engine):
    """The statements sent on `engine` inside the block (a list, filled as they go)."""
    seen: list[str] = []

    def grab(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", grab)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", grab)


def clone_cases(db, case_no: str, n: int, *, suspended_every: int = 0, notices: bool = False) -> list[str]:
    """`n` copies of a case (its row, engine blob and task rows, ready steps included) written in SQL — a long list
    without running n cases through the engine. Every `suspended_every`-th copy is suspended with an open clock
    stop; with `notices`, each copy gets a notice addressed to whoever the original's first notice went to."""
    made = []
    with db.unit_of_work() as s:
        src = s.scalar(select(Case).where(Case.case_no == case_no))
        cols = [c.name for c in Case.__table__.columns if c.name != "id"]
        row = {c: getattr(src, Case.__mapper__.get_property_by_column(Case.__table__.c[c]).key) for c in cols}
        tasks = [{c.name: getattr(t, c.name) for c in CaseTask.__table__.columns} for t in src.tasks]
        blob = {"blob": src.engine_state.blob, "serializer_version": src.engine_state.serializer_version}
        first = s.scalar(select(SupervisionNotice).where(SupervisionNotice.case_id == src.id)
                         .order_by(SupervisionNotice.id)) if notices else None
        batch = uuid.uuid4().hex[:6]
        for i in range(n):
            no = f"{case_no[:15]}-{batch}{i:05d}"
            suspended = bool(suspended_every) and i % suspended_every == 0
            status, promised = ("suspended" if suspended else row["status"],
                                (row["promised_due_at"] or src.created_at) + timedelta(minutes=i))
            new_id = s.execute(insert(Case).values({**row, "case_no": no, "status": status,
                                                    "promised_due_at": promised}).returning(Case.id)).scalar_one()
            s.execute(insert(CaseState).values({**blob, "case_id": new_id}))
            for t in tasks:  # the steps carry their case's clock (app/cases/models.py)
                s.execute(insert(CaseTask).values({**t, "id": str(uuid.uuid4()), "case_id": new_id,
                                                   "case_stopped": status != "running", "case_due_at": promised}))
            if suspended:
                s.execute(insert(CaseSuspension).values(
                    case_id=new_id, kind="supplement", reason="材料不齐", legal_basis="", missing_materials=["x"],
                    started_at=src.created_at, started_by_id=src.created_by_id))
            if first is not None:
                notice_id = s.execute(insert(SupervisionNotice).values(
                    case_id=new_id, org_unit_id=first.org_unit_id, task_bpmn_id=first.task_bpmn_id,
                    level=first.level, reason=first.reason, reason_key=first.reason_key,
                    reason_params=first.reason_params, source_key=f"clone:{no}", created_at=first.created_at)
                    .returning(SupervisionNotice.id)).scalar_one()
                for r in first.recipients:
                    s.execute(insert(NoticeRecipient).values(notice_id=notice_id, user_id=r.user_id, as_role=r.as_role))
            made.append(no)
    return made
