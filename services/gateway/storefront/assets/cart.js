// The cart, kept in localStorage so it survives reloads, closed tabs and an expired login.
// It holds product ids and quantities (plus the name last seen, for display); prices always
// come from the server: the cart page re-reads the catalogue and the order is priced by the API.

const KEY = "ecomctl.cart";
const listeners = new Set();

function read() {
  try {
    const lines = JSON.parse(localStorage.getItem(KEY) || "[]");
    return Array.isArray(lines)
      ? lines.filter((l) => l && typeof l.product_id === "string" && Number.isInteger(l.quantity) && l.quantity > 0)
      : [];
  } catch {
    return [];
  }
}

function write(lines) {
  localStorage.setItem(KEY, JSON.stringify(lines));
  for (const fn of listeners) fn(lines);
}

export function lines() {
  return read();
}

export function count() {
  return read().reduce((n, l) => n + l.quantity, 0);
}

export function add(product, quantity = 1) {
  const all = read();
  const line = all.find((l) => l.product_id === product.product_id);
  if (line) {
    line.quantity += quantity;
    line.name = product.name;
  } else {
    all.push({ product_id: product.product_id, name: product.name, quantity });
  }
  write(all);
}

export function setQuantity(productId, quantity) {
  const all = read();
  const q = Math.max(0, Math.floor(quantity));
  write(q === 0 ? all.filter((l) => l.product_id !== productId) : all.map((l) => (l.product_id === productId ? { ...l, quantity: q } : l)));
}

export function remove(productId) {
  write(read().filter((l) => l.product_id !== productId));
}

export function clear() {
  write([]);
}

export function onChange(fn) {
  listeners.add(fn);
  window.addEventListener("storage", (e) => {
    if (e.key === KEY) fn(read());
  });
}
