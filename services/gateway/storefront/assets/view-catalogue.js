// The catalogue: text search, category filter, cursor pagination, add to cart.

import { api } from "./api.js";
import * as cart from "./cart.js";
import { h, replace, loading, errorBox, field, money, notice } from "./dom.js";

const PAGE_SIZE = 12;
let categories = null; // learned once per page load, lazily
let trail = []; // cursors of the pages before the current one
let trailKey = "";

export function render(main, { params, go }) {
  const q = params.get("q") || "";
  const category = params.get("category") || "";
  const cursor = params.get("cursor") || "";
  const key = `${q}\u0000${category}`;
  if (key !== trailKey || !cursor) {
    trail = [];
    trailKey = key;
  }

  const qInput = h("input", { type: "search", name: "q", value: q, placeholder: "Search products", autocomplete: "off" });
  const catSelect = h("select", { name: "category" }, h("option", { value: "" }, "All categories"));
  fillCategories(catSelect, category);
  const search = (extra = {}) => go("/", { ...(qInput.value.trim() ? { q: qInput.value.trim() } : {}), ...(catSelect.value ? { category: catSelect.value } : {}), ...extra });
  const form = h(
    "form",
    { class: "toolbar", role: "search", on: { submit: (e) => { e.preventDefault(); search(); } } },
    field("Search", qInput),
    field("Category", catSelect),
    h("button", { type: "submit" }, "Search"),
  );
  catSelect.addEventListener("change", () => search());

  const results = h("section", { "aria-label": "Products", id: "results" });
  const pager = h("nav", { class: "pager", "aria-label": "Pages" });
  const banner = params.get("notice") ? notice(params.get("notice"), "success") : null;
  replace(main, h("h1", { tabindex: "-1" }, q ? `Results for “${q}”` : "Catalogue"), banner, form, results, pager);

  const load = async () => {
    replace(results, loading("Loading products…"));
    replace(pager);
    try {
      const page = await api.products({ q, category, cursor, limit: PAGE_SIZE });
      const items = page?.items || [];
      if (!items.length) {
        replace(results, h("p", { class: "empty" }, q || category ? "No products match your search." : "The catalogue is empty."));
      } else {
        replace(results, h("ul", { class: "grid" }, items.map(card)));
      }
      const prev = trail.length || cursor
        ? h("button", { type: "button", class: "secondary", on: { click: () => { const c = trail.pop(); search(c ? { cursor: c } : {}); } } }, "← Previous")
        : null;
      const next = page?.next_cursor
        ? h("button", { type: "button", class: "secondary", on: { click: () => { trail.push(cursor); search({ cursor: page.next_cursor }); } } }, "Next →")
        : null;
      replace(pager, prev, next);
      results.dataset.for = window.location.hash; // which address these results answer (tests wait on it)
      performance.mark("catalogue-rendered");
      main.dataset.state = "ready";
      for (const p of items) learnCategory(p.category, catSelect, category);
    } catch (err) {
      replace(results, errorBox(err.message, load));
    }
  };
  load();
}

function card(p) {
  const inStock = Number(p.stock) > 0;
  const added = h("span", { class: "added", role: "status" });
  return h(
    "li",
    { class: "card", dataset: { productId: p.product_id } },
    h("h2", {}, h("a", { href: `#/product/${encodeURIComponent(p.product_id)}`, class: "product-name" }, p.name)),
    p.category ? h("p", { class: "muted" }, p.category) : null,
    h("p", { class: "price" }, money(p.price, p.currency)),
    h("p", { class: inStock ? "stock" : "stock out" }, inStock ? `${p.stock} in stock` : "Out of stock"),
    h(
      "button",
      {
        type: "button",
        disabled: !inStock,
        "aria-label": `Add ${p.name} to cart`,
        on: { click: () => { cart.add(p, 1); added.textContent = "Added"; } },
      },
      "Add to cart",
    ),
    added,
  );
}

function learnCategory(name, select, selected) {
  if (!name) return;
  categories = categories || new Set();
  if (!categories.has(name)) {
    categories.add(name);
    fillCategories(select, selected);
  }
}

function fillCategories(select, selected) {
  const names = new Set(categories || []);
  if (selected) names.add(selected);
  select.replaceChildren(h("option", { value: "" }, "All categories"), ...[...names].sort().map((c) => h("option", { value: c, selected: c === selected }, c)));
  if (categories === null) {
    categories = new Set();
    // One wider read after first render, so the filter offers categories beyond this page.
    api.products({ limit: 100 }).then((page) => {
      for (const p of page?.items || []) if (p.category) categories.add(p.category);
      if (select.isConnected) fillCategories(select, selected);
    }, () => {});
  }
}
