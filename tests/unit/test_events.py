"""The event seam (app/events.py): subscribers run in their order, once each, and report what they raised."""
from __future__ import annotations

from dataclasses import dataclass

import pytest

from app import events


@dataclass(frozen=True)
class Happened:
    what: str


@dataclass(frozen=True)
class Unheard:
    what: str


@pytest.fixture
def calls(monkeypatch):
    monkeypatch.setattr(events, "_subscribers", {})  # a registry of this test's own
    return []


def test_subscribers_run_in_their_order_and_report_what_they_raised(calls):
    def late(session, settings, event):
        calls.append(("late", event.what))
        return 2

    def early(session, settings, event):
        calls.append(("early", event.what))

    events.subscribe(Happened, late, order=20)
    events.subscribe(Happened, early, order=10)
    assert events.publish(None, None, Happened("x")) == 2
    assert calls == [("early", "x"), ("late", "x")]
    assert events.publish(None, None, Unheard("y")) == 0  # nobody listens: nothing happens


def test_subscribing_again_replaces_instead_of_doubling(calls):
    def once(session, settings, event):
        calls.append(event.what)

    for _ in range(3):  # every app a process creates registers its subscribers again
        events.subscribe(Happened, once, order=10)
    events.publish(None, None, Happened("x"))
    assert calls == ["x"] and len(events.subscribers(Happened)) == 1


def test_a_failing_subscriber_stops_the_publication(calls):
    def fails(session, settings, event):
        raise RuntimeError("no")

    def after(session, settings, event):
        calls.append(event.what)

    events.subscribe(Happened, fails, order=10)
    events.subscribe(Happened, after, order=20)
    with pytest.raises(RuntimeError):
        events.publish(None, None, Happened("x"))
    assert calls == []
