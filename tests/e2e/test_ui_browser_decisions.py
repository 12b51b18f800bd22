"""Decisions, documents and 双公示 in a real browser (headless Debian Chromium): the receipt printed at the window,
a decision made on the case page, the legal office's decisions tab, the public decisions and check pages.
Screenshots (and the printed receipt as a PDF) land in tests/e2e/screenshots/."""
from __future__ import annotations

import re

import pytest

from app.documents import render as doc_render
from app.documents.models import Document
from tests.e2e.test_ui_browser import _work_step
from tests.e2e.ui_support import (SHOTS, browser, live_server, page, shot, sign_in, sign_out, ui_app,  # noqa: F401
                                  ui_world)
from tests.integration.test_decisions import FINE, PENALTY, PENALTY_XML
from tests.world import deploy_item

pytestmark = pytest.mark.skipif(doc_render.unavailable_because() is not None,
                                reason=f"PDFs cannot be rendered here: {doc_render.unavailable_because()}")


def test_the_window_prints_the_receipt_and_the_decision_goes_public(page, live_server, ui_world, ui_app):
    assert ui_world.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "admin",
                             json={"decision_step": "Task_decide"})[0] == 200
    sign_in(page, live_server, "acc")
    page.goto(f"{live_server}/cases/new?item=CA01-XK-0001")
    page.select_option("select[name=kind]", "organisation")
    page.fill("input[name=name]", "无锡市惠民食品有限公司")
    page.fill("input[name=id_number]", "91320200MA1XXXXX0X")
    page.check("input[name=paper_0]")
    page.check("input[name=paper_1]")
    page.click("#new-case-form button[type=submit]")
    page.wait_for_selector("#receipt")
    code = page.inner_text("#receipt-code")
    case_no = re.search(r"/cases/(\d{8}-\d{6})", page.url).group(1)
    assert re.fullmatch(r"[A-Z0-9]{8}", code) and "受理通知书" in page.inner_text("#documents")
    shot(page, "21_receipt")
    # Print it as the window would: only the receipt goes on paper.
    page.evaluate("document.body.classList.add('printing-receipt')")
    page.emulate_media(media="print")
    SHOTS.mkdir(exist_ok=True)
    page.pdf(path=str(SHOTS / "21_receipt_printed.pdf"), format="A5")
    assert page.locator("#documents").is_hidden() and page.locator("#receipt").is_visible()
    shot(page, "22_receipt_print_view")
    page.emulate_media(media="screen")
    assert (SHOTS / "21_receipt_printed.pdf").read_bytes().startswith(b"%PDF-")
    with page.expect_popup() as popup:
        page.click("#document-list a")
    assert popup.value.url.endswith(tuple("0123456789"))
    _work_step(page, live_server, case_no, opinion="材料齐全，予以受理")
    sign_out(page)
    sign_in(page, live_server, "rev")
    _work_step(page, live_server, case_no, {"approved": True}, "经审查，符合法定条件")
    sign_out(page)

    sign_in(page, live_server, "dec")
    page.goto(f"{live_server}/cases/{case_no}")
    form = page.locator(".task-form form").first
    form.locator("select[name=decision_outcome]").select_option("granted")
    form.locator("textarea[name=decision_summary]").fill("准予食品经营许可，有效期五年")
    form.locator("textarea[name=opinion]").fill("符合条件，准予许可")
    shot(page, "23_decision_form")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已作出" in page.inner_text("#decision") and "已公示" in page.inner_text("#publication")
    assert "决定书" in page.inner_text("#documents")
    shot(page, "24_case_decided")
    sign_out(page)

    page.click("nav.main >> text=双公示")
    assert "无锡市惠民食品有限公司" in page.inner_text("#decisions")
    page.fill("#decision-search input[name=q]", "惠民")
    page.click("#decision-search button[type=submit]")
    assert "准予食品经营许可" in page.inner_text("#decisions")
    shot(page, "25_public_decisions")
    page.goto(f"{live_server}/decisions?lang=en")
    shot(page, "26_public_decisions_en")

    with ui_app.extensions["sunlight.db"].unit_of_work() as s:
        doc = s.query(Document).filter(Document.kind == "decision").one()
        number, vcode, sha = doc.number, doc.verification_code, doc.sha256
    page.goto(f"{live_server}/verify?lang=zh")
    page.fill("#verify-form input[name=number]", number)
    page.fill("#verify-form input[name=code]", vcode)
    page.click("#verify-form button[type=submit]")
    assert page.inner_text("#doc-hash") == sha and "有效" in page.inner_text("#doc-status")
    shot(page, "27_verify")
    assert not page.js_errors


def test_the_legal_office_reviews_a_major_decision_in_its_tab(page, live_server, ui_world):
    from app.orgs import service as orgs

    db = ui_world.api.client.application.extensions["sunlight.db"]
    with db.unit_of_work() as s:
        for name, posts in (("enf", ["执法岗"]), ("lawrev", ["法制审核岗"]), ("head", ["负责人"])):
            ui_world.tokens[name] = orgs.issue_token(s, orgs.create_user(s, name, "clerk", "CA01", posts, None, "t"), "t")
    deploy_item(ui_world, PENALTY, PENALTY_XML)
    _, case = ui_world.api.post("/api/v1/cases", "enf", {"item_code": "CA01-CF-0001", "applicant": {
        "name": "崇安寺小吃店", "kind": "organisation"}})
    for step, user in (("Task_file", "enf"), ("Task_investigate", "enf"), ("Task_review", "lawrev"),
                       ("Task_notify", "enf")):
        case = ui_world.complete(case, step, user, {"hearing_requested": False})
    ui_world.complete(case, "Task_decide", "head", {"penalty_decided": True}, expect=422)
    task = ui_world.ready(case, "Task_decide")
    status, _ = ui_world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "head",
                                  {"data": {"penalty_decided": True}, "opinion": "拟罚款", "decision": FINE})
    assert status == 409
    sign_in(page, live_server, "legal")
    page.click("#tab-decisions")
    row = page.locator(f"#pending-{case['case_no']}")
    assert "没收违法所得" in row.inner_text()
    shot(page, "28_review_decisions")
    row.locator("textarea[name=opinion]").fill("事实清楚，证据确凿，程序合法，同意")
    row.locator("button[value=approve]").click()
    assert "法制审核通过" in page.inner_text(".flash.success")
    assert page.locator("#decision-queue").count() == 0
    assert not page.js_errors
