// Refreshing a live page in place: run `fn` now and every `ms` while the tab is visible.

/** Returns the view's cleanup: it stops the refreshing. */
export function every(ms, fn) {
  let timer = null;
  let stopped = false;
  const tick = async () => {
    if (!document.hidden) await fn();
    if (!stopped) timer = setTimeout(tick, ms);
  };
  tick();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
