// Painting: the overlay of strokes and points, and the pointer's strokes, points and pans.
import { S, TOKEN, $, viewport, overlayCanvas, overlayCtx, strokeLayer, strokeCtx, resultCtx } from "./state.js?token={{TOKEN}}";
import { Colour } from "./colour.js?token={{TOKEN}}";
import { applyTransform, photoZoom, toWork, where } from "./view.js?token={{TOKEN}}";
import { sendEdit } from "./history.js?token={{TOKEN}}";
import { choose, remember, setColour, showColour } from "./picker.js?token={{TOKEN}}";
import { brushWidth, drawCursor, pointSize, setSize } from "./controls.js?token={{TOKEN}}";

// "Where the colour is guessed": the studio's overlay of the last result's confidence (shaded where
// no stroke's colour reaches), fetched again after each final result while it is shown.
export function showGuessed() {
  const img = $("guessed-img");
  if (!S.showGuessed || !S.image) { img.hidden = true; return; }
  img.onload = () => { img.hidden = !S.showGuessed; };
  img.onerror = () => { img.hidden = true; };
  img.src = `/api/guessed.png?token=${TOKEN}&v=${S.serial}`;
}

// A neutral stroke (a gray: "no colour here") is drawn hatched, so that it shows on any gray.
export const isNeutral = (rgb) => rgb[0] === rgb[1] && rgb[1] === rgb[2];
let hatch = null;
function neutralPattern(ctx) {
  if (!hatch) {
    const tile = document.createElement("canvas");
    tile.width = tile.height = 6;
    const t = tile.getContext("2d");
    t.fillStyle = "#f4f4f4"; t.fillRect(0, 0, 6, 6);
    t.strokeStyle = "#222"; t.lineWidth = 2;
    t.beginPath(); t.moveTo(0, 6); t.lineTo(6, 0); t.moveTo(-3, 3); t.lineTo(3, -3); t.moveTo(3, 9); t.lineTo(9, 3); t.stroke();
    hatch = tile;
  }
  return ctx.createPattern(hatch, "repeat");
}
export function strokeStyle(stroke, ctx) {
  if (stroke.tool !== "brush") return "#000";
  return isNeutral(stroke.rgb) && ctx ? neutralPattern(ctx) : Colour.hex(stroke.rgb);
}
export function paintStroke(ctx, stroke) {
  const s = Math.sqrt(S.scaleX * S.scaleY);
  ctx.globalCompositeOperation = stroke.tool === "brush" ? "source-over" : "destination-out";
  ctx.strokeStyle = ctx.fillStyle = strokeStyle(stroke, ctx);
  ctx.lineWidth = Math.max(1, stroke.width * s);
  ctx.lineCap = ctx.lineJoin = "round";
  ctx.beginPath();
  const pts = stroke.path.map(([x, y]) => toWork(x, y));
  ctx.moveTo(pts[0][0], pts[0][1]);
  if (pts.length === 1) ctx.lineTo(pts[0][0] + 0.01, pts[0][1]);
  for (const p of pts.slice(1)) ctx.lineTo(p[0], p[1]);
  ctx.stroke();
  ctx.globalCompositeOperation = "source-over";
}
export function drawOverlay(extraStroke) {
  overlayCtx.clearRect(0, 0, overlayCanvas.width, overlayCanvas.height);
  if (!S.image) return;
  if (S.overlay && S.showSuggestions && S.suggestions.length) drawSuggestions();
  if (S.overlay || extraStroke) {
    strokeCtx.clearRect(0, 0, strokeLayer.width, strokeLayer.height);
    if (S.overlay) for (const stroke of S.doc.strokes) paintStroke(strokeCtx, stroke);
    if (extraStroke) paintStroke(strokeCtx, extraStroke);
    overlayCtx.drawImage(strokeLayer, 0, 0);
  }
  if (!S.overlay) return;
  const s = Math.sqrt(S.scaleX * S.scaleY);
  for (const p of S.doc.points) {
    const pos = S.dragPoint && S.dragPoint.id === p.id ? S.dragPoint : p;
    const [x, y] = toWork(pos.x, pos.y);
    const r = Math.max(((p.size - 1) / 2 + 0.5) * s, 0.5);
    const ring = Math.max(r + 2 / S.zoom, 3 / S.zoom);
    overlayCtx.fillStyle = Colour.hex(p.rgb);
    overlayCtx.fillRect(x - r, y - r, 2 * r, 2 * r);
    overlayCtx.lineWidth = 1.5 / S.zoom;
    overlayCtx.strokeStyle = p.id === S.selected ? "#ffd54a" : "#fff";
    overlayCtx.strokeRect(x - ring, y - ring, 2 * ring, 2 * ring);
    overlayCtx.strokeStyle = "#000";
    overlayCtx.strokeRect(x - ring - 1 / S.zoom, y - ring - 1 / S.zoom, 2 * ring + 2 / S.zoom, 2 * ring + 2 / S.zoom);
  }
}
// A reference's suggestions: a dot in its colour, ringed in black, at the first cue pixel of each
// cell of SUGGESTION_GAP screen pixels. The cues lie a few pixels apart: a dot at each covered the
// photo. The overlay has the live copy's pixels: zoomed past 2, a dot is one of them, unringed.
const SUGGESTION_GAP = 14;
let suggestionsZoom = null;
function drawSuggestions() {
  const px = 1 / S.zoom, fine = S.zoom < 2; // a screen pixel, in the overlay's pixels
  const r = fine ? Math.max(1.5 * px, 0.5) : 0.5, ring = fine ? r + 0.8 * px : 0;
  const cell = Math.max(SUGGESTION_GAP * px, 6 * Math.max(ring, r));
  const taken = new Set(), dots = [];
  for (const [x, y, red, green, blue] of S.suggestions) {
    const [wx, wy] = toWork(x, y);
    const key = Math.floor(wy / cell) * 1e6 + Math.floor(wx / cell);
    if (taken.has(key)) continue;
    taken.add(key);
    dots.push(fine ? [wx, wy, red, green, blue] : [Math.floor(wx) + 0.5, Math.floor(wy) + 0.5, red, green, blue]);
  }
  suggestionsZoom = S.zoom;
  window.studioSuggestionDots = dots.length;
  overlayCtx.fillStyle = "#000";
  if (ring) for (const [wx, wy] of dots) overlayCtx.fillRect(wx - ring, wy - ring, 2 * ring, 2 * ring);
  for (const [wx, wy, red, green, blue] of dots) {
    overlayCtx.fillStyle = `rgb(${red},${green},${blue})`;
    overlayCtx.fillRect(wx - r, wy - r, 2 * r, 2 * r);
  }
}
// The dots are thinned for the zoom they were drawn at: drawn again at another.
export function zoomed() {
  if (suggestionsZoom !== null && suggestionsZoom !== S.zoom && S.overlay && S.showSuggestions && S.suggestions.length) drawOverlay();
}
export function hitPoint(pos) {
  const s = Math.sqrt(S.scaleX * S.scaleY);
  let best = null, bestD = Infinity;
  for (const p of S.doc.points) {
    const [x, y] = toWork(p.x, p.y);
    const d = Math.hypot(x - pos.wx, y - pos.wy) * S.zoom;
    const reach = Math.max(((p.size - 1) / 2) * s * S.zoom + 6, 8);
    if (d <= reach && d < bestD) { best = p; bestD = d; }
  }
  return best;
}

function finishAction(e) {
  const tUp = performance.now(); // latency is measured from the mouse-up
  const a = S.action;
  S.action = null;
  if (!a) return;
  const clampX = (x) => Math.min(Math.max(Math.round(x), 0), S.image.width - 1);
  const clampY = (y) => Math.min(Math.max(Math.round(y), 0), S.image.height - 1);
  if (a.kind === "stroke") {
    if (a.stroke.tool === "brush" && !isNeutral(a.stroke.rgb)) remember(a.stroke.rgb);
    a.stroke.path = a.stroke.path.map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]);
    sendEdit({ op: "stroke", stroke: a.stroke }, tUp);
    S.doc.strokes.push(a.stroke); // shown at once; the server's document replaces it
    drawOverlay();
  } else if (a.kind === "add") {
    remember(S.colour);
    sendEdit({ op: "point", point: { x: clampX(a.x), y: clampY(a.y), rgb: S.colour.slice(), size: pointSize() } }, tUp);
  } else if (a.kind === "move") {
    const target = S.dragPoint;
    S.dragPoint = null;
    if (a.moved) {
      sendEdit({ op: "point-change", id: a.id, point: { x: clampX(target.x), y: clampY(target.y) } });
      choose(clampX(target.x), clampY(target.y));
    }
    else {
      const p = S.doc.points.find((q) => q.id === a.id);
      if (p) { S.colour = p.rgb.slice(); showColour(); setSize(Math.round(p.size * photoZoom())); }
      drawOverlay();
    }
  }
}

// The pointer: strokes (brush, eraser), points (add, move, delete with a right click), the
// eyedropper, and panning (the Pan tool, the middle button, or Space held).
export function installPaint() {
  viewport.addEventListener("pointerdown", (e) => {
    if (!S.image) return;
    viewport.focus();
    const pos = where(e);
    if (e.button === 1 || S.space || S.tool === "pan") {
      S.action = { kind: "pan", x: e.clientX, y: e.clientY, panX: S.panX, panY: S.panY };
    } else if (e.button !== 0) {
      return;
    } else if (S.tool === "brush" || S.tool === "eraser" || S.tool === "neutral") {
      // The neutral brush is a brush whose colour is the server's gray, whatever colour is chosen.
      const rgb = S.tool === "neutral" ? S.neutralRgb.slice() : S.colour.slice();
      const tool = S.tool === "eraser" ? "eraser" : "brush";
      S.action = { kind: "stroke", stroke: { tool, rgb, width: brushWidth(), path: [[pos.x, pos.y]] } };
      if (S.tool === "brush") choose(pos.x, pos.y);
      drawOverlay(S.action.stroke);
    } else if (S.tool === "point") {
      const hit = hitPoint(pos);
      if (hit) {
        S.selected = hit.id;
        S.action = { kind: "move", id: hit.id, moved: false };
        S.dragPoint = { id: hit.id, x: hit.x, y: hit.y };
        choose(hit.x, hit.y);
      } else {
        S.action = { kind: "add", x: pos.x, y: pos.y };
        choose(pos.x, pos.y);
      }
      drawOverlay();
    } else if (S.tool === "eyedropper") {
      const px = resultCtx.getImageData(Math.floor(pos.wx), Math.floor(pos.wy), 1, 1).data;
      setColour([px[0], px[1], px[2]]);
      return;
    }
    viewport.setPointerCapture(e.pointerId);
  });
  viewport.addEventListener("pointermove", (e) => {
    if (!S.image) return;
    const pos = where(e);
    drawCursor(e);
    const a = S.action;
    if (!a) return;
    if (a.kind === "pan") {
      S.panX = a.panX + e.clientX - a.x;
      S.panY = a.panY + e.clientY - a.y;
      applyTransform();
    } else if (a.kind === "stroke") {
      const events = e.getCoalescedEvents ? e.getCoalescedEvents() : [e];
      for (const ev of events.length ? events : [e]) { const p = where(ev); a.stroke.path.push([p.x, p.y]); }
      drawOverlay(a.stroke);
    } else if (a.kind === "move") {
      a.moved = true;
      S.dragPoint = { id: a.id, x: pos.x, y: pos.y };
      drawOverlay();
    }
  });
  viewport.addEventListener("pointerup", finishAction);
  viewport.addEventListener("pointercancel", () => { S.action = null; S.dragPoint = null; drawOverlay(); });
  viewport.addEventListener("contextmenu", (e) => {
    e.preventDefault();
    if (!S.image) return;
    const hit = hitPoint(where(e));
    if (hit) sendEdit({ op: "point-delete", id: hit.id });
  });
}
