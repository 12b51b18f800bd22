"""The demo district: the seed's numbers, loaded through the services, idempotent, every state present."""
from __future__ import annotations

from collections import Counter

import pytest
from sqlalchemy import func, select

from app.audit import service as audit
from app.cases.models import Case
from app.catalog.models import PowerItem
from app.demo import catalogue, loader
from app.definitions.models import ProcessDefinition
from app.orgs.models import OrgUnit
from app.supervision.models import SupervisionNotice, SupervisionOrder


def test_the_generated_catalogue_has_the_seeds_proportions():
    found = catalogue.items()
    assert len(found) == 668
    assert Counter(i.category for i in found) == {"licensing": 81, "penalty": 508, "enforcement": 11, "levy": 2,
                                                   "other": 66}
    assert len({i.name for i in found}) == 668
    assert len(catalogue.DEPARTMENTS) == 22 and len({i.department.code for i in found}) == 22


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_demo_district_loads_once_with_cases_in_every_state(app, db_url):
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    assert loader.load(db, settings, echo=lambda *_: None) is True
    assert loader.load(db, settings, echo=lambda *_: None) is False  # idempotent
    with db.unit_of_work() as s:
        kinds = Counter(s.scalars(select(OrgUnit.kind)))
        assert kinds == {"district": 1, "department": 22, "street": 6}
        categories = dict(s.execute(select(PowerItem.category, func.count()).group_by(PowerItem.category)).all())
        assert categories == {"licensing": 81, "penalty": 508, "enforcement": 11, "levy": 2, "other": 66}
        assert s.scalar(select(func.count()).where(PowerItem.status == "active")) == 668
        assert s.scalar(select(func.count()).where(ProcessDefinition.status == "published")) == 668
        statuses = Counter(s.scalars(select(Case.status)))
        assert {"running", "completed", "suspended"} <= set(statuses)
        assert "red" in set(s.scalars(select(Case.card)))
        assert s.scalar(select(func.count()).select_from(SupervisionNotice)) > 0
        assert s.scalar(select(func.count()).where(SupervisionOrder.escalated_at.is_not(None))) == 1
        assert audit.verify(s) is None
        _penalties_count_calendar_days_and_the_supplement_stopped_the_clock(s, settings)
    _window_speed_raises_no_card(db, settings)


def _penalties_count_calendar_days_and_the_supplement_stopped_the_clock(s, settings):
    from datetime import timedelta

    from app.cases.models import CaseSuspension

    units = set(s.execute(select(PowerItem.statutory_unit, PowerItem.promised_unit)
                          .where(PowerItem.category == "penalty")))
    assert units == {("natural", "natural")}
    penalty = s.scalar(select(Case).join(PowerItem).where(PowerItem.code == "CA01-CF-0001"))
    filed = penalty.accepted_at.astimezone(settings.tz).date()
    due = penalty.statutory_due_at.astimezone(settings.tz).date()
    assert timedelta(days=90) <= due - filed <= timedelta(days=98)  # 90 calendar days, rolled past a day off
    stop = s.scalar(select(CaseSuspension).where(CaseSuspension.task_bpmn_id == "Task_supplement"))
    assert stop is not None and stop.ended_at is None and stop.missing_materials == ["场所使用证明", "法定代表人身份证明"]
    assert s.get(Case, stop.case_id).status == "suspended"


def _window_speed_raises_no_card(db, settings):
    """The clocks issue: normal window work at normal speed never raises a card. A licence taken in at the
    window in twenty seconds a step (收件, 受理), reviewed and decided over the day, served at the window;
    an immediate item (即办件) handled on the spot in a minute."""
    from datetime import timedelta

    from app import clock
    from app.cases import service as cases
    from app.orgs import service as orgs

    pace = {"Task_receive": 20, "Task_accept": 20, "Task_review": 3 * 3600, "Task_decide": 2 * 3600,
            "Task_serve": 20, "Task_handle": 60}
    made = []
    try:
        for item_code in ("CA01-XK-0001", "CA01-QT-0001"):
            clock.travel_to(clock.now())
            with db.unit_of_work() as s:
                clerk = orgs.user_by_name(s, "ca01_window")
                case, _ = cases.create_case(s, settings, clerk, {"item_code": item_code,
                                                                 "applicant": {"name": "窗口申请人"}})
                made.append(case.case_no)
            while True:
                with db.unit_of_work() as s:
                    case = cases.get_visible(s, orgs.user_by_name(s, "admin"), made[-1])
                    ready = [t for t in case.tasks if t.state == "ready" and t.kind == "user"]
                    if not ready:
                        break
                    task = ready[0]
                    clock.advance(timedelta(seconds=pace[task.bpmn_id]))
                    clerk = orgs.clerks_for_lane(s, case.org_unit_id, task.lane)[0]
                    decision = ({**loader.USUAL_DECISIONS[case.item.category], "legal_basis": case.item.legal_basis}
                                if task.bpmn_id == case.item.decision_step else None)  # the 决定 step decides
                    cases.complete_task(s, settings, clerk, made[-1], task.id, loader.USUAL_ANSWERS, "符合规定",
                                        decision=decision)
    finally:
        clock.travel_to(None)
    with db.unit_of_work() as s:
        done = list(s.scalars(select(Case).where(Case.case_no.in_(made))))
        assert [c.status for c in done] == ["completed", "completed"]
        assert [c.card for c in done] == ["none", "none"]
        assert s.scalar(select(func.count()).where(SupervisionNotice.case_id.in_([c.id for c in done]))) == 0

