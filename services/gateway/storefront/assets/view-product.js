// One product: details and add to cart.

import { api } from "./api.js";
import * as cart from "./cart.js";
import { h, replace, loading, errorBox, field, money, notice } from "./dom.js";

export function render(main, { args }) {
  const [id] = args;
  const body = h("div");
  replace(main, h("p", {}, h("a", { href: "#/" }, "← Catalogue")), body);
  const load = async () => {
    replace(body, h("h1", { tabindex: "-1" }, "Product"), loading());
    try {
      const p = await api.product(id);
      const stock = Number(p.stock) || 0;
      const qty = h("input", { type: "number", min: "1", max: String(Math.max(stock, 1)), value: "1", inputmode: "numeric" });
      const status = h("div", { "aria-live": "polite" });
      const add = (e) => {
        e.preventDefault();
        const n = Math.floor(Number(qty.value));
        if (!Number.isFinite(n) || n < 1) {
          replace(status, notice("Choose a quantity of at least 1.", "warn"));
          return;
        }
        cart.add(p, n);
        replace(status, notice(`Added ${n} × ${p.name} to your cart.`, "success"), " ", h("a", { href: "#/cart" }, "Go to cart"));
      };
      replace(
        body,
        h("h1", { tabindex: "-1", class: "product-name" }, p.name),
        h("p", { class: "price big" }, money(p.price, p.currency)),
        p.category ? h("p", { class: "muted" }, `Category: ${p.category}`) : null,
        h("p", { class: stock > 0 ? "stock" : "stock out" }, stock > 0 ? `${stock} in stock` : "Out of stock"),
        p.description ? h("p", { class: "description" }, p.description) : null,
        h("form", { class: "toolbar", on: { submit: add } }, field("Quantity", qty), h("button", { type: "submit", disabled: stock <= 0 }, "Add to cart")),
        status,
      );
      document.title = `${p.name} · ecomctl shop`;
    } catch (err) {
      replace(body, h("h1", { tabindex: "-1" }, "Product"), errorBox(err.status === 404 ? "This product does not exist (any more)." : err.message, err.status === 404 ? null : load));
    }
  };
  load();
}
