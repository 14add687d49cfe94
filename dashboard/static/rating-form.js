// The family's rating control (1–5 stars and an optional comment), the same for a visit
// and a service order: PUT /api/ratings/{kind}/{id}, changeable for a week.

import { api } from "./api.js";
import { h, showError } from "./common.js";
import { t } from "./i18n.js";

function stars(current, label, onPick) {
  const buttons = [1, 2, 3, 4, 5].map((n) => h("button", {
    type: "button", class: "star", dataset: { score: String(n) },
    "aria-pressed": String(n <= current), "aria-label": t("family.stars", { n }),
  }, "★"));
  buttons.forEach((b, i) => b.addEventListener("click", () => {
    buttons.forEach((o, j) => o.setAttribute("aria-pressed", String(j <= i)));
    onPick(i + 1);
  }));
  return h("div", { class: "stars", role: "group", "aria-label": label }, buttons);
}

/** The form rating subject `kind` (`visit` or `order`) `id`; `ratings`: the caller's. */
export function ratingForm(kind, id, ratings) {
  const mine = ratings[0] || null;
  const label = t(kind === "order" ? "family.rate_service" : "family.rate");
  let score = mine ? mine.score : 0;
  const comment = h("textarea", { maxlength: 500, "aria-label": t("family.rating_comment"),
    placeholder: t("family.rating_comment") });
  comment.value = mine ? mine.comment : "";
  const saved = h("p", { class: "muted rating-saved", role: "status", hidden: !mine },
    t("family.rating_saved"));
  const save = h("button", { type: "submit", class: "btn btn-primary btn-big" }, t("family.rating_save"));
  const form = h("form", { class: "rating-form" },
    h("span", {}, label), stars(score, label, (n) => { score = n; saved.hidden = true; }),
    comment, save, saved);
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!score) return;
    save.disabled = true;
    try {
      await api(`/api/ratings/${kind}/${encodeURIComponent(id)}`, { method: "PUT",
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
