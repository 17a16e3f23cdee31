// The login session. The access token lives in sessionStorage: it survives a reload of this
// tab, is never shared with other tabs or sent anywhere but our own API, and is gone when the
// tab closes. It is not put in localStorage (which lives forever) and never in the URL.

const KEY = "ecomctl.session";
const listeners = new Set();

function read() {
  try {
    const raw = sessionStorage.getItem(KEY);
    return raw ? JSON.parse(raw) : null;
  } catch {
    return null;
  }
}

function emit() {
  for (const fn of listeners) fn(current());
}

/** The current session {token, expiresAt, user} or null (expired sessions count as none). */
export function current() {
  const s = read();
  if (!s || !s.token) return null;
  if (s.expiresAt && Date.now() >= s.expiresAt) return null;
  return s;
}

export function token() {
  return current()?.token ?? null;
}

export function start(accessToken, expiresIn, user = null) {
  const expiresAt = Number.isFinite(expiresIn) ? Date.now() + expiresIn * 1000 : null;
  sessionStorage.setItem(KEY, JSON.stringify({ token: accessToken, expiresAt, user }));
  emit();
}

export function setUser(user) {
  const s = read();
  if (!s) return;
  s.user = user;
  sessionStorage.setItem(KEY, JSON.stringify(s));
  emit();
}

export function end() {
  sessionStorage.removeItem(KEY);
  emit();
}

export function onChange(fn) {
  listeners.add(fn);
}

function claims(tok) {
  try {
    const part = tok.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    return JSON.parse(atob(part + "=".repeat((4 - (part.length % 4)) % 4)));
  } catch {
    return {};
  }
}

/** Whether the session belongs to an admin: from the profile if it says so, else the token's claims. */
export function isAdmin() {
  const s = current();
  if (!s) return false;
  for (const src of [s.user || {}, claims(s.token)]) {
    if (src.is_admin === true || src.admin === true) return true;
    if (typeof src.role === "string" && src.role.toLowerCase() === "admin") return true;
    const roles = src.roles || src.scopes || src.scope;
    if (Array.isArray(roles) && roles.includes("admin")) return true;
    if (typeof roles === "string" && roles.split(/[ ,]/).includes("admin")) return true;
  }
  return false;
}
