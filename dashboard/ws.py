"""``/ws``: live events for exactly what the caller may see, with resume and heartbeats.

Protocol (JSON text frames; ``docs/dashboard.md`` has examples):

1. Connect to ``/ws`` (session cookie from the same origin, or ``Authorization: Bearer``),
   optionally with ``?epoch=E&last_event_id=N`` from an earlier connection.
2. The server sends ``{"type": "snapshot", "epoch", "last_event_id", "heartbeat_s",
   "alerts", "going", "residents", "devices"}`` (``going``: alert id → the family member
   who said they are going over) — or, when it still holds every event after ``N`` of
   epoch ``E``, ``{"type": "resumed", "epoch", "from": N, "count", "heartbeat_s"}`` followed
   by those events. A client that receives no frame for twice ``heartbeat_s`` should treat
   the connection as lost (the console's watchdog does) and reconnect.
3. Then events, each with an increasing ``id``: ``alert`` (opened, updated, acknowledged,
   resolved...; with the alert and its new timeline entries), ``timeline`` (an entry
   written outside the engine, e.g. ``going_over``), ``resident`` (``action`` added,
   changed or removed, with the resident's tile: a resident or one of their devices was
   added, edited or moved, through any path, as :mod:`hub.registry.live` reports it),
   ``device`` (online/offline), ``vitals`` (latest readings, at most one per device every
   ``ws_vitals_s``). ``heartbeat`` frames come every ``ws_heartbeat_s``; a client may send
   ``{"type": "ping"}`` and gets ``{"type": "pong"}``.

Fan-out follows the websockets broadcast guide: each event is serialised **once** and
publishing never waits. Under uvicorn (``carehub serve``) the frame is also encoded once
and written straight to every client's transport as the event is published
(:mod:`dashboard.ws_direct`); the client's bound is its unsent bytes, and a client more
than ``ws_buffer_bytes`` behind, or behind for longer than ``ws_send_timeout_s``, is
dropped. Elsewhere (another server, the test client) each client has one bounded queue of
``ws_queue_size`` frames and one writer task; a full queue, or a send slower than
``ws_send_timeout_s``, drops it. A dropped client is closed with code 4008 and a reason and
resumes from its last event id when it reconnects.

Sessions are checked server-side for as long as a socket is open: every ``ws_recheck_s``
(and at once after a logout or a change to a user made through this server), each open
socket's session or token is checked against the store again and its user's scope rebuilt.
A socket whose session ended (logout, expiry, a revoked token, the user disabled or
removed) is closed with 4401; one whose user's role or scope changed (another station,
other linked residents, a station moved to another district) is closed with 4409 and gets
a fresh snapshot, not a resume, when it reconnects. Close codes: 4401 not authenticated,
4403 cross-origin cookie use, 4409 scope changed, 4008 too slow.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from alerts.state import PRIVATE_FIELDS
from dashboard import queries
from dashboard.auth import AuthError, Principal
from dashboard.deps import Context, authenticate
from dashboard.scope import Scope, scope_for
from dashboard.ws_direct import DirectSocket, text_frame
from hub.errors import CarehubError
from hub.registry.live import Change, RegistrySnapshot

if TYPE_CHECKING:
    from alerts.engine import AlertEvent
    from hub.ingest.core import Accepted

log = logging.getLogger(__name__)

VITALS_KEYS: tuple[str, ...] = ("hr", "spo2", "rr", "temp", "sbp", "dbp", "glucose", "battery")
"""The readings a ``vitals`` event carries (what a resident's tile shows)."""
SNAPSHOT_ALERTS = 500
SNAPSHOT_RESIDENTS = 1_000
CLOSE_UNAUTHENTICATED = 4401
CLOSE_CROSS_ORIGIN = 4403
CLOSE_SCOPE_CHANGED = 4409
CLOSE_SLOW = 4008


@dataclass(frozen=True, slots=True)
class Event:
    """One serialised event and what decides who sees it."""

    id: int
    type: str
    text: str
    station_id: str | None = None
    resident_id: str | None = None
    category: str = "clinical"
    vendor: str | None = None


def visible(scope: Scope, ev: Event) -> bool:
    """May a client with ``scope`` receive ``ev``? (the same rules as the REST queries)"""
    if ev.type in ("alert", "timeline"):
        return scope.sees_alert(ev.station_id, ev.resident_id, ev.category)
    if ev.type in ("resident", "vitals"):
        return scope.sees_resident(ev.resident_id, ev.station_id)
    if ev.type == "device":
        if scope.role == "vendor":
            return scope.vendor is not None and ev.vendor == scope.vendor
        return scope.resident_ids is None and scope.sees_station(ev.station_id)
    if ev.type == "order":  # service orders: the station's care team, not families
        return scope.resident_ids is None and scope.sees_station(ev.station_id)
    return False


class Client:
    """One connection: its scope, and either its socket for direct writes (``direct``) or
    its bounded queue and writer task."""

    def __init__(self, ws: WebSocket, scope: Scope, maxsize: int, key: str = "") -> None:
        self.ws = ws
        self.scope = scope
        self.key = key  # the session or token, for rechecks (Principal.key)
        self.queue: asyncio.Queue[str] = asyncio.Queue(maxsize)
        self.closed: str | None = None
        self.writer: asyncio.Task[None] | None = None
        self.direct: DirectSocket | None = None
        self.behind_since: float | None = None  # direct: when its backlog last began


class Broadcaster:
    """Numbers events, keeps the recent ones for resuming, and fans them out."""

    def __init__(
        self, ctx: Context, *, clock: Callable[[], float] | None = None, local: bool = True
    ) -> None:
        s = ctx.settings
        self.ctx = ctx
        self.local = local
        """Follow the local engine and pipeline; off when every change comes from the
        store's notifications (:mod:`dashboard.fanout`)."""
        self.clock = clock or ctx.clock
        self.queue_size = s.ws_queue_size
        self.heartbeat_s = s.ws_heartbeat_s
        self.recheck_s = s.ws_recheck_s
        self.rechecks = 0
        self._recheck_now = asyncio.Event()
        self._rescoped: dict[str, int] = {}  # user id -> last event id when its scope changed
        self.send_timeout_s = s.ws_send_timeout_s
        self.buffer_bytes = s.ws_buffer_bytes
        self.epoch = secrets.token_hex(6)
        self.last_id = 0
        self.history: deque[Event] = deque(maxlen=s.ws_history)
        self.clients: set[Client] = set()
        self.dropped_clients = 0
        self.vitals_every_s = s.ws_vitals_s
        """At most one ``vitals`` event per device this often: tiles need the latest value,
        not every sample, and a district's telemetry would otherwise swamp the consoles."""
        self._vitals_at: dict[str, float] = {}
        self._registry_tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._tasks: list[asyncio.Task[None]] = []

    # --- lifecycle --------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        await self.ctx.hub.registry.ensure_loaded()
        self.ctx.hub.registry.add_listener(self._registry_changed)
        if self.local:
            self.ctx.hub.alert_engine.add_listener(self._from_engine)
            self.ctx.hub.pipeline.observers.append(self._from_pipeline)
        self._tasks.append(asyncio.create_task(self._heartbeats(), name="ws-heartbeat"))
        self._tasks.append(asyncio.create_task(self._rechecking(), name="ws-recheck"))

    async def stop(self) -> None:
        self.ctx.hub.registry.remove_listener(self._registry_changed)
        with contextlib.suppress(ValueError):
            self.ctx.hub.alert_engine.remove_listener(self._from_engine)
        with contextlib.suppress(ValueError):
            self.ctx.hub.pipeline.observers.remove(self._from_pipeline)
        for task in self._tasks:
            task.cancel()
        for client in list(self.clients):
            self.drop(client, "server shutting down", code=1001)
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()

    # --- publishing (never waits) -----------------------------------------------------------

    def publish(self, type_: str, payload: dict[str, Any], *, station_id: str | None = None,
                resident_id: str | None = None, category: str = "clinical",
                vendor: str | None = None) -> Event:  # fmt: skip
        """Number, serialise once, keep for resuming and offer to every client that may
        see it. Call from the event loop's thread."""
        self.last_id += 1
        text = json.dumps({"type": type_, "id": self.last_id, **payload}, ensure_ascii=False,
                          separators=(",", ":"), default=str)  # fmt: skip
        ev = Event(self.last_id, type_, text, station_id, resident_id, category, vendor)
        self.history.append(ev)
        frame = text_frame(text)
        for client in list(self.clients):
            if visible(client.scope, ev):
                self._offer(client, text, frame)
        return ev

    def _offer(self, client: Client, text: str, frame: bytes | None = None) -> None:
        if client.closed:
            return
        if client.direct is not None:
            self._write_direct(client, client.direct, text_frame(text) if frame is None else frame)
            return
        try:
            client.queue.put_nowait(text)
        except asyncio.QueueFull:
            self.drop(client, f"too slow: {client.queue.maxsize} frames queued; reconnect "
                              "with last_event_id to resume")  # fmt: skip

    def _write_direct(self, client: Client, sock: DirectSocket, frame: bytes) -> None:
        if not self._keeps_up(client, sock) or not sock.open:
            return  # dropped, or closing: serve() sees the end of the connection
        sock.write(frame)
        if client.behind_since is None and sock.buffered():  # _keeps_up reset it if caught up
            client.behind_since = self.clock()

    def _keeps_up(self, client: Client, sock: DirectSocket) -> bool:
        """Drop a direct client whose backlog is over the bound or has lasted too long."""
        backlog = sock.buffered()
        if not backlog:
            client.behind_since = None
            return True
        if backlog > self.buffer_bytes:
            self.drop(client, f"too slow: {backlog} bytes unsent; reconnect with "
                              "last_event_id to resume")  # fmt: skip
            return False
        since = client.behind_since
        if since is not None and self.clock() - since > self.send_timeout_s:
            self.drop(client, f"too slow: behind for over {self.send_timeout_s:g} s; "
                              "reconnect with last_event_id to resume")  # fmt: skip
            return False
        return True

    def _from_engine(self, event: AlertEvent) -> None:
        # the engine calls listeners from worker threads: hop onto the loop
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self.alert_event, event)

    def alert_event(self, event: AlertEvent) -> None:
        a = event.alert
        data = {k: v for k, v in a.to_dict().items() if k not in PRIVATE_FIELDS}
        self.publish("alert", {"action": event.action, "alert": data,
                               "entries": [asdict(t) for t in event.entries]},
                     station_id=a.station_id, resident_id=a.resident_id,
                     category=a.category)  # fmt: skip

    def timeline_entry(self, alert: dict[str, Any], entry: Any) -> None:
        self.publish("timeline", {"alert_id": alert["id"], "entry": asdict(entry)},
                     station_id=alert.get("station_id"), resident_id=alert.get("resident_id"),
                     category=alert.get("category", "clinical"))  # fmt: skip

    # --- the registry -------------------------------------------------------------------

    def _registry_changed(self, snap: RegistrySnapshot, changes: list[Change]) -> None:
        """Residents added, edited or moved, devices added or rebound: each console that
        may see the resident gets their fresh tile; the station a resident left is told
        to drop it. Tiles are read in a worker thread (:meth:`settle` waits for them)."""
        touched: set[str] = set()
        for c in changes:
            if c.kind == "resident":
                touched.add(c.id)
                old_station = c.before.station_id if c.before is not None else None
                new_station = c.after.station_id if c.after is not None else None
                if old_station is not None and old_station != new_station:
                    self.publish("resident", {"action": "removed", "resident": {
                        "id": c.id, "station_id": old_station}},
                        station_id=old_station, resident_id=c.id)  # fmt: skip
            elif c.kind == "device":
                for d in (c.before, c.after):
                    if d is not None and d.resident_id is not None:
                        touched.add(d.resident_id)
        actions: dict[str, str] = {c.id: c.action for c in changes if c.kind == "resident"}
        present = [snap.residents[r] for r in sorted(touched) if r in snap.residents]
        if not present:
            return
        task = asyncio.ensure_future(self._publish_tiles(present, actions))
        self._registry_tasks.add(task)
        task.add_done_callback(self._registry_tasks.discard)

    async def _publish_tiles(self, rows: list[Any], actions: dict[str, str]) -> None:
        from dashboard.routers.residents import tiles

        found = await asyncio.to_thread(tiles, self.ctx, rows)
        for tile in found:
            self.publish("resident", {"action": actions.get(tile["id"], "changed"),
                                      "resident": tile},
                         station_id=tile["station_id"], resident_id=tile["id"])  # fmt: skip

    async def settle(self) -> None:
        """Wait until the tiles of the registry changes seen so far are published."""
        if self._registry_tasks:
            await asyncio.gather(*list(self._registry_tasks), return_exceptions=True)

    def _from_pipeline(self, batch: list[Accepted] | Any) -> None:
        now = self.clock()
        for acc in batch:
            d = acc.device
            if acc.msg_type == "status":
                station = self.ctx.hub.registry.snapshot.station_of(d.resident_id)
                online = acc.message.state == "online"
                self.publish("device", {"device_id": d.id, "resident_id": d.resident_id,
                                        "online": online, "at": acc.received_at},
                             station_id=station, resident_id=d.resident_id,
                             category="technical", vendor=d.vendor)  # fmt: skip
            elif acc.msg_type == "telemetry" and d.resident_id is not None:
                if now - self._vitals_at.get(d.id, -1e18) < self.vitals_every_s:
                    continue
                self._vitals_at[d.id] = now
                m = acc.message
                values = {k: getattr(m, k, None) for k in VITALS_KEYS}
                self.vitals(d.id, d.resident_id, values, acc.received_at)

    def vitals(
        self, device_id: str, resident_id: str, values: Mapping[str, float | None], at: float
    ) -> bool:
        """Publish a ``vitals`` event to the consoles that may see the resident: the
        :data:`VITALS_KEYS` of ``values`` that are set, received at ``at``. Nothing when none
        is set; say whether it published. Both the local pipeline and a dashboard-only
        node's store reads (:mod:`dashboard.vitals_feed`) come this way."""
        picked = {k: values[k] for k in VITALS_KEYS if values.get(k) is not None}
        if not picked:
            return False
        station = self.ctx.hub.registry.snapshot.station_of(resident_id)
        self.publish("vitals", {"device_id": device_id, "resident_id": resident_id,
                                "values": picked, "at": at},
                     station_id=station, resident_id=resident_id)  # fmt: skip
        return True

    async def _heartbeats(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_s)
            text = json.dumps({"type": "heartbeat", "t": self.clock(), "epoch": self.epoch,
                               "last_event_id": self.last_id})  # fmt: skip
            frame = text_frame(text)
            for client in list(self.clients):
                self._offer(client, text, frame)

    # --- sessions, checked again while sockets are open -------------------------------------

    def recheck_soon(self) -> None:
        """Check every open socket's session and scope now (after a logout or a change to a
        user); callable from any thread."""
        if self._loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self._loop:
            self._recheck_now.set()
        else:
            self._loop.call_soon_threadsafe(self._recheck_now.set)

    async def _rechecking(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.recheck_s):
                    await self._recheck_now.wait()
            self._recheck_now.clear()
            try:
                await self.recheck()
            except CarehubError as exc:  # the store is away: keep everyone, try again later
                log.warning("WebSocket session check failed: %s", exc)
            except Exception:  # a bug must not end the checks for good
                log.exception("WebSocket session check failed")

    async def recheck(self) -> None:
        """Close the sockets whose session ended (4401) or whose scope changed (4409)."""
        clients = [c for c in self.clients if not c.closed]
        if not clients:
            return
        store, auth = self.ctx.store, self.ctx.auth

        def work() -> tuple[dict[str, Principal | AuthError], dict[str, Scope]]:
            found = auth.recheck_all({c.key for c in clients})
            scopes: dict[str, Scope] = {}
            for p in found.values():
                if isinstance(p, Principal) and p.user.id not in scopes:
                    scopes[p.user.id] = scope_for(store, p.user)
            return found, scopes

        found, scopes = await asyncio.to_thread(work)
        self.rechecks += 1
        for client in clients:
            p = found.get(client.key)
            if isinstance(p, AuthError):
                self.drop(client, str(p), code=CLOSE_UNAUTHENTICATED)
            elif p is not None and scopes[p.user.id] != client.scope:
                self._rescoped[client.scope.user_id] = self.last_id
                self.drop(client, "your role or scope changed; reconnect",
                          code=CLOSE_SCOPE_CHANGED)  # fmt: skip

    # --- clients ---------------------------------------------------------------------------

    def drop(self, client: Client, reason: str, code: int = CLOSE_SLOW) -> None:
        """Disconnect a client at once, never waiting for it."""
        if client.closed:
            return
        client.closed = reason
        self.clients.discard(client)
        if code == CLOSE_SLOW:
            self.dropped_clients += 1
            log.info("dropping WebSocket client %s: %s", client.scope.user_id, reason)
        if client.writer is not None:
            client.writer.cancel()
        task = asyncio.ensure_future(self._close(client, code, reason[:120]))
        self._tasks.append(task)
        task.add_done_callback(lambda t: self._tasks.remove(t) if t in self._tasks else None)

    async def _close(self, client: Client, code: int, reason: str) -> None:
        try:
            await asyncio.wait_for(client.ws.close(code=code, reason=reason), timeout=2.0)
        except TimeoutError:
            if client.direct is not None:
                client.direct.abort()  # too far behind even to take the close frame
        except Exception:
            return  # the peer may be gone already

    def resume(self, client: Client, epoch: str | None, last: int | None) -> int | None:
        """Queue the events after ``last`` when they are all still held; the number queued,
        or None when the client needs a snapshot. Synchronous: nothing can slip in."""
        if epoch != self.epoch or last is None or last > self.last_id:
            return None
        if last <= self._rescoped.get(client.scope.user_id, -1):
            return None  # what it holds was chosen by its former scope: start afresh
        oldest = self.history[0].id if self.history else self.last_id + 1
        if last < oldest - 1:
            return None
        missed = [ev.text for ev in self.history if ev.id > last and visible(client.scope, ev)]
        if len(missed) >= client.queue.maxsize:
            return None
        for text in missed:
            client.queue.put_nowait(text)
        return len(missed)

    def snapshot(self, scope: Scope, last_id: int) -> str:
        """The state the client starts from (synchronous: run in a worker thread)."""
        from dashboard.routers.devices import _health
        from dashboard.routers.residents import tiles

        store = self.ctx.store
        rows = queries.alerts(store, scope, states=["open", "acknowledged"],
                              limit=SNAPSHOT_ALERTS)  # fmt: skip
        alerts = [queries.alert_json(a) for a in queries.by_priority(rows)]
        residents: list[dict[str, Any]] = []
        if scope.station_ids is not None and scope.role != "vendor":
            found = queries.residents(store, scope)[:SNAPSHOT_RESIDENTS]
            residents = tiles(self.ctx, found)
        devices = _health(self.ctx, queries.devices(store, scope)) if scope.vendor else []
        return json.dumps({"type": "snapshot", "epoch": self.epoch, "last_event_id": last_id,
                           "going": _going(store, alerts),
                           "heartbeat_s": self.heartbeat_s, "alerts": alerts,
                           "residents": residents, "devices": devices},
                          ensure_ascii=False, default=str)  # fmt: skip

    async def serve(self, ws: WebSocket) -> None:
        """Run one connection until it closes."""
        await ws.accept()
        try:
            caller = await authenticate(self.ctx, ws.headers, dict(ws.cookies))
        except AuthError as exc:
            await ws.close(code=CLOSE_UNAUTHENTICATED, reason=str(exc)[:120])
            return
        if caller.principal.via == "session" and not _same_origin(ws):
            await ws.close(code=CLOSE_CROSS_ORIGIN, reason="cross-origin WebSocket refused")
            return
        client = Client(ws, caller.scope, self.queue_size, caller.principal.key)
        epoch = ws.query_params.get("epoch")
        last = _int(ws.query_params.get("last_event_id"))
        self.clients.add(client)
        try:
            count = self.resume(client, epoch, last)
            if count is None:
                text = await asyncio.to_thread(self.snapshot, caller.scope, self.last_id)
            else:
                text = json.dumps({"type": "resumed", "epoch": self.epoch, "from": last,
                                   "count": count, "heartbeat_s": self.heartbeat_s})  # fmt: skip
            await ws.send_text(text)
            self._start_writing(client, DirectSocket.of(ws.scope))
            await self._read(client)
        except (WebSocketDisconnect, RuntimeError):
            pass  # the peer left (RuntimeError: sending after the close frame)
        finally:
            self.clients.discard(client)
            client.closed = client.closed or "closed"
            if client.writer is not None:
                client.writer.cancel()

    def _start_writing(self, client: Client, sock: DirectSocket | None) -> None:
        """After the first frame: write directly from now on, first what queued up
        meanwhile (synchronously, so nothing can come in between), or start the writer."""
        if sock is None:
            client.writer = asyncio.create_task(self._write(client))
            return
        client.direct = sock
        while not client.queue.empty() and not client.closed:
            self._write_direct(client, sock, text_frame(client.queue.get_nowait()))

    async def _write(self, client: Client) -> None:
        try:
            while True:
                text = await client.queue.get()
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for starts a task per
                # send, which made fan-out to 1,000 clients several times slower.
                async with asyncio.timeout(self.send_timeout_s):
                    await client.ws.send_text(text)
        except TimeoutError:
            self.drop(client, f"too slow: a send took over {self.send_timeout_s:g} s")
        except (WebSocketDisconnect, RuntimeError, OSError):
            pass

    async def _read(self, client: Client) -> None:
        pong = json.dumps({"type": "pong"})
        while True:
            text = await client.ws.receive_text()
            try:
                msg = json.loads(text)
            except ValueError:
                continue  # a malformed frame from a client is ignored, never fatal
            if isinstance(msg, dict) and msg.get("type") == "ping":
                self._offer(client, pong)


def _going(store: Any, alerts: list[dict[str, Any]]) -> dict[str, str]:
    """Alert id → who of the family said they are going over (the last to say it), for
    the open alerts of a snapshot: a console opened (or reloaded) later still shows it."""
    if not alerts:
        return {}
    ids = {a["id"] for a in alerts}
    since = min(a["opened_at"] for a in alerts)
    out: dict[str, str] = {}
    for e in store.alert_timeline(since=since, limit=20_000):
        if e.action == "going_over" and e.alert_id in ids:
            out[e.alert_id] = (e.detail or {}).get("name") or e.actor
    return out


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _same_origin(ws: WebSocket) -> bool:
    """Cookie-authenticated sockets must come from our own pages (no cross-site hijack)."""
    origin = ws.headers.get("origin")
    if origin is None:
        return True  # not a browser: it holds the cookie itself
    return urlsplit(origin).netloc == ws.headers.get("host")


def ws_router() -> APIRouter:
    router = APIRouter()

    @router.websocket("/ws")
    async def websocket(ws: WebSocket) -> None:
        ctx: Context = ws.app.state.ctx
        assert ctx.broadcaster is not None
        await ctx.broadcaster.serve(ws)

    return router
