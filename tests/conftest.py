"""Shared fixtures: a real database per backend (SQLite always, PostgreSQL when TEST_DATABASE_URL is set).

Each test run makes its own databases and drops them afterwards: a migrated SQLite template file copied
per test, and on PostgreSQL a schema of its own per worker, emptied between tests.
"""
from __future__ import annotations

import os
import shutil
import uuid
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app import clock

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT.parent / "shared" / "corpus"
BPMN = ROOT / "bpmn"
PG_URL = os.environ.get("TEST_DATABASE_URL", "")
BACKENDS = ["sqlite"] + (["postgresql"] if PG_URL else [])


def _migrate(url: str) -> None:
    from alembic import command

    from app import create_app
    from app.cli import alembic_config, upgrade_database

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "test"})
    with app.app_context():
        upgrade_database()
        command.check(alembic_config())  # models and migrations must agree
    app.extensions["sunlight.db"].engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _migrate(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_schema(worker_id):
    """A schema of this run's own, migrated once; dropped at the end."""
    if not PG_URL:
        pytest.skip("TEST_DATABASE_URL is not set: PostgreSQL tests skipped")
    schema = f"sl_test_{worker_id}_{uuid.uuid4().hex[:8]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    try:
        _migrate(url)
        yield url, schema
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        path = tmp_path / "sunlight.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url, schema = request.getfixturevalue("pg_schema")
    engine = create_engine(url)
    with engine.begin() as conn:
        tables = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :s AND tablename != "
                                   "'alembic_version' AND tablename NOT LIKE 'calendar_%'"), {"s": schema}).scalars()
        names = ", ".join(f'"{schema}"."{t}"' for t in tables)
        if names:
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def app(db_url, tmp_path):
    from app import create_app

    application = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "test-secret", "TESTING": True,
                              "PUBLIC_QUERY_RATE": "1000/minute", "FILE_STORAGE_DIR": str(tmp_path / "files")})
    yield application
    application.extensions["sunlight.db"].engine.dispose()


@pytest.fixture
def cli(app):
    """Run a `flask` CLI command in-process; assert its exit code; return what it printed."""
    runner = app.test_cli_runner()

    def run(*args, code=0):
        result = runner.invoke(args=list(args))
        assert result.exit_code == code, (args, result.output, result.exception)
        return result.output

    return run


@pytest.fixture
def db(app):
    return app.extensions["sunlight.db"]


@pytest.fixture
def settings(app):
    return app.extensions["sunlight.settings"]


@pytest.fixture(autouse=True)
def real_clock_after():
    yield
    clock.travel_to(None)


@pytest.fixture
def frozen_now():
    """Freeze the clock on a plain Monday morning in 2026 (Beijing time)."""
    moment = datetime(2026, 3, 2, 1, 0, tzinfo=timezone.utc)  # 09:00 +08:00
    clock.travel_to(moment)
    return moment


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres_only: needs PostgreSQL (row locks, SKIP LOCKED)")
