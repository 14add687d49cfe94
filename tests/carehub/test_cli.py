"""The ``carehub`` command line, end to end on a SQLite store."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest
from typer.testing import CliRunner

from carehub.cli import app
from hub.store import open_store

runner = CliRunner()


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


def run(db: str, *args: str, code: int = 0) -> str:
    result = runner.invoke(app, [*args, "--db", db])
    assert result.exit_code == code, result.output
    return result.output + (result.stderr if code else "")


def setup_station(db: str) -> None:
    run(db, "city", "add", "sh", "上海市")
    run(db, "district", "add", "sh-pd", "--city", "sh", "--name", "浦东新区")
    run(db, "station", "add", "st-1", "--district", "sh-pd", "--name", "花木街道养老服务站")
    run(db, "resident", "add", "r-1", "--station", "st-1", "--name", "王秀英", "--spo2-scale", "2")


def test_registry_from_city_to_provisioned_device(db: str) -> None:
    setup_station(db)
    out = run(db, "device", "provision", "w-1", "--kind", "wearable", "--resident", "r-1", "--json")
    creds = json.loads(out)
    assert creds["username"] == "w-1"
    store = open_store(db)
    try:
        assert store.get_resident("r-1").clinical == {"spo2_scale": 2}
        secret = store.get_device_secret("w-1")
        assert secret is not None
        assert creds["password"] not in secret
    finally:
        store.close()
    listed = json.loads(run(db, "device", "list", "--json"))
    assert [(d["id"], d["resident_id"]) for d in listed] == [("w-1", "r-1")]
    stations = json.loads(run(db, "station", "list", "--json"))
    assert stations[0]["name"] == "花木街道养老服务站"


def test_errors_are_clear_and_exit_non_zero(db: str) -> None:
    setup_station(db)
    out = run(db, "resident", "add", "r-2", "--station", "nowhere", "--name", "x", code=1)
    assert "error" in out
    out = run(db, "device", "provision", "w-2", "--kind", "toaster", code=1)
    assert "unknown device kind" in out


def test_csv_import_writes_credentials_readable_only_by_the_owner(db: str, tmp_path: Path) -> None:
    setup_station(db)
    residents = tmp_path / "residents.csv"
    residents.write_text("id,name,birth_year\nr-10,陈阿婆,1944\n", encoding="utf-8")
    devices = tmp_path / "devices.csv"
    devices.write_text("id,kind,resident_id\nw-10,wearable,r-10\n", encoding="utf-8")
    creds = tmp_path / "creds.csv"
    assert "1 residents imported" in run(
        db, "import", "residents", str(residents), "--station", "st-1"
    )
    out = run(
        db, "import", "devices", str(devices), "--station", "st-1", "--credentials-out", str(creds)
    )
    assert "1 devices provisioned" in out
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600
    assert creds.read_text().splitlines()[1].startswith("w-10,w-10,")
    # never overwrite a credentials file
    run(db, "import", "devices", str(devices), "--station", "st-1",
        "--credentials-out", str(creds), code=2)  # fmt: skip


def test_deadletters_and_unclaimed_listing(db: str) -> None:
    from hub.store.base import DeadLetter, IngestBatch

    store = open_store(db)
    try:
        store.write_batch(
            IngestBatch(
                dead_letters=[
                    DeadLetter(1.0, "carehub/v1/devices/x/telemetry", b"\xff", "encoding_invalid",
                               "payload is not UTF-8", "x")
                ],
                unprovisioned=[("x", "carehub/v1/devices/x/telemetry", 1.0, None)],
            )
        )  # fmt: skip
    finally:
        store.close()
    data = json.loads(run(db, "deadletters", "--json"))
    assert data["counts"] == {"encoding_invalid": 1}
    assert data["dead_letters"][0]["payload"] == "\\xff"
    unclaimed = json.loads(run(db, "device", "unclaimed", "--json"))
    assert [u["device_id"] for u in unclaimed] == ["x"]


def test_contact_with_notification_preferences(db: str) -> None:
    setup_station(db)
    run(db, "resident", "contact", "r-1", "--name", "王丽", "--relation", "daughter",
        "--channel", "mailto://wl@example.org", "--quiet-hours", "22:00-07:00",
        "--min-priority", "high", "--language", "en")  # fmt: skip
    store = open_store(db)
    try:
        [contact] = store.list_contacts("r-1")
    finally:
        store.close()
    assert contact.channels == ("mailto://wl@example.org",)
    assert contact.prefs == {"min_priority": "high", "language": "en", "quiet_hours": "22:00-07:00"}
    out = run(db, "resident", "contact", "r-1", "--name", "x", "--quiet-hours", "late", code=1)
    assert "HH:MM-HH:MM" in out
