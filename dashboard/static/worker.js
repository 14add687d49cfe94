// The care worker's phone page: today's orders in time order with the resident's name
// and address, and one big button for the next step of each — accept, check in (sends the
// phone's position; the server refuses it far from the resident's address), done with
// notes. The phone's position is reported when the page opens. Orders changed elsewhere
// (assigned, reassigned, cancelled by the station) arrive over the WebSocket.

import { api, ApiError } from "./api.js";
import { clearMessage, h, setConnection, showError, start } from "./common.js";
import { formatShort, onChange, t } from "./i18n.js";
import { keepSession } from "./session.js";
import { connectLive } from "./ws.js";

let worker = null;

/** The phone's position as {lat, lon}; an ApiError("no_location") when there is none. */
function position() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) {
      reject(new ApiError(0, "no_location", t("worker.no_location")));
      return;
    }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: p.coords.latitude, lon: p.coords.longitude }),
      () => reject(new ApiError(0, "no_location", t("worker.no_location"))),
      { enableHighAccuracy: true, timeout: 15000, maximumAge: 0 });
  });
}

async function reportPosition() {
  try {
    const at = await position();
    await api(`/api/workers/${encodeURIComponent(worker.id)}/position`, { method: "PUT", body: at });
  } catch {
    // best effort: dispatch then uses the last known position, or the last check-in
  }
}

async function step(order, action, button, body) {
  button.disabled = true;
  clearMessage();
  try {
    let payload = body;
    if (action === "arrive") {
      button.textContent = t("worker.locating");
      payload = await position();
    }
    await api(`/api/orders/${encodeURIComponent(order.id)}/${action}`, { method: "POST", body: payload });
    await render();
  } catch (err) {
    if (err.code === "no_location") {
      const box = document.getElementById("message");
      box.textContent = t("worker.no_location");
      box.className = "message message-error";
      box.hidden = false;
    } else {
      showError(err);
    }
    await render();
  }
}

function actions(order) {
  const big = (label, action, body) => {
    const b = h("button", { type: "button", class: `btn btn-primary btn-big btn-${action}` }, t(label));
    b.addEventListener("click", () => step(order, action, b, typeof body === "function" ? body() : body));
    return b;
  };
  if (order.status === "assigned") return [big("worker.accept", "accept")];
  if (order.status === "accepted") return [big("worker.arrive", "arrive")];
  if (order.status === "arrived") {
    const notes = h("textarea", { class: "order-notes", rows: 3, maxlength: 2000,
      "aria-label": t("worker.notes"), placeholder: t("worker.notes") });
    return [notes, big("worker.done", "done", () => ({ notes: notes.value || null }))];
  }
  return [];
}

function orderItem(o) {
  const r = o.resident || {};
  return h("li", { class: `card order order-${o.status}`, dataset: { orderId: o.id, status: o.status } },
    h("div", { class: "order-head" },
      h("time", { class: "order-time" }, formatShort(o.scheduled_at)),
      h("strong", { class: "order-kind" }, t(`svc_kind.${o.kind}`)),
      h("span", { class: `order-status order-status-${o.status}` }, t(`order_status.${o.status}`))),
    h("p", { class: "order-resident" }, r.name || o.resident_id),
    r.address ? h("p", { class: "order-address" }, r.address) : null,
    h("p", { class: "muted" }, t("worker.minutes", { n: o.duration_min })),
    o.notes && o.status === "done" ? h("p", { class: "order-done-notes" }, o.notes) : null,
    h("div", { class: "order-actions" }, actions(o)));
}

async function render() {
  const day = await api("/api/workers/me");
  worker = day;
  document.getElementById("worker-name").textContent = day.name;
  const list = document.getElementById("orders");
  const orders = [...day.orders].sort((a, b) => a.scheduled_at - b.scheduled_at);
  list.replaceChildren(...orders.map(orderItem));
  document.getElementById("orders-empty").hidden = orders.length > 0;
}

let pending = null;
function refreshSoon() {
  clearTimeout(pending);
  pending = setTimeout(() => render().catch(showError), 200);
}

async function main() {
  const me = await start();
  if (!me) return;
  document.getElementById("worker").hidden = false;
  try {
    await render();
  } catch (err) {
    if (err.status === 404 || err.status === 403) {
      document.getElementById("orders-empty").hidden = true;
      document.getElementById("worker-name").textContent = t("worker.not_linked");
      return;
    }
    throw err;
  }
  reportPosition();
  onChange(() => render().catch(showError));
  let session = null;
  const live = connectLive({
    onSnapshot: () => {},
    onEvent: (msg) => {
      if (msg.type === "order" && msg.order && msg.order.worker_id === worker.id) refreshSoon();
    },
    onStatus: setConnection,
    onUnauthenticated: () => session.ended(),
  });
  session = keepSession(me, { onBack: () => live.resume() });
}

main().catch(showError);
