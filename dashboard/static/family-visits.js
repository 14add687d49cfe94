// The family page's recent visits: each completed visit or follow-up of the elder, how
// the visitor found them, and a rating (1–5 stars and an optional comment) the family
// member can give and change for a week.

import { api } from "./api.js";
import { h, showError } from "./common.js";
import { formatShort, t } from "./i18n.js";

function stars(current, onPick) {
  const buttons = [1, 2, 3, 4, 5].map((n) => h("button", {
    type: "button", class: "star", dataset: { score: String(n) },
    "aria-pressed": String(n <= current), "aria-label": t("family.stars", { n }),
  }, "★"));
  buttons.forEach((b, i) => b.addEventListener("click", () => {
    buttons.forEach((o, j) => o.setAttribute("aria-pressed", String(j <= i)));
    onPick(i + 1);
  }));
  return h("div", { class: "stars", role: "group", "aria-label": t("family.rate") }, buttons);
}

function ratingForm(visit) {
  const mine = visit.ratings[0] || null;
  let score = mine ? mine.score : 0;
  const comment = h("textarea", { maxlength: 500, "aria-label": t("family.rating_comment"),
    placeholder: t("family.rating_comment") });
  comment.value = mine ? mine.comment : "";
  const saved = h("p", { class: "muted rating-saved", role: "status", hidden: !mine },
    t("family.rating_saved"));
  const save = h("button", { type: "submit", class: "btn btn-primary btn-big" }, t("family.rating_save"));
  const form = h("form", { class: "rating-form" },
    h("span", {}, t("family.rate")), stars(score, (n) => { score = n; saved.hidden = true; }),
    comment, save, saved);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!score) return;
    save.disabled = true;
    try {
      await api(`/api/ratings/visit/${encodeURIComponent(visit.id)}`, { method: "PUT",
        body: { score, comment: comment.value } });
      saved.hidden = false;
    } catch (err) {
      showError(err);
    } finally {
      save.disabled = false;
    }
  });
  return form;
}

function visitItem(visit) {
  const r = visit.record;
  const found = [t(`mood.${r.mood}`), t(`mobility.${r.mobility}`), t(`living.${r.living}`)];
  return h("li", { class: "visit-done", dataset: { taskId: visit.id } },
    h("p", {}, h("strong", {}, t(`visit.origin_${visit.origin}`)), " ",
      t("family.visited", { date: formatShort(r.visited_at, true) })),
    h("p", { class: "muted" }, found.join(" · ")),
    r.needs.length ? h("p", { class: "muted" }, t("visit.needs"), ": ",
      r.needs.map((n) => t(`need.${n}`)).join("、")) : null,
    ratingForm(visit));
}

/** The recent visits section of one elder. */
export async function visitsBlock(rid) {
  const done = await api("/api/visits", { query: { resident_id: rid, state: "done", limit: 5 } });
  return h("section", { class: "recent-visits", dataset: { residentId: rid } },
    h("h2", {}, t("family.recent_visits")),
    done.items.length ? h("ol", { class: "list" }, done.items.map(visitItem))
      : h("p", { class: "empty" }, t("family.no_visits")));
}
