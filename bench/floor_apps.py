"""The minimal servers bench/floor.py measures (issue #14's floor), one per FLOOR_MODE, served by gunicorn as
`floor_apps:make_app()` with bench/ on the path.

They answer the lifecycle's four requests exactly as bench/lifecycle_http.py's client sends them (POST
/api/v1/cases, POST /api/v1/cases/<case_no>/tasks/<task_id>/complete) with the part of the case JSON the client
reads: {case_no, status, tasks: [{id, bpmn_id, state}]}; and GET /healthz.

- wsgi     a bare WSGI callable with fixed answers: the HTTP floor (gunicorn, sockets, the client).
- flask    the same fixed answers through Flask (routing, the JSON body parsed, jsonify): what Flask adds.
- engine   Flask + Sunlight's engine seam (bench/engine_seam.py), the case's blob kept in a dict between requests:
           every request loads, steps and dumps the workflow, as the app must; nothing is stored durably.
- durable  `engine` with the blob in a database through the raw driver (FLOOR_DB: a SQLite path, or a libpq
           conninfo for PostgreSQL): per request one transaction — the bearer token (one indexed SELECT), the case
           and its blob locked and read, the engine step, the blob written back, one audit row per engine change
           on a SHA-256 chain whose head the case row keeps (as app/audit does), the case row and task rows
           written. The least a durable, audited case action can do on this stack.
"""
from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
import uuid
from datetime import datetime, timezone

GENESIS = "0" * 64  # app/audit/service.py's
STATE_OF = {"task_ready": "ready", "task_completed": "completed", "task_cancelled": "cancelled",
            "timer_started": "waiting", "timer_fired": "completed", "external_task_opened": "waiting",
            "external_task_completed": "completed"}


# ---------------------------------------------------------------------------------------------------------------
# fixed answers (wsgi, flask)
# ---------------------------------------------------------------------------------------------------------------
def _fixed_case(task: str | None, status: str = "running") -> dict:
    tasks = [{"id": f"t-{task}", "bpmn_id": task, "state": "ready"}] if task else []
    return {"case_no": "F0-1", "status": status, "tasks": tasks}


# After completing the task with this id, the case looks like this (the client always takes the ready one).
FIXED_CREATE = _fixed_case("Task_accept")
FIXED_AFTER = {"t-Task_accept": _fixed_case("Task_review"), "t-Task_review": _fixed_case("Task_decide"),
               "t-Task_decide": _fixed_case(None, "completed")}


def _task_of(path: str) -> str | None:
    """<task_id> of /api/v1/cases/<case_no>/tasks/<task_id>/complete."""
    parts = path.strip("/").split("/")
    return parts[5] if len(parts) == 7 and parts[:3] == ["api", "v1", "cases"] and parts[4] == "tasks" else None


def wsgi_app(environ, start_response):
    """Reads the body (HTTP needs it consumed) and answers from the fixed cases; nothing else."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    if length:
        environ["wsgi.input"].read(length)
    path, method = environ.get("PATH_INFO", ""), environ["REQUEST_METHOD"]
    if method == "GET" and path == "/healthz":
        status, body = "200 OK", {"ok": True}
    elif method == "POST" and path == "/api/v1/cases":
        status, body = "201 Created", FIXED_CREATE
    elif method == "POST" and _task_of(path) in FIXED_AFTER:
        status, body = "200 OK", FIXED_AFTER[_task_of(path)]
    else:
        status, body = "404 Not Found", {"error": "not found"}
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def flask_fixed_app():
    from flask import Flask, abort, request

    app = Flask("floor_flask")

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    @app.post("/api/v1/cases")
    def create():
        request.get_json()
        return FIXED_CREATE, 201

    @app.post("/api/v1/cases/<case_no>/tasks/<task_id>/complete")
    def complete(case_no, task_id):
        request.get_json()
        if task_id not in FIXED_AFTER:
            abort(404)
        return FIXED_AFTER[task_id]

    return app


# ---------------------------------------------------------------------------------------------------------------
# the engine, its state in memory (engine)
# ---------------------------------------------------------------------------------------------------------------
def case_json(case_no: str, run, views) -> dict:
    return {"case_no": case_no, "status": "completed" if run.completed else "running",
            "tasks": [{"id": v.id, "bpmn_id": v.bpmn_id, "state": v.state} for v in views]}


def engine_app():
    import engine_seam
    from flask import Flask, abort, request

    from app import engine

    app = Flask("floor_engine")
    bundle = engine_seam.licensing_bundle()
    blobs: dict[str, bytes] = {}

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    @app.post("/api/v1/cases")
    def create():
        body = request.get_json()
        run, _changes, views = engine_seam.start(bundle, body.get("data"))
        case_no = f"F1-{uuid.uuid4().hex[:12]}"
        blobs[case_no] = run.dump()
        return case_json(case_no, run, views), 201

    @app.post("/api/v1/cases/<case_no>/tasks/<task_id>/complete")
    def complete(case_no, task_id):
        body = request.get_json()
        if case_no not in blobs:
            abort(404)
        run = engine_seam.load(blobs[case_no], bundle)
        try:
            _changes, views = engine_seam.complete(run, task_id, body.get("data") or {})
        except (engine.TaskNotFound, engine.TaskNotReady):
            abort(409)
        blobs[case_no] = run.dump()
        return case_json(case_no, run, views)

    return app


# ---------------------------------------------------------------------------------------------------------------
# the engine, its state in a database (durable)
# ---------------------------------------------------------------------------------------------------------------
SCHEMA = """
CREATE TABLE users (id {pk}, username TEXT NOT NULL UNIQUE);
CREATE TABLE api_tokens (id {pk}, user_id INTEGER NOT NULL REFERENCES users(id), token_hash TEXT NOT NULL UNIQUE,
                         revoked_at TEXT);
CREATE TABLE cases (id {pk}, case_no TEXT NOT NULL UNIQUE, status TEXT NOT NULL, created_by INTEGER NOT NULL
                    REFERENCES users(id), updated_at TEXT NOT NULL, audit_seq INTEGER NOT NULL,
                    audit_hash TEXT NOT NULL);
CREATE TABLE case_states (case_id INTEGER PRIMARY KEY REFERENCES cases(id), blob {blob} NOT NULL);
CREATE TABLE case_tasks (id TEXT PRIMARY KEY, case_id INTEGER NOT NULL REFERENCES cases(id), bpmn_id TEXT NOT NULL,
                         state TEXT NOT NULL, updated_at TEXT NOT NULL);
CREATE INDEX ix_case_tasks_case ON case_tasks (case_id);
CREATE TABLE audit_events (id {pk}, case_id INTEGER NOT NULL REFERENCES cases(id), seq INTEGER NOT NULL,
                           at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, task_bpmn_id TEXT,
                           detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
                           UNIQUE (case_id, seq));
"""
DIALECT = {"sqlite": {"pk": "INTEGER PRIMARY KEY", "blob": "BLOB"},
           "pg": {"pk": "INTEGER GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", "blob": "BYTEA"}}


def is_pg(db: str) -> bool:
    return db.startswith("postgresql://") or db.startswith("host=") or db.startswith("dbname=")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()  # as app/orgs/service.py keeps tokens


class Store:
    """One connection per worker and the statements of one request's transaction, for both drivers.

    SQL is written with %s placeholders (psycopg's); SQLite gets them as ?.
    """

    def __init__(self, db: str):
        self.pg = is_pg(db)
        self.lock = "FOR UPDATE" if self.pg else ""  # SQLite: BEGIN IMMEDIATE already holds the write lock
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(db, autocommit=True)  # BEGIN … COMMIT sent explicitly, as on SQLite
        else:
            self.conn = sqlite3.connect(db, timeout=30, isolation_level=None, check_same_thread=False)
            for pragma in ("foreign_keys=ON", "journal_mode=WAL", "synchronous=NORMAL"):  # app/db.py's
                self.conn.execute(f"PRAGMA {pragma}")

    def sql(self, text: str) -> str:
        return text if self.pg else text.replace("%s", "?")

    def one(self, text: str, params=()):
        rows = self.conn.execute(self.sql(text), params).fetchall()  # fetched to the end: no statement left open
        return rows[0] if rows else None

    def run(self, text: str, params=()) -> None:
        self.conn.execute(self.sql(text), params)

    def many(self, text: str, rows: list) -> None:
        if rows:
            self.conn.cursor().executemany(self.sql(text), rows)

    def begin(self) -> None:
        self.conn.execute("BEGIN" if self.pg else "BEGIN IMMEDIATE")

    def commit(self) -> None:
        self.conn.execute("COMMIT")

    def rollback(self) -> None:
        self.conn.execute("ROLLBACK")

    def create_schema(self, tokens: dict[str, str]) -> None:
        """The tables and one user per token (run once, by bench/floor.py, before gunicorn starts)."""
        ddl = SCHEMA.format(**DIALECT["pg" if self.pg else "sqlite"])
        self.begin()
        for statement in filter(str.strip, ddl.split(";")):
            self.run(statement)
        for name, token in tokens.items():
            user_id = self.one("INSERT INTO users (username) VALUES (%s) RETURNING id", (name,))[0]
            self.run("INSERT INTO api_tokens (user_id, token_hash) VALUES (%s, %s)", (user_id, token_hash(token)))
        self.commit()

    def close(self) -> None:
        self.conn.close()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _audit_rows(case_id: int, seq: int, head: str, actor: str, events: list[tuple[str, str | None, dict]]):
    """Audit rows chained on the case's head, hashed as app/audit/service.py's event_hash does; the new head."""
    rows, at = [], _now()
    for action, bpmn_id, detail in events:
        seq += 1
        body = json.dumps([head, f"case:{case_id}", seq, at, actor, action, case_id, bpmn_id, detail],
                          sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
        rows.append((case_id, seq, at, actor, action, bpmn_id, json.dumps(detail, ensure_ascii=False, default=str),
                     head, digest))
        head = digest
    return rows, seq, head


def _engine_events(changes, opinion: dict) -> list[tuple[str, str | None, dict]]:
    """One event per engine change; the completed task's event carries the clerk's opinion."""
    return [(c.action, c.bpmn_id, dict(c.detail, task_id=c.task_id, **opinion.get((c.action, c.task_id), {})))
            for c in changes]


def _task_rows(case_id: int, changes, at: str) -> list[tuple]:
    """One row per task the changes touched, in its last state."""
    last = {c.task_id: c for c in changes if c.action in STATE_OF}
    return [(c.task_id, case_id, c.bpmn_id, STATE_OF[c.action], at) for c in last.values()]


class Durable:
    """The durable floor's two actions, each one transaction on this worker's connection."""

    def __init__(self, db: str):
        import engine_seam

        self.seam, self.db = engine_seam, db
        self.bundle = engine_seam.licensing_bundle()
        self.local = threading.local()

    @property
    def store(self) -> Store:
        if getattr(self.local, "store", None) is None:  # opened in the worker, after gunicorn's fork
            self.local.store = Store(self.db)
        return self.local.store

    def _user(self, s: Store, auth: str) -> str | None:
        token = auth[7:] if auth.startswith("Bearer ") else ""
        row = s.one("SELECT u.username FROM api_tokens t JOIN users u ON u.id = t.user_id "
                    "WHERE t.token_hash = %s AND t.revoked_at IS NULL", (token_hash(token),))
        return row[0] if row else None

    def _write(self, s: Store, case_id, run, changes, actor, seq, head, first_events, opinion=None) -> None:
        at = _now()
        events = first_events + _engine_events(changes, opinion or {})
        rows, seq, head = _audit_rows(case_id, seq, head, actor, events)
        s.many("INSERT INTO audit_events (case_id, seq, at, actor, action, task_bpmn_id, detail, prev_hash, hash) "
               "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)", rows)
        s.run("UPDATE cases SET status = %s, updated_at = %s, audit_seq = %s, audit_hash = %s WHERE id = %s",
              ("completed" if run.completed else "running", at, seq, head, case_id))
        s.many("INSERT INTO case_tasks (id, case_id, bpmn_id, state, updated_at) VALUES (%s, %s, %s, %s, %s) "
               "ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
               _task_rows(case_id, changes, at))

    def create(self, auth: str, body: dict):
        s = self.store
        s.begin()
        try:
            actor = self._user(s, auth)
            if actor is None:
                s.rollback()
                return 401, {"error": "unauthorized"}
            case_no = f"F2-{uuid.uuid4().hex[:12]}"
            case_id = s.one("INSERT INTO cases (case_no, status, created_by, updated_at, audit_seq, audit_hash) "
                            "VALUES (%s, 'running', (SELECT id FROM users WHERE username = %s), %s, 0, %s) "
                            "RETURNING id", (case_no, actor, _now(), GENESIS))[0]
            run, changes, views = self.seam.start(self.bundle, body.get("data"))
            s.run("INSERT INTO case_states (case_id, blob) VALUES (%s, %s)", (case_id, run.dump()))
            self._write(s, case_id, run, changes, actor, 0, GENESIS,
                        [("case_created", None, {"applicant": body.get("applicant")})])
            s.commit()
        except BaseException:
            s.rollback()
            raise
        return 201, case_json(case_no, run, views)

    def complete(self, auth: str, case_no: str, task_id: str, body: dict):
        from app import engine

        s = self.store
        s.begin()
        try:
            actor = self._user(s, auth)
            row = s.one(f"SELECT c.id, c.audit_seq, c.audit_hash, st.blob FROM cases c JOIN case_states st "
                        f"ON st.case_id = c.id WHERE c.case_no = %s {s.lock}", (case_no,)) if actor else None
            if row is None:
                s.rollback()
                return (401, {"error": "unauthorized"}) if actor is None else (404, {"error": "no such case"})
            case_id, seq, head, blob = row
            run = self.seam.load(bytes(blob), self.bundle)
            try:
                changes, views = self.seam.complete(run, task_id, body.get("data") or {})
            except (engine.TaskNotFound, engine.TaskNotReady):
                s.rollback()
                return 409, {"error": "task not ready"}
            s.run("UPDATE case_states SET blob = %s WHERE case_id = %s", (run.dump(), case_id))
            self._write(s, case_id, run, changes, actor, seq, head, [],
                        {("task_completed", task_id): {"opinion": body.get("opinion")}})
            s.commit()
        except BaseException:
            s.rollback()
            raise
        return 200, case_json(case_no, run, views)


def durable_app():
    from flask import Flask, request

    app = Flask("floor_durable")
    floor = Durable(os.environ["FLOOR_DB"])

    @app.get("/healthz")
    def healthz():
        return {"ok": True}

    @app.post("/api/v1/cases")
    def create():
        status, body = floor.create(request.headers.get("Authorization", ""), request.get_json())
        return body, status

    @app.post("/api/v1/cases/<case_no>/tasks/<task_id>/complete")
    def complete(case_no, task_id):
        status, body = floor.complete(request.headers.get("Authorization", ""), case_no, task_id,
                                      request.get_json())
        return body, status

    return app


def make_app():
    """gunicorn's factory (`floor_apps:make_app()`): the app of FLOOR_MODE."""
    mode = os.environ.get("FLOOR_MODE", "wsgi")
    if mode == "wsgi":
        return wsgi_app
    return {"flask": flask_fixed_app, "engine": engine_app, "durable": durable_app}[mode]()
