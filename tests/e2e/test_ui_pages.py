"""The pages without a browser (Flask's test client): CSRF on every form, scope, sign-in rules, languages."""
from __future__ import annotations

import html as htmllib
import re
from pathlib import Path

import pytest

from app.web.i18n import BY_STATUS, ERRORS
from app.web.messages_en import EN
from tests.e2e.ui_support import PASSWORD, csrf_of, login, make_app, ui_app, ui_world  # noqa: F401
from tests.world import ITEM, LICENSING, build_world

WEB = Path(__file__).resolve().parents[2] / "app" / "web"
CJK = re.compile(r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]")


def _post_rules(app):
    """Every form target of the pages, with placeholder values in its path."""
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("web.") and "POST" in rule.methods:
            path = rule.rule
            for name in rule.arguments:
                path = re.sub(rf"<(?:[a-z]+:)?{name}>", "1" if name.endswith("_id") else "x", path)
            yield rule.rule, path


def test_every_form_needs_its_csrf_token(ui_app, ui_world):
    client = ui_app.test_client()
    assert login(client, "acc").status_code == 302
    rules = list(_post_rules(ui_app))
    assert len(rules) >= 12, rules
    for rule, path in rules:
        response = client.post(path, data={"username": "acc", "password": "x", "text": "t"})
        assert response.status_code == 400, (rule, response.status_code)
        assert "安全令牌" in response.get_data(as_text=True), rule
    # The JSON API is untouched: bearer tokens, no CSRF.
    status, _ = ui_world.api.post("/api/v1/cases", "acc", {"item_code": ITEM["code"], "applicant": {"name": "张三"}})
    assert status == 201


def test_a_token_from_another_session_is_refused(ui_app, ui_world):
    one, other = ui_app.test_client(), ui_app.test_client()
    token = csrf_of(one.get("/login").get_data(as_text=True))
    other.get("/login")
    response = other.post("/login", data={"username": "acc", "password": "sunlight-test", "csrf_token": token})
    assert response.status_code == 400


def test_sign_in_out_and_the_role_pages(ui_app, ui_world):
    client = ui_app.test_client()
    assert client.get("/work").status_code == 302 and "/login?next=/work" in client.get("/work").headers["Location"]
    response = login(client, "acc", "wrong")
    assert response.status_code == 401 and "用户名或密码不正确" in response.get_data(as_text=True)
    response = login(client, "acc")
    assert response.status_code == 302 and response.headers["Location"] == "/work"
    assert client.get("/work").status_code == 200
    for path in ("/design", "/review", "/supervision"):
        assert client.get(path).status_code == 403, path
    page = client.get("/work").get_data(as_text=True)
    assert client.post("/logout", data={"csrf_token": csrf_of(page)}).status_code == 302
    assert client.get("/work").status_code == 302
    # A user without a password (API-only) cannot sign in; nor can an unknown one.
    for username in ("nobody", "acc"):
        assert login(client, username, "").status_code == 401


def test_next_never_leaves_the_site(ui_app, ui_world):
    client = ui_app.test_client()
    page = client.get("/login?next=//evil.example/x").get_data(as_text=True)
    response = client.post("/login", data={"username": "acc", "password": "sunlight-test", "csrf_token": csrf_of(page),
                                           "next": "https://evil.example/"})
    assert response.headers["Location"] == "/work"
    client2 = ui_app.test_client()
    page = client2.get("/login").get_data(as_text=True)
    response = client2.post("/login", data={"username": "acc", "password": "sunlight-test",
                                            "csrf_token": csrf_of(page), "next": "/cases/123"})
    assert response.headers["Location"] == "/cases/123"


def test_login_attempts_are_rate_limited(sqlite_template, tmp_path):
    app = make_app(tmp_path, sqlite_template, LOGIN_RATE="3/minute")
    try:
        build_world(app, deploy=False)
        client = app.test_client()
        codes = [login(client, "acc", "wrong").status_code for _ in range(5)]
        assert codes == [401, 401, 401, 429, 429]
        assert client.get("/login").status_code == 200  # looking at the form is not limited
    finally:
        app.extensions["sunlight.db"].engine.dispose()


def test_no_page_is_reachable_across_departments(ui_app, ui_world):
    case = ui_world.new_case()
    status, _ = ui_world.api.post("/api/v1/items", "admin", {**ITEM, "code": "CA02-XK-0001", "department": "CA02"})
    assert status == 201
    no = case["case_no"]
    task = ui_world.ready(case, "Task_accept")
    for username in ("outsider", "sup02"):
        client = ui_app.test_client()
        assert login(client, username).status_code == 302
        token = csrf_of(client.get("/login").get_data(as_text=True))
        assert client.get(f"/cases/{no}").status_code == 404, username
        assert client.get(f"/definitions/{ui_world.definition_id}/xml").status_code == 404, username
        if username == "outsider":
            # Another department's item is answered like one that does not exist: back to the worklist, told so.
            for code in ("CA01-XK-0001", "NOPE"):
                response = client.get(f"/cases/new?item={code}", follow_redirects=True)
                assert response.request.path == "/work" and "找不到该事项" in response.get_data(as_text=True)
            for path in (f"/cases/{no}/tasks/{task['id']}/complete", f"/cases/{no}/suspend", f"/cases/{no}/resume"):
                assert client.post(path, data={"csrf_token": token, "opinion": "x", "kind": "other",
                                               "reason": "x"}).status_code == 404, path
            assert no not in client.get("/work").get_data(as_text=True)
    client = ui_app.test_client()
    login(client, "designer")
    assert client.get("/design/CA02-XK-0001").status_code == 404
    assert client.get("/design/CA01-XK-0001").status_code == 200
    token = csrf_of(client.get("/design").get_data(as_text=True))
    response = client.post("/design/CA02-XK-0001/definitions", data=b"<x/>",
                           headers={"Content-Type": "application/xml", "X-CSRFToken": token})
    assert response.status_code == 404
    # The case is still where it was: nothing happened to it.
    assert ui_world.api.get(f"/api/v1/cases/{no}", "acc")[1]["tasks"][0]["state"] == "ready"


def test_a_page_number_beyond_any_offset_shows_a_page_not_an_error(ui_app, ui_world):
    client = ui_app.test_client()
    login(client, "designer")
    for page in ("99999999999999999999", "-5", "x"):  # an offset no database integer holds; nonsense
        assert client.get(f"/design?page={page}").status_code == 200, page


def test_the_modeler_save_answers_json_with_the_problems(ui_app, ui_world):
    client = ui_app.test_client()
    login(client, "designer")
    token = csrf_of(client.get("/design").get_data(as_text=True))
    bad = b'<?xml version="1.0"?><bpmn:definitions xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL">'
    response = client.post("/design/CA01-XK-0001/definitions", data=bad,
                           headers={"Content-Type": "application/xml", "X-CSRFToken": token})
    assert response.status_code == 422
    details = response.get_json()["error"]["details"]
    assert details and {"element_id", "line", "message"} <= set(details[0])
    # The page pins each problem in its own language: Chinese by default, the English with ?lang=en.
    bad = LICENSING.replace(b"approved == True", b"${approved}")
    said = client.post("/design/CA01-XK-0001/definitions", data=bad,
                       headers={"Content-Type": "application/xml", "X-CSRFToken": token}).get_json()["error"]
    assert said["details"][0]["shown"].startswith("条件“${approved}”不被接受：语法错误（这像是 Camunda 的 JUEL 表达式")
    assert "JUEL" in said["details"][0]["message"] and not CJK.search(said["details"][0]["message"])
    client.get("/design?lang=en")
    said = client.post("/design/CA01-XK-0001/definitions", data=bad,
                       headers={"Content-Type": "application/xml", "X-CSRFToken": token}).get_json()["error"]
    assert said["details"][0]["shown"] == said["details"][0]["message"] and not CJK.search(said["message"])
    client.get("/design?lang=zh")
    response = client.post("/design/CA01-XK-0001/definitions", data=LICENSING,
                           headers={"Content-Type": "application/xml", "X-CSRFToken": token})
    assert response.status_code == 201 and response.get_json()["version"] == 2


def test_the_progress_query_says_the_same_for_unknown_and_wrong(ui_app, ui_world):
    case = ui_world.new_case()
    client = ui_app.test_client()
    token = csrf_of(client.get("/progress").get_data(as_text=True))
    right = client.post("/progress", data={"csrf_token": token, "case_no": case["case_no"], "code": case["query_code"]})
    assert right.status_code == 200 and "受理" in right.get_data(as_text=True)
    assert "张三" not in right.get_data(as_text=True) and "13800000000" not in right.get_data(as_text=True)
    wrong = client.post("/progress", data={"csrf_token": token, "case_no": case["case_no"], "code": "AAAAAAAA"})
    unknown = client.post("/progress", data={"csrf_token": token, "case_no": "20000101-000000",
                                             "code": case["query_code"]})
    strip = lambda r: re.sub(r'value="[^"]*"', "", r.get_data(as_text=True))  # noqa: E731
    assert wrong.status_code == unknown.status_code == 200
    assert strip(wrong) == strip(unknown) and 'id="not-found"' in strip(wrong)


def test_every_page_string_has_its_english():
    pattern = re.compile(r"""\b_\(\s*(['"])(.*?)\1""")
    used = set()
    for path in [*WEB.rglob("*.html"), *WEB.glob("*.py")]:
        used |= {m.group(2) for m in pattern.finditer(path.read_text(encoding="utf-8"))}
    used |= set(ERRORS.values()) | set(BY_STATUS.values())
    used.discard("…%(n)s…")  # the docstring's example
    missing = sorted(s for s in used if s not in EN)
    assert not missing, missing
    assert not [s for s, en in EN.items() if CJK.search(en)]


@pytest.mark.parametrize("path", ["/", "/login", "/progress", "/items/NOPE", "/decisions", "/verify"])
def test_english_pages_have_no_chinese_left(sqlite_template, tmp_path, path):
    app = make_app(tmp_path, sqlite_template)  # an empty district: no data in Chinese on the page
    try:
        client = app.test_client()
        html = client.get(f"{path}?lang=en").get_data(as_text=True)
        text = re.sub(r"<[^>]+>", " ", html.replace(">中文<", "><"))
        assert not CJK.search(text), CJK.findall(text)[:20]
        assert '<html lang="en">' in html
        assert 'lang="zh-CN"' in client.get("/?lang=zh").get_data(as_text=True)
    finally:
        app.extensions["sunlight.db"].engine.dispose()


def test_staff_pages_in_english(ui_app, ui_world):
    case = ui_world.new_case()
    client = ui_app.test_client()
    client.get("/?lang=en")  # the choice sticks for the session, across sign-in
    login(client, "acc")
    html = client.get(f"/cases/{case['case_no']}").get_data(as_text=True)
    assert "Step to work" in html and "办理环节" not in html and "我的待办" not in html


def test_accepting_with_uploaded_materials_checks_completeness(ui_app, ui_world):
    import io

    client = ui_app.test_client()
    login(client, "acc")
    form_page = client.get("/cases/new?item=CA01-XK-0001").get_data(as_text=True)
    token = csrf_of(form_page)
    pdf = b"%PDF-1.4\n% a tiny test file\n"
    # Only the first required material uploaded: refused, the missing one named; no case is opened.
    response = client.post("/cases/new?item=CA01-XK-0001", content_type="multipart/form-data", data={
        "csrf_token": token, "name": "张三", "file_0": (io.BytesIO(pdf), "application.pdf")})
    assert response.status_code == 422
    assert "营业执照复印件" in response.get_data(as_text=True)
    assert ui_world.api.get("/api/v1/tasks", "acc")[1] == []
    # Both uploaded: accepted, and the case shows them as provided.
    response = client.post("/cases/new?item=CA01-XK-0001", content_type="multipart/form-data", data={
        "csrf_token": token, "name": "张三", "file_0": (io.BytesIO(pdf), "application.pdf"),
        "file_1": (io.BytesIO(pdf + b"2"), "licence.pdf")})
    assert response.status_code == 302, response.get_data(as_text=True)
    case_no = response.headers["Location"].rsplit("/", 1)[1]
    status, case = ui_world.api.get(f"/api/v1/cases/{case_no}", "acc")
    assert status == 200 and all(m["provided"] for m in case["materials"])
    assert "licence.pdf" in client.get(f"/cases/{case_no}").get_data(as_text=True)


def test_one_upload_and_the_rest_ticked_on_paper_is_accepted_and_shown_as_provided(ui_app, ui_world, frozen_now):
    """The staff-work issue: uploading one file and ticking the rest was refused, naming the ticked ones."""
    import io

    client = ui_app.test_client()
    login(client, "acc")
    token = csrf_of(client.get("/cases/new?item=CA01-XK-0001").get_data(as_text=True))
    response = client.post("/cases/new?item=CA01-XK-0001", content_type="multipart/form-data", data={
        "csrf_token": token, "name": "张三", "file_0": (io.BytesIO(b"%PDF-1.4\n%x\n"), "application.pdf"),
        "paper_1": "1"})
    assert response.status_code == 302, response.get_data(as_text=True)
    case_no = response.headers["Location"].rsplit("/", 1)[1]
    html = client.get(f"/cases/{case_no}").get_data(as_text=True)
    assert "application.pdf" in html and "纸质材料已核验" in html and "未提供" not in html


def _supplement_world(ui_app, ui_world):
    """The full licensing flow on an item whose clocks start at 受理, with a window clerk."""
    from app.orgs import service as orgs
    from tests.conftest import BPMN
    from tests.world import ITEM, deploy_item

    with ui_app.extensions["sunlight.db"].unit_of_work() as s:
        orgs.create_user(s, "win", "clerk", "CA01", ["窗口岗", "负责人"], PASSWORD, "test")
        ui_world.tokens["win"] = orgs.issue_token(s, orgs.user_by_name(s, "win"), "test")
    deploy_item(ui_world, {**ITEM, "code": "CA01-XK-0009", "clock_start_step": "Task_accept",
                           "supplement_step": "Task_supplement", "promised_days": 10, "statutory_days": 20},
                (BPMN / "licensing_full.bpmn").read_bytes())


def test_the_window_tells_the_supplement_list_and_the_case_shows_stopped_everywhere(ui_app, ui_world, frozen_now):
    _supplement_world(ui_app, ui_world)
    status, case = ui_world.api.post("/api/v1/cases", "win", {"item_code": "CA01-XK-0009",
                                                              "applicant": {"name": "王五"}})
    no, code = case["case_no"], case["query_code"]
    ui_world.complete(case, "Task_receive", "win", {"materials_complete": False})
    client = ui_app.test_client()
    login(client, "win")
    html = client.get(f"/cases/{no}").get_data(as_text=True)
    assert 'name="missing_materials"' in html and "尚未受理" in html and 'id="refuse-form"' in html
    task = ui_world.ready(ui_world.api.get(f"/api/v1/cases/{no}", "win")[1], "Task_supplement")
    response = client.post(f"/cases/{no}/tasks/{task['id']}/complete", data={
        "csrf_token": csrf_of(html), "opinion": "请补正", "missing_materials": "场所使用证明\n\n营业执照复印件\n"})
    assert response.status_code == 302
    html = client.get(f"/cases/{no}").get_data(as_text=True)
    assert 'id="clock-stopped"' in html and "场所使用证明、营业执照复印件" in html
    worklist = client.get("/work").get_data(as_text=True)
    row = next(r for r in worklist.split("<tr") if no in r)  # my worklist first, then the open cases
    assert "暂停计时中" in row and "未起算" in row and "查看" in row  # marked, and not offered for work
    progress = client.get("/progress").get_data(as_text=True)
    result = client.post("/progress", data={"csrf_token": csrf_of(progress), "case_no": no, "code": code})
    page = result.get_data(as_text=True)
    assert 'id="clock-stop"' in page and "场所使用证明" in page and "告知记录" in page


def test_refusal_and_termination_from_the_case_page(ui_app, ui_world, frozen_now):
    _supplement_world(ui_app, ui_world)
    _, case = ui_world.api.post("/api/v1/cases", "win", {"item_code": "CA01-XK-0009", "applicant": {"name": "王五"}})
    no = case["case_no"]
    client = ui_app.test_client()
    login(client, "win")
    token = csrf_of(client.get(f"/cases/{no}").get_data(as_text=True))
    response = client.post(f"/cases/{no}/refuse", data={"csrf_token": token, "reason": "不属于本机关职权范围",
                                                         "legal_basis": ""}, follow_redirects=True)
    assert "legal_basis" in response.get_data(as_text=True)  # refused: the basis is required
    response = client.post(f"/cases/{no}/refuse", data={"csrf_token": token, "reason": "不属于本机关职权范围",
                                                         "legal_basis": "《中华人民共和国行政许可法》第三十二条"},
                           follow_redirects=True)
    html = response.get_data(as_text=True)
    assert 'id="ending"' in html and "不予受理" in html and "不属于本机关职权范围" in html
    assert 'id="end-case"' not in html  # an ended case offers nothing more
    other = ui_world.complete(ui_world.new_case(), "Task_accept", "acc")
    login(client, "acc")
    html = client.get(f"/cases/{other['case_no']}").get_data(as_text=True)
    assert 'id="withdraw-form"' in html and 'id="terminate-form"' not in html and 'id="refuse-form"' not in html


def test_a_provisional_deadline_is_marked_on_the_case_page(ui_app, ui_world):
    from datetime import datetime, timezone

    from app import clock

    with ui_app.extensions["sunlight.db"].unit_of_work() as s:
        from app.calendar import service as calendar
        last = max(calendar.known_years(s))
    clock.travel_to(datetime(last, 12, 20, 2, 0, tzinfo=timezone.utc))  # 20 working days run into a year unknown
    case = ui_world.new_case()
    assert case["deadlines"]["calendar_complete"] is False
    client = ui_app.test_client()
    login(client, "acc")
    assert 'id="provisional"' in client.get(f"/cases/{case['case_no']}").get_data(as_text=True)
    assert "临时期限" in client.get("/work").get_data(as_text=True)


def test_the_worklist_is_paged_most_urgent_first(ui_app, ui_world, frozen_now, monkeypatch):
    from datetime import timedelta

    from app import clock
    from app.web import pages_clerk

    monkeypatch.setattr(pages_clerk, "WORK_PAGE", 2)
    made = []
    for _ in range(3):
        made.append(ui_world.new_case()["case_no"])
        clock.advance(timedelta(days=1))  # each later case has a later promised limit
    client = ui_app.test_client()
    login(client, "acc")
    first, second = (client.get(f"/work?page={n}").get_data(as_text=True) for n in (1, 2))
    tasks = lambda html: [no for no in made if no in html.split('id="tasks"')[1].split("</table>")[0]]  # noqa: E731
    assert tasks(first) == made[:2] and tasks(second) == made[2:]
    assert 'class="pager"' in first and ">3<" in first.split("<main>")[1].split('class="count"')[1][:20]


def test_small_things_a_new_user_tripped_on(ui_app, ui_world):
    client = ui_app.test_client()
    assert client.get("/favicon.ico").status_code == 301  # not a 404 on every page
    assert 'rel="icon"' in client.get("/").get_data(as_text=True)
    # A penalty item is started by the authority: its public page lists no "application materials".
    from tests.world import LICENSING, deploy_item

    deploy_item(ui_world, {**ITEM, "code": "CA01-CF-0009", "category": "penalty", "name": "对无证经营的处罚",
                           "promised_days": 60, "statutory_days": 90,
                           "materials": [{"name": "立案审批表", "required": True}]}, LICENSING)
    html = client.get("/items/CA01-CF-0009").get_data(as_text=True)
    assert 'id="ex-officio"' in html and "立案审批表" not in html and "90 日" in html  # calendar days, as the law counts


def test_sign_in_attempts_count_per_address_and_username(sqlite_template, tmp_path):
    app = make_app(tmp_path, sqlite_template, LOGIN_RATE="2/minute")
    build_world(app)
    client = app.test_client()
    codes = {}
    for user in ("acc", "acc", "acc", "rev"):
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        codes.setdefault(user, []).append(client.post("/login", data={"username": user, "password": "wrong",
                                                                     "csrf_token": token}).status_code)
    assert codes["acc"][-1] == 429 and codes["rev"] == [401]  # a colleague behind the same address is still heard
    app.extensions["sunlight.db"].engine.dispose()


def test_the_supervision_loop_on_pages_with_counts_and_an_inbox(ui_app, ui_world, frozen_now):
    """Notices counted in the header and listed in the inbox (in either language); a supervisor issues, closes
    and reopens a 督办 from the case page, one order at a time."""
    from datetime import timedelta

    from app import clock, worker

    case = ui_world.complete(ui_world.new_case(), "Task_accept", "acc")
    no = case["case_no"]
    clock.advance(timedelta(days=40))  # past both clocks: pre-warning, yellow and red notices
    worker.sweep(ui_app.extensions["sunlight.db"], ui_app.extensions["sunlight.settings"])
    clerk = ui_app.test_client()
    login(clerk, "rev")
    inbox = clerk.get("/notices?unread=1").get_data(as_text=True)
    header = inbox.split('id="header-inbox"')[1].split("</a>")[0]
    unread = int(re.search(r">(\d+)<", header).group(1))
    assert unread >= 3 and "hot" in header
    assert inbox.count('class="level-') == unread and "已超过法定时限（红牌）" in inbox
    ack = re.search(r'action="(/notices/\d+/ack)"', inbox).group(1)
    clerk.post(ack, data={"csrf_token": csrf_of(inbox), "back": "/notices?unread=1"})
    after = clerk.get("/notices?unread=1").get_data(as_text=True)
    assert after.count('class="level-') == unread - 1
    english = clerk.get("/notices?lang=en").get_data(as_text=True)
    assert "The statutory time limit has passed (red card)" in english
    notices = english.split('id="notices"')[1].split("</ul>")[0]
    words = re.sub(r"<[^>]+>", "", notices).replace("审查超时", "").replace("审查", "")  # the diagram's names: data
    assert not CJK.search(words), words  # the reasons are English, not only the chrome around them

    sup = ui_app.test_client()
    login(sup, "sup01")
    page = sup.get(f"/cases/{no}").get_data(as_text=True)
    assert 'id="issue-order"' in page and 'id="header-orders"' in page
    token = csrf_of(page)
    due = (clock.now() + timedelta(days=3)).strftime("%Y-%m-%dT%H:%M")
    sup.post("/supervision/orders", data={"csrf_token": token, "case_no": no, "instruction": "请说明超期原因",
                                          "due_at": due, "back": f"/cases/{no}"})
    page = sup.get(f"/cases/{no}").get_data(as_text=True)
    assert 'id="issue-order"' not in page and "close-order" in page  # one order at a time: continue on it
    assert re.search(r'id="header-orders".*?>1<', page, re.S)
    board = sup.get("/supervision").get_data(as_text=True)
    assert f"#order-" in board.split('id="cards"')[1].split("</table>")[0]  # the card names its order
    order_id = re.search(r'action="/supervision/orders/(\d+)/close"', page).group(1)
    done = sup.post(f"/supervision/orders/{order_id}/close", data={"csrf_token": token, "text": "已说明"})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/cases/{no}#order-{order_id}")
    page = sup.get(f"/cases/{no}").get_data(as_text=True)
    assert "督办已办结" in page and "reopen-order" in page and 'id="issue-order"' in page
    sup.post(f"/supervision/orders/{order_id}/reopen", data={"csrf_token": token, "text": "仍需整改", "due_at": due})
    page = sup.get(f"/cases/{no}").get_data(as_text=True)
    assert "已重新督办" in page and 'id="issue-order"' not in page
    assert "仍需整改" in page.split(f'id="order-{order_id}"')[1]


def test_a_mistyped_address_is_a_page_for_a_browser_and_json_for_a_client(ui_app):
    client = ui_app.test_client()
    browser = {"Accept": "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}
    page = client.get("/no-such-page?lang=en", headers=browser)
    assert page.status_code == 404 and page.mimetype == "text/html"
    assert "could not be found" in page.get_data(as_text=True).lower() or "not found" in page.get_data(as_text=True).lower()
    assert client.delete("/hall", headers=browser).mimetype == "text/html"  # 405 as a page too
    assert client.get("/no-such-page").get_json()["error"]["code"] == "not_found"  # curl, scripts
    api = client.get("/api/v1/no-such-thing", headers=browser)
    assert api.status_code == 404 and api.get_json()["error"]["code"] == "not_found"  # the API stays JSON


# --- every staff page in English: no Chinese outside what people entered -------------------------------------
SKIP_LINKS = re.compile(r"^/(assets/|favicon|definitions/\d+/xml|cases/[^/]+/documents/|design/templates/)|"
                        r"\.(csv|xlsx|bpmn|pdf)(\?|$)|^/logout")
HAN = re.compile(r"[\u4e00-\u9fff]")
SHOWN_ATTRS = re.compile(r"""\b(?:title|placeholder|aria-label|alt)="([^"]*)\"""")


def _data_texts(app) -> list[str]:
    """Every text the district entered (names, opinions, diagram labels, notices' data…), read from every table:
    on an English page these are shown as entered; anything else in Chinese is an untranslated string."""
    from sqlalchemy import select

    from app.db import Base

    found: set[str] = set()

    def walk(value):
        if isinstance(value, bytes):
            try:
                value = value.decode("utf-8")
            except UnicodeDecodeError:
                return  # the engine's gzip blob: never shown
        if isinstance(value, str) and CJK.search(value):
            found.add(value.strip())
            if value.lstrip().startswith("<"):  # a diagram: its labels and texts are what pages show
                found.update(t.strip() for t in re.findall(r'"([^"]*)"|>([^<]*)<', value) for t in t if CJK.search(t))
            found.update(part.strip() for part in re.split(r"[\n；;、，,]", value) if CJK.search(part))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    with app.extensions["sunlight.db"].unit_of_work() as s:
        for table in Base.metadata.sorted_tables:
            for row in s.execute(select(table)):
                walk(list(row))
    return sorted(found, key=len, reverse=True)


def _shown_text(html: str) -> str:
    html = re.sub(r"<script\b[^>]*>.*?</script>", " ", html, flags=re.S)  # JSON for the charts: data
    text = " ".join(SHOWN_ATTRS.findall(html)) + " " + re.sub(r"<[^>]+>", " ", html)
    return htmllib.unescape(text).replace("中文", " ")  # the language switch names itself


def test_every_staff_page_in_english_has_no_chinese_outside_the_districts_data(ui_app, ui_world):
    world, api = ui_world, ui_world.api
    done = world.new_case()
    for step, user, data in (("Task_accept", "acc", {}), ("Task_review", "rev", {"approved": True}),
                             ("Task_decide", "dec", {})):
        done = world.complete(done, step, user, data)
    open_case = world.complete(world.new_case(), "Task_accept", "acc")
    status, draft = api.post("/api/v1/items/CA01-XK-0001/definitions", "designer",
                             data=LICENSING.replace(b"PT72H", b"PT48H"), ctype="application/xml")
    assert status == 201 and api.post(f"/api/v1/definitions/{draft['id']}/submit", "designer", {})[0] == 200
    data = _data_texts(ui_app)
    seen, untranslated = set(), {}
    for user in ("acc", "rev", "designer", "legal", "sup", "sup01", "admin"):
        client = ui_app.test_client()
        assert login(client, user).status_code == 302
        queue = ["/work", "/design", "/review", "/supervision", "/notices", "/cases", "/calendar", "/assessment",
                 "/decisions", f"/cases/{open_case['case_no']}", f"/cases/{done['case_no']}",
                 f"/review/{draft['id']}", "/cases/new"]
        visited: set[str] = set()
        while queue and len(visited) < 60:
            path = queue.pop(0)
            if path in visited or SKIP_LINKS.search(path):
                continue
            visited.add(path)
            response = client.get(path + ("&" if "?" in path else "?") + "lang=en")
            if response.status_code != 200 or response.mimetype != "text/html":
                continue
            html = response.get_data(as_text=True)
            queue += [_link(h) for h in re.findall(r'href="(/[^"#]*)"', html)]
            text = _shown_text(html)
            for value in data:
                text = text.replace(value, " ")
            left = HAN.findall(text)  # (full-width punctuation around data is tolerated)
            if left:
                untranslated[f"{user} {path}"] = "".join(left)[:80]
        seen |= visited
    assert len(seen) >= 25, sorted(seen)
    # The legal diff reads in the reviewer's words, the BPMN term beside it in small print.
    legal = ui_app.test_client()
    login(legal, "legal")
    for lang, words in (("zh", ("时限", "期限 48 小时", "环节上的事件")), ("en", ("Time limit", "Duration 48 hours"))):
        changes = legal.get(f"/review/{draft['id']}?lang={lang}").get_data(as_text=True).split('id="changes"')[1]
        assert all(w in _shown_text(changes.split("</table>")[0]) for w in words), (lang, changes[:2000])
        assert "timeDuration: PT48H" in changes and 'class="mono small term">timer<' in changes
    assert not untranslated, "\n".join(f"{k}: {v}" for k, v in untranslated.items())


def _link(value: str) -> str:
    """A page's link as the crawl follows it: unescaped, without the language it was shown in."""
    return re.sub(r"[?&]lang=(en|zh)", "", htmllib.unescape(value))


def test_the_case_page_marks_a_stuck_case_and_work_sunlight_does_itself(ui_app, ui_world):
    from tests import diagrams
    from tests.integration.test_case_endings import JOIN_NEVER_REACHED
    from tests.world import deploy_item

    deploy_item(ui_world, {**ITEM, "code": "CA01-QT-0001", "category": "other"}, JOIN_NEVER_REACHED)
    deploy_item(ui_world, {**ITEM, "code": "CA01-QT-0002", "category": "other"},
                diagrams.service_task("sunlight.tell-applicant"))
    stuck = ui_world.complete(ui_world.new_case(item="CA01-QT-0001", data={"x": 0}), "Task_a", "acc")
    told = ui_world.complete(ui_world.new_case(item="CA01-QT-0002"), "Task_accept", "acc")
    client = ui_app.test_client()
    login(client, "acc")
    page = client.get(f"/cases/{stuck['case_no']}").get_data(as_text=True)
    assert 'id="stuck"' in page and "流程无法自行推进" in page
    assert 'id="stuck"' not in client.get(f"/cases/{told['case_no']}").get_data(as_text=True)
    assert "系统自动办理：sunlight.tell-applicant" in client.get(f"/cases/{told['case_no']}").get_data(as_text=True)
    page = client.get(f"/cases/{stuck['case_no']}?lang=en").get_data(as_text=True)
    assert "the flow cannot move on by itself" in page
    client.get("/work?lang=zh")


def _with_table(world, code="CA01-XK-0001") -> dict:
    """A draft version of `code` carrying the discretion table (uploaded multipart, as the API takes it)."""
    import io

    from tests import diagrams
    data = {"bpmn": (io.BytesIO(diagrams.business_rule()), "penalty.bpmn"),
            "dmn": [(io.BytesIO(diagrams.decision_table()), "penalty.dmn")]}
    status, d = world.api.call("POST", f"/api/v1/items/{code}/definitions", "designer", data=data,
                               ctype="multipart/form-data")
    assert status == 201, d
    return d


def test_the_dmn_editor_saves_a_new_draft_and_shows_the_refused_cell(ui_app, ui_world):
    from tests import diagrams

    d = _with_table(ui_world)
    [f] = d["dmn"]
    client = ui_app.test_client()
    login(client, "designer")
    modeler = client.get(f"/design/CA01-XK-0001?definition={d['id']}").get_data(as_text=True)
    editor = f"/design/CA01-XK-0001/definitions/{d['id']}/dmn/{f['id']}"
    assert f'href="{editor}"' in modeler
    page = client.get(editor).get_data(as_text=True)
    assert "dmn-modeler.production.min.js" in page and "penalty.dmn" in page
    assert "penalty_standard" in client.get(f"{editor}/xml").get_data(as_text=True)
    english = client.get(f"{editor}?lang=en").get_data(as_text=True)
    assert "Save as draft version" in english and "makes a new draft version" in english
    client.get("/design?lang=zh")
    token = csrf_of(modeler)
    headers = {"Content-Type": "application/xml", "X-CSRFToken": token}
    stricter = diagrams.decision_table(rules=[("< 10000", "true", "100"), ("-", "-", "illegal_income * 3")])
    response = client.post(editor, data=stricter, headers=headers)
    assert response.status_code == 201, response.get_json()
    saved = response.get_json()
    assert saved["version"] == d["version"] + 1 and saved["status"] == "draft" and saved["message"]
    assert ui_world.api.get(f"/api/v1/definitions/{saved['id']}/bpmn", "designer")[1] == \
        ui_world.api.get(f"/api/v1/definitions/{d['id']}/bpmn", "designer")[1]
    _, xml = ui_world.api.get(f"/api/v1/definitions/{saved['id']}/dmn/{saved['dmn'][0]['id']}", "designer")
    assert "illegal_income * 3" in xml and saved["dmn"][0]["file"] == "penalty.dmn"
    _, xml = ui_world.api.get(f"/api/v1/definitions/{d['id']}/dmn/{f['id']}", "designer")
    assert "illegal_income * 3" not in xml  # the stored version never changes
    hostile = diagrams.decision_table(rules=[("< 10000", "-", "1"), ("-", "__import__('os')", "2")])
    response = client.post(editor, data=hostile, headers=headers)
    assert response.status_code == 422
    [problem] = response.get_json()["error"]["details"]
    assert problem["element_id"] == "Rule_2" and problem["line"] == 2 and CJK.search(problem["shown"])
    assert client.post(editor, data=stricter, headers={"Content-Type": "application/xml"}).status_code == 400
    assert client.get(f"/design/CA01-XK-0001/definitions/{d['id']}/dmn/999999").status_code == 404
    assert client.get(f"/design/CA02-XK-0001/definitions/{d['id']}/dmn/{f['id']}").status_code == 404
