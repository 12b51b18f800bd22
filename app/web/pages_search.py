"""查找办件: the staff's case search page and its CSV export, over the same service as GET /api/v1/cases."""
from __future__ import annotations

import csv
import io

from flask import Response, render_template, request

from app.cases import search
from app.catalog import service as catalog
from app.errors import Invalid

from . import web
from .common import db, flash_error, local_time, settings, signed_in

STAFF = ("admin", "designer", "legal", "clerk", "supervisor")
CSV_ROWS = 10_000  # an export is one query of at most this many rows, newest first
CSV_FIELDS = ("case_no", "item_code", "item_name", "status", "card", "created_at", "applicant_name")


@web.get("/cases")
def case_search():
    with db().unit_of_work() as s:
        user = signed_in(s, *STAFF)
        try:
            query = search.parse(request.args)
        except Invalid as exc:
            flash_error(exc)
            query = search.Query()
        rows, total = search.find(s, user, query, settings().tz)
        items, _ = catalog.items_in_scope(s, user, None, 1, 1000)
        view = {"rows": rows, "total": total, "query": query, "args": request.args.to_dict(),
                "pager_args": {k: v for k, v in request.args.items() if k != "page"},
                "pages": max(1, -(-total // query.per_page)),
                "items": [(i.code, i.name) for i in items], "statuses": search.CASE_STATUSES, "cards": search.CARDS}
    return render_template("web/case_search.html", **view)


@web.get("/cases.csv")
def case_search_csv():
    with db().unit_of_work() as s:
        user = signed_in(s, *STAFF)
        query = search.parse(request.args, max_per_page=CSV_ROWS)
        query = search.Query(**{**query.__dict__, "page": 1, "per_page": CSV_ROWS})
        rows, _ = search.find(s, user, query, settings().tz)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_FIELDS)
    for r in rows:
        writer.writerow([_cell(v) for v in (r.case_no, r.code, r.name, r.status, r.card, local_time(r.created_at),
                                            r.applicant_name)])
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=sunlight-cases.csv"})


def _cell(value):
    """A text a spreadsheet would run as a formula is kept as text (an applicant named '=cmd…')."""
    return "'" + value if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r") else value
