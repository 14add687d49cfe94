// The family page's recent services: each completed service order of the elder (what,
// by whom, when) with the same rating control as a visit (rating-form.js).

import { api } from "./api.js";
import { h } from "./common.js";
import { formatShort, t } from "./i18n.js";
import { ratingForm } from "./rating-form.js";

function orderItem(order) {
  return h("li", { class: "visit-done order-done", dataset: { orderId: order.id } },
    h("p", {}, h("strong", {}, order.service_name || t(`svc_kind.${order.kind}`)), " ",
      t("family.service_done", { date: formatShort(order.done_at, true) })),
    order.worker_name ? h("p", { class: "muted" }, t("family.service_by", { who: order.worker_name }))
      : null,
    ratingForm("order", order.id, order.ratings));
}

/** The recent services section of one elder. */
export async function ordersBlock(rid) {
  const done = await api(`/api/residents/${encodeURIComponent(rid)}/completed-orders`,
    { query: { limit: 5 } });
  return h("section", { class: "recent-services", dataset: { residentId: rid } },
    h("h2", {}, t("family.recent_services")),
    done.items.length ? h("ol", { class: "list" }, done.items.map(orderItem))
      : h("p", { class: "empty" }, t("family.no_services")));
}
