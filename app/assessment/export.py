"""The assessment as an XLSX workbook (openpyxl): one sheet, a header row of the figure names, one row per
department — the same figures as the JSON, flattened (cards.warning → cards_warning)."""
from __future__ import annotations

import io

from openpyxl import Workbook
from openpyxl.styles import Font

COLUMNS = ("rank", "org_code", "org_name", "org_kind", "cases_accepted", "cases_completed", "completed_on_time",
           "on_time_rate", "cards_warning", "cards_yellow", "cards_red", "orders_issued", "orders_overdue", "ratings",
           "rating_avg", "items_active", "items_with_cases", "online_run_rate", "evaluation_avg", "score", "grade")


def flat(row: dict) -> dict:
    """A report row with its nested counts spread into columns."""
    out = {k: v for k, v in row.items() if k not in ("cards", "orders")}
    out.update({f"cards_{k}": v for k, v in row["cards"].items()})
    out.update({f"orders_{k}": v for k, v in row["orders"].items()})
    return out


def workbook(report: dict) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = f"考核 {report['period']}"[:31]
    sheet.append(list(COLUMNS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in report["departments"]:
        values = flat(row)
        sheet.append([values.get(c) for c in COLUMNS])
    sheet.freeze_panes = "A2"
    meta = book.create_sheet("说明")
    for key in ("period", "status", "version", "generated_at"):
        meta.append([key, str(report.get(key)) if report.get(key) is not None else ""])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
