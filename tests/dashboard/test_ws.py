"""``/ws``: snapshot, live events scoped to the caller, resume without loss, slow clients
dropped with a reason, authentication and origin checks, ping/pong."""

from __future__ import annotations

import json
from typing import Any

import pytest
from starlette.websockets import WebSocketDisconnect

from tests.dashboard.conftest import World


def _recv(ws: Any) -> dict[str, Any]:
    msg: dict[str, Any] = json.loads(ws.receive_text())
    return msg


def test_snapshot_is_scoped(world: World) -> None:
    with world.client.websocket_connect("/ws", headers=world.as_user("station_staff.a")) as ws:
        snap = _recv(ws)
    assert snap["type"] == "snapshot"
    assert [a["id"] for a in snap["alerts"]] == [world.alerts["a"]]
    assert [r["id"] for r in snap["residents"]] == ["r-a"]
    assert snap["residents"][0]["devices"][0]["id"] == "w-a"
    assert snap["heartbeat_s"] == world.app.state.ctx.settings.ws_heartbeat_s  # for watchdogs
    with world.client.websocket_connect("/ws", headers=world.as_user("vendor.acme")) as ws:
        snap = _recv(ws)
    assert (snap["alerts"], snap["residents"]) == ([], [])
    assert [d["id"] for d in snap["devices"]] == ["w-a"]


def test_live_events_reach_only_those_who_may_see_them(world: World) -> None:
    sup_a = world.as_user("station_supervisor.a")
    sup_b = world.as_user("station_supervisor.b")
    with (
        world.client.websocket_connect("/ws", headers=world.as_user("station_staff.a")) as a,
        world.client.websocket_connect("/ws", headers=world.as_user("station_staff.b")) as b,
    ):
        _recv(a), _recv(b)
        r = world.client.post(f"/api/alerts/{world.alerts['a']}/acknowledge", json={},
                              headers=sup_a)  # fmt: skip
        assert r.status_code == 200
        ev = _recv(a)
        assert (ev["type"], ev["action"], ev["alert"]["id"]) == (
            "alert", "acknowledged", world.alerts["a"]
        )  # fmt: skip
        assert ev["alert"]["acked_by"] == "user:station_supervisor.a"
        assert "steps_fired" not in ev["alert"]
        world.client.post(f"/api/alerts/{world.alerts['b']}/comments", json={"text": "x"},
                          headers=sup_b)  # fmt: skip
        ev_b = _recv(b)  # station b's first event is its own: a's acknowledgement never came
        assert (ev_b["action"], ev_b["alert"]["id"]) == ("comment", world.alerts["b"])
        assert ev_b["id"] > ev["id"]


def test_resume_from_last_event_id_misses_nothing(world: World) -> None:
    h = world.as_user("station_staff.a")
    with world.client.websocket_connect("/ws", headers=h) as ws:
        snap = _recv(ws)
    epoch, last = snap["epoch"], snap["last_event_id"]
    alert = world.alerts["a"]
    for text in ("one", "two"):
        world.client.post(f"/api/alerts/{alert}/comments", json={"text": text}, headers=h)
    world.client.put("/api/residents/r-a/status", json={"status": "hospital"}, headers=h)
    url = f"/ws?epoch={epoch}&last_event_id={last}"
    with world.client.websocket_connect(url, headers=h) as ws:
        head = _recv(ws)
        assert head == {
            "type": "resumed",
            "epoch": epoch,
            "from": last,
            "count": 3,
            "heartbeat_s": world.app.state.ctx.settings.ws_heartbeat_s,
        }
        got = [_recv(ws) for _ in range(3)]
    assert [e["entries"][0]["detail"]["text"] for e in got[:2]] == ["one", "two"]
    assert got[2]["type"] == "resident" and got[2]["resident"]["status"] == "hospital"
    assert [e["id"] for e in got] == sorted(e["id"] for e in got)
    # a stale epoch (the server restarted) gets a fresh snapshot instead
    with world.client.websocket_connect(f"/ws?epoch=old&last_event_id={last}", headers=h) as ws:
        assert _recv(ws)["type"] == "snapshot"


def _drain(ws: Any) -> None:
    for _ in range(100):
        ws.receive_text()


def test_slow_client_is_dropped_with_a_reason(world: World) -> None:
    b = world.app.state.ctx.broadcaster
    b.queue_size = 8
    with world.client.websocket_connect("/ws", headers=world.as_user("station_staff.a")) as ws:
        _recv(ws)

        def flood() -> None:  # synchronous: the writer gets no chance to drain in between
            for i in range(50):
                b.publish("resident", {"n": i}, station_id="st-a", resident_id="r-a")

        world.client.portal.call(flood)  # type: ignore[union-attr]
        with pytest.raises(WebSocketDisconnect) as info:
            _drain(ws)
    assert info.value.code == 4008
    assert "too slow" in info.value.reason
    assert b.dropped_clients == 1 and not b.clients


def test_unauthenticated_and_cross_origin_are_refused(world: World) -> None:
    with world.client.websocket_connect("/ws") as ws, pytest.raises(WebSocketDisconnect) as info:
        ws.receive_text()
    assert info.value.code == 4401
    world.login("station_staff.a")
    evil = {"origin": "http://evil.example"}
    with (
        world.client.websocket_connect("/ws", headers=evil) as ws,
        pytest.raises(WebSocketDisconnect) as info,
    ):
        ws.receive_text()
    assert info.value.code == 4403
    with world.client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as ws:
        assert _recv(ws)["type"] == "snapshot"


def test_ping_pong_and_bad_frames(world: World) -> None:
    with world.client.websocket_connect("/ws", headers=world.as_user("city_admin")) as ws:
        _recv(ws)
        ws.send_text("not json")
        ws.send_text(json.dumps({"type": "ping"}))
        assert _recv(ws) == {"type": "pong"}
