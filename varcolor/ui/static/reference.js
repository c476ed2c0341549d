// A reference photo beside the photo: picked (Reference…) or dropped on its panel, uploaded, matched
// by the server in the background; its matched cues show on the photo as suggestions (dots), which
// colour it like strokes. Strokes clear them around themselves, the eraser removes them.
import { S, TOKEN, $ } from "./state.js?token={{TOKEN}}";
import { api, showMessage, setBusy } from "./api.js?token={{TOKEN}}";
import { drawOverlay } from "./paint.js?token={{TOKEN}}";
import { sendEdit } from "./history.js?token={{TOKEN}}";
import { applyState, requestResult } from "./results.js?token={{TOKEN}}";

let shownSha = null, asked = 0;

export async function uploadReference(file) {
  if (!S.image) { showMessage("open a photo first, then its reference"); return; }
  showMessage("");
  $("reference-info").textContent = `reading ${file.name}…`;
  const { response, body } = await api("/api/reference-photo", { method: "POST", body: file, headers: { "X-Filename": encodeURIComponent(file.name) } });
  if (!response.ok) {
    $("reference-info").textContent = "";
    showMessage(body ? body.error : `could not open ${file.name} as a reference (${response.status})`);
    showReference(null);
    return;
  }
  await followMatching(body.reference_job);
}

// While the server matches, the page asks how it goes; the document with the suggestions comes as
// a new version, whose result the page fetches (as another tab's edit).
async function followMatching(job) {
  setBusy(true, `matching ${job.name}…`);
  $("reference-info").textContent = `matching ${job.name} with the photo…`;
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 300));
    const { response, body } = await api("/api/state");
    if (!response.ok || !body.image) { setBusy(false); return; }
    const now = body.reference_job;
    if (now && now.serial === job.serial && now.state === "matching") continue;
    setBusy(false);
    if (now && now.serial === job.serial && now.state === "failed") {
      showMessage(now.error);
      showReference(body);
      return;
    }
    if (body.version > S.version) { S.version = body.version; applyState(body); requestResult(performance.now(), 0); }
    else applyState(body);
    return;
  }
}

// The panel: the reference shown, what it gave, and its suggestions fetched when the document changed.
export function showReference(state) {
  const panel = $("reference-panel");
  panel.hidden = !S.image;
  const ref = state && state.doc ? state.doc.reference : null;
  $("reference-remove").hidden = !ref;
  if (!ref) {
    shownSha = null;
    $("reference-photo").hidden = true;
    $("reference-photo").removeAttribute("src");
    $("reference-empty").hidden = false;
    if (!(state && state.reference_job && state.reference_job.state === "matching")) $("reference-info").textContent = "";
    S.suggestions = [];
    S.suggestionsFor = null;
    return;
  }
  $("reference-empty").hidden = state.reference_shown;
  $("reference-photo").hidden = !state.reference_shown;
  if (state.reference_shown && shownSha !== ref.sha256) {
    shownSha = ref.sha256;
    $("reference-photo").src = `/api/reference-photo.png?token=${TOKEN}&v=${ref.sha256}`;
  }
  if (!state.reference_shown) $("reference-empty").textContent = `${ref.name} is not found on this computer; its suggestions are kept`;
  $("reference-info").textContent = `${ref.name}: ${ref.suggestions.toLocaleString()} suggested cue pixels (dots on the photo); ` +
    "strokes clear them around themselves, the eraser removes them";
  loadSuggestions(state.version);
}

export async function loadSuggestions(version) {
  if (S.suggestionsFor === version) return;
  const mine = ++asked;
  const { response, body } = await api("/api/suggestions");
  if (mine !== asked || !response.ok) return;
  S.suggestions = body.rows;
  S.suggestionsFor = version;
  window.studioSuggestions = body.rows.length; // for the browser tests
  drawOverlay();
}

export function installReference() {
  $("ref-file").addEventListener("change", (e) => { if (e.target.files[0]) uploadReference(e.target.files[0]); e.target.value = ""; });
  const drop = $("reference-drop");
  drop.addEventListener("dragover", (e) => { e.preventDefault(); e.stopPropagation(); drop.classList.add("dragover"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("dragover"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    e.stopPropagation();
    drop.classList.remove("dragover");
    if (e.dataTransfer.files[0]) uploadReference(e.dataTransfer.files[0]);
  });
  $("show-suggestions").addEventListener("change", (e) => { S.showSuggestions = e.target.checked; drawOverlay(); });
  $("reference-remove").onclick = () => sendEdit({ op: "reference-remove" });
}
