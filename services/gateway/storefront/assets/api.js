// The public API of the platform (contract.md §2), same origin, JSON in and out.

import * as session from "./session.js";

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.name = "ApiError";
    this.status = status;
    this.body = body;
  }
}

const expiredListeners = new Set();

/** Called when the server rejects our token (401): the login has expired. */
export function onExpired(fn) {
  expiredListeners.add(fn);
}

function problemMessage(status, body, fallback) {
  if (body && typeof body === "object") {
    for (const key of ["detail", "message", "title", "error"]) {
      const v = body[key];
      if (typeof v === "string" && v.trim()) return v;
    }
  }
  if (typeof body === "string" && body.trim() && body.length < 300) return body.trim();
  if (status === 0) return "The shop cannot be reached. Check your connection and try again.";
  if (status >= 500) return `The shop had a problem (${status}). Please try again in a moment.`;
  return fallback || `Request failed (${status}).`;
}

/**
 * request("GET", "/api/products", {query, body, auth, headers}) -> parsed JSON (or null).
 * auth: "required" sends the token and treats 401 as an expired login; "optional" sends it
 * when there is one. Throws ApiError with a human-readable message.
 */
export async function request(method, path, { query, body, auth = "none", headers = {}, signal, token } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [k, v] of Object.entries(query || {})) {
    if (v !== undefined && v !== null && v !== "") url.searchParams.set(k, String(v));
  }
  const h = { Accept: "application/json", ...headers };
  const tok = token || session.token();
  if (auth === "required" && !tok) {
    for (const fn of expiredListeners) fn();
    throw new ApiError(401, "Please log in first.", null);
  }
  if (auth !== "none" && tok) h.Authorization = `Bearer ${tok}`;
  let payload;
  if (body !== undefined) {
    h["Content-Type"] = "application/json";
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(url, { method, headers: h, body: payload, signal, credentials: "same-origin" });
  } catch (err) {
    if (err && err.name === "AbortError") throw err;
    throw new ApiError(0, problemMessage(0, null), null);
  }
  const text = await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!res.ok) {
    if (res.status === 401 && auth !== "none" && tok) {
      session.end();
      for (const fn of expiredListeners) fn();
      throw new ApiError(401, "Your login has expired. Please log in again.", data);
    }
    throw new ApiError(res.status, problemMessage(res.status, data), data);
  }
  return data;
}

export const api = {
  health: () => request("GET", "/health"),
  ready: () => rawReady(),
  products: (query) => request("GET", "/api/products", { query }),
  product: (id) => request("GET", `/api/products/${encodeURIComponent(id)}`),
  createProduct: (body) => request("POST", "/api/products", { body, auth: "required" }),
  updateProduct: (id, body) => request("PATCH", `/api/products/${encodeURIComponent(id)}`, { body, auth: "required" }),
  register: (body) => request("POST", "/api/users", { body }),
  login: (body) => request("POST", "/api/auth/login", { body }),
  me: (token) => request("GET", "/api/users/me", { auth: "required", token }),
  createOrder: (items, idempotencyKey) =>
    request("POST", "/api/orders", { body: { items }, auth: "required", headers: { "Idempotency-Key": idempotencyKey } }),
  orders: (query) => request("GET", "/api/orders", { query, auth: "required" }),
  order: (id) => request("GET", `/api/orders/${encodeURIComponent(id)}`, { auth: "required" }),
  cancelOrder: (id) => request("POST", `/api/orders/${encodeURIComponent(id)}/cancel`, { auth: "required" }),
  notifications: (query) => request("GET", "/api/notifications", { query, auth: "required" }),
  analyticsWindows: (query) => request("GET", "/api/analytics/windows", { query }),
  analyticsSummary: () => request("GET", "/api/analytics/summary"),
  topProducts: (query) => request("GET", "/api/analytics/top-products", { query }),
  topUsers: (query) => request("GET", "/api/analytics/flink/top-users", { query, auth: "required" }),
  user: (id) => request("GET", `/api/users/${encodeURIComponent(id)}`, { auth: "required" }),
  presign: (body) => request("POST", "/api/s3/presigned-url", { body, auth: "required" }),
  fileStatus: (key) => request("GET", "/api/s3/file-status", { query: { key }, auth: "required" }),
};

/** GET /ready answers 503 with a body when something is down: return {ok, status, body} either way. */
async function rawReady() {
  let res;
  try {
    res = await fetch("/ready", { headers: { Accept: "application/json" } });
  } catch {
    throw new ApiError(0, problemMessage(0, null), null);
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = text;
  }
  return { ok: res.ok, status: res.status, body };
}

/** A random idempotency key (crypto.randomUUID needs a secure context; getRandomValues does not). */
export function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}
