"""Exactness of Levin's method against a loop transcription of the authors' MATLAB code.

``get_color_exact`` below follows ``getColorExact.m`` (Levin, Lischinski & Weiss 2004) line by
line, in MATLAB's column-major pixel order, with no code shared with varcolor.
"""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy.sparse.linalg import spsolve

import varcolor
from varcolor.color import rgb_to_lab, same_lightness_gray

from ..conftest import photo


def get_color_exact(color_im, ntsc_im):
    n, m = color_im.shape
    img_size = n * m
    inds_m = np.arange(img_size).reshape((n, m), order="F")
    wd = 1
    rows, cols, vals = [], [], []
    consts_len = -1
    for j in range(m):
        for i in range(n):
            consts_len += 1
            if not color_im[i, j]:
                gvals = []
                for ii in range(max(0, i - wd), min(i + wd, n - 1) + 1):
                    for jj in range(max(0, j - wd), min(j + wd, m - 1) + 1):
                        if ii != i or jj != j:
                            rows.append(consts_len)
                            cols.append(inds_m[ii, jj])
                            gvals.append(ntsc_im[ii, jj, 0])
                t_val = ntsc_im[i, j, 0]
                window = np.array(gvals + [t_val])
                c_var = np.mean((window - np.mean(window)) ** 2)
                csig = c_var * 0.6
                mgv = min((g - t_val) ** 2 for g in gvals)
                if csig < (-mgv / np.log(0.01)):
                    csig = -mgv / np.log(0.01)
                if csig < 0.000002:
                    csig = 0.000002
                weights = np.exp(-((np.array(gvals) - t_val) ** 2) / csig)
                weights = weights / weights.sum()
                vals.extend(-weights)
            rows.append(consts_len)
            cols.append(inds_m[i, j])
            vals.append(1.0)
    A = sp.csc_matrix((vals, (rows, cols)), shape=(img_size, img_size))
    out = ntsc_im.copy()
    labelled = color_im.flatten(order="F")
    for t in (1, 2):
        b = np.zeros(img_size)
        current = ntsc_im[:, :, t].flatten(order="F")
        b[labelled] = current[labelled]
        out[:, :, t] = spsolve(A, b).reshape((n, m), order="F")
    return out


def rgb2ntsc(rgb):
    return rgb @ np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]]).T


def ntsc2rgb(yiq):
    T = np.linalg.inv(np.array([[0.299, 0.587, 0.114], [0.596, -0.274, -0.322], [0.211, -0.523, 0.312]]))
    rgb = np.maximum(yiq @ T.T, 0)
    peak = rgb.max(axis=-1, keepdims=True)
    return np.where(peak > 1, rgb / np.maximum(peak, 1), rgb)


@pytest.mark.parametrize(
    "name,shape,density", [("astronaut", (36, 44), 0.02), ("coffee", (40, 30), 0.05), ("chelsea", (32, 48), 0.01)]
)
def test_lab_solution_matches_the_matlab_transcription(name, shape, density):
    rgb = photo(name, shape)
    gray = same_lightness_gray(rgb)
    true_ab = rgb_to_lab(rgb)[..., 1:]
    mask = np.random.default_rng(7).random(shape) < density
    mask[0, 0] = True
    reference = get_color_exact(mask, np.concatenate([gray[..., None], true_ab], axis=2))[..., 1:]
    result = varcolor.colorize(gray, varcolor.Cues(mask, true_ab), method="levin")
    error = np.linalg.norm(result.ab - reference) / np.linalg.norm(reference)
    assert error <= 1e-6, error
    assert result.info["solver"] == "direct" and result.info["residual"] < 1e-10


def test_yiq_reproduces_levins_colorization_m():
    # colorization.m: Y from the gray image, I and Q from the marked image, getColorExact, ntsc2rgb.
    rgb = photo("astronaut", (30, 36))
    gray = same_lightness_gray(rgb)
    gray3 = np.repeat(gray[..., None], 3, axis=2)
    marked = gray3.copy()
    strokes = np.zeros(gray.shape, bool)
    strokes[5, 3:30] = strokes[20, 2:25] = strokes[8:28, 30] = True
    marked[strokes] = rgb[strokes]
    color_im = np.abs(gray3 - marked).sum(axis=2) > 0.01
    ntsc = np.concatenate([rgb2ntsc(gray3)[..., :1], rgb2ntsc(marked)[..., 1:]], axis=2)
    expected = ntsc2rgb(get_color_exact(color_im, ntsc))
    # The authors' rule for marks (edges="exact"): their strokes here are 1-px lines of the true colours.
    cues = varcolor.Cues.from_marked(gray3, marked, edges="exact")
    result = varcolor.colorize(gray3, cues, method="levin", space="yiq")
    assert np.abs(result.rgb - expected).max() < 1e-6
