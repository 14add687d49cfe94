// Admin pages (admin.html): stations, residents, devices (provisioning that shows the
// credentials once; devices seen on the broker but not provisioned, to claim), users,
// escalation policies, silences, CSV import, and the services' catalogue and care workers
// (admin-services.js). What a tab offers follows /api/me's "may".

import { api } from "./api.js";
import { servicesTab, workersTab } from "./admin-services.js";
import { credentialsBox, form, section, table } from "./admin-ui.js";
import { clearMessage, h, kindLabel, mayAdmin, showError, showInfo, start, statusLabel } from "./common.js";
import { formatDateTime, onChange, t, tOr, zonedToEpoch } from "./i18n.js";
import { keepSession } from "./session.js";
import { stationAlarm } from "./station-alarm.js";
import { connectLive } from "./ws.js";

const DEVICE_KINDS = ["wearable", "pendant", "gateway", "motion", "door", "bed", "toilet", "smoke",
  "gas", "water", "env", "bp_monitor", "glucose_meter"];
const ROLES = ["city_admin", "district_admin", "station_supervisor", "station_staff", "family", "vendor"];
let me = null;
let current = "stations";
const panel = () => document.getElementById("panel");
const may = (action) => me.may.includes(action);

async function stationOptions() {
  const rows = await api("/api/stations");
  return rows.map((s) => [s.id, `${s.name} (${s.id})`]);
}

async function stations() {
  const rows = await api("/api/stations");
  const parts = [section("admin.stations", table([
    { key: "id", label: "admin.id" }, { key: "name", label: "admin.name" },
    { key: "district_id", label: "admin.district" }, { key: "address", label: "resident.address" },
    { key: "timezone", label: "admin.timezone" }], rows))];
  if (may("stations.write")) {
    parts.push(section("admin.add_station", form("station-form", [
      { name: "id", label: "admin.id", required: true },
      { name: "district_id", label: "admin.district", required: true },
      { name: "name", label: "admin.name", required: true },
      { name: "address", label: "resident.address" },
      { name: "timezone", label: "admin.timezone", value: "Asia/Shanghai" },
    ], "admin.create", async (v) => {
      await api("/api/stations", { method: "POST", body: v });
      await show("stations");
    })));
  }
  return parts;
}

const STATUSES = ["home", "away", "hospital", "inactive"];

/** Edit one resident in place of the table's edit button: name, address, station, status. */
async function editResident(r) {
  const box = document.getElementById("resident-edit");
  const f = form("resident-edit-form", [
    { name: "name", label: "admin.name", required: true, value: r.name },
    { name: "station_id", label: "resident.station", type: "select", options: await stationOptions(),
      value: r.station_id },
    { name: "status", label: "admin.status", type: "select", options: STATUSES.map((s) => [s, statusLabel(s)]),
      value: r.status },
    { name: "address", label: "resident.address", value: r.address || "" },
    { name: "lat", label: "admin.lat", type: "number", value: r.lat ?? "" },
    { name: "lon", label: "admin.lon", type: "number", value: r.lon ?? "" },
    { name: "birth_year", label: "admin.birth_year", type: "number", value: r.birth_year ?? "" },
  ], "admin.save", async (v) => {
    await api(`/api/residents/${encodeURIComponent(r.id)}`, { method: "PATCH", body: v });
    await show("residents");
    showInfo(t("admin.saved_resident", { name: v.name || r.name }));
  });
  box.replaceChildren(section("admin.edit_resident", h("p", { class: "muted" }, r.id), f));
  f.elements.namedItem("name").focus();
}

async function residents() {
  const page = await api("/api/residents", { query: { limit: 500 } });
  const parts = [section("admin.residents", table([
    { key: "id", label: "admin.id" },
    { key: "name", label: "admin.name", render: (r) => h("a", { href: `/static/resident.html?id=${encodeURIComponent(r.id)}` }, r.name) },
    { key: "station_id", label: "resident.station" },
    { key: "status", label: "admin.status", render: (r) => statusLabel(r.status) },
    { key: "address", label: "resident.address" },
    { key: "devices", label: "resident.devices", render: (r) => (r.devices || []).map((d) => d.id).join(", ") },
    ...(may("residents.write") ? [{ key: "edit", label: "", render: (r) => {
      const b = h("button", { type: "button", class: "btn", dataset: { edit: r.id } }, t("admin.edit"));
      b.addEventListener("click", () => editResident(r));
      return b;
    } }] : []),
  ], page.items)), h("div", { id: "resident-edit" })];
  if (may("residents.write")) {
    parts.push(section("admin.add_resident", form("resident-form", [
      { name: "id", label: "admin.id", required: true },
      { name: "station_id", label: "resident.station", type: "select", options: await stationOptions(), required: true },
      { name: "name", label: "admin.name", required: true },
      { name: "address", label: "resident.address" },
      { name: "lat", label: "admin.lat", type: "number" },
      { name: "lon", label: "admin.lon", type: "number" },
      { name: "birth_year", label: "admin.birth_year", type: "number" },
    ], "admin.create", async (v) => {
      await api("/api/residents", { method: "POST", body: v });
      await show("residents");
    })));
  }
  return parts;
}

const DEVICE_PAGE = 50;

/** The device table: searchable (id, resident, kind, vendor) and paginated by the API. */
function deviceTable() {
  const box = h("div", { id: "device-table" });
  const search = h("input", { type: "search", id: "device-search", placeholder: t("admin.device_search"),
    "aria-label": t("admin.device_search") });
  const pager = h("div", { class: "pager" });
  let offset = 0;
  let pending = null;
  async function load() {
    const page = await api("/api/devices", { query: { q: search.value.trim(), limit: DEVICE_PAGE, offset } });
    box.replaceChildren(table([
      { key: "id", label: "admin.id" },
      { key: "kind", label: "admin.kind", render: (d) => tOr(`kind_device.${d.kind}`, d.kind) },
      { key: "vendor", label: "admin.vendor" }, { key: "resident_id", label: "admin.resident" },
      { key: "online", label: "admin.online", render: (d) => t(`device.${d.online === true ? "online" : d.online === false ? "offline" : "unknown"}`) },
      { key: "battery", label: "tile.battery", render: (d) => (d.battery != null ? `${Math.round(d.battery)}%` : "") },
      { key: "last_seen_at", label: "admin.last_seen", render: (d) => (d.last_seen_at ? formatDateTime(d.last_seen_at) : "") },
    ], page.items));
    const prev = h("button", { type: "button", class: "btn", id: "device-prev", disabled: offset === 0 }, t("admin.prev"));
    const next = h("button", { type: "button", class: "btn", id: "device-next", disabled: page.next_offset == null },
      t("admin.next"));
    prev.addEventListener("click", () => { offset = Math.max(0, offset - DEVICE_PAGE); load().catch(showError); });
    next.addEventListener("click", () => { offset = page.next_offset; load().catch(showError); });
    pager.replaceChildren(prev, h("span", { id: "device-range" }, page.items.length
      ? t("admin.range", { from: offset + 1, to: offset + page.items.length }) : ""), next);
  }
  search.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(() => { offset = 0; load().catch(showError); }, 250);
  });
  return { el: h("div", {}, search, box, pager), load };
}

async function devices() {
  const listing = deviceTable();
  await listing.load();
  const parts = [section("admin.devices", listing.el)];
  if (!may("devices.write")) return parts;
  const out = h("div", { id: "provision-result" });
  const provision = form("device-form", [
    { name: "id", label: "admin.id", required: true },
    { name: "kind", label: "admin.kind", type: "select", options: DEVICE_KINDS.map((k) => [k, tOr(`kind_device.${k}`, k)]) },
    { name: "vendor", label: "admin.vendor" }, { name: "model", label: "admin.model" },
    { name: "resident_id", label: "admin.resident" }, { name: "gateway_id", label: "admin.gateway" },
    { name: "interval_s", label: "admin.interval", type: "number" },
  ], "admin.provision", async (v) => {
    const res = await api("/api/devices", { method: "POST", body: v });
    out.replaceChildren(credentialsBox([res.credentials]));
  });
  const unprovisioned = await api("/api/devices/unprovisioned");
  parts.push(section("admin.unprovisioned", table([
    { key: "device_id", label: "admin.id" }, { key: "last_topic", label: "admin.topic" },
    { key: "count", label: "admin.count" },
    { key: "last_seen", label: "admin.last_seen", render: (u) => formatDateTime(u.last_seen) },
    { key: "claim", label: "", render: (u) => {
      const b = h("button", { type: "button", class: "btn", dataset: { claim: u.device_id } }, t("admin.claim"));
      b.addEventListener("click", () => {
        provision.elements.namedItem("id").value = u.device_id;
        if (u.gateway_id) provision.elements.namedItem("gateway_id").value = u.gateway_id;
        provision.elements.namedItem("kind").focus();
      });
      return b;
    } }], unprovisioned, "admin.none_unprovisioned")));
  parts.push(section("admin.provision_title", provision, out));
  return parts;
}

/** Edit one user: rename, relink (family), disable, set a new password. */
function editUser(u) {
  const box = document.getElementById("user-edit");
  const fields = [
    { name: "name", label: "admin.name", required: true, value: u.name },
    { name: "disabled", label: "admin.disabled", type: "checkbox", value: u.disabled },
    { name: "password", label: "admin.new_password", type: "password" },
  ];
  if (u.role === "family") fields.push({ name: "resident_ids", label: "admin.residents", value: u.resident_ids.join(", ") });
  const f = form("user-edit-form", fields, "admin.save", async (v) => {
    const body = { ...v };
    if ("resident_ids" in body) body.resident_ids = body.resident_ids.split(/[,\s]+/).filter(Boolean);
    await api(`/api/users/${encodeURIComponent(u.id)}`, { method: "PATCH", body });
    await show("users");
    showInfo(t("admin.saved_user", { name: v.name || u.name }));
  });
  box.replaceChildren(section("admin.edit_user", h("p", { class: "muted" }, `${u.id} · ${tOr(`role.${u.role}`, u.role)}`), f));
  f.elements.namedItem("name").focus();
}

async function users() {
  const rows = await api("/api/users");
  const parts = [section("admin.users", table([
    { key: "id", label: "admin.id" }, { key: "name", label: "admin.name" },
    { key: "role", label: "admin.role", render: (u) => tOr(`role.${u.role}`, u.role) },
    { key: "scope_id", label: "admin.scope" },
    { key: "resident_ids", label: "admin.residents", render: (u) => u.resident_ids.join(", ") },
    { key: "disabled", label: "admin.disabled", render: (u) => (u.disabled ? "✕" : "") },
    ...(may("users.write") ? [{ key: "edit", label: "", render: (u) => {
      const b = h("button", { type: "button", class: "btn", dataset: { editUser: u.id } }, t("admin.edit"));
      b.addEventListener("click", () => editUser(u));
      return b;
    } }] : []),
  ], rows)), h("div", { id: "user-edit" })];
  if (may("users.write")) {
    parts.push(section("admin.add_user", form("user-form", [
      { name: "id", label: "admin.id", required: true }, { name: "name", label: "admin.name", required: true },
      { name: "role", label: "admin.role", type: "select", options: ROLES.map((r) => [r, tOr(`role.${r}`, r)]) },
      { name: "password", label: "login.password", type: "password", required: true },
      { name: "scope_id", label: "admin.scope" },
      { name: "resident_ids", label: "admin.residents" },
    ], "admin.create", async (v) => {
      const body = { ...v, resident_ids: (v.resident_ids || "").split(/[,\s]+/).filter(Boolean) };
      await api("/api/users", { method: "POST", body });
      await show("users");
    })));
  }
  return parts;
}

const PRIORITIES = ["high", "medium", "low"];

/** A role or the family, as people call them ("supervisor" → 站长). */
function targetLabel(name) {
  return tOr(`target.${name}`, name);
}

/** One priority's plan as a form: steps (after N minutes, tell these), and repeats. */
function planForm(priority, plan, targets) {
  const steps = h("tbody", {});
  const addRow = (step = { after_s: 0, notify: [] }) => {
    const minutes = h("input", { type: "number", min: 0, step: "any", class: "step-after",
      value: String(step.after_s / 60), "aria-label": t("policy.after_min") });
    const boxes = targets.map((name) => h("label", { class: "inline" },
      h("input", { type: "checkbox", value: name, class: "step-target", checked: step.notify.includes(name) }),
      h("span", {}, targetLabel(name))));
    const remove = h("button", { type: "button", class: "btn btn-plain-dark" }, t("policy.remove_step"));
    const row = h("tr", { class: "step" }, h("td", {}, minutes), h("td", { class: "targets" }, boxes), h("td", {}, remove));
    remove.addEventListener("click", () => row.remove());
    steps.append(row);
  };
  for (const step of plan.steps || []) addRow(step);
  const add = h("button", { type: "button", class: "btn", dataset: { addStep: priority } }, t("policy.add_step"));
  add.addEventListener("click", () => addRow());
  const repeat = h("input", { type: "number", min: 0.5, step: "any", class: "plan-repeat",
    value: plan.repeat_every_s ? String(plan.repeat_every_s / 60) : "", "aria-label": t("policy.repeat_min") });
  const maxRepeats = h("input", { type: "number", min: 0, step: 1, class: "plan-max",
    value: String(plan.max_repeats ?? 10), "aria-label": t("policy.max_repeats") });
  const box = h("fieldset", { class: "plan", dataset: { priority } },
    h("legend", {}, t(`priority.${priority}`)),
    h("table", {}, h("thead", {}, h("tr", {}, h("th", {}, t("policy.after_min")), h("th", {}, t("policy.notify")), h("th", {}))), steps),
    add,
    h("div", { class: "row" }, h("label", {}, h("span", {}, t("policy.repeat_min")), repeat),
      h("label", {}, h("span", {}, t("policy.max_repeats")), maxRepeats)));
  box.read = () => ({
    steps: [...steps.querySelectorAll("tr.step")].map((tr) => ({
      after_s: Math.round(Number(tr.querySelector(".step-after").value || 0) * 60),
      notify: [...tr.querySelectorAll(".step-target:checked")].map((c) => c.value),
    })),
    repeat_every_s: repeat.value ? Math.round(Number(repeat.value) * 60) : null,
    max_repeats: Number(maxRepeats.value || 0),
  });
  return box;
}

async function policies() {
  const options = await stationOptions();
  const box = h("div", {});
  const load = async (sid) => {
    const res = await api(`/api/stations/${encodeURIComponent(sid)}/policy`);
    const policy = res.policy || {};
    const roles = policy.roles || {};
    const targets = [...new Set([...Object.keys(roles), "family"])];
    const plans = PRIORITIES.map((p) => planForm(p, policy[p] || {}, targets));
    // where each role is told: channel addresses (apprise URLs, signed webhooks), one a line
    const channels = Object.keys(roles).map((role) => h("label", { class: "wide" },
      h("span", {}, t("policy.channels", { role: targetLabel(role) })),
      h("textarea", { class: "role-channels", dataset: { role }, rows: 2 }, (roles[role] || []).join("\n"))));
    const save = h("button", { type: "button", class: "btn btn-primary", id: "policy-save" }, t("admin.save"));
    save.addEventListener("click", async () => {
      const body = { ...policy, roles: {} };
      for (const area of box.querySelectorAll(".role-channels")) {
        body.roles[area.dataset.role] = area.value.split("\n").map((x) => x.trim()).filter(Boolean);
      }
      for (const [i, p] of PRIORITIES.entries()) body[p] = plans[i].read();
      try {
        await api(`/api/stations/${encodeURIComponent(sid)}/policy`, { method: "PUT", body });
        showInfo(t("admin.saved"));
      } catch (err) {
        showError(err);
      }
    });
    box.replaceChildren(h("p", { class: "muted" }, t(res.default ? "admin.policy_default" : "admin.policy_custom")),
      h("div", { id: "policy-form", class: "policy" }, plans, channels.length ? h("div", { class: "channels" }, channels) : null),
      may("policies.write") ? save : null);
  };
  const select = h("select", { id: "policy-station", "aria-label": t("resident.station") },
    options.map(([v, label]) => h("option", { value: v }, label)));
  select.addEventListener("change", () => load(select.value).catch(showError));
  if (options.length) await load(options[0][0]);
  return [section("admin.policies", h("p", { class: "muted" }, t("admin.policy_help")), select, box)];
}

async function silences() {
  const rows = await api("/api/silences", { query: { active: false } });
  const parts = [section("admin.silences", table([
    { key: "reason", label: "admin.reason" },
    { key: "start", label: "admin.start", render: (s) => formatDateTime(s.start) },
    { key: "end", label: "admin.end", render: (s) => formatDateTime(s.end) },
    { key: "what", label: "admin.what", render: (s) => [s.station_id, s.resident_id, s.device_id,
      s.kind ? kindLabel(s.kind) : null].filter(Boolean).join(" / ") },
    { key: "author", label: "admin.author" },
    { key: "cancel", label: "", render: (s) => {
      if (!may("silences.write")) return "";
      const b = h("button", { type: "button", class: "btn btn-danger" }, t("admin.cancel_silence"));
      b.addEventListener("click", async () => {
        await api(`/api/silences/${encodeURIComponent(s.id)}`, { method: "DELETE" });
        await show("silences");
      });
      return b;
    } }], rows))];
  if (may("silences.write")) {
    parts.push(section("admin.add_silence", form("silence-form", [
      { name: "reason", label: "admin.reason", required: true },
      { name: "end", label: "admin.end", type: "datetime-local", required: true },
      { name: "station_id", label: "resident.station" }, { name: "resident_id", label: "admin.resident" },
      { name: "device_id", label: "admin.device" }, { name: "kind", label: "admin.kind" },
      { name: "technical_only", label: "admin.technical_only", type: "checkbox" },
    ], "admin.create", async (v) => {
      const end = zonedToEpoch(v.end);
      if (!Number.isFinite(end)) {
        showError(t("admin.bad_time"));
        return;
      }
      await api("/api/silences", { method: "POST", body: { ...v, end } });
      await show("silences");
    })));
  }
  return parts;
}

async function importCsv() {
  const out = h("div", { id: "import-result" });
  const f = form("import-form", [
    { name: "station_id", label: "resident.station", type: "select", options: await stationOptions(), required: true },
    { name: "what", label: "admin.import_what", type: "select", options: [["residents", t("admin.residents")], ["devices", t("admin.devices")]] },
    { name: "csv", label: "admin.csv", type: "textarea", required: true, wide: true },
  ], "admin.import_run", async (v) => {
    const path = v.what === "devices" ? "/api/devices/import" : "/api/residents/import";
    const res = await api(path, { method: "POST", body: { station_id: v.station_id, csv: v.csv } });
    out.replaceChildren(res.credentials ? credentialsBox(res.credentials)
      : h("p", { role: "status" }, t("admin.imported", { n: res.imported })));
  });
  const file = h("input", { type: "file", accept: ".csv,text/csv", "aria-label": t("admin.csv_file") });
  file.addEventListener("change", async () => {
    if (file.files[0]) f.elements.namedItem("csv").value = await file.files[0].text();
  });
  // the column names are part of the file format, so they are shown as code, untranslated
  const columns = (label, required, optional) => h("p", { class: "muted" }, `${t(label)}${t("punct.colon")}`,
    h("code", {}, required), ` ${t("admin.import_optional")} `, h("code", {}, optional));
  return [section("admin.import", h("p", { class: "muted" }, t("admin.import_help")),
    columns("admin.residents", "id,name", "address,lat,lon,birth_year,status,contact_name,contact_relation,contact_phone"),
    columns("admin.devices", "id,kind", "vendor,model,resident_id,gateway_id,interval_s"),
    h("label", {}, h("span", {}, t("admin.csv_file")), file), f, out)];
}

const services = () => servicesTab({ may, show, stationOptions });
const workers = () => workersTab({ may, show, stationOptions });
const TABS = { stations, residents, devices, users, policies, silences, import: importCsv, services, workers };

async function show(name) {
  current = name;
  clearMessage();
  for (const b of document.querySelectorAll("[data-tab]")) {
    b.setAttribute("aria-selected", String(b.dataset.tab === name));
  }
  try {
    panel().replaceChildren(...(await TABS[name]()));
  } catch (err) {
    showError(err);
  }
}

async function main() {
  me = await start();
  if (!me) return;
  if (!mayAdmin(me)) {
    // a family member (or anyone without an admin task) has nothing to do here
    location.replace(me.user.role === "family" ? "/static/family.html" : "/static/index.html");
    return;
  }
  document.getElementById("admin").hidden = false;
  const allowed = { users: "users.read", devices: "devices.read", policies: "policies.read",
    silences: "silences.read", services: "services.read", workers: "workers.read" };
  for (const b of document.querySelectorAll("[data-tab]")) {
    const need = allowed[b.dataset.tab];
    if (need && !may(need)) b.hidden = true;
    if (b.dataset.tab === "import" && !may("residents.write")) b.hidden = true;
    b.addEventListener("click", () => show(b.dataset.tab));
  }
  const wanted = location.hash.slice(1);
  await show(TABS[wanted] ? wanted : "stations");
  onChange(() => show(current));
  if (me.may.includes("alerts.act")) {
    // staff editing the registry still hear an unacknowledged high-priority alert
    const alarm = stationAlarm();
    let session = null;
    const live = connectLive({ onSnapshot: alarm.onSnapshot, onEvent: alarm.onEvent,
      onStatus: alarm.onStatus, onUnauthenticated: () => session.ended() });
    session = keepSession(me, {
      onEnded: () => alarm.alarm.setTechnical(true),
      onBack: () => {
        alarm.alarm.setTechnical(false);
        live.resume();
      },
    });
  } else {
    keepSession(me);
  }
}

main().catch(showError);
