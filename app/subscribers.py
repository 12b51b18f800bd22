"""Who reacts to what case actions did (app/events.py), registered once at app start by create_app.

A room that reacts to case events (supervision, documents, disclosure; assessment next) adds its `register()`
here; app/cases never learns it exists.
"""
from __future__ import annotations


def register_all() -> None:
    from app.disclosure import reactions as disclosure
    from app.documents import reactions as documents
    from app.supervision import reactions as supervision

    supervision.register()
    documents.register()
    disclosure.register()
