"""Materials owed by a case (容缺受理, 告知承诺): a yellow notice, once, when one is still owed after its day."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from app.cases import clocks, materials
from app.orgs.models import OrgUnit
from app.settings import Settings

from . import deadlines
from . import service as notices
from .reasons import MATERIAL_OWED, Reason



def raise_due(session: Session, settings: Settings, case, now: datetime) -> int:
    """Signal every owed material whose day has passed (each once); reschedule the case. Returns how many."""
    if case.status not in ("running", "suspended"):  # an ended case owes nothing any more
        case.materials_due_at = None
        return 0
    raised, pending = 0, materials.owed(session, case)
    for record in pending:
        if record.signalled_at is not None or materials.due_moment(record.due_on, settings) > now:
            continue
        notice = notices.raise_notice(
            session, case=case, org=session.get(OrgUnit, case.org_unit_id),
            clerks=deadlines.clerks_of_open_steps(session, case), task_bpmn_id=None, level="yellow",
            reason=Reason(MATERIAL_OWED[record.source], {"name": record.name, "day": record.due_on.isoformat()}),
            source_key=f"material:{record.id}", detail={"kind": f"material_{record.source}", "material": record.name,
                                                       "due_on": record.due_on.isoformat()},
            channels=settings.notice_channels)
        record.signalled_at = now
        if notice is not None:
            clocks.raise_card(case, "yellow")
            raised += 1
    materials.schedule_owed(session, settings, case, pending)
    return raised
