// A small SVG bar chart of analytics windows, built with DOM APIs (no markup strings).

import { s, h, money } from "./dom.js";

const W = 480;
const H = 160;
const PAD = { top: 12, right: 8, bottom: 28, left: 32 };

function hhmm(value) {
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
}

/** windows: [{window_start, window_end, orders, units, revenue, unique_users}] -> <figure>. */
export function windowsChart(windows, metric = "orders", titleId = "chart-title") {
  const data = [...windows].sort((a, b) => String(a.window_start).localeCompare(String(b.window_start))).slice(-15);
  const values = data.map((w) => Number(w[metric]) || 0);
  const max = Math.max(1, ...values);
  const innerW = W - PAD.left - PAD.right;
  const innerH = H - PAD.top - PAD.bottom;
  const slot = innerW / Math.max(data.length, 1);
  const barW = Math.max(2, slot * 0.7);
  const svg = s(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-labelledby": titleId },
    s("title", { id: titleId }, `${metric} per one-minute window, last ${data.length} windows, peak ${metric === "revenue" ? money(max) : max}`),
    s("line", { x1: PAD.left, y1: PAD.top + innerH, x2: W - PAD.right, y2: PAD.top + innerH, class: "axis" }),
    s("text", { x: PAD.left - 4, y: PAD.top + 8, class: "tick", "text-anchor": "end" }, metric === "revenue" && max >= 1000 ? `${Math.round(max / 1000)}k` : String(Math.round(max))),
    s("text", { x: PAD.left - 4, y: PAD.top + innerH, class: "tick", "text-anchor": "end" }, "0"),
  );
  data.forEach((w, i) => {
    const v = values[i];
    const barH = (v / max) * innerH;
    const x = PAD.left + i * slot + (slot - barW) / 2;
    svg.append(
      s(
        "rect",
        { x: x.toFixed(1), y: (PAD.top + innerH - barH).toFixed(1), width: barW.toFixed(1), height: barH.toFixed(1), class: "bar" },
        s("title", {}, `${hhmm(w.window_start)}–${hhmm(w.window_end)}: ${w.orders} orders, ${w.units} units, ${money(w.revenue)}, ${w.unique_users} shoppers`),
      ),
    );
    if (i === 0 || i === data.length - 1 || data.length <= 6) {
      svg.append(s("text", { x: (x + barW / 2).toFixed(1), y: H - 10, class: "tick", "text-anchor": "middle" }, hhmm(w.window_start)));
    }
  });
  const latest = data[data.length - 1];
  return h(
    "figure",
    { class: "chart-figure" },
    svg,
    h(
      "figcaption",
      {},
      latest
        ? `Latest window ${hhmm(latest.window_start)}–${hhmm(latest.window_end)}: ${latest.orders} orders, ${latest.units} units, ${money(latest.revenue)} revenue, ${latest.unique_users} shoppers.`
        : "No windows yet.",
    ),
  );
}
