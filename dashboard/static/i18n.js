// Message catalogues (/i18n/{lang}.json, flat keys), zh-CN by default, and times in the
// user's time zone (Asia/Shanghai by default) with Intl.DateTimeFormat.
//
// Markup names its strings with data-i18n (text), data-i18n-title, data-i18n-placeholder
// and data-i18n-aria-label; scripts call t(KEY, {name: value}).

import { api } from "./api.js";

export const LANGUAGES = ["zh-CN", "en"];
export const DEFAULT_LANGUAGE = "zh-CN";
export const DEFAULT_TIMEZONE = "Asia/Shanghai";
const STORED = "carehub.lang";

const state = { lang: DEFAULT_LANGUAGE, tz: DEFAULT_TIMEZONE, messages: {}, listeners: [] };

export function lang() {
  return state.lang;
}

export function timezone() {
  return state.tz;
}

/** The message for key, with {placeholders} filled; the key itself when missing. */
export function t(key, vars) {
  let text = Object.prototype.hasOwnProperty.call(state.messages, key) ? state.messages[key] : key;
  if (vars) {
    for (const [k, v] of Object.entries(vars)) text = text.split(`{${k}}`).join(String(v));
  }
  return text;
}

/** t() for a key built at run time (kinds, outcomes...), with a fallback when unknown. */
export function tOr(key, fallback) {
  return Object.prototype.hasOwnProperty.call(state.messages, key) ? state.messages[key] : fallback;
}

/** A localised text from a {"zh-CN": ..., "en": ...} object (alert reasons). */
export function pick(texts) {
  if (!texts || typeof texts !== "object") return "";
  return texts[state.lang] || texts[DEFAULT_LANGUAGE] || texts.en || Object.values(texts)[0] || "";
}

async function fetchCatalogue(code) {
  const response = await fetch(`/i18n/${code}.json`, { credentials: "same-origin" });
  if (!response.ok) throw new Error(`no catalogue for ${code}`);
  return response.json();
}

/** Load a language (and time zone) and translate the page. */
export async function setup({ language, tz } = {}) {
  let code = language || localStorage.getItem(STORED) || DEFAULT_LANGUAGE;
  if (!LANGUAGES.includes(code)) code = DEFAULT_LANGUAGE;
  state.messages = await fetchCatalogue(code);
  state.lang = code;
  if (tz) state.tz = tz;
  document.documentElement.lang = code;
  localStorage.setItem(STORED, code);
  translate(document);
  for (const fn of state.listeners) fn(code);
}

/** Re-render hooks run after a language change. */
export function onChange(fn) {
  state.listeners.push(fn);
}

/** Switch language; saved in the user's preferences (PATCH /api/me) when logged in. */
export async function switchLanguage(code, { loggedIn = true } = {}) {
  if (loggedIn) await api("/api/me", { method: "PATCH", body: { language: code } });
  await setup({ language: code });
}

export function translate(root) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const [attr, data] of [
    ["title", "i18nTitle"],
    ["placeholder", "i18nPlaceholder"],
    ["aria-label", "i18nAriaLabel"],
  ]) {
    for (const el of root.querySelectorAll(`[data-${"i18n-" + attr}]`)) {
      el.setAttribute(attr, t(el.dataset[data]));
    }
  }
  const title = document.querySelector("title[data-i18n]");
  if (title) document.title = t(title.dataset.i18n);
}

function formatter(options) {
  return new Intl.DateTimeFormat(state.lang, { timeZone: state.tz, hour12: false, ...options });
}

/** Minutes since local midnight in the user's zone (for ticks at round times). */
export function localMinutes(epochS) {
  const parts = formatter({ hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
    .formatToParts(new Date(epochS * 1000));
  const get = (type) => Number((parts.find((p) => p.type === type) || { value: 0 }).value);
  return (get("hour") % 24) * 60 + get("minute");
}

/** "12/03": the day of a date in the user's zone. */
export function formatDay(epochS) {
  return formatter({ month: "2-digit", day: "2-digit" }).format(new Date(epochS * 1000));
}

/** Epoch seconds → date and time in the user's zone. */
export function formatDateTime(epochS) {
  if (epochS === null || epochS === undefined) return "—";
  return formatter({ year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit" }).format(new Date(epochS * 1000));
}

/** Epoch seconds → a short time (HH:MM, with the day when not today). */
export function formatShort(epochS, withDay = false) {
  if (epochS === null || epochS === undefined) return "—";
  const opts = { hour: "2-digit", minute: "2-digit" };
  if (withDay) Object.assign(opts, { month: "2-digit", day: "2-digit" });
  return formatter(opts).format(new Date(epochS * 1000));
}

/** How long ago, e.g. "3 分钟前" / "3 min ago". */
export function formatAge(epochS, nowS = Date.now() / 1000) {
  const s = Math.max(0, Math.round(nowS - epochS));
  if (s < 60) return t("age.seconds", { n: s });
  if (s < 3600) return t("age.minutes", { n: Math.floor(s / 60) });
  if (s < 86400) return t("age.hours", { n: Math.floor(s / 3600) });
  return t("age.days", { n: Math.floor(s / 86400) });
}

function zoneOffsetMs(ms, tz) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat("en-US", { timeZone: tz,
    hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit",
    minute: "2-digit", second: "2-digit" }).formatToParts(new Date(ms)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day),
    Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(ms / 1000) * 1000;
}

/** "2026-01-05T08:30" read as a wall time in the user's zone → epoch seconds (or NaN). */
export function zonedToEpoch(local) {
  const asUtc = Date.parse(`${local}Z`);
  if (Number.isNaN(asUtc)) return NaN;
  const first = asUtc - zoneOffsetMs(asUtc, state.tz);
  return (asUtc - zoneOffsetMs(first, state.tz)) / 1000;
}
