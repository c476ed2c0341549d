// The page's state: one object, S, that every module imports from here (and no module keeps a copy
// of), the per-launch token, and the page's fixed elements. window.studioState and
// window.studioTimings are for the browser tests and the latency benchmark.
export const TOKEN = document.querySelector('meta[name="token"]').content;
export const $ = (id) => document.getElementById(id);

export const S = {
  image: null, doc: { strokes: [], points: [], settings: { method: "levin-multiscale" } }, version: 0, serial: 0,
  tool: "brush", colour: [200, 120, 60], width: 4, widthInPhoto: false, size: 6, zoom: 1, panX: 0, panY: 0,
  serialShown: 0, have: 0, detailKey: 0, tiles: new Map(), fullSerial: null, fullPass: null, lastViewport: null, viewSaid: null,
  recent: [], selected: null, overlay: true, resultCtrl: null, neural: false, action: null, space: false,
  lightness: 60, hover: null, stale: false,
  // The neutral brush's colour (the server's; a gray: chroma 0), a reference's suggestions shown
  // over the photo ([x, y, r, g, b] rows) and the photos whose flood hint was dismissed.
  neutralRgb: [128, 128, 128], suggestions: [], suggestionsFor: null, showSuggestions: true, showGuessed: false, floodDismissed: new Set(),
};
// Timings of each result drawn, for the latency benchmark (mouse-up to pixels on the page).
window.studioTimings = [];
window.studioState = S;

export const grayCanvas = $("gray-canvas"), resultCanvas = $("result-canvas"), overlayCanvas = $("overlay-canvas");
export const resultCtx = resultCanvas.getContext("2d"), overlayCtx = overlayCanvas.getContext("2d");
export const strokeLayer = document.createElement("canvas"), strokeCtx = strokeLayer.getContext("2d");
export const viewport = $("viewport"), stage = $("stage");
export const grayTiles = $("gray-tiles"), resultTiles = $("result-tiles");
