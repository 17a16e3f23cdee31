// Register, log in, profile and notifications.

import { api } from "./api.js";
import * as session from "./session.js";
import { h, replace, loading, errorBox, field, notice, when } from "./dom.js";

function safeNext(params) {
  const next = params.get("next") || "/";
  return next.startsWith("/") && !next.startsWith("//") && next !== "/login" && next !== "/register" ? next : "/";
}

async function logIn(email, password) {
  const res = await api.login({ email, password });
  let user = null;
  try {
    user = await api.me(res.access_token);
  } catch {
    /* the profile is a nicety for the header; the login itself succeeded */
  }
  session.start(res.access_token, Number(res.expires_in), user); // one change: the page switches once
}

function busy(form, on) {
  for (const el of form.querySelectorAll("input, button")) el.disabled = on;
}

export function renderLogin(main, { params, go }) {
  const email = h("input", { type: "email", name: "email", autocomplete: "username", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password", required: true });
  const status = h("div", { "aria-live": "assertive" });
  const form = h(
    "form",
    { class: "stack narrow", on: { submit: async (e) => {
      e.preventDefault();
      busy(form, true);
      replace(status, loading("Logging in…"));
      try {
        await logIn(email.value.trim(), password.value);
        go(safeNext(params));
      } catch (err) {
        busy(form, false);
        replace(status, errorBox(err.status === 401 ? "Wrong e-mail or password." : err.message));
        password.focus();
      }
    } } },
    field("E-mail", email),
    field("Password", password),
    h("button", { type: "submit" }, "Log in"),
  );
  replace(
    main,
    h("h1", { tabindex: "-1" }, "Log in"),
    params.get("expired") ? notice("Your login has expired. Please log in again; your cart is kept.", "warn") : null,
    status,
    form,
    h("p", {}, "New here? ", h("a", { href: `#/register?next=${encodeURIComponent(safeNext(params))}` }, "Create an account")),
  );
}

export function renderRegister(main, { params, go }) {
  const name = h("input", { type: "text", name: "name", autocomplete: "name", required: true, maxlength: "100" });
  const email = h("input", { type: "email", name: "email", autocomplete: "email", required: true });
  const password = h("input", { type: "password", name: "password", autocomplete: "new-password", required: true, minlength: "8" });
  const status = h("div", { "aria-live": "assertive" });
  const form = h(
    "form",
    { class: "stack narrow", on: { submit: async (e) => {
      e.preventDefault();
      busy(form, true);
      replace(status, loading("Creating your account…"));
      try {
        await api.register({ name: name.value.trim(), email: email.value.trim(), password: password.value });
        await logIn(email.value.trim(), password.value);
        go(safeNext(params), { notice: "Welcome! Your account is ready." });
      } catch (err) {
        busy(form, false);
        replace(status, errorBox(err.status === 409 ? "An account with this e-mail already exists. Log in instead." : err.message));
      }
    } } },
    field("Name", name),
    field("E-mail", email),
    field("Password", password, "At least 8 characters."),
    h("button", { type: "submit" }, "Create account"),
  );
  replace(main, h("h1", { tabindex: "-1" }, "Create an account"), status, form, h("p", {}, "Already have one? ", h("a", { href: "#/login" }, "Log in")));
}

const HIDDEN = new Set(["password", "password_hash", "hash"]);

export function renderProfile(main) {
  const body = h("div");
  replace(main, h("h1", { tabindex: "-1" }, "Your profile"), body);
  const load = async () => {
    replace(body, loading());
    try {
      const me = await api.me();
      session.setUser(me);
      const rows = Object.entries(me).filter(([k, v]) => !HIDDEN.has(k) && (typeof v !== "object" || v === null));
      replace(body, h("dl", { class: "facts", id: "profile" }, rows.map(([k, v]) => [h("dt", {}, k.replace(/_/g, " ")), h("dd", {}, k.endsWith("_at") ? when(v) : String(v ?? ""))])));
    } catch (err) {
      if (err.status !== 401) replace(body, errorBox(err.message, load));
    }
  };
  load();
}

function describe(n) {
  const title = n.subject || n.title || n.type || n.event_type || "Notification";
  const text = n.message || n.body || n.text || (n.order_id ? `Order ${n.order_id}` : "");
  return { title, text, at: n.created_at || n.sent_at || n.occurred_at };
}

export function renderNotifications(main) {
  const body = h("div");
  replace(main, h("h1", { tabindex: "-1" }, "Notifications"), body);
  const load = async () => {
    replace(body, loading("Loading notifications…"));
    try {
      const page = await api.notifications({ limit: 50 });
      const items = page?.items || [];
      if (!items.length) {
        replace(body, h("p", { class: "empty" }, "Nothing yet: you get a notification for each order you place or cancel."));
        return;
      }
      replace(body, h("ul", { class: "notifications" }, items.map((n) => {
        const d = describe(n);
        return h("li", {}, h("strong", {}, d.title), d.at ? h("span", { class: "muted" }, ` · ${when(d.at)}`) : null, d.text ? h("p", {}, d.text) : null);
      })), h("button", { type: "button", class: "secondary", on: { click: load } }, "Refresh"));
    } catch (err) {
      if (err.status !== 401) replace(body, errorBox(err.message, load));
    }
  };
  load();
}
