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
