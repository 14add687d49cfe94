// Small building blocks of the admin pages: a table, a form from a field list, and the
// one-time display of device credentials.

import { h, showError } from "./common.js";
import { t } from "./i18n.js";

/** columns: [{key, label (i18n key), render(row) optional}] */
export function table(columns, rows, emptyKey = "admin.empty") {
  if (!rows.length) return h("p", { class: "empty" }, t(emptyKey));
  return h("div", { class: "table-wrap" }, h("table", {},
    h("thead", {}, h("tr", {}, columns.map((c) => h("th", { scope: "col" }, c.label ? t(c.label) : "")))),
    h("tbody", {}, rows.map((row) => h("tr", {}, columns.map((c) => {
      const v = c.render ? c.render(row) : row[c.key];
      return h("td", {}, v === null || v === undefined ? "" : v);
    }))))));
}

/**
 * fields: [{name, label, type: "text"|"number"|"password"|"select"|"textarea"|"checkbox"|
 * "datetime-local", options: [[value, label]], required, value, wide}]
 * onSubmit(values) gets the non-empty values (numbers parsed, checkboxes as booleans).
 */
export function form(id, fields, submitKey, onSubmit) {
  const el = h("form", { id });
  for (const f of fields) {
    let input;
    const attrs = { name: f.name, id: `${id}-${f.name}`, required: f.required || false };
    if (f.type === "select") {
      input = h("select", attrs, (f.options || []).map(([v, label]) => h("option", { value: v }, label)));
    } else if (f.type === "textarea") {
      input = h("textarea", attrs);
    } else {
      input = h("input", { ...attrs, type: f.type || "text", step: f.type === "number" ? "any" : undefined });
    }
    if (f.value !== undefined) {
      if (f.type === "checkbox") input.checked = Boolean(f.value);
      else input.value = f.value;
    }
    const label = h("label", { class: `${f.type === "checkbox" ? "inline" : ""}${f.wide ? " wide" : ""}` },
      h("span", {}, t(f.label)), input);
    el.append(label);
  }
  el.append(h("button", { type: "submit", class: "btn btn-primary", id: `${id}-submit` }, t(submitKey)));
  el.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const values = {};
    for (const f of fields) {
      const input = el.elements.namedItem(f.name);
      if (f.type === "checkbox") values[f.name] = input.checked;
      else if (input.value.trim() === "") continue;
      else if (f.type === "number") values[f.name] = Number(input.value);
      else values[f.name] = input.value.trim();
    }
    const button = el.querySelector("button[type=submit]");
    button.disabled = true;
    for (const bad of el.querySelectorAll("[aria-invalid]")) bad.removeAttribute("aria-invalid");
    for (const note of el.querySelectorAll(".field-error")) note.remove();
    try {
      await onSubmit(values, el);
    } catch (err) {
      showError(err);
      markFields(el, err);
    } finally {
      button.disabled = false;
    }
  });
  return el;
}

/** A validation error names its fields: mark each input and say so next to it. */
function markFields(el, err) {
  if (!err || err.code !== "validation_error" || !Array.isArray(err.details)) return;
  let first = null;
  for (const d of err.details) {
    const name = (d.loc || []).filter((p) => typeof p === "string" && p !== "body").pop();
    const input = name ? el.elements.namedItem(name) : null;
    if (!input || !input.labels || !input.labels.length) continue;
    input.setAttribute("aria-invalid", "true");
    input.labels[0].append(h("span", { class: "field-error", role: "alert" }, t("error.field_invalid")));
    first = first || input;
  }
  if (first) first.focus();
}

/** Credentials are shown once: say so, and offer them for copying. */
export function credentialsBox(list) {
  return h("div", { class: "secret", role: "status", id: "credentials" },
    h("strong", {}, t("admin.credentials_once")),
    h("ul", {}, list.map((c) => h("li", {},
      `${c.device_id}: `, t("admin.username"), " ", h("code", {}, c.username), " ",
      t("admin.password"), " ", h("code", { class: "password" }, c.password)))));
}

export function section(titleKey, ...children) {
  return h("div", { class: "admin-section" }, h("h2", {}, t(titleKey)), ...children);
}
