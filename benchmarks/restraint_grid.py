"""Restraint's levers tried for issue 107 (``results/restraint_grid.md``): constants of
:mod:`varcolor.restraint` set by hand on the shared skeleton protocol's cases, strokes spread over
photos in their true colours, reference cues read as points, and the network's answer to the
strokes as a "where" gate, and gray "fence" strokes beside the skeleton's. Prints what the results
file quotes.

Run: ``python benchmarks/restraint_grid.py sweep '[{}, {"GRID_SIDE": 200}]'`` (20 tuning photos a
set; ``N=`` another count, ``PART=test`` the test part), ``dense '[{"LIKENESS_POWER": 2.0}]'``,
``fence '[{}]'``, ``reference``,
``gate`` or ``map-gate`` (the gate on the colour or on the map, on the test part: the network was
trained on the tuning part), ``feature-map`` (the map times a texture features' likeness to the
strokes), ``gap`` (where the gain falls short of the ceiling).
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import warnings

import numpy as np
import skeleton_strokes as ss
from shared_data import split

import varcolor
import varcolor.restraint as restraint
from varcolor.color import lab_to_rgb, rgb_to_lab, same_lightness_gray

N = int(os.environ.get("N", "20"))


def with_constants(configs: list[dict], evaluate) -> None:
    """``evaluate(tag)`` once a configuration, the restraint's constants set for it."""
    for config in configs:
        saved = {name: getattr(restraint, name) for name in config}
        for name, value in config.items():
            setattr(restraint, name, value)
        try:
            evaluate(json.dumps(config))
        finally:
            for name, value in saved.items():
                setattr(restraint, name, value)


def skeleton_cases(part: str = "tuning") -> list[dict]:
    """The protocol's whole-skeleton strokes and its short guessed ones, ``N`` photos a set."""
    module, rng, cases = ss.protocol(), np.random.default_rng(0), []
    sets = sorted((label for label in split(part) if label.startswith(("bsds500", "imagenet"))), key=str)
    for label in sets:
        for path in split(part)[label][:N]:
            rgb = module.load(path)
            gray, lab, chroma, mask, ab, stroked = module.strokes(rgb)
            if not mask.any():
                continue
            short = ss.harder(mask, ab, np.where(stroked, ss.objects_of(module, rgb), 0), rng)
            for variant, (m, a) in (("whole", (mask, ab)), ("short", short)):
                if m.any():
                    cases.append(dict(set=label[:5], variant=variant, rgb=rgb, gray=gray, lab=lab, chroma=chroma,
                                      mask=m, ab=a.astype(np.float32), stroked=stroked))  # fmt: skip
    return cases


def sweep(configs: list[dict]) -> None:
    module, cases = ss.protocol(), skeleton_cases(os.environ.get("PART", "tuning"))

    def evaluate(tag: str) -> None:
        rows: dict = {}
        for c in cases:
            result = varcolor.colorize(c["gray"], varcolor.Cues(c["mask"], c["ab"]))
            p, leak, reach, neutral = module.score(result.rgb, c["rgb"], c["lab"], c["chroma"], c["stroked"])
            gray = module.psnr(np.dstack([c["gray"]] * 3), c["rgb"])
            ceiling, _ = module.bounds(c["rgb"], c["lab"], c["mask"], c["ab"], c["stroked"])
            chroma = np.hypot(*rgb_to_lab(result.rgb)[..., 1:].transpose(2, 0, 1))
            leaked, known = neutral & (chroma >= 6), result.confidence
            rows.setdefault((c["set"], c["variant"]), []).append(
                (p - gray, module.psnr(ceiling, c["rgb"]) - gray, leak, reach,
                 float(known[leaked].mean()) if leaked.any() else np.nan,
                 float(known[c["stroked"] & ~c["mask"]].mean()))
            )  # fmt: skip
        line = [tag]
        for (name, variant), values in sorted(rows.items()):
            r = np.array(values, float)
            line.append(
                f"{name}/{variant}: gain {r[:, 0].mean():+.2f} (ceil {r[:, 1].mean():+.2f}) "
                f"leak {np.nanmean(r[:, 2]):.2f} reach {r[:, 3].mean():.2f} "
                f"cL {np.nanmean(r[:, 4]):.2f} cS {r[:, 5].mean():.2f}"
            )
        print(" | ".join(line), flush=True)

    with_constants(configs, evaluate)


def dense(configs: list[dict]) -> None:
    """30 short strokes copied from the original at random places, 12 tuning photos a set."""
    from skimage.draw import line

    rng, cases = np.random.default_rng(1), []
    part = os.environ.get("PART", "tuning")
    for label in sorted(k for k in split(part) if k.startswith(("bsds500", "imagenet"))):
        for path in split(part)[label][:N]:
            rgb = varcolor.read_image(path)
            if rgb.ndim != 3:  # (a gray photo in the sample: no colour to copy)
                continue
            rgb = rgb[..., :3]
            gray, lab = same_lightness_gray(rgb), rgb_to_lab(rgb)
            height, width = gray.shape
            mask = np.zeros(gray.shape, bool)
            for _ in range(30):
                y, x, turn = rng.integers(10, height - 10), rng.integers(10, width - 10), rng.uniform(0, np.pi)
                y1 = int(np.clip(y + 15 * np.sin(turn), 0, height - 3))
                x1 = int(np.clip(x + 15 * np.cos(turn), 0, width - 3))
                rows, cols = line(y, x, y1, x1)
                for dy in range(3):
                    for dx in range(3):
                        mask[np.clip(rows + dy, 0, height - 1), np.clip(cols + dx, 0, width - 1)] = True
            cases.append((label[:5], rgb, gray, varcolor.Cues(mask, np.where(mask[..., None], lab[..., 1:], 0))))

    def evaluate(tag: str, **keywords) -> None:
        scores: dict = {}
        for name, rgb, gray, cues in cases:
            scores.setdefault(name, []).append(
                varcolor.metrics.psnr(varcolor.colorize(gray, cues, **keywords).rgb, rgb)
            )
        print(tag, {name: round(float(np.mean(v)), 2) for name, v in scores.items()}, flush=True)

    evaluate("levin", method="levin")
    evaluate("unrestrained", restraint="off")
    with_constants([{}, *configs], evaluate)


def reference() -> None:
    """Reference cues as strokes (today) and as points, on 12 tuning crop pairs; unrelated pairs."""
    from reference import crops

    paths = split("tuning")["bsds500/train"][:13]
    for kind in ("crops", "unrelated"):
        cases = []
        for i, path in enumerate(paths[:12]):
            truth, ref = crops(varcolor.read_image(path)[..., :3])
            if kind == "unrelated":
                ref = varcolor.read_image(paths[i + 1])[..., :3]
            gray = same_lightness_gray(truth)
            cases.append((truth, gray, varcolor.Cues.from_reference(gray, ref)))
        print(kind, "pairs with cues:", sum(c.count > 0 for *_, c in cases), "of", len(cases))
        engines = [("today", False, {}), ("as points", True, {})]
        engines += [("unrestrained", False, {"restraint": "off"}), ("levin", False, {"method": "levin"})]
        for tag, points, keywords in engines:
            scores = []
            for truth, gray, cues in cases:
                if not cues.count:
                    scores.append(varcolor.metrics.psnr(np.repeat(gray[..., None], 3, 2), truth))
                    continue
                if points:
                    cues = dataclasses.replace(cues, points=cues.mask & (np.asarray(cues.weight) < 1))
                scores.append(varcolor.metrics.psnr(varcolor.colorize(gray, cues, **keywords).rgb, truth))
            print(f"  {tag}: {np.mean(scores):.2f} dB", flush=True)


def gate() -> None:
    """The default result's chroma scaled by how much of it the network, given the same strokes
    as hints, also puts there; 15 test photos a set (13 with strokes)."""
    from varcolor.neural.prior import predict
    from varcolor.neural.weights import load

    module, net, rows = ss.protocol(), load(None), {}
    for label in [name for name in split("test") if name.startswith(("bsds500", "imagenet"))]:
        for path in split("test")[label][:15]:
            rgb = module.load(path)
            gray, lab, chroma, mask, ab, stroked = module.strokes(rgb)
            if not mask.any():
                continue
            cues = varcolor.Cues(mask, ab.astype(np.float32))
            result_lab = rgb_to_lab(varcolor.colorize(gray, cues).rgb)
            ours, (theirs, _) = result_lab[..., 1:], predict(net, gray, cues)
            share = np.sum(theirs * ours, -1) / np.maximum(np.sum(ours * ours, -1), 1e-6)
            base = module.psnr(np.dstack([gray] * 3), rgb)
            scores = []
            for power in (None, 1.0, 0.5):
                scale = 1.0 if power is None else np.where(mask, 1.0, np.clip(share, 0, 1) ** power)[..., None]
                out = np.clip(lab_to_rgb(np.dstack([result_lab[..., 0], ours * scale])), 0, 1)
                p, leak, reach, _ = module.score(out, rgb, lab, chroma, stroked)
                scores.append((p - base, leak, reach))
            rows.setdefault(label, []).append(scores)
    for label, values in rows.items():
        m = np.array(values).mean(0)
        print(label, len(values), "today / gate γ1 / gate γ0.5 (gain, leak, reach):", np.round(m, 2).tolist())


def map_gate() -> None:
    """The map times the network's agreement with the result's colour (the gate's share, to the
    powers below, 1 on the cues): whether the network tells leaked pixels from the stroked objects
    where the reach does not; ``N`` test photos a set, both placements."""
    from varcolor.neural.prior import predict
    from varcolor.neural.weights import load

    module, net, rows, powers = ss.protocol(), load(None), {}, (0.0, 0.5, 1.0, 2.0)
    for c in skeleton_cases("test"):
        cues = varcolor.Cues(c["mask"], c["ab"])
        result = varcolor.colorize(c["gray"], cues)
        ours, (theirs, _) = rgb_to_lab(result.rgb)[..., 1:], predict(net, c["gray"], cues)
        share = np.clip(np.sum(theirs * ours, -1) / np.maximum(np.sum(ours * ours, -1), 1e-6), 0, 1)
        neutral = module.score(result.rgb, c["rgb"], c["lab"], c["chroma"], c["stroked"])[3]
        leaked, on = neutral & (np.hypot(*ours.transpose(2, 0, 1)) >= 6), c["stroked"] & ~c["mask"]
        known = [result.confidence * np.where(c["mask"], 1.0, share**power) for power in powers]
        rows.setdefault((c["set"], c["variant"]), []).append(
            [v for k in known for v in (k[leaked].mean() if leaked.any() else np.nan, k[on].mean())]
        )
    for (name, variant), values in sorted(rows.items()):
        r = np.nanmean(np.array(values, float), 0)
        print(
            name,
            variant,
            len(values),
            " ".join(f"γ{p}: cL {r[2 * i]:.2f} cS {r[2 * i + 1]:.2f}" for i, p in enumerate(powers)),
        )


def gap() -> None:
    """Where the gain falls short of the ceiling: the default result with the truth's colour
    outside the stroked objects or inside them, and a shading-aware chroma (the cues' ab divided by
    ``((L + 16) / 66) ** 0.5``, the result's multiplied back: a surface in shade keeps ab / (L + 16)
    in Lab); ``N`` photos a set of the part named (``PART``, default test)."""
    from varcolor.color import chroma_to_rgb, lightness_of_gray

    module, rows = ss.protocol(), {}
    for c in skeleton_cases(os.environ.get("PART", "test")):
        light, inside = lightness_of_gray(c["gray"]), c["stroked"][..., None]
        base = module.psnr(np.dstack([c["gray"]] * 3), c["rgb"])
        ours = varcolor.colorize(c["gray"], varcolor.Cues(c["mask"], c["ab"])).ab
        scale = (((light + 16.0) / 66.0) ** 0.5)[..., None]
        shaded = varcolor.colorize(c["gray"], varcolor.Cues(c["mask"], (c["ab"] / scale).astype(np.float32))).ab
        truth = c["lab"][..., 1:]
        rows.setdefault((c["set"], c["variant"]), []).append([
            module.psnr(chroma_to_rgb(light, ab), c["rgb"]) - base
            for ab in (ours, np.where(inside, ours, 0), np.where(inside, truth, ours), np.where(inside, truth, 0),
                       shaded * scale)
        ])  # fmt: skip
    for (name, variant), values in sorted(rows.items()):
        r = np.mean(values, 0)
        print(name, variant, len(values), "ours {:+.2f} | neutral outside {:+.2f} | the truth inside {:+.2f} | "
              "ceiling {:+.2f} | shading-aware {:+.2f}".format(*r))  # fmt: skip


def _gaussian_log_density(points: np.ndarray, sample: np.ndarray) -> np.ndarray:
    """The log-density of a Gaussian fitted to ``sample`` (rows) at ``points``, up to a constant."""
    lower = np.linalg.cholesky(np.cov(sample.T) + 1e-3 * np.eye(sample.shape[1]))
    d = np.linalg.solve(lower, (points - sample.mean(0)).T)
    return -0.5 * (d * d).sum(0) - np.log(np.diag(lower)).sum()


def _like_the_strokes(c: dict, confidence: np.ndarray, rng) -> np.ndarray:
    """How like the strokes a pixel is, against the pixels the map calls unknown (under 0.15), in
    skimage's multiscale features of the gray (level, edges, texture at 5 scales): a Gaussian a
    stroke colour against 4 clusters of the unknown, as a probability."""
    from skimage.feature import multiscale_basic_features

    features = multiscale_basic_features(c["gray"].astype(np.float32), sigma_min=1, sigma_max=16, num_sigma=5)
    x, cue = features.reshape(-1, features.shape[-1]).astype(np.float64), c["mask"].ravel()
    unknown = np.flatnonzero((confidence.ravel() < 0.15) & ~cue)
    if unknown.size < 100:
        return np.ones(c["mask"].shape)
    on = rng.choice(np.flatnonzero(cue), min(int(cue.sum()), 4000), replace=False)
    off = x[rng.choice(unknown, min(unknown.size, 8000), replace=False)]
    _, colour = np.unique(np.round(c["ab"].reshape(-1, 2)[on] / 6), axis=0, return_inverse=True)
    like = [_gaussian_log_density(x, x[on[colour.ravel() == k]]) for k in range(colour.max() + 1)
            if (colour == k).sum() > x.shape[1] + 5] or [_gaussian_log_density(x, x[on])]  # fmt: skip
    centres = off[rng.choice(len(off), 4, replace=False)]
    for _ in range(10):  # k-means of the unknown's features
        nearest = ((off[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
        centres = np.array([off[nearest == j].mean(0) if (nearest == j).any() else centres[j] for j in range(4)])
    unlike = [_gaussian_log_density(x, off[nearest == j]) for j in range(4) if (nearest == j).sum() > x.shape[1] + 5]
    ratio = np.clip(np.max(like, 0) - np.max(unlike, 0), -50, 50)
    return (1 / (1 + np.exp(-ratio))).reshape(c["mask"].shape)


def feature_map() -> None:
    """The map times how like the strokes each pixel is in texture features (``_like_the_strokes``,
    to the powers below), the colour as it is: cL / cS as ``sweep``'s, and how well the map ranks
    the stroked objects' pixels above the leaked ones (AUC, a photo's, averaged); ``N`` photos a
    set of the part named (``PART``, default test)."""
    module, rng, rows, powers = ss.protocol(), np.random.default_rng(0), {}, (0.0, 0.5, 1.0)
    for c in skeleton_cases(os.environ.get("PART", "test")):
        result = varcolor.colorize(c["gray"], varcolor.Cues(c["mask"], c["ab"]))
        neutral = module.score(result.rgb, c["rgb"], c["lab"], c["chroma"], c["stroked"])[3]
        chroma = np.hypot(*rgb_to_lab(result.rgb)[..., 1:].transpose(2, 0, 1))
        leaked, on = neutral & (chroma >= 6), c["stroked"] & ~c["mask"]
        if not leaked.any():
            continue
        like, line = _like_the_strokes(c, result.confidence, rng), []
        for power in powers:
            known = result.confidence * np.where(c["mask"], 1.0, like**power)
            a, b = known[on], known[leaked]
            ranks = np.concatenate([a, b]).argsort().argsort()[: a.size]
            line += [b.mean(), a.mean(), (ranks.sum() - a.size * (a.size - 1) / 2) / (a.size * b.size)]
        rows.setdefault((c["set"], c["variant"]), []).append(line)
    for (name, variant), values in sorted(rows.items()):
        r = np.mean(values, 0)
        shown = (f"γ{p}: cL {r[3 * i]:.2f} cS {r[3 * i + 1]:.2f} AUC {r[3 * i + 2]:.2f}" for i, p in enumerate(powers))
        print(name, variant, len(values), " ".join(shown))


def fence(configs: list[dict]) -> None:
    """The skeleton's strokes, and with them gray "fences": on each of the 4 largest neutral objects
    (median chroma under 6, no stroked one) the central 40 % of its skeleton, painted ab 0 (12
    tuning photos a set)."""
    from skimage import morphology, segmentation

    module, cases = ss.protocol(), []
    for label in ("bsds500/train", "imagenet-sample/train 0–299"):
        for path in split("tuning")[label][:12]:
            rgb = module.load(path)
            gray, lab, chroma, mask, ab, stroked = module.strokes(rgb)
            if not mask.any():
                continue
            seg = segmentation.felzenszwalb(rgb, scale=300, sigma=0.8, min_size=int(0.005 * chroma.size))
            neutral = sorted(
                ((int((seg == s).sum()), s) for s in np.unique(seg)
                 if (seg == s).mean() >= 0.01 and np.median(chroma[seg == s]) < 6 and not (stroked & (seg == s)).any()),
                reverse=True,
            )  # fmt: skip
            fenced, fenced_ab = mask.copy(), ab.copy()
            for _, s in neutral[:4]:
                core = morphology.erosion(seg == s, morphology.disk(6))
                if core.sum() < 20:
                    continue
                line = morphology.dilation(morphology.skeletonize(core), morphology.disk(2)) & core
                ys, xs = np.nonzero(line)
                distance = np.hypot(ys - ys.mean(), xs - xs.mean())
                near = distance <= np.quantile(distance, 0.4)
                fenced[ys[near], xs[near]], fenced_ab[ys[near], xs[near]] = True, 0.0
            cases.append((label[:5], rgb, gray, lab, chroma, stroked, (mask, ab), (fenced, fenced_ab)))

    def evaluate(tag: str) -> None:
        rows: dict = {}
        for name, rgb, gray, lab, chroma, stroked, plain, fenced in cases:
            below = module.psnr(np.dstack([gray] * 3), rgb)
            for variant, (m, a) in (("plain", plain), ("fenced", fenced)):
                result = varcolor.colorize(gray, varcolor.Cues(m, a.astype(np.float32)))
                p, leak, _, _ = module.score(result.rgb, rgb, lab, chroma, stroked)
                rows.setdefault(f"{name}/{variant}", []).append((p - below, leak))
        print(tag, {key: np.round(np.nanmean(np.array(v, float), axis=0), 2).tolist() for key, v in rows.items()})

    with_constants(configs or [{}], evaluate)


if __name__ == "__main__":
    warnings.filterwarnings("ignore")
    mode, given = sys.argv[1], json.loads(sys.argv[2]) if len(sys.argv) > 2 else []
    {"sweep": lambda: sweep(given or [{}]), "dense": lambda: dense(given), "reference": reference, "gate": gate,
     "map-gate": map_gate, "feature-map": feature_map, "gap": gap, "fence": lambda: fence(given)}[mode]()  # fmt: skip
