// Controls: tools, brush width and point size, the cursor, the view's switches, the method, and
// the keyboard's shortcuts.
import { S, $, viewport, resultCanvas, resultTiles } from "./state.js?token={{TOKEN}}";
import { api, showMessage } from "./api.js?token={{TOKEN}}";
import { centre, fit, oneToOne, photoZoom, zoomAt } from "./view.js?token={{TOKEN}}";
import { sendEdit, simpleCall } from "./history.js?token={{TOKEN}}";
import { drawOverlay, showGuessed } from "./paint.js?token={{TOKEN}}";
import { save } from "./save.js?token={{TOKEN}}";

// Brush width and point size are in screen pixels by default (a scan's photo pixels are a
// fraction of a screen pixel at Fit); what they are in the photo's pixels is shown beside them.
export function brushWidth() {
  const w = S.widthInPhoto ? S.width : S.width / photoZoom();
  return Math.min(Math.max(Math.round(w * 100) / 100, 0.5), 2000);
}
export function pointSize() { return Math.min(Math.max(Math.round(S.size / photoZoom()), 1), 255); }
export function setWidth(width) {
  S.width = Math.max(1, Math.min(80, width));
  $("width").value = S.width;
  showSizes();
}
// A photo's first brush: about a 60th of its shorter side in its own pixels (5 on the bundled
// 451×300 example, 50 on a 12 MP scan's live copy seen at Fit), until the user sets a width.
export function fitBrush() {
  if (S.widthSet) return;
  const photo = Math.max(3, Math.round(Math.min(S.image.work_width, S.image.work_height) / 60));
  setWidth(Math.round(S.widthInPhoto ? photo : photo * photoZoom()));
}
export function setSize(size) {
  S.size = Math.max(1, Math.min(40, size));
  $("size").value = S.size;
  showSizes();
}
export function showSizes() {
  $("width-out").textContent = S.width;
  $("width-unit-out").textContent = S.widthInPhoto ? "photo px" : "screen px";
  $("width-other").textContent = S.image ? (S.widthInPhoto ? `≈ ${(S.width * photoZoom()).toFixed(1)} on screen`
    : `= ${brushWidth().toFixed(brushWidth() < 10 ? 1 : 0)} photo px`) : "";
  $("size-out").textContent = S.size;
  $("size-other").textContent = S.image ? `= ${pointSize()} photo px` : "";
  drawCursor();
}
// The cursor: an outline of what the tool will cover, at its real size on the screen.
const cursor = $("cursor");
export function drawCursor(e) {
  if (e) S.pointer = { x: e.clientX, y: e.clientY };
  const shown = S.image && S.pointer && ["brush", "neutral", "eraser", "point"].includes(S.tool) && !S.space;
  cursor.hidden = !shown;
  if (!shown) return;
  const d = S.tool === "point" ? Math.max(pointSize() * photoZoom(), 3) : brushWidth() * photoZoom();
  const r = viewport.getBoundingClientRect();
  cursor.style.width = cursor.style.height = `${d}px`;
  cursor.style.left = `${S.pointer.x - r.left - d / 2}px`;
  cursor.style.top = `${S.pointer.y - r.top - d / 2}px`;
  cursor.classList.toggle("square", S.tool === "point");
}
export function setTool(tool) {
  S.tool = tool;
  document.querySelectorAll(".tool").forEach((b) => b.classList.toggle("active", b.dataset.tool === tool));
  viewport.style.cursor = tool === "pan" ? "grab" : (tool === "eyedropper" ? "crosshair" : "none");
  drawCursor();
}

// A control that takes typed text keeps every key; other form controls (the method list, the
// sliders, the buttons) never get a tool shortcut: a select would take "b" as type-ahead and
// switch the method.
const typesText = (el) => el && (el.isContentEditable || el.tagName === "TEXTAREA" ||
  (el.tagName === "INPUT" && !["range", "checkbox", "color", "radio", "button", "file"].includes(el.type)));
const isControl = (el) => el && ["SELECT", "INPUT", "BUTTON", "TEXTAREA"].includes(el.tagName);
const SHORTCUTS = new Set(["b", "n", "p", "e", "i", "h", "o", "[", "]", "+", "=", "-", "0", "1", " ", "delete", "backspace"]);

export function installControls() {
  viewport.addEventListener("pointerleave", () => { S.pointer = null; drawCursor(); });
  document.querySelectorAll(".tool").forEach((b) => (b.onclick = () => setTool(b.dataset.tool)));
  $("width").addEventListener("input", (e) => { S.widthSet = true; setWidth(+e.target.value); });
  $("width-unit").addEventListener("change", (e) => {
    // The same width on the screen, now counted in the other unit.
    const photo = brushWidth();
    S.widthInPhoto = e.target.checked;
    setWidth(Math.round(S.widthInPhoto ? photo : photo * photoZoom()));
  });
  $("size").addEventListener("input", (e) => {
    setSize(+e.target.value);
    if (S.selected !== null && S.tool === "point") sendEdit({ op: "point-change", id: S.selected, point: { size: pointSize() } });
  });
  // A method change re-solves the whole live copy: one that the server expects to take more than a
  // few seconds asks first (a stray key or wheel on the list must not start a minute's solve).
  $("method").addEventListener("change", async (e) => {
    const method = e.target.value, current = S.doc.settings.method;
    e.target.blur();
    viewport.focus();
    if (method === current) return;
    const { response, body } = await api(`/api/estimate?method=${encodeURIComponent(method)}`);
    if (!response.ok) { e.target.value = current; showMessage(body ? body.error : `cannot switch (${response.status})`); return; }
    if (body.ask && !confirm(body.text)) { e.target.value = S.doc.settings.method; return; }
    sendEdit({ op: "settings", settings: { method } });
  });
  $("split").addEventListener("input", (e) => {
    resultCanvas.style.clipPath = `inset(0 0 0 ${e.target.value}%)`;
    resultTiles.style.clipPath = `inset(0 0 0 ${e.target.value}%)`;
  });
  $("overlay").addEventListener("change", (e) => { S.overlay = e.target.checked; drawOverlay(); });
  $("reference").addEventListener("change", (e) => { $("reference-img").hidden = !e.target.checked; });
  $("guessed").addEventListener("change", (e) => { S.showGuessed = e.target.checked; showGuessed(); });
  document.addEventListener("keydown", (e) => {
    const key = e.key.toLowerCase();
    if ((e.ctrlKey || e.metaKey) && key === "s") { e.preventDefault(); save(false); return; }
    if (typesText(e.target)) return;
    if ((e.ctrlKey || e.metaKey) && key === "z") { e.preventDefault(); simpleCall(e.shiftKey ? "/api/redo" : "/api/undo"); return; }
    if ((e.ctrlKey || e.metaKey) && key === "y") { e.preventDefault(); simpleCall("/api/redo"); return; }
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    if (isControl(e.target)) {
      if (!SHORTCUTS.has(key)) return; // arrows, Enter, Tab: the control's own
      e.preventDefault(); // the shortcut is the page's, not the control's
      e.target.blur();
      viewport.focus();
    }
    if (key === " ") { S.space = true; viewport.style.cursor = "grab"; e.preventDefault(); return; }
    const tools = { b: "brush", n: "neutral", p: "point", e: "eraser", i: "eyedropper", h: "pan" };
    if (tools[key]) setTool(tools[key]);
    else if (key === "o") { $("overlay").click(); }
    else if (key === "g") { $("guessed").click(); }
    else if (key === "[" || key === "]") { S.widthSet = true; setWidth(S.width + (key === "]" ? 2 : -2)); }
    else if ((key === "delete" || key === "backspace") && S.selected !== null) sendEdit({ op: "point-delete", id: S.selected });
    else if (key === "+" || key === "=") zoomAt(1.25, ...centre());
    else if (key === "-") zoomAt(0.8, ...centre());
    else if (key === "0") fit();
    else if (key === "1") oneToOne();
  });
  document.addEventListener("keyup", (e) => { if (e.key === " ") { S.space = false; setTool(S.tool); } });
}
