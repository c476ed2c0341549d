// Colour: the picker (gamut square at a lightness, any colour, recent colours) and the network's
// suggestions at a chosen place.
import { S, $ } from "./state.js?token={{TOKEN}}";
import { Colour } from "./colour.js?token={{TOKEN}}";
import { api } from "./api.js?token={{TOKEN}}";
import { sendEdit } from "./history.js?token={{TOKEN}}";
import { toWork } from "./view.js?token={{TOKEN}}";

// Suggestions belong to a chosen place (ideepcolor's way): a click with the Point tool (a new
// point, or an existing one selected) or the start of a brush stroke chooses it; the gamut
// square shows the colours at that pixel's lightness and the network's likeliest colours there
// are listed. Moving the mouse changes neither: they stay until another place is chosen.
let suggestAsked = 0;
export function choose(x, y) {
  if (!S.grayPixels) return;
  const [wx, wy] = toWork(x, y);
  const i = Math.min(Math.max(Math.floor(wy), 0), S.image.work_height - 1);
  const j = Math.min(Math.max(Math.floor(wx), 0), S.image.work_width - 1);
  // The slider stays where the user put it (it only draws the square above); what the photo's
  // lightness is at the chosen place is said beside it instead.
  const here = Math.round(Colour.lightnessOfGray(S.grayPixels[4 * (i * S.image.work_width + j)]));
  $("lightness-note").textContent = `the photo's lightness there: ${here}`;
  S.chosen = { x: Math.round(x), y: Math.round(y) };
  $("suggest-title").textContent = `Suggested at (${S.chosen.x}, ${S.chosen.y})`;
  drawGamut();
  if (S.neural || S.doc.reference) suggest(x, y);
}
export async function suggest(x, y) {
  const asked = ++suggestAsked;
  $("suggest-note").textContent = S.doc.reference ? "" : "asking the network…";
  const { response, body } = await api(`/api/suggest?x=${x.toFixed(1)}&y=${y.toFixed(1)}`);
  if (asked !== suggestAsked) return; // another place was chosen meanwhile
  if (!response.ok || !body) { $("suggest-note").textContent = body ? body.error : "no suggestion"; return; }
  const box = $("suggested");
  box.replaceChildren();
  for (const c of body.colours) box.appendChild(swatch(c.rgb, `${Math.round(c.p * 100)} % likely (${Colour.hex(c.rgb)})`));
  const where = body.source === "reference" ? "from the reference photo" : "";
  $("suggest-note").textContent = body.colours.length ? where : "no likely colour here";
}

export function swatch(rgb, title) {
  const el = document.createElement("span");
  el.className = "swatch";
  el.style.background = Colour.hex(rgb);
  el.title = title || Colour.hex(rgb);
  el.onclick = () => setColour(rgb);
  return el;
}
// The recent colours outlive a reload (this browser's storage for the studio's address).
export function remember(rgb) {
  S.recent = [rgb.slice(), ...S.recent.filter((c) => Colour.hex(c) !== Colour.hex(rgb))].slice(0, 12);
  try { localStorage.setItem("varcolor.recent", JSON.stringify(S.recent)); } catch (e) { /* storage off: kept for this page only */ }
  showRecent();
}
export function showRecent() { $("recent").replaceChildren(...S.recent.map((c) => swatch(c))); }
export function loadRecent() {
  try {
    const kept = JSON.parse(localStorage.getItem("varcolor.recent") || "[]");
    const valid = (c) => Array.isArray(c) && c.length === 3 && c.every((v) => Number.isInteger(v) && v >= 0 && v <= 255);
    S.recent = Array.isArray(kept) ? kept.filter(valid).slice(0, 12) : [];
  } catch (e) { S.recent = []; }
  showRecent();
}
export function setColour(rgb) {
  S.colour = rgb.slice();
  showColour();
  if (S.selected !== null && S.tool === "point") sendEdit({ op: "point-change", id: S.selected, point: { rgb: S.colour } });
}
export function showColour() {
  $("swatch").style.background = Colour.hex(S.colour);
  $("hex").value = Colour.hex(S.colour);
  const [r, g, b] = S.colour;
  $("colour-out").textContent = `${Colour.hex(S.colour)}  R ${r} G ${g} B ${b}`;
  drawGamut();
}
const gamut = $("gamut"), gamutCtx = gamut.getContext("2d");
const AB = 110;
export function drawGamut() {
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

export function installPicker() {
  gamut.addEventListener("click", (e) => {
    const r = gamut.getBoundingClientRect(), n = gamut.width;
    const a = ((e.clientX - r.left) / r.width) * 2 * AB - AB, b = AB - ((e.clientY - r.top) / r.height) * 2 * AB;
    setColour(Colour.labToRgb8(S.lightness, a, b));
  });
  $("hex").addEventListener("input", (e) => setColour(Colour.fromHex(e.target.value)));
  $("lightness").addEventListener("input", (e) => { S.lightness = +e.target.value; $("lightness-out").textContent = S.lightness; drawGamut(); });
}
