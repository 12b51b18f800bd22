"""Decisions (行政决定), 法制审核 of major ones, documents with gap-free numbers, and 双公示 — through the API, on
SQLite and PostgreSQL."""
from __future__ import annotations

import hashlib
import io
import threading
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from sqlalchemy import select

from app import clock
from app.audit import service as audit
from app.audit.models import AuditEvent, AuditStream
from app.cases import service as cases
from app.cases.models import Case
from app.documents import render as doc_render
from app.documents.models import Document
from app.orgs import service as orgs
from app.worker import sweep
from tests.conftest import BPMN
from tests.world import ITEM, build_world, deploy_item

PENALTY_XML = (BPMN / "penalty_general.bpmn").read_bytes()
FULL_XML = (BPMN / "licensing_full.bpmn").read_bytes()
PENALTY = {"code": "CA01-CF-0001", "name": "对未取得许可从事食品经营活动的处罚", "category": "penalty",
           "department": "CA01", "promised_days": 60, "statutory_days": 90, "clock_start_step": "Task_file",
           "decision_step": "Task_decide", "legal_basis": "《中华人民共和国食品安全法》第一百二十二条",
           "major_decision": {"min_amount": 10000, "outcomes": ["penalty"], "keywords": ["吊销"]}}
FULL = {**ITEM, "code": "CA01-XK-0002", "name": "食品经营许可（一般程序）", "promised_days": 10,
        "statutory_days": 20, "clock_start_step": "Task_accept", "supplement_step": "Task_supplement"}
CLERKS = (("enf", ["执法岗"]), ("lawrev", ["法制审核岗"]), ("head", ["负责人", "决定岗"]), ("win", ["窗口岗"]))
GRANT = {"outcome": "granted", "summary": "准予食品经营许可，有效期五年", "legal_basis": "《中华人民共和国食品安全法》第三十五条"}
FINE = {"outcome": "penalty", "summary": "没收违法所得，并处罚款五万元", "legal_basis": "《中华人民共和国食品安全法》第一百二十二条",
        "amount": 50000}
needs_renderer = pytest.mark.skipif(doc_render.unavailable_because() is not None,
                                    reason=f"PDFs cannot be rendered here: {doc_render.unavailable_because()}")


@pytest.fixture
def world(app, frozen_now):
    w = build_world(app)
    with app.extensions["sunlight.db"].unit_of_work() as s:
        for name, posts in CLERKS:
            w.tokens[name] = orgs.issue_token(s, orgs.create_user(s, name, "clerk", "CA01", posts, None, "test"), "test")
        w.tokens["legal2"] = orgs.issue_token(s, orgs.create_user(s, "legal2", "legal", "CA01", [], None, "test"), "test")
    deploy_item(w, PENALTY, PENALTY_XML)
    deploy_item(w, FULL, FULL_XML)
    status, body = w.api.call("PATCH", "/api/v1/items/CA01-XK-0001", "admin", json={"decision_step": "Task_decide"})
    assert status == 200, body
    return w


def new_case(world, item="CA01-XK-0001", user="acc", applicant=None):
    status, case = world.api.post("/api/v1/cases", user, {"item_code": item, "applicant": applicant or {
        "name": "张三", "id_number": "320102199001011234", "phone": "13800000000"}})
    assert status == 201, case
    return case


def complete(world, case, step, user, data=None, decision=None, opinion="同意", expect=200):
    task = world.ready(case, step)
    assert task is not None, (step, case["tasks"])
    clock.advance(timedelta(minutes=5))
    body = {"data": data or {}, "opinion": opinion, **({"decision": decision} if decision is not None else {})}
    status, out = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", user, body)
    assert status == expect, out
    return out


def licence_to_decision(world, **applicant):
    case = new_case(world, applicant=applicant or None)
    case = complete(world, case, "Task_accept", "acc")
    return complete(world, case, "Task_review", "rev", {"approved": True}, opinion="经审查，符合法定条件")


def penalty_to_decision(world, applicant=None):
    case = new_case(world, "CA01-CF-0001", "enf", applicant)
    for step, user in (("Task_file", "enf"), ("Task_investigate", "enf"), ("Task_review", "lawrev"),
                       ("Task_notify", "enf")):
        case = complete(world, case, step, user, {"hearing_requested": False})
    return case


def trail(world, case_no):
    status, body = world.api.get(f"/api/v1/cases/{case_no}/events", "admin")
    assert status == 200, body
    return body


def docs(world, case_no, user="acc"):
    status, body = world.api.get(f"/api/v1/cases/{case_no}/documents", user)
    assert status == 200, body
    return body


# --- the item's fields ---------------------------------------------------------------------------------------
def test_items_carry_their_decision_step_major_rule_and_publication(world):
    status, item = world.api.get("/api/v1/items/CA01-CF-0001", "acc")
    assert status == 200 and item["decision_step"] == "Task_decide" and item["decision_publication"] == "auto"
    assert item["major_decision"] == {"min_amount": 10000, "outcomes": ["penalty"], "keywords": ["吊销"]}
    status, body = world.api.call("PATCH", "/api/v1/items/CA01-CF-0001", "admin",
                                  json={"decision_publication": "clerk", "major_decision": None})
    assert status == 200 and body["decision_publication"] == "clerk" and body["major_decision"] is None
    for bad, field in (({"decision_step": "Task_nowhere"}, "decision_step"),
                       ({"major_decision": {"outcomes": ["maybe"]}}, "major_decision.outcomes[0]"),
                       ({"major_decision": {"min_amount": -1}}, "major_decision.min_amount"),
                       ({"major_decision": "big"}, "major_decision"),
                       ({"decision_publication": "never"}, "decision_publication")):
        status, body = world.api.call("PATCH", "/api/v1/items/CA01-CF-0001", "admin", json=bad)
        assert status in (400, 422) and body["error"]["details"][0]["field"] == field, (bad, body)
        assert (status == 400) is (bad == {"major_decision": "big"}), body  # 400: not what the document says
    assert world.api.get("/public/api/v1/items/CA01-XK-0001")[1].get("decision_step", "gone") == "gone"


# --- the decision record -------------------------------------------------------------------------------------
def test_the_decision_step_needs_a_decision_and_nothing_advances_without_one(world):
    case = licence_to_decision(world)
    for body, field in ((None, "decision"), ({**GRANT, "outcome": "maybe"}, "decision.outcome"),
                        ({**GRANT, "summary": " "}, "decision.summary"), ({**GRANT, "legal_basis": 3}, "decision.legal_basis"),
                        ({**GRANT, "amount": "lots"}, "decision.amount"), ({**GRANT, "amount": True}, "decision.amount"),
                        ("granted", "decision"), ({**GRANT, "signed_by": "x"}, "decision.signed_by")):
        task = world.ready(case, "Task_decide")
        status, out = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "dec",
                                     {"data": {}, "opinion": "准予许可", **({"decision": body} if body is not None else {})})
        malformed = field in ("decision.legal_basis", "decision.amount") or body == "granted"  # wrong JSON types
        assert status == (400 if malformed else 422) and out["error"]["details"][0]["field"] == field, (body, out)
    status, now = world.api.get(f"/api/v1/cases/{case['case_no']}", "dec")
    assert world.ready(now, "Task_decide") is not None and now["decision"] is None and now["status"] == "running"
    # A decision anywhere else is refused too: it belongs to the deciding step.
    other = new_case(world)
    task = world.ready(other, "Task_accept")
    status, out = world.api.post(f"/api/v1/cases/{other['case_no']}/tasks/{task['id']}/complete", "acc",
                                 {"opinion": "受理", "decision": GRANT})
    assert status == 422 and out["error"]["details"][0]["field"] == "decision"


def test_a_decision_is_recorded_audited_with_the_opinion_documented_published_and_told(world):
    case = licence_to_decision(world)
    done = complete(world, case, "Task_decide", "dec", decision=GRANT, opinion="符合条件，准予许可")
    assert done["status"] == "completed"
    assert {k: done["decision"][k] for k in ("status", "outcome", "summary", "legal_basis", "amount", "major")} == \
        {"status": "made", **GRANT, "amount": None, "major": False}
    events = trail(world, case["case_no"])
    completed = {e["task_bpmn_id"]: e["detail"] for e in events if e["action"] == "task_completed"}
    # Every step's opinion and form data are inside the hash chain now; the deciding step's decision too.
    assert completed["Task_review"]["opinion"] == "经审查，符合法定条件"
    assert completed["Task_review"]["data"] == {"approved": True}
    assert completed["Task_decide"]["decision"] == {**GRANT, "amount": None}
    assert completed["Task_decide"]["opinion"] == "符合条件，准予许可"
    made = next(e for e in events if e["action"] == "decision_made")
    assert made["detail"]["outcome"] == "granted" and made["detail"]["opinion"] == "符合条件，准予许可"
    assert "decision_published" in [e["action"] for e in events]  # licensing, published when made
    status, record = world.api.get(f"/api/v1/cases/{case['case_no']}/decision", "sup")
    assert status == 200 and record["publication"]["status"] == "published" and len(record["history"]) == 1
    messages = [m for m in _messages(world, case) if m["kind"] == "decided"]
    assert len(messages) == 1 and "准予许可" in messages[0]["text"]


def _messages(world, case):
    from app.messages.models import ApplicantMessage

    with world.api.client.application.extensions["sunlight.db"].unit_of_work() as s:
        case_id = cases.get_visible(s, orgs.user_by_name(s, "admin"), case["case_no"]).id
        return [{"kind": m.kind, "text": m.text} for m in s.scalars(select(ApplicantMessage)
                                                                      .where(ApplicantMessage.case_id == case_id))]


# --- 法制审核 of major decisions ---------------------------------------------------------------------------
def test_a_major_decision_waits_for_the_legal_office_and_goes_through_only_as_approved(world):
    case = penalty_to_decision(world)
    no = case["case_no"]
    held = complete(world, case, "Task_decide", "head", {"penalty_decided": True}, FINE, "拟罚款五万元", expect=409)
    assert held["error"]["code"] == "legal_review_required"
    status, now = world.api.get(f"/api/v1/cases/{no}", "head")
    assert world.ready(now, "Task_decide") is not None  # nothing advanced
    assert now["decision"]["status"] == "pending_review" and now["decision"]["major"] is True
    # Asking again with the same decision records nothing new.
    complete(world, now, "Task_decide", "head", {"penalty_decided": True}, FINE, expect=409)
    assert [e["action"] for e in trail(world, no)].count("decision_proposed") == 1

    for user in ("head", "sup", "admin", "designer"):  # only the legal office reviews
        assert world.api.post(f"/api/v1/cases/{no}/legal-reviews", user,
                              {"decision": "approve", "opinion": "同意"})[0] == 403
    status, body = world.api.post(f"/api/v1/cases/{no}/legal-reviews", "legal", {"decision": "maybe", "opinion": "x"})
    assert status == 422 and body["error"]["details"][0]["field"] == "decision"
    status, body = world.api.post(f"/api/v1/cases/{no}/legal-reviews", "legal", {"decision": "reject", "opinion": ""})
    assert status == 422 and body["error"]["details"][0]["field"] == "opinion"
    status, body = world.api.post(f"/api/v1/cases/{no}/legal-reviews", "legal",
                                  {"decision": "reject", "opinion": "罚款数额缺少裁量依据，请补充"})
    assert status == 201 and body["status"] == "rejected"
    status, now = world.api.get(f"/api/v1/cases/{no}", "head")
    assert now["decision"]["review_opinion"] == "罚款数额缺少裁量依据，请补充"  # the clerk sees why
    assert world.api.post(f"/api/v1/cases/{no}/legal-reviews", "legal",
                          {"decision": "approve", "opinion": "x"})[1]["error"]["code"] == "no_pending_decision"

    revised = {**FINE, "summary": "没收违法所得，并处罚款三万元（依据裁量基准第三档）", "amount": 30000}
    complete(world, now, "Task_decide", "head", {"penalty_decided": True}, revised, expect=409)
    status, body = world.api.post(f"/api/v1/cases/{no}/legal-reviews", "legal",
                                  {"decision": "approve", "opinion": "事实清楚，证据确凿，程序合法"})
    assert status == 201 and body["status"] == "approved" and body["reviewed_by"] == "legal"
    # Another decision than the approved one is a new proposal: back to the legal office.
    complete(world, now, "Task_decide", "head", {"penalty_decided": True}, {**revised, "amount": 40000}, expect=409)
    status, body = world.api.post(f"/api/v1/cases/{no}/legal-reviews", "legal", {"decision": "approve", "opinion": "同意"})
    assert status == 201
    done = complete(world, now, "Task_decide", "head", {"penalty_decided": True}, {**revised, "amount": 40000})
    assert done["decision"]["status"] == "made" and done["decision"]["reviewed_by"] == "legal"
    assert world.ready(done, "Task_serve") is not None
    actions = [e["action"] for e in trail(world, no)]
    assert actions.count("decision_proposed") == 3 and actions.count("legal_review_rejected") == 1
    assert actions.count("legal_review_approved") == 2 and actions.count("decision_made") == 1
    status, record = world.api.get(f"/api/v1/cases/{no}/decision", "head")
    assert [r["status"] for r in record["history"]] == ["rejected", "superseded", "made"]


def test_small_penalties_and_keywords_follow_the_rule(world):
    case = penalty_to_decision(world)
    small = {**FINE, "summary": "警告，并处罚款二千元", "amount": 2000}
    assert complete(world, case, "Task_decide", "head", {"penalty_decided": True}, small)["decision"]["major"] is False
    case = penalty_to_decision(world)
    revoke = {**FINE, "summary": "吊销食品经营许可证", "amount": None}
    complete(world, case, "Task_decide", "head", {"penalty_decided": True}, revoke, expect=409)


def test_a_legal_user_outside_the_case_scope_sees_no_case(world, app):
    case = penalty_to_decision(world)
    complete(world, case, "Task_decide", "head", {"penalty_decided": True}, FINE, expect=409)
    with app.extensions["sunlight.db"].unit_of_work() as s:
        world.tokens["legal02"] = orgs.issue_token(s, orgs.create_user(s, "legal02", "legal", "CA02", [], None, "t"), "t")
    status, _ = world.api.post(f"/api/v1/cases/{case['case_no']}/legal-reviews", "legal02",
                               {"decision": "approve", "opinion": "同意"})
    assert status == 404
    assert world.api.post(f"/api/v1/cases/{case['case_no']}/legal-reviews", "legal2",
                          {"decision": "approve", "opinion": "同意"})[0] == 201


# --- documents -----------------------------------------------------------------------------------------------
@needs_renderer
def test_documents_follow_the_case_with_consecutive_numbers_and_hashes_in_the_trail(world):
    first, second = new_case(world), new_case(world)  # accepted as registered: a 受理通知书 each
    numbers = [d["number"] for d in docs(world, first["case_no"]) + docs(world, second["case_no"])]
    assert numbers == ["CA01受〔2026〕1号", "CA01受〔2026〕2号"]
    penalty = new_case(world, "CA01-CF-0001", "enf")
    assert docs(world, penalty["case_no"], "enf") == []  # not accepted (立案) yet
    complete(world, penalty, "Task_file", "enf")
    assert [d["number"] for d in docs(world, penalty["case_no"], "enf")] == ["CA01受〔2026〕3号"]

    doc = docs(world, first["case_no"])[0]
    resp = world.api.client.get(doc["url"], headers={"Authorization": f"Bearer {world.tokens['rev']}"})
    assert resp.status_code == 200 and resp.mimetype == "application/pdf" and resp.data.startswith(b"%PDF-")
    assert hashlib.sha256(resp.data).hexdigest() == doc["sha256"] == resp.headers["X-Content-SHA256"]
    events = trail(world, first["case_no"])
    [issued] = [e for e in events if e["action"] == "document_issued"]
    [made] = [e for e in events if e["action"] == "document_rendered"]
    assert issued["detail"]["number"] == made["detail"]["number"] == doc["number"]
    assert made["detail"]["sha256"] == doc["sha256"] and events.index(made) > events.index(issued)
    # Another department's staff: the case and the document are simply not there.
    assert world.api.get(f"/api/v1/cases/{first['case_no']}/documents", "outsider")[0] == 404
    assert world.api.get(doc["url"], "outsider")[0] == 404
    assert world.api.get("/api/v1/documents/999999", "rev")[0] == 404


@needs_renderer
def test_a_document_is_fixed_with_the_action_and_its_pdf_rendered_after_it(world, app, settings):
    """The 受理通知书 is numbered, its content fixed and hashed into the trail by the acceptance itself; the PDF
    (0.1–0.3 s of WeasyPrint) is made afterwards by the timer worker, from exactly that content (issue 14)."""
    db = app.extensions["sunlight.db"]
    case = new_case(world)
    [pending] = case["documents"]
    assert pending["rendered"] is False and pending["sha256"] is None and pending["number"] == "CA01受〔2026〕1号"
    with db.unit_of_work() as s:
        markup = s.get(Document, pending["id"]).markup
    [issued] = [e for e in trail(world, case["case_no"]) if e["action"] == "document_issued"]
    assert issued["detail"]["markup_sha256"] == hashlib.sha256(markup.encode()).hexdigest() and "张三" in markup

    sweep(db, settings)  # the worker's sweep renders what the actions issued
    with db.unit_of_work() as s:
        row = s.get(Document, pending["id"])
        sha, size, left = row.sha256, row.size, s.scalar(select(Document.id).where(Document.sha256.is_(None)))
    assert sha and size and left is None
    assert world.api.get(f"/api/v1/cases/{case['case_no']}", "acc")[1]["documents"][0]["rendered"] is True
    resp = world.api.client.get(pending["url"], headers={"Authorization": f"Bearer {world.tokens['acc']}"})
    assert hashlib.sha256(resp.data).hexdigest() == sha and len(resp.data) == size
    assert [e["detail"]["sha256"] for e in trail(world, case["case_no"]) if e["action"] == "document_rendered"] == [sha]
    # The worker appended to the case's chain without holding the case as an action does: the head on the case
    # row moved with it (there is no audit_streams row for a case), and the whole trail still verifies.
    with db.unit_of_work() as s:
        head = s.execute(select(Case.id, Case.audit_seq, Case.audit_hash).where(Case.case_no == case["case_no"])).one()
        last = s.scalars(select(AuditEvent).where(AuditEvent.stream == f"case:{head.id}")
                         .order_by(AuditEvent.seq.desc())).first()
        assert (head.audit_seq, head.audit_hash) == (last.seq, last.hash) and last.action == "document_rendered"
        assert s.scalar(select(AuditStream).where(AuditStream.stream.like("case:%"))) is None
        assert audit.verify(s) is None


@needs_renderer
def test_a_document_that_cannot_be_rendered_does_not_stop_the_worker(world, app, settings, monkeypatch):
    from app.documents import service as documents

    db = app.extensions["sunlight.db"]
    case = new_case(world)

    tried = []

    def broken(markup):
        tried.append(markup)
        raise RuntimeError("a district's template broke the renderer")

    monkeypatch.setattr(doc_render, "pdf", broken)
    assert documents.render_pending(db, settings) == 0  # logged, left pending, the sweep goes on
    assert documents.render_pending(db, settings) == 0 and sweep(db, settings) == 0
    assert len(tried) == 1  # not retried on every sweep
    monkeypatch.undo()
    [doc] = docs(world, case["case_no"])  # the documents list renders it once the renderer works again
    assert doc["rendered"] is True and doc["sha256"]


@needs_renderer
def test_supplement_refusal_and_decision_documents(world):
    case = new_case(world, "CA01-XK-0002", "win")
    case = complete(world, case, "Task_receive", "win", {"materials_complete": False})
    task = world.ready(case, "Task_supplement")
    status, case = world.api.post(f"/api/v1/cases/{case['case_no']}/tasks/{task['id']}/complete", "win",
                                  {"opinion": "材料不齐", "missing_materials": ["场所使用证明", "健康证明"]})
    assert status == 200, case
    kinds = [d["kind"] for d in docs(world, case["case_no"], "win")]
    assert kinds == ["supplement_notice"]
    assert "场所使用证明" in _pdf_text(world, docs(world, case["case_no"], "win")[0])
    refused = new_case(world, "CA01-XK-0002", "win")
    status, body = world.api.post(f"/api/v1/cases/{refused['case_no']}/refuse", "win",
                                  {"reason": "不属于本机关职权范围", "legal_basis": "《中华人民共和国行政许可法》第三十二条"})
    assert status == 200, body
    [doc] = docs(world, refused["case_no"], "win")
    assert doc["kind"] == "refusal_decision" and doc["number"] == "CA01不受〔2026〕1号"
    assert "不属于本机关职权范围" in _pdf_text(world, doc)
    licence = licence_to_decision(world)
    complete(world, licence, "Task_decide", "dec", decision=GRANT)
    decision_doc = [d for d in docs(world, licence["case_no"]) if d["kind"] == "decision"]
    assert [d["number"] for d in decision_doc] == ["CA01决〔2026〕1号"]
    text = _pdf_text(world, decision_doc[0])
    assert "准予行政许可决定书" in text and "准予食品经营许可，有效期五年" in text


def _pdf_text(world, doc) -> str:
    from pypdf import PdfReader

    resp = world.api.client.get(doc["url"], headers={"Authorization": f"Bearer {world.tokens['admin']}"})
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(resp.data)).pages).replace(" ", "")


@needs_renderer
def test_what_people_typed_prints_as_text_never_as_template_or_markup(world):
    case = new_case(world, applicant={"name": "{{7*7}}<b>李</b>{% raw %}", "id_number": "", "phone": ""})
    text = _pdf_text(world, docs(world, case["case_no"])[0])
    assert "{{7*7}}<b>李</b>{%raw%}" in text and "49" not in text.split("受理通知书")[1].split("你（单位）")[0]


@needs_renderer
def test_a_rolled_back_action_gives_its_number_back(world, app, settings):
    from app.documents import service as documents

    db = app.extensions["sunlight.db"]
    case = new_case(world)
    with pytest.raises(RuntimeError):
        with db.unit_of_work() as s:
            loaded = cases.get_visible(s, orgs.user_by_name(s, "admin"), case["case_no"])
            assert documents.issue(s, settings, loaded, "acceptance_notice").number == "CA01受〔2026〕2号"
            raise RuntimeError("the action failed after its document was numbered")
    second = new_case(world)
    assert [d["number"] for d in docs(world, second["case_no"])] == ["CA01受〔2026〕2号"]


@pytest.mark.postgres_only
@needs_renderer
def test_concurrent_acceptances_get_distinct_consecutive_numbers(world, app, settings, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the numbering race is a PostgreSQL test (SQLite serialises every writer)")
    db, errors = app.extensions["sunlight.db"], []
    body = {"item_code": "CA01-XK-0001", "applicant": {"name": "王五", "id_number": "", "phone": ""}}
    start = threading.Barrier(12)

    def accept():
        try:
            start.wait()
            for _ in range(3):
                with db.unit_of_work() as s:
                    cases.create_case(s, settings, orgs.user_by_name(s, "acc"), body)
        except Exception as exc:  # noqa: BLE001 — reported below
            errors.append(exc)

    threads = [threading.Thread(target=accept) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    with db.unit_of_work() as s:
        serials = sorted(s.scalars(select(Document.serial).where(Document.kind == "acceptance_notice")))
    assert serials == list(range(1, 37))


# --- 双公示 ---------------------------------------------------------------------------------------------------
def _public(world, **params):
    query = "&".join(f"{k}={v}" for k, v in params.items())
    status, body = world.api.get(f"/public/api/v1/decisions?{query}")
    assert status == 200, body
    return body


def test_published_decisions_mask_natural_persons_and_name_organisations(world):
    complete(world, licence_to_decision(world), "Task_decide", "dec", decision=GRANT)
    complete(world, licence_to_decision(world, name="无锡市惠民食品有限公司", id_number="91320200MA1XXXXX0X",
                                         phone="0510-1234"), "Task_decide", "dec", decision=GRANT)
    case = penalty_to_decision(world, {"name": "李小龙", "id_number": "91320200MA1YYYYY1Y", "phone": "139",
                                       "kind": "person"})
    complete(world, case, "Task_decide", "head", {"penalty_decided": True}, {**FINE, "amount": 500})
    body = _public(world)
    assert body["total"] == 3
    assert [d["party"] for d in body["decisions"]] == ["李**", "无锡市惠民食品有限公司", "张*"]
    text = str(body)
    for private in ("320102199001011234", "13800000000", "91320200MA1XXXXX0X", "0510-1234", "张三", "李小龙"):
        assert private not in text
    first = body["decisions"][0]
    assert first["category"] == "penalty" and first["outcome"] == "penalty" and first["amount"] == 500
    if doc_render.unavailable_because() is None:  # the 决定书's number (文号) is the public record's
        assert first["number"] == "CA01决〔2026〕3号"
    assert set(first) >= {"number", "item_name", "category", "outcome", "summary", "legal_basis", "decided_at",
                          "published_at", "party"}
    assert _public(world, category="penalty")["total"] == 1
    assert _public(world, department="CA02")["total"] == 0 and _public(world, department="NOPE")["total"] == 0
    assert _public(world, q="惠民")["total"] == 1 and _public(world, q="五年")["total"] == 2
    assert _public(world, q="%")["total"] == 0  # a wildcard is a character, not a pattern
    assert _public(world, q="五年")["total_exact"] is True
    from app.disclosure import service as disclosure
    cap, disclosure.SEARCH_COUNT_CAP = disclosure.SEARCH_COUNT_CAP, 1
    try:  # a search counts its matches only up to the cap, and says the total is a lower bound
        capped = _public(world, q="五年")
        assert (capped["total"], capped["total_exact"], len(capped["decisions"])) == (1, False, 2)
        assert (_public(world)["total"], _public(world)["total_exact"]) == (3, True)  # no search: always exact
    finally:
        disclosure.SEARCH_COUNT_CAP = cap
    paged = _public(world, per_page=2, page=2)
    assert paged["total"] == 3 and len(paged["decisions"]) == 1
    assert world.api.get("/public/api/v1/decisions?category=nope")[0] == 422
    assert world.api.get("/public/api/v1/decisions?page=0")[0] == 422  # below the document's minimum


def test_a_held_decision_is_published_by_a_clerk_or_raises_a_red_notice_after_seven_working_days(world, app):
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    assert world.api.call("PATCH", "/api/v1/items/CA01-CF-0001", "admin", json={"decision_publication": "clerk"})[0] == 200
    small = {**FINE, "amount": 800, "summary": "警告，并处罚款八百元"}
    first = complete(world, penalty_to_decision(world), "Task_decide", "head", {"penalty_decided": True}, small)
    second = complete(world, penalty_to_decision(world), "Task_decide", "head", {"penalty_decided": True}, small)
    assert _public(world)["total"] == 0  # held
    status, pub = world.api.post(f"/api/v1/cases/{first['case_no']}/decision/publish", "enf")
    assert status == 200 and pub["status"] == "published"
    assert world.api.post(f"/api/v1/cases/{first['case_no']}/decision/publish", "enf")[1]["error"]["code"] == \
        "already_published"
    assert world.api.post(f"/api/v1/cases/{second['case_no']}/decision/publish", "outsider")[0] == 404
    assert _public(world)["total"] == 1
    clock.advance(timedelta(days=6))  # 2 March 2026 is a Monday: 7 working days end on Wednesday 11 March
    sweep(db, settings)
    assert not _red(world, second)
    clock.advance(timedelta(days=4))
    sweep(db, settings)
    sweep(db, settings)
    [notice] = _red(world, second)
    assert notice["source_key"].startswith("disclosure:late:") and {"enf", "sup"} <= {
        r["username"] for r in notice["recipients"]}
    assert not _red(world, first)


def _red(world, case):
    status, notices = world.api.get(f"/api/v1/notices?case_no={case['case_no']}", "sup")
    assert status == 200, notices
    return [n for n in notices if n["level"] == "red" and n["source_key"].startswith("disclosure:")]


def test_a_published_decision_is_withdrawn_with_a_reason_and_shown_withdrawn(world):
    case = complete(world, licence_to_decision(world), "Task_decide", "dec", decision=GRANT)
    no = case["case_no"]
    assert world.api.post(f"/api/v1/cases/{no}/decision/withdraw", "rev", {"reason": "复议撤销"})[0] == 403
    status, body = world.api.post(f"/api/v1/cases/{no}/decision/withdraw", "admin", {"reason": ""})
    assert status == 422 and body["error"]["details"][0]["field"] == "reason"
    status, body = world.api.post(f"/api/v1/cases/{no}/decision/withdraw", "admin",
                                  {"reason": "经行政复议决定撤销"})
    assert status == 200 and body["status"] == "withdrawn"
    [listed] = _public(world)["decisions"]
    assert listed["status"] == "withdrawn" and listed["withdrawal_reason"] == "经行政复议决定撤销"
    assert world.api.get(f"/api/v1/cases/{no}", "dec")[1]["decision"]["status"] == "withdrawn"
    assert "decision_withdrawn" in [e["action"] for e in trail(world, no)]
    assert world.api.post(f"/api/v1/cases/{no}/decision/withdraw", "admin",
                          {"reason": "again"})[1]["error"]["code"] == "not_published"


@needs_renderer
def test_a_document_is_checked_by_number_and_code_and_shows_its_hash_and_status(world, app):
    case = complete(world, licence_to_decision(world), "Task_decide", "dec", decision=GRANT)
    doc = next(d for d in docs(world, case["case_no"]) if d["kind"] == "decision")
    with app.extensions["sunlight.db"].unit_of_work() as s:
        code = s.get(Document, doc["id"]).verification_code
    assert code in _pdf_text(world, doc)  # printed on the paper
    status, body = world.api.get(f"/public/api/v1/documents/verify?number={doc['number']}&code={code.lower()}")
    assert status == 200 and body["sha256"] == doc["sha256"] and body["status"] == "valid"
    assert "张三" not in str(body)
    wrong = world.api.get(f"/public/api/v1/documents/verify?number={doc['number']}&code=WRONG234")
    unknown = world.api.get(f"/public/api/v1/documents/verify?number=CA01决〔2026〕99号&code={code}")
    assert wrong == unknown and wrong[0] == 404
    world.api.post(f"/api/v1/cases/{case['case_no']}/decision/withdraw", "admin", {"reason": "复议撤销"})
    status, body = world.api.get(f"/public/api/v1/documents/verify?number={doc['number']}&code={code}")
    assert body["status"] == "withdrawn" and body["status_reason"] == "复议撤销"


def test_a_published_decision_answers_as_the_document_says(world, app):
    """Its publication has no withdrawal reason (null) yet: found by bench/fuzz_served.py on the demo district."""
    schemathesis = pytest.importorskip("schemathesis")
    from schemathesis.specs.openapi.checks import response_schema_conformance

    case = complete(world, licence_to_decision(world), "Task_decide", "dec", decision=GRANT)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    read = schema["/api/v1/cases/{case_no}/decision"]["GET"].Case(path_parameters={"case_no": case["case_no"]})
    response = read.call_and_validate(headers={"Authorization": f"Bearer {world.tokens['sup']}"},
                                      checks=[response_schema_conformance])
    assert response.json()["publication"]["withdrawal_reason"] is None


@needs_renderer
@pytest.mark.parametrize("code", ["码码码码", "ÉCOLE234", "\u00a0\u3000"])
def test_a_verification_code_outside_ascii_is_simply_not_found(world, code):
    """A real number with a code of other characters is a wrong code (404), not a server error: the comparison
    of codes is a constant-time one, which refuses non-ASCII text unless it is given bytes."""
    case = new_case(world)
    number = docs(world, case["case_no"])[0]["number"]
    status, body = world.api.get("/public/api/v1/documents/verify?" + urlencode({"number": number, "code": code}))
    assert status == 404 and body["error"]["code"] == "not_found", body


def test_the_audit_chain_holds_after_all_of_it(world, cli):
    case = penalty_to_decision(world)
    complete(world, case, "Task_decide", "head", {"penalty_decided": True}, FINE, expect=409)
    world.api.post(f"/api/v1/cases/{case['case_no']}/legal-reviews", "legal", {"decision": "approve", "opinion": "同意"})
    complete(world, case, "Task_decide", "head", {"penalty_decided": True}, FINE)
    assert "audit trail intact" in cli("audit", "verify")
    with world.api.client.application.extensions["sunlight.db"].unit_of_work() as s:
        assert s.scalar(select(AuditEvent.id).where(AuditEvent.action == "legal_review_approved")) is not None
