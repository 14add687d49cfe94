// The family page's recent visits: each completed visit or follow-up of the elder, how
// the visitor found them, and a rating (1–5 stars and an optional comment) the family
// member can give and change for a week (rating-form.js).

import { api } from "./api.js";
import { h } from "./common.js";
import { formatShort, t } from "./i18n.js";
import { ratingForm } from "./rating-form.js";

function visitItem(visit) {
  const r = visit.record;
  const found = [t(`mood.${r.mood}`), t(`mobility.${r.mobility}`), t(`living.${r.living}`)];
  return h("li", { class: "visit-done", dataset: { taskId: visit.id } },
    h("p", {}, h("strong", {}, t(`visit.origin_${visit.origin}`)), " ",
      t("family.visited", { date: formatShort(r.visited_at, true) })),
    h("p", { class: "muted" }, found.join(" · ")),
    r.needs.length ? h("p", { class: "muted" }, t("visit.needs"), ": ",
      r.needs.map((n) => t(`need.${n}`)).join("、")) : null,
    ratingForm("visit", visit.id, visit.ratings));
}

/** The recent visits section of one elder. */
export async function visitsBlock(rid) {
  const done = await api("/api/visits", { query: { resident_id: rid, state: "done", limit: 5 } });
  return h("section", { class: "recent-visits", dataset: { residentId: rid } },
    h("h2", {}, t("family.recent_visits")),
    done.items.length ? h("ol", { class: "list" }, done.items.map(visitItem))
      : h("p", { class: "empty" }, t("family.no_visits")));
}
