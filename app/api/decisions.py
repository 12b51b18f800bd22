"""Decisions, documents and disclosure (行政执法三项制度, 双公示): thin endpoints over app/cases/decisions.py,
app/documents and app/disclosure."""
from __future__ import annotations

from flask import Blueprint, current_app, request, send_file

from app.cases import decisions
from app.cases import service as cases
from app.disclosure import service as disclosure
from app.documents import service as documents

from . import openapi as doc
from . import render
from .common import caller, db, int_arg, json_body, settings
from .limits import limiter

decisions_api = Blueprint("decisions", __name__)
STAFF = ("admin", "designer", "legal", "clerk", "supervisor")


@decisions_api.post("/api/v1/cases/<case_no>/legal-reviews")
def legal_review(case_no: str):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, *STAFF)
        row = decisions.review(s, settings(), user, case_no, body)
        return render.decision(s, row), 201


@decisions_api.get("/api/v1/cases/<case_no>/decision")
def case_decision(case_no: str):
    with db().unit_of_work() as s:
        user = caller(s, *STAFF)
        case = cases.get_visible(s, user, case_no)
        return render.decision_record(s, case)


@decisions_api.post("/api/v1/cases/<case_no>/decision/publish")
def publish_decision(case_no: str):
    json_body(required=False)
    with db().unit_of_work() as s:
        user = caller(s, "clerk", "admin")
        return render.publication(disclosure.publish(s, settings(), user, case_no))


@decisions_api.post("/api/v1/cases/<case_no>/decision/withdraw")
def withdraw_decision(case_no: str):
    body = json_body()
    with db().unit_of_work() as s:
        user = caller(s, "clerk", "admin")
        return render.publication(disclosure.withdraw(s, settings(), user, case_no, body))


@decisions_api.get("/api/v1/cases/<case_no>/documents")
def case_documents(case_no: str):
    with db().unit_of_work() as s:
        user = caller(s, *STAFF)
        case = cases.get_visible(s, user, case_no)
        return [render.document(documents.rendered(s, settings(), d)) for d in documents.of_case(s, case.id)]


@decisions_api.get("/api/v1/documents/<int:document_id>")
def document_pdf(document_id: int):
    with db().unit_of_work() as s:
        user = caller(s, *STAFF)
        d = documents.visible(s, user, document_id)
        path = documents.path(s, settings(), d)
        number, sha256 = d.number, d.sha256
    resp = send_file(path, mimetype="application/pdf", as_attachment=request.args.get("download") == "1",
                     download_name=f"{number}.pdf", conditional=False, etag=False, max_age=0)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    resp.headers["Cache-Control"] = "private, no-store"
    resp.headers["X-Content-SHA256"] = sha256
    return resp


def _public_rate() -> str:
    return current_app.config["PUBLIC_QUERY_RATE"]


@decisions_api.get("/public/api/v1/decisions")
def public_decisions():
    category = request.args.get("category") or None
    with db().unit_of_work() as s:
        rows, total, exact = disclosure.public_list(
            s, category=category, department=(request.args.get("department") or "").strip()[:64] or None,
            q=(request.args.get("q") or "").strip()[:100] or None, page=int_arg("page", 1, 1, 100000),
            per_page=int_arg("per_page", 20, 1, disclosure.MAX_PER_PAGE))
        return {"decisions": [render.public_decision(r) for r in rows], "total": total, "total_exact": exact}


@decisions_api.get("/public/api/v1/documents/verify")
@limiter.limit(_public_rate)
def verify_document():
    with db().unit_of_work() as s:
        d = documents.verify(s, request.args.get("number"), request.args.get("code"))
        return render.verified_document(s, documents.rendered(s, settings(), d))


_DECISION_IN = {"type": "object", "required": ["outcome", "summary", "legal_basis"], "properties": {
    "outcome": {"type": "string", "enum": ["granted", "denied", "penalty", "no_penalty", "other"]},
    "summary": doc.S, "legal_basis": doc.S, "amount": {"type": "number", "nullable": True}}}
_DECISION = {"type": "object", "properties": {
    "id": doc.I, "status": {"type": "string", "enum": ["pending_review", "rejected", "approved", "made", "superseded",
                                                      "withdrawn"]},
    "outcome": doc.S, "summary": doc.S, "legal_basis": doc.S, "amount": {"type": "number", "nullable": True},
    "major": {"type": "boolean"}, "step": doc.S, "proposed_by": doc.S, "proposed_at": doc.DT, "opinion": doc.S,
    "reviewed_by": {"type": "string", "nullable": True}, "reviewed_at": doc.DT,
    "review_opinion": {"type": "string", "nullable": True}, "decided_at": doc.DT, "withdrawn_at": doc.DT,
    "withdrawal_reason": {"type": "string", "nullable": True}}}
_PUBLICATION = {"type": "object", "properties": {
    "status": {"type": "string", "enum": ["held", "published", "withdrawn"]}, "number": doc.S, "party": doc.S,
    "due_at": doc.DT, "published_at": doc.DT, "withdrawn_at": doc.DT,
    "withdrawal_reason": {"type": "string", "nullable": True}}}
_DOCUMENT = {"type": "object", "properties": {
    "id": doc.I, "kind": {"type": "string", "enum": ["acceptance_notice", "supplement_notice", "refusal_decision",
                                                    "decision"]},
    "number": {"type": "string", "description": "文号: unique, gap-free per department, kind and year"},
    "created_at": doc.DT, "sha256": doc.S, "size": doc.I,
    "status": {"type": "string", "enum": ["valid", "superseded", "withdrawn"]}, "url": doc.S}}
_PUBLIC_DECISION = {"type": "object", "properties": {
    "number": {"type": "string", "nullable": True}, "item_name": doc.S, "category": doc.S, "outcome": doc.S,
    "summary": doc.S, "legal_basis": doc.S, "amount": {"type": "number", "nullable": True},
    "department": doc.S, "decided_at": doc.DT, "published_at": doc.DT,
    "party": {"type": "string", "description": "a legal person's name; a natural person's masked (张*)"},
    "status": {"type": "string", "enum": ["published", "withdrawn"]}, "withdrawn_at": doc.DT,
    "withdrawal_reason": {"type": "string", "nullable": True}}}
CASE_NO = doc.path_param("case_no")

doc.document({
    "/api/v1/cases/{case_no}/legal-reviews": {"post": {
        **doc.op("法制审核 of the case's major decision waiting for review (legal; never who proposed it): approve "
                 "lets the clerk complete the decision step with it; reject sends it back with the opinion as the "
                 "reason", 201, "Decision", errors=(400, 404, 409, 415, 422), params=[CASE_NO]),
        "requestBody": {"required": True, "content": doc.json_content({"type": "object",
                                                                       "required": ["decision", "opinion"],
                                                                       "properties": {
            "decision": {"type": "string", "enum": ["approve", "reject"]}, "opinion": doc.S}})}}},
    "/api/v1/cases/{case_no}/decision": {"get": doc.op(
        "The case's decision: the current record (made, or waiting for / back from legal review), its history, "
        "and its publication (双公示)", out={"type": "object", "properties": {
            "current": {**doc.ref("Decision"), "nullable": True},
            "history": {"type": "array", "items": doc.ref("Decision")},
            "publication": {**doc.ref("Publication"), "nullable": True}}}, errors=(404,), params=[CASE_NO])},
    "/api/v1/cases/{case_no}/decision/publish": {"post": doc.op(
        "Publish the case's held decision (a clerk of its department; items with decision_publication: clerk); "
        "not published within 7 working days of the decision, it raises a red notice", out="Publication",
        errors=(404, 409), params=[CASE_NO])},
    "/api/v1/cases/{case_no}/decision/withdraw": {"post": {**doc.op(
        "Withdraw a published decision with a reason (e.g. revoked on reconsideration): a leader post of the "
        "department or an admin; it stays on the public list marked withdrawn", out="Publication",
        errors=(400, 404, 409, 415, 422), params=[CASE_NO]),
        "requestBody": {"required": True, "content": doc.json_content(doc.ref("Reason"))}}},
    "/api/v1/cases/{case_no}/documents": {"get": doc.op(
        "The documents issued on the case (受理通知书, 补正材料通知书, 不予受理决定书, 决定书)",
        out={"type": "array", "items": doc.ref("Document")}, errors=(404,), params=[CASE_NO])},
    "/api/v1/documents/{document_id}": {"get": doc.op(
        "A document's PDF (staff who can see its case; another department's answers 404); ?download=1 as an "
        "attachment", media={"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
        errors=(404,), params=[doc.path_param("document_id", doc.I), doc.query_param("download")])},
    "/public/api/v1/decisions": {"get": doc.op(
        "双公示: published licensing and penalty decisions, newest first; withdrawn ones stay, marked",
        out={"type": "object", "properties": {"decisions": {"type": "array", "items": doc.ref("PublicDecision")},
                                              "total": doc.I, "total_exact": {
                                                  "type": "boolean", "description": "false: a search found more "
                                                  "than `total` (its count stops at 1000)"}}},
        auth=False, tag="public", errors=(400, 422), params=[
            doc.query_param("category"), doc.query_param("department"), doc.query_param("q"),
            doc.query_param("page", {"type": "integer", "minimum": 1, "maximum": 100000}),
            doc.query_param("per_page", {"type": "integer", "minimum": 1, "maximum": 100})])},
    "/public/api/v1/documents/verify": {"get": doc.op(
        "文书核验: a document by its number and the verification code printed on it → its hash and status; an "
        "unknown number and a wrong code answer the same 404", out="VerifiedDocument", auth=False, tag="public",
        errors=(404, 429), params=[doc.query_param("number", required=True), doc.query_param("code", required=True)])},
}, {
    "DecisionIn": _DECISION_IN, "Decision": _DECISION, "Publication": _PUBLICATION, "Document": _DOCUMENT,
    "PublicDecision": _PUBLIC_DECISION,
    "VerifiedDocument": {"type": "object", "properties": {
        "number": doc.S, "kind": doc.S, "title": doc.S, "department": doc.S, "issued_at": doc.DT, "sha256": doc.S,
        "status": {"type": "string", "enum": ["valid", "superseded", "withdrawn"]},
        "status_reason": {"type": "string", "nullable": True}}},
})
