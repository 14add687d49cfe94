// One alert as a card (the resident detail, the family page): priority (colour, icon,
// text), what and who, age, state, and the actions: one-click acknowledge, then resolving,
// assigning and commenting (alert-actions.js). The console's queue uses queue-row.js.

import { act, handlingFacts, resolveForm, teamForm, who } from "./alert-actions.js";
import { actionLabel, h, kindLabel, outcomeLabel, priorityBadge, stateLabel } from "./common.js";
import { formatAge, formatDateTime, pick, t } from "./i18n.js";
import { visitControls } from "./visit.js";

/**
 * alertCard(alert, {residentName, canAct, going, onChanged(alert), visit}) → <li>
 * visit: {order, proposal, handlers} shows the alert's emergency visit (visit.js).
 */
export function alertCard(alert, { residentName, canAct = true, going, onChanged, visit } = {}) {
  const id = alert.id;
  const reason = pick(alert.reason);
  const li = h("li", {
    class: `alert alert-${alert.priority} alert-${alert.state}`,
    dataset: { alertId: id, priority: alert.priority, state: alert.state },
  });
  const head = h("div", { class: "alert-head" },
    priorityBadge(alert.priority),
    h("strong", { class: "alert-kind" }, kindLabel(alert.kind)),
    alert.resident_id
      ? h("a", { class: "alert-resident", href: `/static/resident.html?id=${encodeURIComponent(alert.resident_id)}` },
        residentName || alert.resident_id)
      : h("span", { class: "alert-resident" }, alert.device_id || ""),
    h("time", { class: "alert-age", datetime: new Date(alert.opened_at * 1000).toISOString(),
      title: formatDateTime(alert.opened_at), dataset: { since: String(alert.opened_at) } },
    formatAge(alert.opened_at)));
  const facts = [h("span", { class: `state state-${alert.state}` }, stateLabel(alert.state))];
  facts.push(...handlingFacts(alert, going));
  if (alert.outcome) facts.push(h("span", { class: "fact" }, outcomeLabel(alert.outcome)));
  li.append(head);
  if (reason) li.append(h("p", { class: "alert-reason" }, reason));
  li.append(h("div", { class: "alert-facts" }, facts));
  if (canAct && visit && alert.state !== "resolved") {
    li.append(h("div", { class: "row-visit" },
      visitControls(alert, visit.order, visit.proposal, visit.handlers)));
  }
  if (canAct && alert.state !== "resolved") li.append(actions(alert, onChanged));
  return li;
}

function actions(alert, onChanged) {
  const row = h("div", { class: "alert-actions" });
  const done = (updated) => { if (updated && onChanged) onChanged(updated); };
  if (alert.state === "open") {
    const ack = h("button", { type: "button", class: "btn btn-ack", dataset: { focusKey: `ack:${alert.id}` } },
      h("span", { "aria-hidden": "true" }, "✔ "), t("alert.acknowledge"));
    ack.addEventListener("click", async () => {
      ack.disabled = true;
      done(await act(alert.id, "acknowledge"));
      ack.disabled = false;
    });
    row.append(ack);
  }
  row.append(h("div", { class: "row-resolve" }, resolveForm(alert, done), teamForm(alert, done)));
  return row;
}

export { act };

/** Re-render a list while keeping keyboard focus on the same control when it survives. */
export function keepFocus(render) {
  const key = document.activeElement && document.activeElement.dataset
    ? document.activeElement.dataset.focusKey : undefined;
  render();
  if (key) {
    const again = document.querySelector(`[data-focus-key="${CSS.escape(key)}"]`);
    if (again) again.focus();
  }
}

/** Refresh the "3 min ago" labels. */
export function refreshAges(root = document) {
  for (const el of root.querySelectorAll("time[data-since]")) {
    el.textContent = formatAge(Number(el.dataset.since));
  }
}

/** One entry of an alert's audit timeline: when, what happened, who, and the detail. */
export function timelineItem(entry, kind) {
  const d = entry.detail || {};
  const detail = [];
  if (d.outcome) detail.push(outcomeLabel(d.outcome));
  if (d.text) detail.push(`“${d.text}”`);
  if (d.note) detail.push(d.note);
  if (d.assignee) detail.push(who(d.assignee));
  if (d.status) detail.push(t(`command.${d.status}`));
  if (d.reason && typeof d.reason === "object") detail.push(pick(d.reason));
  const actor = entry.action === "going_over" && d.name ? d.name
    : entry.actor === "system" ? t("timeline.system") : who(entry.actor);
  return h("li", { class: `tl tl-${entry.action}`, dataset: { action: entry.action, alertId: entry.alert_id } },
    h("time", { class: "muted", title: formatDateTime(entry.at) }, formatDateTime(entry.at)),
    kind ? h("span", { class: "tl-kind" }, kindLabel(kind)) : null,
    h("strong", {}, actionLabel(entry.action)),
    h("span", { class: "muted" }, actor),
    detail.length ? h("span", {}, detail.join(" · ")) : null);
}
