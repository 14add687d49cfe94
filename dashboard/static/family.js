// The family page (phones): the alert first, with a status true to where it stands
// (waiting for the station — and how often it was escalated —, acknowledged by whom, help
// on the way), "I'm going over" (recorded on the alert's timeline and shown to the
// station), then the last vital signs, devices, past alerts, and notification preferences
// with quiet hours; recent visits and completed services with their rating (family-visits.js,
// family-orders.js). Text is 16 px or more and every control a 44 px target.

import { alertCard, timelineItem } from "./alert-card.js";
import { api } from "./api.js";
import { batteryLabel, h, setConnection, showError, start, statusLabel } from "./common.js";
import { ordersBlock } from "./family-orders.js";
import { visitsBlock } from "./family-visits.js";
import { formatShort, onChange, t } from "./i18n.js";
import { keepSession } from "./session.js";
import { connectLive } from "./ws.js";

let me = null;

function vitals(r) {
  const v = r.vitals || {};
  const parts = [];
  if (v.hr != null) parts.push(`${t("vital.hr")} ${Math.round(v.hr)}`);
  if (v.spo2 != null) parts.push(`${t("vital.spo2")} ${Math.round(v.spo2)}%`);
  if (v.temp != null) parts.push(`${t("vital.temp")} ${Number(v.temp).toFixed(1)}℃`);
  if (v.sbp != null && v.dbp != null) parts.push(`${t("vital.bp")} ${Math.round(v.sbp)}/${Math.round(v.dbp)}`);
  return parts.length ? parts.join(" · ") : t("tile.no_vitals");
}

async function goingOver(alert, button) {
  button.disabled = true;
  try {
    await api(`/api/alerts/${encodeURIComponent(alert.id)}/going`, { method: "POST" });
    await render();
  } catch (err) {
    showError(err);
    button.disabled = false;
  }
}

function who(actor) {
  return actor ? actor.replace(/^user:/, "") : "";
}

/** Where an open alert stands, in the family's words, from the alert and its timeline. */
export function standing(alert, timeline) {
  const going = timeline.filter((e) => e.action === "going_over");
  if (going.length) {
    const last = going[going.length - 1];
    return { kind: "going", text: t("family.state_going", { who: (last.detail && last.detail.name) || who(last.actor) }) };
  }
  if (alert.state === "acknowledged") {
    return { kind: "acked", text: t("family.state_acked", { who: who(alert.acked_by) }) };
  }
  // the first round tells the station; every later one is an escalation
  const escalated = Math.max(0, timeline.filter((e) => e.action === "escalated").length - 1);
  return { kind: "waiting", text: escalated ? t("family.state_waiting_escalated", { n: escalated })
    : t("family.state_waiting") };
}

async function alertBlock(alert, name) {
  const li = alertCard(alert, { canAct: false, residentName: name });
  if (alert.state !== "resolved") {
    const timeline = await api(`/api/alerts/${encodeURIComponent(alert.id)}/timeline`);
    li.timeline = timeline;
    const mine = timeline.some((e) => e.action === "going_over" && e.actor === `user:${me.user.id}`);
    const button = h("button", { type: "button", class: "btn btn-primary btn-big btn-going",
      disabled: mine }, mine ? t("family.going_recorded") : t("family.going"));
    button.addEventListener("click", () => goingOver(alert, button));
    li.append(button);
    li.append(h("ol", { class: "list timeline" }, timeline.slice().reverse().map((e) => timelineItem(e))));
  }
  return li;
}

async function elderSection(rid) {
  const [r, recent, visits, services] = await Promise.all([
    api(`/api/residents/${encodeURIComponent(rid)}`),
    api("/api/alerts", { query: { resident_id: rid, limit: 10 } }),
    visitsBlock(rid),
    ordersBlock(rid),
  ]);
  const open = recent.items.filter((a) => a.state !== "resolved");
  const devices = (r.devices || []).map((d) => {
    const online = d.online === true ? "online" : d.online === false ? "offline" : "unknown";
    return h("li", { class: `dev dev-${online}` }, d.id, " ", t(`device.${online}`),
      d.battery != null ? batteryLabel(d.battery) : null);
  });
  const openBlocks = await Promise.all(open.map((a) => alertBlock(a, r.name)));
  const past = await Promise.all(recent.items.filter((a) => a.state === "resolved")
    .map((a) => alertBlock(a, r.name)));
  // the most urgent open alert decides the status line
  const top = open.length ? standing(open[0], openBlocks[0].timeline || []) : null;
  return h("section", { class: "card elder", dataset: { residentId: rid } },
    h("div", { class: "tile-head" }, h("h1", { class: "elder-name" }, r.name),
      h("span", { class: `status status-${r.status}` }, statusLabel(r.status))),
    h("p", { class: `elder-state ${top ? `elder-state-alert elder-state-${top.kind}` : "elder-state-ok"}`,
      id: `state-${rid}`, dataset: { standing: top ? top.kind : "ok" } },
    top ? top.text : t("family.state_ok")),
    openBlocks.length ? h("ol", { class: "alert-list alert-list-open" }, openBlocks) : null,
    h("p", { class: "vitals" }, vitals(r)),
    r.vitals && r.vitals.at ? h("p", { class: "muted" }, t("tile.updated", { time: formatShort(r.vitals.at, true) })) : null,
    h("ul", { class: "devs" }, devices),
    h("h2", {}, t("family.recent_alerts")),
    past.length ? h("ol", { class: "alert-list" }, past)
      : h("p", { class: "empty" }, t(openBlocks.length ? "family.no_past_alerts" : "family.no_alerts")),
    visits, services);
}

async function render() {
  const sections = await Promise.all(me.user.resident_ids.map(elderSection));
  document.getElementById("elders").replaceChildren(...(sections.length ? sections
    : [h("p", { class: "empty" }, t("family.no_residents"))]));
}

function loadPrefs() {
  const prefs = me.user.prefs || {};
  document.getElementById("pref-min-priority").value = prefs.min_priority || "high";
  const quiet = Array.isArray(prefs.quiet_hours) ? prefs.quiet_hours : null;
  document.getElementById("pref-quiet").checked = Boolean(quiet);
  if (quiet) {
    document.getElementById("pref-quiet-from").value = quiet[0];
    document.getElementById("pref-quiet-to").value = quiet[1];
  }
}

async function savePrefs(ev) {
  ev.preventDefault();
  const quiet = document.getElementById("pref-quiet").checked
    ? [document.getElementById("pref-quiet-from").value, document.getElementById("pref-quiet-to").value]
    : null;
  const prefs = { ...(me.user.prefs || {}), min_priority: document.getElementById("pref-min-priority").value,
    quiet_hours: quiet };
  try {
    me.user = await api("/api/me", { method: "PATCH", body: { prefs } });
    document.getElementById("prefs-saved").hidden = false;
  } catch (err) {
    showError(err);
  }
}

let pending = null;
function refreshSoon() {
  clearTimeout(pending);
  pending = setTimeout(() => render().catch(showError), 300);
}

async function main() {
  me = await start();
  if (!me) return;
  document.getElementById("family").hidden = false;
  loadPrefs();
  document.getElementById("prefs-form").addEventListener("submit", savePrefs);
  await render();
  onChange(() => render().catch(showError));
  let session = null;
  const live = connectLive({
    onSnapshot: () => {},
    onEvent: () => refreshSoon(),
    onStatus: setConnection,
    onUnauthenticated: () => session.ended(),
  });
  session = keepSession(me, { onBack: () => live.resume() });
}

main().catch(showError);
