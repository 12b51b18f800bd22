"""The test district plus machine users of other systems, and items running the small diagrams of tests/diagrams.py."""
from __future__ import annotations

from app.orgs import service as orgs
from tests.world import ITEM, World, build_world, deploy_item

SYSTEMS = [("sys", "CA"), ("sys01", "CA01"), ("sys02", "CA02")]  # username, org unit


def bpmn_world(app, **diagrams: bytes) -> World:
    """The district with system users; each keyword deploys an item `CA01-QT-<n>` running that diagram, and
    `world.items[keyword]` is its code."""
    world = build_world(app, deploy=False)
    db = app.extensions["sunlight.db"]
    with db.unit_of_work() as s:
        for name, org in SYSTEMS:
            user = orgs.create_user(s, name, "system", org, [], None, "test")
            world.tokens[name] = orgs.issue_token(s, user, "test")
    world.items = {}
    for n, (key, xml) in enumerate(diagrams.items(), start=1):
        code = f"CA01-QT-{n:04d}"
        deploy_item(world, {**ITEM, "code": code, "category": "other", "name": f"测试事项{n}"}, xml)
        world.items[key] = code
    return world


def case_of(world: World, case_no: str, user: str = "sup") -> dict:
    status, case = world.api.get(f"/api/v1/cases/{case_no}", user)
    assert status == 200, case
    return case


def by_bpmn(case: dict, bpmn_id: str) -> list[dict]:
    return [t for t in case["tasks"] if t["bpmn_id"] == bpmn_id]


def events_of(world: World, case_no: str, action: str) -> list[dict]:
    status, events = world.api.get(f"/api/v1/cases/{case_no}/events", "sup")
    assert status == 200, events
    return [e for e in events if e["action"] == action]
