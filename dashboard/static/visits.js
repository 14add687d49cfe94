// The station's visits page (探访): overdue visit and follow-up tasks first, then today's,
// each with its record form — how the elder is (mood, mobility, living conditions from
// fixed lists), the needs found, notes and an optional photo reference. Recording a visit
// completes its task and clears its overdue alert on the console. Supervisors and admins
// also set residents' visit plans here (visit-plan-form.js).

import { api } from "./api.js";
import { h, showError, showInfo, start } from "./common.js";
import { onChange, t, timezone } from "./i18n.js";
import { planForm } from "./visit-plan-form.js";

export const MOODS = ["good", "fair", "low", "distressed"];
export const MOBILITY = ["walks_alone", "walks_with_aid", "needs_help", "bedridden"];
export const LIVING = ["good", "adequate", "poor", "unsafe"];
export const NEEDS = ["meals", "cleaning", "bathing", "medical", "medication", "repair",
  "companionship", "financial", "other"];

function today() {
  // today's calendar date in the user's zone, as YYYY-MM-DD (the API compares local dates)
  return new Intl.DateTimeFormat("en-CA", { timeZone: timezone(), year: "numeric",
    month: "2-digit", day: "2-digit" }).format(new Date());
}

function select(name, values, prefix) {
  return h("label", {}, h("span", {}, t(`visit.${name}`)),
    h("select", { name, required: true },
      h("option", { value: "" }, t("visit.choose")),
      values.map((v) => h("option", { value: v }, t(`${prefix}.${v}`)))));
}

function recordForm(task, done) {
  const form = h("form", { class: "visit-form", dataset: { taskId: task.id } },
    select("mood", MOODS, "mood"),
    select("mobility", MOBILITY, "mobility"),
    select("living", LIVING, "living"),
    h("fieldset", {}, h("legend", {}, t("visit.needs")),
      NEEDS.map((n) => h("label", {}, h("input", { type: "checkbox", name: "needs", value: n }),
        t(`need.${n}`)))),
    h("label", { class: "wide" }, h("span", {}, t("visit.notes")),
      h("textarea", { name: "notes", maxlength: 2000 })),
    h("label", { class: "wide" }, h("span", {}, t("visit.photo_ref")),
      h("input", { name: "photo_ref", maxlength: 500, placeholder: t("visit.photo_hint") })),
    h("div", { class: "buttons" },
      h("button", { type: "submit", class: "btn btn-primary" }, t("visit.save")),
      h("button", { type: "button", class: "btn", onclick: () => form.remove() }, t("visit.cancel"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    const body = { mood: data.get("mood"), mobility: data.get("mobility"),
      living: data.get("living"), needs: data.getAll("needs"), notes: data.get("notes") || "" };
    if (data.get("photo_ref")) body.photo_ref = data.get("photo_ref");
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    try {
      await api(`/api/visits/${encodeURIComponent(task.id)}/record`, { method: "POST", body });
      showInfo(t("visit.recorded"));
      await done();
    } catch (err) {
      showError(err);
      button.disabled = false;
    }
  });
  return form;
}

function taskItem(task, overdue, refresh) {
  const li = h("li", { class: "visit", dataset: { taskId: task.id, overdue: String(overdue) } });
  const open = h("button", { type: "button", class: "btn btn-primary btn-record" }, t("visit.record"));
  open.addEventListener("click", () => {
    if (!li.querySelector("form")) li.append(recordForm(task, refresh));
  });
  li.append(h("div", { class: "visit-head" },
    h("span", { class: "visit-name" }, task.resident_name),
    h("span", { class: "visit-kind" }, t(`visit.origin_${task.origin}`)),
    h("span", { class: "visit-due" }, t("visit.due", { date: task.due_on })),
    open));
  return li;
}

async function render() {
  const [overdue, due] = await Promise.all([
    api("/api/visits", { query: { state: "overdue", limit: 500 } }),
    api("/api/visits", { query: { state: "open", due_until: today(), limit: 500 } }),
  ]);
  const late = new Set(overdue.items.map((v) => v.id));
  const todays = due.items.filter((v) => !late.has(v.id));
  const refresh = () => render().catch(showError);
  document.getElementById("overdue-list").replaceChildren(
    ...overdue.items.map((v) => taskItem(v, true, refresh)));
  document.getElementById("overdue-empty").hidden = overdue.items.length > 0;
  document.getElementById("today-list").replaceChildren(...todays.map((v) => taskItem(v, false, refresh)));
  document.getElementById("today-empty").hidden = todays.length > 0;
}

async function main() {
  const me = await start();
  if (!me) return;
  document.getElementById("visits").hidden = false;
  const plans = document.getElementById("plans");
  const showPlans = async () => {
    if (me.may.includes("visits.plan")) {
      plans.hidden = false;
      document.getElementById("plan-slot").replaceChildren(await planForm(render));
    }
  };
  await Promise.all([render(), showPlans()]);
  onChange(() => Promise.all([render(), showPlans()]).catch(showError));
}

main().catch(showError);
