// The station console (index.html): log in, then the live alert queue (unacknowledged
// first, then priority, then the oldest first; compact rows patched in place, see
// queue-row.js) with one-click acknowledge and resolve, the audible alarm for
// unacknowledged high-priority alerts, and the resident tiles (status, last vitals,
// battery, online).

import { Alarm } from "./alarm.js";
import { refreshAges } from "./alert-card.js";
import { api, whoAmI } from "./api.js";
import { batteryLabel, clearMessage, h, priorityBadge, renderHeader, setConnection, showError, statusLabel,
  kindLabel } from "./common.js";
import { formatShort, onChange, setup, switchLanguage, t } from "./i18n.js";
import { patchQueue } from "./queue-row.js";
import { vitalClass } from "./vitals.js";
import { keepSession } from "./session.js";
import { soundControl } from "./station-alarm.js";
import { connectLive } from "./ws.js";

const RANK = { high: 2, medium: 1, low: 0 };
const alerts = new Map(); // id -> alert (open or acknowledged)
const going = new Map(); // alert id -> name of the family member going over
const residents = new Map(); // id -> tile data
const alarm = new Alarm();
const rowCache = new Map(); // alert id -> {el, sig}: the queue's rows, patched in place
const tileCache = new Map(); // resident id -> {el, sig}
const arrivedLive = new Set(); // alerts opened while this page was open
const NEW_FOR_S = 300; // an open alert younger than this is "new" after a reload too
const visits = new Map(); // alert id -> its emergency-visit order (docs/services.md)
const proposals = new Map(); // order id -> proposed worker (null: nobody free)
const ACTIVE_ORDERS = ["open", "assigned", "accepted", "arrived", "done"];

/** The console's order: highest priority first, then the oldest first. */
export function byPriority(rows) {
  return [...rows].sort((a, b) => (RANK[b.priority] ?? 0) - (RANK[a.priority] ?? 0)
    || a.opened_at - b.opened_at || (a.id < b.id ? -1 : 1));
}

function residentName(id) {
  const r = residents.get(id);
  return r ? r.name : id;
}

function upsertAlert(alert) {
  if (alert.state === "resolved") alerts.delete(alert.id);
  else alerts.set(alert.id, alert);
}

function isNew(a) {
  return a.state === "open" && (arrivedLive.has(a.id) || Date.now() / 1000 - a.opened_at < NEW_FOR_S);
}

function renderQueue() {
  const list = document.getElementById("alert-list");
  const rows = patchQueue(list, alerts.values(), rowCache, (a) => ({
    residentName: residentName(a.resident_id),
    going: going.get(a.id),
    isNew: isNew(a),
    me: me ? me.user.id : null,
    onChanged: (updated) => { upsertAlert(updated); renderAll(); },
    order: visits.get(a.id),
    proposal: visits.has(a.id) ? proposals.get(visits.get(a.id).id) : undefined,
    visit: me && me.may.includes("orders.write") ? visitHandlers : null,
  }));
  document.getElementById("queue-empty").hidden = rows.length > 0;
  const open = rows.filter((a) => a.state === "open").length;
  document.getElementById("queue-count").textContent = t("console.queue_count",
    { open, total: rows.length });
  alarm.setActive(rows.some((a) => a.state === "open" && a.priority === "high"));
}

function vitalsLine(v) {
  const parts = [];
  const vital = (field, title, text) => h("span", { class: vitalClass(field, v[field]), title: t(title),
    dataset: { vital: field } }, text);
  if (v.hr != null) parts.push(vital("hr", "vital.hr", `♥ ${Math.round(v.hr)}`));
  if (v.spo2 != null) parts.push(vital("spo2", "vital.spo2", `SpO₂ ${Math.round(v.spo2)}%`));
  if (v.temp != null) parts.push(vital("temp", "vital.temp", `${Number(v.temp).toFixed(1)}℃`));
  if (v.rr != null) parts.push(vital("rr", "vital.rr", `RR ${Math.round(v.rr)}`));
  if (v.sbp != null && v.dbp != null) {
    parts.push(vital("sbp", "vital.bp", `${Math.round(v.sbp)}/${Math.round(v.dbp)}`));
  }
  if (!parts.length) parts.push(h("span", { class: "muted" }, t("tile.no_vitals")));
  return parts;
}

/** A device needs a look: offline, never heard from, or its battery at 20 % or less. */
function deviceProblem(d) {
  return d.online !== true || (d.battery != null && d.battery <= 20);
}

/** "3 devices, all fine", or the count and only the devices with a problem. */
function devicesSummary(devices) {
  const problems = devices.filter(deviceProblem);
  return [
    h("div", { class: "devs-summary small" }, t("tile.devices", { n: devices.length }),
      problems.length ? null : h("span", { class: "devs-ok" }, ` · ${t("tile.devices_ok")}`)),
    problems.length ? h("ul", { class: "devs" }, problems.map(deviceLine)) : null,
  ];
}

function deviceLine(d) {
  const online = d.online === true ? "online" : d.online === false ? "offline" : "unknown";
  const battery = d.battery != null ? Math.round(d.battery) : null;
  return h("li", { class: `dev dev-${online}`, dataset: { deviceId: d.id } },
    h("span", { class: "dev-dot", "aria-hidden": "true" }, online === "online" ? "●" : online === "offline" ? "✕" : "?"),
    h("span", {}, `${t(`device.${online}`)}`),
    h("span", { class: "muted" }, d.id),
    battery != null ? batteryLabel(battery) : null);
}

function tile(r) {
  const open = byPriority([...alerts.values()].filter((a) => a.resident_id === r.id));
  const top = open[0];
  const el = h("article", { class: `tile${top ? ` tile-alert tile-${top.priority}` : ""}`,
    dataset: { residentId: r.id, status: r.status } },
  h("div", { class: "tile-head" },
    h("a", { class: "tile-name", href: `/static/resident.html?id=${encodeURIComponent(r.id)}` }, r.name),
    h("span", { class: `status status-${r.status}` }, statusLabel(r.status))),
  top ? h("div", { class: "tile-alert-line" }, priorityBadge(top.priority), kindLabel(top.kind)) : null,
  h("div", { class: "vitals" }, vitalsLine(r.vitals || {})),
  r.vitals && r.vitals.at ? h("div", { class: "muted small" }, t("tile.updated", { time: formatShort(r.vitals.at) })) : null,
  devicesSummary(r.devices || []));
  return el;
}

function renderTiles() {
  const needle = document.getElementById("resident-filter").value.trim().toLowerCase();
  const rank = (r) => {
    const top = byPriority([...alerts.values()].filter((a) => a.resident_id === r.id))[0];
    return top ? RANK[top.priority] + 1 : 0;
  };
  const rows = [...residents.values()]
    .filter((r) => !needle || r.name.toLowerCase().includes(needle) || r.id.toLowerCase().includes(needle))
    .sort((a, b) => rank(b) - rank(a) || a.name.localeCompare(b.name));
  patchTiles(document.getElementById("tiles"), rows);
  document.getElementById("resident-count").textContent = String(residents.size);
}

/** Tiles keyed by resident: rebuilt only when what they show changed, moved only when out
 * of place (a click on a tile's link is not lost to a redraw). */
function patchTiles(box, rows) {
  const keep = new Set(rows.map((r) => r.id));
  for (const [id, entry] of tileCache) {
    if (!keep.has(id)) {
      entry.el.remove();
      tileCache.delete(id);
    }
  }
  let before = box.firstChild;
  for (const r of rows) {
    const mine = [...alerts.values()].filter((a) => a.resident_id === r.id)
      .map((a) => [a.id, a.priority, a.state, a.kind]);
    const sig = JSON.stringify([r, mine]);
    let entry = tileCache.get(r.id);
    if (!entry || entry.sig !== sig) {
      const el = tile(r);
      if (entry) entry.el.replaceWith(el);
      if (before === (entry && entry.el)) before = el;
      entry = { el, sig };
      tileCache.set(r.id, entry);
    }
    if (entry.el !== before) box.insertBefore(entry.el, before);
    else before = before.nextSibling;
  }
}

function renderAll() {
  renderQueue();
  renderTiles();
}

const visitHandlers = {
  onOrder: (order) => { upsertOrder(order); renderQueue(); },
  onProposal: (orderId, proposal) => {
    if (proposal === undefined) proposals.delete(orderId);
    else proposals.set(orderId, proposal);
    renderQueue();
  },
};

function upsertOrder(order) {
  if (!order.alert_id) return;
  const known = visits.get(order.alert_id);
  // pushes and answers may cross: never go back to an older state of the order
  if (known && known.id === order.id && known.updated_at > order.updated_at) return;
  visits.set(order.alert_id, order);
}

/** The emergency visits of the alerts on screen (after a snapshot: a reload, a resync). */
async function loadVisits() {
  if (!me || !me.may.includes("orders.read")) return;
  const since = Math.min(...[...alerts.values()].map((a) => a.opened_at)) - 60;
  if (!Number.isFinite(since)) return;
  const rows = await api("/api/orders", { query: { status: ACTIVE_ORDERS, since, limit: 1000 } });
  for (const o of rows) upsertOrder(o);
  renderQueue();
}

function onSnapshot(msg) {
  alerts.clear(); // the rows are patched to the snapshot: those still open stay in place
  for (const a of msg.alerts) upsertAlert(a);
  residents.clear();
  for (const r of msg.residents) residents.set(r.id, r);
  for (const [id, name] of Object.entries(msg.going || {})) going.set(id, name);
  renderAll();
  loadVisits().catch(showError);
}

function onEvent(msg) {
  if (msg.type === "alert") {
    if (msg.action === "opened") arrivedLive.add(msg.alert.id);
    upsertAlert(msg.alert);
  } else if (msg.type === "order") {
    upsertOrder(msg.order);
  } else if (msg.type === "timeline" && msg.entry && msg.entry.action === "going_over") {
    going.set(msg.alert_id, (msg.entry.detail && msg.entry.detail.name) || msg.entry.actor);
  } else if (msg.type === "resident") {
    // added, edited or moved here (a full tile), or moved to another station ("removed")
    if (msg.action === "removed") {
      residents.delete(msg.resident.id);
    } else {
      const old = residents.get(msg.resident.id) || { devices: [], vitals: {} };
      residents.set(msg.resident.id, { ...old, ...msg.resident });
    }
  } else if (msg.type === "vitals" || msg.type === "device") {
    const r = residents.get(msg.resident_id);
    if (!r) return;
    const dev = (r.devices || []).find((d) => d.id === msg.device_id);
    if (msg.type === "vitals") {
      r.vitals = { ...(r.vitals || {}), ...msg.values, at: msg.at };
      if (dev && msg.values.battery != null) dev.battery = msg.values.battery;
    } else if (dev) {
      dev.online = msg.online;
      dev.last_seen_at = msg.at;
    }
  } else {
    return;
  }
  renderAll();
}

let me = null;

async function showConsole(who) {
  me = who;
  renderHeader(me);
  document.getElementById("login").hidden = true;
  document.getElementById("console").hidden = false;
  soundControl(alarm, document.getElementById("sound-toggle"));
  document.getElementById("resident-filter").addEventListener("input", renderTiles);
  onChange(() => {
    // a new language: every row and tile is rebuilt in it
    for (const entry of rowCache.values()) entry.el.remove();
    rowCache.clear();
    for (const entry of tileCache.values()) entry.el.remove();
    tileCache.clear();
    renderAll();
  });
  setInterval(() => refreshAges(), 30000);
  let session = null;
  const live = connectLive({ onSnapshot, onEvent, onStatus: (state) => {
    setConnection(state);
    alarm.setTechnical(state === "lost" || document.body.dataset.session === "ended");
  }, onUnauthenticated: () => session.ended() });
  // a session that ends keeps the queue on screen and the alarm ringing for open high
  // alerts, and sounds the technical alarm until someone logs in again
  session = keepSession(me, {
    onEnded: () => alarm.setTechnical(true),
    onBack: () => {
      alarm.setTechnical(false);
      live.resume();
    },
  });
}

function nextPage() {
  const next = new URLSearchParams(location.search).get("next");
  return next && next.startsWith("/") && !next.startsWith("//") ? next : null;
}

async function showLogin() {
  const section = document.getElementById("login");
  section.hidden = false;
  const langSelect = document.getElementById("login-lang");
  langSelect.value = document.documentElement.lang;
  langSelect.addEventListener("change", () => switchLanguage(langSelect.value, { loggedIn: false }));
  document.getElementById("login-user").focus();
  document.getElementById("login-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearMessage();
    try {
      await api("/api/auth/login", { method: "POST", body: {
        user: document.getElementById("login-user").value.trim(),
        password: document.getElementById("login-password").value,
      } });
    } catch (err) {
      showError(err.code === "unauthorized" ? t("session.wrong_password") : err);
      return;
    }
    const me = await whoAmI();
    if (me.user.role === "family") {
      location.href = nextPage() || "/static/family.html";
      return;
    }
    if (nextPage()) {
      location.href = nextPage();
      return;
    }
    await setup({ language: me.user.language, tz: me.user.timezone });
    await showConsole(me);
  });
}

async function main() {
  const me = await whoAmI();
  if (!me) {
    await setup({});
    await showLogin();
    return;
  }
  if (me.user.role === "family") {
    location.href = "/static/family.html";
    return;
  }
  await setup({ language: me.user.language, tz: me.user.timezone });
  await showConsole(me);
}

main().catch(showError);
