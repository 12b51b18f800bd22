"""Decision tables uploaded with the diagram (multipart: one `bpmn`, any `dmn`): validated at upload, stored and
versioned with the definition, shown in the legal review with a diff of their rules, pinned for running cases."""
from __future__ import annotations

import io

from tests import diagrams
from tests.bpmn_world import by_bpmn, bpmn_world, case_of
from tests.world import ITEM

CODE = "CA01-CF-0001"
PENALTY = {**ITEM, "code": CODE, "name": "违法经营处罚", "category": "penalty"}


def _upload(world, bpmn: bytes, *dmn: tuple[str, bytes], field="dmn", user="designer"):
    data = {"bpmn": (io.BytesIO(bpmn), "penalty.bpmn"), field: [(io.BytesIO(x), name) for name, x in dmn]}
    return world.api.call("POST", f"/api/v1/items/{CODE}/definitions", user, data=data, ctype="multipart/form-data")


def _publish(world, definition_id: int) -> None:
    assert world.api.post(f"/api/v1/definitions/{definition_id}/submit", "designer", {})[0] == 200
    status, body = world.api.post(f"/api/v1/definitions/{definition_id}/review", "legal",
                                  {"decision": "approve", "comment": "裁量基准合法"})
    assert status == 200 and body["status"] == "published", body


def _world(app):
    world = bpmn_world(app)
    assert world.api.post("/api/v1/items", "designer", PENALTY)[0] == 201
    return world


def _filed(world, income, first=False) -> dict:
    case = world.new_case(data={"illegal_income": income, "first_offence": first}, item=CODE)
    return world.complete(case, "Task_file", "acc")


def test_a_diagram_and_its_decision_table_deploy_together_and_the_case_follows_the_table(app, frozen_now):
    world = _world(app)
    status, d = _upload(world, diagrams.business_rule(), ("penalty.dmn", diagrams.decision_table()))
    assert status == 201, d
    [dmn_file] = d["dmn"]
    assert dmn_file["file"] == "penalty.dmn" and dmn_file["tables"][0]["id"] == "penalty_standard"
    assert [r["text"] for r in dmn_file["tables"][0]["rules"]][0] == "when 违法所得: < 10000; 初次违法: true then fine = 0"
    status, xml = world.api.get(f"/api/v1/definitions/{d['id']}/dmn/{dmn_file['id']}", "legal")
    assert status == 200 and "penalty_standard" in xml
    assert world.api.get(f"/api/v1/definitions/{d['id']}/dmn/999999", "legal")[0] == 404
    _publish(world, d["id"])
    assert world.ready(_filed(world, 20000), "Task_hearing")  # fine 40000 ≥ 10000: the hearing is offered
    assert world.ready(_filed(world, 5000, first=True), "Task_decide")  # fine 0


def test_the_xml_upload_keeps_working_and_multipart_without_dmn_is_a_plain_diagram(app, frozen_now):
    world = _world(app)
    status, d = _upload(world, diagrams.MESSAGE_CATCH)
    assert status == 201 and d["dmn"] == []
    status, body = world.api.post(f"/api/v1/items/{CODE}/definitions", "designer", data=diagrams.MESSAGE_CATCH,
                                  ctype="application/xml")
    assert status == 201 and body["sha256"] == d["sha256"]


def test_a_bad_table_or_a_file_that_is_not_dmn_is_refused_naming_the_cell_and_line(app, frozen_now):
    world = _world(app)
    hostile = diagrams.decision_table(rules=[("< 10000", "-", "1"), ("-", "__import__('os')", "2")])
    status, body = _upload(world, diagrams.business_rule(), ("penalty.dmn", hostile))
    assert status == 422 and body["error"]["code"] == "invalid_bpmn"
    [problem] = body["error"]["details"]
    assert problem["element_id"] == "Rule_2" and problem["line"] == 2
    assert "rule 2 (Rule_2), input '初次违法'" in problem["message"]
    status, body = _upload(world, diagrams.business_rule(), ("penalty.dmn", diagrams.MESSAGE_CATCH))
    assert status == 422 and "a DMN file starts with" in body["error"]["details"][0]["message"]
    status, body = _upload(world, diagrams.business_rule(), ("penalty.dmn", b"not xml"))
    assert status == 422 and "penalty.dmn: not well-formed XML" in body["error"]["details"][0]["message"]
    status, body = _upload(world, diagrams.business_rule())  # the table was not uploaded
    assert status == 422 and "'penalty_standard'" in body["error"]["details"][0]["message"]
    status, body = _upload(world, diagrams.business_rule(), ("penalty.dmn", diagrams.decision_table()), field="file")
    assert status == 400 and "unknown fields: file" in body["error"]["message"]
    status, body = world.api.call("POST", f"/api/v1/items/{CODE}/definitions", "designer",
                                  data={"dmn": (io.BytesIO(diagrams.decision_table()), "p.dmn")},
                                  ctype="multipart/form-data")
    assert status == 400 and body["error"]["details"] == [{"field": "bpmn"}]
    assert world.api.post(f"/api/v1/items/{CODE}/definitions", "designer", data="x", ctype="text/plain")[0] == 415


def test_an_oversized_dmn_file_is_413(db_url, tmp_path, frozen_now):
    from app import create_app

    small = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "test-secret", "TESTING": True, "MAX_BPMN_BYTES": "4096",
                        "FILE_STORAGE_DIR": str(tmp_path / "files")})
    try:
        world = _world(small)
        big = diagrams.decision_table(rules=[("< 1", "-", '"' + "x" * 5000 + '"')])
        status, body = _upload(world, diagrams.business_rule(), ("penalty.dmn", big))
        assert status == 413 and body["error"]["code"] == "bpmn_too_large", body
    finally:
        small.extensions["sunlight.db"].engine.dispose()


def test_the_review_diff_covers_the_rules_and_running_cases_keep_their_table(app, frozen_now):
    world = _world(app)
    _, v1 = _upload(world, diagrams.business_rule(), ("penalty.dmn", diagrams.decision_table()))
    _publish(world, v1["id"])
    waiting = world.new_case(data={"illegal_income": 20000, "first_offence": False}, item=CODE)  # at 立案, on v1
    stricter = diagrams.decision_table(hit_policy="UNIQUE", rules=[
        ("< 10000", "-", "5000"), ("[10000..50000]", "-", "illegal_income * 3"), ("> 50000", "-", "illegal_income * 5")])
    status, v2 = _upload(world, diagrams.business_rule(hearing="fine >= 100000"), ("penalty.dmn", stricter))
    assert status == 201 and v2["sha256"] != v1["sha256"]
    status, diff = world.api.get(f"/api/v1/definitions/{v2['id']}/diff?against={v1['id']}", "legal")
    changes = {(c["element_type"], c["element_id"], c["change"], c["field"]): c for c in diff["changes"]}
    assert changes[("decision", "penalty_standard", "changed", "hit_policy")]["old"] == "FIRST"
    assert changes[("decisionRule", "Rule_4", "removed", "rule")]["old"].endswith("fine = illegal_income * 5")
    rule2 = changes[("decisionRule", "Rule_2", "changed", "rule")]
    assert rule2["old"].endswith("fine = 5000") and rule2["new"].endswith("fine = illegal_income * 3")
    assert ("sequenceFlow", "F_hearing", "changed", "condition") in changes  # the diagram's own diff is kept
    _publish(world, v2["id"])
    # The case opened on v1 decides with v1's table: 20000 * 2 = 40000 ≥ 10000 → hearing (v2 would say no).
    assert world.ready(world.complete(waiting, "Task_file", "acc"), "Task_hearing")
    assert world.ready(_filed(world, 20000), "Task_decide")  # a new case runs on v2: 60000 < 100000


def test_the_review_page_shows_the_decision_table(app, frozen_now):
    from tests.e2e.ui_support import give_passwords, login

    world = _world(app)
    _, d = _upload(world, diagrams.business_rule(), ("penalty.dmn", diagrams.decision_table()))
    assert world.api.post(f"/api/v1/definitions/{d['id']}/submit", "designer", {})[0] == 200
    give_passwords(app)
    client = app.test_client()
    assert login(client, "legal").status_code == 302
    page = client.get(f"/review/{d['id']}").get_data(as_text=True)
    assert 'id="decision-penalty_standard"' in page and "决策表" in page
    assert "when 违法所得: &lt; 10000; 初次违法: true then fine = 0" in page


def test_a_decision_that_cannot_be_taken_is_a_clear_422_and_the_case_stays_put(app, frozen_now):
    world = _world(app)
    overlapping = diagrams.decision_table(hit_policy="UNIQUE", rules=[("> 0", "-", "1"), ("> 10", "-", "2")])
    _, d = _upload(world, diagrams.business_rule(), ("penalty.dmn", overlapping))
    _publish(world, d["id"])
    case = world.new_case(data={"illegal_income": 100, "first_offence": False}, item=CODE)
    body = world.complete(case, "Task_file", "acc", expect=422)
    assert body["error"]["code"] == "engine_error" and body["error"]["details"][0]["element_id"] == "Rule_fine"
    assert "rules 1, 2 all match" in body["error"]["message"]
    assert world.ready(case_of(world, case["case_no"]), "Task_file") and not by_bpmn(case, "Task_decide")
