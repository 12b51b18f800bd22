"""Documents (执法文书): the PDFs a case's actions produce — 受理通知书, 补正通知书, 不予受理决定书, 决定书 — rendered
from the templates under app/documents/templates/ (or DOCUMENT_TEMPLATES_DIR), numbered gap-free per department,
kind and year (文号), stored content-addressed like uploaded materials, their hashes in the audit trail.

A room that reacts to what cases do (app/documents/reactions.py); cases never call it.
"""
