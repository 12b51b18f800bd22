"""A small district for tests: org units, staff with posts and tokens, and the licensing demo deployed."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from app import clock
from app.orgs import service as orgs
from tests.conftest import BPMN

LICENSING = (BPMN / "licensing_demo.bpmn").read_bytes()
STEP_TIME = timedelta(minutes=5)  # how long World.complete lets a clerk work on a step

ITEM = {"code": "CA01-XK-0001", "name": "食品经营许可", "category": "licensing", "department": "CA01",
        "promised_days": 5, "statutory_days": 20, "accepting_authority": "区政务服务中心市场监管窗口",
        "implementing_body": "区市场监督管理局", "supervision_phone": "0510-12345678", "fee": "不收费",
        "legal_basis": "《中华人民共和国食品安全法》第三十五条",
        "materials": [{"name": "食品经营许可申请书", "required": True}, {"name": "营业执照复印件", "required": True}]}

STAFF = [  # username, role, org, posts
    ("admin", "admin", "CA", []),
    ("designer", "designer", "CA01", []),
    ("legal", "legal", "CA", []),
    ("acc", "clerk", "CA01", ["受理岗"]),
    ("rev", "clerk", "CA01", ["审查岗"]),
    ("dec", "clerk", "CA01", ["决定岗"]),
    ("rev2", "clerk", "CA01", ["审查岗"]),
    ("outsider", "clerk", "CA02", ["受理岗", "审查岗", "决定岗"]),
    ("sup", "supervisor", "CA", []),
    ("sup01", "supervisor", "CA01", []),
    ("sup02", "supervisor", "CA02", []),
]


class Api:
    """The Flask test client with tokens by username; returns (status, json-or-text)."""

    def __init__(self, client, tokens):
        self.client, self.tokens = client, tokens

    def call(self, method, path, user=None, json=None, data=None, ctype=None, headers=None):
        hdrs = dict(headers or {})
        if user:
            hdrs["Authorization"] = f"Bearer {self.tokens[user]}"
        if ctype:
            hdrs["Content-Type"] = ctype
        resp = self.client.open(path, method=method, json=json, data=data, headers=hdrs)
        body = resp.get_json(silent=True)
        return resp.status_code, body if body is not None else resp.get_data(as_text=True)

    def get(self, path, user=None, **kw):
        return self.call("GET", path, user, **kw)

    def post(self, path, user=None, json=None, **kw):
        return self.call("POST", path, user, json=json, **kw)


@dataclass
class World:
    api: Api
    tokens: dict = field(default_factory=dict)
    definition_id: int | None = None

    def ready(self, case: dict, bpmn_id: str) -> dict | None:
        return next((t for t in case["tasks"] if t["bpmn_id"] == bpmn_id and t["state"] == "ready"), None)

    def new_case(self, data=None, user="acc", item="CA01-XK-0001") -> dict:
        status, case = self.api.post("/api/v1/cases", user, {"item_code": item, "data": data or {},
                                                             "applicant": {"name": "张三", "id_number": "320102199001011234",
                                                                           "phone": "13800000000"}})
        assert status == 201, case
        return case

    def complete(self, case: dict, bpmn_id: str, user: str, data=None, opinion="同意", expect=200) -> dict:
        task = self.ready(case, bpmn_id)
        assert task is not None, f"{bpmn_id} not ready in {case['tasks']}"
        clock.advance(STEP_TIME)  # a clerk takes minutes over a step; an instant completion is rule R01's signal
        status, body = self.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", user,
                                     {"data": data or {}, "opinion": opinion})
        assert status == expect, body
        return body


def build_world(app, deploy: bool = True, xml: bytes = LICENSING) -> World:
    db = app.extensions["sunlight.db"]
    tokens = {}
    with db.unit_of_work() as s:
        orgs.create_org(s, "CA", "崇安区", "district", None, "test")
        orgs.create_org(s, "CA01", "区市场监督管理局", "department", "CA", "test")
        orgs.create_org(s, "CA02", "区城市管理局", "department", "CA", "test")
        for name, role, org, posts in STAFF:
            user = orgs.create_user(s, name, role, org, posts, None, "test")  # no password: argon2 is slow by design
            tokens[name] = orgs.issue_token(s, user, "test")
    world = World(Api(app.test_client(), tokens), tokens)
    if deploy:
        world.definition_id = deploy_item(world, ITEM, xml)
    return world


def deploy_item(world: World, item: dict, xml: bytes, designer: str = "designer") -> int:
    api = world.api
    status, body = api.post("/api/v1/items", designer, item)
    assert status == 201, body
    status, d = api.post(f"/api/v1/items/{item['code']}/definitions", designer, data=xml, ctype="application/xml")
    assert status == 201, d
    assert api.post(f"/api/v1/definitions/{d['id']}/submit", designer, {})[0] == 200
    status, body = api.post(f"/api/v1/definitions/{d['id']}/review", "legal", {"decision": "approve", "comment": "合法"})
    assert status == 200 and body["status"] == "published", body
    return d["id"]
