// Opening a photo or a saved session: the file chooser, or a file dropped on the page.
import { $, viewport } from "./state.js?token={{TOKEN}}";
import { api, showMessage, setBusy } from "./api.js?token={{TOKEN}}";
import { openState } from "./results.js?token={{TOKEN}}";

export async function upload(file) {
  showMessage("");
  setBusy(true, `opening ${file.name}…`);
  const { response, body } = await api("/api/open", { method: "POST", body: file, headers: { "X-Filename": encodeURIComponent(file.name) } });
  setBusy(false);
  if (!response.ok) { showMessage(body ? body.error : `could not open ${file.name} (${response.status})`); return; }
  await openState(body);
}

export function installOpen() {
  $("file").addEventListener("change", (e) => { if (e.target.files[0]) upload(e.target.files[0]); e.target.value = ""; });
  viewport.addEventListener("dragover", (e) => { e.preventDefault(); viewport.classList.add("dragover"); });
  viewport.addEventListener("dragleave", () => viewport.classList.remove("dragover"));
  viewport.addEventListener("drop", (e) => {
    e.preventDefault();
    viewport.classList.remove("dragover");
    if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
  });
}
