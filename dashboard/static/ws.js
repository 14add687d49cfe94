// The live connection to /ws: a snapshot (or "resumed" and the missed events) first, then
// events with increasing ids. On a drop it reconnects with growing delays and resumes from
// the last event id it saw, so nothing is missed; a stale epoch brings a fresh snapshot.
//
// A watchdog trusts nothing but frames: the server sends a heartbeat every `heartbeat_s`
// (told in the snapshot), so a connection that has delivered no frame for twice that is
// "lost" even when the socket still looks open (a frozen proxy, a sleeping laptop, a
// half-dead NAT entry). The socket is then abandoned and a new one opened; the page is
// told "lost" so it can show it, and "live" only once a new snapshot or resume arrived.

import { toLogin } from "./api.js";

const CLOSE_UNAUTHENTICATED = 4401;
const PING_EVERY_MS = 25000;
const MAX_DELAY_MS = 15000;
const DEFAULT_HEARTBEAT_MS = 20000; // until the server has told us its interval
const WATCH_EVERY_MS = 500;

/** Plain browser timers and time; tests and other pages may pass their own. */
const BROWSER_CLOCK = {
  now: () => Date.now(),
  every: (fn, ms) => setInterval(fn, ms),
  cancel: (handle) => clearInterval(handle),
  later: (fn, ms) => setTimeout(fn, ms),
};

/**
 * The watchdog's decision, kept pure so it reads (and tests) on its own:
 * given the time now, when the last frame arrived (or the current attempt started) and
 * the heartbeat interval, is the connection lost?
 */
export function isSilent(now, lastFrameAt, heartbeatMs) {
  return now - lastFrameAt > 2 * heartbeatMs;
}

/**
 * connectLive({onSnapshot(msg), onEvent(msg), onStatus(state), onUnauthenticated(), clock})
 * state: "connecting" | "live" | "offline" (closed, reconnecting) | "lost" (no frame for
 * twice the heartbeat interval: what is on screen may be stale).
 * onUnauthenticated: the server refused the session (it ended); the page logs in again
 * and calls resume(). Without it the browser goes to the login page.
 * Returns {close(), resume()}.
 */
export function connectLive({ onSnapshot, onEvent, onStatus = () => {}, onUnauthenticated = null,
  clock = BROWSER_CLOCK }) {
  let epoch = null;
  let lastId = null;
  let socket = null;
  let delay = 500;
  let stopped = false;
  let pinger = null;
  let heartbeatMs = DEFAULT_HEARTBEAT_MS;
  let lastFrameAt = clock.now(); // last frame on a live connection (or the first attempt)
  let attemptAt = clock.now(); // when the current socket was opened
  let live = false;
  let lost = false;
  let retry = null;
  let waitingLogin = false; // the session ended: no reconnecting until resume()

  function url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const base = `${proto}//${location.host}/ws`;
    if (epoch === null || lastId === null) return base;
    return `${base}?epoch=${encodeURIComponent(epoch)}&last_event_id=${lastId}`;
  }

  function status(name) {
    onStatus(name);
  }

  function goLive(msg) {
    if (typeof msg.heartbeat_s === "number" && msg.heartbeat_s > 0) heartbeatMs = msg.heartbeat_s * 1000;
    epoch = msg.epoch;
    delay = 500;
    live = true;
    lost = false;
    status("live");
  }

  /** Forget a socket: none of its later frames or its close may reach the page. */
  function abandon(sock) {
    if (!sock) return;
    sock.onmessage = null;
    sock.onclose = null;
    sock.onopen = null;
    clock.cancel(pinger);
    try {
      sock.close();
    } catch {
      // closing a socket that never opened may throw; it is abandoned either way
    }
  }

  function scheduleOpen() {
    if (stopped || retry !== null) return;
    retry = clock.later(() => {
      retry = null;
      open();
    }, delay);
    delay = Math.min(MAX_DELAY_MS, delay * 2);
  }

  function open() {
    if (stopped) return;
    live = false;
    attemptAt = clock.now();
    if (!lost) status("connecting");
    const sock = new WebSocket(url());
    socket = sock;
    sock.onmessage = (ev) => {
      if (live) lastFrameAt = clock.now();
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // a malformed frame is ignored
      }
      if (msg.type === "snapshot") {
        lastId = msg.last_event_id;
        lastFrameAt = clock.now();
        goLive(msg);
        onSnapshot(msg);
      } else if (msg.type === "resumed") {
        lastFrameAt = clock.now();
        goLive(msg);
      } else if (msg.type === "heartbeat" || msg.type === "pong") {
        // proof of life: the watchdog saw the frame above; nothing to show
      } else {
        if (typeof msg.id === "number") lastId = msg.id;
        onEvent(msg);
      }
    };
    sock.onopen = () => {
      pinger = clock.every(() => {
        if (socket === sock && sock.readyState === WebSocket.OPEN) {
          sock.send(JSON.stringify({ type: "ping" }));
        }
      }, PING_EVERY_MS);
    };
    sock.onclose = (ev) => {
      clock.cancel(pinger);
      if (stopped || socket !== sock) return;
      socket = null;
      live = false;
      if (ev.code === CLOSE_UNAUTHENTICATED) {
        if (!onUnauthenticated) {
          toLogin();
          return;
        }
        waitingLogin = true;
        status("offline");
        onUnauthenticated();
        return;
      }
      if (!lost) status("offline");
      scheduleOpen();
    };
  }

  function watch() {
    if (stopped || waitingLogin) return;
    const now = clock.now();
    if (!lost && isSilent(now, lastFrameAt, heartbeatMs)) {
      lost = true;
      status("lost");
    }
    // a socket that is open but silent, or an attempt that never got its snapshot, is
    // given up on: a frozen connection never closes by itself
    const stuck = live ? isSilent(now, lastFrameAt, heartbeatMs)
      : socket !== null && isSilent(now, attemptAt, heartbeatMs);
    if (stuck) {
      abandon(socket);
      socket = null;
      live = false;
      scheduleOpen();
    }
  }

  const watchdog = clock.every(watch, WATCH_EVERY_MS);
  open();
  return {
    /** After a new login: connect again (resuming from the last event seen). */
    resume() {
      waitingLogin = false;
      lastFrameAt = clock.now();
      abandon(socket);
      socket = null;
      delay = 500;
      open();
    },
    close() {
      stopped = true;
      clock.cancel(watchdog);
      clock.cancel(pinger);
      abandon(socket);
      socket = null;
    },
  };
}
