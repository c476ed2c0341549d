// Edits, undo and redo: each edit goes to the server, which keeps the document and its history;
// the result of the version it makes is asked for at once.
import { S, $ } from "./state.js?token={{TOKEN}}";
import { post, showMessage, setBusy } from "./api.js?token={{TOKEN}}";
import { applyState, requestResult } from "./results.js?token={{TOKEN}}";
import { drawOverlay } from "./paint.js?token={{TOKEN}}";

export async function sendEdit(op, t0 = performance.now()) {
  // The result is asked for at once, for the version this edit will make (versions count edits),
  // in parallel with the edit itself: the edit's answer is not on the way to the picture.
  const sent = post("/api/edit", op);
  const expected = S.version + 1;
  S.version = expected;
  requestResult(t0, 0);
  const { response, body } = await sent;
  if (!response.ok) {
    if (S.version === expected) { S.version = expected - 1; if (S.resultCtrl) S.resultCtrl.abort(); setBusy(false); }
    showMessage(body ? body.error : `edit failed (${response.status})`);
    drawOverlay();
    return;
  }
  if (body.version !== expected && S.version === expected) {
    S.version = body.version;
    requestResult(t0, 0);
  }
  showMessage("");
  applyState(body);
}
export async function simpleCall(path) {
  const t0 = performance.now();
  const { response, body } = await post(path);
  if (!response.ok) { showMessage(body ? body.error : `${path} failed`); return; }
  const changed = body.version !== S.version;
  S.version = body.version;
  if (changed) requestResult(t0, (performance.now() - t0) / 1000);
  applyState(body);
}

// The buttons that change the history (the keyboard's shortcuts are in controls.js).
export function installHistory() {
  $("undo").onclick = () => simpleCall("/api/undo");
  $("redo").onclick = () => simpleCall("/api/redo");
  $("clear").onclick = () => { if (S.image && (S.doc.strokes.length || S.doc.points.length)) sendEdit({ op: "clear" }); };
  $("restore-yes").onclick = () => simpleCall("/api/restore");
  $("restore-no").onclick = () => simpleCall("/api/dismiss-restore");
}
