// sRGB <-> varcolor's Lab (varcolor/color.py): a*, b* of CIE Lab D65 with the constants
// scikit-image uses, L* the ICC connection space's (sRGB's luminance adapted to D50 by Bradford);
// for the colour picker only: every cue's chroma is computed on the server from the 8-bit sRGB colour.
export const Colour = (() => {
  const WHITE = [0.95047, 1.0, 1.08883];
  const XYZ_FROM_RGB = [[0.412453, 0.35758, 0.180423], [0.212671, 0.71516, 0.072169], [0.019334, 0.119193, 0.950227]];
  const RGB_FROM_XYZ = [[3.2404813432, -1.5371515163, -0.4985363262], [-0.96925495, 1.8759900015, 0.0415559266],
    [0.0556466391, -0.2040413384, 1.0573110696]];
  // varcolor.color.ICC_LUMINANCE: the luminance L* is measured from.
  const LUMINANCE = [0.22250836404396523, 0.7168935495549669, 0.060598086401067924];
  const decode = (v) => (v > 0.04045 ? Math.pow((v + 0.055) / 1.055, 2.4) : v / 12.92);
  const encode = (v) => (v > 0.0031308 ? 1.055 * Math.pow(v, 1 / 2.4) - 0.055 : 12.92 * v);
  const f = (t) => (t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116);
  const finv = (t) => (t > 0.2068966 ? t * t * t : (t - 16 / 116) / 7.787);

  const slope = (t) => (t > 0.2068966 ? 3 * t * t : 1 / 7.787);
  // The luminance row on D65 XYZ (LUMINANCE · RGB_FROM_XYZ).
  const Y_OF_XYZ = [0, 1, 2].map((k) => LUMINANCE.reduce((sum, w, c) => sum + w * RGB_FROM_XYZ[c][k], 0));

  // Linear sRGB of Lab, unclipped (a channel outside [0, 1]: out of gamut): the colour of chroma
  // a, b whose ICC luminance is L*'s, D65's L* moved by four Newton steps as on the server.
  function labToLinear(L, a, b) {
    let fy = (L + 16) / 116;
    const target = finv(fy);
    const at = (fy) => [fy + a / 500, fy, fy - b / 200];
    for (let step = 0; step < 4; step++) {
      const fs = at(fy);
      const error = fs.reduce((sum, t, k) => sum + Y_OF_XYZ[k] * WHITE[k] * finv(t), 0) - target;
      const rate = fs.reduce((sum, t, k) => sum + Y_OF_XYZ[k] * WHITE[k] * slope(t), 0);
      if (rate > 0) fy -= error / rate;
    }
    const xyz = at(fy).map((t, k) => finv(t) * WHITE[k]);
    return RGB_FROM_XYZ.map((row) => row[0] * xyz[0] + row[1] * xyz[1] + row[2] * xyz[2]);
  }
  function inGamut(L, a, b) {
    return labToLinear(L, a, b).every((v) => v >= -1e-9 && v <= 1 + 1e-9);
  }
  // 8-bit sRGB of Lab; out-of-gamut colours keep their hue and lose chroma until they fit.
  function labToRgb8(L, a, b) {
    let s = 1;
    if (!inGamut(L, a, b)) {
      let lo = 0, hi = 1;
      for (let i = 0; i < 30; i++) { const mid = (lo + hi) / 2; if (inGamut(L, a * mid, b * mid)) lo = mid; else hi = mid; }
      s = lo;
    }
    return labToLinear(L, a * s, b * s).map((v) => Math.round(255 * Math.min(Math.max(encode(Math.max(v, 0)), 0), 1)));
  }
  function rgb8ToLab(rgb) {
    const lin = rgb.map((v) => decode(v / 255));
    const xyz = XYZ_FROM_RGB.map((row) => row[0] * lin[0] + row[1] * lin[1] + row[2] * lin[2]);
    const fx = f(xyz[0] / WHITE[0]), fy = f(xyz[1] / WHITE[1]), fz = f(xyz[2] / WHITE[2]);
    const luminance = LUMINANCE[0] * lin[0] + LUMINANCE[1] * lin[1] + LUMINANCE[2] * lin[2];
    return [116 * f(luminance) - 16, 500 * (fx - fy), 200 * (fy - fz)];
  }
  // CIE L of a gray sRGB value in [0, 255].
  function lightnessOfGray(g) { return 116 * f(decode(g / 255)) - 16; }
  const hex = (rgb) => "#" + rgb.map((v) => v.toString(16).padStart(2, "0")).join("");
  const fromHex = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
  return { labToLinear, labToRgb8, rgb8ToLab, lightnessOfGray, inGamut, hex, fromHex, encode };
})();
