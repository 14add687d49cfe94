"""A store that fails inside a request answers with a generic body (503 ``unavailable`` when
it may work again, else 500 ``internal``): what the database driver said (table names, SQL,
sometimes the data) goes to the log, never to the browser."""

from __future__ import annotations

import logging

import pytest

from dashboard.messages import error_message
from hub.errors import StoreUnavailable
from hub.store.sqlite import SqliteStore
from tests.dashboard.conftest import World, error_code


@pytest.mark.allow_error_logs
def test_a_store_failure_has_a_generic_body(world: World, caplog: pytest.LogCaptureFixture) -> None:
    store = world.store
    assert isinstance(store, SqliteStore)
    h = world.as_user("city_admin")
    assert world.client.get("/api/residents/r-a/events", headers=h).status_code == 200
    # a real driver failure on the request's path: sqlite3 says "no such table: events"
    store._db.execute("ALTER TABLE events RENAME TO events_away")
    try:
        r = world.client.get("/api/residents/r-a/events", headers=h)
    finally:
        store._db.execute("ALTER TABLE events_away RENAME TO events")
    assert (r.status_code, error_code(r)) in ((503, "unavailable"), (500, "internal"))
    assert r.json()["error"]["message"] in {
        error_message(error_code(r), lang) for lang in ("en", "zh-CN")
    }  # the catalogue's text for the code, nothing else
    assert r.json()["error"]["details"] is None
    for leak in ("events", "table", "sqlite", "Store", "query"):
        assert leak not in r.text, r.text
    # the operator still learns what happened
    logged = [rec.getMessage() for rec in caplog.records if rec.levelno >= logging.WARNING]
    assert any("no such table: events" in m for m in logged), logged


@pytest.mark.allow_error_logs
def test_a_driver_message_never_reaches_the_body(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = 'connection to server at "10.0.0.7", port 5432 failed: FATAL: role "carehub"'

    def unavailable(*_: object, **__: object) -> None:
        raise StoreUnavailable(f"query: {secret}")

    monkeypatch.setattr(world.store, "list_devices", unavailable)
    h = world.as_user("city_admin")
    r = world.client.get("/api/residents/r-a/events", headers=h)
    assert r.status_code == 503 and error_code(r) == "unavailable"
    assert "10.0.0.7" not in r.text and "StoreUnavailable" not in r.text
