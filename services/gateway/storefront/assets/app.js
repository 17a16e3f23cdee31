// The storefront shell: hash router, navigation, session and cart badges.
// Views live in view-*.js; each exports render(main, route) and may return a cleanup function.

import { onExpired } from "./api.js";
import * as cart from "./cart.js";
import { h, replace, errorBox } from "./dom.js";
import * as session from "./session.js";
import * as catalogue from "./view-catalogue.js";
import * as product from "./view-product.js";
import * as cartView from "./view-cart.js";
import * as orders from "./view-orders.js";
import * as account from "./view-account.js";
import * as upload from "./view-upload.js";
import * as status from "./view-status.js";
import * as analytics from "./view-analytics.js";
import * as admin from "./view-admin.js";

const ROUTES = [
  { pattern: /^\/?$/, view: catalogue.render, title: "Catalogue" },
  { pattern: /^\/product\/([^/]+)$/, view: product.render, title: "Product" },
  { pattern: /^\/cart$/, view: cartView.render, title: "Cart" },
  { pattern: /^\/orders$/, view: orders.renderList, title: "Orders", login: true },
  { pattern: /^\/orders\/([^/]+)$/, view: orders.renderOne, title: "Order", login: true },
  { pattern: /^\/login$/, view: account.renderLogin, title: "Log in" },
  { pattern: /^\/register$/, view: account.renderRegister, title: "Register" },
  { pattern: /^\/profile$/, view: account.renderProfile, title: "Profile", login: true },
  { pattern: /^\/notifications$/, view: account.renderNotifications, title: "Notifications", login: true },
  { pattern: /^\/upload$/, view: upload.render, title: "Upload", login: true },
  { pattern: /^\/status$/, view: status.render, title: "Platform status" },
  { pattern: /^\/analytics$/, view: analytics.render, title: "Analytics" },
  { pattern: /^\/admin$/, view: admin.render, title: "Admin", login: true },
];

let cleanup = null;

/** The current hash route: {path, params: URLSearchParams}. */
export function currentRoute() {
  const raw = window.location.hash.replace(/^#/, "") || "/";
  const [path, qs] = raw.split("?", 2);
  return { path: decodeURI(path), params: new URLSearchParams(qs || "") };
}

/** Go to a route ("/cart", {next: "/orders"}). */
export function go(path, params) {
  const qs = params ? new URLSearchParams(params).toString() : "";
  const target = `#${path}${qs ? `?${qs}` : ""}`;
  if (window.location.hash === target) route();
  else window.location.hash = target;
}

function renderNav() {
  const nav = document.getElementById("nav");
  const s = session.current();
  const n = cart.count();
  const link = (href, label, extra = {}) => h("a", { href, ...extra }, label);
  replace(
    nav,
    h(
      "ul",
      {},
      h("li", {}, link("#/", "Catalogue")),
      h("li", {}, link("#/cart", h("span", {}, "Cart ", h("span", { class: "badge", id: "cart-count", "aria-label": `${n} items` }, String(n))))),
      s ? h("li", {}, link("#/orders", "Orders")) : null,
      s ? h("li", {}, link("#/notifications", "Notifications")) : null,
      s ? h("li", {}, link("#/upload", "Upload")) : null,
      h("li", {}, link("#/analytics", "Analytics")),
      h("li", {}, link("#/status", "Status")),
      s && session.isAdmin() ? h("li", {}, link("#/admin", "Admin")) : null,
      s ? h("li", {}, link("#/profile", s.user?.name ? `Profile (${s.user.name})` : "Profile")) : null,
      s
        ? h("li", {}, h("button", { type: "button", class: "linklike", id: "logout", on: { click: logout } }, "Log out"))
        : h("li", {}, link("#/login", "Log in")),
      s ? null : h("li", {}, link("#/register", "Register")),
    ),
  );
  markCurrent();
}

function markCurrent() {
  const { path } = currentRoute();
  for (const a of document.querySelectorAll("#nav a")) {
    const target = a.getAttribute("href").slice(1);
    const here = target === "/" ? path === "/" || path === "" || path.startsWith("/product/") : path === target || path.startsWith(`${target}/`);
    if (here) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
}

function logout() {
  session.end();
  go("/", { notice: "You are logged out." });
}

async function route() {
  if (cleanup) {
    try {
      cleanup();
    } catch {
      /* a view's cleanup never blocks navigation */
    }
    cleanup = null;
  }
  const main = document.getElementById("main");
  const { path, params } = currentRoute();
  markCurrent();
  const match = ROUTES.map((r) => ({ r, m: r.pattern.exec(path) })).find((x) => x.m);
  if (!match) {
    document.title = "Not found · ecomctl shop";
    replace(main, h("h1", { tabindex: "-1" }, "Page not found"), h("p", {}, h("a", { href: "#/" }, "Back to the catalogue")));
    focusHeading(main);
    return;
  }
  const { r, m } = match;
  document.title = `${r.title} · ecomctl shop`;
  if (r.login && !session.current()) {
    go("/login", { next: path });
    return;
  }
  replace(main);
  try {
    const result = r.view(main, { path, params, args: m.slice(1).map(decodeURIComponent), go });
    cleanup = typeof result === "function" ? result : null;
  } catch (err) {
    replace(main, errorBox(`This page failed to load: ${err.message}`, () => route()));
  }
  focusHeading(main);
}

function focusHeading(main) {
  const heading = main.querySelector("h1");
  if (heading && document.activeElement === document.body) heading.focus({ preventScroll: true });
  else if (heading && !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
}

onExpired(() => {
  const { path } = currentRoute();
  if (path === "/login") return;
  go("/login", { next: path, expired: "1" });
});
session.onChange(renderNav);
cart.onChange(renderNav);
window.addEventListener("hashchange", route);
renderNav();
route();
