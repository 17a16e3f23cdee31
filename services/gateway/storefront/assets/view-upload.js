// Upload a text file through a presigned POST, then watch the file processor handle it.

import { api } from "./api.js";
import { h, replace, loading, errorBox, field, notice } from "./dom.js";

const TYPES = { txt: "text/plain", csv: "text/csv", json: "application/json" };
const MAX_BYTES = 10 * 1024 * 1024;
const POLL_MS = 1000;
const POLL_LIMIT = 120;

function typeOf(file) {
  const ext = (file.name.split(".").pop() || "").toLowerCase();
  return file.type || TYPES[ext] || "text/plain";
}

/** A flat result as a list of facts; anything nested as indented JSON text. */
function describeResult(value) {
  if (value && typeof value === "object" && !Array.isArray(value) && Object.values(value).every((v) => v === null || typeof v !== "object")) {
    return h("dl", { class: "facts result" }, Object.entries(value).map(([k, v]) => [h("dt", {}, k.replace(/_/g, " ")), h("dd", {}, String(v))]));
  }
  return h("pre", { class: "result" }, typeof value === "string" ? value : JSON.stringify(value, null, 2));
}

export function render(main) {
  let stopped = false;
  const fileInput = h("input", { type: "file", name: "file", accept: ".txt,.csv,.json,text/plain,text/csv,application/json" });
  const text = h("textarea", { name: "text", rows: "4", placeholder: "…or type some text to upload as a .txt file" });
  const status = h("div", { id: "upload-status", "aria-live": "polite" });
  const result = h("div", { id: "upload-result" });

  const submit = async (e) => {
    e.preventDefault();
    let file = fileInput.files && fileInput.files[0];
    if (!file && text.value.trim()) file = new File([text.value], `note-${Date.now()}.txt`, { type: "text/plain" });
    if (!file) {
      replace(status, errorBox("Choose a file or type some text first."));
      return;
    }
    if (file.size > MAX_BYTES) {
      replace(status, errorBox("That file is larger than 10 MB."));
      return;
    }
    const button = form.querySelector("button");
    button.disabled = true;
    replace(result);
    try {
      replace(status, loading("Asking the shop for an upload slot…"));
      const slot = await api.presign({ file_name: file.name, file_type: typeOf(file) });
      const fields = slot.fields || {};
      const key = String(slot.key || fields.key || "").replace("${filename}", file.name);
      replace(status, loading(`Uploading ${file.name}…`));
      const data = new FormData();
      for (const [k, v] of Object.entries(fields)) data.append(k, v);
      data.append("file", file);
      let res;
      try {
        res = await fetch(slot.url, { method: "POST", body: data });
      } catch {
        throw new Error("The upload was blocked or the storage cannot be reached.");
      }
      if (!res.ok) throw new Error(`The storage refused the upload (${res.status}).`);
      replace(status, loading("Uploaded. Waiting for the file processor…"));
      await poll(key);
    } catch (err) {
      if (err.status !== 401) replace(status, errorBox(err.message));
    } finally {
      button.disabled = false;
    }
  };

  const poll = async (key) => {
    for (let i = 0; i < POLL_LIMIT && !stopped; i += 1) {
      let st = null;
      try {
        st = await api.fileStatus(key);
      } catch (err) {
        if (err.status !== 404) throw err; // 404: the upload is not visible yet
      }
      if (st && st.processed) {
        replace(status, notice(`Processed: ${key}`, "success"));
        replace(result, h("h2", {}, "Result"), describeResult(st.result ?? st));
        return;
      }
      replace(status, loading(st && st.exists ? "Uploaded. Processing…" : "Waiting for the upload to appear…"));
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
    if (!stopped) replace(status, errorBox("The file has not been processed yet. Check again later."));
  };

  const form = h(
    "form",
    { class: "stack", on: { submit } },
    field("Text file (.txt, .csv, .json, up to 10 MB)", fileInput),
    field("Text", text),
    h("button", { type: "submit" }, "Upload"),
  );
  replace(main, h("h1", { tabindex: "-1" }, "Upload a file"), form, status, result);
  return () => {
    stopped = true;
  };
}
