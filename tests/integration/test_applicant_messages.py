"""Messages to the applicant (告知) by SMS, against a real HTTP gateway (http.server) on 127.0.0.1.

What is told inside a case's transaction must reach the gateway once in the normal path and at least once
when it fails (the Idempotency-Key names each message, so a gateway can drop the repeat); a gateway that
is down loses nothing; a message the gateway refuses does not hold up the others; the query code goes
into the SMS alone and is forgotten once sent; the public progress answer shows the texts and nothing
personal.
"""
from __future__ import annotations

import json
import re
import socket
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import select, update

from app import clock, worker
from app.audit import service as audit
from app.audit.models import AuditEvent
from app.cases.models import Case
from app.delivery import MAX_ATTEMPTS
from app.messages import service as messages
from app.messages import sms
from app.messages.models import ApplicantMessage
from tests.world import build_world

PHONE = "13800000000"  # the phone World.new_case gives every applicant
PERSONAL = ("张三", "320102199001011234", PHONE)  # the applicant's name, ID number and phone
TOKEN = "gw-secret-token"


class Gateway:
    """A real HTTP server playing the SMS gateway; it can start "down" and be stopped and started again."""

    def __init__(self):
        with socket.socket() as sock:  # a free port known before the server runs
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.requests: list[dict] = []  # every request that reached it
        self.status = 200  # what it answers
        self.refuse: set[str] = set()  # phones it answers 400 for (echoing the text back, as some gateways do)
        self.delay = 0.0  # seconds before answering
        self.release = threading.Event()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/send"

    def accepted(self) -> list[str]:
        """The Idempotency-Keys of the messages it took (answered 2xx), in order."""
        return [r["headers"]["Idempotency-Key"] for r in self.requests if r["status"] < 300]

    def start(self) -> None:
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                sent = json.loads(raw.decode("utf-8"))  # a body that is not valid JSON fails the test here
                status = 400 if sent.get("phone") in gateway.refuse else gateway.status
                gateway.requests.append({"method": "POST", "path": self.path, "headers": dict(self.headers),
                                         "raw": raw, "json": sent, "status": status})
                if gateway.delay:
                    gateway.release.wait(gateway.delay)
                answer = (json.dumps({"error": "invalid phone", "text": sent.get("text")}, ensure_ascii=False)
                          if status == 400
                          else '{"ok": true}').encode()
                try:
                    self.send_response(status)
                    if 300 <= status < 400:
                        self.send_header("Location", "/elsewhere")
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer)))
                    self.end_headers()
                    self.wfile.write(answer)
                except OSError:  # the client gave up waiting (the timeout test): nobody to answer
                    pass

            def do_GET(self):  # only a followed redirect would come here
                gateway.requests.append({"method": "GET", "path": self.path, "headers": dict(self.headers),
                                         "status": 200})
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()
            self._server = None


@pytest.fixture
def gateway():
    server = Gateway()
    yield server
    server.stop()


@pytest.fixture
def sms_app(db_url, gateway, tmp_path):
    """The app on the test database with the SMS channel on (SMS_GATEWAY_URL set)."""
    from app import create_app

    application = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "test-secret", "TESTING": True,
                              "PUBLIC_QUERY_RATE": "1000/minute", "FILE_STORAGE_DIR": str(tmp_path / "files"),
                              "SMS_GATEWAY_URL": gateway.url, "SMS_GATEWAY_TOKEN": TOKEN, "SMS_TIMEOUT": 1})
    yield application
    application.extensions["sunlight.db"].engine.dispose()


@pytest.fixture
def world(sms_app, frozen_now):
    return build_world(sms_app)


def _deps(app):
    return app.extensions["sunlight.db"], app.extensions["sunlight.settings"]


def _tell(app, case: dict, kind: str = "completed", params: dict | None = None, *, phone=PHONE,
          secret: str | None = None) -> int:
    """Tell the applicant of `case` something, in a transaction of its own (as a case action would)."""
    db, settings = _deps(app)
    with db.unit_of_work() as s:
        case_id = s.scalar(select(Case.id).where(Case.case_no == case["case_no"]))
        message = messages.tell(s, settings, case_id=case_id, case_no=case["case_no"], phone=phone, kind=kind,
                                params=params if params is not None else {"item_name": "食品经营许可"},
                                secret=secret)
        s.flush()
        return message.id


def _accepted(app, case: dict) -> int:
    """The message the acceptance itself told (POST /cases): the first of every case, with the query code."""
    db, _ = _deps(app)
    with db.unit_of_work() as s:
        case_id = s.scalar(select(Case.id).where(Case.case_no == case["case_no"]))
        message = s.scalars(select(ApplicantMessage).where(ApplicantMessage.case_id == case_id)
                            .order_by(ApplicantMessage.id)).first()
        assert message.kind == "accepted", message.kind
        return message.id


def _rows(db) -> list[ApplicantMessage]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(ApplicantMessage).order_by(ApplicantMessage.id)))


def _key(message_id: int) -> str:
    return f"sunlight-msg-{message_id}"


def _public(app, case: dict) -> dict:
    resp = app.test_client().get(f"/public/api/v1/cases/{case['case_no']}?code={case['query_code']}")
    assert resp.status_code == 200
    return resp.get_json()


def test_a_message_told_in_a_case_transaction_is_delivered_with_the_right_body_and_headers(world, sms_app, gateway):
    gateway.start()
    db, settings = _deps(sms_app)
    case = world.new_case()
    first = _accepted(sms_app, case)
    second = _tell(sms_app, case, "supplement", {"missing": ["营业执照复印件", "场所平面图"], "expected_days": 5})

    assert sms.deliver_due(db, settings) == (2, 0)
    assert gateway.accepted() == [_key(first), _key(second)]
    req = gateway.requests[0]
    assert req["path"] == "/send" and req["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert req["headers"]["Content-Type"] == "application/json; charset=utf-8"
    no, code = case["case_no"], case["query_code"]
    assert req["json"] == {"phone": PHONE, "id": str(first), "text": (
        f"【阳光运行】您申请的食品经营许可已受理，办件编号{no}，查询码{code}，承诺2026年3月9日前办结，"
        "可在网上办事大厅查询进度。")}
    assert gateway.requests[1]["json"]["text"] == (
        f"【阳光运行】您的办件{no}需补正材料，现一次性告知：营业执照复印件、场所平面图。请在5个工作日内补正，"
        "补正期间不计入办理时限。")

    rows = _rows(db)
    assert [(r.status, r.attempts, r.sent_at, r.next_attempt_at) for r in rows] == [("sent", 1, clock.now(), None)] * 2
    assert all(r.secret is None for r in rows)  # the query code was in the SMS; it is kept nowhere now
    assert code not in rows[0].text and "查询码********" in rows[0].text
    assert rows[0].text_en.startswith("Your application for 食品经营许可 has been accepted")

    clock.advance(timedelta(hours=2))  # later rounds send nothing again
    assert sms.deliver_due(db, settings) == (0, 0) and len(gateway.requests) == 2

    with db.unit_of_work() as s:
        told = [e for e in audit.events_of_case(s, rows[0].case_id) if e.action == "applicant_notified"]
        assert [(e.actor, e.detail["kind"], e.detail["text"]) for e in told] == [
            ("system", "accepted", rows[0].text), ("system", "supplement", rows[1].text)]
        assert not any(secret in json.dumps(e.detail, ensure_ascii=False) for e in told for secret in (code, PHONE))
        assert audit.verify(s) is None


def test_with_the_gateway_down_nothing_is_lost_and_every_message_arrives_once_it_is_back(world, sms_app, gateway):
    db, settings = _deps(sms_app)
    case = world.new_case()
    ids = [_accepted(sms_app, case)] + [_tell(sms_app, case) for _ in range(2)]

    # Connection refused: the round stops after one try, so each round tries one more message.
    assert sms.deliver_due(db, settings) == (0, 1)
    assert [r.attempts for r in _rows(db)] == [1, 0, 0]
    for _ in range(2):
        sms.deliver_due(db, settings)
    rows = _rows(db)
    assert all(r.status == "pending" and r.attempts == 1 for r in rows)
    assert all("Connection refused" in r.last_error for r in rows)
    assert all(r.next_attempt_at == clock.now() + timedelta(minutes=1) for r in rows)  # the first backoff step
    assert rows[0].secret == case["query_code"]  # not sent yet: still needed

    gateway.status = 503  # up, but failing
    gateway.start()
    clock.advance(timedelta(seconds=30))
    assert sms.deliver_due(db, settings) == (0, 0)  # nothing due yet
    clock.advance(timedelta(seconds=31))
    assert sms.deliver_due(db, settings) == (0, 1)
    rows = _rows(db)
    assert rows[0].attempts == 2 and rows[0].last_error.startswith("GatewayDown: HTTP 503")
    assert rows[0].next_attempt_at == clock.now() + timedelta(minutes=2)  # doubled
    assert [r.attempts for r in rows[1:]] == [1, 1]

    gateway.status = 200
    clock.advance(timedelta(minutes=2))
    assert sms.deliver_due(db, settings) == (3, 0)
    assert sorted(gateway.accepted()) == sorted(map(_key, ids))  # every message, each taken once
    assert [r.status for r in _rows(db)] == ["sent"] * 3 and _rows(db)[0].secret is None
    clock.advance(timedelta(hours=2))
    sms.deliver_due(db, settings)
    assert sorted(gateway.accepted()) == sorted(map(_key, ids))


@pytest.mark.parametrize("status", [408, 429, 500, 502, 302])
def test_timeouts_throttling_server_errors_and_redirects_count_as_the_gateway_down(world, sms_app, gateway, status):
    gateway.status = status
    gateway.start()
    db, settings = _deps(sms_app)
    case = world.new_case()  # its acceptance is told: the first message
    _tell(sms_app, case)
    assert sms.deliver_due(db, settings) == (0, 1)  # the second message is not tried against a failing gateway
    assert [r.attempts for r in _rows(db)] == [1, 0]
    assert _rows(db)[0].last_error.startswith(f"GatewayDown: HTTP {status}")
    assert [r["method"] for r in gateway.requests] == ["POST"]  # a redirect is never followed


def test_a_gateway_that_does_not_answer_in_time_counts_as_down(world, sms_app, gateway):
    gateway.delay = 5  # longer than SMS_TIMEOUT (1 s)
    gateway.start()
    db, settings = _deps(sms_app)
    case = world.new_case()  # its acceptance is told: the first message
    _tell(sms_app, case)
    assert sms.deliver_due(db, settings) == (0, 1)
    row = _rows(db)[0]
    assert row.status == "pending" and "timed out" in row.last_error
    gateway.release.set()


def test_a_message_the_gateway_refuses_is_retried_alone_and_does_not_block_the_others(world, sms_app, gateway):
    other_phone = "+86 139-1111-2222"
    gateway.refuse.add(other_phone)
    gateway.start()
    db, settings = _deps(sms_app)
    case = world.new_case()
    before = _tell(sms_app, case)
    refused = _tell(sms_app, case, "accepted", {"item_name": "食品经营许可"}, phone=other_phone,
                    secret=case["query_code"])
    after = _tell(sms_app, case)
    assert sms.deliver_due(db, settings) == (3, 1)
    assert gateway.accepted() == [_key(_accepted(sms_app, case)), _key(before), _key(after)]
    row = next(r for r in _rows(db) if r.id == refused)
    assert row.status == "pending" and row.attempts == 1 and "HTTP 400" in row.last_error
    assert "invalid phone" in row.last_error and "查询码********" in row.last_error  # echoed, the code masked
    assert case["query_code"] not in row.last_error and row.secret == case["query_code"]

    with db.unit_of_work() as s:  # as if it had been refused for hours: flagged for the operators
        s.execute(update(ApplicantMessage).where(ApplicantMessage.id == refused)
                  .values(attempts=MAX_ATTEMPTS - 1, next_attempt_at=clock.now()))
    sms.deliver_due(db, settings)
    assert next(r for r in _rows(db) if r.id == refused).status == "failed"

    gateway.refuse.clear()  # the number is fixed at the gateway
    clock.advance(timedelta(hours=1))
    assert sms.deliver_due(db, settings) == (1, 0)
    row = next(r for r in _rows(db) if r.id == refused)
    assert row.status == "sent" and row.secret is None
    assert gateway.requests[-1]["json"]["phone"] == other_phone


def test_a_rolled_back_action_tells_nothing(world, sms_app, gateway):
    gateway.start()
    db, settings = _deps(sms_app)
    case = world.new_case()
    told_before = [r.id for r in _rows(db)]
    with db.unit_of_work() as s:
        events_before = len(s.scalars(select(AuditEvent).where(AuditEvent.action == "applicant_notified")).all())
    with pytest.raises(RuntimeError), db.unit_of_work() as s:
        case_id = s.scalar(select(Case.id).where(Case.case_no == case["case_no"]))
        messages.tell(s, settings, case_id=case_id, case_no=case["case_no"], phone=PHONE, kind="refused",
                      params={"reason": "材料不全", "legal_basis": "《行政许可法》第三十二条"})
        s.flush()
        raise RuntimeError("the clerk's action failed after telling")
    assert [r.id for r in _rows(db)] == told_before
    with db.unit_of_work() as s:
        assert len(s.scalars(select(AuditEvent).where(AuditEvent.action == "applicant_notified")).all()) == \
            events_before
    assert sms.deliver_due(db, settings) == (1, 0) and gateway.accepted() == [_key(_accepted(sms_app, case))]


def test_without_a_gateway_messages_are_unsent_but_still_shown_to_the_public(app, frozen_now):
    world = build_world(app)
    db, settings = _deps(app)
    assert settings.sms is None
    case = world.new_case()
    _accepted(app, case)
    [row] = _rows(db)
    assert (row.status, row.next_attempt_at, row.secret, row.phone) == ("unsent", None, None, None)
    assert "SMS_GATEWAY_URL" in row.last_error
    assert sms.deliver_due(db, settings) == (0, 0)
    out = _public(app, case)
    assert [(m["kind"], m["sent"]) for m in out["messages"]] == [("accepted", False)]
    assert case["case_no"] in out["messages"][0]["text"] and "query code ********" in out["messages"][0]["text_en"]


@pytest.mark.parametrize("phone,reason", [(None, "no phone"), ("  ", "no phone"), ("138-0000-0000 ext. 5", "not one"),
                                          ("1" * 33, "not one"), ("+-- ", "not one"), ("138\n0000", "not one")])
def test_no_phone_or_an_odd_one_leaves_the_message_unsent_and_the_action_standing(world, sms_app, gateway, phone,
                                                                                  reason):
    gateway.start()
    db, settings = _deps(sms_app)
    applicant = {"name": "张三"} if phone is None else {"name": "张三", "phone": phone}
    status, case = world.api.post("/api/v1/cases", "acc", {"item_code": "CA01-XK-0001", "applicant": applicant})
    assert status == 201, case  # the acceptance stands, whatever the phone
    [row] = _rows(db)
    assert row.status == "unsent" and reason in row.last_error and row.secret is None and row.phone is None
    assert sms.deliver_due(db, settings) == (0, 0) and gateway.requests == []
    assert [m["sent"] for m in _public(sms_app, case)["messages"]] == [False]


HOSTILE = ('准予许可"}, "phone": "10086", "x": "\\u0000\\\\ {phone} {text} {id}\n第二行\r\n\x00\t末尾 😀👍🏽 '
           + "长" * 5000)


def test_hostile_texts_stay_valid_json_in_the_body(world, sms_app, gateway):
    gateway.start()
    db, settings = _deps(sms_app)
    case = world.new_case()
    message_id = _tell(sms_app, case, "decided", {"outcome": HOSTILE, "summary": "'\"<script>alert(1)</script>"})
    assert sms.deliver_due(db, settings) == (2, 0)  # the acceptance, then the hostile one
    sent = gateway.requests[-1]["json"]  # parsed by the gateway: valid JSON
    assert set(sent) == {"phone", "text", "id"} and sent["phone"] == PHONE and sent["id"] == str(message_id)
    text = sent["text"]
    assert text.startswith(f"【阳光运行】您的办件{case['case_no']}已作出决定：准予许可\"}}, \"phone\": \"10086\"")
    assert "{phone} {text} {id}" in text  # placeholders inside a value are left as typed
    assert "😀👍🏽" in text and "长" * 5000 in text and "<script>" in text
    assert "\x00" not in text and "\n" not in text and "\t" not in text and "{id} 第二行 末尾" in text
    row = next(r for r in _rows(db) if r.id == message_id)
    assert sms.sms_text(settings.sms, sms.Sms(row.id, PHONE, row.text, None)) == text


def test_the_public_answer_and_page_show_the_messages_and_nothing_personal(world, sms_app, gateway):
    gateway.start()
    db, settings = _deps(sms_app)
    case = world.new_case()
    _accepted(sms_app, case)
    _tell(sms_app, case, "clock_stopped", {"label": "expert_review", "reason": "需组织专家评审", "expected_days": 10})
    sms.deliver_due(db, settings)
    _tell(sms_app, case, "extended", {"days": 10, "unit": "working", "reason": "情况复杂",
                                      "statutory_due": date(2026, 4, 13)})
    out = _public(sms_app, case)
    assert [(m["kind"], m["sent"]) for m in out["messages"]] == [
        ("accepted", True), ("clock_stopped", True), ("extended", False)]
    assert out["messages"][1]["text"] == (f"您的办件{case['case_no']}因专家评审暂停计时：需组织专家评审。"
                                          "预计需10个工作日，不计入办理时限。")
    assert out["messages"][2]["text_en"] == (f"Case {case['case_no']} has been extended by 10 working days: 情况复杂. "
                                             "The statutory time limit is now 2026-04-13.")
    assert out["messages"][0]["created_at"] == "2026-03-02T09:00:00+08:00"
    answer = json.dumps(out, ensure_ascii=False)
    for private in PERSONAL + (case["query_code"],):
        assert private not in answer

    client = sms_app.test_client()
    for lang, heading, line in (("zh", "告知记录", "因专家评审暂停计时"), ("en", "Messages to the applicant",
                                                                       "the clock is stopped for an expert review")):
        page = client.get(f"/progress?lang={lang}").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        html = client.post("/progress", data={"csrf_token": token, "case_no": case["case_no"],
                                              "code": case["query_code"]}).get_data(as_text=True)
        assert heading in html and line in html
        shown = html.split('id="messages"')[1].split("</ol>")[0]
        for private in PERSONAL + (case["query_code"],):
            assert private not in shown


def test_the_public_answer_holds_the_latest_fifty_oldest_first(world, sms_app):
    db, settings = _deps(sms_app)
    case = world.new_case()
    with db.unit_of_work() as s:
        case_id = s.scalar(select(Case.id).where(Case.case_no == case["case_no"]))
        for n in range(55):
            messages.tell(s, settings, case_id=case_id, case_no=case["case_no"], phone=PHONE, kind="withdrawn",
                          params={"reason": f"第{n}次"})
    texts = [m["text"] for m in _public(sms_app, case)["messages"]]
    assert len(texts) == 50 and "第5次" in texts[0] and "第54次" in texts[-1]


def test_two_workers_delivering_at_once_send_each_message_once(world, sms_app, gateway):
    gateway.start()
    db, settings = _deps(sms_app)
    case = world.new_case()
    ids = [_accepted(sms_app, case)] + [_tell(sms_app, case) for _ in range(8)]
    results: list[tuple[int, int]] = []
    barrier = threading.Barrier(2)

    def deliver():
        barrier.wait()
        results.append(sms.deliver_due(db, settings))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(sent for sent, _ in results) == 9 and sum(failed for _, failed in results) == 0
    assert sorted(gateway.accepted()) == sorted(map(_key, ids))


def test_the_timer_worker_sends_the_messages_each_round(world, sms_app, gateway):
    gateway.start()
    db, settings = _deps(sms_app)
    case = world.new_case()
    message_id = _tell(sms_app, case)
    assert worker.sweep(db, settings) == 0  # no timer due; the outboxes are sent all the same
    assert gateway.accepted() == [_key(_accepted(sms_app, case)), _key(message_id)]


def test_operators_list_messages_by_case_and_status(world, sms_app, gateway):
    db, settings = _deps(sms_app)
    case, other = world.new_case(), world.new_case()
    _accepted(sms_app, case)
    _tell(sms_app, other)
    sms.deliver_due(db, settings)  # the gateway is down: one attempt, pending
    run = sms_app.test_cli_runner()
    out = run.invoke(args=["messages", "list", "--case", case["case_no"]]).output
    assert out.count("\n") == 1 and f"{case['case_no']} accepted pending after 1 attempt(s) to 138****0000" in out
    assert "Connection refused" in out and case["query_code"] not in out and PHONE not in out
    assert other["case_no"] in run.invoke(args=["messages", "list", "--status", "pending"]).output
    assert run.invoke(args=["messages", "list", "--status", "failed"]).output == ""
    missing = run.invoke(args=["messages", "list", "--case", "20000101-000000"])
    assert missing.exit_code == 2 and "no case" in missing.output
