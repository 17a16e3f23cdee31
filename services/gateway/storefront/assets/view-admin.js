// Admin: add products and edit existing ones. The server enforces the right (403 otherwise).

import { api } from "./api.js";
import * as session from "./session.js";
import { h, replace, loading, errorBox, field, money, notice } from "./dom.js";

function productForm(initial, submitLabel, onSubmit) {
  const name = h("input", { type: "text", name: "name", required: true, maxlength: "200", value: initial.name ?? "" });
  const price = h("input", { type: "text", name: "price", required: true, inputmode: "decimal", pattern: "\\d+(\\.\\d{1,2})?", value: initial.price ?? "" });
  const stock = h("input", { type: "number", name: "stock", min: "0", step: "1", value: String(initial.stock ?? 0) });
  const category = h("input", { type: "text", name: "category", value: initial.category ?? "" });
  const description = h("textarea", { name: "description", rows: "3" });
  description.value = initial.description ?? "";
  const status = h("div", { "aria-live": "polite" });
  const form = h(
    "form",
    { class: "stack product-form", on: { submit: async (e) => {
      e.preventDefault();
      const body = { name: name.value.trim(), price: Number(price.value).toFixed(2), stock: Math.max(0, Math.floor(Number(stock.value) || 0)) };
      if (category.value.trim()) body.category = category.value.trim();
      if (description.value.trim()) body.description = description.value.trim();
      const button = form.querySelector("button[type=submit]");
      button.disabled = true;
      replace(status, loading("Saving…"));
      try {
        const saved = await onSubmit(body);
        if (!initial.product_id) form.reset(); // a new product: clear the form for the next one
        replace(status, notice(`Saved “${saved?.name ?? body.name}”.`, "success"));
      } catch (err) {
        if (err.status !== 401) replace(status, errorBox(err.status === 403 ? "Only an admin can change the catalogue." : err.message));
      } finally {
        button.disabled = false;
      }
    } } },
    field("Name", name),
    field("Price (USD)", price, "For example 19.99"),
    field("Stock", stock),
    field("Category", category),
    field("Description", description),
    h("button", { type: "submit" }, submitLabel),
    status,
  );
  return form;
}

export function render(main) {
  const list = h("div");
  const q = h("input", { type: "search", name: "q", placeholder: "Find a product to edit" });
  const load = async () => {
    replace(list, loading("Loading products…"));
    try {
      const page = await api.products({ q: q.value.trim(), limit: 50 });
      const items = page?.items || [];
      replace(list, items.length
        ? h("ul", { class: "admin-list" }, items.map((p) => {
          const slot = h("div");
          const edit = h("button", { type: "button", class: "secondary", "aria-expanded": "false", "aria-label": `Edit ${p.name}`, on: { click: () => {
            const open = edit.getAttribute("aria-expanded") === "true";
            edit.setAttribute("aria-expanded", String(!open));
            replace(slot, open ? null : productForm(p, "Save changes", (body) => api.updateProduct(p.product_id, body)));
          } } }, "Edit");
          return h("li", { dataset: { productId: p.product_id } }, h("span", { class: "product-name" }, p.name), " ", h("span", { class: "muted" }, `${money(p.price, p.currency)} · stock ${p.stock}`), " ", edit, slot);
        }))
        : h("p", { class: "empty" }, "No products found."));
    } catch (err) {
      if (err.status !== 401) replace(list, errorBox(err.message, load));
    }
  };
  replace(
    main,
    h("h1", { tabindex: "-1" }, "Catalogue admin"),
    session.isAdmin() ? null : notice("This account does not look like an admin; the shop will refuse changes.", "warn"),
    h("section", { "aria-labelledby": "add-h" }, h("h2", { id: "add-h" }, "Add a product"), productForm({}, "Add product", async (body) => {
      const created = await api.createProduct(body);
      load();
      return created;
    })),
    h("section", { "aria-labelledby": "edit-h" }, h("h2", { id: "edit-h" }, "Edit products"),
      h("form", { class: "toolbar", role: "search", on: { submit: (e) => { e.preventDefault(); load(); } } }, field("Search", q), h("button", { type: "submit" }, "Find")),
      list),
  );
  load();
}
