"""The pages of decisions, documents and 双公示 without a browser (Flask's test client)."""
from __future__ import annotations

import re

import pytest

from app.documents import render as doc_render
from app.documents.models import Document
from app.orgs import service as orgs
from tests.e2e.ui_support import csrf_of, login, ui_app, ui_world  # noqa: F401
from tests.integration.test_decisions import FINE, PENALTY, PENALTY_XML
from tests.world import deploy_item

needs_renderer = pytest.mark.skipif(doc_render.unavailable_because() is not None,
                                    reason=f"PDFs cannot be rendered here: {doc_render.unavailable_because()}")


@pytest.fixture
def world(ui_app, ui_world, frozen_now):
    with ui_app.extensions["sunlight.db"].unit_of_work() as s:
        for name, posts in (("enf", ["执法岗"]), ("lawrev", ["法制审核岗"]), ("head", ["负责人"])):
            user = orgs.create_user(s, name, "clerk", "CA01", posts, None, "test")
            user.password_hash = orgs.user_by_name(s, "acc").password_hash
            ui_world.tokens[name] = orgs.issue_token(s, user, "test")
    deploy_item(ui_world, PENALTY, PENALTY_XML)
    assert ui_world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "admin", json={"decision_step": "Task_decide"})[0] == 200
    return ui_world


def _penalty_at_decision(world):
    status, case = world.api.post("/api/v1/cases", "enf", {"item_code": "CA01-CF-0001", "applicant": {
        "name": "崇安寺小吃店", "id_number": "", "phone": "", "kind": "organisation"}})
    assert status == 201, case
    for step, user in (("Task_file", "enf"), ("Task_investigate", "enf"), ("Task_review", "lawrev"),
                       ("Task_notify", "enf")):
        case = world.complete(case, step, user, {"hearing_requested": False})
    return case


def _decide(client, no, task_id, html, **fields):
    form = {"csrf_token": csrf_of(html), "opinion": "拟处罚", "field_penalty_decided": "1",
            "decision_outcome": FINE["outcome"], "decision_summary": FINE["summary"],
            "decision_legal_basis": FINE["legal_basis"], "decision_amount": "50000", **fields}
    return client.post(f"/cases/{no}/tasks/{task_id}/complete", data=form, follow_redirects=True)


@needs_renderer
def test_the_receipt_with_the_query_code_is_shown_once_and_the_acceptance_notice_is_listed(ui_app, world):
    client = ui_app.test_client()
    login(client, "acc")
    page = client.get("/cases/new?item=CA01-XK-0001").get_data(as_text=True)
    response = client.post("/cases/new?item=CA01-XK-0001", data={
        "csrf_token": csrf_of(page), "name": "{{7*7}}", "id_number": "", "phone": "", "kind": "person",
        "paper_0": "1", "paper_1": "1"}, follow_redirects=True)
    html = response.get_data(as_text=True)
    code = re.search(r'id="receipt-code">([A-Z0-9]{8})<', html).group(1)
    assert 'id="print-receipt"' in html and "{{7*7}}" in html and "49" not in html.split('id="receipt"')[1][:400]
    no = re.search(r"/cases/(\d{8}-\d{6})", response.request.path).group(1)
    assert "受理通知书" in html and "CA01受〔2026〕1号" in html
    again = client.get(f"/cases/{no}").get_data(as_text=True)
    assert 'id="receipt"' not in again and code not in again  # shown once
    link = re.search(rf'href="(/cases/{no}/documents/\d+)"', again).group(1)
    pdf = client.get(link)
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF-")
    login(client, "outsider")
    assert client.get(link).status_code == 404


def test_a_major_decision_goes_to_the_legal_office_tab_and_comes_back_with_the_reason(ui_app, world):
    case = _penalty_at_decision(world)
    no = case["case_no"]
    task = world.ready(case, "Task_decide")
    clerk = ui_app.test_client()
    login(clerk, "head")
    html = clerk.get(f"/cases/{no}").get_data(as_text=True)
    assert 'id="decision-fields"' in html and 'name="decision_outcome"' in html
    response = _decide(clerk, no, task["id"], html, decision_summary="")
    assert "decision.summary" in response.get_data(as_text=True)  # refused, naming the field
    response = _decide(clerk, no, task["id"], html)
    page = response.get_data(as_text=True)
    assert "已提交法制审核" in page and 'id="decision-pending"' in page

    legal = ui_app.test_client()
    login(legal, "legal")
    queue = legal.get("/review?tab=decisions").get_data(as_text=True)
    assert 'id="decision-queue"' in queue and no in queue and "没收违法所得" in queue
    assert 'id="tab-definitions"' in queue and 'id="tab-decisions"' in queue
    response = legal.post(f"/review/decisions/{no}", data={"csrf_token": csrf_of(queue), "decision": "reject",
                                                          "opinion": "缺少裁量依据"}, follow_redirects=True)
    assert "已退回" in response.get_data(as_text=True)
    html = clerk.get(f"/cases/{no}").get_data(as_text=True)
    assert 'id="decision-rejected"' in html and "缺少裁量依据" in html
    _decide(clerk, no, task["id"], html)
    queue = legal.get("/review?tab=decisions").get_data(as_text=True)
    legal.post(f"/review/decisions/{no}", data={"csrf_token": csrf_of(queue), "decision": "approve",
                                               "opinion": "同意"})
    html = clerk.get(f"/cases/{no}").get_data(as_text=True)
    assert 'id="decision-approved"' in html
    assert "已提交" in _decide(clerk, no, task["id"], html).get_data(as_text=True)  # on to the worklist
    html = clerk.get(f"/cases/{no}").get_data(as_text=True)
    assert 'id="decision"' in html and "已作出" in html and "同意" in html
    assert clerk.get("/review?tab=decisions").status_code == 403  # the tab is the legal office's


def test_the_public_decisions_page_searches_and_pages_and_names_no_person(ui_app, world):
    for name in ("崇安寺小吃店", "王二小"):
        status, case = world.api.post("/api/v1/cases", "acc", {"item_code": "CA01-XK-0001", "applicant": {
            "name": name, "id_number": "320102199001011234", "phone": "13800000000"}})
        for step, user, data in (("Task_accept", "acc", {}), ("Task_review", "rev", {"approved": True})):
            case = world.complete(case, step, user, data)
        task = world.ready(case, "Task_decide")
        status, body = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "dec", {
            "opinion": "准予", "decision": {"outcome": "granted", "summary": f"准予{name}食品经营许可",
                                           "legal_basis": "《中华人民共和国食品安全法》第三十五条"}})
        assert status == 200, body
    client = ui_app.test_client()
    html = client.get("/decisions").get_data(as_text=True)
    assert 'id="decisions"' in html and "共 2 条决定" in html
    assert "王**" in html and "320102199001011234" not in html and "13800000000" not in html
    assert "准予王二小" in html  # what the clerk wrote in the summary is published as written
    html = client.get("/decisions?q=小吃店&category=licensing").get_data(as_text=True)
    assert "共 1 条决定" in html
    assert "Published decisions" in client.get("/decisions?lang=en").get_data(as_text=True)


@needs_renderer
def test_the_check_page_shows_the_hash_and_answers_the_same_for_unknown_and_wrong(ui_app, world):
    world.new_case()
    with ui_app.extensions["sunlight.db"].unit_of_work() as s:
        doc = s.query(Document).one()
        number, code = doc.number, doc.verification_code
        assert doc.sha256 is None  # issued with the case; its PDF is rendered when first needed (or by the worker)
    client = ui_app.test_client()
    page = client.get("/verify").get_data(as_text=True)
    html = client.post("/verify", data={"csrf_token": csrf_of(page), "number": number, "code": code}).get_data(as_text=True)
    with ui_app.extensions["sunlight.db"].unit_of_work() as s:
        sha = s.query(Document).one().sha256
    assert 'id="verified"' in html and sha in html and "有效" in html and "张三" not in html
    wrong = client.post("/verify", data={"csrf_token": csrf_of(page), "number": number, "code": "WRONG234"})
    unknown = client.post("/verify", data={"csrf_token": csrf_of(page), "number": "CA01受〔2026〕99号", "code": code})
    assert 'id="not-found"' in wrong.get_data(as_text=True)
    strip = lambda r: re.sub(r'name="(csrf_token|number)" value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert strip(wrong) == strip(unknown)


def test_a_held_decision_is_published_and_withdrawn_from_the_case_page(ui_app, world):
    world.api.call("PATCH", "/api/v1/items/CA01-CF-0001", "admin", json={"decision_publication": "clerk"})
    case = _penalty_at_decision(world)
    task = world.ready(case, "Task_decide")
    status, body = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "head", {
        "data": {"penalty_decided": True}, "opinion": "罚", "decision": {**FINE, "amount": 800}})
    assert status == 200, body
    client = ui_app.test_client()
    login(client, "enf")
    html = client.get(f"/cases/{case['case_no']}").get_data(as_text=True)
    assert 'id="publish-form"' in html and "待公示" in html and 'id="withdraw-decision-form"' not in html
    html = client.post(f"/cases/{case['case_no']}/decision/publish", data={"csrf_token": csrf_of(html)},
                       follow_redirects=True).get_data(as_text=True)
    assert "决定已公示" in html and 'id="publish-form"' not in html
    login(client, "admin")
    html = client.get(f"/cases/{case['case_no']}").get_data(as_text=True)
    html = client.post(f"/cases/{case['case_no']}/decision/withdraw", data={
        "csrf_token": csrf_of(html), "reason": "经复议撤销"}, follow_redirects=True).get_data(as_text=True)
    assert "已撤销" in html and "经复议撤销" in html
    public = client.get("/decisions").get_data(as_text=True)
    assert 'class="withdrawn"' in public and "崇安寺小吃店" in public
