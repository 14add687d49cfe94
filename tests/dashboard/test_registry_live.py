"""The live registry reaches the consoles: a resident and a device added while consoles are
connected appear on their station's console (and nowhere else) and the new resident's
alerts go to that station; a resident moved by another process (the CLI writes to the
store) leaves one station's console, appears on the other's, and their next alert follows
them at once (the alert engine's directory is invalidated, not left to expire)."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

from hub.store.base import FindingRow
from tests.dashboard.conftest import T0, World


def _recv(ws: Any) -> dict[str, Any]:
    msg: dict[str, Any] = json.loads(ws.receive_text())
    return msg


def _before_pong(ws: Any) -> list[dict[str, Any]]:
    """Every frame queued for ``ws`` now: frames are in order, so they come before the pong
    that answers a ping sent now (a failing test then fails instead of waiting forever)."""
    ws.send_text(json.dumps({"type": "ping"}))
    frames = []
    while (msg := _recv(ws)) != {"type": "pong"}:
        frames.append(msg)
    return frames


def _nothing_pending(ws: Any) -> None:
    assert _before_pong(ws) == []


def _finding(world: World, device: str, kind: str) -> None:
    f = FindingRow(None, device, kind, "high", T0 + 60, T0 + 60, {}, {"en": kind}, id=None)
    world.hub.alert_engine.on_finding(f, T0 + 60)


def test_a_resident_added_while_the_console_is_open_arrives_with_their_alerts(
    world: World,
) -> None:
    sup = world.as_user("station_supervisor.a")
    with (
        world.client.websocket_connect("/ws", headers=world.as_user("station_staff.a")) as a,
        world.client.websocket_connect("/ws", headers=world.as_user("station_staff.b")) as b,
    ):
        assert _recv(a)["type"] == _recv(b)["type"] == "snapshot"
        r = world.client.post(
            "/api/residents",
            headers=sup,
            json={"id": "r-new", "station_id": "st-a", "name": "新居民"},
        )
        assert r.status_code == 201, r.text
        added = _recv(a)
        assert (added["type"], added["action"]) == ("resident", "added")
        assert (added["resident"]["id"], added["resident"]["name"]) == ("r-new", "新居民")
        assert added["resident"]["devices"] == []

        r = world.client.post(
            "/api/devices",
            headers=sup,
            json={"id": "w-new", "kind": "wearable", "resident_id": "r-new"},
        )
        assert r.status_code == 201, r.text
        tile = _recv(a)
        assert (tile["type"], tile["action"], tile["resident"]["id"]) == (
            "resident",
            "changed",
            "r-new",
        )
        assert [d["id"] for d in tile["resident"]["devices"]] == ["w-new"]

        _finding(world, "w-new", "sos")
        alert = _before_pong(a)[0]
        assert alert["type"] == "alert" and alert["action"] == "opened"
        assert (alert["alert"]["resident_id"], alert["alert"]["station_id"]) == ("r-new", "st-a")
        _nothing_pending(b)  # the other station saw none of it


def test_a_resident_moved_by_another_process_follows_to_the_new_station(world: World) -> None:
    registry = world.hub.registry
    with (
        world.client.websocket_connect("/ws", headers=world.as_user("station_staff.a")) as a,
        world.client.websocket_connect("/ws", headers=world.as_user("station_staff.b")) as b,
    ):
        _recv(a), _recv(b)
        # the CLI, another process, writes to the store; the periodic refresh picks it up
        world.store.update_resident(replace(world.store.get_resident("r-a"), station_id="st-b"))
        world.client.portal.call(registry.refresh)
        world.client.portal.call(world.app.state.ctx.broadcaster.settle)

        gone = _recv(a)
        assert (gone["type"], gone["action"], gone["resident"]["id"]) == (
            "resident",
            "removed",
            "r-a",
        )
        came = _recv(b)
        assert (came["type"], came["resident"]["id"], came["resident"]["station_id"]) == (
            "resident",
            "r-a",
            "st-b",
        )
        assert [d["id"] for d in came["resident"]["devices"]] == ["w-a"]

        # w-a's resident was looked up a moment ago (the fixture's SOS): no stale answer
        _finding(world, "w-a", "fall")
        [alert, *_] = _before_pong(b) or [{}]
        assert alert.get("type") == "alert", "the alert went to the former station"
        assert (alert["alert"]["kind"], alert["alert"]["station_id"]) == ("fall", "st-b")
        _nothing_pending(a)


def test_editing_a_resident_through_the_api_moves_them_live(world: World) -> None:
    sup_a = world.as_user("station_supervisor.a")
    # a supervisor may not move a resident to a station that is not theirs
    r = world.client.patch("/api/residents/r-a", json={"station_id": "st-b"}, headers=sup_a)
    assert r.status_code in (403, 404), r.text
    dist = world.as_user("district_admin.pd")
    with world.client.websocket_connect("/ws", headers=world.as_user("station_staff.b")) as b:
        _recv(b)
        change = {"station_id": "st-b", "status": "away", "name": None}  # a name stays
        r = world.client.patch("/api/residents/r-a", headers=dist, json=change)
        assert r.status_code == 200, r.text
        assert (r.json()["station_id"], r.json()["status"], r.json()["name"]) == (
            "st-b", "away", "居民a")  # fmt: skip
        came = _recv(b)
        assert (came["type"], came["resident"]["id"], came["resident"]["status"]) == (
            "resident", "r-a", "away")  # fmt: skip
    assert world.store.get_resident("r-a").station_id == "st-b"


def test_residents_imported_from_csv_reach_the_console(world: World) -> None:
    sup = world.as_user("station_supervisor.a")
    with world.client.websocket_connect("/ws", headers=world.as_user("station_staff.a")) as a:
        _recv(a)
        csv = "id,name\nr-c1,甲一\nr-c2,甲二\n"
        r = world.client.post("/api/residents/import", headers=sup,
                              json={"station_id": "st-a", "csv": csv})  # fmt: skip
        assert r.status_code == 200, r.text
        got = [_recv(a), _recv(a)]
    assert {(m["type"], m["action"], m["resident"]["id"]) for m in got} == {
        ("resident", "added", "r-c1"), ("resident", "added", "r-c2")}  # fmt: skip
