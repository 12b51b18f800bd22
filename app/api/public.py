"""Public endpoints (/public/api/v1): the catalogue and the case progress query. No login, nothing personal."""
from __future__ import annotations

import csv
import io

from flask import Blueprint, Response, current_app, request

from app.cases import ratings
from app.cases import service as cases
from app.catalog import service as catalog
from app.catalog.models import CATEGORIES
from app.definitions import service as definitions
from app.errors import Invalid, NotFound

from . import render
from .common import db, int_arg, json_body, settings
from .limits import public_lookup

public = Blueprint("public", __name__, url_prefix="/public/api/v1")


def _search(per_page_default: int = 20):
    category = request.args.get("category") or None
    if category and category not in CATEGORIES:
        raise Invalid(f"category must be one of {', '.join(CATEGORIES)}")
    return dict(q=(request.args.get("q") or "").strip()[:100] or None, category=category,
                department=request.args.get("department") or None,
                page=int_arg("page", 1, 1, 100000), per_page=int_arg("per_page", per_page_default, 1, 1000))


@public.get("/items")
def items():
    with db().unit_of_work() as s:
        rows, total = catalog.public_items(s, **_search())
        return {"items": [render.public_item(i) for i in rows], "total": total}


@public.get("/items.json")
def items_json():
    with db().unit_of_work() as s:
        rows, total = catalog.public_items(s, None, None, None, 1, 10**6)
        return {"items": [render.public_item(i) for i in rows], "total": total}


@public.get("/items.csv")
def items_csv():
    with db().unit_of_work() as s:
        rows, _ = catalog.public_items(s, None, None, None, 1, 10**6)
        out = io.StringIO()
        fields = ["code", "name", "category", "department", "department_name", "promised_days", "statutory_days",
                  "accepting_authority", "implementing_body", "supervision_phone", "fee", "legal_basis", "materials"]
        writer = csv.DictWriter(out, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        for it in rows:
            row = render.public_item(it)
            row["materials"] = "; ".join(f"{m['name']}{'*' if m['required'] else ''}" for m in it.materials)
            writer.writerow({k: _cell(v) for k, v in row.items()})
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=sunlight-items.csv"})


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _cell(value):
    """A text a spreadsheet would run as a formula (=HYPERLINK(…), +cmd…) is kept as text: prefixed with '."""
    return "'" + value if isinstance(value, str) and value.startswith(FORMULA_STARTS) else value


@public.get("/items/<code>")
def item(code: str):
    with db().unit_of_work() as s:
        return render.public_item(catalog.public_item_by_code(s, code))


@public.get("/items/<code>/bpmn")
def item_flow(code: str):
    with db().unit_of_work() as s:
        published = definitions.published_for(s, catalog.public_item_by_code(s, code).id)
        if published is None:
            raise NotFound(f"item {code} has no published flow")
        xml = published.xml
    return Response(xml, mimetype="application/xml")


@public.get("/cases/<case_no>")
@public_lookup()
def case_progress(case_no: str):
    with db().unit_of_work() as s:
        case = cases.public_progress(s, settings(), case_no, request.args.get("code"))
        out = render.public_case(s, settings(), case)
        rating = ratings.rating_of(s, case)
        out["rating"] = rating.score if rating else None
        return out


@public.post("/cases/<case_no>/rating")
@public_lookup()
def rate_case(case_no: str):
    body = json_body()
    with db().unit_of_work() as s:
        r = ratings.rate(s, settings(), case_no, body.get("code"), body.get("score"), body.get("comment"))
        return {"case_no": case_no, "score": r.score, "level": ratings.LEVELS[r.score],
                "created_at": render.iso(r.created_at)}, 201
