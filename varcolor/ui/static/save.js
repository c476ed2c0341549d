// Saving the result, the mask, the points and the session at full resolution.
import { S, $ } from "./state.js?token={{TOKEN}}";
import { api, post, showMessage } from "./api.js?token={{TOKEN}}";

// Save: the server solves the full photo in another process; the page shows its progress against
// the server's estimate, and Cancel stops it (nothing of an unfinished save is kept).
export async function save(overwrite) {
  if (!S.image || S.saving) return;
  const out = $("save-out");
  out.textContent = "";
  const { response, body } = await post("/api/save", { name: $("save-name").value, format: $("save-format").value, overwrite });
  if (response.status === 409 && !overwrite) {
    if (confirm(`Replace these files?\n${body.exists.join("\n")}`)) return save(true);
    out.textContent = "not saved";
    return;
  }
  if (!response.ok) { showMessage(body ? body.error : `save failed (${response.status})`); return; }
  S.saving = true;
  $("save").disabled = true;
  $("save-progress").hidden = false;
  $("save-cancel").hidden = false;
  let status = body;
  try {
    while (status.state === "solving" || status.state === "publishing") {
      showSaveProgress(status);
      await new Promise((resolve) => setTimeout(resolve, 400));
      const next = await api("/api/save-status");
      if (!next.response.ok) { showMessage(`lost the save (${next.response.status})`); return; }
      status = next.body;
    }
  } catch (e) {
    showMessage(`lost the server while saving (${e.message})`);
    return;
  } finally {
    S.saving = false;
    $("save").disabled = false;
    $("save-progress").hidden = true;
    $("save-cancel").hidden = true;
  }
  if (status.state === "cancelled") { out.textContent = "save cancelled: nothing written"; return; }
  if (status.state !== "done") { out.textContent = ""; showMessage(status.error || "save failed"); return; }
  out.replaceChildren();
  const took = document.createElement("div");
  took.textContent = `saved in ${status.seconds.toFixed(1)} s:`;
  out.appendChild(took);
  for (const [kind, path] of Object.entries(status.paths)) {
    const line = document.createElement("div");
    line.textContent = `${kind}: ${path}`;
    out.appendChild(line);
  }
  const cmd = document.createElement("code");
  cmd.textContent = status.command;
  out.append("Same result from the shell: ", cmd);
  out.scrollIntoView({ block: "nearest" }); // the list below the panel's fold: brought into view
}
export function showSaveProgress(status) {
  const bar = $("save-progress");
  bar.value = status.fraction;
  const what = status.state === "publishing" ? "writing the files" : "solving the full photo";
  $("save-out").textContent = `${what}: ${status.elapsed.toFixed(0)} s of about ${Math.max(status.estimate, status.elapsed).toFixed(0)} s`;
}

export function installSave() {
  $("save-cancel").onclick = () => post("/api/save-cancel");
  $("save").onclick = () => save(false);
}
