"""Telling the applicant (告知) what a case action did: acceptance with the query code, the 补正 list, a clock
stop or restart, an extension, the end of the case. The message is recorded in the action's transaction
(app/messages), so a rolled-back action tells nothing and a committed one is delivered however long the
SMS gateway is down."""
from __future__ import annotations

from sqlalchemy.orm import Session

from app.messages import service as messages
from app.settings import Settings

from .models import Case


def tell(session: Session, settings: Settings, case: Case, kind: str, *, secret: str | None = None,
         **params) -> None:
    messages.tell(session, settings, case_id=case.id, case_no=case.case_no,
                  phone=(case.applicant or {}).get("phone"), kind=kind, params=params, secret=secret)


def clock_stopped(session: Session, settings: Settings, case: Case, stop) -> None:
    """补正 tells the whole list of what is missing (一次性告知); any other stop its kind and reason."""
    if stop.kind == "supplement":
        tell(session, settings, case, "supplement", missing=stop.missing_materials, expected_days=stop.expected_days)
    else:
        tell(session, settings, case, "clock_stopped", label=stop.kind, reason=stop.reason,
             expected_days=stop.expected_days)
