"""Behind a reverse proxy (TRUSTED_PROXIES): the public rate limits count each client, not the proxy."""
from __future__ import annotations

from app import create_app


def _statuses(db_url, tmp_path, proxies: int) -> list[int]:
    app = create_app({"DATABASE_URL": db_url, "SECRET_KEY": "t", "TESTING": True, "PUBLIC_QUERY_RATE": "1/minute",
                      "TRUSTED_PROXIES": proxies, "FILE_STORAGE_DIR": str(tmp_path / "files")})
    try:
        client = app.test_client()
        return [client.get("/public/api/v1/cases/20260101-000001?code=ABCDEFGH",
                           headers={"X-Forwarded-For": address}).status_code
                for address in ("203.0.113.7", "198.51.100.9")]
    finally:
        app.extensions["sunlight.db"].engine.dispose()


def test_each_client_behind_a_trusted_proxy_has_its_own_budget(db_url, tmp_path):
    assert _statuses(db_url, tmp_path, 1) == [404, 404]


def test_without_trusted_proxies_the_forwarded_header_is_not_believed(db_url, tmp_path):
    assert _statuses(db_url, tmp_path, 0) == [404, 429]
