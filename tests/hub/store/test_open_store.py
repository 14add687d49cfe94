"""``open_store``: URL schemes, and errors at the edges of each back-end."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import pytest

from hub.errors import ConfigError, MigrationError, StoreError
from hub.store import open_store, sqlite_path
from hub.store.base import (
    AlertChanges,
    AlertRow,
    City,
    District,
    NotificationRow,
    Resident,
    Station,
)
from hub.store.postgres import PostgresStore
from hub.store.sqlite import SqliteStore


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("sqlite:///var/hub.db", "var/hub.db"),
        ("sqlite:////srv/carehub/hub.db", "/srv/carehub/hub.db"),
        ("sqlite://:memory:", ":memory:"),
        ("sqlite:///:memory:", ":memory:"),
    ],
)
def test_sqlite_paths(url: str, path: str) -> None:
    assert sqlite_path(url) == path


@pytest.mark.parametrize("url", ["mysql://x/y", "carehub.db", "", "sqlite://relative.db"])
def test_bad_urls_are_config_errors(url: str) -> None:
    with pytest.raises(ConfigError):
        open_store(url)


def test_sqlite_file_persists_and_is_migrated_once(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sub' / 'hub.db'}"  # absolute: four slashes
    assert url.startswith("sqlite:////")
    store = open_store(url)
    try:
        assert store.backend == "sqlite"
        store.add_city(City("sh", "上海"))
    finally:
        store.close()
    again = open_store(url)
    try:
        assert again.list_cities() == [City("sh", "上海")]
        assert again.migrate() == []
    finally:
        again.close()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "hub.db")
    try:
        db = store._db
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert db.execute("PRAGMA foreign_keys").fetchone() == (1,)
        assert db.execute("PRAGMA synchronous").fetchone() == (1,)  # NORMAL
        assert db.execute("PRAGMA busy_timeout").fetchone()[0] > 0
    finally:
        store.close()


def test_sqlite_in_memory_url() -> None:
    store = open_store("sqlite://:memory:")
    try:
        assert store.list_cities() == []
    finally:
        store.close()


def test_sqlite_unopenable_path_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "dir.db").mkdir()
    with pytest.raises(StoreError):
        SqliteStore(tmp_path / "dir.db").migrate()


def test_postgres_url_opens_and_migrates(pg_url: str) -> None:
    for url in (pg_url, pg_url.replace("postgresql://", "postgres://", 1)):
        store = open_store(url)
        try:
            assert store.backend == "postgres"
            assert store.migrate() == []
        finally:
            store.close()


def test_postgres_constructor_does_no_io_and_unopened_use_fails() -> None:
    store = PostgresStore("postgresql://nobody@127.0.0.1:1/none")  # nothing listens on 1
    with pytest.raises(StoreError):
        store.list_cities()
    store.close()


def test_postgres_unreachable_is_a_store_error() -> None:
    store = PostgresStore("postgresql://nobody@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(StoreError):
        store.open(timeout=1.0)


def test_failed_migration_is_reported_and_rolled_back(
    sqlite_store: SqliteStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.store import migrations

    broken = migrations.Migration("9999", "sqlite/9999_broken.sql", "CREATE TABLE x (a);\nBOGUS;")
    real_load = migrations.load
    monkeypatch.setattr(migrations, "load", lambda name: [*real_load(name), broken])
    with pytest.raises(MigrationError):
        sqlite_store.migrate()
    tables = {r[0] for r in sqlite_store._db.execute("SELECT name FROM sqlite_master")}
    assert "x" not in tables  # the half-applied file left nothing behind
    monkeypatch.setattr(migrations, "load", real_load)
    assert sqlite_store.migrate() == []


@contextmanager
def migrated_before(
    version: str, backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[SqliteStore | PostgresStore]:
    """A new store of ``backend`` with the migrations before ``version`` applied; its
    ``migrate()`` then applies the rest."""
    from hub.store import migrations

    real_load = migrations.load
    store: SqliteStore | PostgresStore
    if backend == "sqlite":
        store = SqliteStore(tmp_path / "old.db")
    else:
        store = PostgresStore(request.getfixturevalue("new_pg_database")(), max_size=2)
        store.open()
    try:
        with pytest.MonkeyPatch.context() as patch:
            older = lambda name: [m for m in real_load(name) if m.version < version]  # noqa: E731
            patch.setattr(migrations, "load", older)
            store.migrate()
        yield store
    finally:
        store.close()


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_keeps_station_zones(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """A store made before 0008/0009 with stations and residents upgrades: the zones and
    the references to the station stay, and a new station may leave its zone unset."""
    with migrated_before("0008", backend, tmp_path, request) as store:
        store.add_city(City("sh", "上海"))
        store.add_district(District("pd", "sh", "浦东新区"))
        store.add_station(Station("st-1", "pd", "潍坊", timezone="Asia/Shanghai"))
        store.add_resident(Resident("r-1", "st-1", "王阿姨"))
        assert store.migrate()[:3] == ["0008", "0009", "0010"]
        assert store.get_station("st-1").timezone == "Asia/Shanghai"
        assert store.get_resident("r-1").station_id == "st-1"
        store.add_station(Station("st-2", "pd", "花木"))
        assert store.get_station("st-2").timezone is None


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_gives_stored_alerts_their_first_version(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Alerts stored before 0020 are version 1, as a new alert is, and update from there."""
    with migrated_before("0020", backend, tmp_path, request) as store:
        row = AlertRow("al-1", "r-1|sos", "sos", "open", "high", "clinical", 1.0, 1.0,
                       data={"id": "al-1", "subject": "r-1"})  # fmt: skip
        store.write_alert_changes(AlertChanges(alerts=[row]))
        assert store.migrate()[0] == "0020"
        assert store.get_alert("al-1").version == 1
        acknowledged = replace(row, state="acknowledged", version=1)
        store.write_alert_changes(AlertChanges(alerts=[acknowledged]))
        after = store.get_alert("al-1")
        assert (after.state, after.version) == ("acknowledged", 2)


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_upgrade_gives_stored_outbox_rows_their_first_version(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """Outbox rows stored before 0021 are version 1, as a new row is, and update from there."""
    with migrated_before("0021", backend, tmp_path, request) as store:
        row = NotificationRow("al-1:s0:abc", "al-1", "s0", "station", "json://x", 1.0, 1.0)
        store.write_alert_changes(AlertChanges(notifications=[row]))
        assert store.migrate()[0] == "0021"
        assert store.get_notification(row.key).version == 1
        sent = replace(row, state="sent", attempts=1, sent_at=2.0, version=1)
        store.write_alert_changes(AlertChanges(notification_updates=[sent]))
        after = store.get_notification(row.key)
        assert (after.state, after.version) == ("sent", 2)
