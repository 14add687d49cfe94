// The live connection to /ws: a snapshot (or "resumed" and the missed events) first, then
// events with increasing ids. On a drop it reconnects with growing delays and resumes from
// the last event id it saw, so nothing is missed; a stale epoch brings a fresh snapshot.

import { toLogin } from "./api.js";

const CLOSE_UNAUTHENTICATED = 4401;
const PING_EVERY_MS = 25000;
const MAX_DELAY_MS = 15000;

/**
 * connectLive({onSnapshot(msg), onEvent(msg), onStatus("live"|"connecting"|"offline")})
 * Returns {close()}.
 */
export function connectLive({ onSnapshot, onEvent, onStatus = () => {} }) {
  let epoch = null;
  let lastId = null;
  let socket = null;
  let delay = 500;
  let stopped = false;
  let pinger = null;

  function url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    const base = `${proto}//${location.host}/ws`;
    if (epoch === null || lastId === null) return base;
    return `${base}?epoch=${encodeURIComponent(epoch)}&last_event_id=${lastId}`;
  }

  function open() {
    onStatus("connecting");
    socket = new WebSocket(url());
    socket.addEventListener("message", (ev) => {
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // a malformed frame is ignored
      }
      if (msg.type === "snapshot") {
        epoch = msg.epoch;
        lastId = msg.last_event_id;
        delay = 500;
        onStatus("live");
        onSnapshot(msg);
      } else if (msg.type === "resumed") {
        epoch = msg.epoch;
        delay = 500;
        onStatus("live");
      } else if (msg.type === "heartbeat" || msg.type === "pong") {
        // keeps the connection warm; nothing to show
      } else {
        if (typeof msg.id === "number") lastId = msg.id;
        onEvent(msg);
      }
    });
    socket.addEventListener("open", () => {
      pinger = setInterval(() => {
        if (socket && socket.readyState === WebSocket.OPEN) {
          socket.send(JSON.stringify({ type: "ping" }));
        }
      }, PING_EVERY_MS);
    });
    socket.addEventListener("close", (ev) => {
      clearInterval(pinger);
      if (stopped) return;
      if (ev.code === CLOSE_UNAUTHENTICATED) {
        toLogin();
        return;
      }
      onStatus("offline");
      setTimeout(open, delay);
      delay = Math.min(MAX_DELAY_MS, delay * 2);
    });
  }

  open();
  return {
    close() {
      stopped = true;
      clearInterval(pinger);
      if (socket) socket.close();
    },
  };
}
