// Admin tabs of the community services: each station's service catalogue (kind, name,
// duration, price and subsidy, the skills it needs) and its care workers (linked user,
// skills, weekly working hours, phone). Prices are typed in yuan and sent as integer cents
// (fen), as the API keeps money; hours are typed per weekday as "08:00-12:00, 13:00-17:00".

import { api, ApiError } from "./api.js";
import { form, section, table } from "./admin-ui.js";
import { h, showInfo } from "./common.js";
import { t } from "./i18n.js";

const KINDS = ["meal_delivery", "bathing", "checkup", "cleaning", "companionship", "emergency_visit"];
const DAYS = [0, 1, 2, 3, 4, 5, 6];
const SPAN = /^([01]\d|2[0-3]):[0-5]\d\s*[-–~]\s*(([01]\d|2[0-3]):[0-5]\d|24:00)$/;

/** A validation error about one field of a form, marked on its input. */
function refuse(el, name) {
  const input = el.elements.namedItem(name);
  if (input) input.setAttribute("aria-invalid", "true");
  return new ApiError(422, "validation_error", `${name} is not valid`,
    [{ loc: ["body", name.replace(/_\d$/, "")], type: "value_error" }]);
}

/** "12.50" yuan → 1250 cents; refuses anything but a plain amount with at most 2 decimals. */
function cents(el, name, text) {
  const s = String(text ?? "0").trim();
  if (!/^\d{1,7}(\.\d{1,2})?$/.test(s)) throw refuse(el, name);
  return Math.round(Number(s) * 100);
}

const yuan = (c) => (c / 100).toFixed(2);
const skillList = (text) => (text || "").split(/[,，、\s]+/).filter(Boolean);

function hoursText(spans) {
  return (spans || []).map(([a, b]) => `${a}-${b}`).join(", ");
}

/** The seven weekday inputs' text → the API's hours ({"0": [["08:00", "17:00"]], ...}). */
function readHours(el, values) {
  const hours = {};
  for (const d of DAYS) {
    const text = values[`hours_${d}`];
    if (!text) continue;
    hours[String(d)] = text.split(/[,，]/).map((x) => x.trim()).filter(Boolean).map((span) => {
      if (!SPAN.test(span)) throw refuse(el, `hours_${d}`);
      return span.split(/\s*[-–~]\s*/);
    });
  }
  return hours;
}

function hoursSummary(hours) {
  return DAYS.filter((d) => (hours[String(d)] || []).length)
    .map((d) => `${t(`plan.weekday_${d}`)} ${hoursText(hours[String(d)])}`).join("; ");
}

function serviceFields(s, stations) {
  return [
    ...(s ? [] : [{ name: "id", label: "admin.id", required: true },
      { name: "station_id", label: "resident.station", type: "select", options: stations, required: true }]),
    { name: "kind", label: "admin.kind", type: "select", options: KINDS.map((k) => [k, t(`svc_kind.${k}`)]),
      value: s ? s.kind : undefined },
    { name: "name", label: "admin.name", required: true, value: s ? s.name : undefined },
    { name: "duration_min", label: "admin.duration_min", type: "number", required: true,
      value: s ? s.duration_min : 30 },
    { name: "price", label: "admin.price_yuan", value: s ? yuan(s.price_cents) : "0.00" },
    { name: "subsidy", label: "admin.subsidy_yuan", value: s ? yuan(s.subsidy_cents) : "0.00" },
    { name: "skills", label: "admin.skills", value: s ? s.skills.join(", ") : "" },
    { name: "active", label: "admin.active", type: "checkbox", value: s ? s.active : true },
  ];
}

function serviceBody(v, el) {
  const { price, subsidy, skills, ...rest } = v;
  return { ...rest, price_cents: cents(el, "price", price), subsidy_cents: cents(el, "subsidy", subsidy),
    skills: skillList(skills) };
}

/** The services tab: the catalogues the caller sees; add and edit when they may. */
export async function servicesTab({ may, show, stationOptions }) {
  const rows = await api("/api/services");
  const edit = h("div", { id: "service-edit" });
  const editing = (s) => {
    const f = form("service-edit-form", serviceFields(s), "admin.save", async (v, el) => {
      await api(`/api/services/${encodeURIComponent(s.id)}`, { method: "PATCH", body: serviceBody(v, el) });
      await show("services");
      showInfo(t("admin.saved_service", { name: v.name || s.name }));
    });
    edit.replaceChildren(section("admin.edit_service", h("p", { class: "muted" }, s.id), f));
    f.elements.namedItem("name").focus();
  };
  const parts = [section("admin.services", table([
    { key: "id", label: "admin.id" }, { key: "station_id", label: "resident.station" },
    { key: "kind", label: "admin.kind", render: (s) => t(`svc_kind.${s.kind}`) },
    { key: "name", label: "admin.name" }, { key: "duration_min", label: "admin.duration_min" },
    { key: "price_cents", label: "admin.price_yuan", render: (s) => yuan(s.price_cents) },
    { key: "subsidy_cents", label: "admin.subsidy_yuan", render: (s) => yuan(s.subsidy_cents) },
    { key: "skills", label: "admin.skills", render: (s) => s.skills.join(", ") },
    { key: "active", label: "admin.active", render: (s) => (s.active ? "✓" : t("admin.withdrawn")) },
    ...(may("services.write") ? [{ key: "edit", label: "", render: (s) => {
      const b = h("button", { type: "button", class: "btn", dataset: { editService: s.id } }, t("admin.edit"));
      b.addEventListener("click", () => editing(s));
      return b;
    } }] : []),
  ], rows)), edit];
  if (may("services.write")) {
    parts.push(section("admin.add_service", form("service-form", serviceFields(null, await stationOptions()),
      "admin.create", async (v, el) => {
        await api("/api/services", { method: "POST", body: serviceBody(v, el) });
        await show("services");
        showInfo(t("admin.saved_service", { name: v.name }));
      })));
  }
  return parts;
}

async function userOptions(may) {
  if (!may("users.read")) return null;
  const users = await api("/api/users");
  return [["", t("admin.no_user")], ...users
    .filter((u) => u.role === "station_staff" || u.role === "station_supervisor")
    .map((u) => [u.id, `${u.name} (${u.id})`])];
}

function workerFields(w, stations, users) {
  const hours = w ? w.hours : {};
  return [
    ...(w ? [] : [{ name: "id", label: "admin.id", required: true },
      { name: "station_id", label: "resident.station", type: "select", options: stations, required: true }]),
    { name: "name", label: "admin.name", required: true, value: w ? w.name : undefined },
    users ? { name: "user_id", label: "admin.linked_user", type: "select", options: users,
      value: w ? w.user_id || "" : "" } : { name: "user_id", label: "admin.linked_user", value: w ? w.user_id || "" : "" },
    { name: "phone", label: "admin.phone", value: w ? w.phone || "" : "" },
    { name: "skills", label: "admin.skills", value: w ? w.skills.join(", ") : "" },
    ...DAYS.map((d) => ({ name: `hours_${d}`, label: `plan.weekday_${d}`, value: hoursText(hours[String(d)]) })),
    { name: "active", label: "admin.active", type: "checkbox", value: w ? w.active : true },
  ];
}

function workerBody(v, el) {
  const body = { hours: readHours(el, v), skills: skillList(v.skills), user_id: v.user_id || null };
  for (const k of ["id", "station_id", "name", "phone", "active"]) if (k in v) body[k] = v[k];
  return body;
}

/** The care workers tab: who works for which station, when, and who acts as them. */
export async function workersTab({ may, show, stationOptions }) {
  const rows = await api("/api/workers");
  const users = may("workers.write") ? await userOptions(may) : null;
  const edit = h("div", { id: "worker-edit" });
  const editing = (w) => {
    const f = form("worker-edit-form", workerFields(w, null, users), "admin.save", async (v, el) => {
      await api(`/api/workers/${encodeURIComponent(w.id)}`, { method: "PATCH", body: workerBody(v, el) });
      await show("workers");
      showInfo(t("admin.saved_worker", { name: v.name || w.name }));
    });
    edit.replaceChildren(section("admin.edit_worker", h("p", { class: "muted" }, w.id), f));
    f.elements.namedItem("name").focus();
  };
  const parts = [section("admin.workers", table([
    { key: "id", label: "admin.id" }, { key: "station_id", label: "resident.station" },
    { key: "name", label: "admin.name" }, { key: "user_id", label: "admin.linked_user" },
    { key: "phone", label: "admin.phone" },
    { key: "skills", label: "admin.skills", render: (w) => w.skills.join(", ") },
    { key: "hours", label: "admin.hours", render: (w) => hoursSummary(w.hours) },
    { key: "active", label: "admin.active", render: (w) => (w.active ? "✓" : "") },
    ...(may("workers.write") ? [{ key: "edit", label: "", render: (w) => {
      const b = h("button", { type: "button", class: "btn", dataset: { editWorker: w.id } }, t("admin.edit"));
      b.addEventListener("click", () => editing(w));
      return b;
    } }] : []),
  ], rows)), edit];
  if (may("workers.write")) {
    parts.push(section("admin.add_worker", h("p", { class: "muted" }, t("admin.hours_help")),
      form("worker-form", workerFields(null, await stationOptions(), users), "admin.create", async (v, el) => {
        await api("/api/workers", { method: "POST", body: workerBody(v, el) });
        await show("workers");
        showInfo(t("admin.saved_worker", { name: v.name }));
      })));
  }
  return parts;
}
