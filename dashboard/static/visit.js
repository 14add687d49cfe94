// The emergency visit of an alert, on the console's queue row: one click creates it
// (POST /api/orders/from-alert/ID, idempotent), the station then confirms the proposed
// care worker (the dispatcher's choice, shown by name) and the badge follows the order
// live — assigned, accepted, on site, done — from the WebSocket's "order" messages.

import { api } from "./api.js";
import { h, showError } from "./common.js";
import { t } from "./i18n.js";

/** What the visit controls show, as one string: rebuilt only when it changes. */
export function visitSignature(order, proposal) {
  return JSON.stringify(order ? [order.id, order.status, order.worker_name, proposal] : null);
}

function badge(order) {
  const status = t(`order_status.${order.status}`);
  const text = order.worker_name ? t("order.visit_worker", { status, name: order.worker_name })
    : t("order.visit", { status });
  return h("span", { class: "visit-badge", dataset: { status: order.status, orderId: order.id } }, text);
}

/**
 * visitControls(alert, order, proposal, {onOrder(order), onProposal(orderId, proposal)})
 * → elements: the "send someone" button when there is no order yet; the badge, and for an
 * order waiting for dispatch the confirm button with the proposed worker's name.
 */
export function visitControls(alert, order, proposal, { onOrder, onProposal }) {
  if (!alert.resident_id) return [];
  if (!order) {
    const b = h("button", { type: "button", class: "btn btn-visit", dataset: { focusKey: `visit:${alert.id}` } },
      t("order.emergency_visit"));
    b.addEventListener("click", async () => {
      b.disabled = true;
      try {
        const created = await api(`/api/orders/from-alert/${encodeURIComponent(alert.id)}`, { method: "POST" });
        onOrder(created); // its controls then ask for the proposal
      } catch (err) {
        showError(err);
        b.disabled = false;
      }
    });
    return [b];
  }
  const out = [badge(order)];
  if (order.status === "open") {
    if (proposal === undefined) {
      loadProposal(order, onProposal);
    } else if (proposal === null) {
      out.push(h("span", { class: "muted" }, t("error.no_worker")));
    } else {
      const b = h("button", { type: "button", class: "btn btn-dispatch", dataset: { focusKey: `dispatch:${order.id}` } },
        t("order.dispatch", { name: proposal.worker_name }));
      b.addEventListener("click", async () => {
        b.disabled = true;
        try {
          onOrder(await api(`/api/orders/${encodeURIComponent(order.id)}/assign`, { method: "POST",
            body: { worker_id: proposal.worker_id } }));
        } catch (err) {
          showError(err);
          onProposal(order.id, undefined); // ask again: the situation changed
        }
      });
      out.push(b);
    }
  }
  return out;
}

async function loadProposal(order, onProposal) {
  try {
    const answer = await api(`/api/orders/${encodeURIComponent(order.id)}/proposal`);
    onProposal(order.id, answer.proposal);
  } catch (err) {
    showError(err);
  }
}
