// Resident detail (resident.html?id=...): status, vital-sign charts over 24 hours or 7 days,
// open alerts with their actions, the alert timeline, contacts, the address with a map
// link, devices and recent events. Refreshed live from /ws events about this resident.

import { alertCard, refreshAges, timelineItem } from "./alert-card.js";
import { api } from "./api.js";
import { batteryLabel, h, roomLabel, setConnection, showError, start, statusLabel } from "./common.js";
import { lineChart, pointsOf } from "./chart.js";
import { formatDateTime, onChange, t, tOr } from "./i18n.js";
import { keepSession } from "./session.js";
import { stationAlarm } from "./station-alarm.js";
import { connectLive } from "./ws.js";

const id = new URLSearchParams(location.search).get("id");
let windowName = "24h";
let resident = null;
const CHARTS = [
  { field: "hr", unit: "bpm", range: [50, 110] },
  { field: "spo2", unit: "%", range: [90, 100] },
  { field: "temp", unit: "℃", range: [35.5, 37.5] },
  { field: "rr", unit: "/min", range: [10, 24] },
  { field: "glucose", unit: "mmol/L", range: [4, 10] },
];

const STATUSES = ["home", "away", "hospital", "inactive"];

/** Staff set where the resident is (away and in hospital quiet the activity alerts). */
function statusControl() {
  const select = h("select", { id: "r-status-set", "aria-label": t("resident.set_status") },
    STATUSES.map((s) => h("option", { value: s }, statusLabel(s))));
  select.addEventListener("change", async () => {
    try {
      const r = await api(`/api/residents/${encodeURIComponent(id)}/status`, { method: "PUT",
        body: { status: select.value } });
      resident = { ...resident, ...r };
      renderHead(resident);
    } catch (err) {
      showError(err);
    }
  });
  document.getElementById("r-status").after(select);
}

function renderHead(r) {
  document.title = `${r.name} · ${t("app.name")}`;
  document.getElementById("r-name").textContent = r.name;
  const status = document.getElementById("r-status");
  status.textContent = statusLabel(r.status);
  status.className = `status status-${r.status}`;
  const set = document.getElementById("r-status-set");
  if (set) set.value = r.status;
  const facts = [r.id];
  if (r.birth_year) facts.push(t("resident.born", { year: r.birth_year }));
  document.getElementById("r-facts").textContent = facts.join(" · ");
  const address = document.getElementById("r-address");
  address.replaceChildren(r.address || t("resident.no_address"));
  if (r.map_url) {
    address.append(" ", h("a", { href: r.map_url, target: "_blank", rel: "noopener noreferrer" },
      t("resident.map")));
  }
  document.getElementById("r-station").textContent = r.station ? r.station.name : r.station_id;
  document.getElementById("contacts").replaceChildren(...(r.contacts || []).map((c) =>
    h("li", {}, h("strong", {}, c.name), c.relation ? tOr(`relation.${c.relation}`, c.relation) : null,
      c.phone ? h("a", { href: `tel:${c.phone}` }, c.phone) : null)));
  document.getElementById("r-devices").replaceChildren(...(r.devices || []).map((d) => {
    const online = d.online === true ? "online" : d.online === false ? "offline" : "unknown";
    return h("li", { class: `dev dev-${online}` }, h("strong", {}, d.id), tOr(`kind_device.${d.kind}`, d.kind),
      h("span", {}, t(`device.${online}`)),
      d.battery != null ? batteryLabel(d.battery) : null,
      d.last_seen_at ? h("span", { class: "muted" }, t("resident.last_seen", { time: formatDateTime(d.last_seen_at) })) : null);
  }));
}

async function loadResident() {
  resident = await api(`/api/residents/${encodeURIComponent(id)}`);
  renderHead(resident);
}

async function loadCharts() {
  const data = await api(`/api/residents/${encodeURIComponent(id)}/vitals`, { query: { window: windowName } });
  const box = document.getElementById("charts");
  const figures = [];
  for (const c of CHARTS) {
    const points = pointsOf(data.series, c.field);
    if (!points.length) continue;
    figures.push(lineChart({ title: t(`vital.${c.field}`), unit: c.unit, since: data.since,
      until: data.until, bucket: data.bucket_s, series: [{ points }], range: c.range,
      withDay: windowName === "7d" }));
  }
  const sbp = pointsOf(data.series, "sbp");
  const dbp = pointsOf(data.series, "dbp");
  if (sbp.length || dbp.length) {
    figures.push(lineChart({ title: t("vital.bp"), unit: "mmHg", since: data.since, until: data.until,
      bucket: data.bucket_s, series: [{ points: sbp }, { points: dbp, className: "line2" }],
      range: [60, 140], withDay: windowName === "7d" }));
  }
  box.replaceChildren(...figures);
  document.getElementById("charts-empty").hidden = figures.length > 0;
}

const visits = new Map(); // alert id -> its emergency-visit order
const proposals = new Map(); // order id -> proposed worker (null: nobody free)
let mayOrder = false;
const visitHandlers = {
  onOrder: (order) => { visits.set(order.alert_id, order); loadAlerts().catch(showError); },
  onProposal: (orderId, proposal) => {
    if (proposal === undefined) proposals.delete(orderId);
    else proposals.set(orderId, proposal);
    loadAlerts().catch(showError);
  },
};

/** The emergency visits of the resident's open alerts. */
async function loadVisits(alerts) {
  if (!mayOrder || !resident || !alerts.length) return;
  const since = Math.min(...alerts.map((a) => a.opened_at)) - 60;
  const rows = await api("/api/orders", { query: { station_id: resident.station_id, since, limit: 1000,
    status: ["open", "assigned", "accepted", "arrived", "done"] } });
  for (const o of rows) if (o.alert_id && o.resident_id === id) visits.set(o.alert_id, o);
}

async function loadAlerts() {
  const [active, recent, timeline] = await Promise.all([
    api("/api/alerts", { query: { resident_id: id, active: true, order: "priority", limit: 50 } }),
    api("/api/alerts", { query: { resident_id: id, limit: 200 } }),
    api(`/api/residents/${encodeURIComponent(id)}/timeline`, { query: { limit: 100 } }),
  ]);
  const kinds = new Map(recent.items.map((a) => [a.id, a.kind]));
  const list = document.getElementById("r-alerts");
  await loadVisits(active.items);
  list.replaceChildren(...active.items.map((a) => alertCard(a, {
    residentName: resident ? resident.name : id, onChanged: () => loadAlerts().catch(showError),
    visit: mayOrder ? { order: visits.get(a.id), handlers: visitHandlers,
      proposal: visits.has(a.id) ? proposals.get(visits.get(a.id).id) : undefined } : null,
  })));
  document.getElementById("r-alerts-empty").hidden = active.items.length > 0;
  const entries = timeline.slice().reverse();
  document.getElementById("timeline").replaceChildren(...entries.map((e) =>
    timelineItem(e, kinds.get(e.alert_id))));
  document.getElementById("timeline-empty").hidden = entries.length > 0;
}

async function loadEvents() {
  const rows = await api(`/api/residents/${encodeURIComponent(id)}/events`, { query: { limit: 30 } });
  document.getElementById("events").replaceChildren(...rows.map((e) =>
    h("li", {}, h("time", { class: "muted" }, formatDateTime(e.ts)),
      h("strong", {}, tOr(`event.${e.type}`, e.type)),
      e.data && e.data.room ? h("span", {}, roomLabel(e.data.room)) : null,
      h("span", { class: "muted" }, e.device_id))));
  document.getElementById("events-empty").hidden = rows.length > 0;
}

function selectWindow(name) {
  windowName = name;
  for (const b of document.querySelectorAll("[data-window]")) {
    b.setAttribute("aria-selected", String(b.dataset.window === name));
  }
  loadCharts().catch(showError);
}

let pending = null;
function refreshSoon(what) {
  // several events often arrive together: refresh once
  clearTimeout(pending);
  pending = setTimeout(() => {
    const jobs = [loadAlerts()];
    if (what !== "alert") jobs.push(loadResident(), loadEvents());
    Promise.all(jobs).catch(showError);
  }, 300);
}

async function main() {
  const me = await start();
  if (!me) return;
  if (id && me.may.includes("alerts.act")) statusControl();
  mayOrder = me.may.includes("orders.write");
  if (!id) {
    showError(t("resident.missing_id"));
    return;
  }
  document.getElementById("detail").hidden = false;
  for (const b of document.querySelectorAll("[data-window]")) {
    b.addEventListener("click", () => selectWindow(b.dataset.window));
  }
  await loadResident();
  await Promise.all([loadCharts(), loadAlerts(), loadEvents()]);
  onChange(() => Promise.all([loadResident(), loadCharts(), loadAlerts(), loadEvents()]).catch(showError));
  setInterval(() => refreshAges(), 30000);
  // the station app rings on every page; a family member reading this page does not
  const alarm = me.user.role === "family" ? null : stationAlarm();
  let session = null;
  const live = connectLive({
    onUnauthenticated: () => session.ended(),
    onSnapshot: (msg) => { if (alarm) alarm.onSnapshot(msg); },
    onEvent: (msg) => {
      if (alarm) alarm.onEvent(msg);
      if (msg.resident_id === id || (msg.alert && msg.alert.resident_id === id)
          || (msg.resident && msg.resident.id === id)
          || (msg.entry && msg.entry.resident_id === id)
          || (msg.order && msg.order.resident_id === id)) {
        refreshSoon(msg.type);
      }
    },
    onStatus: alarm ? alarm.onStatus : setConnection,
  });
  session = keepSession(me, {
    onEnded: () => { if (alarm) alarm.alarm.setTechnical(true); },
    onBack: () => {
      if (alarm) alarm.alarm.setTechnical(false);
      live.resume();
    },
  });
}

main().catch(showError);
