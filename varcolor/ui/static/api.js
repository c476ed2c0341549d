// Server calls: every request carries the per-launch token; errors and notices in the message bar.
import { S, TOKEN, $ } from "./state.js?token={{TOKEN}}";

export const HEADERS = { "X-Varcolor-Token": TOKEN };

export async function api(path, options = {}) {
  const response = await fetch(path, { ...options, headers: { ...HEADERS, ...(options.headers || {}) } });
  let body = null;
  if ((response.headers.get("content-type") || "").includes("json")) body = await response.json();
  return { response, body };
}
export async function post(path, data) {
  return api(path, { method: "POST", body: JSON.stringify(data || {}), headers: { "Content-Type": "application/json" } });
}
// An error (S.lastError keeps it) or, with warning set, a notice; an empty text clears the bar.
export function showMessage(text, warning = false) {
  const box = $("message");
  box.textContent = text || "";
  box.hidden = !text;
  box.classList.toggle("warning", Boolean(warning));
  if (text && !warning) S.lastError = text;
}
export function setBusy(on, text) {
  $("busy").hidden = !on;
  $("busy-text").textContent = text || "solving…";
}
