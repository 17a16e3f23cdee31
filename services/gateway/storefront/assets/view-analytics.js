// The analytics page: revenue and orders per minute from the stream job's windows, the top
// products and, for an admin, the top buyers; refreshed in place every few seconds.

import { api } from "./api.js";
import { windowsChart } from "./chart.js";
import { h, replace, loading, errorBox, money, when } from "./dom.js";
import { every } from "./refresh.js";
import * as session from "./session.js";

const REFRESH_MS = 5000;
const names = new Map(); // product or user id -> display name (looked up once)

async function nameOf(kind, id) {
  const key = `${kind}:${id}`;
  if (!names.has(key)) {
    try {
      const found = kind === "product" ? await api.product(id) : await api.user(id);
      names.set(key, found.name || id);
    } catch {
      return id.slice(0, 8);
    }
  }
  return names.get(key);
}

function figures(summary) {
  const recent = summary?.recent;
  const latest = summary?.latest;
  const item = (label, value, id) => h("div", { class: "figure" }, h("dt", {}, label), h("dd", { id }, value));
  return h(
    "dl",
    { class: "figures" },
    item("Orders (recent windows)", String(recent?.orders ?? 0), "fig-orders"),
    item("Revenue (recent windows)", money(recent?.revenue ?? "0"), "fig-revenue"),
    item("Latest window", latest ? `${when(latest.window_start)}: ${latest.orders} orders, ${money(latest.revenue)}` : "none yet", "fig-latest"),
    item("Stream lag", summary?.lag_seconds == null ? "—" : `${Number(summary.lag_seconds).toFixed(0)} s`, "fig-lag"),
  );
}

async function rankTable(id, caption, kind, rows, label) {
  if (!rows.length) return h("p", { class: "empty", id }, `No ${label} in the recent windows yet.`);
  const named = await Promise.all(rows.map((r) => nameOf(kind, kind === "product" ? r.product_id : r.user_id)));
  return h(
    "div",
    { class: "table-wrap" },
    h(
      "table",
      { id },
      h("caption", {}, caption),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, label === "products" ? "Product" : "Buyer"),
        h("th", { scope: "col", class: "num" }, kind === "product" ? "Units" : "Orders"),
        h("th", { scope: "col", class: "num" }, "Revenue"))),
      h("tbody", {}, rows.map((r, i) => h(
        "tr",
        { dataset: { id: kind === "product" ? r.product_id : r.user_id } },
        h("td", {}, named[i]),
        h("td", { class: "num" }, String(kind === "product" ? r.units : r.orders)),
        h("td", { class: "num" }, money(r.revenue)),
      ))),
    ),
  );
}

export function render(main) {
  const admin = Boolean(session.current()) && session.isAdmin();
  const stamp = h("p", { class: "muted", id: "refreshed", "aria-live": "off" });
  const summary = h("section", { id: "analytics-summary", "aria-label": "Recent totals" });
  const revenue = h("section", { id: "revenue-chart", "aria-labelledby": "revenue-h" });
  const orders = h("section", { id: "orders-chart", "aria-labelledby": "orders-h" });
  const top = h("section", { id: "top-products", "aria-labelledby": "top-h" });
  const buyers = admin ? h("section", { id: "top-buyers", "aria-labelledby": "buyers-h" }) : null;
  replace(
    main,
    h("h1", { tabindex: "-1" }, "Shop analytics"),
    h("p", {}, "One-minute windows computed by the stream job from every order event; a window appears a few seconds after its minute ends."),
    stamp,
    summary,
    h("h2", { id: "revenue-h" }, "Revenue per minute"),
    revenue,
    h("h2", { id: "orders-h" }, "Orders per minute"),
    orders,
    h("h2", { id: "top-h" }, "Top products"),
    top,
    admin ? h("h2", { id: "buyers-h" }, "Top buyers") : null,
    buyers,
  );
  for (const el of [summary, revenue, orders, top, buyers]) if (el) replace(el, loading("Loading analytics…"));

  const refresh = async () => {
    try {
      const [sum, page, products, users] = await Promise.all([
        api.analyticsSummary(),
        api.analyticsWindows({ limit: 30 }),
        api.topProducts({ limit: 5 }),
        admin ? api.topUsers({ limit: 5 }) : Promise.resolve(null),
      ]);
      const items = page?.items || [];
      replace(summary, figures(sum));
      const none = () => h("p", { class: "empty" }, "No windows yet: they appear a minute or so after the first orders.");
      replace(revenue, items.length ? windowsChart(items, "revenue", "revenue-title") : none());
      replace(orders, items.length ? windowsChart(items, "orders", "orders-title") : none());
      replace(top, await rankTable("top-products-table", "Best sellers over the recent windows", "product", products?.items || [], "products"));
      if (buyers) replace(buyers, await rankTable("top-buyers-table", "Biggest buyers over the recent windows", "user", users?.items || [], "buyers"));
      stamp.textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`;
    } catch (err) {
      replace(summary, errorBox(err.message, refresh));
    }
  };

  return every(REFRESH_MS, refresh);
}
