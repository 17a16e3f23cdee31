// Order history (newest first, paginated) and one order with its server-computed total.

import { api } from "./api.js";
import { h, replace, loading, errorBox, money, notice, when } from "./dom.js";

const FINAL = new Set(["cancelled", "canceled", "refunded", "shipped", "delivered", "completed"]);

function cancellable(order) {
  return !FINAL.has(String(order.status || "").toLowerCase());
}

function shortId(id) {
  const s = String(id);
  return s.length > 12 ? `${s.slice(0, 8)}…` : s;
}

async function cancel(order, button, status, after) {
  button.disabled = true;
  replace(status, loading("Cancelling…"));
  try {
    await api.cancelOrder(order.id);
    replace(status, notice(`Order ${shortId(order.id)} is cancelled.`, "success"));
    after();
  } catch (err) {
    button.disabled = false;
    if (err.status === 401) return;
    replace(status, errorBox(err.status === 409 ? `This order can no longer be cancelled (${err.message}).` : err.message));
  }
}

export function renderList(main, { params, go }) {
  const cursor = params.get("cursor") || "";
  const status = h("div", { "aria-live": "polite" });
  const body = h("div");
  replace(main, h("h1", { tabindex: "-1" }, "Your orders"), status, body);
  const load = async () => {
    replace(body, loading("Loading your orders…"));
    try {
      const page = await api.orders({ cursor, limit: 20 });
      const items = page?.items || [];
      if (!items.length) {
        replace(body, h("p", { class: "empty" }, "No orders yet. ", h("a", { href: "#/" }, "Start shopping")));
        return;
      }
      replace(
        body,
        h("ul", { class: "orders" }, items.map((o) => {
          const btn = cancellable(o) ? h("button", { type: "button", class: "secondary", on: { click: () => cancel(o, btn, status, load) } }, "Cancel") : null;
          return h(
            "li",
            { class: "order", dataset: { orderId: o.id } },
            h("a", { href: `#/orders/${encodeURIComponent(o.id)}` }, `Order ${shortId(o.id)}`),
            h("span", { class: "muted" }, when(o.created_at)),
            h("span", { class: `status status-${String(o.status).toLowerCase()}` }, o.status),
            h("span", { class: "num order-total" }, money(o.total, o.currency)),
            btn,
          );
        })),
        page.next_cursor ? h("nav", { class: "pager", "aria-label": "Pages" }, cursor ? h("a", { href: "#/orders" }, "Newest") : null, h("button", { type: "button", class: "secondary", on: { click: () => go("/orders", { cursor: page.next_cursor }) } }, "Older →")) : null,
      );
    } catch (err) {
      if (err.status !== 401) replace(body, errorBox(err.message, load));
    }
  };
  load();
}

export function renderOne(main, { args, params }) {
  const [id] = args;
  const status = h("div", { "aria-live": "polite" });
  const body = h("div");
  replace(main, h("p", {}, h("a", { href: "#/orders" }, "← All orders")), h("h1", { tabindex: "-1" }, `Order ${shortId(id)}`), status, body);
  if (params.get("placed")) replace(status, notice("Thank you! Your order is placed.", "success"));
  const load = async () => {
    replace(body, loading("Loading the order…"));
    try {
      const o = await api.order(id);
      const btn = cancellable(o) ? h("button", { type: "button", class: "secondary", id: "cancel-order", on: { click: () => cancel(o, btn, status, load) } }, "Cancel order") : null;
      replace(
        body,
        h("dl", { class: "facts" },
          h("dt", {}, "Status"), h("dd", { id: "order-status", class: `status status-${String(o.status).toLowerCase()}` }, o.status),
          h("dt", {}, "Placed"), h("dd", {}, when(o.created_at)),
          h("dt", {}, "Order id"), h("dd", { class: "mono" }, o.id),
        ),
        h("div", { class: "table-wrap" }, h("table", {},
          h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Product"), h("th", { scope: "col", class: "num" }, "Unit price"), h("th", { scope: "col", class: "num" }, "Quantity"), h("th", { scope: "col", class: "num" }, "Line total"))),
          h("tbody", {}, (o.items || []).map((it) => h("tr", {},
            h("th", { scope: "row" }, it.name || it.product_id),
            h("td", { class: "num" }, money(it.unit_price, o.currency)),
            h("td", { class: "num" }, String(it.quantity)),
            h("td", { class: "num" }, money(it.line_total, o.currency)),
          ))),
          h("tfoot", {}, h("tr", {}, h("th", { scope: "row", colspan: "3" }, "Total charged"), h("td", { class: "num", id: "order-total", dataset: { amount: o.total } }, money(o.total, o.currency)))),
        )),
        btn,
      );
    } catch (err) {
      if (err.status === 401) return;
      replace(body, errorBox(err.status === 404 ? "There is no such order in your account." : err.message, err.status === 404 ? null : load));
    }
  };
  load();
}
