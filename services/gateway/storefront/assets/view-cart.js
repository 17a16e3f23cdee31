// The cart and checkout. Prices shown here are the catalogue's current prices (read from the
// server); the order itself is priced by the server, and the order page shows what it charged.

import { api, newKey } from "./api.js";
import * as cart from "./cart.js";
import * as session from "./session.js";
import { h, replace, loading, errorBox, money } from "./dom.js";

const KEY = "ecomctl.checkout";

/** One idempotency key per cart content, so a retried checkout cannot create a second order. */
function checkoutKey(lines) {
  const fingerprint = JSON.stringify(lines.map((l) => [l.product_id, l.quantity]));
  try {
    const saved = JSON.parse(sessionStorage.getItem(KEY) || "null");
    if (saved && saved.fingerprint === fingerprint) return saved.key;
  } catch {
    /* start a new key */
  }
  const key = newKey();
  sessionStorage.setItem(KEY, JSON.stringify({ fingerprint, key }));
  return key;
}

export function render(main, { go }) {
  const body = h("div");
  const status = h("div", { id: "checkout-status", "aria-live": "assertive" });
  replace(main, h("h1", { tabindex: "-1" }, "Your cart"), status, body);

  const load = async () => {
    const lines = cart.lines();
    if (!lines.length) {
      replace(body, h("p", { class: "empty" }, "Your cart is empty. ", h("a", { href: "#/" }, "Browse the catalogue")));
      return;
    }
    replace(body, loading("Checking current prices…"));
    const products = await Promise.all(lines.map((l) => api.product(l.product_id).catch((err) => ({ error: err }))));
    if (products.some((p) => p.error && p.error.status !== 404)) {
      replace(body, errorBox(products.find((p) => p.error).error.message, load));
      return;
    }
    let subtotal = 0;
    let currency = "USD";
    const rows = lines.map((l, i) => {
      const p = products[i];
      const gone = Boolean(p.error);
      const price = gone ? NaN : Number(p.price);
      if (!gone) {
        subtotal += price * l.quantity;
        currency = p.currency || currency;
      }
      const qty = h("input", {
        type: "number", min: "0", value: String(l.quantity), inputmode: "numeric", class: "qty",
        "aria-label": `Quantity of ${l.name}`,
        on: { change: (e) => { cart.setQuantity(l.product_id, Number(e.target.value) || 0); load(); } },
      });
      return h(
        "tr",
        { dataset: { productId: l.product_id } },
        h("th", { scope: "row" }, gone ? h("span", {}, l.name, " ", h("em", {}, "(no longer available)")) : h("a", { href: `#/product/${encodeURIComponent(l.product_id)}` }, p.name)),
        h("td", { class: "num" }, gone ? "—" : money(p.price, p.currency)),
        h("td", {}, qty),
        h("td", { class: "num" }, gone ? "—" : money((price * l.quantity).toFixed(2), p.currency)),
        h("td", {}, h("button", { type: "button", class: "secondary", "aria-label": `Remove ${l.name}`, on: { click: () => { cart.remove(l.product_id); load(); } } }, "Remove")),
      );
    });
    const checkout = h("button", { type: "button", id: "checkout", on: { click: () => placeOrder(checkout) } }, session.current() ? "Place order" : "Log in to check out");
    replace(
      body,
      h("div", { class: "table-wrap" }, h("table", {},
        h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Product"), h("th", { scope: "col", class: "num" }, "Price"), h("th", { scope: "col" }, "Quantity"), h("th", { scope: "col", class: "num" }, "Line"), h("th", { scope: "col" }, h("span", { class: "sr-only" }, "Actions")))),
        h("tbody", {}, rows),
        h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: "3" }, "Estimated total"), h("td", { class: "num", id: "cart-estimate" }, money(subtotal.toFixed(2), currency)), h("td"))),
      )),
      h("p", { class: "muted" }, "The shop prices your order when you place it; the order page shows the total charged."),
      checkout,
    );
  };

  const placeOrder = async (button) => {
    const lines = cart.lines();
    if (!session.current()) {
      go("/login", { next: "/cart" });
      return;
    }
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    replace(status, loading("Placing your order…"));
    try {
      const order = await api.createOrder(lines.map((l) => ({ product_id: l.product_id, quantity: l.quantity })), checkoutKey(lines));
      sessionStorage.removeItem(KEY);
      cart.clear();
      go(`/orders/${encodeURIComponent(order.id)}`, { placed: "1" });
    } catch (err) {
      button.disabled = false;
      button.removeAttribute("aria-busy");
      if (err.status === 401) return; // the app sends the user to log in; the cart is kept
      if (err.status === 409) {
        replace(status, errorBox(await shortageMessage(lines, err)));
        load();
        return;
      }
      if (err.status === 404 || err.status === 422) {
        replace(status, errorBox(`Some items cannot be ordered: ${err.message}`));
        load();
        return;
      }
      replace(status, errorBox(err.message, () => placeOrder(button)));
    }
  };

  load();
}

/** A 409 means stock ran short: name the product(s) from fresh catalogue reads. */
async function shortageMessage(lines, err) {
  const fresh = await Promise.all(lines.map((l) => api.product(l.product_id).catch(() => null)));
  const short = lines
    .map((l, i) => ({ l, p: fresh[i] }))
    .filter(({ l, p }) => p && Number(p.stock) < l.quantity)
    .map(({ l, p }) => (Number(p.stock) > 0 ? `“${p.name}” (only ${p.stock} left, you asked for ${l.quantity})` : `“${p.name}” (out of stock)`));
  if (short.length) return `Out of stock: ${short.join(", ")}. Nothing was ordered; adjust your cart and try again.`;
  return `Out of stock: ${err.message} Nothing was ordered.`;
}
