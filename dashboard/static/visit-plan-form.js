// The visit plan form of the visits page (supervisors and admins): a resident of the
// station, the cadence (or "by risk", derived from living alone, left-behind elder and the
// risk level), the preferred weekday and how many days late a visit may be.

import { api } from "./api.js";
import { h, showError, showInfo } from "./common.js";
import { t } from "./i18n.js";

const CADENCES = ["by_risk", "weekly", "fortnightly", "monthly"];
const RISKS = ["low", "medium", "high"];

function field(label, control) {
  return h("label", {}, h("span", {}, t(label)), control);
}

/** The form; ``done`` runs after a plan was saved (the new tasks are listed). */
export async function planForm(done) {
  const residents = await api("/api/residents", { query: { limit: 500 } });
  const who = h("select", { name: "resident" },
    residents.items.map((r) => h("option", { value: r.id }, `${r.name} (${r.id})`)));
  const cadence = h("select", { name: "cadence" },
    CADENCES.map((c) => h("option", { value: c }, t(`plan.cadence_${c}`))));
  const weekday = h("select", { name: "weekday" }, h("option", { value: "" }, t("plan.any_day")),
    [0, 1, 2, 3, 4, 5, 6].map((d) => h("option", { value: String(d) }, t(`plan.weekday_${d}`))));
  const windowDays = h("input", { name: "window_days", type: "number", min: 0, max: 14, value: 2 });
  const risk = h("select", { name: "risk_level" },
    RISKS.map((r) => h("option", { value: r }, t(`plan.risk_${r}`))));
  const alone = h("input", { type: "checkbox", name: "living_alone" });
  const behind = h("input", { type: "checkbox", name: "left_behind" });
  const form = h("form", { class: "visit-form", id: "plan-form" },
    field("plan.resident", who), field("plan.cadence", cadence), field("plan.weekday", weekday),
    field("plan.window_days", windowDays), field("plan.risk", risk),
    h("fieldset", {}, h("legend", {}, t("plan.profile")),
      h("label", {}, alone, t("plan.living_alone")), h("label", {}, behind, t("plan.left_behind"))),
    h("div", { class: "buttons" }, h("button", { type: "submit", class: "btn btn-primary" }, t("plan.save"))));
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const body = { cadence: cadence.value, window_days: Number(windowDays.value),
      weekday: weekday.value === "" ? null : Number(weekday.value), risk_level: risk.value,
      living_alone: alone.checked, left_behind: behind.checked };
    try {
      await api(`/api/residents/${encodeURIComponent(who.value)}/visit-plan`, { method: "PUT", body });
      showInfo(t("plan.saved"));
      await done();
    } catch (err) {
      showError(err);
    }
  });
  return form;
}
