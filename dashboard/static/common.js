// Shared page pieces: a tiny DOM builder, the header (navigation, language switch, log out,
// connection state), priority badges (colour AND icon AND text) and localised labels.

import { api, toLogin, whoAmI } from "./api.js";
import { LANGUAGES, lang, onChange, setup, switchLanguage, t, tOr, translate } from "./i18n.js";

/** h("button", {class: "x", onclick: fn}, "text", child...) */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "dataset") Object.assign(el.dataset, v);
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, String(v));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export const PRIORITY_ICONS = { high: "▲", medium: "◆", low: "●" };
export const OUTCOMES = ["real_emergency", "handled_by_phone", "no_response", "false_alarm",
  "device_fault", "test"];
export const STAFF_ROLES = ["city_admin", "district_admin", "station_supervisor",
  "station_staff"];

/** A priority badge: colour (class), icon and text, so it reads without colour too. */
export function priorityBadge(priority) {
  return h("span", { class: `prio prio-${priority}`, dataset: { priority } },
    h("span", { class: "prio-icon", "aria-hidden": "true" }, PRIORITY_ICONS[priority] || "●"),
    h("span", { class: "prio-text" }, t(`priority.${priority}`)));
}

export function kindLabel(kind) {
  return tOr(`kind.${kind}`, kind);
}

// the same aliases as the hub's hub/detect/rooms.py: devices name rooms freely
const ROOM_ALIASES = {
  living: "living_room", lounge: "living_room", sitting_room: "living_room", toilet: "bathroom",
  wc: "bathroom", bath: "bathroom", restroom: "bathroom", washroom: "bathroom", bed_room: "bedroom",
  bed: "bedroom", master_bedroom: "bedroom", door: "entrance", front_door: "entrance",
  hall: "hallway", corridor: "hallway", dining: "dining_room", cooking: "kitchen",
};

/** A room as people say it ("Living Room", "living" → 客厅); unknown rooms as sent. */
export function roomLabel(room) {
  if (!room) return "";
  const key = String(room).trim().toLowerCase().replace(/[-\s]+/g, "_");
  return tOr(`room.${ROOM_ALIASES[key] || key}`, room);
}

export function outcomeLabel(outcome) {
  return outcome ? tOr(`outcome.${outcome}`, outcome) : "";
}

export function stateLabel(state) {
  return tOr(`state.${state}`, state);
}

export function statusLabel(status) {
  return tOr(`status.${status}`, status);
}

export function actionLabel(action) {
  return tOr(`action.${action}`, action);
}

/**
 * An error in the reader's language: the server sends a code (and an English message for
 * logs and API clients); the page shows the code's message, with the fields at fault for
 * a validation error. The server's own words are shown only in English.
 */
export function errorText(err) {
  if (!err || !err.code) return String(err);
  let text = tOr(`error.${err.code}`, t("error.unknown"));
  if (err.code === "validation_error" && Array.isArray(err.details) && err.details.length) {
    const fields = [...new Set(err.details.map((d) => (d.loc || []).filter((p) => p !== "body"
      && typeof p === "string").pop()).filter(Boolean))];
    if (fields.length) text += t("error.fields", { fields: fields.map((f) => tOr(`field.${f}`, f)).join(t("list.sep")) });
  } else if (lang() === "en" && err.message && err.code !== "network") {
    text += `: ${err.message}`;
  }
  return text;
}

/** Show an error (ApiError or anything) in the page's message area. */
export function showError(err) {
  const box = document.getElementById("message");
  const text = errorText(err);
  if (!box) {
    console.error(text);
    return;
  }
  box.textContent = text;
  box.dataset.detail = err && err.message ? err.message : ""; // for support, not shown
  box.dataset.code = (err && err.code) || "";
  box.hidden = false;
  box.className = "message message-error";
}

export function showInfo(text) {
  const box = document.getElementById("message");
  if (!box) return;
  box.textContent = text;
  box.hidden = false;
  box.className = "message message-info";
}

export function clearMessage() {
  const box = document.getElementById("message");
  if (box) box.hidden = true;
}

/** Load the user and their language; send them to the login page when not logged in. */
export async function start() {
  const me = await whoAmI();
  if (!me) {
    await setup({});
    toLogin();
    return null;
  }
  await setup({ language: me.user.language, tz: me.user.timezone });
  renderHeader(me);
  return me;
}

export function mayAdmin(me) {
  return ["residents.write", "devices.write", "users.read", "stations.write"].some((a) =>
    me.may.includes(a));
}

/** The page header: brand, links for the role, connection state, language, log out. */
export function renderHeader(me) {
  const bar = document.getElementById("topbar");
  if (!bar) return;
  const links = [];
  if (STAFF_ROLES.includes(me.user.role)) {
    links.push(h("a", { href: "/static/index.html", "data-i18n": "nav.console" }));
    links.push(h("a", { href: "/static/visits.html", "data-i18n": "nav.visits" }));
    if (mayAdmin(me)) links.push(h("a", { href: "/static/admin.html", "data-i18n": "nav.admin" }));
    if (me.may.includes("workers.self")) {
      links.push(h("a", { href: "/static/worker.html", "data-i18n": "nav.worker" }));
    }
    if (me.may.includes("reports.read")) {
      links.push(h("a", { href: "/static/kpi.html", "data-i18n": "nav.kpi" }));
    }
  }
  if (me.user.role === "family") {
    links.push(h("a", { href: "/static/family.html", "data-i18n": "nav.family" }));
  }
  const select = h("select", { id: "lang-switch", "data-i18n-aria-label": "nav.language" },
    LANGUAGES.map((code) => h("option", { value: code }, code === "zh-CN" ? "中文" : "English")));
  select.addEventListener("change", async () => {
    try {
      await switchLanguage(select.value);
    } catch (err) {
      showError(err);
    }
  });
  const logout = h("button", { type: "button", class: "btn btn-plain", id: "logout",
    "data-i18n": "nav.logout" });
  logout.addEventListener("click", async () => {
    try {
      await api("/api/auth/logout", { method: "POST" });
    } finally {
      location.href = "/static/index.html";
    }
  });
  bar.replaceChildren(
    h("a", { class: "brand", href: "/", "data-i18n": "app.name" }),
    h("nav", { class: "nav" }, links),
    h("span", { class: "conn", id: "conn", role: "status", hidden: true,
      dataset: { state: "connecting" } },
      h("span", { class: "conn-dot", "aria-hidden": "true" }),
      h("span", { id: "conn-text", "data-i18n": "conn.connecting" })),
    h("span", { class: "who" }, me.user.name),
    select,
    logout,
  );
  select.value = document.documentElement.lang;
  onChange((code) => { select.value = code; });
  translate(bar);
}

/**
 * Show the WebSocket state in the header, on <body data-conn> (the CSS dims stale lists)
 * and, when the watchdog says "lost", in a full-width banner: what is on screen may be out
 * of date until the connection is back.
 */
export function setConnection(stateName) {
  document.body.dataset.conn = stateName;
  const conn = document.getElementById("conn");
  const text = document.getElementById("conn-text");
  if (conn && text) {
    conn.hidden = false; // shown by pages that hold a live connection
    conn.dataset.state = stateName;
    text.dataset.i18n = `conn.${stateName}`;
    text.textContent = t(`conn.${stateName}`);
  }
  let banner = document.getElementById("conn-lost");
  if (stateName === "lost" && !banner) {
    banner = h("div", { id: "conn-lost", class: "conn-lost", role: "alert" },
      h("strong", { "data-i18n": "conn.lost_title" }, t("conn.lost_title")), " ",
      h("span", { "data-i18n": "conn.lost_detail" }, t("conn.lost_detail")));
    const bar = document.getElementById("topbar");
    if (bar) bar.after(banner);
    else document.body.prepend(banner);
  }
  if (banner) banner.hidden = stateName !== "lost";
  // a network error said while the connection was down is over once it is back
  const box = document.getElementById("message");
  if (stateName === "live" && box && box.dataset.code === "network") box.hidden = true;
}

const ICONS = {
  // simple outlines drawn on a 16x16 grid (no icon font or emoji font needed)
  battery: "M1 4h12v8H1z M13 6h2v4h-2",
  sound: "M2 6h3l4-3v10l-4-3H2z M11 5q2 3 0 6 M13 3q4 5 0 10",
  mute: "M2 6h3l4-3v10l-4-3H2z M11 5l4 6 M15 5l-4 6",
};

/** A small inline SVG icon (decorative: aria-hidden). */
export function icon(name) {
  const NS = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(NS, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("class", `icon icon-${name}`);
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(NS, "path");
  path.setAttribute("d", ICONS[name]);
  svg.append(path);
  return svg;
}

/** "▮ 67%" battery level with an icon; red when low. */
export function batteryLabel(level) {
  const pct = Math.round(level);
  return h("span", { class: pct <= 20 ? "battery battery-low" : "battery", title: t("tile.battery") },
    icon("battery"), `${pct}%`);
}
