// Building DOM nodes safely. Every piece of data becomes a text node or an attribute value;
// nothing here parses HTML, so untrusted text (product names, user names) is always text.

const SVG_NS = "http://www.w3.org/2000/svg";

function apply(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "on") {
      for (const [type, handler] of Object.entries(value)) el.addEventListener(type, handler);
    } else if (key === "text") {
      el.textContent = String(value);
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key.startsWith("on")) {
      throw new Error(`inline handler attribute ${key} is not allowed; use {on: {...}}`);
    } else if (value === true) {
      el.setAttribute(key, "");
    } else {
      el.setAttribute(key, String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** h("p", {class: "x"}, "text", node, ...) -> an HTML element. */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  apply(el, attrs);
  return append(el, children);
}

/** The same for SVG elements (the analytics chart). */
export function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  apply(el, attrs);
  return append(el, children);
}

/** Replace every child of `el`. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** A polite "loading" line, announced to screen readers. */
export function loading(label = "Loading…") {
  return h("p", { class: "loading", role: "status", "aria-live": "polite" }, h("span", { class: "spinner", "aria-hidden": "true" }), label);
}

/** An error box with the message and an optional retry button. */
export function errorBox(message, retry) {
  return h(
    "div",
    { class: "error", role: "alert" },
    h("p", {}, message),
    retry ? h("button", { type: "button", class: "secondary", on: { click: retry } }, "Try again") : null,
  );
}

/** A short notice (success or info). */
export function notice(message, kind = "info") {
  return h("p", { class: `notice ${kind}`, role: "status" }, message);
}

/** A labelled form field. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), input, hint ? h("small", {}, hint) : null);
}

/** Money as the API sends it (a decimal string) with its currency. */
export function money(amount, currency = "USD") {
  if (amount === undefined || amount === null) return "—";
  const n = Number(amount);
  if (!Number.isFinite(n)) return `${amount} ${currency}`;
  try {
    return new Intl.NumberFormat(undefined, { style: "currency", currency }).format(n);
  } catch {
    return `${n.toFixed(2)} ${currency}`;
  }
}

/** A timestamp for people. */
export function when(value) {
  if (!value) return "";
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? String(value) : d.toLocaleString();
}
