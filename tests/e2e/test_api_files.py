"""Uploaded materials over HTTP: safe storage, attachment at acceptance, completeness (一次性告知), download scope."""
from __future__ import annotations

import dataclasses
import hashlib
import io
import zipfile
from pathlib import Path

import pytest

from app.cases import files
from tests.world import ITEM, LICENSING, build_world, deploy_item

PDF = b"%PDF-1.7\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(17)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(32)
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56) + b"This program cannot be run in DOS mode."
HTML = b"<!DOCTYPE html><html><script>alert(document.cookie)</script></html>"
APPLICANT = {"name": "张三", "id_number": "320102199001011234", "phone": "13800000000"}
FORM, LICENCE = ITEM["materials"][0]["name"], ITEM["materials"][1]["name"]


@pytest.fixture
def world(app, frozen_now):
    return build_world(app)


def upload(world, data: bytes, name="scan.pdf", user="acc", ctype="application/pdf"):
    return world.api.call("POST", "/api/v1/files", user, data={"file": (io.BytesIO(data), name, ctype)},
                          ctype="multipart/form-data")


def uploaded(world, data: bytes, name="scan.pdf", user="acc") -> dict:
    status, body = upload(world, data, name, user)
    assert status == 201, body
    return body


def open_case(world, materials, user="acc", item=ITEM["code"]):
    return world.api.post("/api/v1/cases", user, {"item_code": item, "applicant": APPLICANT, "data": {},
                                                  "materials": materials})


def test_a_pdf_and_a_png_are_stored_by_hash_with_their_sniffed_types(world, app):
    pdf = uploaded(world, PDF, "申请书.pdf")
    assert pdf["content_type"] == "application/pdf" and pdf["filename"] == "申请书.pdf"
    assert pdf["size"] == len(PDF) and pdf["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert pdf["file_id"].startswith("f_") and len(pdf["file_id"]) >= 34
    # The client's word is not believed: a PNG declared as a PDF is a PNG, and its name says so.
    status, png = upload(world, PNG, "执照.pdf", ctype="application/pdf")
    assert status == 201 and png["content_type"] == "image/png" and png["filename"] == "执照.pdf.png"
    assert uploaded(world, JPEG, "photo.JPEG")["content_type"] == "image/jpeg"

    root = Path(app.config["FILE_STORAGE_DIR"])
    for body, data in ((pdf, PDF), (png, PNG)):
        on_disk = root / body["sha256"][:2] / body["sha256"][2:4] / body["sha256"]
        assert on_disk.read_bytes() == data
        assert hashlib.sha256(on_disk.read_bytes()).hexdigest() == body["sha256"]
    again = uploaded(world, PDF)  # the same bytes again: a new file id, the same stored copy
    assert again["file_id"] != pdf["file_id"] and again["sha256"] == pdf["sha256"]
    assert len([p for p in root.rglob("*") if p.is_file()]) == 3
    assert not list(root.rglob(".upload-*"))  # no temp file left behind


@pytest.mark.parametrize("data,name", [(PDF, "scan.pdf"), (PNG, "photo.png")])
def test_a_download_has_a_content_type_the_document_names(world, app, data, name):
    """Served with its sniffed type, which the document lists (it said application/octet-stream only): found by
    bench/fuzz_served.py."""
    schemathesis = pytest.importorskip("schemathesis")
    from schemathesis.specs.openapi.checks import content_type_conformance

    file_id = uploaded(world, data, name)["file_id"]
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    schema["/api/v1/files/{file_id}"]["GET"].Case(path_parameters={"file_id": file_id}).call_and_validate(
        headers={"Authorization": f"Bearer {world.tokens['acc']}"}, checks=[content_type_conformance])


def test_an_ofd_document_is_recognised_by_its_package(world):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("OFD.xml", "<ofd:OFD xmlns:ofd='http://www.ofdspec.org/2016'/>")
        zf.writestr("Doc_0/Document.xml", "<ofd:Document xmlns:ofd='http://www.ofdspec.org/2016'/>")
    body = uploaded(world, buf.getvalue(), "营业执照.ofd")
    assert body["content_type"] == "application/ofd" and body["filename"] == "营业执照.ofd"
    plain = io.BytesIO()
    with zipfile.ZipFile(plain, "w") as zf:
        zf.writestr("readme.txt", "not an OFD")
    status, body = upload(world, plain.getvalue(), "营业执照.ofd")
    assert status == 415 and "ZIP archive" in body["error"]["message"]


@pytest.mark.parametrize("data, found", [(EXE, "Windows executable"), (HTML, "HTML document"),
                                         (b"GIF89a" + bytes(20), "GIF image"), (b"just some text", "unrecognised")])
def test_disguised_files_are_refused_naming_their_real_type(world, data, found):
    status, body = upload(world, data, "申请书.pdf", ctype="application/pdf")
    assert status == 415 and body["error"]["code"] == "unsupported_file_type"
    assert found in body["error"]["message"] and "application/pdf" in body["error"]["message"]
    assert body["error"]["details"][0]["field"] == "file"


def test_uploads_are_checked_for_size_shape_and_role(world, app, settings):
    status, body = upload(world, PDF + bytes(settings.max_file_bytes), "big.pdf")  # just over 20 MiB
    assert status == 413 and body["error"]["code"] == "file_too_large"
    app.extensions["sunlight.settings"] = dataclasses.replace(settings, max_file_bytes=1024)
    assert upload(world, PDF + bytes(1024 - len(PDF)))[0] == 201  # exactly the limit
    assert upload(world, PDF + bytes(1025 - len(PDF)))[0] == 413
    status, body = upload(world, PDF + bytes(200 * 1024))  # far beyond: Werkzeug stops reading
    assert status == 413 and body["error"]["code"] == "too_large"
    app.extensions["sunlight.settings"] = settings

    assert upload(world, b"")[0] == 422
    status, body = world.api.post("/api/v1/files", "acc", {"file": "JVBERi0="})
    assert status == 415 and body["error"]["code"] == "unsupported_media_type"
    status, body = world.api.call("POST", "/api/v1/files", "acc", data={"other": (io.BytesIO(PDF), "a.pdf")},
                                  ctype="multipart/form-data")
    assert status == 400
    assert upload(world, PDF, user="designer")[0] == 403
    assert upload(world, PDF, user="sup")[0] == 403
    assert world.api.call("POST", "/api/v1/files", data={"file": (io.BytesIO(PDF), "a.pdf")},
                          ctype="multipart/form-data")[0] == 401


def test_filenames_are_sanitised(world):
    assert uploaded(world, PDF, "../../etc/passwd")["filename"] == "passwd.pdf"
    assert uploaded(world, PDF, "申请书.PDF")["filename"] == "申请书.pdf"
    assert files.clean_filename("C:\\Users\\张三\\申请书.pdf", files.PDF) == "申请书.pdf"  # an old browser's full path
    assert uploaded(world, PDF, "evil\u202efdp.exe")["filename"] == "evilfdp.exe.pdf"
    assert uploaded(world, PDF, "a<b>c|d?.pdf")["filename"] == "a_b_c_d_.pdf"
    assert files.clean_filename('a"b;\x00c.pdf', files.PDF) == "a_b_c.pdf"
    assert uploaded(world, PDF, "...")["filename"] == "file.pdf"
    assert len(uploaded(world, PDF, "长" * 500 + ".pdf")["filename"]) == 204


def test_a_case_with_every_required_material_lists_them_as_provided(world):
    form, licence = uploaded(world, PDF, "申请书.pdf"), uploaded(world, PNG, "执照.png", user="rev")
    status, case = open_case(world, [{"name": FORM, "file_id": form["file_id"]},
                                     {"name": LICENCE, "file_id": licence["file_id"]}])
    assert status == 201, case
    assert [(m["name"], m["required"], m["provided"], m["file_id"]) for m in case["materials"]] == \
        [(FORM, True, True, form["file_id"]), (LICENCE, True, True, licence["file_id"])]
    assert case["materials"][0]["files"][0]["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert world.api.get(f"/api/v1/cases/{case['case_no']}", "dec")[1]["materials"] == case["materials"]

    status, events = world.api.get(f"/api/v1/cases/{case['case_no']}/events", "sup")
    attached = next(e for e in events if e["action"] == "materials_attached")
    assert [(m["name"], m["sha256"]) for m in attached["detail"]["materials"]] == \
        [(FORM, form["sha256"]), (LICENCE, licence["sha256"])]
    assert form["file_id"] not in str(events)  # the fetch token never lands in the audit trail


def test_missing_materials_are_all_named_at_once(world):
    status, body = open_case(world, [])
    assert status == 422 and body["error"]["code"] == "materials_incomplete"
    assert [(d["field"], d["material"]) for d in body["error"]["details"]] == \
        [("materials", FORM), ("materials", LICENCE)]
    assert all(d["message"].startswith("缺少") for d in body["error"]["details"])
    assert FORM in body["error"]["message"] and LICENCE in body["error"]["message"]

    form = uploaded(world, PDF)
    status, body = open_case(world, [{"name": FORM, "file_id": form["file_id"]}])
    assert status == 422 and [d["material"] for d in body["error"]["details"]] == [LICENCE]
    # A bad entry and a missing material: both in the same answer.
    status, body = open_case(world, [{"name": "户口本", "file_id": form["file_id"]},
                                     {"name": LICENCE, "file_id": "f_nope"}])
    assert status == 422 and body["error"]["code"] == "invalid_materials"
    assert [(d["field"], d.get("material")) for d in body["error"]["details"]] == [
        ("materials[0].name", "户口本"), ("materials[1].file_id", LICENCE), ("materials", FORM), ("materials", LICENCE)]
    assert open_case(world, "not a list")[0] == 400  # malformed: the document says a list
    assert open_case(world, [{"name": FORM}])[0] == 422
    assert world.api.get("/api/v1/tasks", "acc")[1] == []  # nothing was opened
    # The refused attempts left the file free: it still attaches.
    licence = uploaded(world, PNG, "执照.png")
    assert open_case(world, [{"name": FORM, "file_id": form["file_id"]},
                             {"name": LICENCE, "file_id": licence["file_id"]}])[0] == 201


def test_optional_materials_may_be_left_out(world):
    item = dict(ITEM, code="CA01-XK-0002", name="食品经营许可变更",
                materials=[{"name": "变更申请书", "required": True}, {"name": "委托书", "required": False}])
    deploy_item(world, item, LICENSING)
    form = uploaded(world, PDF)
    status, case = open_case(world, [{"name": "变更申请书", "file_id": form["file_id"]}], item=item["code"])
    assert status == 201, case
    assert [(m["name"], m["provided"]) for m in case["materials"]] == [("变更申请书", True), ("委托书", False)]
    assert "file_id" not in case["materials"][1]


def test_a_case_without_a_materials_key_is_opened_as_the_contract_shows(world):
    case = world.new_case()
    assert [(m["name"], m["required"], m["provided"]) for m in case["materials"]] == \
        [(FORM, True, False), (LICENCE, True, False)]


def test_a_file_of_another_department_or_already_attached_is_refused(world):
    foreign = uploaded(world, PDF, user="outsider")
    licence = uploaded(world, PNG)
    status, body = open_case(world, [{"name": FORM, "file_id": foreign["file_id"]},
                                     {"name": LICENCE, "file_id": licence["file_id"]}])
    assert status == 422 and body["error"]["code"] == "invalid_materials"
    assert body["error"]["details"][0]["message"] == "no such file among your department's uploads"

    form = uploaded(world, PDF)
    materials = [{"name": FORM, "file_id": form["file_id"]}, {"name": LICENCE, "file_id": licence["file_id"]}]
    assert open_case(world, materials)[0] == 201
    status, body = open_case(world, materials)
    assert status == 422 and body["error"]["code"] == "invalid_materials"
    assert {d["message"] for d in body["error"]["details"] if d["field"].endswith("file_id")} == \
        {"this file is already attached to a case"}
    status, body = open_case(world, [{"name": FORM, "file_id": form["file_id"]},
                                     {"name": LICENCE, "file_id": form["file_id"]}])
    assert status == 422 and any("twice" in d["message"] for d in body["error"]["details"])


def test_downloads_are_scoped_attachments_that_are_never_sniffed(world, app):
    form, licence = uploaded(world, PDF, "申请书.pdf"), uploaded(world, PNG, "执照.png")
    client = world.api.client

    def fetch(file_id, user=None):
        headers = {"Authorization": f"Bearer {world.tokens[user]}"} if user else {}
        return client.get(f"/api/v1/files/{file_id}", headers=headers)

    resp = fetch(form["file_id"], "rev")  # another clerk of the department
    assert resp.status_code == 200 and resp.data == PDF
    assert resp.mimetype == "application/pdf" and resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert "filename*=UTF-8''%E7%94%B3%E8%AF%B7%E4%B9%A6.pdf" in resp.headers["Content-Disposition"]
    assert "no-store" in resp.headers["Cache-Control"]
    assert hashlib.sha256(resp.data).hexdigest() == form["sha256"]
    assert fetch(form["file_id"], "sup").status_code == 200  # the district sees all
    for user in ("outsider", "sup02"):
        resp = fetch(form["file_id"], user)
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    assert fetch("f_" + "x" * 43, "acc").status_code == 404
    assert fetch("1", "acc").status_code == 404
    assert fetch("x" * 500, "acc").status_code == 422  # longer than the document's 200 characters
    resp = fetch(form["file_id"])
    assert resp.status_code == 401

    # Attached to a case, the file follows the case's scope.
    status, case = open_case(world, [{"name": FORM, "file_id": form["file_id"]},
                                     {"name": LICENCE, "file_id": licence["file_id"]}])
    assert status == 201
    resp = fetch(case["materials"][1]["file_id"], "sup01")
    assert resp.status_code == 200 and resp.data == PNG and resp.mimetype == "image/png"

    # Bytes altered on disk are never served.
    root = Path(app.config["FILE_STORAGE_DIR"])
    (root / form["sha256"][:2] / form["sha256"][2:4] / form["sha256"]).write_bytes(PDF + b"tampered")
    resp = fetch(form["file_id"], "acc")
    assert resp.status_code == 500 and resp.get_json()["error"]["code"] == "file_unavailable"


def test_two_cases_racing_for_the_same_files_one_wins(world, app):
    import threading

    form, licence = uploaded(world, PDF), uploaded(world, PNG)
    body = {"item_code": ITEM["code"], "applicant": APPLICANT, "data": {},
            "materials": [{"name": FORM, "file_id": form["file_id"]}, {"name": LICENCE, "file_id": licence["file_id"]}]}
    clients, headers = [app.test_client(), app.test_client()], {"Authorization": f"Bearer {world.tokens['acc']}"}
    barrier, results = threading.Barrier(2), [None, None]

    def run(i):
        barrier.wait()
        resp = clients[i].post("/api/v1/cases", json=body, headers=headers)
        results[i] = (resp.status_code, resp.get_json())

    threads = [threading.Thread(target=run, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    codes = sorted(code for code, _ in results)
    # PostgreSQL: the loser's conditional update finds the file taken (409); SQLite serialises writers, so the
    # loser's check already sees it attached (422). Either way exactly one case holds the files.
    assert codes[0] == 201 and codes[1] in (409, 422), results
    winner = next(b for c, b in results if c == 201)
    assert [m["file_id"] for m in winner["materials"]] == [form["file_id"], licence["file_id"]]
    assert len(world.api.get("/api/v1/tasks", "acc")[1]) == 1


def test_uploads_no_case_was_opened_with_are_pruned_with_their_bytes(world, app, cli):
    """Orphan uploads older than the cutoff lose their row (audited) and their bytes, unless an attached upload
    shares the same content; attached and recent uploads are untouched."""
    from datetime import timedelta

    from sqlalchemy import select

    from app import clock
    from app.audit.models import AuditEvent
    from app.cases.files_models import CaseFile

    settings = app.extensions["sunlight.settings"]
    form = uploaded(world, PDF, "form.pdf")
    licence = uploaded(world, PNG, "licence.png")
    status, case = open_case(world, [{"name": FORM, "file_id": form["file_id"]},
                                     {"name": LICENCE, "file_id": licence["file_id"]}])
    assert status == 201, case
    orphan = uploaded(world, JPEG, "forgotten.jpg")  # never attached
    same_bytes = uploaded(world, PDF, "again.pdf")  # never attached, but shares its bytes with the case's form
    with app.extensions["sunlight.db"].unit_of_work() as s:
        paths = {r.public_id: files.verified_path(settings, r) for r in s.scalars(select(CaseFile))}
    assert "0 unattached upload(s)" in cli("files", "prune", "--days", "7")  # nothing is that old yet
    clock.advance(timedelta(days=8))
    recent = uploaded(world, JPEG + b"x", "today.jpg")
    out = cli("files", "prune", "--days", "7")
    assert out.startswith("2 unattached upload(s)") and "1 file(s) removed" in out, out
    assert not paths[orphan["file_id"]].exists()  # its bytes were its own
    assert paths[same_bytes["file_id"]].exists() and paths[form["file_id"]].exists()  # still the attached form's bytes

    def status_of(file_id):
        headers = {"Authorization": f"Bearer {world.tokens['acc']}"}
        return world.api.client.get(f"/api/v1/files/{file_id}", headers=headers).status_code

    assert status_of(orphan["file_id"]) == 404
    assert status_of(form["file_id"]) == 200 and status_of(recent["file_id"]) == 200
    with app.extensions["sunlight.db"].unit_of_work() as s:
        [pruned] = s.scalars(select(AuditEvent).where(AuditEvent.action == "uploads_pruned")).all()
        assert pruned.actor == "cli" and pruned.stream == "registry" and pruned.detail["rows"] == 2


# --- paper, 容缺 and 告知承诺 at the window ---------------------------------------------------------------------
def test_paper_and_uploaded_materials_mix_and_both_count_as_provided(world):
    pdf = uploaded(world, PDF)
    status, case = open_case(world, [{"name": FORM, "file_id": pdf["file_id"]}, {"name": LICENCE, "paper": True}])
    assert status == 201, case
    by_name = {m["name"]: m for m in case["materials"]}
    assert (by_name[FORM]["provided"], by_name[FORM]["paper"]) == (True, False)
    assert (by_name[LICENCE]["provided"], by_name[LICENCE]["paper"], by_name[LICENCE]["how"]) == (True, True, "paper")
    status, body = open_case(world, [{"name": LICENCE, "paper": True}])
    assert status == 422 and body["error"]["code"] == "materials_incomplete"
    assert [d["material"] for d in body["error"]["details"]] == [FORM]


@pytest.mark.parametrize("entry, status, code", [
    ({"name": FORM, "paper": "yes"}, 400, "malformed"),  # the validation layer: not what the document says
    ({"name": FORM, "paper": True, "file_id": "f_x"}, 422, "invalid_materials"), ({"name": FORM, "pledged": 1}, 400, "malformed"),
    ({"name": FORM, "deferred_until": "2026-03-20"}, 422, "invalid_materials"),  # the item does not allow 容缺受理
    ({"name": FORM, "pledged": True}, 422, "invalid_materials"),  # nor pledges
    ({"name": "营业执照\x00", "paper": True}, 422, "invalid"),  # the layer: no NUL in any text
])
def test_odd_material_entries_are_refused_naming_the_entry(world, entry, status, code):
    answer, body = open_case(world, [entry, {"name": LICENCE, "paper": True}])
    assert answer == status and body["error"]["code"] == code, body
    assert body["error"]["details"][0]["field"].startswith("materials[0]")


def test_a_deferred_material_owed_past_its_day_raises_one_yellow_notice_until_it_is_brought(world, app):
    from datetime import timedelta

    from app import clock, worker

    assert world.api.call("PATCH", f"/api/v1/items/{ITEM['code']}", "admin", json={"allows_deferred": True})[0] == 200
    status, case = open_case(world, [{"name": FORM, "paper": True}, {"name": LICENCE, "deferred_until": "2026-03-06"}])
    assert status == 201, case
    owed = next(m for m in case["materials"] if m["name"] == LICENCE)
    assert (owed["provided"], owed["how"], owed["due_on"], owed["settled_at"]) == (True, "deferred", "2026-03-06", None)
    for bad in ("2026-03-01", "2027-03-06", "06/03/2026", "2026-02-30"):  # past, too far, not ISO, no such day
        status, body = open_case(world, [{"name": FORM, "paper": True}, {"name": LICENCE, "deferred_until": bad}])
        assert status == 422, bad
    db, settings = app.extensions["sunlight.db"], app.extensions["sunlight.settings"]
    clock.advance(timedelta(days=4, hours=14))  # Friday 6 March, 23:00: not late yet
    worker.sweep(db, settings)
    assert [n for n in world.api.get(f"/api/v1/cases/{case['case_no']}", "sup")[1]["notices"]
            if n["reason"].startswith("容缺")] == []
    clock.advance(timedelta(hours=2))  # Saturday: the day has passed
    worker.sweep(db, settings)
    worker.sweep(db, settings)  # once only
    now = world.api.get(f"/api/v1/cases/{case['case_no']}", "sup")[1]
    [notice] = [n for n in now["notices"] if n["reason"].startswith("容缺")]
    assert notice["level"] == "yellow" and LICENCE in notice["reason"] and now["deadlines"]["card"] == "yellow"
    url = f"/api/v1/cases/{case['case_no']}/materials"
    assert world.api.post(url, "outsider", {"name": LICENCE, "paper": True})[0] == 404
    assert world.api.post(url, "acc", {"name": FORM, "paper": True})[0] == 404  # nothing owed under that name
    status, body = world.api.post(url, "acc", {"name": LICENCE, "paper": True, "note": "已补交原件"})
    assert status == 200 and next(m for m in body["materials"] if m["name"] == LICENCE)["settled_at"]
    assert world.api.post(url, "acc", {"name": LICENCE, "paper": True})[0] == 404  # settled: owed no more


def test_a_pledge_is_verified_within_the_items_working_days(world, app):
    from datetime import timedelta

    from app import clock, worker

    status, _ = world.api.call("PATCH", f"/api/v1/items/{ITEM['code']}", "designer", json={"pledge_verify_days": 3})
    assert status == 200
    status, case = open_case(world, [{"name": FORM, "paper": True}, {"name": LICENCE, "pledged": True}])
    assert status == 201, case
    pledged = next(m for m in case["materials"] if m["name"] == LICENCE)
    assert (pledged["how"], pledged["due_on"]) == ("pledge", "2026-03-05")  # Monday + 3 working days
    url = f"/api/v1/cases/{case['case_no']}/materials"
    status, body = world.api.post(url, "acc", {"name": LICENCE, "paper": True})
    assert status == 422 and body["error"]["details"] == [{"field": "verified"}]
    clock.advance(timedelta(days=4))
    worker.sweep(app.extensions["sunlight.db"], app.extensions["sunlight.settings"])
    notices = world.api.get(f"/api/v1/cases/{case['case_no']}", "sup")[1]["notices"]
    assert [n["level"] for n in notices if n["reason"].startswith("告知承诺")] == ["yellow"]
    status, body = world.api.post(url, "acc", {"name": LICENCE, "verified": True, "note": "经核查属实"})
    assert status == 200
    _, events = world.api.get(f"/api/v1/cases/{case['case_no']}/events", "sup")
    assert [e["detail"]["how"] for e in events if e["action"] == "material_settled"] == ["verified"]


def test_a_users_uploads_of_a_day_stay_within_the_quota(app, frozen_now):
    """UPLOAD_QUOTA_BYTES (issue 10): past it 413 upload_quota naming the quota; another clerk is not affected,
    and a day later the clerk uploads again."""
    from datetime import timedelta

    from app import clock

    app.extensions["sunlight.settings"] = dataclasses.replace(app.extensions["sunlight.settings"],
                                                             upload_quota_bytes=3 * len(PDF))
    world = build_world(app)
    for _ in range(3):
        uploaded(world, PDF)
    status, body = upload(world, PNG)
    assert status == 413 and body["error"]["code"] == "upload_quota", body
    assert body["error"]["details"][0]["quota"] == 3 * len(PDF) and str(3 * len(PDF)) in body["error"]["message"]
    uploaded(world, PDF, user="rev")
    clock.advance(timedelta(days=1, seconds=1))
    uploaded(world, PDF)


def test_the_upload_quota_comes_from_config(db_url, tmp_path):
    from app import create_app

    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "t", "UPLOAD_QUOTA_BYTES": "1000",
                      "FILE_STORAGE_DIR": str(tmp_path / "files")})
    assert app.extensions["sunlight.settings"].upload_quota_bytes == 1000
    app.extensions["sunlight.db"].engine.dispose()
