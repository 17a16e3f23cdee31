// The live panel: platform readiness (GET /ready and the checks it lists) and the latest
// analytics windows as a chart, refreshed every few seconds without reloading the page.

import { api } from "./api.js";
import { windowsChart } from "./chart.js";
import { h, replace, loading, errorBox } from "./dom.js";
import { every } from "./refresh.js";

const REFRESH_MS = 5000;
const OK = new Set(["ok", "ready", "up", "pass", "passed", "healthy", "true"]);
const GROUPS = ["checks", "services", "upstreams", "dependencies", "components"];

function isOk(v) {
  if (v === true) return true;
  if (typeof v === "string") return OK.has(v.toLowerCase());
  if (v && typeof v === "object") {
    for (const k of ["ok", "ready", "healthy"]) if (typeof v[k] === "boolean") return v[k];
    for (const k of ["status", "state"]) if (v[k] !== undefined) return isOk(v[k]);
  }
  return false;
}

function detailOf(v) {
  if (typeof v === "string" && !OK.has(v.toLowerCase())) return v;
  if (v && typeof v === "object") {
    for (const k of ["detail", "error", "message", "reason"]) if (typeof v[k] === "string") return v[k];
    if (typeof v.status === "string" && !OK.has(v.status.toLowerCase())) return v.status;
  }
  return "";
}

/** Whatever shape /ready has, a list of {name, ok, detail}. */
export function readinessChecks(body) {
  if (!body || typeof body !== "object") return [];
  for (const key of GROUPS) {
    const group = body[key];
    if (Array.isArray(group)) {
      return group.map((c, i) => ({ name: String(c?.name ?? c?.service ?? c?.check ?? `check ${i + 1}`), ok: isOk(c), detail: detailOf(c) }));
    }
    if (group && typeof group === "object") {
      return Object.entries(group).map(([name, v]) => ({ name, ok: isOk(v), detail: detailOf(v) }));
    }
  }
  return [];
}

export function render(main) {
  const ready = h("section", { id: "readiness", "aria-labelledby": "readiness-h" });
  const charts = h("section", { id: "analytics", "aria-labelledby": "analytics-h" });
  const stamp = h("p", { class: "muted", id: "refreshed", "aria-live": "off" });
  replace(
    main,
    h("h1", { tabindex: "-1" }, "Platform status"),
    stamp,
    h("h2", { id: "readiness-h" }, "Services"),
    ready,
    h("h2", { id: "analytics-h" }, "Orders per minute"),
    charts,
  );
  replace(ready, loading("Checking the platform…"));
  replace(charts, loading("Loading analytics…"));

  const refreshReady = async () => {
    try {
      const { ok, status, body } = await api.ready();
      const checks = readinessChecks(body);
      replace(
        ready,
        h("p", { class: `overall ${ok ? "ok" : "bad"}`, id: "overall", dataset: { state: ok ? "ready" : "not-ready" } },
          ok ? "✓ Platform ready" : `✗ Platform not ready (${status})`),
        checks.length
          ? h("ul", { class: "checks" }, checks.map((c) => h(
            "li",
            { class: c.ok ? "ok" : "bad", dataset: { check: c.name, state: c.ok ? "ready" : "not-ready" } },
            h("span", { class: "dot", "aria-hidden": "true" }),
            h("span", { class: "check-name" }, c.name.replace(/^upstream:/, "")),
            h("span", { class: "check-state" }, c.ok ? "ready" : "not ready"),
            c.detail ? h("span", { class: "muted" }, ` ${c.detail}`) : null,
          )))
          : h("p", { class: "muted" }, "The gateway lists no individual checks."),
      );
    } catch (err) {
      replace(ready, errorBox(err.message));
    }
  };

  const refreshCharts = async () => {
    try {
      const page = await api.analyticsWindows({ limit: 30 });
      const items = page?.items || (Array.isArray(page) ? page : []);
      replace(charts, items.length ? windowsChart(items) : h("p", { class: "empty" }, "No analytics windows yet: they appear a minute or two after the first orders."));
    } catch (err) {
      replace(charts, errorBox(err.message));
    }
  };

  return every(REFRESH_MS, async () => {
    await Promise.all([refreshReady(), refreshCharts()]);
    stamp.textContent = `Updated ${new Date().toLocaleTimeString()} · refreshes every ${REFRESH_MS / 1000} s`;
  });
}
