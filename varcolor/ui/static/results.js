// The server's state and results: the document and photo the page shows, and the newest result
// of the latest edit (long polls; a newer edit's request supersedes an older one's).
import { S, TOKEN, $, grayCanvas, resultCanvas, overlayCanvas, resultCtx, strokeLayer, stage, grayTiles, resultTiles } from "./state.js?token={{TOKEN}}";
import { api, HEADERS, showMessage, setBusy } from "./api.js?token={{TOKEN}}";
import { drawOverlay, showGuessed } from "./paint.js?token={{TOKEN}}";
import { fit, updateTiles } from "./view.js?token={{TOKEN}}";
import { fitBrush, setTool } from "./controls.js?token={{TOKEN}}";
import { showReference } from "./reference.js?token={{TOKEN}}";

// The status line, in words: what the picture shows and how long it took.
export function statusWords(meta, record) {
  const info = meta.info;
  // "unchanged": the edit left every cue pixel of the live copy as it was (a stroke over one of
  // the same colour): nothing was solved, and the picture is the last solve's, not a new one.
  if (info.solver === "unchanged") return "nothing new to colour: the stroke repaints colours already there";
  if (info.solver === "none") return "no colour yet: paint a stroke on the photo";
  const seconds = record.total < 1 ? record.total.toFixed(2) : record.total.toFixed(1);
  const how = { "low-rank": ", only the change recomputed", window: ", recomputed around the stroke" }[info.update] || "";
  return meta.final ? `colours updated in ${seconds} s${how}` : `a quick preview in ${seconds} s, refining…`;
}

// A one-line hint over the photo for someone new to it: where to start, and after a first stroke,
// what it coloured (its thing, restrained; everything, with an unrestrained method) and what next.
export function showHint() {
  const suggested = S.doc.reference ? S.doc.reference.suggestions : 0; // a reference's colours: no first-stroke hints
  const cues = S.doc.strokes.filter((s) => s.tool !== "eraser").length + S.doc.points.length + suggested;
  const hint = $("canvas-hint");
  hint.hidden = !S.image || cues > 1;
  // The default engine keeps a stroke's colour to its thing (restraint); the others spread it.
  const restrained = (S.restrained || []).includes(S.doc.settings.method);
  hint.textContent = cues === 0
    ? "Paint a stroke here: its colour spreads over the similar parts of the photo"
    : restrained
      ? "The colour stays on the thing you painted: add a stroke on each thing whose colour you know"
      : "One colour spreads everywhere: add a stroke in each region that should differ";
}

export function applyState(state) {
  S.neural = state.neural;
  S.restrained = state.restrained;
  $("method").querySelector('option[value="levin+ideepcolor"]').disabled = !state.neural;
  const suggesting = state.neural || (state.doc && state.doc.reference);
  if (!S.chosen) $("suggest-note").textContent = suggesting ? "click a point on the photo" : "needs the neural extra (PyTorch)";
  if (!state.image) return;
  if (state.version < (S.docVersion || 0)) return; // an answer overtaken by a later edit's
  S.docVersion = state.version;
  S.doc = state.doc;
  S.version = Math.max(S.version, state.version);
  $("undo").disabled = !state.can_undo;
  $("redo").disabled = !state.can_redo;
  $("method").value = state.doc.settings.method;
  if (S.selected !== null && !S.doc.points.some((p) => p.id === S.selected)) S.selected = null;
  const r = state.restorable;
  $("restore").hidden = !r;
  if (r) $("restore-text").textContent = `An autosaved session of this photo exists (${r.text}, ${r.saved}).`;
  if (state.message) showMessage(state.message, true);
  if (state.neutral_rgb) S.neutralRgb = state.neutral_rgb;
  showReference(state);
  drawOverlay();
  showHint();
}

// After a solve: colour that flooded light areas no cue touched (the server measures it) brings a
// hint to use the neutral brush, until it is dismissed for this photo.
export function showFlood(info) {
  const box = $("flood-hint");
  const due = Boolean(info && info.flooded) && S.image && !S.floodDismissed.has(S.image.sha256);
  box.hidden = !due;
  if (due) $("flood-text").textContent = `Colour spread into light areas no stroke touched (${Math.round(info.flood * 100)} % ` +
    "of the photo). Whites and grays need strokes of their own: paint them with the neutral brush (N).";
}
export function installFlood() {
  // The hint lies over the photo: a click on it is not a stroke.
  for (const kind of ["pointerdown", "pointerup", "contextmenu", "wheel"]) $("flood-hint").addEventListener(kind, (e) => e.stopPropagation());
  $("flood-dismiss").onclick = () => { if (S.image) S.floodDismissed.add(S.image.sha256); $("flood-hint").hidden = true; };
  $("flood-neutral").onclick = () => { setTool("neutral"); $("flood-hint").hidden = true; };
}

export async function openState(state) {
  S.image = state.image;
  const im = S.image;
  S.scaleX = im.work_width / im.width;
  S.scaleY = im.work_height / im.height;
  for (const c of [grayCanvas, resultCanvas, overlayCanvas, strokeLayer]) { c.width = im.work_width; c.height = im.work_height; }
  const size = `${im.width}×${im.height}` +
    (im.work_width !== im.width ? ` (live view ${im.work_width}×${im.work_height}; saving solves full size)` : "") +
    (im.bits === 16 ? ", 16-bit" : "");
  // The header names the photo; its size goes to the status bar (the header's room is the name's).
  $("image-name").textContent = im.name;
  $("image-name").title = `${im.name} — ${size}`; // a very long name is cut short; the whole of it on hover
  $("image-info").textContent = size;
  $("flood-hint").hidden = true;
  $("save-name").value = im.name.replace(/\.[^.]+$/, "") + "_colorized";
  $("reference-row").hidden = !im.colour;
  $("reference").checked = false;
  $("reference-img").hidden = true;
  $("guessed-img").hidden = true;
  $("drop-hint").hidden = true;
  $("reference-panel").hidden = false; // before the fit: the panel takes its share of the width
  stage.hidden = false;
  for (const el of [stage, grayTiles, resultTiles]) { el.style.width = im.work_width + "px"; el.style.height = im.work_height + "px"; }
  S.serial = 0;
  S.have = 0;
  S.docVersion = 0;
  S.selected = null;
  S.chosen = null;
  for (const pair of S.tiles.values()) pair.forEach((el) => el.remove());
  S.tiles.clear();
  S.viewSaid = null; // the server forgets the view with the photo
  const gray = new Image();
  gray.src = `/api/gray.png?token=${TOKEN}&v=${im.sha256}`;
  await gray.decode();
  grayCanvas.getContext("2d").drawImage(gray, 0, 0);
  resultCtx.drawImage(gray, 0, 0);
  S.grayPixels = grayCanvas.getContext("2d").getImageData(0, 0, im.work_width, im.work_height).data;
  if (im.colour) $("reference-img").src = `/api/reference.png?token=${TOKEN}&v=${im.sha256}`;
  fit();
  fitBrush();
  applyState(state);
  requestResult(performance.now(), 0);
}

export async function requestResult(t0, editSeconds) {
  clearTimeout(metricsTimer); // an edit: its own result's metrics come after it
  if (S.resultCtrl) S.resultCtrl.abort();
  const ctrl = new AbortController();
  S.resultCtrl = ctrl;
  const want = S.version;
  S.stale = true;
  setBusy(true);
  for (;;) {
    const tf = performance.now();
    let response;
    try {
      response = await fetch(`/api/result?version=${want}&have=${S.have}&wait=25`, { headers: HEADERS, signal: ctrl.signal });
    } catch (e) {
      if (ctrl.signal.aborted) return; // a newer edit took over
      showMessage(`lost the server (${e.message}); is it still running?`);
      setBusy(false);
      return;
    }
    if (ctrl !== S.resultCtrl) return;
    if (response.status === 204) continue;
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      showMessage(body.error || `result failed (${response.status})`);
      setBusy(false);
      return;
    }
    const meta = JSON.parse(response.headers.get("x-result"));
    const buffer = await response.arrayBuffer();
    const tr = performance.now();
    if (ctrl !== S.resultCtrl) return; // superseded while reading: never draw an old result
    const [top, left, h, w] = meta.box;
    if (h > 0 && w > 0) resultCtx.putImageData(new ImageData(new Uint8ClampedArray(buffer), w, h), left, top);
    S.have = meta.serial;
    if (meta.picture && meta.serial === S.serial + 1) {
      // The picture of the result shown, painted after the view's full tiles (the server's
      // paint_later while they cover the live copy): nothing else changes. (A page that had not
      // got that result, another tab's, takes this as the result.)
      if (S.image && S.image.colour) scheduleMetrics();
      watch();
      return;
    }
    S.serial = meta.serial;
    await new Promise((resolve) => requestAnimationFrame(() => resolve()));
    const td = performance.now();
    if (meta.error) {
      showMessage(meta.error);
      setBusy(false);
      $("status").textContent = "the result shown is from before the last edit";
      return;
    }
    if (!(meta.warning || "").includes("no colour cues")) showMessage(meta.warning, true);
    const t = meta.timing;
    const serverSide = (t.waited || 0) + (t.copy || 0);
    const record = {
      version: meta.version, serial: meta.serial, final: meta.final, info: meta.info, box: meta.box,
      total: (td - t0) / 1000, edit_request: editSeconds, fetch: (tr - tf) / 1000, draw: (td - tr) / 1000,
      queue: t.queue || 0, cues: t.cues || 0, solve: t.solve || 0, colour: t.colour || 0, encode: (t.encode || 0) + (t.copy || 0),
      network: editSeconds + Math.max((tr - tf) / 1000 - serverSide, 0), bytes: buffer.byteLength,
    };
    window.studioTimings.push(record);
    $("status").textContent = statusWords(meta, record);
    // The figures for whoever wants them, on hover.
    $("status").title = `${(record.total * 1000).toFixed(0)} ms from the edit to the picture (solve ` +
      `${(record.solve * 1000).toFixed(0)} ms; ${meta.info.update ? meta.info.update + " update" : meta.info.solver || ""})`;
    if (!meta.final) { setBusy(true, "refining…"); continue; }
    S.stale = false;
    showFlood(meta.info);
    showGuessed();
    setBusy(false);
    if (S.image && S.image.colour) scheduleMetrics();
    if (S.tiles.size) updateTiles();
    if (meta.painted === false) continue; // its picture comes next (the live copy under the view's tiles)
    watch();
    return;
  }
}
// Between edits, wait for a result of a version this page has not made: an edit in another tab
// (or window) on the same studio. Then take that document and its result. An edit here aborts it.
export async function watch() {
  const ctrl = new AbortController();
  S.resultCtrl = ctrl;
  for (;;) {
    const started = performance.now();
    let response;
    try {
      response = await fetch(`/api/result?version=${S.version + 1}&have=${S.have}&wait=25`, { headers: HEADERS, signal: ctrl.signal });
    } catch (e) {
      if (ctrl.signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 2000)); // the server is away: try again later
      continue;
    }
    if (ctrl !== S.resultCtrl) return;
    if (response.status === 204) {
      if (performance.now() - started < 500) await new Promise((resolve) => setTimeout(resolve, 1000)); // stopping
      continue;
    }
    if (!response.ok) return;
    const { response: r, body } = await api("/api/state");
    if (ctrl !== S.resultCtrl || !r.ok || !body.image) return;
    if (body.image.sha256 !== S.image.sha256) { await openState(body); return; } // another photo was opened there
    S.version = Math.max(S.version, body.version);
    applyState(body);
    requestResult(performance.now(), 0);
    return;
  }
}
// The metrics against the original once the page rests a moment on a result: a 1.5 MP copy's
// colour difference takes the server about a second of a core, which the next stroke's solve wants.
let metricsTimer = null;
const METRICS_DELAY_MS = 1500;
export function scheduleMetrics() { clearTimeout(metricsTimer); metricsTimer = setTimeout(updateMetrics, METRICS_DELAY_MS); }
export async function updateMetrics() {
  const { body } = await api("/api/metrics");
  if (body && body.psnr !== undefined) $("metrics").textContent =
    `against the original: PSNR ${body.psnr.toFixed(2)} dB, ΔE2000 ${body.ciede2000.toFixed(2)}`;
}
