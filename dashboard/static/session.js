// No silent logout. A browser session slides on while its user is active (a click or a key
// at most every ACTIVE_REFRESH_MS calls POST /api/auth/refresh); WARN_BEFORE_MS before it
// ends a banner says so, with the time left and a "stay logged in" button; and when it has
// ended (expired, ended on the server, lost in a restart) the page asks for the password
// in place: the queue, the page and its alarm stay, and the live connection resumes after
// the login. The page never jumps to the login page by itself.
//
// The session's end is timed with the server's clock (every answer carries server_time),
// so a station PC whose clock is wrong still warns at the right moment.

import { ApiError, api } from "./api.js";
import { h, showError } from "./common.js";
import { t } from "./i18n.js";

const WARN_BEFORE_MS = 10 * 60 * 1000;
const ACTIVE_REFRESH_MS = 5 * 60 * 1000;
const CHECK_EVERY_MS = 5000;
const PROBE_EVERY_MS = 60 * 1000; // is the session still there? (ended elsewhere, restart)

const BROWSER_CLOCK = {
  now: () => Date.now(),
  every: (fn, ms) => setInterval(fn, ms),
};

function minutesSeconds(ms) {
  const s = Math.max(0, Math.ceil(ms / 1000));
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/**
 * keepSession(me, {onEnded(), onBack(me), clock}) for a page of a logged-in user.
 * onEnded: the session is over (the page may sound its alarm); onBack: logged in again.
 * Returns {ended(), refresh()}; ended() is also what a 401 anywhere should call.
 */
export function keepSession(me, { onEnded = () => {}, onBack = () => {}, clock = BROWSER_CLOCK } = {}) {
  let endsAt = null; // local ms
  let lastRefresh = clock.now();
  let lastProbe = clock.now();
  let over = false;
  let banner = null;
  let dialog = null;

  function learn(expiresAt, serverTime) {
    if (expiresAt == null) return;
    const skew = serverTime != null ? serverTime * 1000 - clock.now() : 0;
    endsAt = expiresAt * 1000 - skew;
  }
  learn(me.session_expires_at, me.server_time);
  if (endsAt === null) return { ended() {}, refresh: async () => {} }; // an API token

  async function refresh() {
    try {
      const r = await api("/api/auth/refresh", { method: "POST" });
      learn(r.expires_at, r.server_time);
      lastRefresh = clock.now();
      check();
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) ended();
      else showError(err);
    }
  }

  function showWarning(left) {
    if (!banner) {
      const stay = h("button", { type: "button", class: "btn btn-primary", id: "session-stay" },
        t("session.stay"));
      stay.addEventListener("click", refresh);
      banner = h("div", { id: "session-warning", class: "session-warning", role: "alert" },
        h("span", { id: "session-left" }), stay);
      const bar = document.getElementById("topbar");
      if (bar) bar.after(banner);
      else document.body.prepend(banner);
    }
    banner.hidden = false;
    banner.querySelector("#session-left").textContent = t("session.ends_in", { left: minutesSeconds(left) });
  }

  function check() {
    if (over) return;
    const left = endsAt - clock.now();
    if (left <= 0) {
      ended();
    } else if (left < WARN_BEFORE_MS) {
      showWarning(left);
    } else if (banner) {
      banner.hidden = true;
    }
    if (clock.now() - lastProbe > PROBE_EVERY_MS) {
      lastProbe = clock.now();
      api("/api/me").then((r) => learn(r.session_expires_at, r.server_time)).catch((err) => {
        if (err instanceof ApiError && err.status === 401) ended();
      });
    }
  }

  function ended() {
    if (over) return;
    over = true;
    if (banner) banner.hidden = true;
    document.body.dataset.session = "ended";
    showDialog();
    onEnded();
  }

  function showDialog() {
    if (!dialog) {
      const user = h("input", { id: "relogin-user", name: "user", autocomplete: "username", required: true });
      const password = h("input", { id: "relogin-password", name: "password", type: "password",
        autocomplete: "current-password", required: true });
      const error = h("p", { class: "relogin-error", id: "relogin-error", role: "alert", hidden: true });
      const form = h("form", { class: "card relogin-card" },
        h("h2", { id: "relogin-title" }, t("session.ended_title")),
        h("p", {}, t("session.ended_detail")),
        h("label", {}, h("span", {}, t("login.user")), user),
        h("label", {}, h("span", {}, t("login.password")), password),
        error,
        h("button", { type: "submit", class: "btn btn-primary", id: "relogin-submit" }, t("login.submit")));
      form.addEventListener("submit", async (ev) => {
        ev.preventDefault();
        error.hidden = true;
        try {
          const r = await api("/api/auth/login", { method: "POST",
            body: { user: user.value.trim(), password: password.value } });
          if (r.user.id !== me.user.id) {
            location.reload(); // someone else: their scope, their page
            return;
          }
          learn(r.expires_at, r.server_time);
          lastRefresh = clock.now();
          password.value = "";
          over = false;
          dialog.hidden = true;
          delete document.body.dataset.session;
          onBack(r);
        } catch (err) {
          error.textContent = err instanceof ApiError && err.status === 401
            ? t("session.wrong_password") : String(err.message || err);
          error.hidden = false;
        }
      });
      dialog = h("div", { id: "relogin", class: "relogin", role: "dialog", "aria-modal": "true",
        "aria-labelledby": "relogin-title" }, form);
      document.body.append(dialog);
      user.value = me.user.id;
    }
    dialog.hidden = false;
    dialog.querySelector("#relogin-password").focus();
  }

  const onActivity = () => {
    if (!over && clock.now() - lastRefresh > ACTIVE_REFRESH_MS) refresh();
  };
  document.addEventListener("pointerdown", onActivity, true);
  document.addEventListener("keydown", onActivity, true);
  window.addEventListener("carehub:unauthorized", () => ended());
  clock.every(check, CHECK_EVERY_MS);
  check();
  return { ended, refresh };
}
