"""Who reacts to what case actions did (app/events.py), registered once at app start by create_app.

A room that reacts to case events (supervision today; assessment, documents, disclosure next) adds its
`register()` here; app/cases never learns it exists.
"""
from __future__ import annotations


def register_all() -> None:
    from app.supervision import reactions

    reactions.register()
