// Acting on an alert from a card or a queue row: the API call, and the forms that need
// more than a click — resolving (an outcome, an optional note, and a confirmation for an
// SOS or a fall nobody acknowledged), assigning and commenting. Shared by the console's
// queue rows and the cards of the resident detail.

import { api } from "./api.js";
import { OUTCOMES, h, kindLabel, outcomeLabel, showError } from "./common.js";
import { t } from "./i18n.js";

/** A user id as people read it ("user:li" → "li"). */
export function who(actor) {
  return actor ? actor.replace(/^user:/, "") : "";
}

/** Who is handling the alert, and how far: repeats, acknowledged by, assigned to, the
 * command to the device, who is going over, suppression. Cards and queue rows show them
 * alike. */
export function handlingFacts(alert, going) {
  const facts = [];
  if (alert.count > 1) facts.push(h("span", { class: "fact" }, t("alert.repeats", { n: alert.count })));
  if (alert.acked_by) facts.push(h("span", { class: "fact" }, t("alert.acked_by", { who: who(alert.acked_by) })));
  if (alert.assigned_to) facts.push(h("span", { class: "fact" }, t("alert.assigned_to", { who: who(alert.assigned_to) })));
  if (alert.command_status) {
    facts.push(h("span", { class: "fact fact-command", dataset: { command: alert.command_status } },
      t("alert.command", { status: t(`command.${alert.command_status}`) })));
  }
  if (going) facts.push(h("span", { class: "fact fact-going" }, t("alert.going", { who: going })));
  if (alert.suppressed) facts.push(h("span", { class: "fact" }, t("alert.suppressed")));
  return facts;
}

/** POST an action on an alert; returns the updated alert (or null after an error). */
export async function act(alertId, action, body = {}) {
  try {
    return await api(`/api/alerts/${encodeURIComponent(alertId)}/${action}`, {
      method: "POST", body,
    });
  } catch (err) {
    showError(err);
    return null;
  }
}

export function button(label, attrs, onClick) {
  const btn = h("button", { type: "button", ...attrs }, label);
  btn.addEventListener("click", async () => {
    btn.disabled = true;
    try {
      await onClick();
    } finally {
      btn.disabled = false;
    }
  });
  return btn;
}

const CONFIRM_UNACKED = new Set(["sos", "fall"]);

/** Resolving: an outcome (required), an optional note, and for an SOS or a fall nobody
 * acknowledged, a confirmation first. */
export function resolveForm(alert, done) {
  const id = alert.id;
  const outcome = h("select", { class: "resolve-outcome", name: "outcome", "aria-label": t("resolve.outcome"),
    dataset: { focusKey: `outcome:${id}` } },
  h("option", { value: "" }, t("resolve.choose")),
  OUTCOMES.map((o) => h("option", { value: o }, outcomeLabel(o))));
  const note = h("input", { class: "resolve-note", name: "note", maxlength: 2000,
    placeholder: t("resolve.note"), "aria-label": t("resolve.note"), dataset: { focusKey: `note:${id}` } });
  const problem = h("p", { class: "form-error", role: "alert", hidden: true });
  const confirm = h("div", { class: "resolve-confirm", role: "alertdialog", hidden: true },
    h("span", {}, t("resolve.confirm_unacked", { kind: kindLabel(alert.kind) })));
  const submit = async () => {
    const updated = await act(id, "resolve", { outcome: outcome.value, note: note.value.trim() || null });
    done(updated);
  };
  const yes = button(t("resolve.confirm"), { class: "btn btn-danger btn-confirm" }, submit);
  const no = h("button", { type: "button", class: "btn btn-cancel" }, t("resolve.cancel"));
  no.addEventListener("click", () => { confirm.hidden = true; });
  confirm.append(yes, no);
  const go = h("button", { type: "submit", class: "btn btn-resolve", dataset: { focusKey: `resolve:${id}` } },
    t("resolve.submit"));
  const form = h("form", { class: "resolve", "aria-label": t("resolve.title") },
    outcome, note, go, problem, confirm);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    problem.hidden = true;
    if (!outcome.value) {
      problem.textContent = t("resolve.need_outcome");
      problem.hidden = false;
      outcome.focus();
      return;
    }
    if (alert.state === "open" && CONFIRM_UNACKED.has(alert.kind)) {
      confirm.hidden = false;
      yes.focus();
      return;
    }
    go.disabled = true;
    try {
      await submit();
    } finally {
      go.disabled = false;
    }
  });
  return form;
}

/** Assigning (to someone, or "take it myself") and commenting, from the row. */
export function teamForm(alert, done, me) {
  const id = alert.id;
  const assignee = h("input", { class: "assign-to", name: "assignee", maxlength: 64,
    placeholder: t("assign.label"), "aria-label": t("assign.label"), dataset: { focusKey: `assignee:${id}` } });
  const assign = button(t("assign.submit"), { class: "btn btn-assign" }, async () => {
    if (assignee.value.trim()) done(await act(id, "assign", { assignee: assignee.value.trim() }));
  });
  const mine = me ? button(t("assign.me"), { class: "btn btn-assign-me" },
    async () => done(await act(id, "assign", { assignee: me }))) : null;
  const text = h("input", { class: "comment-text", name: "comment", maxlength: 2000,
    placeholder: t("comment.label"), "aria-label": t("comment.label"), dataset: { focusKey: `comment:${id}` } });
  const comment = h("form", { class: "comment" }, text,
    h("button", { type: "submit", class: "btn btn-comment" }, t("comment.submit")));
  comment.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!text.value.trim()) return;
    const ok = await act(id, "comments", { text: text.value.trim() });
    if (ok) text.value = "";
  });
  return h("div", { class: "team" }, h("div", { class: "assign" }, assignee, assign, mine), comment);
}

