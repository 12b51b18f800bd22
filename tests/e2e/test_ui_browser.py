"""The pages in a real browser: headless Debian Chromium driven by Playwright, against a waitress server.

Screenshots of each main page land in tests/e2e/screenshots/ (git-ignored) for a reviewer to look at.
"""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta, timezone

import pytest

from app import clock
from app.documents import render as doc_render
from app.documents.models import Document
from app.worker import sweep
from tests.e2e.ui_support import (SHOTS, browser, live_server, page, shot, sign_in, sign_out, ui_app,  # noqa: F401
                                  ui_world, wait_diagram)
from tests.integration.test_decisions import FINE, PENALTY, PENALTY_XML
from tests.notices import NOTICE_2027_MADE_UP
from tests.world import ITEM, LICENSING, deploy_item

needs_renderer = pytest.mark.skipif(doc_render.unavailable_because() is not None,
                                    reason=f"PDFs cannot be rendered here: {doc_render.unavailable_because()}")

HOMES = {"acc": ("/work", "我的待办"), "designer": ("/design", "流程设计"), "legal": ("/review", "法制审核"),
         "sup": ("/supervision", "电子监察"), "admin": ("/supervision", "电子监察")}


def test_each_role_signs_in_to_its_own_page(page, live_server):
    page.goto(f"{live_server}/login")
    shot(page, "00_login")
    for username, (path, heading) in HOMES.items():
        sign_in(page, live_server, username)
        assert page.url.endswith(path), (username, page.url)
        assert heading in page.inner_text("h1")
        shot(page, f"00_home_{username}")
        assert username in page.inner_text("header .who")
        sign_out(page)
        assert page.url.rstrip("/") == live_server
    sign_in(page, live_server, "acc")
    page.goto(f"{live_server}/review")  # a clerk on the legal office's page: refused, like the API
    assert "403" in page.inner_text("h1")
    assert not page.js_errors


def test_wrong_password_is_refused(page, live_server):
    page.goto(f"{live_server}/login")
    page.fill("input[name=username]", "acc")
    page.fill("input[name=password]", "not-the-password")
    page.click("#login-form button[type=submit]")
    assert "用户名或密码不正确" in page.inner_text(".flash.error")
    page.goto(f"{live_server}/work")
    assert "/login" in page.url


def test_public_hall_and_item_page(page, live_server):
    page.goto(f"{live_server}/")
    assert "食品经营许可" in page.inner_text("#items")
    page.fill("input[name=q]", "食品")
    page.click("form.search button[type=submit]")
    assert "CA01-XK-0001" in page.inner_text("#items")
    shot(page, "01_hall")
    page.click("text=食品经营许可")
    wait_diagram(page)
    assert "区政务服务中心市场监管窗口" in page.inner_text("#elements")
    assert page.locator("#diagram .djs-element[data-element-id=Task_review]").count() == 1
    assert page.locator("#diagram .bjs-powered-by").count() == 1  # the bpmn.io logo stays
    shot(page, "02_item")
    page.goto(f"{live_server}/?lang=en")
    assert "Online service hall" in page.inner_text("h1")
    shot(page, "03_hall_en")
    assert not page.js_errors


def _accept_case(page, base: str) -> tuple[str, str]:
    page.goto(f"{base}/work")
    page.fill("#accept-form input[name=item]", "CA01-XK-0001 食品经营许可")  # as the searchable list fills it
    page.click("#accept-form button[type=submit]")
    page.fill("input[name=name]", "无锡市惠民食品有限公司")
    page.fill("input[name=id_number]", "91320200MA1XXXXX0X")
    page.fill("input[name=phone]", "13900000000")
    page.click("#new-case-form button[type=submit]")  # nothing ticked: refused, all missing told at once
    assert page.locator(".flash.error").count() == 1
    assert "食品经营许可申请书" in page.inner_text(".flash.error") and "营业执照复印件" in page.inner_text(".flash.error")
    shot(page, "04_accept_refused")
    page.check("input[name=paper_0]")
    page.check("input[name=paper_1]")
    page.click("#new-case-form button[type=submit]")
    message = page.inner_text(".flash.success")
    case_no = re.search(r"\d{8}-\d{6}", message).group(0)
    code = re.search(r"查询码 ([A-Z0-9]{8})", message).group(1)
    return case_no, code


def _work_step(page, base: str, case_no: str, decisions: dict | None = None, opinion: str = "同意") -> None:
    page.goto(f"{base}/work")
    row = page.locator("#tasks tr", has_text=case_no)
    row.get_by_role("link").click()
    form = page.locator(".task-form form").first
    for name, value in (decisions or {}).items():
        form.locator(f"input[name=field_{name}][value='{1 if value else 0}']").check()
    form.locator("textarea[name=opinion]").fill(opinion)
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()


def test_a_clerk_accepts_works_and_completes_a_case(page, live_server):
    sign_in(page, live_server, "acc")
    case_no, code = _accept_case(page, live_server)
    wait_diagram(page)
    assert page.locator("#diagram .djs-element.sl-current[data-element-id=Task_accept]").count() == 1
    assert "食品经营许可申请书" in page.inner_text("#materials")
    shot(page, "05_case_accepted")
    _work_step(page, live_server, case_no, opinion="材料齐全，予以受理")
    assert "已提交" in page.inner_text(".flash.success")
    assert page.locator("#tasks tr", has_text=case_no).count() == 0  # the review step is another post's
    assert case_no in page.inner_text("#open-cases")  # but the case is open in the department
    sign_out(page)

    sign_in(page, live_server, "rev")
    assert case_no in page.inner_text("#tasks")
    shot(page, "06_worklist")
    page.locator("#tasks tr", has_text=case_no).get_by_role("link").click()
    wait_diagram(page)
    assert page.locator("#diagram .djs-element.sl-done[data-element-id=Task_accept]").count() == 1
    assert page.locator("#diagram .djs-element.sl-current[data-element-id=Task_review]").count() == 1
    assert page.locator(".task-form fieldset.decision[title=approved]").count() == 1  # the variable: a tooltip only
    assert "approved" not in page.inner_text(".task-form fieldset.decision")
    shot(page, "07_case_review_step")
    # The diagram zooms, fits and goes full screen (Esc leaves it) for a flow too big to read in its box.
    viewbox = lambda: page.get_attribute("#diagram .viewport", "transform")  # noqa: E731
    before = viewbox()
    page.click("#diagram-tools button[data-zoom=in]")
    assert viewbox() != before
    page.click("#diagram-tools button[data-zoom=full]")
    assert "full" in page.get_attribute("#diagram", "class")
    shot(page, "07b_case_diagram_full_screen")
    page.keyboard.press("Escape")
    assert "full" not in page.get_attribute("#diagram", "class")
    _work_step(page, live_server, case_no, {"approved": True}, "经审查，符合法定条件")
    sign_out(page)

    # The citizen asks in the middle of it: the current step and what comes next, nothing personal.
    page.goto(f"{live_server}/progress")
    page.fill("input[name=case_no]", case_no)
    page.fill("input[name=code]", code)
    page.click("#progress-form button[type=submit]")
    result = page.inner_text("#result")
    assert "决定" in page.inner_text("#current-steps") and "食品经营许可" in result
    assert "无锡市惠民食品有限公司" not in page.content() and "13900000000" not in page.content()
    shot(page, "08_progress")
    page.fill("input[name=case_no]", case_no)
    page.fill("input[name=code]", "WRONG234")
    page.click("#progress-form button[type=submit]")
    assert page.locator("#result").count() == 0 and page.locator("#not-found").count() == 1
    wrong = page.inner_text("#not-found")
    page.fill("input[name=case_no]", "19990101-000000")
    page.fill("input[name=code]", code)
    page.click("#progress-form button[type=submit]")
    assert page.inner_text("#not-found") == wrong  # unknown case and wrong code look the same

    sign_in(page, live_server, "dec")
    _work_step(page, live_server, case_no, opinion="准予许可")
    assert "已办结" in page.inner_text(".flash.success")
    assert page.url.endswith(f"/cases/{case_no}")
    wait_diagram(page)
    history = page.inner_text("#history")
    assert "材料齐全，予以受理" in history and "经审查，符合法定条件" in history and "rev" in history
    assert page.locator("#diagram .djs-element.sl-current").count() == 0
    shot(page, "09_case_completed")
    assert not page.js_errors


def test_suspend_and_resume_the_clock(page, live_server, ui_world):
    case = ui_world.new_case()
    sign_in(page, live_server, "rev")
    page.goto(f"{live_server}/cases/{case['case_no']}")
    page.select_option("#suspend-form select[name=kind]", "supplement")
    page.fill("#suspend-form input[name=reason]", "申请材料不齐全")
    page.fill("#suspend-form textarea[name=missing_materials]", "场所使用证明\n法定代表人身份证明")
    page.click("#suspend-form button[type=submit]")
    assert "已暂停计时" in page.inner_text(".flash.success")
    assert "场所使用证明" in page.inner_text("main")
    page.click("#resume-form button[type=submit]")
    assert "已恢复计时" in page.inner_text(".flash.success")
    assert page.locator("#suspend-form").count() == 1


def test_a_designer_edits_saves_a_draft_and_sees_a_problem_on_the_element(page, live_server):
    sign_in(page, live_server, "designer")
    page.locator("#design-items tr", has_text="CA01-XK-0001").get_by_role("link").click()
    page.wait_for_selector("#canvas[data-ready=true]")
    assert page.locator("#properties .bio-properties-panel").count() == 1
    assert page.locator("#canvas .bjs-powered-by").count() == 1
    # An edit through the properties panel: rename the review step.
    page.click("#canvas .djs-element[data-element-id=Task_review]")
    name = page.locator("#properties textarea[name=name], #properties input[name=name]").first
    if not name.is_visible():  # the panel's "General" group starts collapsed
        page.click("#properties [data-group-id=group-general] .bio-properties-panel-group-header")
    name.fill("实质审查")
    page.keyboard.press("Tab")
    shot(page, "10_modeler")
    page.click("#save-draft")
    page.wait_for_url(re.compile(r"saved=1"))
    page.wait_for_selector("#canvas[data-ready=true]")
    assert "v2" in page.inner_text("#versions")
    assert page.locator("#canvas .djs-element[data-element-id=Task_review]").text_content() == "实质审查"
    # A condition that is not a safe expression is refused by the server and pinned on its flow.
    page.evaluate("""() => {
        const m = window.sunlightModeler, flow = m.get('elementRegistry').get('Flow_approve');
        const expr = m.get('moddle').create('bpmn:FormalExpression', {body: "__import__('os').system('x')"});
        m.get('modeling').updateProperties(flow, {conditionExpression: expr});
    }""")
    page.click("#save-draft")
    page.wait_for_selector(".problem-pin[data-element-id=Flow_approve]")
    assert "Flow_approve" in page.inner_text("#problems")
    assert page.locator(".djs-element.sl-problem[data-element-id=Flow_approve]").count() == 1
    shot(page, "11_modeler_problem")
    # Submit the good draft (v2) for review.
    page.locator("#versions tr", has_text="v2").get_by_role("button").click()
    assert "已提交法制审核" in page.inner_text(".flash.success")
    assert not page.js_errors


def test_the_legal_office_sees_the_changes_and_approves(page, live_server, ui_world):
    changed = LICENSING.replace(b'name="\xe5\xae\xa1\xe6\x9f\xa5"', "name=\"实质审查\"".encode()).replace(b"PT72H", b"PT48H")
    api = ui_world.api
    status, d = api.post("/api/v1/items/CA01-XK-0001/definitions", "designer", data=changed, ctype="application/xml")
    assert status == 201, d
    assert api.post(f"/api/v1/definitions/{d['id']}/submit", "designer", {})[0] == 200
    sign_in(page, live_server, "legal")
    assert "CA01-XK-0001" in page.inner_text("#queue")
    shot(page, "12_review_queue")
    page.locator("#queue tr", has_text="CA01-XK-0001").get_by_role("link").click()
    wait_diagram(page)
    changes = page.inner_text("#changes")
    assert "Task_review" in changes and "实质审查" in changes and "Timer_review_late" in changes
    assert page.locator("#diagram .djs-element.sl-changed[data-element-id=Task_review]").count() == 1
    shot(page, "13_review")
    page.fill("#review-form textarea[name=comment]", "经审核，符合法定权限和程序")
    page.click("#review-form button[value=approve]")
    assert "已批准并发布" in page.inner_text(".flash.success")
    assert page.locator("#queue").count() == 0
    assert api.get(f"/api/v1/definitions/{d['id']}", "legal")[1]["status"] == "published"
    assert not page.js_errors


def test_a_supervisor_sees_the_cards_and_issues_an_order(page, live_server, ui_world, ui_app):
    db, settings = ui_app.extensions["sunlight.db"], ui_app.extensions["sunlight.settings"]
    real = clock.now()
    clock.travel_to(real - timedelta(days=40))
    late = ui_world.new_case()
    ui_world.complete(late, "Task_accept", "acc")
    clock.travel_to(real - timedelta(days=10))
    on_time = ui_world.new_case()
    for step, user, data in (("Task_accept", "acc", {}), ("Task_review", "rev", {"approved": True}),
                             ("Task_decide", "dec", {})):
        on_time = ui_world.complete(on_time, step, user, data)
    clock.travel_to(None)
    sweep(db, settings)  # the worker raises the cards that fell due meanwhile
    sign_in(page, live_server, "sup")
    row = page.locator("#cards tr", has_text=late["case_no"])
    assert "红牌" in row.inner_text()
    page.wait_for_selector("#chart-ontime svg")  # drawn by ECharts (npm, no CDN) from the page's JSON
    assert page.locator("#chart-months svg").count() == 1
    ontime = json.loads(page.inner_text("#data-ontime"))
    assert ontime["series"][0]["values"] == [100]  # the case done on time
    shot(page, "14_supervision")
    row.locator("summary").click()
    row.locator("textarea[name=instruction]").fill("请说明超期原因并于两日内办结")
    due = (clock.now().astimezone(settings.tz) + timedelta(days=2)).strftime("%Y-%m-%dT%H:%M")
    row.locator("input[name=due_at]").fill(due)
    row.locator("button[type=submit]").click()
    assert "已下发督办单" in page.inner_text(".flash.success")
    assert late["case_no"] in page.inner_text("#orders")
    page.select_option("#filters select[name=department]", "CA02")
    page.click("#filters button[type=submit]")
    assert page.locator("#cards").count() == 0  # nothing of CA02 is late
    sign_out(page)
    sign_in(page, live_server, "rev")  # the clerk sees the order on the case and replies
    page.goto(f"{live_server}/cases/{late['case_no']}")
    page.fill(".order input[name=text]", "已补充审查，今日办结")
    page.click(".order button[type=submit]")
    assert "已回复督办" in page.inner_text(".flash.success")
    shot(page, "15_case_with_order")
    assert page.locator(".close-order").count() == 0  # closing is the supervisor's
    sign_out(page)
    sign_in(page, live_server, "sup")  # the supervisor closes the order on the case page, then reopens it
    page.goto(f"{live_server}/cases/{late['case_no']}")
    assert page.locator("#issue-order").count() == 0  # one open order per case: no second one offered
    page.fill(".close-order input[name=text]", "已办结，情况属实")
    page.click(".close-order button[type=submit]")
    assert "督办已办结" in page.inner_text(".flash.success")
    assert "已办结" in page.inner_text(".order")
    page.fill(".reopen-order input[name=text]", "仍未办结，请继续整改")
    page.fill(".reopen-order input[name=due_at]", due)
    page.click(".reopen-order button[type=submit]")
    assert "已重新督办" in page.inner_text(".flash.success")
    assert "仍未办结，请继续整改" in page.inner_text(".order") and page.locator(".close-order").count() == 1
    shot(page, "15b_order_closed_and_reopened")
    assert not page.js_errors


def test_english_pages_for_staff(page, live_server):
    sign_in(page, live_server, "acc")
    page.goto(f"{live_server}/work?lang=en")
    assert "My worklist" in page.inner_text("h1")
    shot(page, "16_worklist_en")


def test_a_department_other_than_the_case_sees_nothing(page, live_server, ui_world):
    case = ui_world.new_case()
    status, body = ui_world.api.post("/api/v1/items", "admin", {**ITEM, "code": "CA02-XK-0001", "department": "CA02",
                                                                "name": "户外广告设置许可"})
    assert status == 201, body
    sign_in(page, live_server, "outsider")
    response = page.goto(f"{live_server}/cases/{case['case_no']}")
    assert response.status == 404 and "找不到" in page.inner_text("main")
    sign_out(page)
    sign_in(page, live_server, "designer")
    assert page.goto(f"{live_server}/design/CA02-XK-0001").status == 404


def test_an_admin_pastes_the_holiday_notice_reviews_and_saves(page, live_server, ui_world):
    year = 2027  # not in the pinned chinesecalendar package: not entered in the test database
    clock.travel_to(datetime(2026, 12, 14, 1, 0, tzinfo=timezone.utc))  # Monday 14 December 2026, Beijing 09:00
    ui_world.new_case()  # its statutory deadline runs into January 2027: the save moves it
    sign_in(page, live_server, "admin")
    page.click("nav.main >> text=工作日历")
    assert "工作日历" in page.inner_text("h1") and page.locator("table.month").count() == 12
    page.select_option("#year-form select[name=year]", str(year))
    page.click("#year-form button[type=submit]")
    assert "尚未录入" in page.inner_text("#not-entered")
    shot(page, "17_calendar_not_entered")

    page.fill("#parse-form textarea[name=text]", NOTICE_2027_MADE_UP)
    page.click("#parse-form button[type=submit]")
    page.wait_for_selector("#review")
    assert page.locator("#problems").count() == 0
    assert "2027-10-07" in page.inner_text("#changes .change-added_holidays")
    assert page.locator("#months td.d-changed").count() == 24  # 18 weekday holidays, 6 weekend working days
    assert page.locator("#entries tbody tr").count() == 7
    assert "2027-01-31" in page.input_value("#save-form textarea[name=workdays]")
    shot(page, "18_calendar_review")

    page.click("#save-form button[type=submit]")
    assert "1 个在办件" in page.inner_text(".flash.success")
    assert page.locator("#not-entered").count() == 0
    assert f"关于{year}年部分节假日安排" in page.inner_text("#source")
    assert page.locator("#months td.d-holiday[data-day='2027-02-10']").count() == 1
    assert page.locator("#months td.d-workday[data-day='2027-02-20']").count() == 1
    shot(page, "19_calendar_saved")
    page.goto(f"{live_server}/calendar?year={year}&lang=en")
    assert "Working-day calendar" in page.inner_text("h1")
    shot(page, "20_calendar_en")
    assert not page.js_errors


def test_the_assessment_ranks_departments_with_charts_publishes_and_deputies_evaluate(page, live_server, ui_world,
                                                                                        ui_app):
    from app.orgs import service as orgs
    from tests.e2e.ui_support import PASSWORD

    clock.travel_to(datetime(2026, 11, 2, 1, 0, tzinfo=timezone.utc))  # Monday 2 November 2026, 09:00 Beijing
    done = ui_world.new_case()
    for step, user, data in (("Task_accept", "acc", {}), ("Task_review", "rev", {"approved": True}),
                             ("Task_decide", "dec", {})):
        done = ui_world.complete(done, step, user, data)
    ui_world.new_case()
    with ui_app.extensions["sunlight.db"].unit_of_work() as s:
        orgs.create_user(s, "deputy", "evaluator", "CA", [], PASSWORD, "test")
    status, campaign = ui_world.api.post("/api/v1/evaluations", "admin", {
        "period": "2026-11", "title": "2026年11月人大代表评议", "evaluators": ["deputy"], "departments": ["CA01", "CA02"]})
    assert status == 201, campaign
    sign_in(page, live_server, "deputy")
    assert page.url.endswith("/evaluate")
    row = page.locator(f"#campaign-{campaign['id']} tr", has_text="区市场监督管理局")
    row.locator("input[name=score]").fill("88")
    row.locator("input[name=comment]").fill("办事效率较高")
    row.locator("button[type=submit]").click()
    assert "评议已提交" in page.inner_text(".flash.success")
    shot(page, "21_evaluate")
    sign_out(page)
    sign_in(page, live_server, "admin")
    page.goto(f"{live_server}/assessment?period=2026-11")
    ranking = page.inner_text("#ranking")
    assert "区市场监督管理局" in ranking and "88" in ranking
    page.wait_for_selector("#scores-chart svg")  # ECharts drew it (from npm, no CDN)
    assert page.locator("#cards-chart svg").count() == 1
    shot(page, "22_assessment")
    page.click("#publish-form button[type=submit]")
    assert "第 1 版" in page.inner_text(".flash.success")
    page.click("#ranking a:has-text('区市场监督管理局')")
    assert "本期无办件的事项" in page.inner_text("#idle-items")
    shot(page, "23_assessment_department")
    sign_out(page)
    page.goto(f"{live_server}/assessment/public?period=2026-11")
    assert "区市场监督管理局" in page.inner_text("#public-ranking")
    shot(page, "24_assessment_public")
    assert not page.js_errors


def test_a_clerk_finds_a_case_from_the_header_search(page, live_server, ui_world):
    status, case = ui_world.api.post("/api/v1/cases", "acc", {"item_code": ITEM["code"], "applicant": {
        "name": "王小明", "id_number": "320102199005051234", "phone": "13612345678"}})
    assert status == 201
    sign_in(page, live_server, "acc")
    page.fill("header .header-search input[name=q]", "13612345678")
    page.press("header .header-search input[name=q]", "Enter")
    page.wait_for_selector("#results")
    assert case["case_no"] in page.inner_text("#results") and "王小明" in page.inner_text("#results")
    shot(page, "25_case_search")
    page.click(f"#results a:has-text('{case['case_no']}')")
    assert case["case_no"] in page.inner_text("h1")
    assert not page.js_errors


# --- decisions, documents and 双公示 (issue 13) ---------------------------------------------------------------
@needs_renderer
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
    shot(page, "26_receipt")
    # Print it as the window would: only the receipt goes on paper.
    page.evaluate("document.body.classList.add('printing-receipt')")
    page.emulate_media(media="print")
    SHOTS.mkdir(exist_ok=True)
    page.pdf(path=str(SHOTS / "26_receipt_printed.pdf"), format="A5")
    assert page.locator("#documents").is_hidden() and page.locator("#receipt").is_visible()
    shot(page, "27_receipt_print_view")
    page.emulate_media(media="screen")
    assert (SHOTS / "26_receipt_printed.pdf").read_bytes().startswith(b"%PDF-")
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
    shot(page, "28_decision_form")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    assert "已作出" in page.inner_text("#decision") and "已公示" in page.inner_text("#publication")
    assert "决定书" in page.inner_text("#documents")
    shot(page, "29_case_decided")
    sign_out(page)

    page.click("nav.main >> text=双公示")
    assert "无锡市惠民食品有限公司" in page.inner_text("#decisions")
    page.fill("#decision-search input[name=q]", "惠民")
    page.click("#decision-search button[type=submit]")
    assert "准予食品经营许可" in page.inner_text("#decisions")
    shot(page, "30_public_decisions")
    page.goto(f"{live_server}/decisions?lang=en")
    shot(page, "31_public_decisions_en")

    with ui_app.extensions["sunlight.db"].unit_of_work() as s:
        doc = s.query(Document).filter(Document.kind == "decision").one()
        number, vcode = doc.number, doc.verification_code
    page.goto(f"{live_server}/verify?lang=zh")
    page.fill("#verify-form input[name=number]", number)
    page.fill("#verify-form input[name=code]", vcode)
    page.click("#verify-form button[type=submit]")
    with ui_app.extensions["sunlight.db"].unit_of_work() as s:  # rendered by now: the check shows its hash
        sha = s.query(Document).filter(Document.kind == "decision").one().sha256
    assert sha and page.inner_text("#doc-hash") == sha and "有效" in page.inner_text("#doc-status")
    shot(page, "32_verify")
    assert not page.js_errors


@needs_renderer
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
    shot(page, "33_review_decisions")
    row.locator("textarea[name=opinion]").fill("事实清楚，证据确凿，程序合法，同意")
    row.locator("button[value=approve]").click()
    assert "法制审核通过" in page.inner_text(".flash.success")
    assert page.locator("#decision-queue").count() == 0
    assert not page.js_errors


def test_the_modeler_edits_camunda_properties_and_asks_before_unsaved_edits_are_lost(page, live_server):
    """The properties panel shows what Sunlight reads (a service task's topic), writes it back as Camunda does,
    confirms a save, and asks before opening a template over unsaved edits."""
    sign_in(page, live_server, "designer")
    page.locator("#design-items tr", has_text="CA01-XK-0001").get_by_role("link").click()
    page.wait_for_selector("#canvas[data-ready=true]")
    page.evaluate("""() => {  // the review step becomes external work, as a designer would turn it into one
        const m = window.sunlightModeler, registry = m.get('elementRegistry');
        const task = m.get('bpmnReplace').replaceElement(registry.get('Task_review'), {type: 'bpmn:ServiceTask'});
        m.get('modeling').updateProperties(task, {'camunda:type': 'external', 'camunda:topic': 'credit_check'});
        m.get('selection').select(task);
    }""")
    topic = page.locator("#properties input[name=externalTopic]")
    if not topic.is_visible():  # the Implementation group starts collapsed
        page.click("#properties [data-group-id=group-CamundaPlatform__Implementation] "
                   ".bio-properties-panel-group-header")
    assert topic.input_value() == "credit_check"
    topic.fill("credit_check_v2")
    page.keyboard.press("Tab")
    shot(page, "34_modeler_topic")
    messages = []
    page.on("dialog", lambda dialog: (messages.append(dialog.message), dialog.dismiss()))
    page.click("form:has(select[name=template]) button[type=submit]")  # a template over the edit: asked, stays
    assert messages and "未保存的修改" in messages[0]
    assert "template=" not in page.url
    page.click("#save-draft")
    page.wait_for_url(re.compile(r"saved=1"))
    page.wait_for_selector("#canvas[data-ready=true]")
    assert page.inner_text("#save-status") == "已保存"
    xml = page.evaluate("() => window.sunlightModeler.saveXML().then(r => r.xml)")
    assert 'camunda:topic="credit_check_v2"' in xml and "<bpmn:serviceTask" in xml
    assert not page.js_errors


def test_a_mixed_acceptance_and_a_clerk_who_stays_on_the_case(page, live_server, ui_app):
    from app.orgs import service as orgs
    from tests.e2e.ui_support import password_hash

    with ui_app.extensions["sunlight.db"].unit_of_work() as s:  # a small window: one clerk accepts and reviews
        orgs.create_user(s, "solo", "clerk", "CA01", ["受理岗", "审查岗"], None, "test").password_hash = password_hash()
    sign_in(page, live_server, "solo")
    page.fill("#accept-form input[name=item]", "CA01-XK-0001 食品经营许可")
    page.click("#accept-form button[type=submit]")
    page.fill("input[name=name]", "无锡市惠民食品有限公司")
    page.set_input_files("input[name=file_0]", files=[{"name": "申请书.pdf", "mimeType": "application/pdf",
                                                       "buffer": b"%PDF-1.4\n% a tiny test file\n"}])
    page.check("input[name=paper_1]")  # the licence copy checked on paper at the window
    page.click("#new-case-form button[type=submit]")
    case_no = re.search(r"\d{8}-\d{6}", page.inner_text(".flash.success")).group(0)
    materials = page.inner_text("#materials")
    assert "申请书.pdf" in materials and "纸质材料已核验" in materials
    shot(page, "35_mixed_acceptance")
    page.locator(".task-form textarea[name=opinion]").first.fill("材料齐全，予以受理")
    page.locator(".task-form button[type=submit]").first.click()
    page.wait_for_load_state()
    assert "下一环节仍由您办理" in page.inner_text(".flash.success")
    assert page.url.endswith(f"/cases/{case_no}")  # not sent back to the worklist: the review is theirs too
    assert "审查" in page.inner_text(".task-form")
    shot(page, "36_stays_on_the_case")
    assert not page.js_errors


def test_the_modeler_lints_while_drawing_in_the_pages_language(page, live_server):
    """bpmnlint with Sunlight's rules marks, before any save, what the server would refuse: in Chinese, and in
    English on the English page; the district's own diagram draws clean."""
    sign_in(page, live_server, "designer")
    page.locator("#design-items tr", has_text="CA01-XK-0001").get_by_role("link").click()
    page.wait_for_selector("#canvas[data-ready=true]")
    lint = "() => window.sunlightModeler.get('linting').lint()"
    assert page.evaluate(lint) == {}
    page.wait_for_selector(".bjsl-button")
    assert "没有发现问题" in page.inner_text(".bjsl-button")
    page.evaluate("""() => {  // a condition pasted from Camunda (JUEL) and a complex gateway
        const m = window.sunlightModeler, flow = m.get('elementRegistry').get('Flow_approve');
        const expr = m.get('moddle').create('bpmn:FormalExpression', {body: '${approved}'});
        m.get('modeling').updateProperties(flow, {conditionExpression: expr});
        const pool = m.get('elementRegistry').filter(e => e.type === 'bpmn:Participant')[0];
        const shape = m.get('elementFactory').createShape({type: 'bpmn:ComplexGateway'});
        m.get('modeling').createShape(shape, {x: pool.x + 120, y: pool.y + pool.height - 40}, pool);
    }""")
    page.wait_for_selector(".bjsl-overlay [data-rule='sunlight/expressions'], .bjsl-overlay")
    issues = page.evaluate(lint)
    flow_issue = issues["sunlight/expressions"][0]
    assert flow_issue["id"] == "Flow_approve" and "JUEL" in flow_issue["message"] and "请直接写条件" in flow_issue["message"]
    assert "复杂网关" in issues["sunlight/complex-gateway"][0]["message"]
    page.wait_for_function("() => /2 个错误/.test(document.querySelector('.bjsl-button').textContent)")
    page.hover(".djs-overlay-container .bjsl-overlay >> nth=0")  # its list of problems opens on hover
    page.wait_for_selector(".bjsl-dropdown .bjsl-issues", state="visible")
    assert "请直接写条件" in page.inner_text("body") or "复杂网关" in page.inner_text("body")
    shot(page, "40_modeler_lint")
    page.goto(page.url.split("?")[0] + "?lang=en")
    page.wait_for_selector("#canvas[data-ready=true]")
    page.evaluate("""() => {
        const m = window.sunlightModeler, flow = m.get('elementRegistry').get('Flow_approve');
        const expr = m.get('moddle').create('bpmn:FormalExpression', {body: '= approved'});
        m.get('modeling').updateProperties(flow, {conditionExpression: expr});
    }""")
    message = page.evaluate(lint)["sunlight/expressions"][0]["message"]
    assert "FEEL" in message and not re.search(r"[\u4e00-\u9fff]", message)
    # The district's own templates (all deployable) draw clean: the rules raise nothing the server accepts.
    for template in ("enforcement_measure", "immediate_item", "levy_collection", "licensing_full", "penalty_general"):
        page.goto(page.url.split("?")[0] + f"?lang=zh&template={template}")
        page.wait_for_selector("#canvas[data-ready=true]")
        assert page.evaluate(lint) == {}, template
    assert not page.js_errors


def test_a_designer_edits_a_decision_table_in_dmn_js_and_saves_a_new_draft(page, live_server, ui_world):
    """dmn-js on a version's DMN file: a cell typed in, saved as a new draft (same BPMN, the edited table, the
    stored version unchanged, checked through the API), and a cell outside the safe subset refused and marked."""
    import io

    from tests import diagrams
    data = {"bpmn": (io.BytesIO(diagrams.business_rule()), "penalty.bpmn"),
            "dmn": [(io.BytesIO(diagrams.decision_table()), "penalty.dmn")]}
    status, d = ui_world.api.call("POST", "/api/v1/items/CA01-XK-0001/definitions", "designer", data=data,
                                  ctype="multipart/form-data")
    assert status == 201, d
    sign_in(page, live_server, "designer")
    page.goto(f"{live_server}/design/CA01-XK-0001?definition={d['id']}")
    page.locator("#versions a.dmn-edit", has_text="penalty.dmn").click()
    page.wait_for_selector("#dmn-canvas[data-ready=true]")
    cell = page.locator('#dmn-canvas td[data-element-id="Out_4"]')
    assert cell.inner_text().strip() == "illegal_income * 5"
    assert "命中策略" in page.inner_text("#dmn-canvas")  # dmn-js's most common labels in the page's language
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("illegal_income * 4")
    page.locator("#dmn-canvas .tjs-table-head, #dmn-canvas .decision-table-name").first.click()  # leave the cell
    shot(page, "41_dmn_editor")
    page.click("#save-dmn")
    page.wait_for_selector("#saved-version")
    assert f"草稿版本 {d['version'] + 1}" in page.inner_text("#save-status")
    saved = int(page.get_attribute("#dmn-canvas", "data-saved-id"))
    _, body = ui_world.api.get(f"/api/v1/definitions/{saved}", "designer")
    assert body["status"] == "draft" and body["version"] == d["version"] + 1 and body["sha256"] == d["sha256"]
    _, xml = ui_world.api.get(f"/api/v1/definitions/{saved}/dmn/{body['dmn'][0]['id']}", "designer")
    assert "illegal_income * 4" in xml and "illegal_income * 5" not in xml
    _, old = ui_world.api.get(f"/api/v1/definitions/{d['id']}/dmn/{d['dmn'][0]['id']}", "designer")
    assert "illegal_income * 5" in old  # the stored version never changes
    # A cell outside the safe subset: refused by the server, the problem listed and its row marked.
    cell = page.locator('#dmn-canvas td[data-element-id="Out_2"]')
    cell.click()
    page.keyboard.press("Control+A")
    page.keyboard.type("__import__('os')")
    page.locator("#dmn-canvas .tjs-table-head, #dmn-canvas .decision-table-name").first.click()
    page.click("#save-dmn")
    page.wait_for_selector("#problems-panel:not([hidden])")
    assert "Rule_2" in page.inner_text("#problems") and "决策表有问题" in page.inner_text("#save-status")
    assert page.locator("#dmn-canvas .sl-problem-cell").count() >= 1
    shot(page, "42_dmn_editor_problem")
    assert ui_world.api.get("/api/v1/items/CA01-XK-0001", "designer")[0] == 200
    assert not page.js_errors
