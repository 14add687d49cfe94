// Station KPIs: a station alone, a district's stations side by side, a city's districts
// side by side, each with its total; a period of local days, drill-down by clicking a
// row, and the same table as CSV. Definitions of every figure: docs/kpi.md.

import { api } from "./api.js";
import { h, showError, start } from "./common.js";
import { onChange, t, translate } from "./i18n.js";

const DRILL = { city: "district", district: "station" };
let table = null;

function params() {
  const q = new URLSearchParams(location.search);
  return { level: q.get("level") || "", id: q.get("id") || "", from: q.get("from") || "",
    to: q.get("to") || "" };
}

function url(path, p) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(p)) if (v) q.set(k, v);
  const qs = q.toString();
  return qs ? `${path}?${qs}` : path;
}

function header(c) {
  const label = c.section ? `${t(c.section)}: ${t(c.label)}` : t(c.label);
  if (c.unit === "seconds") return `${label} (${t("kpi.unit_seconds")})`;
  if (c.unit === "ratio") return `${label} (${t("kpi.unit_percent")})`;
  if (c.unit === "score") return `${label} (${t("kpi.unit_score")})`;
  return label;
}

function cell(value, unit) {
  if (value === null || value === undefined) return "–";
  if (unit === "ratio") return (value * 100).toFixed(1);
  if (unit === "seconds") return value.toFixed(1);
  if (unit === "score") return value.toFixed(2);
  return String(value);
}

function rowLink(row) {
  const next = DRILL[table.level];
  if (row.kind === "total" || !next) return row.name;
  return h("a", { href: url("/static/kpi.html", { level: next, id: row.id, from: table.from,
    to: table.to }) }, row.name);
}

function render() {
  if (!table) return;
  document.getElementById("kpi-title").textContent =
    `${t("kpi.title")} · ${t(`kpi.level_${table.level}`)} · ${table.name}`;
  document.getElementById("kpi-tz").textContent = table.timezone;
  const thead = document.querySelector("#kpi-table thead");
  thead.replaceChildren(h("tr", {}, h("th", { scope: "col" }, t("kpi.col_name")),
    table.columns.map((c) => h("th", { scope: "col", dataset: { key: c.key } }, header(c)))));
  const tbody = document.querySelector("#kpi-table tbody");
  tbody.replaceChildren(...table.rows.map((row) =>
    h("tr", { class: `kpi-row kpi-${row.kind}`, dataset: { id: row.id, kind: row.kind } },
      h("th", { scope: "row" }, rowLink(row)),
      table.columns.map((c) => h("td", { dataset: { key: c.key } }, cell(row.values[c.key], c.unit))))));
  const p = { level: table.level, id: table.id, from: table.from, to: table.to };
  document.getElementById("kpi-csv").href = url("/api/kpi/csv", p);
}

async function load() {
  const p = params();
  table = await api("/api/kpi", { query: p });
  document.getElementById("kpi-from").value = table.from;
  document.getElementById("kpi-to").value = table.to;
  const up = document.getElementById("kpi-up");
  up.hidden = !(p.level || p.id);
  up.href = url("/static/kpi.html", { from: table.from, to: table.to });
  render();
}

function choosePeriod(ev) {
  ev.preventDefault();
  const p = { ...params(), from: document.getElementById("kpi-from").value,
    to: document.getElementById("kpi-to").value };
  history.pushState(null, "", url("/static/kpi.html", p));
  load().catch(showError);
}

async function main() {
  const me = await start();
  if (!me) return;
  document.getElementById("kpi").hidden = false;
  translate(document.getElementById("kpi"));
  document.getElementById("kpi-period").addEventListener("submit", choosePeriod);
  window.addEventListener("popstate", () => load().catch(showError));
  onChange(() => {
    translate(document.getElementById("kpi"));
    render();
  });
  await load();
}

main().catch(showError);
