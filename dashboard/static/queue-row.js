// The console's alert queue: compact one-line rows (15+ fit a 1366x768 screen), in the
// order staff work them (unacknowledged first, then priority, then the oldest first;
// acknowledged below), patched in place: an update rewrites a row's text but keeps its
// buttons, so a click that is under way, or the keyboard focus, survives a burst of events.
//
// A row: priority badge, "new" mark, kind, resident, the reason (or the condition that
// cleared, in green), state, age, then "acknowledge" and "more". "More" opens the details
// (every fact), resolving (an outcome, a note, and a confirmation for an SOS or a fall
// nobody acknowledged), assigning and commenting under the line.

import { act, button, handlingFacts, resolveForm, teamForm, who } from "./alert-actions.js";
import { h, kindLabel, priorityBadge, stateLabel } from "./common.js";
import { formatAge, formatDateTime, pick, t } from "./i18n.js";
import { visitControls, visitSignature } from "./visit.js";

const RANK = { high: 2, medium: 1, low: 0 };

/** The queue's order: open before acknowledged, then priority, then the oldest first. */
export function queueOrder(rows) {
  const waiting = (a) => (a.state === "open" ? 1 : 0);
  return [...rows].filter((a) => a.state !== "resolved").sort((a, b) => waiting(b) - waiting(a)
    || (RANK[b.priority] ?? 0) - (RANK[a.priority] ?? 0)
    || a.opened_at - b.opened_at || (a.id < b.id ? -1 : 1));
}

/** What a row shows, as one string: when it is unchanged the row is left alone. */
export function rowSignature(alert, opts) {
  return JSON.stringify([alert.updated_at, alert.state, alert.count, alert.acked_by,
    alert.assigned_to, alert.command_status, alert.suppressed, alert.condition_cleared_at,
    alert.priority, opts.residentName, opts.going, Boolean(opts.isNew),
    visitSignature(opts.order, opts.proposal)]);
}

function info(alert, { residentName, going, isNew }) {
  const cleared = alert.condition_cleared_at ? pick(alert.clear_reason) : "";
  const summary = cleared
    ? h("span", { class: "alert-summary alert-cleared" }, t("alert.cleared", { reason: cleared }))
    : h("span", { class: "alert-summary" }, pick(alert.reason));
  return [
    priorityBadge(alert.priority),
    isNew ? h("span", { class: "new-mark" }, t("alert.new")) : null,
    h("strong", { class: "alert-kind" }, kindLabel(alert.kind)),
    alert.resident_id
      ? h("a", { class: "alert-resident", href: `/static/resident.html?id=${encodeURIComponent(alert.resident_id)}` },
        residentName || alert.resident_id)
      : h("span", { class: "alert-resident" }, alert.device_id || ""),
    alert.count > 1 ? h("span", { class: "repeat", title: t("alert.repeats", { n: alert.count }) }, `×${alert.count}`) : null,
    going ? h("span", { class: "fact-going" }, t("alert.going", { who: going })) : null,
    summary,
    h("span", { class: `state state-${alert.state}` }, stateLabel(alert.state)),
    alert.state === "acknowledged" && alert.acked_by
      ? h("span", { class: "acked-by" }, who(alert.acked_by)) : null,
    h("time", { class: "alert-age", datetime: new Date(alert.opened_at * 1000).toISOString(),
      title: formatDateTime(alert.opened_at), dataset: { since: String(alert.opened_at) } },
    formatAge(alert.opened_at)),
  ];
}

function details(alert, { going }) {
  const facts = [];
  const reason = pick(alert.reason);
  if (reason) facts.push(h("span", { class: "fact" }, reason));
  if (alert.condition_cleared_at) {
    facts.push(h("span", { class: "fact alert-cleared" }, t("alert.cleared", { reason: pick(alert.clear_reason) })));
  }
  facts.push(...handlingFacts(alert, going));
  facts.push(h("span", { class: "fact" }, formatDateTime(alert.opened_at)));
  return facts;
}

/** The buttons of a row in a given state; built once per state, never on an update. */
function controls(li, alert, onChanged, me) {
  const id = alert.id;
  const done = (updated) => { if (updated && onChanged) onChanged(updated); };
  const line = [];
  if (alert.state === "open") {
    line.push(button([h("span", { "aria-hidden": "true" }, "✔ "), t("alert.acknowledge")],
      { class: "btn btn-ack", dataset: { focusKey: `ack:${id}` } },
      async () => done(await act(id, "acknowledge"))));
  }
  const more = h("button", { type: "button", class: "btn btn-more", "aria-expanded": "false",
    dataset: { focusKey: `more:${id}` } }, t("alert.more"));
  more.addEventListener("click", () => {
    const panel = li.querySelector(".row-more");
    panel.hidden = !panel.hidden;
    more.setAttribute("aria-expanded", String(!panel.hidden));
  });
  line.push(more);
  return { line, group: [resolveForm(alert, done), teamForm(alert, done, me)] };
}

/** A new row for ``alert``; opts: {residentName, going, isNew, onChanged(alert)}. */
export function queueRow(alert, opts) {
  const li = h("li", {},
    h("div", { class: "row-line" }, h("div", { class: "row-info" }), h("div", { class: "row-visit" }),
      h("div", { class: "row-buttons" })),
    h("div", { class: "row-more", hidden: true }, h("div", { class: "alert-facts" }), h("div", { class: "row-resolve" })));
  updateRow(li, alert, opts);
  return li;
}

/** Patch ``li`` to show ``alert``: text replaced, buttons kept unless the state changed. */
export function updateRow(li, alert, opts) {
  li.className = `alert alert-${alert.priority} alert-${alert.state}`;
  Object.assign(li.dataset, { alertId: alert.id, priority: alert.priority, state: alert.state,
    count: String(alert.count), new: String(Boolean(opts.isNew)) });
  li.querySelector(".row-info").replaceChildren(...info(alert, opts).filter(Boolean));
  li.querySelector(".alert-facts").replaceChildren(...details(alert, opts));
  // the visit's controls follow its order (and the proposal), not the alert's state
  const visit = visitSignature(opts.order, opts.proposal);
  if (opts.visit && li.dataset.visitSig !== visit) {
    li.dataset.visitSig = visit;
    li.querySelector(".row-visit").replaceChildren(...visitControls(alert, opts.order, opts.proposal, opts.visit));
  }
  if (li.dataset.builtFor !== alert.state) {
    li.dataset.builtFor = alert.state;
    const { line, group } = controls(li, alert, opts.onChanged, opts.me);
    li.querySelector(".row-buttons").replaceChildren(...line);
    li.querySelector(".row-resolve").replaceChildren(...group);
  }
}

/**
 * Make ``list`` show ``alerts`` in queue order, creating, patching, moving and removing
 * rows as needed; ``cache`` (a Map kept by the caller) remembers each row and what it last
 * showed. ``optsFor(alert)`` gives a row's options.
 */
export function patchQueue(list, alerts, cache, optsFor) {
  const rows = queueOrder(alerts);
  const keep = new Set(rows.map((a) => a.id));
  for (const [id, entry] of cache) {
    if (!keep.has(id)) {
      entry.el.remove();
      cache.delete(id);
    }
  }
  const focused = document.activeElement;
  let before = list.firstChild;
  for (const alert of rows) {
    const opts = optsFor(alert);
    const sig = rowSignature(alert, opts);
    let entry = cache.get(alert.id);
    if (!entry) {
      entry = { el: queueRow(alert, opts), sig };
      cache.set(alert.id, entry);
    } else if (entry.sig !== sig) {
      updateRow(entry.el, alert, opts);
      entry.sig = sig;
    }
    // move a row only when it is out of place (moving takes the focus away)
    if (entry.el !== before) list.insertBefore(entry.el, before);
    else before = before.nextSibling;
  }
  if (focused && focused !== document.activeElement && focused.isConnected) focused.focus();
  return rows;
}
