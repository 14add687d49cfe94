// Fetch wrapper for the dashboard REST API: same-origin session cookie, the CSRF token
// (from the carehub_csrf cookie) in X-CSRF-Token on every write, and the error body
// {error: {code, message, details}} turned into an ApiError.

const WRITE_METHODS = new Set(["POST", "PUT", "PATCH", "DELETE"]);

export class ApiError extends Error {
  constructor(status, code, message, details) {
    super(message || code);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export function csrfToken() {
  const hit = document.cookie.split("; ").find((c) => c.startsWith("carehub_csrf="));
  return hit ? decodeURIComponent(hit.slice("carehub_csrf=".length)) : "";
}

/** Call the API; resolves with the parsed JSON body, rejects with an ApiError. */
export async function api(path, { method = "GET", body, query } = {}) {
  let url = path;
  if (query) {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) {
      if (v === undefined || v === null || v === "") continue;
      for (const item of Array.isArray(v) ? v : [v]) params.append(k, String(item));
    }
    const qs = params.toString();
    if (qs) url += (url.includes("?") ? "&" : "?") + qs;
  }
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (WRITE_METHODS.has(method)) headers["X-CSRF-Token"] = csrfToken();
  let response;
  try {
    response = await fetch(url, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
    });
  } catch (err) {
    throw new ApiError(0, "network", String(err && err.message ? err.message : err), null);
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    // the session is over: the page asks for the password in place (session.js)
    if (response.status === 401 && path !== "/api/auth/login") {
      window.dispatchEvent(new Event("carehub:unauthorized"));
    }
    const e = data && data.error ? data.error : {};
    throw new ApiError(response.status, e.code || `http_${response.status}`, e.message || text,
      e.details || null);
  }
  return data;
}

/** The logged-in user (GET /api/me), or null when not logged in. */
export async function whoAmI() {
  try {
    return await api("/api/me");
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return null;
    throw err;
  }
}

/** Send the browser to the login page, coming back here afterwards. */
export function toLogin() {
  const next = location.pathname + location.search;
  location.href = `/static/index.html?next=${encodeURIComponent(next)}`;
}
