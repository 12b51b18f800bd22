"""Supervision notices by mail, against a real SMTP server (aiosmtpd) on 127.0.0.1.

A fired step timer must reach every recipient with an address exactly once; with the server down the
mails wait in the outbox (attempts, last error, backoff) and go out when it is back; nothing is lost.
"""
from __future__ import annotations

import socket
import threading
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select, update

from app import clock, worker
from app.orgs.models import User
from app.supervision import outbox
from app.supervision.models import NoticeDelivery, NoticeRecipient
from tests.world import build_world

EMAILS = {"rev": "rev@ca01.example.gov.cn", "sup": "sup@ca.example.gov.cn", "sup01": "sup01@ca01.example.gov.cn"}
# rev2 (also 审查岗) and the rest have no address: they get the notice in the inbox only.


class _Handler:
    def __init__(self):
        self.messages: list[tuple[list[str], object]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=policy.default)))
        return "250 Message accepted"


class MailServer:
    """A real SMTP server that the test can stop and start again on the same port."""

    def __init__(self):
        with socket.socket() as sock:  # a free port, known before the server runs (so it can start "down")
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.handler = _Handler()
        self._controller: Controller | None = None

    @property
    def messages(self):
        return self.handler.messages

    def recipients(self) -> list[str]:
        return sorted(r for rcpts, _ in self.messages for r in rcpts)

    def start(self) -> None:
        self._controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller:
            self._controller.stop()
            self._controller = None


@pytest.fixture
def smtp():
    server = MailServer()
    yield server
    server.stop()


@pytest.fixture
def mail_app(db_url, smtp):
    """The app on the same test database, with the SMTP channel switched on (SMTP_HOST set)."""
    from app import create_app

    application = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "test-secret", "TESTING": True,
                              "PUBLIC_QUERY_RATE": "1000/minute", "SMTP_HOST": "127.0.0.1",
                              "SMTP_PORT": smtp.port, "SMTP_FROM": "jiancha@ca.example.gov.cn", "SMTP_TIMEOUT": 5})
    yield application
    application.extensions["sunlight.db"].engine.dispose()


@pytest.fixture
def world(mail_app, frozen_now):
    w = build_world(mail_app)
    with mail_app.extensions["sunlight.db"].unit_of_work() as s:
        for username, email in EMAILS.items():
            s.execute(update(User).where(User.username == username).values(email=email))
    return w


def _deps(app):
    return app.extensions["sunlight.db"], app.extensions["sunlight.settings"]


def _deliveries(db, channel="smtp") -> list[NoticeDelivery]:
    with db.unit_of_work() as s:
        return list(s.scalars(select(NoticeDelivery).where(NoticeDelivery.channel == channel)
                              .order_by(NoticeDelivery.id)))


def _inbox(db) -> list[str]:
    """Who has the notices in their in-app inbox (a notice's recipients are its inbox: no outbox row)."""
    with db.unit_of_work() as s:
        return sorted(r.user.username for r in s.scalars(select(NoticeRecipient)))


def _fire_review_timer(world, app) -> dict:
    """Accept a case and let its PT72H review timer fall due: one yellow notice to rev, rev2, sup, sup01."""
    case = world.complete(world.new_case(), "Task_accept", "acc")
    clock.advance(timedelta(hours=73))
    return case


def test_a_fired_timer_mails_each_recipient_with_an_address_exactly_once(world, mail_app, smtp):
    smtp.start()
    db, settings = _deps(mail_app)
    case = _fire_review_timer(world, mail_app)
    assert worker.sweep(db, settings) == 1
    for _ in range(3):  # later sweeps, later in time too: nothing is sent twice
        clock.advance(timedelta(minutes=20))
        worker.sweep(db, settings)
    assert smtp.recipients() == sorted(EMAILS.values())
    assert all(len(rcpts) == 1 for rcpts, _ in smtp.messages)
    rows = _deliveries(db)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1)] * 3
    assert all(r.sent_at and r.next_attempt_at is None for r in rows)
    assert _deliveries(db, "inbox") == []
    assert _inbox(db) == ["rev", "rev2", "sup", "sup01"]  # rev2 has no address, but an inbox

    msg = next(m for rcpts, m in smtp.messages if rcpts == [EMAILS["rev"]])
    assert msg["From"] == "jiancha@ca.example.gov.cn" and msg["To"] == EMAILS["rev"]
    assert "黄牌" in msg["Subject"] and case["case_no"] in msg["Subject"] and "yellow card" in msg["Subject"]
    body = msg.get_body().get_content()
    assert "电子监察通知" in body and "等级：黄牌" in body and f"办件编号：{case['case_no']}" in body
    assert f"/cases/{case['case_no']}" in body and "审查" in body
    assert body.index("Supervision notice") > body.index("电子监察通知")  # the English underneath
    assert "Level: yellow card" in body and f"Case number: {case['case_no']}" in body
    assert "发出时间：2026-03-05 10:05" in body  # created at the sweep (accepted after STEP_TIME), Beijing time


def test_with_the_server_down_mail_waits_in_the_outbox_and_goes_out_when_it_is_back(world, mail_app, smtp):
    db, settings = _deps(mail_app)
    _fire_review_timer(world, mail_app)
    assert worker.sweep(db, settings) == 1  # the notice itself never waits for the mail server
    assert _inbox(db) == ["rev", "rev2", "sup", "sup01"]
    # A dead server stops the round after one try, so each sweep tries one more row, never hanging on all.
    rows = _deliveries(db)
    assert [r.attempts for r in rows] == [1, 0, 0]
    for _ in range(3):
        worker.sweep(db, settings)
    rows = _deliveries(db)
    assert len(rows) == 3 and all(r.status == "pending" and r.attempts == 1 for r in rows)
    assert all("Connection" in r.last_error for r in rows)
    assert all(r.next_attempt_at == clock.now() + timedelta(minutes=1) for r in rows)  # first backoff step

    clock.advance(timedelta(seconds=30))  # not yet due: untouched
    assert outbox.deliver_due(db, settings) == (0, 0)

    smtp.start()
    clock.advance(timedelta(seconds=31))
    worker.sweep(db, settings)
    assert smtp.recipients() == sorted(EMAILS.values())
    rows = _deliveries(db)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 2)] * 3
    clock.advance(timedelta(hours=2))
    worker.sweep(db, settings)
    assert len(smtp.messages) == 3


def test_after_many_failures_a_delivery_is_flagged_failed_but_still_retried_hourly(world, mail_app, smtp):
    db, settings = _deps(mail_app)
    _fire_review_timer(world, mail_app)
    worker.sweep(db, settings)
    with db.unit_of_work() as s:  # as if it had been failing for hours already
        s.execute(update(NoticeDelivery).where(NoticeDelivery.channel == "smtp")
                  .values(attempts=outbox.MAX_ATTEMPTS - 1, next_attempt_at=clock.now()))
    for _ in range(3):
        worker.sweep(db, settings)
    rows = _deliveries(db)
    assert [(r.status, r.attempts) for r in rows] == [("failed", outbox.MAX_ATTEMPTS)] * 3
    assert all(r.next_attempt_at == clock.now() + timedelta(hours=1) for r in rows)

    smtp.start()
    clock.advance(timedelta(minutes=59))
    worker.sweep(db, settings)
    assert smtp.messages == []
    clock.advance(timedelta(minutes=1))
    worker.sweep(db, settings)
    assert smtp.recipients() == sorted(EMAILS.values())
    assert {r.status for r in _deliveries(db)} == {"sent"}


def test_a_refused_address_is_retried_alone_and_does_not_stop_the_others(world, mail_app, smtp):
    smtp.handler.refuse.add(EMAILS["sup01"])
    smtp.start()
    db, settings = _deps(mail_app)
    _fire_review_timer(world, mail_app)
    worker.sweep(db, settings)
    assert smtp.recipients() == sorted([EMAILS["rev"], EMAILS["sup"]])
    refused = next(r for r in _deliveries(db) if r.status != "sent")
    assert refused.status == "pending" and refused.attempts == 1 and "refused" in refused.last_error

    smtp.handler.refuse.clear()  # the mailbox is fixed
    clock.advance(timedelta(minutes=1))
    worker.sweep(db, settings)
    assert smtp.recipients() == sorted(EMAILS.values())


def test_two_workers_delivering_at_once_send_each_mail_once(world, mail_app, smtp):
    smtp.start()
    db, settings = _deps(mail_app)
    _fire_review_timer(world, mail_app)
    with db.unit_of_work() as s:  # raise the notice without delivering, then race two deliverers
        from app.cases import service as cases

        case_ids = cases.claim_due_cases(s, clock.now(), db.is_postgres, limit=1)
        assert cases.wake(s, settings, case_ids) == 1
    results: list[tuple[int, int]] = []
    barrier = threading.Barrier(2)

    def deliver():
        barrier.wait()
        results.append(outbox.deliver_due(db, settings))

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sum(sent for sent, _ in results) == 3 and sum(failed for _, failed in results) == 0
    assert smtp.recipients() == sorted(EMAILS.values())


def test_timers_run_once_delivers_the_mail_too(world, mail_app, smtp):
    smtp.start()
    _fire_review_timer(world, mail_app)
    result = mail_app.test_cli_runner().invoke(args=["timers", "run", "--once"])
    assert result.exit_code == 0 and "1 timer(s) fired" in result.output
    assert smtp.recipients() == sorted(EMAILS.values())


def test_without_smtp_host_only_the_inbox_is_used(app, frozen_now):
    world = build_world(app)
    db, settings = _deps(app)
    assert settings.smtp is None and settings.notice_channels == ()
    with db.unit_of_work() as s:
        s.execute(update(User).where(User.username == "rev").values(email=EMAILS["rev"]))
    _fire_review_timer(world, app)
    assert worker.sweep(db, settings) == 1
    assert _deliveries(db) == [] and _inbox(db) == ["rev", "rev2", "sup", "sup01"]
    assert outbox.deliver_due(db, settings) == (0, 0)


def test_users_get_an_email_address_from_the_cli_and_bad_ones_are_refused(app, cli):
    cli("orgs", "create", "CA", "崇安区", "--kind", "district")
    cli("users", "create", "wang", "--role", "supervisor", "--org", "CA", "--email", " wang@ca.example.gov.cn ")
    cli("users", "create", "zhao", "--role", "supervisor", "--org", "CA")
    for bad in ("wang", "wang@", "a b@ca.gov.cn", "x@ca.gov.cn\r\nBcc: all@ca.gov.cn", "x@localhost", "张@例.中国"):
        assert "email address" in cli("users", "create", "bad", "--role", "clerk", "--org", "CA", "--email", bad,
                                      code=2)
    with app.extensions["sunlight.db"].unit_of_work() as s:
        emails = {name: email for name, email in s.execute(select(User.username, User.email))}
    assert emails == {"wang": "wang@ca.example.gov.cn", "zhao": None}
