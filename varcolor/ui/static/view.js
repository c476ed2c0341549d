// The view: zoom and pan of the stage, pointer positions in the photo's coordinates, and the
// photo's own pixels (tiles at full resolution, the viewport's full-resolution solve).
import { S, TOKEN, $, viewport, stage, grayTiles, resultTiles } from "./state.js?token={{TOKEN}}";
import { post } from "./api.js?token={{TOKEN}}";
import { showSizes } from "./controls.js?token={{TOKEN}}";
import { zoomed } from "./paint.js?token={{TOKEN}}";

export const photoZoom = () => S.zoom * (S.scaleX || 1); // screen pixels per photo pixel
export function applyTransform() {
  stage.style.transform = `translate(${S.panX}px, ${S.panY}px) scale(${S.zoom})`;
  stage.classList.toggle("pixelated", photoZoom() >= 2);
  // The zoom is that of the photo (screen pixels per photo pixel), not of its live copy.
  $("zoom-out").textContent = `${Math.round(photoZoom() * 100)} %`;
  showSizes();
  zoomed();
  scheduleTiles();
}
export function fit() {
  if (!S.image) return;
  const r = viewport.getBoundingClientRect();
  S.zoom = Math.min(r.width / S.image.work_width, r.height / S.image.work_height) * 0.97;
  S.panX = (r.width - S.image.work_width * S.zoom) / 2;
  S.panY = (r.height - S.image.work_height * S.zoom) / 2;
  applyTransform();
}
export function zoomAt(factor, clientX, clientY) {
  const r = viewport.getBoundingClientRect();
  const x = clientX - r.left, y = clientY - r.top;
  const zoom = Math.min(Math.max(S.zoom * factor, 0.02), 64);
  S.panX = x - (x - S.panX) * (zoom / S.zoom);
  S.panY = y - (y - S.panY) * (zoom / S.zoom);
  S.zoom = zoom;
  applyTransform();
}
// 1:1: one photo pixel to one screen pixel (the stage is the live copy, scaleX of the photo's size).
export function oneToOne() { zoomAt(1 / (S.scaleX * S.zoom), ...centre()); }
export function centre() { const r = viewport.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }

// Zoomed in past the live copy, the page shows tiles of the photo's gray and of the result at
// the photo's resolution (level L: blocks of 2^L pixels), for the part in view. At 1:1 and closer,
// once the result of the latest edit is final, the result tiles are full ones: the server makes
// each as a save makes the result (the live colours lifted by the photo's own gray, corrected
// near the strokes), the tiles nearest the view's centre asked for first and each shown as it comes.
let tilesTimer = null;
export function scheduleTiles() { clearTimeout(tilesTimer); tilesTimer = setTimeout(updateTiles, 60); }
export function visibleBox() {
  const r = viewport.getBoundingClientRect(), z = photoZoom(), im = S.image;
  const x0 = Math.max(Math.floor(-S.panX / z), 0), y0 = Math.max(Math.floor(-S.panY / z), 0);
  const x1 = Math.min(Math.ceil((r.width - S.panX) / z), im.width), y1 = Math.min(Math.ceil((r.height - S.panY) / z), im.height);
  return [y0, x0, Math.max(y1 - y0, 0), Math.max(x1 - x0, 0)];
}
export function updateTiles() {
  const im = S.image;
  const want = new Set();
  const magnified = im && im.work_width < im.width && S.zoom > 1.01; // the live copy is shown larger than itself
  if (magnified) {
    const level = Math.max(0, Math.min(im.levels - 1, Math.floor(Math.log2(1 / photoZoom()))));
    const f = 2 ** level, size = im.tile * f;
    const [top, left, h, w] = visibleBox();
    for (let row = Math.floor(top / size); row * size < top + h; row++) {
      for (let col = Math.floor(left / size); col * size < left + w; col++) want.add(`${level}/${row}/${col}`);
    }
  }
  S.tileLevel = want.size ? +[...want][0].split("/")[0] : null;
  // The tiles the server makes full as soon as a result is final, before the page asks (1:1 or closer).
  const ahead = S.tileLevel === 0 && photoZoom() >= 0.999
    ? nearestFirst([...want]).map((key) => key.split("/").slice(1).map(Number)) : [];
  const said = JSON.stringify(ahead);
  // A request that failed is made again at the next change (meanwhile the page's own requests make the tiles).
  if (said !== S.viewSaid) { S.viewSaid = said; post("/api/view", { tiles: ahead }).catch(() => { S.viewSaid = null; }); }
  for (const [key, pair] of S.tiles) if (!want.has(key)) { pair.forEach((el) => el.remove()); S.tiles.delete(key); }
  for (const key of want) {
    if (S.tiles.has(key)) continue;
    const [level, row, col] = key.split("/").map(Number);
    const f = 2 ** level, size = im.tile * f;
    const w = Math.min(size, im.width - col * size), h = Math.min(size, im.height - row * size);
    const pair = [grayTiles, resultTiles].map((layer) => {
      const img = document.createElement("img");
      img.alt = "";
      Object.assign(img.style, { left: `${col * size * S.scaleX}px`, top: `${row * size * S.scaleY}px`,
        width: `${w * S.scaleX}px`, height: `${h * S.scaleY}px` });
      img.dataset.key = key;
      layer.appendChild(img);
      return img;
    });
    pair[0].src = `/api/tile?token=${TOKEN}&layer=gray&level=${level}&row=${row}&col=${col}`;
    S.tiles.set(key, pair);
  }
  refreshResultTiles();
}
// Tiles (`level/row/col` keys, or [key, …] pairs) sorted nearest the view's centre first (the view measured once).
function nearestFirst(items) {
  const [top, left, h, w] = visibleBox(), cy = top + h / 2, cx = left + w / 2;
  const far = (item) => { const key = Array.isArray(item) ? item[0] : item, [level, row, col] = key.split("/").map(Number);
    const size = S.image.tile * 2 ** level;
    return Math.hypot((row + 0.5) * size - cy, (col + 0.5) * size - cx); };
  return items.sort((a, b) => far(a) - far(b));
}
// Result tiles follow the result shown (its serial); full ones once it is final, at 1:1 or closer
// (further out, the live result's colours on the photo's own lightness are what the screen shows).
export function refreshResultTiles() {
  const full = S.tileLevel === 0 && !S.stale && photoZoom() >= 0.999;
  if (full && S.fullSerial !== S.serial) {
    S.fullSerial = S.serial;
    S.detailKey++;
    S.fullPass = { start: performance.now(), first: null, box: visibleBox() };
  }
  const stamp = full ? `${S.serial}.${S.detailKey}` : `${S.serial}.live`;
  const stale = nearestFirst([...S.tiles].filter(([, pair]) => pair[1].dataset.stamp !== stamp));
  for (const [key, pair] of stale) {
    const [level, row, col] = key.split("/");
    // Loaded aside, then swapped in: the old tile stays until the new one is there.
    const next = new Image();
    next.onload = () => {
      if (S.tiles.get(key) !== pair) return;
      pair[1].src = next.src;
      pair[1].dataset.stamp = stamp;
      if (full && stamp === `${S.serial}.${S.detailKey}`) fullTileShown(stamp);
    };
    next.src = `/api/tile?token=${TOKEN}&layer=result&level=${level}&row=${row}&col=${col}&full=${full ? 1 : 0}&s=${stamp}`;
  }
}
// For the status's hover text and the latency benchmark: how long the view's full tiles took.
function fullTileShown(stamp) {
  const pass = S.fullPass, seconds = (performance.now() - pass.start) / 1000;
  if (pass.first === null) pass.first = seconds;
  if ([...S.tiles.values()].every((pair) => pair[1].dataset.stamp === stamp)) {
    S.lastViewport = { box: pass.box, tiles: S.tiles.size, first_seconds: pass.first, seconds };
  }
}

// Pointer position as full-resolution image coordinates (pixel centres at integers) and working-copy pixels.
export function where(e) {
  const r = stage.getBoundingClientRect();
  const wx = (e.clientX - r.left) / S.zoom, wy = (e.clientY - r.top) / S.zoom;
  return { wx, wy, x: wx / S.scaleX - 0.5, y: wy / S.scaleY - 0.5 };
}
export const toWork = (x, y) => [(x + 0.5) * S.scaleX, (y + 0.5) * S.scaleY];

export function installView() {
  viewport.addEventListener("wheel", (e) => { e.preventDefault(); zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX, e.clientY); }, { passive: false });
  $("fit").onclick = fit;
  $("one").onclick = oneToOne;
  window.addEventListener("resize", () => applyTransform());
}
