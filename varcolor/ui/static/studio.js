// varcolor studio page: draws strokes and points, sends each finished edit to the server and
// shows the newest result. All colorization happens on the server (varcolor.Colorizer).
"use strict";
(() => {
  const TOKEN = document.querySelector('meta[name="token"]').content;
  const $ = (id) => document.getElementById(id);
  const HEADERS = { "X-Varcolor-Token": TOKEN };

  const S = {
    image: null, doc: { strokes: [], points: [], settings: { method: "levin-multiscale" } }, version: 0, serial: 0,
    tool: "brush", colour: [200, 120, 60], width: 4, widthInPhoto: false, size: 6, zoom: 1, panX: 0, panY: 0,
    serialShown: 0, detailKey: 0, tiles: new Map(),
    recent: [], selected: null, overlay: true, resultCtrl: null, neural: false, action: null, space: false,
    lightness: 60, hover: null, stale: false,
  };
  // Timings of each result drawn, for the latency benchmark (mouse-up to pixels on the page).
  window.studioTimings = [];
  window.studioState = S;

  const grayCanvas = $("gray-canvas"), resultCanvas = $("result-canvas"), overlayCanvas = $("overlay-canvas");
  const resultCtx = resultCanvas.getContext("2d"), overlayCtx = overlayCanvas.getContext("2d");
  const strokeLayer = document.createElement("canvas"), strokeCtx = strokeLayer.getContext("2d");
  const viewport = $("viewport"), stage = $("stage");

  // ---------------------------------------------------------------- server calls
  async function api(path, options = {}) {
    const response = await fetch(path, { ...options, headers: { ...HEADERS, ...(options.headers || {}) } });
    let body = null;
    if ((response.headers.get("content-type") || "").includes("json")) body = await response.json();
    return { response, body };
  }
  async function post(path, data) {
    return api(path, { method: "POST", body: JSON.stringify(data || {}), headers: { "Content-Type": "application/json" } });
  }
  // An error (S.lastError keeps it) or, with warning set, a notice; an empty text clears the bar.
  function showMessage(text, warning = false) {
    const box = $("message");
    box.textContent = text || "";
    box.hidden = !text;
    box.classList.toggle("warning", Boolean(warning));
    if (text && !warning) S.lastError = text;
  }
  function setBusy(on, text) {
    $("busy").hidden = !on;
    $("busy-text").textContent = text || "solving…";
  }

  // ---------------------------------------------------------------- state from the server
  function applyState(state) {
    S.neural = state.neural;
    $("method").querySelector('option[value="levin+ideepcolor"]').disabled = !state.neural;
    if (!S.chosen) $("suggest-note").textContent = state.neural ? "click a point on the photo" : "needs the neural extra (PyTorch)";
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
    drawOverlay();
  }

  async function openState(state) {
    S.image = state.image;
    const im = S.image;
    S.scaleX = im.work_width / im.width;
    S.scaleY = im.work_height / im.height;
    for (const c of [grayCanvas, resultCanvas, overlayCanvas, strokeLayer]) { c.width = im.work_width; c.height = im.work_height; }
    const label = `${im.name} — ${im.width}×${im.height}` +
      (im.work_width !== im.width ? ` (live view ${im.work_width}×${im.work_height}; saving solves full size)` : "") +
      (im.bits === 16 ? ", 16-bit" : "");
    $("image-name").textContent = label;
    $("image-name").title = label; // the header cuts a long name short; the whole of it on hover
    $("save-name").value = im.name.replace(/\.[^.]+$/, "") + "_colorized";
    $("reference-row").hidden = !im.colour;
    $("reference").checked = false;
    $("reference-img").hidden = true;
    $("drop-hint").hidden = true;
    stage.hidden = false;
    for (const el of [stage, grayTiles, resultTiles]) { el.style.width = im.work_width + "px"; el.style.height = im.work_height + "px"; }
    S.serial = 0;
    S.docVersion = 0;
    S.selected = null;
    S.chosen = null;
    for (const pair of S.tiles.values()) pair.forEach((el) => el.remove());
    S.tiles.clear();
    const gray = new Image();
    gray.src = `/api/gray.png?token=${TOKEN}&v=${im.sha256}`;
    await gray.decode();
    grayCanvas.getContext("2d").drawImage(gray, 0, 0);
    resultCtx.drawImage(gray, 0, 0);
    S.grayPixels = grayCanvas.getContext("2d").getImageData(0, 0, im.work_width, im.work_height).data;
    if (im.colour) $("reference-img").src = `/api/reference.png?token=${TOKEN}&v=${im.sha256}`;
    fit();
    applyState(state);
    requestResult(performance.now(), 0);
  }

  // ---------------------------------------------------------------- results (latest wins)
  async function requestResult(t0, editSeconds) {
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
        response = await fetch(`/api/result?version=${want}&have=${S.serial}&wait=25`, { headers: HEADERS, signal: ctrl.signal });
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
      const how = meta.info.update ? `${meta.info.update} update` : (meta.info.solver || "");
      // "unchanged": the edit left every cue pixel of the live copy as it was (a stroke over one of
      // the same colour): nothing was solved, and the picture is the last solve's, not a new one.
      $("status").textContent = meta.info.solver === "unchanged"
        ? `no new cues (the edit repaints cue pixels in the colour they had): the result is the last solve's`
        : `${(record.total * 1000).toFixed(0)} ms (solve ${(record.solve * 1000).toFixed(0)} ms, ${how})` +
          (meta.final ? "" : " — preview, refining…");
      if (!meta.final) { setBusy(true, "refining…"); continue; }
      S.stale = false;
      setBusy(false);
      if (S.image && S.image.colour) updateMetrics();
      if (S.tiles.size) updateTiles();
      watch();
      return;
    }
  }
  // Between edits, wait for a result of a version this page has not made: an edit in another tab
  // (or window) on the same studio. Then take that document and its result. An edit here aborts it.
  async function watch() {
    const ctrl = new AbortController();
    S.resultCtrl = ctrl;
    for (;;) {
      const started = performance.now();
      let response;
      try {
        response = await fetch(`/api/result?version=${S.version + 1}&have=${S.serial}&wait=25`, { headers: HEADERS, signal: ctrl.signal });
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
  async function updateMetrics() {
    const { body } = await api("/api/metrics");
    if (body && body.psnr !== undefined) $("metrics").textContent =
      `against the original: PSNR ${body.psnr.toFixed(2)} dB, ΔE2000 ${body.ciede2000.toFixed(2)}`;
  }

  async function sendEdit(op, t0 = performance.now()) {
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
  async function simpleCall(path) {
    const t0 = performance.now();
    const { response, body } = await post(path);
    if (!response.ok) { showMessage(body ? body.error : `${path} failed`); return; }
    const changed = body.version !== S.version;
    S.version = body.version;
    if (changed) requestResult(t0, (performance.now() - t0) / 1000);
    applyState(body);
  }

  // ---------------------------------------------------------------- view: zoom and pan
  function applyTransform() {
    stage.style.transform = `translate(${S.panX}px, ${S.panY}px) scale(${S.zoom})`;
    stage.classList.toggle("pixelated", photoZoom() >= 2);
    // The zoom is that of the photo (screen pixels per photo pixel), not of its live copy.
    $("zoom-out").textContent = `${Math.round(photoZoom() * 100)} %`;
    showSizes();
    scheduleTiles();
  }
  function fit() {
    if (!S.image) return;
    const r = viewport.getBoundingClientRect();
    S.zoom = Math.min(r.width / S.image.work_width, r.height / S.image.work_height) * 0.97;
    S.panX = (r.width - S.image.work_width * S.zoom) / 2;
    S.panY = (r.height - S.image.work_height * S.zoom) / 2;
    applyTransform();
  }
  function zoomAt(factor, clientX, clientY) {
    const r = viewport.getBoundingClientRect();
    const x = clientX - r.left, y = clientY - r.top;
    const zoom = Math.min(Math.max(S.zoom * factor, 0.02), 64);
    S.panX = x - (x - S.panX) * (zoom / S.zoom);
    S.panY = y - (y - S.panY) * (zoom / S.zoom);
    S.zoom = zoom;
    applyTransform();
  }
  viewport.addEventListener("wheel", (e) => { e.preventDefault(); zoomAt(Math.exp(-e.deltaY * 0.0015), e.clientX, e.clientY); }, { passive: false });
  $("fit").onclick = fit;
  // 1:1: one photo pixel to one screen pixel (the stage is the live copy, scaleX of the photo's size).
  function oneToOne() { zoomAt(1 / (S.scaleX * S.zoom), ...centre()); }
  $("one").onclick = oneToOne;
  window.addEventListener("resize", () => applyTransform());

  // ---------------------------------------------------------------- the photo's own pixels
  // Zoomed in past the live copy, the page shows tiles of the photo's gray and of the result at
  // the photo's resolution (level L: blocks of 2^L pixels), for the part in view; once the view
  // rests on a final result, the server solves that part at full resolution and the result tiles
  // show it.
  const grayTiles = $("gray-tiles"), resultTiles = $("result-tiles");
  let tilesTimer = null, viewportTimer = null;
  function scheduleTiles() { clearTimeout(tilesTimer); tilesTimer = setTimeout(updateTiles, 60); }
  function visibleBox() {
    const r = viewport.getBoundingClientRect(), z = photoZoom(), im = S.image;
    const x0 = Math.max(Math.floor(-S.panX / z), 0), y0 = Math.max(Math.floor(-S.panY / z), 0);
    const x1 = Math.min(Math.ceil((r.width - S.panX) / z), im.width), y1 = Math.min(Math.ceil((r.height - S.panY) / z), im.height);
    return [y0, x0, Math.max(y1 - y0, 0), Math.max(x1 - x0, 0)];
  }
  function updateTiles() {
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
    clearTimeout(viewportTimer);
    // At 1:1 and closer, the part in view is solved at full resolution (further out, the live
    // result's colours on the photo's own lightness are what the screen can show).
    if (S.tileLevel === 0 && photoZoom() >= 0.999) viewportTimer = setTimeout(solveViewport, 300);
  }
  // Result tiles follow the result shown (its serial) and the last full-resolution solve of the view.
  function refreshResultTiles() {
    const stamp = `${S.serial}.${S.detailKey}`;
    for (const [key, pair] of S.tiles) {
      if (pair[1].dataset.stamp === stamp) continue;
      const [level, row, col] = key.split("/");
      // Loaded aside, then swapped in: the old tile stays until the new one is there.
      const next = new Image();
      next.onload = () => { if (S.tiles.get(key) === pair) { pair[1].src = next.src; pair[1].dataset.stamp = stamp; } };
      next.src = `/api/tile?token=${TOKEN}&layer=result&level=${level}&row=${row}&col=${col}&s=${stamp}`;
    }
  }
  async function solveViewport() {
    if (S.tileLevel !== 0 || S.stale || photoZoom() < 0.999) return;
    const box = visibleBox(), serial = S.serial, version = S.version;
    const key = `${version}:${box.join(",")}`;
    if (S.viewportKey === key) return;
    S.viewportKey = key;
    const t0 = performance.now();
    const { response, body } = await post("/api/viewport", { box });
    if (!response.ok || S.version !== version || S.serial !== serial) { if (!response.ok) S.viewportKey = null; return; }
    S.detailKey++;
    S.lastViewport = { ...body, page_seconds: (performance.now() - t0) / 1000 };
    refreshResultTiles();
  }

  // Pointer position as full-resolution image coordinates (pixel centres at integers) and working-copy pixels.
  function where(e) {
    const r = stage.getBoundingClientRect();
    const wx = (e.clientX - r.left) / S.zoom, wy = (e.clientY - r.top) / S.zoom;
    return { wx, wy, x: wx / S.scaleX - 0.5, y: wy / S.scaleY - 0.5 };
  }
  const toWork = (x, y) => [(x + 0.5) * S.scaleX, (y + 0.5) * S.scaleY];

  // ---------------------------------------------------------------- overlay
  function strokeStyle(stroke) { return stroke.tool === "brush" ? Colour.hex(stroke.rgb) : "#000"; }
  function paintStroke(ctx, stroke) {
    const s = Math.sqrt(S.scaleX * S.scaleY);
    ctx.globalCompositeOperation = stroke.tool === "brush" ? "source-over" : "destination-out";
    ctx.strokeStyle = ctx.fillStyle = strokeStyle(stroke);
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
  function drawOverlay(extraStroke) {
    overlayCtx.clearRect(0, 0, overlayCanvas.width, overlayCanvas.height);
    if (!S.image) return;
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
  function hitPoint(pos) {
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

  // ---------------------------------------------------------------- pointer input
  viewport.addEventListener("pointerdown", (e) => {
    if (!S.image) return;
    viewport.focus();
    const pos = where(e);
    if (e.button === 1 || S.space || S.tool === "pan") {
      S.action = { kind: "pan", x: e.clientX, y: e.clientY, panX: S.panX, panY: S.panY };
    } else if (e.button !== 0) {
      return;
    } else if (S.tool === "brush" || S.tool === "eraser") {
      S.action = { kind: "stroke", stroke: { tool: S.tool, rgb: S.colour.slice(), width: brushWidth(), path: [[pos.x, pos.y]] } };
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
  function finishAction(e) {
    const tUp = performance.now(); // latency is measured from the mouse-up
    const a = S.action;
    S.action = null;
    if (!a) return;
    const clampX = (x) => Math.min(Math.max(Math.round(x), 0), S.image.width - 1);
    const clampY = (y) => Math.min(Math.max(Math.round(y), 0), S.image.height - 1);
    if (a.kind === "stroke") {
      if (a.stroke.tool === "brush") remember(a.stroke.rgb);
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
  viewport.addEventListener("pointerup", finishAction);
  viewport.addEventListener("pointercancel", () => { S.action = null; S.dragPoint = null; drawOverlay(); });
  viewport.addEventListener("contextmenu", (e) => {
    e.preventDefault();
    if (!S.image) return;
    const hit = hitPoint(where(e));
    if (hit) sendEdit({ op: "point-delete", id: hit.id });
  });

  // Suggestions belong to a chosen place (ideepcolor's way): a click with the Point tool (a new
  // point, or an existing one selected) or the start of a brush stroke chooses it; the gamut
  // square shows the colours at that pixel's lightness and the network's likeliest colours there
  // are listed. Moving the mouse changes neither: they stay until another place is chosen.
  let suggestAsked = 0;
  function choose(x, y) {
    if (!S.grayPixels) return;
    const [wx, wy] = toWork(x, y);
    const i = Math.min(Math.max(Math.floor(wy), 0), S.image.work_height - 1);
    const j = Math.min(Math.max(Math.floor(wx), 0), S.image.work_width - 1);
    S.lightness = Math.round(Colour.lightnessOfGray(S.grayPixels[4 * (i * S.image.work_width + j)]));
    $("lightness").value = S.lightness;
    $("lightness-out").textContent = S.lightness;
    S.chosen = { x: Math.round(x), y: Math.round(y) };
    $("suggest-title").textContent = `Suggested at (${S.chosen.x}, ${S.chosen.y})`;
    drawGamut();
    if (S.neural) suggest(x, y);
  }
  async function suggest(x, y) {
    const asked = ++suggestAsked;
    $("suggest-note").textContent = "asking the network…";
    const { response, body } = await api(`/api/suggest?x=${x.toFixed(1)}&y=${y.toFixed(1)}`);
    if (asked !== suggestAsked) return; // another place was chosen meanwhile
    if (!response.ok || !body) { $("suggest-note").textContent = body ? body.error : "no suggestion"; return; }
    const box = $("suggested");
    box.replaceChildren();
    for (const c of body.colours) box.appendChild(swatch(c.rgb, `${Math.round(c.p * 100)} % likely (a ${c.a}, b ${c.b})`));
    $("suggest-note").textContent = body.colours.length ? "" : "no likely colour here";
  }

  // ---------------------------------------------------------------- colour
  function swatch(rgb, title) {
    const el = document.createElement("span");
    el.className = "swatch";
    el.style.background = Colour.hex(rgb);
    el.title = title || Colour.hex(rgb);
    el.onclick = () => setColour(rgb);
    return el;
  }
  // The recent colours outlive a reload (this browser's storage for the studio's address).
  function remember(rgb) {
    S.recent = [rgb.slice(), ...S.recent.filter((c) => Colour.hex(c) !== Colour.hex(rgb))].slice(0, 12);
    try { localStorage.setItem("varcolor.recent", JSON.stringify(S.recent)); } catch (e) { /* storage off: kept for this page only */ }
    showRecent();
  }
  function showRecent() { $("recent").replaceChildren(...S.recent.map((c) => swatch(c))); }
  function loadRecent() {
    try {
      const kept = JSON.parse(localStorage.getItem("varcolor.recent") || "[]");
      const valid = (c) => Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
      S.recent = Array.isArray(kept) ? kept.filter(valid).slice(0, 12) : [];
    } catch (e) { S.recent = []; }
    showRecent();
  }
  function setColour(rgb) {
    S.colour = rgb.slice();
    showColour();
    if (S.selected !== null && S.tool === "point") sendEdit({ op: "point-change", id: S.selected, point: { rgb: S.colour } });
  }
  function showColour() {
    $("swatch").style.background = Colour.hex(S.colour);
    $("hex").value = Colour.hex(S.colour);
    const lab = Colour.rgb8ToLab(S.colour);
    $("lab-out").textContent = `a ${lab[1].toFixed(0)}, b ${lab[2].toFixed(0)}`;
    drawGamut();
  }
  const gamut = $("gamut"), gamutCtx = gamut.getContext("2d");
  const AB = 110;
  function drawGamut() {
    const n = gamut.width, img = gamutCtx.createImageData(n, n), L = S.lightness;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < n; j++) {
        const a = (j / (n - 1)) * 2 * AB - AB, b = AB - (i / (n - 1)) * 2 * AB;
        const lin = Colour.labToLinear(L, a, b);
        const k = 4 * (i * n + j);
        if (lin.every((v) => v >= 0 && v <= 1)) {
          for (let c = 0; c < 3; c++) img.data[k + c] = Math.round(255 * Colour.encode(lin[c]));
        } else {
          const g = ((i >> 3) + (j >> 3)) % 2 ? 58 : 68;
          img.data[k] = img.data[k + 1] = img.data[k + 2] = g;
        }
        img.data[k + 3] = 255;
      }
    }
    gamutCtx.putImageData(img, 0, 0);
    const lab = Colour.rgb8ToLab(S.colour);
    const x = ((lab[1] + AB) / (2 * AB)) * (n - 1), y = ((AB - lab[2]) / (2 * AB)) * (n - 1);
    gamutCtx.strokeStyle = "#000"; gamutCtx.lineWidth = 2;
    gamutCtx.beginPath(); gamutCtx.arc(x, y, 5, 0, 7); gamutCtx.stroke();
    gamutCtx.strokeStyle = "#fff"; gamutCtx.lineWidth = 1;
    gamutCtx.beginPath(); gamutCtx.arc(x, y, 5, 0, 7); gamutCtx.stroke();
  }
  gamut.addEventListener("click", (e) => {
    const r = gamut.getBoundingClientRect(), n = gamut.width;
    const a = ((e.clientX - r.left) / r.width) * 2 * AB - AB, b = AB - ((e.clientY - r.top) / r.height) * 2 * AB;
    setColour(Colour.labToRgb8(S.lightness, a, b));
  });
  $("hex").addEventListener("input", (e) => setColour(Colour.fromHex(e.target.value)));
  $("lightness").addEventListener("input", (e) => { S.lightness = +e.target.value; $("lightness-out").textContent = S.lightness; drawGamut(); });

  // ---------------------------------------------------------------- controls
  // Brush width and point size are in screen pixels by default (a scan's photo pixels are a
  // fraction of a screen pixel at Fit); what they are in the photo's pixels is shown beside them.
  const photoZoom = () => S.zoom * (S.scaleX || 1); // screen pixels per photo pixel
  function brushWidth() {
    const w = S.widthInPhoto ? S.width : S.width / photoZoom();
    return Math.min(Math.max(Math.round(w * 100) / 100, 0.5), 2000);
  }
  function pointSize() { return Math.min(Math.max(Math.round(S.size / photoZoom()), 1), 255); }
  function setWidth(width) {
    S.width = Math.max(1, Math.min(80, width));
    $("width").value = S.width;
    showSizes();
  }
  function setSize(size) {
    S.size = Math.max(1, Math.min(40, size));
    $("size").value = S.size;
    showSizes();
  }
  function showSizes() {
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
  function drawCursor(e) {
    if (e) S.pointer = { x: e.clientX, y: e.clientY };
    const shown = S.image && S.pointer && ["brush", "eraser", "point"].includes(S.tool) && !S.space;
    cursor.hidden = !shown;
    if (!shown) return;
    const d = S.tool === "point" ? Math.max(pointSize() * photoZoom(), 3) : brushWidth() * photoZoom();
    const r = viewport.getBoundingClientRect();
    cursor.style.width = cursor.style.height = `${d}px`;
    cursor.style.left = `${S.pointer.x - r.left - d / 2}px`;
    cursor.style.top = `${S.pointer.y - r.top - d / 2}px`;
    cursor.classList.toggle("square", S.tool === "point");
  }
  viewport.addEventListener("pointerleave", () => { S.pointer = null; drawCursor(); });
  function setTool(tool) {
    S.tool = tool;
    document.querySelectorAll(".tool").forEach((b) => b.classList.toggle("active", b.dataset.tool === tool));
    viewport.style.cursor = tool === "pan" ? "grab" : (tool === "eyedropper" ? "crosshair" : "none");
    drawCursor();
  }
  document.querySelectorAll(".tool").forEach((b) => (b.onclick = () => setTool(b.dataset.tool)));
  $("width").addEventListener("input", (e) => setWidth(+e.target.value));
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
  $("undo").onclick = () => simpleCall("/api/undo");
  $("redo").onclick = () => simpleCall("/api/redo");
  $("clear").onclick = () => { if (S.image && (S.doc.strokes.length || S.doc.points.length)) sendEdit({ op: "clear" }); };
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
  $("restore-yes").onclick = () => simpleCall("/api/restore");
  $("restore-no").onclick = () => simpleCall("/api/dismiss-restore");

  // A control that takes typed text keeps every key; other form controls (the method list, the
  // sliders, the buttons) never get a tool shortcut: a select would take "b" as type-ahead and
  // switch the method.
  const typesText = (el) => el && (el.isContentEditable || el.tagName === "TEXTAREA" ||
    (el.tagName === "INPUT" && !["range", "checkbox", "color", "radio", "button", "file"].includes(el.type)));
  const isControl = (el) => el && ["SELECT", "INPUT", "BUTTON", "TEXTAREA"].includes(el.tagName);
  const SHORTCUTS = new Set(["b", "p", "e", "i", "h", "o", "[", "]", "+", "=", "-", "0", "1", " ", "delete", "backspace"]);
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
    const tools = { b: "brush", p: "point", e: "eraser", i: "eyedropper", h: "pan" };
    if (tools[key]) setTool(tools[key]);
    else if (key === "o") { $("overlay").click(); }
    else if (key === "[" || key === "]") setWidth(S.width + (key === "]" ? 2 : -2));
    else if ((key === "delete" || key === "backspace") && S.selected !== null) sendEdit({ op: "point-delete", id: S.selected });
    else if (key === "+" || key === "=") zoomAt(1.25, ...centre());
    else if (key === "-") zoomAt(0.8, ...centre());
    else if (key === "0") fit();
    else if (key === "1") oneToOne();
  });
  document.addEventListener("keyup", (e) => { if (e.key === " ") { S.space = false; setTool(S.tool); } });
  function centre() { const r = viewport.getBoundingClientRect(); return [r.left + r.width / 2, r.top + r.height / 2]; }

  // ---------------------------------------------------------------- open and save
  async function upload(file) {
    showMessage("");
    setBusy(true, `opening ${file.name}…`);
    const { response, body } = await api("/api/open", { method: "POST", body: file, headers: { "X-Filename": encodeURIComponent(file.name) } });
    setBusy(false);
    if (!response.ok) { showMessage(body ? body.error : `could not open ${file.name} (${response.status})`); return; }
    await openState(body);
  }
  $("file").addEventListener("change", (e) => { if (e.target.files[0]) upload(e.target.files[0]); e.target.value = ""; });
  viewport.addEventListener("dragover", (e) => { e.preventDefault(); viewport.classList.add("dragover"); });
  viewport.addEventListener("dragleave", () => viewport.classList.remove("dragover"));
  viewport.addEventListener("drop", (e) => {
    e.preventDefault();
    viewport.classList.remove("dragover");
    if (e.dataTransfer.files[0]) upload(e.dataTransfer.files[0]);
  });

  // Save: the server solves the full photo in another process; the page shows its progress against
  // the server's estimate, and Cancel stops it (nothing of an unfinished save is kept).
  async function save(overwrite) {
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
  function showSaveProgress(status) {
    const bar = $("save-progress");
    bar.value = status.fraction;
    const what = status.state === "publishing" ? "writing the files" : "solving the full photo";
    $("save-out").textContent = `${what}: ${status.elapsed.toFixed(0)} s of about ${Math.max(status.estimate, status.elapsed).toFixed(0)} s`;
  }
  $("save-cancel").onclick = () => post("/api/save-cancel");
  $("save").onclick = () => save(false);

  // ---------------------------------------------------------------- start
  (async () => {
    showColour();
    loadRecent();
    setTool("brush");
    const { response, body } = await api("/api/state");
    if (!response.ok) { showMessage(body ? body.error : "the server refused this page"); return; }
    applyState(body);
    if (body.image) await openState(body);
    window.studioReady = true;
  })();
})();
