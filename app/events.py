"""The seam between what a case action did and the rooms that react to it (supervision today; assessment,
documents and disclosure later).

A case action publishes plain event objects (app/cases/events.py) while it runs; every subscriber of that event
type is called at once, in the same session and transaction, in the order given when it subscribed. So nothing
is half-written: a subscriber that raises rolls the whole action back, exactly as if the action had failed.
Subscribers are registered at app start (app/subscribers.py); this module knows nothing of either side, so the
room that acts never imports the rooms that react — the ladder of DESIGN.md stays a ladder.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

Handler = Callable[[Session, Any, Any], "int | None"]  # (session, settings, event) -> how many things it raised

_subscribers: dict[type, list[tuple[int, str, Handler]]] = {}


def subscribe(event_type: type, handler: Handler, *, order: int) -> None:
    """Call `handler` for every `event_type` published, before handlers of a higher `order`. Subscribing the
    same handler again replaces it (every app the process creates registers its subscribers once more)."""
    key = f"{handler.__module__}.{handler.__qualname__}"
    handlers = [h for h in _subscribers.get(event_type, []) if h[1] != key]
    handlers.append((order, key, handler))
    handlers.sort(key=lambda h: (h[0], h[1]))
    _subscribers[event_type] = handlers


def publish(session: Session, settings: Any, event: Any) -> int:
    """Let every subscriber of the event's type react, in order; returns the sum of what they report raised."""
    raised = 0
    for _order, _key, handler in _subscribers.get(type(event), ()):
        raised += handler(session, settings, event) or 0
    return raised


def subscribers(event_type: type) -> list[str]:
    """Who reacts to `event_type`, in order (for the README's map and the tests)."""
    return [key for _order, key, _handler in _subscribers.get(event_type, ())]
