"""A request stopped by gunicorn's worker timeout answers 503 in the JSON error shape, not gunicorn's HTML 500, and
what it wrote is rolled back (app/served.py, app/gunicorn_conf.py). A real gunicorn, started as the README says."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import ROOT

GUNICORN = Path(sys.executable).parent / "gunicorn"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, server: subprocess.Popen, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert server.poll() is None, server.stderr.read().decode(errors="replace")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise AssertionError("gunicorn did not start listening")


@pytest.fixture
def served(db_url):
    if not GUNICORN.exists():
        pytest.skip("gunicorn is not installed in this environment")
    port = _free_port()
    env = {**os.environ, "SLOW_APP_DATABASE_URL": db_url, "GUNICORN_ACCESS_LOG": "0"}
    server = subprocess.Popen(
        [str(GUNICORN), "-c", "python:app.gunicorn_conf", "--workers", "1", "--timeout", "1",
         "--bind", f"127.0.0.1:{port}", "tests.served_slow_app:app"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _wait_for(port, server)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_a_request_past_the_worker_timeout_gets_503_json_and_keeps_nothing(served, db_url):
    request = urllib.request.Request(f"{served}/api/v1/test-slow", method="POST", data=b"")
    started = time.monotonic()
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, timeout=30)
    answer = caught.value
    body = answer.read()
    assert answer.code == 503, body[:300]
    assert answer.headers["Content-Type"].startswith("application/json")
    error = json.loads(body)["error"]
    assert error["code"] == "timeout" and error["details"] == [] and error["message"]
    assert time.monotonic() - started < 20  # stopped by the 1-second timeout, not by the route's 60 s sleep

    engine = create_engine(db_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM org_units WHERE code = 'SLOW'")).scalar() == 0
    finally:
        engine.dispose()

    # the worker exited and the arbiter started another: the server still answers
    with urllib.request.urlopen(f"{served}/api/v1/openapi.json", timeout=30) as fresh:
        assert fresh.status == 200
